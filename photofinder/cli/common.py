"""What the CLI's command modules share (main.py and each command's own module import it;
nothing here imports them back)."""

from __future__ import annotations

import os
import sys
import time

from photofinder.errors import PhotofinderError


class UserError(PhotofinderError):
    pass


class ProgressBar:
    """A one-line progress bar on stderr; silent when stderr is not a terminal."""

    def __init__(self, label: str, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.last = 0.0

    def __call__(self, p) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1 and p.done < p.total:
            return
        self.last = now
        width = 30
        filled = int(width * p.done / max(p.total, 1))
        eta = f" ETA {int(p.eta) // 60}:{int(p.eta) % 60:02d}" if p.eta is not None else ""
        name = os.path.basename(p.current)[:30]
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{p.done}/{p.total} {p.rate:.1f}/s{eta} {name:<30}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
