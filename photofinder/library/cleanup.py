"""Clean-up: copies to the system trash (journaled, undoable, never the last copy of a
photo), photos the user trashes by hand (journaled, undoable, as in a file manager), and back
(dedup/cleanup.py does the moves), and recovery of a clean-up a crash cut short
(dedup/recovery.py), all under the writer lock."""

from __future__ import annotations

import os
import sqlite3

from photofinder.dedup import cleanup, recovery
from photofinder.dedup.cleanup import Step, TrashReport, UndoReport, no_step
from photofinder.dedup.finder import Group
from photofinder.dedup.recovery import Recovered
from photofinder.library.errors import LibraryBusy, LibraryError
from photofinder.library.indexing import Indexing
from photofinder.library.records import normpath
from photofinder.library.space import VectorSpace
from photofinder.library.writer import Writer
from photofinder.store.catalog import Catalog


class Cleanup:
    def __init__(self, catalog: Catalog, space: VectorSpace, writer: Writer, indexing: Indexing,
                 steps: Step = no_step):
        """``steps``: called at each named step of trash and undo (fault injection hands one
        in; production never does)."""
        self.catalog = catalog
        self.space = space        # the vectors of trashed photos leave the index
        self.writer = writer
        self.indexing = indexing  # what undo puts back is indexed again
        self.steps = steps

    def trash(self, paths: list[str], groups: list[Group], dry_run: bool = False) -> TrashReport:
        """Move copies of ``groups`` to the system trash (journaled, undoable; never the last
        copy of a photo)."""
        offline = [f.path for f in self.indexing.folders() if not f.online] + \
            [u.path for u in self.catalog.folders.unreadable()]  # offline too: unreadable
        targets = [normpath(p) for p in paths]
        if dry_run:
            return cleanup.trash(self.catalog, self.space.loaded, targets, groups, True, offline,
                                 self.steps)
        with self.writer.held():
            self.recover()
            return cleanup.trash(self.catalog, self.space.loaded, targets, groups, False,
                                 offline, self.steps)

    def trash_photos(self, paths: list[str], dry_run: bool = False) -> TrashReport:
        """Move photos the user chose by hand to the system trash, as a file manager would:
        no duplicate rule applies (it is their photo), but the same journal, the same checks
        of the trash at each move and the same undo."""
        targets = [normpath(p) for p in paths]
        if dry_run:
            return cleanup.trash(self.catalog, self.space.loaded, targets, [], True,
                                 step=self.steps, by_hand=True)
        with self.writer.held():
            self.recover()
            return cleanup.trash(self.catalog, self.space.loaded, targets, [], False,
                                 step=self.steps, by_hand=True)

    def trash_groups(self, groups: list[Group], dry_run: bool = False,
                     include_edits: bool = False) -> TrashReport:
        """Trash the pre-selected copies of each group: every copy but the keeper, less the
        deliberate edits (tone, colour, black and white) unless ``include_edits``."""
        return self.trash([m.path for g in groups for m in g.to_trash(include_edits)], groups,
                          dry_run)

    def undo(self, batch: str | None = None, reindex: bool = True) -> UndoReport:
        """Put a trash batch back (the last one by default) and index the files again: the
        paths restored (a list), with ``.blocked`` {path: why} for those that were not."""
        with self.writer.held():
            settled = self.recover()
            restored = cleanup.undo(self.catalog, batch, self.steps)
            back = list(restored) + (settled.restored if settled else [])  # an undo cut short
            if reindex and back:
                folders = [f for f in self.indexing.folders()
                           if any(p.startswith(f.path.rstrip(os.sep) + os.sep) for p in back)]
                if folders:
                    self.indexing.update(folders=folders)
        return restored

    def can_undo(self) -> bool:
        """Something is in the trash that undo can put back (the last batch still there)."""
        return cleanup.last_batch(self.catalog) is not None

    def recover(self, wait: bool = True) -> Recovered | None:
        """Settle what an interrupted clean-up left open (dedup/recovery.py). Before any
        trash or undo (``wait``: under the writer lock), and on open when the lock is free."""
        if self.writer.read_only or not self.catalog.journal.has_open():
            return None
        try:
            with self.writer.held():
                try:
                    done = recovery.recover(self.catalog)
                except (OSError, sqlite3.Error) as e:
                    raise LibraryError(f"an interrupted clean-up cannot be settled: {e}") from None
        except LibraryBusy:
            if wait:
                raise
            return None  # the writer that holds it may be mid-batch: never touch its rows
        self.space.remove(done.removed_labels)
        return done
