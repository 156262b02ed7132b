"""Tests read (and now and then poke) the real catalogue file with plain sqlite3, apart from
the code under test: what is on disk is what counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def _connect(lib) -> sqlite3.Connection:
    """``lib``: a Library, or the folder of one."""
    folder = Path(getattr(lib, "path", lib))
    conn = sqlite3.connect(str(folder / "catalog.sqlite"), timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
    return conn


def rows(lib, sql: str, params=()) -> list[dict]:
    conn = _connect(lib)
    try:
        return [dict(r) for r in conn.execute(sql, list(params))]
    finally:
        conn.close()


def execute(lib, sql: str, params=()) -> None:
    conn = _connect(lib)
    try:
        conn.execute(sql, list(params))
    finally:
        conn.close()
