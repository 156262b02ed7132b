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
from dataclasses import dataclass

import sqlite_utils

from photofinder.store.base import PATH_PARAM, StoreBase, bind_path
from photofinder.store.schema import migration

INTENT, MOVED, FAILED, RESTORING, UNDONE, GONE = (
    "intent", "moved", "failed", "restoring", "undone", "gone")
OPEN_STATES = (INTENT, RESTORING)


@migration(3)
def _migrate_3(db: sqlite_utils.Database) -> None:
    """Journal states (write-ahead), the exact trash entry, the file's facts."""
    db.executescript(
        """
        ALTER TABLE journal ADD COLUMN state TEXT NOT NULL DEFAULT 'moved';
        ALTER TABLE journal ADD COLUMN trash_dir TEXT;
        ALTER TABLE journal ADD COLUMN trash_name TEXT;
        ALTER TABLE journal ADD COLUMN size INTEGER;
        ALTER TABLE journal ADD COLUMN mtime_ns INTEGER;
        ALTER TABLE journal ADD COLUMN reason TEXT;
        ALTER TABLE journal ADD COLUMN updated_at REAL;
        UPDATE journal SET state='undone' WHERE undone_at IS NOT NULL;
        UPDATE journal SET trash_dir=json_extract(detail, '$.trash_dir'),
                           trash_name=json_extract(detail, '$.name')
            WHERE detail IS NOT NULL AND json_valid(detail);
        CREATE INDEX journal_state ON journal(state);
        """
    )


@dataclass(frozen=True)
class JournalEntry:
    id: int
    batch: str
    path: str
    hash: str | None
    size: int | None
    mtime_ns: int | None
    state: str
    trash_dir: str | None
    trash_name: str | None
    reason: str | None
    at: float


_COLS = "id, batch, path, hash, size, mtime_ns, state, trash_dir, trash_name, reason, at"


class JournalStore(StoreBase):
    def _entries(self, where: str, params: list) -> list[JournalEntry]:
        return [JournalEntry(*r) for r in self.db.execute(
            f"SELECT {_COLS} FROM journal WHERE action='trash' AND {where}", params)]

    def journal_intent(self, batch: str, path: str, hash_: str | None, size: int | None,
                       mtime_ns: int | None, trash_dir: str | None, trash_name: str) -> int:
        """A move about to happen, committed on its own before it; returns the entry's id."""
        if self.db.conn.in_transaction:
            raise RuntimeError("a journal intent must be committed on its own")
        now = time.time()
        return self.db.execute(
            "INSERT INTO journal(at, action, path, hash, batch, detail, state, trash_dir, "
            f"trash_name, size, mtime_ns, updated_at) VALUES (?, 'trash', {PATH_PARAM}, ?, ?, "
            f"'{{}}', 'intent', {PATH_PARAM}, {PATH_PARAM}, ?, ?, ?)",
            [now, bind_path(path), hash_, batch, bind_path(trash_dir) if trash_dir else None,
             bind_path(trash_name), size, mtime_ns, now]).lastrowid

    def journal_set_state(self, entry_id: int, state: str, reason: str | None = None) -> None:
        self.db.execute("UPDATE journal SET state=?, reason=?, updated_at=?, "
                        "undone_at=CASE WHEN ?='undone' THEN ? ELSE undone_at END WHERE id=?",
                        [state, reason, time.time(), state, time.time(), entry_id])

    def journal_moved(self, entry_id: int, path: str) -> list[int]:
        """The move happened: the entry says so and the photo leaves the catalogue, in one
        transaction. Returns the vector labels gone."""
        with self.transaction():
            self.journal_set_state(entry_id, MOVED)
            ids = [r[0] for r in self.db.execute(
                f"SELECT id FROM photos WHERE path={PATH_PARAM}", [bind_path(path)])]
            return self.delete_photos(ids)

    def journal_open(self) -> list[JournalEntry]:
        """Entries a crash may have left half-way (intent, restoring), oldest first."""
        return self._entries("state IN ('intent', 'restoring') ORDER BY id", [])

    def journal_has_open(self) -> bool:
        return self.db.execute("SELECT 1 FROM journal WHERE state IN ('intent', 'restoring') "
                               "LIMIT 1").fetchone() is not None

    def journal_last_batch(self) -> str | None:
        """The newest batch with something still in the trash."""
        row = self.db.execute("SELECT batch FROM journal WHERE action='trash' AND state='moved' "
                              "ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def journal_batch(self, batch: str, states: tuple[str, ...] = (MOVED,)) -> list[JournalEntry]:
        """A batch's entries in ``states``, newest first."""
        marks = ",".join("?" * len(states))
        return self._entries(f"batch=? AND state IN ({marks}) ORDER BY id DESC",
                             [batch, *states])

    def journal_batch_exists(self, batch: str) -> bool:
        return self.db.execute("SELECT 1 FROM journal WHERE batch=? LIMIT 1",
                               [batch]).fetchone() is not None

    def journal_entries(self) -> list[JournalEntry]:
        """Every trash entry ever journaled, oldest first (checks and tests)."""
        return self._entries("1 ORDER BY id", [])


__all__ = ["JournalStore", "JournalEntry", "INTENT", "MOVED", "FAILED", "RESTORING", "UNDONE",
           "GONE", "OPEN_STATES"]
