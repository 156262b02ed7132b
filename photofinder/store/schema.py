"""The catalogue's schema: numbered migrations, each run once, in order, in its own write
transaction. Store modules register theirs here (``MIGRATIONS[n] = fn``); the catalogue
applies every registered version it has not applied yet."""

from __future__ import annotations

from typing import Callable

import sqlite_utils

MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {}


def migration(version: int):
    """Register ``fn`` as migration ``version`` (each number once)."""
    def register(fn):
        if version in MIGRATIONS:
            raise RuntimeError(f"migration {version} is registered twice")
        MIGRATIONS[version] = fn
        return fn
    return register


@migration(1)
def _migrate_1(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE folders (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            added_at REAL NOT NULL,
            online INTEGER NOT NULL DEFAULT 1,
            last_scan REAL
        );
        CREATE TABLE photos (
            id INTEGER PRIMARY KEY,
            folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            dev INTEGER, ino INTEGER,
            hash TEXT,
            width INTEGER, height INTEGER,
            orientation INTEGER,
            taken_at TEXT,
            format TEXT,
            status TEXT NOT NULL DEFAULT 'pending',
            error TEXT,
            indexed_at REAL
        );
        CREATE INDEX photos_folder ON photos(folder_id);
        CREATE INDEX photos_hash ON photos(hash);
        CREATE INDEX photos_status ON photos(status);
        CREATE TABLE embeddings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            photo_id INTEGER NOT NULL UNIQUE REFERENCES photos(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE TABLE decisions (
            hash_a TEXT NOT NULL, hash_b TEXT NOT NULL,
            decision TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (hash_a, hash_b)
        );
        CREATE TABLE journal (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            action TEXT NOT NULL,
            path TEXT NOT NULL,
            hash TEXT,
            batch TEXT,
            detail TEXT,
            undone_at REAL
        );
        """
    )


@migration(2)
def _migrate_2(db: sqlite_utils.Database) -> None:
    """Duplicates: a pixel signature per photo (rotation-proof matching and the strict
    check), the user's keeper choices. Photos indexed before this get their signature
    lazily (duplicates.py computes and stores the missing ones)."""
    db.executescript(
        """
        CREATE TABLE signatures (
            photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
            sig BLOB NOT NULL
        );
        CREATE TABLE keeper_choices (
            hash TEXT PRIMARY KEY,
            chosen_at REAL NOT NULL
        );
        CREATE INDEX journal_batch ON journal(batch);
        """
    )
