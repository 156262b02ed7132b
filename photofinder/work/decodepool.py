"""A pool of daemon decode threads with a per-file time limit.

Pillow and numpy release the GIL while decoding and converting, so threads decode in
parallel (measured in benchmarks/indexing_throughput.py against processes). A file whose
decode runs past the time limit is given up (reported as an error for that file) and its
worker is replaced; the stuck thread is a daemon and cannot hold up exit. A file waiting for
room in the decoding memory budget (pixels/budget.py) is not running: its clock starts
again once it has room.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

from photofinder.pixels import budget
from photofinder.pixels.budget import BUDGET


class DecodeTimeout(Exception):
    pass


class _Job:
    __slots__ = ("fn", "args", "future", "started")

    def __init__(self, fn, args):
        self.fn, self.args = fn, args
        self.future: Future = Future()
        self.started: float | None = None


class DecodePool:
    def __init__(self, workers: int, timeout: float = 60.0):
        budget.return_freed_memory()  # what one worker's decode frees, another's can use
        self.timeout = timeout
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False
        self.threads: list[threading.Thread] = []
        for _ in range(workers):
            self._spawn()

    def _spawn(self) -> None:
        t = threading.Thread(target=self._work, name="decode", daemon=True)
        t.start()
        self.threads.append(t)

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            job.started = time.monotonic()
            try:
                with BUDGET.waiting(lambda: setattr(job, "started", None),
                                    lambda: setattr(job, "started", time.monotonic())):
                    job.future.set_result(job.fn(*job.args))
            except BaseException as e:  # handed to the waiting side
                if not job.future.done():
                    job.future.set_exception(e)
            if self.closed:
                return

    def submit(self, fn: Callable, *args) -> _Job:
        job = _Job(fn, args)
        self.jobs.put(job)
        return job

    def result(self, job: _Job) -> Any:
        """The job's result; DecodeTimeout once it has run longer than the time limit."""
        while True:
            try:
                return job.future.result(timeout=0.25)
            except TimeoutError:
                if job.started is not None and time.monotonic() - job.started > self.timeout:
                    job.future.cancel()
                    self._spawn()  # the stuck worker is lost; keep the pool's size
                    raise DecodeTimeout(f"decoding took longer than {self.timeout:.0f} s; skipped") from None

    def close(self) -> None:
        self.closed = True
        for _ in self.threads:
            self.jobs.put(None)
