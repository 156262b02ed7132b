"""Embeddings: each indexed photo's vector (float16 bytes) under the model that made it. The
row id is the vector's label in the HNSW index (store/index.py), which is derived from here."""

from __future__ import annotations

from typing import Iterator

from photofinder.store.records import INDEXED, IndexedItem, StoredVector
from photofinder.store.sql import Repository, chunks, marks


class Embeddings(Repository):
    def labels(self, model: str) -> list[int]:
        """Every label of this model: read as plain tuples (opening the index reads them all;
        rows_where's one dict a row took 177 of a cold right-click's 540 ms at 100k photos)."""
        return [r[0] for r in self.db.execute("SELECT id FROM embeddings WHERE model = ?",
                                              [model])]

    def vectors(self, labels: list[int]) -> Iterator[tuple[int, bytes]]:
        """(label, float16 bytes) of these labels (in no particular order)."""
        for chunk in chunks(list(labels)):
            yield from self.db.execute(
                f"SELECT id, vector FROM embeddings WHERE id IN ({marks(len(chunk))})", chunk)

    def of_photo(self, photo_id: int, model: str) -> StoredVector | None:
        for r in self.db.table("embeddings").rows_where("photo_id = ? AND model = ?", [photo_id, model],
                                                  select="id, vector"):
            return StoredVector(r["id"], r["vector"])
        return None

    def count(self, model: str) -> int:
        return self.db.table("embeddings").count_where("model = ?", [model])

    def sample(self, model: str, n: int) -> list[bytes]:
        """Up to ``n`` stored vectors of ``model`` drawn at random (to fit a projection)."""
        return [r["vector"] for r in self.db.table("embeddings").rows_where(
            "model = ?", [model], select="vector", order_by="random()", limit=n)]

    def items(self, model: str) -> list[IndexedItem]:
        """Every indexed photo with a vector of ``model`` (to learn from, to map)."""
        return [IndexedItem(*r) for r in self.db.execute(
            "SELECT e.id, p.id, p.path, p.hash FROM embeddings e JOIN photos p "
            "ON p.id = e.photo_id WHERE e.model = ? AND p.status = ? ORDER BY e.id",
            [model, INDEXED])]

    def labels_of_photos(self, photo_ids: list[int]) -> list[int]:
        return [r["id"] for r in self.db.table("embeddings").rows_where(
            f"photo_id IN ({marks(len(photo_ids))})", photo_ids, select="id")]

    def labels_by_photo(self, photo_ids: list[int]) -> dict[int, int]:
        """{photo id: label} of these photos that have a vector."""
        out: dict[int, int] = {}
        for chunk in chunks(list(photo_ids)):
            out.update((r["photo_id"], r["id"]) for r in self.db.table("embeddings").rows_where(
                f"photo_id IN ({marks(len(chunk))})", chunk, select="id, photo_id"))
        return out

    # -- top classes (search by words) ---------------------------------------------------------
    def tags_after(self, model: str, after: int) -> list[tuple[int, bytes]]:
        """(label, classes) of the vectors of ``model`` with a label above ``after`` that
        have their classes, by label."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT id, classes FROM embeddings WHERE model = ? AND id > ? AND classes IS NOT "
            "NULL ORDER BY id", [model, after])]

    def tags_of(self, labels: list[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for chunk in chunks(list(labels)):
            out.update((r[0], r[1]) for r in self.db.execute(
                f"SELECT id, classes FROM embeddings WHERE id IN ({marks(len(chunk))}) "
                "AND classes IS NOT NULL", chunk))
        return out

    def tagged_count(self, model: str) -> int:
        return self.db.table("embeddings").count_where("model = ? AND classes IS NOT NULL", [model])

    def untagged(self, model: str, limit: int) -> list[tuple[int, bytes]]:
        """(label, vector) of up to ``limit`` vectors of ``model`` without their classes."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT id, vector FROM embeddings WHERE model = ? AND classes IS NULL ORDER BY id "
            "LIMIT ?", [model, limit])]

    def untagged_count(self, model: str) -> int:
        return self.db.table("embeddings").count_where("model = ? AND classes IS NULL", [model])

    def set_tags(self, tags: dict[int, bytes]) -> None:
        """Store the classes of these labels (one transaction)."""
        with self.transaction():
            self.db.conn.executemany("UPDATE embeddings SET classes = ? WHERE id = ?",
                                     [(blob, label) for label, blob in tags.items()])

    # -- written with the photo's row (photos.Photos.record_result) ---------------------------
    def add(self, photo_id: int, model: str, vector: bytes, classes: bytes | None = None) -> int:
        """Store a photo's vector (and its top classes, when the model gave them); returns
        its label."""
        table = self.db.table("embeddings").insert(
            {"photo_id": photo_id, "model": model, "vector": vector, "classes": classes})
        assert table.last_rowid is not None  # set by every insert
        return table.last_rowid

    def drop(self, photo_id: int) -> int | None:
        """Forget a photo's vector; returns the label it had, if any."""
        label = next((r["id"] for r in self.db.table("embeddings").rows_where(
            "photo_id = ?", [photo_id], select="id")), None)
        if label is not None:
            self.db.table("embeddings").delete_where("id = ?", [label])
        return label
