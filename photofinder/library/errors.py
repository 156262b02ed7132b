"""The door's errors: one line for the user, never a traceback."""

from __future__ import annotations

from photofinder.errors import PhotofinderError


class LibraryError(PhotofinderError):
    """A user error: one line, no traceback."""


class LibraryBusy(LibraryError):
    """Another process is writing the library (it holds ``write.lock``)."""
