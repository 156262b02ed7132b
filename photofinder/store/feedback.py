"""The user's marks on "Find similar" results: per (query photo, result photo), "similar" or
"not similar", by content hash (a mark survives a move or a rename, and follows
byte-identical copies). They re-rank that query at once and feed the learned projection
(retrieval/learn.py). They are NOT the duplicates' "not duplicates" decisions: those teach
the duplicate check only.
"""

from __future__ import annotations

import time

from photofinder.store.records import MarkedVector
from photofinder.store.sql import Repository

SIMILAR, NOT_SIMILAR = "similar", "not_similar"
MARKS = (SIMILAR, NOT_SIMILAR)


class Feedback(Repository):
    def set_mark(self, query_hash: str, result_hash: str, mark: str | None) -> None:
        """Store the user's mark on a result of a query (``None`` forgets it)."""
        if mark is not None and mark not in MARKS:
            raise ValueError(f"unknown mark {mark!r}")
        with self.transaction():
            if mark is None:
                self.db.table("feedback").delete_where("query_hash = ? AND result_hash = ?",
                                                 [query_hash, result_hash])
            else:
                self.db.table("feedback").insert({"query_hash": query_hash, "result_hash": result_hash,
                                            "mark": mark, "created_at": time.time()},
                                           replace=True)

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
