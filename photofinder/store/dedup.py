"""What the duplicates check keeps: pixel signatures, the user's keeper choices and
"not duplicates" decisions (by content hash), keeper rules."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

from photofinder.store.base import StoreBase

NOT_DUPLICATE = "not_duplicate"


@dataclass(frozen=True)
class DedupNode:
    """An indexed photo as the duplicates check sees it."""
    photo_id: int
    hash: str
    label: int | None  # its vector's label in the index, if embedded


@dataclass(frozen=True)
class SignatureInfo:
    sig: bytes | None
    width: int | None
    height: int | None
    path: str


class DedupStore(StoreBase):
    def set_signature(self, photo_id: int, sig: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO signatures(photo_id, sig) VALUES (?, ?)",
                        [photo_id, sig])

    def photos_without_signature(self) -> list[tuple[int, str]]:
        """(id, path) of indexed photos that have no pixel signature yet."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT p.id, p.path FROM photos p LEFT JOIN signatures s ON s.photo_id=p.id "
            "WHERE p.status='indexed' AND s.photo_id IS NULL")]

    def signatures(self, min_side: int, chunk: int = 4096) -> Iterator[list[tuple[int, bytes]]]:
        """Chunks of (photo id, signature) of indexed photos at least ``min_side`` px."""
        cur = self.db.conn.execute(
            "SELECT s.photo_id, s.sig FROM signatures s JOIN photos p ON p.id=s.photo_id "
            "WHERE p.status='indexed' AND min(p.width, p.height) >= ?", [min_side])
        while rows := cur.fetchmany(chunk):
            yield [(r[0], r[1]) for r in rows]

    def signature_info(self, photo_id: int) -> SignatureInfo | None:
        row = self.db.execute(
            "SELECT s.sig, p.width, p.height, p.path FROM photos p LEFT JOIN signatures s "
            "ON s.photo_id=p.id WHERE p.id=?", [photo_id]).fetchone()
        return SignatureInfo(*row) if row else None

    def dedup_nodes(self) -> list[DedupNode]:
        return [DedupNode(*r) for r in self.db.execute(
            "SELECT p.id, p.hash, e.id FROM photos p LEFT JOIN embeddings e ON e.photo_id=p.id "
            "WHERE p.status='indexed' AND p.hash IS NOT NULL")]

    def small_photo_ids(self, min_side: int) -> set[int]:
        return {r[0] for r in self.db.execute(
            "SELECT id FROM photos WHERE status='indexed' AND min(width, height) < ?", [min_side])}

    # -- the user's decisions ---------------------------------------------------------------
    def set_keeper_choice(self, hash_: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO keeper_choices(hash, chosen_at) VALUES (?, ?)",
                        [hash_, time.time()])

    def keeper_choices(self) -> dict[str, float]:
        return dict(self.db.execute("SELECT hash, chosen_at FROM keeper_choices"))

    def add_not_duplicates(self, hash_a: str, hash_b: str) -> None:
        a, b = sorted([hash_a, hash_b])
        self.db.execute("INSERT OR REPLACE INTO decisions(hash_a, hash_b, decision, created_at) "
                        "VALUES (?, ?, ?, ?)", [a, b, NOT_DUPLICATE, time.time()])

    def not_duplicate_pairs(self) -> set[frozenset]:
        return {frozenset((a, b)) for a, b in self.db.execute(
            "SELECT hash_a, hash_b FROM decisions WHERE decision=?", [NOT_DUPLICATE])}
