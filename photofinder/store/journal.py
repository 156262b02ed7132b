"""The journal: every move to the trash, written before the move, for undo."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from photofinder.store.base import PATH_PARAM, StoreBase, bind_path


@dataclass(frozen=True)
class JournalEntry:
    id: int
    path: str
    hash: str | None
    batch: str
    detail: dict


class JournalStore(StoreBase):
    def journal_trash_intent(self, path: str, hash_: str | None, batch: str) -> int:
        """A move about to happen; returns the entry's id."""
        return self.db.execute(
            "INSERT INTO journal(at, action, path, hash, batch, detail) "
            f"VALUES (?, 'trash', {PATH_PARAM}, ?, ?, '{{}}')",
            [time.time(), bind_path(path), hash_, batch]).lastrowid

    def journal_set_detail(self, entry_id: int, detail: dict) -> None:
        self.db.execute("UPDATE journal SET detail=? WHERE id=?", [json.dumps(detail), entry_id])

    def journal_forget(self, entry_id: int) -> None:
        """The move did not happen: its entry goes."""
        self.db.execute("DELETE FROM journal WHERE id=?", [entry_id])

    def journal_last_batch(self) -> str | None:
        row = self.db.execute(
            "SELECT batch FROM journal WHERE action='trash' AND undone_at IS NULL "
            "ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def journal_batch(self, batch: str) -> list[JournalEntry]:
        """The entries of a batch not undone yet, newest first."""
        return [JournalEntry(r[0], r[1], r[2], r[3], json.loads(r[4] or "{}"))
                for r in self.db.execute(
                    "SELECT id, path, hash, batch, detail FROM journal WHERE batch=? "
                    "AND action='trash' AND undone_at IS NULL ORDER BY id DESC", [batch])]

    def journal_mark_undone(self, entry_id: int) -> None:
        self.db.execute("UPDATE journal SET undone_at=? WHERE id=?", [time.time(), entry_id])
