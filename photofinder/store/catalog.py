"""The catalogue: one SQLite file (WAL) through sqlite-utils; the single source of truth.

Tables: folders, photos (one row per file, with its state and error), embeddings (float16
vectors; the row id is the vector's label in the derived HNSW index), decisions (pairs the
user said are not duplicates, by content hash), journal (every trash/move, for undo), meta
(schema version). ``Catalog`` is assembled from one mixin per concern (this file: folders,
photos, embeddings; ``journal.py``; ``dedup.py``); the schema's migrations live in
``schema.py``. No Qt and no numpy maths here.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from urllib.parse import quote
from typing import Iterable, Iterator

import sqlite_utils

from photofinder.store import schema
from photofinder.store.base import (PATH_PARAM, CatalogError, StoreBase, bind_path, chunks,
                                    marks)
from photofinder.store.dedup import DedupStore
from photofinder.store.feedback import FeedbackStore
from photofinder.store.journal import JournalStore
from photofinder.store.projection import ProjectionStore
from photofinder.store.records import Folder, Listing, Pending, Photo, PhotoError

PENDING, INDEXED, FAILED = "pending", "indexed", "failed"
# every store module that registers a migration is imported above
SCHEMA_VERSION = max(schema.MIGRATIONS)
__all__ = ["Catalog", "CatalogError", "PATH_PARAM", "bind_path", "PENDING", "INDEXED", "FAILED",
           "SCHEMA_VERSION"]


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


class Catalog(JournalStore, DedupStore, ProjectionStore, FeedbackStore, StoreBase):
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
                conn.text_factory = _decode_text
                self.db = sqlite_utils.Database(conn)
                if int(self.get_meta("schema_version", "0")) != SCHEMA_VERSION:
                    raise CatalogError(f"the catalogue {self.path} needs an upgrade, which a "
                                       "read-only library cannot have")
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False,
                                   isolation_level=None)
            conn.text_factory = _decode_text
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self.db = sqlite_utils.Database(conn)
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise CatalogError(f"the catalogue {self.path} cannot be opened: {e}") from None

    # -- schema -------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Bring the schema up to date. Each step runs in its own write transaction and
        re-reads the version inside it, so two processes opening a new catalogue at once
        do not both migrate."""
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        for v in sorted(schema.MIGRATIONS):
            if int(self.get_meta("schema_version", "0")) >= v:
                continue
            with self.transaction():
                if int(self.get_meta("schema_version", "0")) >= v:
                    continue
                schema.MIGRATIONS[v](self.db)
                self.set_meta("schema_version", str(v))
        version = int(self.get_meta("schema_version", "0"))
        if version > SCHEMA_VERSION:
            raise CatalogError(f"the catalogue {self.path} is from a newer photofinder "
                               f"(schema {version}); upgrade photofinder")

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [key, value])

    def close(self) -> None:
        self.db.conn.close()

    def data_version(self) -> int:
        """Changes when another connection commits (a reader beside a writer catches up)."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    # -- folders ------------------------------------------------------------------------
    def folders(self) -> list[Folder]:
        return [Folder.from_row(r) for r in self._rows("SELECT * FROM folders ORDER BY path")]

    def folder_by_path(self, path: str) -> Folder | None:
        rows = self._rows(f"SELECT * FROM folders WHERE path={PATH_PARAM}", [bind_path(path)])
        return Folder.from_row(rows[0]) if rows else None

    def add_folder(self, path: str) -> Folder:
        self.db.execute(f"INSERT OR IGNORE INTO folders(path, added_at) VALUES ({PATH_PARAM}, ?)",
                        [bind_path(path), time.time()])
        return self.folder_by_path(path)

    def remove_folder(self, folder_id: int) -> list[int]:
        """Forget a folder and its photos; returns the vector labels gone."""
        with self.transaction():
            ids = [r[0] for r in self.db.execute("SELECT id FROM photos WHERE folder_id=?",
                                                 [folder_id])]
            labels = self.delete_photos(ids)
            self.db.execute("DELETE FROM folders WHERE id=?", [folder_id])
        return labels

    def set_folder_state(self, folder_id: int, online: bool, scanned: bool = False) -> None:
        if scanned:
            self.db.execute("UPDATE folders SET online=?, last_scan=? WHERE id=?",
                            [int(online), time.time(), folder_id])
        else:
            self.db.execute("UPDATE folders SET online=? WHERE id=?", [int(online), folder_id])

    def folder_counts(self) -> dict[int, int]:
        return {r["folder_id"]: r["n"] for r in
                self._rows("SELECT folder_id, count(*) AS n FROM photos GROUP BY folder_id")}

    # -- photos -------------------------------------------------------------------------
    def photos_in_folder(self, folder_id: int) -> Iterator[Photo]:
        for r in self.db.query("SELECT * FROM photos WHERE folder_id=?", [folder_id]):
            yield Photo.from_row(r)

    def photo_by_path(self, path: str) -> Photo | None:
        rows = self._rows(f"SELECT * FROM photos WHERE path={PATH_PARAM}", [bind_path(path)])
        return Photo.from_row(rows[0]) if rows else None

    def photos(self, ids: Iterable[int]) -> dict[int, Photo]:
        out = {}
        for chunk in chunks(list(ids)):
            for r in self.db.query(f"SELECT * FROM photos WHERE id IN ({marks(len(chunk))})",
                                   chunk):
                out[r["id"]] = Photo.from_row(r)
        return out

    def listing(self) -> Iterator[Listing]:
        """Every photo, ordered by path (folder, then name), for the library's grid."""
        for r in self.db.conn.execute(
                "SELECT id, path, taken_at, mtime_ns, status FROM photos ORDER BY path"):
            yield Listing(*r)

    def insert_photo(self, folder_id: int, path: str, size: int, mtime_ns: int,
                     dev: int, ino: int) -> int:
        cur = self.db.execute(
            "INSERT INTO photos(folder_id, path, size, mtime_ns, dev, ino, status) "
            f"VALUES (?, {PATH_PARAM}, ?, ?, ?, ?, 'pending')",
            [folder_id, bind_path(path), size, mtime_ns, dev, ino])
        return cur.lastrowid

    def mark_changed(self, photo_id: int, size: int, mtime_ns: int, dev: int, ino: int) -> None:
        """The file changed on disk: it is embedded again (the old vector stays searchable
        until the new one replaces it)."""
        self.db.execute(
            "UPDATE photos SET size=?, mtime_ns=?, dev=?, ino=?, hash=NULL, status='pending', "
            "error=NULL WHERE id=?", [size, mtime_ns, dev, ino, photo_id])

    def move_photo(self, photo_id: int, folder_id: int, path: str, mtime_ns: int,
                   dev: int, ino: int) -> None:
        self.db.execute(f"UPDATE photos SET folder_id=?, path={PATH_PARAM}, mtime_ns=?, dev=?, "
                        "ino=? WHERE id=?", [folder_id, bind_path(path), mtime_ns, dev, ino, photo_id])

    def delete_photos(self, ids: Iterable[int]) -> list[int]:
        """Delete photo rows (their embeddings go with them); returns the vector labels gone."""
        labels: list[int] = []
        for chunk in chunks(list(ids)):
            labels += [r[0] for r in self.db.execute(
                f"SELECT id FROM embeddings WHERE photo_id IN ({marks(len(chunk))})", chunk)]
            self.db.execute(f"DELETE FROM photos WHERE id IN ({marks(len(chunk))})", chunk)
        return labels

    def pending(self, limit: int | None = None) -> list[Pending]:
        sql = "SELECT id, path FROM photos WHERE status='pending' ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [Pending(*r) for r in self.db.execute(sql)]

    def counts(self) -> dict[str, int]:
        out = {PENDING: 0, INDEXED: 0, FAILED: 0}
        for r in self._rows("SELECT status, count(*) AS n FROM photos GROUP BY status"):
            out[r["status"]] = r["n"]
        return out

    def errors(self) -> list[PhotoError]:
        return [PhotoError(*r) for r in self.db.execute(
            "SELECT path, error FROM photos WHERE status='failed' ORDER BY path")]

    def _drop_embedding(self, photo_id: int) -> int | None:
        row = self.db.execute("SELECT id FROM embeddings WHERE photo_id=?", [photo_id]).fetchone()
        if row:
            self.db.execute("DELETE FROM embeddings WHERE id=?", [row[0]])
        return row[0] if row else None

    def record_result(self, photo_id: int, meta: dict, model: str, vector: bytes
                      ) -> tuple[int, int | None]:
        """A photo embedded: its metadata and vector; returns (new label, replaced label).
        A photo whose row is gone meanwhile (its folder removed) gives (None, None)."""
        if not self.db.execute("SELECT 1 FROM photos WHERE id=?", [photo_id]).fetchone():
            return None, None
        self._update_meta(photo_id, meta, INDEXED, None)
        if meta.get("signature") is not None:
            self.set_signature(photo_id, meta["signature"], meta.get("colour"))
        old = self._drop_embedding(photo_id)
        cur = self.db.execute("INSERT INTO embeddings(photo_id, model, vector) VALUES (?, ?, ?)",
                              [photo_id, model, vector])
        return cur.lastrowid, old

    def record_failure(self, photo_id: int, error: str, meta: dict | None = None) -> int | None:
        """A photo that cannot be used; returns the label of a vector it had, if any."""
        self._update_meta(photo_id, meta or {}, FAILED, error)
        return self._drop_embedding(photo_id)

    def _update_meta(self, photo_id: int, meta: dict, status: str, error: str | None) -> None:
        cols = ["hash", "width", "height", "orientation", "taken_at", "format", "size", "mtime_ns"]
        sets = [f"{c}=?" for c in cols if c in meta]
        vals = [meta[c] for c in cols if c in meta]
        self.db.execute(
            f"UPDATE photos SET {', '.join(sets + ['status=?', 'error=?', 'indexed_at=?'])} "
            "WHERE id=?", vals + [status, error, time.time(), photo_id])

    # -- embeddings ---------------------------------------------------------------------
    def requeue_other_models(self, model: str) -> int:
        """Photos embedded by another model (an upgrade) are embedded again."""
        cur = self.db.execute(
            "UPDATE photos SET status='pending' WHERE status='indexed' AND id IN "
            "(SELECT photo_id FROM embeddings WHERE model != ?)", [model])
        return cur.rowcount

    def embedding_labels(self, model: str) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM embeddings WHERE model=?", [model])]

    def vectors(self, labels: list[int]) -> Iterator[tuple[int, bytes]]:
        for chunk in chunks(list(labels)):
            yield from self.db.execute(
                f"SELECT id, vector FROM embeddings WHERE id IN ({marks(len(chunk))})", chunk)

    def embedding_of_photo(self, photo_id: int, model: str) -> tuple[int, bytes] | None:
        row = self.db.execute("SELECT id, vector FROM embeddings WHERE photo_id=? AND model=?",
                              [photo_id, model]).fetchone()
        return (row[0], row[1]) if row else None

    def photos_for_labels(self, labels: list[int]) -> dict[int, Photo]:
        out = {}
        for chunk in chunks(list(labels)):
            for r in self.db.query(
                    "SELECT e.id AS label, p.* FROM embeddings e JOIN photos p ON p.id=e.photo_id "
                    f"WHERE e.id IN ({marks(len(chunk))})", chunk):
                out[r["label"]] = Photo.from_row(r)
        return out
