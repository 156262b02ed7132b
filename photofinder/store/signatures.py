"""Pixel signatures: a small grey picture of each indexed photo (dedup/signature.py) and how
colourful it is, written as the photo is indexed; the duplicates check hashes them in all
eight orientations to find turned and mirrored copies."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import sqlite_utils

from photofinder.store.sql import Deferral, Repository, chunks, marks

# indexed photos at least ? px on their longer side and ? on their shorter, with their signature
_USABLE = ("SELECT s.photo_id, s.sig FROM signatures s JOIN photos p ON p.id=s.photo_id "
           "WHERE p.status='indexed' AND max(p.width, p.height) >= ? AND min(p.width, p.height) >= ?")


class Signatures(Repository):
    def __init__(self, db: sqlite_utils.Database, path: Path, read_only: bool,
                 deferral: Deferral):
        super().__init__(db)
        self.deferral = deferral  # a signature the duplicates check makes waits with its writes
        self.path = path  # the catalogue's file: ``read_apart`` opens its own connection
        self.read_only = read_only

    def set(self, photo_id: int, sig: bytes, colour: float | None = None) -> None:
        if self.deferral.defer(lambda: self.set(photo_id, sig, colour)):
            return
        self.db.table("signatures").insert({"photo_id": photo_id, "sig": sig, "colour": colour},
                                     replace=True)

    def of(self, photo_ids: list[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for part in chunks(list(photo_ids)):
            out.update((r["photo_id"], r["sig"]) for r in self.db.table("signatures").rows_where(
                f"photo_id IN ({marks(len(part))})", part, select="photo_id, sig"))
        return out

    def colour_kinds(self, colourless: float) -> tuple[set[int], set[int]]:
        """(ids of the photos without colour, ids of the photos in colour); a photo whose
        colourfulness is not known is in neither."""
        grey, colour = set(), set()
        for r in self.db.table("signatures").rows_where("colour IS NOT NULL",
                                                  select="photo_id, colour"):
            (grey if r["colour"] < colourless else colour).add(r["photo_id"])
        return grey, colour

    def missing(self) -> list[tuple[int, str]]:
        """(id, path) of indexed photos that have no pixel signature yet."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT p.id, p.path FROM photos p LEFT JOIN signatures s ON s.photo_id=p.id "
            "WHERE p.status='indexed' AND s.photo_id IS NULL")]

    def read(self, min_long: int, min_short: int, chunk: int = 4096
             ) -> Iterator[list[tuple[int, bytes]]]:
        """Chunks of (photo id, signature) of indexed photos at least ``min_long`` px on
        their longer side and ``min_short`` on their shorter."""
        cur = self.db.conn.execute(_USABLE, [min_long, min_short])
        while rows := cur.fetchmany(chunk):
            yield [(r[0], r[1]) for r in rows]

    def read_apart(self, min_long: int, min_short: int, chunk: int = 4096
                   ) -> Iterator[list[tuple[int, bytes]]]:
        """``read`` on a read-only connection of its own, opened and closed by the thread
        that iterates (a long read beside the work of the catalogue's connection). It sees
        what is committed: not for use inside a write transaction (``reads_apart``)."""
        conn = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, timeout=30)
        try:
            cur = conn.execute(_USABLE, [min_long, min_short])
            while rows := cur.fetchmany(chunk):
                yield rows
        finally:
            conn.close()

    def reads_apart(self) -> bool:
        """Whether ``read_apart`` sees what this connection does: no write transaction open,
        and a catalogue another connection can open (not a read-only one)."""
        return not (self.read_only or self.db.conn.in_transaction)
