"""The decoding memory budget: how many large pictures are decoded at once.

A decode holds its picture at full size in Pillow's own layout (1 byte a pixel for grey and
palette, 2 for 16-bit grey, 4 for RGB, RGBA and CMYK) before it is reduced; at the 250
megapixel limit that is 250 MB to 1 GB. With one decode worker per core, a folder of film
scans would decode several at once and run the machine out of memory. So each decode asks
the budget for what it will hold (``hold``): a decode that fits waits until the decodes in
flight leave room, and one that needs more than the whole budget is refused with an error
that names it. Small decodes (under ``SMALL``) are not counted and never wait.

``waiting(pause, resume)`` lets the caller know while a decode waits its turn (the decode
pool stops a file's time limit meanwhile: waiting is not a stuck decoder).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from photofinder.pixels.formats import ImageError

BUDGET_BYTES = 1536 << 20  # one 250-megapixel RGB/RGBA PNG (1 GB in Pillow) and its work
SMALL = 32 << 20  # a 12-megapixel photo decodes in less: never counted, never waits

# bytes a pixel in Pillow's memory, by mode (the rest: 4)
_ONE = frozenset({"1", "L", "P"})
_TWO = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I;16S", "I;16BS"})


def pixel_bytes(mode: str) -> int:
    return 1 if mode in _ONE else 2 if mode in _TWO else 4


class MemoryBudget:
    def __init__(self, limit: int = BUDGET_BYTES):
        self.limit = limit
        self.used = 0
        self._cond = threading.Condition()
        self._local = threading.local()

    @contextmanager
    def hold(self, nbytes: int, what: str) -> Iterator[None]:
        """Hold ``nbytes`` of the budget while the block runs (``what``: the picture, for the
        error). Raises ImageError when ``nbytes`` exceeds the whole budget."""
        if nbytes > self.limit:
            raise ImageError(f"{what} needs about {nbytes >> 20} MB to decode, over the decode "
                             f"memory budget of {self.limit >> 20} MB; refused")
        if nbytes < SMALL:
            yield
            return
        with self._cond:
            if self.used + nbytes > self.limit:
                listener = getattr(self._local, "listener", None)
                if listener:
                    listener[0]()
                while self.used + nbytes > self.limit:
                    self._cond.wait()
                if listener:
                    listener[1]()
            self.used += nbytes
        try:
            yield
        finally:
            with self._cond:
                self.used -= nbytes
                self._cond.notify_all()

    @contextmanager
    def waiting(self, pause: Callable[[], None], resume: Callable[[], None]) -> Iterator[None]:
        """In this thread, ``pause()`` is called when a decode starts waiting for room and
        ``resume()`` once it has it."""
        old = getattr(self._local, "listener", None)
        self._local.listener = (pause, resume)
        try:
            yield
        finally:
            self._local.listener = old


BUDGET = MemoryBudget()

MMAP_THRESHOLD = 4 << 20  # buffers this large are the system's own pages, handed back on free
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_returning = False


def return_freed_memory() -> bool:
    """Large decode buffers go back to the system once freed (process-wide, idempotent;
    glibc only, else a no-op returning False). glibc raises its mmap threshold to the size
    of the last large block freed (up to 32 MB), so Pillow's 16 MB blocks then come from each
    decode thread's heap, which keeps them: eight 250-megapixel 16-bit scans decoded by eight
    workers, two at a time within the 1.5 GB budget, peaked at 2.6 GB above idle; with the
    threshold fixed at 4 MB, at 1.1 GB (benchmarks/decode_memory.py)."""
    global _returning
    if _returning:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _returning = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return _returning

__all__ = ["BUDGET", "BUDGET_BYTES", "MemoryBudget", "SMALL", "pixel_bytes", "return_freed_memory"]
