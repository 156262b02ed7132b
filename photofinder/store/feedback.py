"""The catalogue's part for the user's marks on "Find similar" results: per (query photo,
result photo), "similar" or "not similar", by content hash (a mark survives a move or a
rename, and follows byte-identical copies). They re-rank that query at once and feed the
learned projection (retrieval/learn.py). They are NOT the duplicates' "not duplicates"
decisions: those teach the duplicate check only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from photofinder.store.base import StoreBase, chunks, marks
from photofinder.store.schema import migration

SIMILAR, NOT_SIMILAR = "similar", "not_similar"
MARKS = (SIMILAR, NOT_SIMILAR)


@migration(6)
def _migrate_6(db) -> None:
    db.executescript(
        """
        CREATE TABLE feedback (
            query_hash TEXT NOT NULL,
            result_hash TEXT NOT NULL,
            mark TEXT NOT NULL CHECK (mark IN ('similar', 'not_similar')),
            created_at REAL NOT NULL,
            PRIMARY KEY (query_hash, result_hash)
        );
        CREATE INDEX feedback_result ON feedback(result_hash);
        """
    )


@dataclass(frozen=True)
class FeedbackMark:
    query_hash: str
    result_hash: str
    mark: str          # SIMILAR | NOT_SIMILAR
    created_at: float


@dataclass(frozen=True)
class MarkedVector:
    """A marked result with its stored vector (for re-ranking and training)."""
    query_hash: str
    result_hash: str
    mark: str
    query_label: int | None    # None when no indexed photo has that content any more
    result_label: int | None


@dataclass(frozen=True)
class IndexedItem:
    label: int        # the vector's label in the index
    photo_id: int
    path: str
    hash: str | None


class FeedbackStore(StoreBase):
    def set_mark(self, query_hash: str, result_hash: str, mark: str | None) -> None:
        """Store the user's mark on a result of a query (``None`` forgets it)."""
        if mark is not None and mark not in MARKS:
            raise ValueError(f"unknown mark {mark!r}")
        with self.transaction():
            if mark is None:
                self.db.execute("DELETE FROM feedback WHERE query_hash=? AND result_hash=?",
                                [query_hash, result_hash])
            else:
                self.db.execute(
                    "INSERT OR REPLACE INTO feedback(query_hash, result_hash, mark, created_at) "
                    "VALUES (?, ?, ?, ?)", [query_hash, result_hash, mark, time.time()])

    def marks_of_query(self, query_hash: str) -> list[FeedbackMark]:
        return [FeedbackMark(*r) for r in self.db.execute(
            "SELECT query_hash, result_hash, mark, created_at FROM feedback "
            "WHERE query_hash=? ORDER BY created_at", [query_hash])]

    def feedback_count(self) -> dict[str, int]:
        out = {SIMILAR: 0, NOT_SIMILAR: 0}
        for mark, n in self.db.execute("SELECT mark, count(*) FROM feedback GROUP BY mark"):
            out[mark] = n
        return out

    def marked_vectors(self, model: str, query_hash: str | None = None) -> list[MarkedVector]:
        """Every mark (or one query's) with the vector labels of both photos under ``model``
        (any indexed photo with that content)."""
        label_of = (
            "(SELECT e.id FROM photos p JOIN embeddings e ON e.photo_id = p.id "
            "WHERE p.hash = {} AND e.model = ? AND p.status = 'indexed' LIMIT 1)")
        sql = (f"SELECT f.query_hash, f.result_hash, f.mark, {label_of.format('f.query_hash')}, "
               f"{label_of.format('f.result_hash')} FROM feedback f")
        params: list = [model, model]
        if query_hash is not None:
            sql += " WHERE f.query_hash = ?"
            params.append(query_hash)
        return [MarkedVector(*r) for r in self.db.execute(sql + " ORDER BY f.created_at", params)]

    def hashes_of_photos(self, photo_ids: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in chunks(list(photo_ids)):
            out.update((i, h) for i, h in self.db.execute(
                f"SELECT id, hash FROM photos WHERE id IN ({marks(len(chunk))}) "
                "AND hash IS NOT NULL", chunk))
        return out

    def indexed_items(self, model: str) -> list[IndexedItem]:
        """Every indexed photo with a vector of ``model`` (to learn from, to map)."""
        return [IndexedItem(*r) for r in self.db.execute(
            "SELECT e.id, p.id, p.path, p.hash FROM embeddings e JOIN photos p "
            "ON p.id = e.photo_id WHERE e.model = ? AND p.status = 'indexed' ORDER BY e.id",
            [model])]
