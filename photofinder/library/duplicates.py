"""Duplicates: find copy groups and similar shots (dedup/finder.py), the check as indexing
ends, the stored results, and the user's choices (keep this one, not duplicates, keeper
rules).

A check computes without the writer lock (its writes are recorded: ``Catalog.deferring``),
then persists what it made under the lock: features, verdicts, searched marks, results. A
read-only library computes the same answer and persists nothing (``unsaved`` says so); a
library another process keeps writing past ``PERSIST_WAIT`` keeps the answer unsaved too (the
next check makes it again)."""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable

from photofinder.dedup import finder
from photofinder.dedup.finder import DEFAULT_SENSITIVITY, Findings
from photofinder.library.errors import LibraryBusy
from photofinder.library.records import normpath
from photofinder.library.space import VectorSpace
from photofinder.library.writer import Writer
from photofinder.pixels.embedding.model import ModelError
from photofinder.store.catalog import Catalog

log = logging.getLogger(__name__)
PERSIST_WAIT = 30.0  # seconds a finished check waits for another process's write to end


class Duplicates:
    def __init__(self, catalog: Catalog, space: VectorSpace, writer: Writer):
        self.catalog = catalog
        self.space = space    # the candidates are the index's near neighbours
        self.writer = writer  # the user's choices are written
        self.stop = threading.Event()  # set: a check ends after the pairs in hand
        # why the last check's results were not stored (read-only, busy), else None
        self.unsaved: str | None = None
        self.persist_wait = PERSIST_WAIT

    def find(self, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
             stats: dict | None = None, progress=None) -> Findings:
        """Copy groups (``groups``) and, apart, similar shots (``similar_shots``: bursts,
        other views; never offered for the trash). Only what is new since the last check
        is checked; the answer is stored for ``stored``. ``progress(stage, done, total)`` is
        called while it works."""
        found = self._run(lambda: finder.find(self.catalog, self.space.index, sensitivity,
                                              verify=verify, stats=stats, progress=progress))
        assert found is not None  # (None only when stopped: no stop here)
        return found

    def check(self, progress=None, stats: dict | None = None) -> Findings | None:
        """The duplicates check as indexing ends: the photos indexed since the last check get
        their candidate pairs checked at the default sensitivity (the GUI's and the CLI's),
        and the results are stored, so Duplicates opens on current results. The same work as
        ``find`` (pairs are checked once, whoever asks first); ``stop`` ends it after the
        pairs in hand (their verdicts kept). None when cut short or when it could not run:
        indexing is done either way, and a failure here is logged, never raised (``find``
        says why when asked)."""
        try:
            return self._run(lambda: finder.find(self.catalog, self.space.index,
                                                 DEFAULT_SENSITIVITY, stats=stats,
                                                 progress=progress, stop=self.stop))
        except Exception as e:  # noqa: BLE001 - the photos are indexed: this is a head start
            log.warning("checking for duplicates after indexing: %s", e, exc_info=True)
            return None

    def _run(self, check: Callable[[], Findings | None]) -> Findings | None:
        """Compute (no lock: the check's writes are recorded), then persist under the lock."""
        self._fill_signatures()
        with self.catalog.deferring() as writes:
            found = check()
        self.unsaved = None
        if not writes:
            return found
        if self.writer.read_only:
            self.unsaved = (f"the library {self.writer.folder} is read-only here: the "
                            "duplicates were found but not stored")
            return found
        try:
            with self.writer.held(wait=self.persist_wait):
                writes.write()
        except LibraryBusy as e:
            self.unsaved = f"the duplicates were found but not stored: {e}"
            log.warning("%s", self.unsaved)
        return found

    def _fill_signatures(self) -> None:
        """Photos indexed before pixel signatures existed get theirs first, under the lock,
        so the check that follows reads them (the check itself writes nothing)."""
        if self.writer.read_only or not self.catalog.signatures.missing():
            return
        try:
            with self.writer.held(wait=self.persist_wait):
                finder._fill_missing_signatures(self.catalog)
        except LibraryBusy:
            pass  # the check goes on without them (its own tries are recorded, not made)

    def stored(self, sensitivity: float = DEFAULT_SENSITIVITY) -> Findings | None:
        """The last results at once (no check), when made with this model and sensitivity;
        groups whose files changed since are left out (``fresh`` is then False)."""
        try:
            model = self.space.embedder.model_id
        except ModelError:
            return None
        return finder.stored(self.catalog, model, sensitivity)

    # -- the user's choices -------------------------------------------------------------------
    def keep(self, path: str | os.PathLike) -> None:
        """Keep this copy in its group (remembered)."""
        with self.writer.held():
            finder.choose_keeper(self.catalog, normpath(path))

    def not_duplicates(self, path_a: str | os.PathLike, path_b: str | os.PathLike) -> None:
        """Remember that two photos are not copies of each other (forever)."""
        with self.writer.held():
            finder.mark_not_duplicates(self.catalog, normpath(path_a), normpath(path_b))

    def prefer_folders(self, folders: list[str | os.PathLike]) -> None:
        """Keeper rule: prefer copies in these folders (remembered)."""
        with self.writer.held():
            rules = finder.get_rules(self.catalog)
            rules.preferred_folders = [normpath(f) for f in folders]
            finder.set_rules(self.catalog, rules)
