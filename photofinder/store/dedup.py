"""What the duplicates check keeps: pixel signatures, the user's keeper choices and
"not duplicates" decisions (by content hash), keeper rules."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote

from photofinder.store.base import PATH_PARAM, StoreBase, bind_path, chunks, marks
from photofinder.store.schema import migration

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


# -- duplicates v2: cached features, checked pairs, stored results, keeper by path ----------
@migration(4)
def _migrate_4(db) -> None:
    """Features per content hash (computed once, for photos that become candidates); the
    verdict on every checked pair under one set of parameters (model, sensitivity, method),
    and which photos' candidates were searched under them (so new photos alone are
    checked); the last results; the user's keeper choice by PATH (among byte-identical
    copies the one asked for is the one kept). Old choices by hash go to the shortest path."""
    db.executescript(
        """
        CREATE TABLE dedup_features (
            hash TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE dedup_pairs (
            params TEXT NOT NULL,
            hash_a TEXT NOT NULL,
            hash_b TEXT NOT NULL,
            kind TEXT NOT NULL,
            score REAL NOT NULL,
            why TEXT NOT NULL,
            geometry BLOB,
            PRIMARY KEY (params, hash_a, hash_b)
        );
        CREATE TABLE dedup_searched (
            params TEXT NOT NULL,
            hash TEXT NOT NULL,
            PRIMARY KEY (params, hash)
        );
        CREATE TABLE dedup_results (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            params TEXT NOT NULL,
            created_at REAL NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE keeper_paths (
            path TEXT PRIMARY KEY,
            chosen_at REAL NOT NULL
        );
        INSERT OR IGNORE INTO keeper_paths(path, chosen_at)
            SELECT (SELECT p.path FROM photos p WHERE p.hash = k.hash
                    ORDER BY length(p.path), p.path LIMIT 1), k.chosen_at
            FROM keeper_choices k
            WHERE EXISTS (SELECT 1 FROM photos p WHERE p.hash = k.hash);
        DELETE FROM keeper_choices;
        """
    )


@migration(7)
def _migrate_7(db) -> None:
    """A "similar" verdict on weak evidence (verify.Verdict.tentative) is stored as such: the
    next run must not take it for "these two groups are other shots of each other"."""
    db.execute("ALTER TABLE dedup_pairs ADD COLUMN tentative INTEGER NOT NULL DEFAULT 0")


@migration(8)
def _migrate_8(db) -> None:
    """Each signature gets its picture's colourfulness (signature.colourfulness; NULL for
    the photos indexed before: unknown)."""
    db.execute("ALTER TABLE signatures ADD COLUMN colour REAL")


@dataclass(frozen=True)
class PairVerdict:
    hash_a: str
    hash_b: str
    kind: str  # "copy", "similar" or "none"
    score: float
    why: str
    geometry: bytes | None  # verify.Geometry blob: how B's picture maps onto A's
    tentative: bool = False  # "similar" on weak evidence: other pairs of the groups may be copies


@dataclass(frozen=True)
class MemberState:
    """What a stored result's member was judged on, as the catalogue has it now."""
    path: str
    size: int
    mtime_ns: int
    hash: str | None


class _ResultsStore(StoreBase):
    # features
    def features(self, hashes: list[str], version: int) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for part in chunks(list(hashes)):
            out.update((h, d) for h, d in self.db.execute(
                f"SELECT hash, data FROM dedup_features WHERE version=? AND hash IN ({marks(len(part))})",
                [version, *part]))
        return out

    def set_features(self, items: dict[str, bytes], version: int) -> None:
        with self.transaction():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO dedup_features(hash, version, data) VALUES (?, ?, ?)",
                [(h, version, d) for h, d in items.items()])

    # pairs
    def pair_verdicts(self, params: str, hashes: set[str] | None = None) -> list[PairVerdict]:
        """Every stored verdict under ``params`` (between live ``hashes`` when given)."""
        rows = self.db.execute("SELECT hash_a, hash_b, kind, score, why, geometry, tentative "
                               "FROM dedup_pairs WHERE params=?", [params])
        out = [PairVerdict(*r[:6], bool(r[6])) for r in rows]
        if hashes is not None:
            out = [v for v in out if v.hash_a in hashes and v.hash_b in hashes]
        return out

    def add_pair_verdicts(self, params: str, verdicts: list[PairVerdict]) -> None:
        with self.transaction():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO dedup_pairs(params, hash_a, hash_b, kind, score, why, "
                "geometry, tentative) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(params, v.hash_a, v.hash_b, v.kind, v.score, v.why, v.geometry, int(v.tentative))
                 for v in verdicts])

    def searched_hashes(self, params: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT hash FROM dedup_searched WHERE params=?", [params])}

    def add_searched(self, params: str, hashes: list[str]) -> None:
        with self.transaction():
            self.db.conn.executemany("INSERT OR IGNORE INTO dedup_searched(params, hash) VALUES (?, ?)",
                                     [(params, h) for h in hashes])

    def forget_dedup_params_except(self, params: str) -> None:
        """Verdicts made under other parameters are never trusted again: drop them."""
        with self.transaction():
            self.db.execute("DELETE FROM dedup_pairs WHERE params<>?", [params])
            self.db.execute("DELETE FROM dedup_searched WHERE params<>?", [params])

    # results
    def save_dedup_results(self, params: str, data: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO dedup_results(id, params, created_at, data) "
                        "VALUES (1, ?, ?, ?)", [params, time.time(), data])

    def dedup_results(self) -> tuple[str, float, str] | None:
        row = self.db.execute("SELECT params, created_at, data FROM dedup_results WHERE id=1").fetchone()
        return (row[0], row[1], row[2]) if row else None

    def member_states(self, paths: list[str]) -> dict[str, MemberState]:
        out: dict[str, MemberState] = {}
        for part in chunks(list(paths)):
            for r in self.db.execute(
                    "SELECT path, size, mtime_ns, hash FROM photos WHERE status='indexed' AND "
                    f"path IN ({','.join([PATH_PARAM] * len(part))})", [bind_path(p) for p in part]):
                out[r[0]] = MemberState(*r)
        return out

    # keeper by path
    def set_keeper_path(self, path: str) -> None:
        self.db.execute(f"INSERT OR REPLACE INTO keeper_paths(path, chosen_at) VALUES ({PATH_PARAM}, ?)",
                        [bind_path(path), time.time()])

    def keeper_paths(self) -> dict[str, float]:
        return dict(self.db.execute("SELECT path, chosen_at FROM keeper_paths"))


class DedupStore(_ResultsStore):
    def set_signature(self, photo_id: int, sig: bytes, colour: float | None = None) -> None:
        self.db.execute("INSERT OR REPLACE INTO signatures(photo_id, sig, colour) VALUES (?, ?, ?)",
                        [photo_id, sig, colour])

    def colour_kinds(self, colourless: float) -> tuple[set[int], set[int]]:
        """(ids of the photos without colour, ids of the photos in colour); a photo whose
        colourfulness is not known is in neither."""
        grey, colour = set(), set()
        for pid, c in self.db.execute("SELECT photo_id, colour FROM signatures "
                                      "WHERE colour IS NOT NULL"):
            (grey if c < colourless else colour).add(pid)
        return grey, colour

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

    def signatures_apart(self, min_side: int, chunk: int = 4096
                         ) -> Iterator[list[tuple[int, bytes]]]:
        """``signatures`` on a read-only connection of its own, opened and closed by the
        thread that iterates (a long read beside the work of this catalogue's connection).
        It sees what is committed: not for use inside a write transaction."""
        import sqlite3

        conn = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True, timeout=30)
        try:
            cur = conn.execute(
                "SELECT s.photo_id, s.sig FROM signatures s JOIN photos p ON p.id=s.photo_id "
                "WHERE p.status='indexed' AND min(p.width, p.height) >= ?", [min_side])
            while rows := cur.fetchmany(chunk):
                yield rows
        finally:
            conn.close()

    def reads_apart(self) -> bool:
        """Whether ``signatures_apart`` sees what this connection does: no write transaction
        open, and a catalogue another connection can open (not a read-only one)."""
        return not (getattr(self, "read_only", False) or self.db.conn.in_transaction)

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

    def signatures_of(self, photo_ids: list[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for part in chunks(list(photo_ids)):
            out.update(self.db.execute(
                f"SELECT photo_id, sig FROM signatures WHERE photo_id IN ({marks(len(part))})", part))
        return out
