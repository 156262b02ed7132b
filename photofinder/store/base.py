"""What every part of the catalogue shares: its error, path binding, transactions.

The catalogue (``catalog.Catalog``) is one class assembled from mixins, one file per
concern (photos and folders, journal, duplicates' decisions, ...); each mixin's methods use
``self.db`` (a ``sqlite_utils.Database``) and ``self.transaction()``. Only this package
speaks SQL, and it hands out typed records (``records.py``), never a connection.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Iterable

import sqlite_utils

from photofinder.errors import PhotofinderError


class CatalogError(PhotofinderError):
    """The catalogue cannot be opened or written; one line for the user."""


# File names on Linux are bytes; Python hands back names that are not UTF-8 as str with
# lone surrogates (surrogateescape). Such a path is bound as its raw bytes cast to TEXT
# (write ``PATH_PARAM`` in the SQL and pass ``bind_path(p)``), and text read back is decoded
# with surrogateescape, so every path round-trips exactly.
PATH_PARAM = "CAST(? AS TEXT)"


def bind_path(path: str) -> str | bytes:
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path)


def marks(n: int) -> str:
    """``?,?,?`` for an IN list of ``n`` values."""
    return ",".join("?" * n)


def chunks(items: list, size: int = 500) -> Iterable[list]:
    """SQLite limits the number of bound values: IN lists go in chunks."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT/ROLLBACK; nests as a no-op inside an open transaction."""

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


class StoreBase:
    """The part every mixin relies on (the connection lives in ``Catalog``)."""

    db: sqlite_utils.Database

    def transaction(self) -> Transaction:
        return Transaction(self.db.conn)

    def _rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        return list(self.db.query(sql, list(params)))
