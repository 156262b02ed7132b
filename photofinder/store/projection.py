"""The catalogue's part for projections (whitening, later a learned head): each fitted
projection is stored as a blob of plain arrays with its version, one active per model.

The index is derived from the raw float16 vectors through the active projection; a refit
stores a new version and the index is re-derived without re-embedding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from photofinder.store.base import StoreBase
from photofinder.store.schema import migration


@migration(5)
def _migrate_5(db) -> None:
    db.executescript(
        """
        CREATE TABLE projections (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            kind TEXT NOT NULL,
            trained_on INTEGER NOT NULL,
            created_at REAL NOT NULL,
            active INTEGER NOT NULL DEFAULT 0,
            data BLOB NOT NULL,
            UNIQUE (model, version)
        );
        CREATE INDEX projections_active ON projections(model, active);
        """
    )


@dataclass(frozen=True)
class ProjectionRecord:
    model: str
    version: str
    kind: str
    trained_on: int
    created_at: float
    data: bytes


class ProjectionStore(StoreBase):
    def active_projection(self, model: str) -> ProjectionRecord | None:
        row = self.db.execute(
            "SELECT model, version, kind, trained_on, created_at, data FROM projections "
            "WHERE model=? AND active=1 ORDER BY id DESC LIMIT 1", [model]).fetchone()
        return ProjectionRecord(*row) if row else None

    def save_projection(self, model: str, version: str, kind: str, trained_on: int,
                        data: bytes, keep: int = 3) -> None:
        """Store a projection as the model's active one; older versions beyond ``keep`` go."""
        with self.transaction():
            self.db.execute("UPDATE projections SET active=0 WHERE model=?", [model])
            self.db.execute(
                "INSERT OR REPLACE INTO projections(model, version, kind, trained_on, "
                "created_at, active, data) VALUES (?, ?, ?, ?, ?, 1, ?)",
                [model, version, kind, trained_on, time.time(), data])
            self.db.execute(
                "DELETE FROM projections WHERE model=? AND id NOT IN (SELECT id FROM "
                "projections WHERE model=? ORDER BY id DESC LIMIT ?)", [model, model, keep])

    def embedding_count(self, model: str) -> int:
        return self.db.execute("SELECT count(*) FROM embeddings WHERE model=?",
                               [model]).fetchone()[0]

    def sample_vectors(self, model: str, n: int) -> list[bytes]:
        """Up to ``n`` stored vectors of ``model`` drawn at random (to fit a projection)."""
        return [r[0] for r in self.db.execute(
            "SELECT vector FROM embeddings WHERE model=? ORDER BY random() LIMIT ?", [model, n])]

    def deactivate_projection_kind(self, model: str, kind: str) -> str | None:
        """Switch off the model's projections of ``kind``; the newest stored one of another
        kind becomes active again, if any (its version is returned), else none is."""
        with self.transaction():
            self.db.execute("UPDATE projections SET active=0 WHERE model=?", [model])
            row = self.db.execute(
                "SELECT id, version FROM projections WHERE model=? AND kind<>? "
                "ORDER BY id DESC LIMIT 1", [model, kind]).fetchone()
            if row is None:
                return None
            self.db.execute("UPDATE projections SET active=1 WHERE id=?", [row[0]])
            return row[1]
