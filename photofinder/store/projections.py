"""Projections (whitening, a learned head): each fitted one is stored as a blob of plain
arrays with its version, one active per model.

The index is derived from the raw float16 vectors through the active projection; a refit
stores a new version and the index is re-derived without re-embedding.
"""

from __future__ import annotations

import time

from photofinder.store.records import ProjectionRecord
from photofinder.store.sql import Repository


class Projections(Repository):
    def active(self, model: str) -> ProjectionRecord | None:
        for r in self.db.table("projections").rows_where(
                "model = ? AND active = 1", [model], order_by="id DESC", limit=1,
                select="model, version, kind, trained_on, created_at, data"):
            return ProjectionRecord(**r)
        return None

    def save(self, model: str, version: str, kind: str, trained_on: int, data: bytes,
             keep: int = 3) -> None:
        """Store a projection as the model's active one; older versions beyond ``keep`` go."""
        with self.transaction():
            self.db.execute("UPDATE projections SET active=0 WHERE model=?", [model])
            self.db.execute(
                "INSERT OR REPLACE INTO projections(model, version, kind, trained_on, "
                "created_at, active, data) VALUES (?, ?, ?, ?, ?, 1, ?)",
                [model, version, kind, trained_on, time.time(), data])
            self.db.table("projections").delete_where(
                "model = ? AND id NOT IN (SELECT id FROM projections WHERE model = ? "
                "ORDER BY id DESC LIMIT ?)", [model, model, keep])

    def deactivate_kind(self, model: str, kind: str) -> str | None:
        """Switch off the model's projections of ``kind``; the newest stored one of another
        kind becomes active again, if any (its version is returned), else none is."""
        with self.transaction():
            self.db.execute("UPDATE projections SET active=0 WHERE model=?", [model])
            for r in self.db.table("projections").rows_where("model = ? AND kind <> ?", [model, kind],
                                                       select="id, version", order_by="id DESC",
                                                       limit=1):
                self.db.execute("UPDATE projections SET active=1 WHERE id=?", [r["id"]])
                return r["version"]
            return None
