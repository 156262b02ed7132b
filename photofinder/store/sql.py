"""What every repository of the catalogue shares: the connection, transactions, path binding.

A repository (``photos.Photos``, ``journal.Journal``, ...) owns some tables and is the only
code that speaks SQL to them. Each holds the catalogue's one ``sqlite_utils.Database`` (and
the other repositories it needs, named in its constructor), uses sqlite-utils' table API
where it fits (``db.table("t").insert_all``, ``upsert``, ``rows_where``, ``count_where``) and raw
SQL where that is clearer (joins, ``IN`` lists, paths that are not UTF-8). It hands out
typed records (``records.py``), never a connection or a cursor.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

import sqlite_utils

# File names on Linux are bytes; Python hands back names that are not UTF-8 as str with
# lone surrogates (surrogateescape). Such a path is bound as its raw bytes cast to TEXT
# (write ``PATH_PARAM`` in the SQL and pass ``bind_path(p)``), and text read back is decoded
# with surrogateescape, so every path round-trips exactly. sqlite-utils' table API binds
# str as UTF-8 and cannot cast: the SQL that writes or matches a path stays raw.
PATH_PARAM = "CAST(? AS TEXT)"


def bind_path(path: str) -> str | bytes:
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path)


def rowid(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made (sqlite3 types it Optional: None only where
    no row was inserted, which an INSERT that returned cannot be)."""
    if cur.lastrowid is None:
        raise sqlite3.OperationalError("the INSERT made no row")
    return cur.lastrowid


def marks(n: int) -> str:
    """``?,?,?`` for an IN list of ``n`` values."""
    return ",".join("?" * n)


def chunks(items: list, size: int = 500) -> Iterator[list]:
    """SQLite limits the number of bound values: IN lists go in chunks."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK; nests as a no-op inside an open transaction.

    IMMEDIATE: the write lock is taken at BEGIN, where SQLite's busy timeout waits for it
    (a deferred transaction that reads, then writes, fails at once when another connection
    wrote meanwhile). sqlite-utils' own ``atomic()`` (inside its table methods) nests in it
    as a savepoint."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.outer = False

    def __enter__(self):
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.outer = True
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.outer:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


class Deferred:
    """Writes recorded instead of made (``Deferral.deferring``): ``write()`` makes them, in
    order, in one transaction; dropped, they were never made."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.calls: list[Callable[[], None]] = []

    def __len__(self) -> int:
        return len(self.calls)

    def write(self) -> None:
        with Transaction(self.conn):
            for call in self.calls:
                call()
        self.calls.clear()


class Deferral:
    """Where a repository's derived writes go while a computation runs: recorded for this
    thread inside ``deferring()`` (so the computation takes no write lock and writes
    nothing), made at once outside it. One per catalogue, shared by the repositories whose
    writes can wait (the duplicates check's features, verdicts, searched marks, results and
    signatures)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self._local = threading.local()

    def defer(self, call: Callable[[], None]) -> bool:
        """True when ``call`` was recorded (a deferral is open in this thread)."""
        pending: Deferred | None = getattr(self._local, "pending", None)
        if pending is None:
            return False
        pending.calls.append(call)
        return True

    @contextmanager
    def deferring(self) -> Iterator[Deferred]:
        outer: Deferred | None = getattr(self._local, "pending", None)
        pending = outer if outer is not None else Deferred(self.conn)
        self._local.pending = pending
        try:
            yield pending
        finally:
            self._local.pending = outer


class Repository:
    """One concern's tables on the catalogue's connection."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def transaction(self) -> Transaction:
        return Transaction(self.db.conn)

    def _rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        return list(self.db.query(sql, list(params)))
