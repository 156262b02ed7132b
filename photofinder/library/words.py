"""Search by words: the library's tags in memory, the searcher over them, tags for photos
indexed before the model had its class output, words with "similar to this photo", and the
word measures of ``evaluate --words``.

``Words`` holds the catalogue, the vector space (model, index, stored vectors), the writer
(tags are written) and "Find similar" (narrowed by words); it calls nothing above it.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from photofinder.identity import decode_matrix
from photofinder.library.errors import LibraryError
from photofinder.library.records import Match, normpath
from photofinder.library.search import Search
from photofinder.library.space import VectorSpace
from photofinder.library.writer import Writer
from photofinder.pixels.embedding import classes as cls
from photofinder.retrieval import words
from photofinder.retrieval.metrics import average_precision, precision_at
from photofinder.store.catalog import Catalog

REBUILD = ("search by words needs the model's class output, which this model was built "
           "without: run `photofinder model build` (no photo is embedded again)")
BACKFILL_CHUNK = 2048


class TagCache:
    """Every tagged photo's top classes, by label, caught up with the catalogue by the labels
    added since (a full reload when older rows changed: a backfill, photos removed)."""

    def __init__(self):
        self.labels = np.zeros(0, np.int64)
        self.classes = np.zeros((0, cls.TOP_K), np.int16)
        self.probs = np.zeros((0, cls.TOP_K), np.float32)
        self.version: int | None = None

    def catch_up(self, catalog: Catalog, model: str) -> None:
        version = catalog.data_version()
        if version == self.version:
            return
        after = int(self.labels[-1]) if len(self.labels) else -1
        self._append(catalog.embeddings.tags_after(model, after))
        if catalog.embeddings.tagged_count(model) != len(self.labels):
            self.__init__()
            self._append(catalog.embeddings.tags_after(model, -1))
        self.version = version

    def _append(self, rows: list[tuple[int, bytes]]) -> None:
        if not rows:
            return
        c, p, _ = cls.decode_tags([blob for _, blob in rows])
        self.labels = np.concatenate([self.labels, np.array([r[0] for r in rows], np.int64)])
        self.classes = np.vstack([self.classes, c])
        self.probs = np.vstack([self.probs, p])


class Words:
    def __init__(self, catalog: Catalog, space: VectorSpace, writer: Writer, search: Search):
        self.catalog = catalog
        self.space = space
        self.writer = writer  # the tags of photos indexed before are stored
        self.search = search  # "similar to this photo", narrowed by words
        self.cache = TagCache()
        self._tags: words.Tags | None = None
        self._tags_key: tuple | None = None
        self._searcher: words.WordSearcher | None = None

    def _head(self) -> tuple[np.ndarray, np.ndarray]:
        emb = self.space.embedder
        head = emb.head()
        if not emb.has_classes or head is None:
            raise LibraryError(REBUILD)
        return head

    def tags(self) -> words.Tags:
        """The tags of every photo in the index: the stored ones, and for photos without
        (indexed before the class output; a read-only library) their classes from the
        stored vector, in memory."""
        head = self._head()
        self.cache.catch_up(self.catalog, self.space.embedder.model_id)
        live = self.space.index.live
        # the same tags while neither the catalogue nor the index changed (a search at 100k
        # photos spent a third of its time here)
        key = (self.cache.version, len(self.cache.labels), len(live), sum(live))
        if self._tags is not None and self._tags_key == key:
            return self._tags
        live_labels = np.fromiter(live, np.int64, len(live))
        keep = np.isin(self.cache.labels, live_labels)
        labels, c, p = self.cache.labels[keep], self.cache.classes[keep], self.cache.probs[keep]
        missing = np.setdiff1d(live_labels, labels).tolist()
        if missing:
            mc, mp = cls.top_classes(cls.probs_from_embeddings(
                self.space.stored_vectors(missing), head))
            labels = np.concatenate([labels, np.array(missing, np.int64)])
            c, p = np.vstack([c, mc]), np.vstack([p, mp])
        self._tags, self._tags_key = words.Tags(labels, c, p), key
        return self._tags

    def searcher(self) -> words.WordSearcher:
        tags = self.tags()
        if self._searcher is None or self._searcher.tags is not tags:  # else the same one
            self._searcher = words.WordSearcher(
                words.Vocabulary.shipped(), tags,
                lambda labels: self.space.stored_vectors(labels),
                lambda vector, k: self.space.index.search(vector, k),
                self.space.embedder.head())
        return self._searcher

    def find(self, query: str, top: int = 20) -> list[Match]:
        """Photos that show what ``query`` names ("dog", "beach at sunset"), best first; a
        word photofinder does not know is a WordError naming near words."""
        self.space.catch_up()
        hits = self.searcher().rank(query, top)
        rows = self.catalog.photos.by_labels([label for label, _ in hits])
        return [Match(rows[label].path, round(score, 6), rows[label].id)
                for label, score in hits if label in rows]

    def similar(self, path: str | os.PathLike, query: str, top: int = 20) -> list[Match]:
        """"Similar to this photo" narrowed by words: the photos most like ``path`` scored
        again by how well they show ``query`` too (the geometric mean of both scores)."""
        pool = self.search.similar(path, top=max(5 * top, 200))
        by_id = self.catalog.embeddings.labels_by_photo([m.photo_id for m in pool])
        pool = [m for m in pool if m.photo_id in by_id]
        if not pool:
            return []
        scores = self.searcher().scores(query, list(by_id.values()))
        top_sim = max(m.score for m in pool)
        out = []
        for m in pool:
            w = max(scores.get(by_id[m.photo_id], 0.0), 1e-3)
            s = max(m.score / top_sim if top_sim > 0 else 0.0, 1e-3)
            out.append(Match(m.path, round(float(np.sqrt(w * s)), 6), m.photo_id, m.mark))
        return sorted(out, key=lambda m: -m.score)[:top]

    def photo_tags(self, path: str | os.PathLike, n: int = 5) -> list[tuple[str, float]]:
        """What a catalogued photo looks like to the model: its top classes by name with their
        probability (shown in the preview); [] for a photo not indexed."""
        row = self.catalog.photos.by_path(normpath(path))
        emb = self.catalog.embeddings.of_photo(row.id, self.space.embedder.model_id) \
            if row else None
        if emb is None:
            return []
        head = self._head()
        blob = self.catalog.embeddings.tags_of([emb.label]).get(emb.label)
        if blob is not None:
            c, p, _ = cls.decode_tags([blob])
        else:
            c, p = cls.top_classes(cls.probs_from_embeddings(
                self.space.stored_vectors([emb.label]), head))
        names = words.Vocabulary.shipped().class_names()
        return [(names[int(k)], round(float(q), 3)) for k, q in zip(c[0][:n], p[0][:n])
                if q > 0]

    def status(self) -> dict:
        """Whether the model can (its class output), and how many photos have their tags
        stored (the others get them from their vector)."""
        emb = self.space.embedder
        return {"ready": bool(emb.has_classes and emb.head() is not None),
                "tagged": self.catalog.embeddings.tagged_count(emb.model_id),
                "untagged": self.catalog.embeddings.untagged_count(emb.model_id)}

    def backfill(self, progress: Callable[[int, int], None] | None = None,
                 stop: Callable[[], bool] = lambda: False) -> int:
        """Store the tags of the photos indexed before the model had its class output, from
        their stored vectors (no photo is read again), a chunk a transaction; returns how
        many (indexing runs it as it ends)."""
        emb = self.space.embedder
        head = emb.head()
        if not emb.has_classes or head is None:
            return 0
        model = emb.model_id
        with self.writer.held():
            total = self.catalog.embeddings.untagged_count(model)
            done = 0
            while done < total and not stop():
                rows = self.catalog.embeddings.untagged(model, BACKFILL_CHUNK)
                if not rows:
                    break
                vecs = decode_matrix(v for _, v in rows)
                top, p = cls.top_classes(cls.probs_from_embeddings(vecs, head))
                self.catalog.embeddings.set_tags({
                    label: cls.encode_tags(c, q, cls.TAGS_FROM_EMBEDDING)
                    for (label, _), c, q in zip(rows, top, p)})
                done += len(rows)
                if progress:
                    progress(done, total)
        return done

    def evaluate(self, folder: str | os.PathLike, labels: dict[str, list[str]]) -> dict:
        """``evaluate --words``: the word measures of ``labels`` (paths relative to
        ``folder``), ranked over the whole library (photos outside ``folder`` are
        distractors)."""
        root = normpath(folder)
        n = len(self.space.index)
        indexed = {p.path for p in
                   self.catalog.photos.by_labels(sorted(self.space.index.live)).values()}
        return evaluate_words(lambda w: [m.path for m in self.find(w, n)], root, labels,
                              indexed)


def evaluate_words(ranked: Callable[[str], list[str]], root: str,
                   labels: dict[str, list[str]], indexed: set[str]) -> dict:
    """The word measures of ``evaluate --words``: for each word of ``labels`` (paths relative
    to ``root``), the AP and P@10 of ``ranked(word)`` (absolute paths, best first, the whole
    library); then their means. A labelled photo that is not in the library is an error."""
    out: dict[str, dict[str, float]] = {}
    missing = sorted({p for ps in labels.values() for p in ps
                      if normpath(os.path.join(root, p)) not in indexed})
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise LibraryError(f"the word labels name a photo that is not indexed in {root}: "
                           f"{missing[0]}{more}")
    for word, rel in labels.items():
        if not rel:
            raise LibraryError(f"the word {word!r} has no photo in the labels")
        relevant = {normpath(os.path.join(root, p)) for p in rel}
        hits = [p in relevant for p in ranked(word)]
        out[word] = {"ap": round(average_precision(hits, len(relevant)), 4),
                     "p_at_10": round(precision_at(hits, 10), 4)}
    return {"words": out,
            "words_map": round(float(np.mean([v["ap"] for v in out.values()])), 4),
            "words_p_at_10": round(float(np.mean([v["p_at_10"] for v in out.values()])), 4)}
