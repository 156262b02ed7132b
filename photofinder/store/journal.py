"""The journal: a write-ahead record of every move to the trash and back, for undo and for
recovery after a crash.

Each entry goes through states, each change committed on its own:
``intent`` (committed BEFORE the move: the exact trash entry, the file's size, mtime and
content hash) -> ``moved`` (after the move; the photo leaves the catalogue in the same
transaction) or ``failed`` (the move did not happen; ``reason`` says why). Undo:
``moved`` -> ``restoring`` (before the file comes back) -> ``undone``; or ``gone`` when the
trash entry no longer holds our file (the trash was emptied). ``intent`` and ``restoring``
are "open": recovery (dedup/recovery.py) settles them against the disk on the next open.
"""

from __future__ import annotations

import time

import sqlite_utils

from photofinder.store.photos import Photos
from photofinder.store.records import JournalEntry
from photofinder.store.sql import PATH_PARAM, Repository, bind_path, marks, rowid

INTENT, MOVED, FAILED, RESTORING, UNDONE, GONE = (
    "intent", "moved", "failed", "restoring", "undone", "gone")
OPEN_STATES = (INTENT, RESTORING)
__all__ = ["Journal", "JournalEntry", "INTENT", "MOVED", "FAILED", "RESTORING", "UNDONE", "GONE",
           "OPEN_STATES"]

_COLS = "id, batch, path, hash, size, mtime_ns, state, trash_dir, trash_name, reason, at, how"


class Journal(Repository):
    """The ``journal`` table; a move done takes the photo out of the catalogue (so it holds
    the photos)."""

    def __init__(self, db: sqlite_utils.Database, photos: Photos):
        super().__init__(db)
        self.photos = photos

    def _entries(self, where: str, params: list) -> list[JournalEntry]:
        return [JournalEntry(*r) for r in self.db.execute(
            f"SELECT {_COLS} FROM journal WHERE action='trash' AND {where}", params)]

    def intent(self, batch: str, path: str, hash_: str | None, size: int | None,
               mtime_ns: int | None, trash_dir: str | None, trash_name: str,
               how: str = "move") -> int:
        """A move about to happen, committed on its own before it; returns the entry's id.
        ``how``: "move" (a rename into the trash) or "copy" (into the user's own trash from
        another volume, verified, then the original removed)."""
        if self.db.conn.in_transaction:
            raise RuntimeError("a journal intent must be committed on its own")
        now = time.time()
        return rowid(self.db.execute(
            "INSERT INTO journal(at, action, path, hash, batch, detail, state, trash_dir, "
            f"trash_name, size, mtime_ns, updated_at, how) VALUES (?, 'trash', {PATH_PARAM}, "
            f"?, ?, '{{}}', 'intent', {PATH_PARAM}, {PATH_PARAM}, ?, ?, ?, ?)",
            [now, bind_path(path), hash_, batch, bind_path(trash_dir) if trash_dir else None,
             bind_path(trash_name), size, mtime_ns, now, how]))

    def set_state(self, entry_id: int, state: str, reason: str | None = None) -> None:
        now = time.time()
        change = {"state": state, "reason": reason, "updated_at": now}
        if state == UNDONE:
            change["undone_at"] = now
        self.db.execute(f"UPDATE journal SET {', '.join(f'{c}=?' for c in change)} WHERE id=?",
                        [*change.values(), entry_id])

    def moved(self, entry_id: int, path: str) -> list[int]:
        """The move happened: the entry says so and the photo leaves the catalogue, in one
        transaction. Returns the vector labels gone."""
        with self.transaction():
            self.set_state(entry_id, MOVED)
            ids = [r[0] for r in self.db.execute(
                f"SELECT id FROM photos WHERE path={PATH_PARAM}", [bind_path(path)])]
            return self.photos.delete(ids)

    def open_entries(self) -> list[JournalEntry]:
        """Entries a crash may have left half-way (intent, restoring), oldest first."""
        return self._entries(f"state IN ({marks(len(OPEN_STATES))}) ORDER BY id",
                             list(OPEN_STATES))

    def has_open(self) -> bool:
        return bool(self.db.table("journal").count_where(f"state IN ({marks(len(OPEN_STATES))})",
                                                   list(OPEN_STATES)))

    def last_batch(self) -> str | None:
        """The newest batch with something still in the trash."""
        for r in self.db.table("journal").rows_where("action = 'trash' AND state = ?", [MOVED],
                                               select="batch", order_by="id DESC", limit=1):
            return r["batch"]
        return None

    def batch(self, batch: str, states: tuple[str, ...] = (MOVED,)) -> list[JournalEntry]:
        """A batch's entries in ``states``, newest first."""
        return self._entries(f"batch=? AND state IN ({marks(len(states))}) ORDER BY id DESC",
                             [batch, *states])

    def batch_exists(self, batch: str) -> bool:
        return bool(self.db.table("journal").count_where("batch = ?", [batch]))

    def entries(self) -> list[JournalEntry]:
        """Every trash entry ever journaled, oldest first (checks and tests)."""
        return self._entries("1 ORDER BY id", [])
