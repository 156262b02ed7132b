"""What the duplicates check keeps: local features per content hash, the verdict on every
checked pair and which photos were searched (each under the parameters they were made
under), the last results, and the user's choices: the copy to keep (by path) and "not
duplicates" pairs (by content hash). The keeper rules are a setting (``Catalog.meta``)."""

from __future__ import annotations

import time

from photofinder.store.records import DedupNode, PairVerdict, StoredFindings
import sqlite_utils

from photofinder.store.sql import PATH_PARAM, Deferral, Repository, bind_path, chunks, marks

NOT_DUPLICATE = "not_duplicate"
__all__ = ["Dedup", "DedupNode", "PairVerdict", "StoredFindings", "NOT_DUPLICATE"]


class Dedup(Repository):
    """The check's own writes (features, verdicts, searched marks, results) go through
    ``deferral``: inside ``Catalog.deferring()`` they are recorded, to be written under the
    writer lock once the check is done (or never, in a read-only library)."""

    def __init__(self, db: sqlite_utils.Database, deferral: Deferral):
        super().__init__(db)
        self.deferral = deferral

    def nodes(self) -> list[DedupNode]:
        """Every indexed photo with a content hash, with its vector's label."""
        return [DedupNode(*r) for r in self.db.execute(
            "SELECT p.id, p.hash, e.id FROM photos p LEFT JOIN embeddings e ON e.photo_id=p.id "
            "WHERE p.status='indexed' AND p.hash IS NOT NULL")]

    # -- local features, by content hash ------------------------------------------------------
    def features(self, hashes: list[str], version: int) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for part in chunks(list(hashes)):
            out.update((r["hash"], r["data"]) for r in self.db.table("dedup_features").rows_where(
                f"version = ? AND hash IN ({marks(len(part))})", [version, *part],
                select="hash, data"))
        return out

    def set_features(self, items: dict[str, bytes], version: int) -> None:
        if self.deferral.defer(lambda: self.set_features(items, version)):
            return
        with self.transaction():
            self.db.table("dedup_features").insert_all(
                ({"hash": h, "version": version, "data": d} for h, d in items.items()),
                replace=True)

    # -- verdicts and searches, under one set of parameters ------------------------------------
    def verdicts(self, params: str, hashes: set[str] | None = None) -> list[PairVerdict]:
        """Every stored verdict under ``params`` (between live ``hashes`` when given)."""
        rows = self.db.table("dedup_pairs").rows_where(
            "params = ?", [params], select="hash_a, hash_b, kind, score, why, geometry, tentative")
        out = [PairVerdict(r["hash_a"], r["hash_b"], r["kind"], r["score"], r["why"],
                           r["geometry"], bool(r["tentative"])) for r in rows]
        if hashes is not None:
            out = [v for v in out if v.hash_a in hashes and v.hash_b in hashes]
        return out

    def add_verdicts(self, params: str, verdicts: list[PairVerdict]) -> None:
        if self.deferral.defer(lambda: self.add_verdicts(params, verdicts)):
            return
        with self.transaction():
            self.db.table("dedup_pairs").insert_all(
                ({"params": params, "hash_a": v.hash_a, "hash_b": v.hash_b, "kind": v.kind,
                  "score": v.score, "why": v.why, "geometry": v.geometry,
                  "tentative": int(v.tentative)} for v in verdicts), replace=True)

    def searched(self, params: str) -> set[str]:
        """The content hashes whose candidates were searched under ``params``."""
        return {r["hash"] for r in self.db.table("dedup_searched").rows_where(
            "params = ?", [params], select="hash")}

    def add_searched(self, params: str, hashes: list[str]) -> None:
        if self.deferral.defer(lambda: self.add_searched(params, hashes)):
            return
        with self.transaction():
            self.db.table("dedup_searched").insert_all(
                ({"params": params, "hash": h} for h in hashes), ignore=True)

    # -- the last results -----------------------------------------------------------------------
    def save_results(self, params: str, data: str) -> None:
        created_at = time.time()  # when they were found, however late they are written
        if self.deferral.defer(lambda: self._save_results(params, data, created_at)):
            return
        self._save_results(params, data, created_at)

    def _save_results(self, params: str, data: str, created_at: float) -> None:
        with self.transaction():
            self.db.table("dedup_results").insert(
                {"id": 1, "params": params, "created_at": created_at, "data": data},
                replace=True)

    def results(self) -> StoredFindings | None:
        for r in self.db.table("dedup_results").rows_where("id = 1"):
            return StoredFindings(r["params"], r["created_at"], r["data"])
        return None

    # -- the user's choices -------------------------------------------------------------------
    def set_keeper_path(self, path: str) -> None:
        self.db.execute(f"INSERT OR REPLACE INTO keeper_paths(path, chosen_at) VALUES ({PATH_PARAM}, ?)",
                        [bind_path(path), time.time()])

    def keeper_paths(self) -> dict[str, float]:
        return {r["path"]: r["chosen_at"] for r in self.db.table("keeper_paths").rows}

    def add_not_duplicates(self, hash_a: str, hash_b: str) -> None:
        a, b = sorted([hash_a, hash_b])
        with self.transaction():
            self.db.table("decisions").insert({"hash_a": a, "hash_b": b, "decision": NOT_DUPLICATE,
                                         "created_at": time.time()}, replace=True)

    def not_duplicate_pairs(self) -> set[frozenset]:
        return {frozenset((r["hash_a"], r["hash_b"])) for r in self.db.table("decisions").rows_where(
            "decision = ?", [NOT_DUPLICATE], select="hash_a, hash_b")}
