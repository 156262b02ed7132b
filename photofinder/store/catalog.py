"""The catalogue: one SQLite file (WAL) through sqlite-utils; the single source of truth.

``Catalog(path)`` opens (and migrates: migrations.py) the file and holds one repository per
concern, all on its one connection:

- ``meta``         key/value settings (the schema version, the keeper rules)
- ``folders``      the folders the user added (photos.py)
- ``photos``       one row per file, with its state and error (photos.py)
- ``embeddings``   float16 vectors; the row id is the vector's label in the derived HNSW index
- ``signatures``   each photo's pixel signature and colourfulness (duplicates' rotations)
- ``dedup``        the duplicates check's cache: features, verdicts, results, the user's
                   keeper and "not duplicates" choices (dedup.py)
- ``journal``      every move to the trash and back, write-ahead (journal.py)
- ``feedback``     the user's marks on "Find similar" results (feedback.py)
- ``projections``  fitted projections (projections.py)

Only this package speaks SQL; it hands out typed records (records.py). No Qt, no numpy.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from photofinder.errors import PhotofinderError
from photofinder.store.dedup import Dedup
from photofinder.store.feedback import Feedback
from photofinder.store.journal import Journal
from photofinder.store.migrations import MIGRATIONS, SCHEMA_VERSION
from photofinder.store.embeddings import Embeddings
from photofinder.store.photos import Folders, Photos
from photofinder.store.projections import Projections
from photofinder.store.records import FAILED, INDEXED, PENDING
from photofinder.store.signatures import Signatures
from photofinder.store.sql import PATH_PARAM, Deferral, Deferred, Repository, Transaction, bind_path

__all__ = ["Catalog", "CatalogError", "PATH_PARAM", "bind_path", "PENDING", "INDEXED", "FAILED",
           "SCHEMA_VERSION"]


class CatalogError(PhotofinderError):
    """The catalogue cannot be opened or written; one line for the user."""


def _enable_wal(conn: sqlite3.Connection, wait: float = 30.0) -> None:
    """WAL is a property of the file. Switching to it takes an exclusive lock for which
    SQLite's busy timeout does not wait, so a process opening a new catalogue while another
    does retries here."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class Meta(Repository):
    """Settings as text by key: the schema version, the keeper rules (JSON)."""

    def get(self, key: str, default: str | None = None) -> str | None:
        for row in self.db.table("meta").rows_where("key = ?", [key], select="value"):
            return row["value"]
        return default

    def set(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.table("meta").upsert({"key": key, "value": value}, pk="key")


class Catalog:
    def __init__(self, path: Path, read_only: bool = False):
        """``read_only``: open without writing anything (a library on a read-only drive or
        folder): no migration, no WAL switch; a catalogue older than this photofinder is an
        error then."""
        self.path = Path(path)
        self.read_only = read_only
        try:
            if read_only:
                conn = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro&immutable=1",
                                       uri=True, check_same_thread=False, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False,
                                       isolation_level=None)
            conn.text_factory = _decode_text
            self.db = sqlite_utils.Database(conn)
            self.deferral = Deferral(conn)
            self.meta = Meta(self.db)
            self.embeddings = Embeddings(self.db)
            self.signatures = Signatures(self.db, self.path, read_only, self.deferral)
            self.photos = Photos(self.db, self.embeddings, self.signatures)
            self.folders = Folders(self.db, self.photos)
            self.dedup = Dedup(self.db, self.deferral)
            self.journal = Journal(self.db, self.photos)
            self.feedback = Feedback(self.db)
            self.projections = Projections(self.db)
            if read_only:
                if self.schema_version() != SCHEMA_VERSION:
                    raise CatalogError(f"the catalogue {self.path} needs an upgrade, which a "
                                       "read-only library cannot have")
                return
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise CatalogError(f"the catalogue {self.path} cannot be opened: {e}") from None

    def schema_version(self) -> int:
        return int(self.meta.get("schema_version", "0") or 0)

    def _migrate(self) -> None:
        """Bring the schema up to date. Each step runs in its own write transaction and
        re-reads the version inside it, so two processes opening a new catalogue at once
        do not both migrate."""
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        for version, step in enumerate(MIGRATIONS, start=1):
            if self.schema_version() >= version:
                continue
            with self.transaction():
                if self.schema_version() >= version:
                    continue
                step(self.db)
                self.meta.set("schema_version", str(version))
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise CatalogError(f"the catalogue {self.path} is from a newer photofinder "
                               f"(schema {version}); upgrade photofinder")

    def deferring(self) -> AbstractContextManager[Deferred]:
        """The duplicates check's writes (features, verdicts, searched marks, results,
        signatures) made by this thread inside the block are recorded, not made: the
        ``Deferred`` it gives writes them afterwards (``write()``: the caller holds the
        writer lock) or is dropped (a read-only library). Reads inside see the catalogue as
        it was."""
        return self.deferral.deferring()

    def transaction(self) -> Transaction:
        """One write transaction across repositories (BEGIN IMMEDIATE; nests as a no-op)."""
        return Transaction(self.db.conn)

    def data_version(self) -> int:
        """Changes when another connection commits (a reader beside a writer catches up)."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        self.db.conn.close()
