"""The project's errors: one base class, so the CLI and the GUI can tell a problem the user
can act on (one line, no traceback) from a bug."""

from __future__ import annotations


class PhotofinderError(Exception):
    """Base of every error photofinder raises on purpose; ``str(e)`` is one line for a user."""
