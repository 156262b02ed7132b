"""Folders and photos: what the user added, and one row per file with its state and error."""

from __future__ import annotations

import os
import time
from typing import Iterable, Iterator

import sqlite_utils

from photofinder.store.embeddings import Embeddings
from photofinder.store.records import (FAILED, INDEXED, PENDING, Folder, Listing, MemberState,
                                       Pending, Photo, PhotoError, RegisteredFolder, Unreadable)
from photofinder.store.signatures import Signatures
from photofinder.store.sql import PATH_PARAM, Repository, bind_path, chunks, marks, rowid

# what indexing learns about a file (``record_result``'s ``meta`` keys that are columns)
_FACTS = ("hash", "width", "height", "orientation", "taken_at", "format", "size", "mtime_ns")


class Photos(Repository):
    """The ``photos`` table. A photo's embedding and signature go with it (``record_result``,
    ``delete``), so it holds those repositories."""

    def __init__(self, db: sqlite_utils.Database, embeddings: Embeddings, signatures: Signatures):
        super().__init__(db)
        self.embeddings = embeddings
        self.signatures = signatures

    # -- reading --------------------------------------------------------------------------
    def by_path(self, path: str) -> Photo | None:
        rows = self._rows(f"SELECT * FROM photos WHERE path={PATH_PARAM}", [bind_path(path)])
        return Photo.from_row(rows[0]) if rows else None

    def by_ids(self, ids: Iterable[int]) -> dict[int, Photo]:
        out = {}
        for chunk in chunks(list(ids)):
            for r in self.db.table("photos").rows_where(f"id IN ({marks(len(chunk))})", chunk):
                out[r["id"]] = Photo.from_row(r)
        return out

    def by_labels(self, labels: list[int]) -> dict[int, Photo]:
        """The photos of these vector labels, by label."""
        out = {}
        for chunk in chunks(list(labels)):
            for r in self.db.query(
                    "SELECT e.id AS label, p.* FROM embeddings e JOIN photos p ON p.id=e.photo_id "
                    f"WHERE e.id IN ({marks(len(chunk))})", chunk):
                out[r["label"]] = Photo.from_row(r)
        return out

    def in_folder(self, folder_id: int) -> Iterator[Photo]:
        for r in self.db.table("photos").rows_where("folder_id = ?", [folder_id]):
            yield Photo.from_row(r)

    def listing(self) -> Iterator[Listing]:
        """Every photo, ordered by path (folder, then name), for the library's grid."""
        for r in self.db.conn.execute(
                "SELECT id, path, taken_at, mtime_ns, status FROM photos ORDER BY path"):
            yield Listing(*r)

    def count_under(self, folder: str) -> int:
        """How many photos lie under ``folder`` (at any depth)."""
        base = folder.rstrip(os.sep)
        return self.db.execute(
            f"SELECT count(*) FROM photos WHERE path >= {PATH_PARAM} AND path < {PATH_PARAM}",
            [bind_path(base + os.sep), bind_path(base + chr(ord(os.sep) + 1))]).fetchone()[0]

    def pending(self, limit: int | None = None) -> list[Pending]:
        return [Pending(r["id"], r["path"]) for r in self.db.table("photos").rows_where(
            "status = ?", [PENDING], select="id, path", order_by="id", limit=limit or None)]

    def counts(self) -> dict[str, int]:
        """Photos by status: {"pending", "indexed", "failed"}."""
        out = {PENDING: 0, INDEXED: 0, FAILED: 0}
        for r in self._rows("SELECT status, count(*) AS n FROM photos GROUP BY status"):
            out[r["status"]] = r["n"]
        return out

    def errors(self) -> list[PhotoError]:
        return [PhotoError(r["path"], r["error"]) for r in self.db.table("photos").rows_where(
            "status = ?", [FAILED], select="path, error", order_by="path")]

    def hashes(self, photo_ids: list[int]) -> dict[int, str]:
        """The content hash of each of these photos that has one."""
        out: dict[int, str] = {}
        for chunk in chunks(list(photo_ids)):
            out.update((r["id"], r["hash"]) for r in self.db.table("photos").rows_where(
                f"id IN ({marks(len(chunk))}) AND hash IS NOT NULL", chunk, select="id, hash"))
        return out

    def states(self, paths: list[str]) -> dict[str, MemberState]:
        """What the indexed photos at these paths are now (size, mtime, hash), by path."""
        out: dict[str, MemberState] = {}
        for part in chunks(list(paths)):
            for r in self.db.execute(
                    "SELECT path, size, mtime_ns, hash FROM photos WHERE status='indexed' AND "
                    f"path IN ({','.join([PATH_PARAM] * len(part))})", [bind_path(p) for p in part]):
                out[r[0]] = MemberState(*r)
        return out

    def smaller_than(self, min_long: int, min_short: int) -> set[int]:
        """Ids of the indexed photos under ``min_long`` px on their longer side or under
        ``min_short`` on their shorter."""
        return {r["id"] for r in self.db.table("photos").rows_where(
            "status = ? AND (max(width, height) < ? OR min(width, height) < ?)",
            [INDEXED, min_long, min_short], select="id")}

    # -- what the scanner finds -------------------------------------------------------------
    def insert(self, folder_id: int, path: str, size: int, mtime_ns: int, dev: int, ino: int
               ) -> int:
        cur = self.db.execute(
            "INSERT INTO photos(folder_id, path, size, mtime_ns, dev, ino, status) "
            f"VALUES (?, {PATH_PARAM}, ?, ?, ?, ?, 'pending')",
            [folder_id, bind_path(path), size, mtime_ns, dev, ino])
        return rowid(cur)

    def mark_changed(self, photo_id: int, size: int, mtime_ns: int, dev: int, ino: int) -> None:
        """The file changed on disk: it is embedded again (the old vector stays searchable
        until the new one replaces it)."""
        self.db.execute(
            "UPDATE photos SET size=?, mtime_ns=?, dev=?, ino=?, hash=NULL, status='pending', "
            "error=NULL WHERE id=?", [size, mtime_ns, dev, ino, photo_id])

    def move(self, photo_id: int, folder_id: int, path: str, mtime_ns: int, dev: int, ino: int
             ) -> None:
        self.db.execute(f"UPDATE photos SET folder_id=?, path={PATH_PARAM}, mtime_ns=?, dev=?, "
                        "ino=? WHERE id=?", [folder_id, bind_path(path), mtime_ns, dev, ino, photo_id])

    def delete(self, ids: Iterable[int]) -> list[int]:
        """Delete photo rows (their embeddings and signatures go with them); returns the
        vector labels gone."""
        labels: list[int] = []
        with self.transaction():
            for chunk in chunks(list(ids)):
                labels += self.embeddings.labels_of_photos(chunk)
                self.db.table("photos").delete_where(f"id IN ({marks(len(chunk))})", chunk)
        return labels

    def requeue_other_models(self, model: str) -> int:
        """Photos embedded by another model (an upgrade) are embedded again."""
        cur = self.db.execute(
            "UPDATE photos SET status='pending' WHERE status='indexed' AND id IN "
            "(SELECT photo_id FROM embeddings WHERE model != ?)", [model])
        return cur.rowcount

    # -- what indexing finds ----------------------------------------------------------------
    def record_result(self, photo_id: int, meta: dict, model: str, vector: bytes,
                      classes: bytes | None = None) -> tuple[int | None, int | None]:
        """A photo embedded: its facts, signature, vector and top classes; returns (new label,
        replaced label). A photo whose row is gone meanwhile (its folder removed) gives (None,
        None)."""
        with self.transaction():
            if not self.db.table("photos").count_where("id = ?", [photo_id]):
                return None, None
            self._set_facts(photo_id, meta, INDEXED, None)
            if meta.get("signature") is not None:
                self.signatures.set(photo_id, meta["signature"], meta.get("colour"))
            old = self.embeddings.drop(photo_id)
            return self.embeddings.add(photo_id, model, vector, classes), old

    def record_failure(self, photo_id: int, error: str, meta: dict | None = None) -> int | None:
        """A photo that cannot be used; returns the label of a vector it had, if any."""
        with self.transaction():
            self._set_facts(photo_id, meta or {}, FAILED, error)
            return self.embeddings.drop(photo_id)

    def _set_facts(self, photo_id: int, meta: dict, status: str, error: str | None) -> None:
        facts = {c: meta[c] for c in _FACTS if c in meta}
        self.db.execute(
            f"UPDATE photos SET {', '.join(f'{c}=?' for c in [*facts, 'status', 'error', 'indexed_at'])} "
            "WHERE id=?", [*facts.values(), status, error, time.time(), photo_id])


class Folders(Repository):
    """The ``folders`` table; forgetting a folder forgets its photos (so it holds them)."""

    def __init__(self, db: sqlite_utils.Database, photos: Photos):
        super().__init__(db)
        self.photos = photos

    def all(self) -> list[Folder]:
        return [Folder.from_row(r) for r in self.db.table("folders").rows_where(order_by="path")]

    def by_path(self, path: str) -> Folder | None:
        rows = self._rows(f"SELECT * FROM folders WHERE path={PATH_PARAM}", [bind_path(path)])
        return Folder.from_row(rows[0]) if rows else None

    def add(self, path: str, real: str | None = None) -> Folder:
        """Register a folder (``real``: its path with symlinks resolved, kept in its
        history); a folder registered already stays as it is."""
        with self.transaction():
            now = time.time()
            added = self.db.execute(
                f"INSERT OR IGNORE INTO folders(path, added_at) VALUES ({PATH_PARAM}, ?)",
                [bind_path(path), now]).rowcount
            if added:
                self.db.execute("INSERT INTO folder_history(path, real, added_at) VALUES "
                                f"({PATH_PARAM}, {PATH_PARAM}, ?)",
                                [bind_path(path), bind_path(real) if real else None, now])
        folder = self.by_path(path)
        assert folder is not None
        return folder

    def remove(self, folder_id: int) -> list[int]:
        """Forget a folder and its photos (its history remembers it was registered);
        returns the vector labels gone."""
        with self.transaction():
            labels = self.photos.delete(r["id"] for r in self.db.table("photos").rows_where(
                "folder_id = ?", [folder_id], select="id"))
            self.db.execute("UPDATE folder_history SET removed_at=? WHERE removed_at IS NULL "
                            "AND path=(SELECT path FROM folders WHERE id=?)",
                            [time.time(), folder_id])
            self.db.table("folders").delete_where("id = ?", [folder_id])
        return labels

    def registered_at(self, when: float) -> list[RegisteredFolder]:
        """The folders registered at time ``when`` (those removed since included)."""
        return [RegisteredFolder(*r) for r in self.db.execute(
            "SELECT path, real, added_at, removed_at FROM folder_history WHERE added_at <= ? "
            "AND (removed_at IS NULL OR removed_at >= ?) ORDER BY id", [when, when])]

    def set_unreadable(self, folder_id: int, places: dict[str, str]) -> None:
        """What could not be read in a folder at its scan just now (path -> why): it
        replaces what was recorded for that folder before (a place that reads again is
        dropped; one still unreadable keeps the time it was first seen)."""
        with self.transaction():
            now = time.time()
            kept = {r["path"]: r["since"] for r in self.db.table("unreadable").rows_where(
                "folder_id = ?", [folder_id])}
            self.db.table("unreadable").delete_where("folder_id = ?", [folder_id])
            for path, why in places.items():
                self.db.execute("INSERT OR REPLACE INTO unreadable(path, folder_id, reason, since) "
                                f"VALUES ({PATH_PARAM}, ?, ?, ?)",
                                [bind_path(path), folder_id, why, kept.get(path, now)])

    def unreadable(self) -> list[Unreadable]:
        """Every place that could not be read at its folder's last scan, by path."""
        return [Unreadable(*r) for r in self.db.execute(
            "SELECT path, folder_id, reason, since FROM unreadable ORDER BY path")]

    def set_online(self, folder_id: int, online: bool, scanned: bool = False) -> None:
        """Whether the folder is there; ``scanned``: it was just scanned (now)."""
        if scanned:
            self.db.execute("UPDATE folders SET online=?, last_scan=? WHERE id=?",
                            [int(online), time.time(), folder_id])
        else:
            self.db.execute("UPDATE folders SET online=? WHERE id=?", [int(online), folder_id])

    def photo_counts(self) -> dict[int, int]:
        """How many photos each folder holds, by folder id."""
        return {r["folder_id"]: r["n"] for r in
                self._rows("SELECT folder_id, count(*) AS n FROM photos GROUP BY folder_id")}
