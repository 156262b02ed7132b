"""Every change to the catalogue's schema, in order: one function a version, named ``v<N>_...``.

``MIGRATIONS[n - 1]`` brings a catalogue from version n - 1 to n, and ``SCHEMA_VERSION`` is
their count: it depends on this file alone, never on which modules were imported. The
catalogue (catalog.py) runs each one it has not applied yet in its own write transaction.
A migration is never edited once released (libraries out there ran it); a change to the
schema is a new function at the end. Tables are created with their SQL (the constraints read
as they are); columns and indexes added later go through sqlite-utils' table API, which
looks at the table as it is.
"""

from __future__ import annotations

from typing import Callable

import sqlite_utils


def v1_catalogue(db: sqlite_utils.Database) -> None:
    """Folders, photos (state and error), embeddings (the row id is the vector's label in the
    derived HNSW index), "not duplicates" decisions, the journal."""
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


def v2_signatures(db: sqlite_utils.Database) -> None:
    """Duplicates: a pixel signature per photo (rotation-proof matching and the strict
    check), the user's keeper choices (by hash; v4 moves them to paths). Photos indexed
    before this get their signature when the duplicates check first runs."""
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
        """
    )
    db.table("journal").create_index(["batch"], index_name="journal_batch")


def v3_journal_states(db: sqlite_utils.Database) -> None:
    """The journal becomes write-ahead: each entry's state, the exact trash entry, the
    file's facts (journal.py says what the states mean)."""
    journal = db.table("journal")
    journal.add_column("state", str, not_null_default="moved")
    for name, kind in (("trash_dir", str), ("trash_name", str), ("size", int),
                       ("mtime_ns", int), ("reason", str), ("updated_at", float)):
        journal.add_column(name, kind)
    db.execute("UPDATE journal SET state='undone' WHERE undone_at IS NOT NULL")
    db.execute("UPDATE journal SET trash_dir=json_extract(detail, '$.trash_dir'), "
               "trash_name=json_extract(detail, '$.name') "
               "WHERE detail IS NOT NULL AND json_valid(detail)")
    journal.create_index(["state"], index_name="journal_state")


def v4_dedup_cache(db: sqlite_utils.Database) -> None:
    """Duplicates v2: features per content hash (computed once, for photos that become
    candidates); the verdict on every checked pair under one set of parameters (model,
    sensitivity, method) and which photos' candidates were searched under them (so new
    photos alone are checked); the last results; the user's keeper choice by PATH (among
    byte-identical copies the one asked for is the one kept). Old choices by hash go to the
    shortest path."""
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


def v5_projections(db: sqlite_utils.Database) -> None:
    """Fitted projections (whitening, learned), plain arrays with their version; one active
    per model (projections.py)."""
    db.executescript(
        """
        CREATE TABLE projections (
            id INTEGER PRIMARY KEY,
            model TEXT NOT NULL,
            version TEXT NOT NULL,
            kind TEXT NOT NULL,
            trained_on INTEGER NOT NULL,
            created_at REAL NOT NULL,
            active INTEGER NOT NULL DEFAULT 0,
            data BLOB NOT NULL,
            UNIQUE (model, version)
        );
        CREATE INDEX projections_active ON projections(model, active);
        """
    )


def v6_feedback(db: sqlite_utils.Database) -> None:
    """The user's marks on "Find similar" results, by content hash (feedback.py)."""
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


def v7_tentative_verdicts(db: sqlite_utils.Database) -> None:
    """A "similar" verdict on weak evidence (verify.Verdict.tentative) is stored as such: the
    next run must not take it for "these two groups are other shots of each other"."""
    db.table("dedup_pairs").add_column("tentative", int, not_null_default=0)


def v8_colourfulness(db: sqlite_utils.Database) -> None:
    """Each signature gets its picture's colourfulness (signature.colourfulness; NULL for
    the photos indexed before: unknown)."""
    db.table("signatures").add_column("colour", float)


def v9_folder_history_unreadable_copies(db: sqlite_utils.Database) -> None:
    """Which folders were registered when (``folder_history``: undo puts a file back only
    into a folder registered when its batch was made, one removed since included; ``real``
    is the folder with its symlinks resolved at registration; folders registered before
    have none), subfolders that cannot be read (``unreadable``: their photos are kept,
    offline, until they can), and how a journal entry went to the trash (``how``: "move",
    or "copy": copied to the user's own trash, verified, then the original removed)."""
    db.executescript(
        """
        CREATE TABLE folder_history (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            real TEXT,
            added_at REAL NOT NULL,
            removed_at REAL
        );
        INSERT INTO folder_history(path, added_at) SELECT path, added_at FROM folders;
        CREATE TABLE unreadable (
            path TEXT PRIMARY KEY,
            folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
            reason TEXT NOT NULL,
            since REAL NOT NULL
        );
        """
    )
    db.table("journal").add_column("how", str, not_null_default="move")


def v10_tags(db: sqlite_utils.Database) -> None:
    """Each embedding gets its photo's top ImageNet classes (search by words: 41 bytes,
    pixels/embedding/classes.encode_tags), made in the same pass as the vector; NULL for the photos
    indexed before, which get them from their stored vector (Library.tag_photos)."""
    db.table("embeddings").add_column("classes", bytes)


def v11_labels_by_model(db: sqlite_utils.Database) -> None:
    """An index on the embeddings' model: opening the vector index reads every label of the
    model (store/index.py reconciles the two), and without it that read scanned the whole
    table, vectors and all (119 of a cold first search's 500 ms at 100k photos). The index
    holds the row id too, so the read touches the index alone."""
    db.table("embeddings").create_index(["model"], index_name="embeddings_model",
                                        if_not_exists=True)


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    v1_catalogue,
    v2_signatures,
    v3_journal_states,
    v4_dedup_cache,
    v5_projections,
    v6_feedback,
    v7_tentative_verdicts,
    v8_colourfulness,
    v9_folder_history_unreadable_copies,
    v10_tags,
    v11_labels_by_model,
)
SCHEMA_VERSION = len(MIGRATIONS)
