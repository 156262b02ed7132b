"""Duplicates through the door: find (stored results first), keep, not-duplicates,
keeper rules, trash and undo (writer lock taken, one-line errors)."""

from __future__ import annotations

import logging
import os

from photofinder.dedup import cleanup, finder
from photofinder.dedup.cleanup import CleanupError, TrashReport, UndoReport
from photofinder.dedup.finder import DEFAULT_SENSITIVITY, Findings, Group
from photofinder.library.errors import LibraryError, normpath

log = logging.getLogger(__name__)


def _cleanup_errors(fn):
    """Duplicates' own errors reach the user as one-line LibraryErrors."""
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CleanupError as e:
            raise LibraryError(str(e)) from None
    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


class DuplicatesMixin:
    # -- duplicates -----------------------------------------------------------------------
    def duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
                   stats: dict | None = None) -> list[Group]:
        """Groups of copies, best first (dedup/finder.py says how they are found)."""
        return self.find_duplicates(sensitivity, verify, stats).groups

    def find_duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY, verify: bool = True,
                        stats: dict | None = None, progress=None) -> Findings:
        """Copy groups (``groups``) and, apart, similar shots (``similar_shots``: bursts,
        other views; never offered for the trash). Only what is new since the last check
        is checked; the answer is stored for ``stored_duplicates``. ``progress(stage, done,
        total)`` is called while it works."""
        return finder.find(self.catalog, self.index, sensitivity, verify=verify, stats=stats,
                           progress=progress)

    def check_duplicates(self, progress=None, stats: dict | None = None) -> Findings | None:
        """The duplicates check as indexing ends (``update`` and the GUI's indexer call it):
        the photos indexed since the last check get their candidate pairs checked, at the
        default sensitivity (the GUI's and the CLI's), and the results are stored. So
        Duplicates opens on current results and its own run finds nothing left to check.
        The same work as ``find_duplicates`` (pairs are checked once, whoever asks first);
        ``cancel_indexing`` ends it after the pairs in hand (their verdicts kept). Returns
        None when cut short or when it could not run: indexing is done either way, and a
        failure here is logged, never raised (``duplicates`` says why when asked)."""
        try:
            return finder.find(self.catalog, self.index, DEFAULT_SENSITIVITY, stats=stats,
                               progress=progress, stop=self.stop_checks)
        except Exception as e:  # noqa: BLE001 - the photos are indexed: this is a head start
            log.warning("checking for duplicates after indexing: %s", e, exc_info=True)
            return None

    def stored_duplicates(self, sensitivity: float = DEFAULT_SENSITIVITY) -> Findings | None:
        """The last results at once (no check), when made with this model and sensitivity;
        groups whose files changed since are left out (``fresh`` is then False)."""
        try:
            model = self.embedder.model_id
        except LibraryError:
            return None
        return finder.stored(self.catalog, model, sensitivity)

    @_cleanup_errors
    def keep(self, path: str | os.PathLike) -> None:
        """The user's choice: keep this copy in its group (remembered)."""
        self.lock()
        finder.choose_keeper(self.catalog, normpath(path))

    @_cleanup_errors
    def not_duplicates(self, path_a: str | os.PathLike, path_b: str | os.PathLike) -> None:
        """Remember that two photos are not copies of each other (forever)."""
        self.lock()
        finder.mark_not_duplicates(self.catalog, normpath(path_a), normpath(path_b))

    def prefer_folders(self, folders: list[str | os.PathLike]) -> None:
        """Keeper rule: prefer copies in these folders (remembered)."""
        self.lock()
        rules = finder.get_rules(self.catalog)
        rules.preferred_folders = [normpath(f) for f in folders]
        finder.set_rules(self.catalog, rules)

    @_cleanup_errors
    def trash(self, paths: list[str], groups: list[Group], dry_run: bool = False) -> TrashReport:
        """Move copies of ``groups`` to the system trash (journaled, undoable; never the last
        copy of a photo)."""
        if not dry_run:
            self.lock()
            self._recover()
        offline = [f.path for f in self.folders() if not f.online]
        return cleanup.trash(self.catalog, self._index, [normpath(p) for p in paths], groups,
                             dry_run, offline, self.cleanup_steps)

    def trash_groups(self, groups: list[Group], dry_run: bool = False,
                     include_edits: bool = False) -> TrashReport:
        """Trash the pre-selected copies of each group: every copy but the keeper, less the
        deliberate edits (tone, colour, black and white) unless ``include_edits``."""
        return self.trash([m.path for g in groups for m in g.to_trash(include_edits)], groups,
                          dry_run)

    @_cleanup_errors
    def undo(self, batch: str | None = None, reindex: bool = True) -> UndoReport:
        """Put a trash batch back (the last one by default) and index the files again: the
        paths restored (a list), with ``.blocked`` {path: why} for those that were not."""
        self.lock()
        settled = self._recover()
        restored = cleanup.undo(self.catalog, batch, self.cleanup_steps)
        back = list(restored) + (settled.restored if settled else [])  # an undo cut short too
        if reindex and back:
            folders = [f for f in self.folders()
                       if any(p.startswith(f.path.rstrip(os.sep) + os.sep) for p in back)]
            if folders:
                self.update(folders=folders)
        return restored
