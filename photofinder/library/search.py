"""Find similar through the door: query vectors, search with the user's marks,
evaluation."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess
from photofinder.work import scanner
from photofinder.work.indexer import Progress
from photofinder.library.errors import LibraryError, Match, normpath


class SearchMixin:
    # -- queries ------------------------------------------------------------------------
    def is_catalogued(self, path: str | os.PathLike) -> bool:
        return self.catalog.photos.by_path(normpath(path)) is not None

    def embed_file(self, path: str | os.PathLike) -> tuple[np.ndarray, str]:
        """Embed an outside image: (vector, content hash). Raises LibraryError for bad input."""
        try:
            decoded, digest, _ = imaging.load(path, need=preprocess.LONG_SIDE)
        except imaging.ImageError as e:
            raise LibraryError(f"{path}: {e}") from None
        return self.embedder.embed([preprocess.prepare(decoded.image)])[0], digest

    def query_vector(self, path: str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """The vector to search with for a file; reuses the stored one when it is catalogued
        and unchanged. Returns (vector, photo id or None)."""
        p = normpath(path)
        if not os.path.isfile(p):
            raise LibraryError(f"no such file: {p}")
        model_id = self.embedder.model_id  # a missing model is the first thing to say
        row = self.catalog.photos.by_path(p) or self.catalog.photos.by_path(os.path.realpath(p))
        if row and row.status == "indexed":
            st = os.stat(p)
            emb = self.catalog.embeddings.of_photo(row.id, model_id)
            if emb and st.st_size == row.size and st.st_mtime_ns == row.mtime_ns:
                return np.frombuffer(emb.vector, np.float16).astype(np.float32), row.id
        vec, _ = self.embed_file(p)
        return vec, row.id if row else None

    def query_vectors(self, path: str | os.PathLike) -> tuple[np.ndarray, int | None]:
        """The query for a file, (n, d): its vector, then (with the rotations option) the
        photo turned 90, 180 and 270 degrees, so a photo stored sideways finds its scene."""
        vec, own_id = self.query_vector(path)
        if not self._turned_views():
            return vec[None], own_id
        try:
            decoded, _, _ = imaging.load(normpath(path), need=preprocess.LONG_SIDE)
        except imaging.ImageError:  # a stored vector of a file unreadable now: search with it
            return vec[None], own_id
        return np.vstack([vec[None], self._embed_turned(decoded.image)]), own_id

    def _turned_views(self) -> bool:
        # turned views help plain vectors (holidays-dev +0.012 mAP) but not whitened ones
        # (-0.022 together): a whitened library queries with the photo as it is
        from photofinder.retrieval.projection import whitens

        return self.searcher().options.rotations and not whitens(self.index.projection)

    def _embed_turned(self, img) -> np.ndarray:
        from PIL import Image

        return self.embedder.embed([preprocess.prepare(img.transpose(t)) for t in
                                    (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180,
                                     Image.Transpose.ROTATE_270)])

    def region_query(self, path: str | os.PathLike, region: tuple[int, int, int, int]
                     ) -> tuple[np.ndarray, object, int | None]:
        """The query for a region (x, y, w, h in the picture's pixels after EXIF orientation):
        the crop's vectors (turned as ``query_vectors``), its local features, the photo's id."""
        from photofinder.dedup import features as F

        p = normpath(path)
        if not os.path.isfile(p):
            raise LibraryError(f"no such file: {p}")
        x, y, w, h = (int(v) for v in region)
        if w < 1 or h < 1 or x < 0 or y < 0:
            raise LibraryError(f"a region is X,Y,W,H with X, Y >= 0 and W, H >= 1, not "
                               f"{x},{y},{w},{h}")
        self.embedder.model_id  # a missing model is the first thing to say
        # decoded large enough that the crop keeps the local features' size (F.SIDE px on its
        # longer side) where the file has the pixels, at most 4096 px: a small part of a big
        # photo is decoded a second time, larger
        need = max(preprocess.LONG_SIDE, F.SIDE) * 4
        for _ in range(2):
            try:
                decoded, _, _ = imaging.load(p, need=need)
            except imaging.ImageError as e:
                raise LibraryError(f"{p}: {e}") from None
            if x + w > decoded.width or y + h > decoded.height:
                raise LibraryError(f"the region {x},{y},{w},{h} is outside the picture "
                                   f"({decoded.width} x {decoded.height} after EXIF "
                                   "orientation)")
            shown = max(decoded.image.size) / max(decoded.width, decoded.height)
            want = min(4096, max(decoded.width, decoded.height),
                       int(F.SIDE / max(w, h) * max(decoded.width, decoded.height)) + 1)
            if max(w, h) * shown >= F.SIDE or want <= max(decoded.image.size):
                break
            need = want
        img = decoded.image
        sx, sy = img.width / decoded.width, img.height / decoded.height
        crop = img.crop((round(x * sx), round(y * sy), max(round((x + w) * sx), round(x * sx) + 1),
                         max(round((y + h) * sy), round(y * sy) + 1)))
        vecs = self.embedder.embed([preprocess.prepare(crop)])
        if self._turned_views():
            vecs = np.vstack([vecs, self._embed_turned(crop)])
        row = self.catalog.photos.by_path(p) or self.catalog.photos.by_path(os.path.realpath(p))
        return vecs, F.from_image(np.asarray(crop.convert("L"))), row.id if row else None

    def similar(self, path: str | os.PathLike, top: int = 20,
                region: tuple[int, int, int, int] | None = None) -> list[Match]:
        """The photos most like ``path`` (or, with ``region``, like that part of it: X, Y, W, H
        in its pixels after EXIF orientation), best first. The score is the final one: the
        cosine, lifted toward 1 for the best results whose local features agree with the
        query's (retrieval/rerank.py)."""
        exclude = {normpath(path), os.path.realpath(path)}
        if region is not None:
            vecs, feats, own_id = self.region_query(path, region)
            return self.similar_to_vector(vecs, top, exclude=exclude, exclude_id=own_id,
                                          query_features=feats)
        # the query's local features are decoded while its turned views are embedded
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self.query_features, path)
            vecs, own_id = self.query_vectors(path)
            feats = pending.result()
        fb = self._query_feedback(path)
        if not fb:
            return self.similar_to_vector(vecs, top, exclude=exclude, exclude_id=own_id,
                                          query_features=feats)
        from photofinder.retrieval import feedback

        # the user's marks on this query's results re-rank it at once (retrieval/feedback.py)
        got = self.similar_to_vector(feedback.adjust_query(vecs, fb), top, exclude=exclude,
                                     exclude_id=own_id, query_features=feats)
        return feedback.pin(got, self.catalog.photos.hashes([m.photo_id for m in got]), fb)

    def query_features(self, path: str | os.PathLike):
        """The local features of a query file (dedup/features.py), None when unreadable."""
        from photofinder.dedup import features as F

        return F.compute(normpath(path))

    def features_of(self, labels: list[int]) -> dict:
        """Re-ranking features of indexed photos by label (retrieval/rerank.py): the
        duplicates check's cached ones, else decoded small now; kept in memory."""
        from photofinder.retrieval.rerank import FeatureCache

        if getattr(self, "_features", None) is None:
            self._features = FeatureCache(self._load_features)
        return self._features(labels)

    def _load_features(self, labels: list[int]) -> dict:
        from photofinder.dedup import features as F

        rows = self.catalog.photos.by_labels(labels)
        blobs = self.catalog.dedup.features([r.hash for r in rows.values() if r.hash], F.VERSION)
        out, todo = {}, []
        for label in labels:
            row = rows.get(label)
            f = F.Features.from_blob(blobs[row.hash]) if row and row.hash in blobs else None
            if f is not None:
                out[label] = f
            elif row is not None:
                todo.append((label, row.path))
            else:
                out[label] = None
        out.update(F.compute_many(todo, workers=max(1, min(4, os.cpu_count() or 1))))
        return out

    def mark_result(self, query: str | os.PathLike, result: str | os.PathLike,
                    mark: str | None) -> None:
        """The user's verdict on a result of "Find similar": "similar", "not_similar", or None
        to forget it. Stored by content (a decision); it re-ranks that query at once and feeds
        the next ``train_projection``."""
        from photofinder.store.feedback import MARKS

        if mark is not None and mark not in MARKS:
            raise LibraryError(f"a mark is one of {', '.join(MARKS)}, not {mark!r}")
        hashes = []
        for p in (query, result):
            row = self.catalog.photos.by_path(normpath(p))
            if row is None or not row.hash:
                raise LibraryError(f"not an indexed photo of this library: {normpath(p)}")
            hashes.append(row.hash)
        self.lock()
        self.catalog.feedback.set_mark(hashes[0], hashes[1], mark)

    def _query_feedback(self, path: str | os.PathLike):
        from photofinder.retrieval.feedback import QueryFeedback

        row = self.catalog.photos.by_path(normpath(path))
        marked = self.catalog.feedback.marked_vectors(self.embedder.model_id, row.hash) \
            if row is not None and row.hash else []
        if not marked:
            return None
        sides = {m: [r.result_label for r in marked if r.mark == m and r.result_label]
                 for m in ("similar", "not_similar")}
        vecs = {m: self.stored_vectors(ls) if ls else np.empty((0, self.embedder.dim), np.float32)
                for m, ls in sides.items()}
        return QueryFeedback(vecs["similar"], vecs["not_similar"],
                             frozenset(r.result_hash for r in marked if r.mark == "similar"),
                             frozenset(r.result_hash for r in marked if r.mark == "not_similar"))

    def similar_to_vector(self, vec: np.ndarray, top: int = 20, exclude: set[str] = frozenset(),
                          exclude_id: int | None = None, query_features=None) -> list[Match]:
        """``vec``: a vector, or several views of one query (n, d) whose best score counts;
        ``query_features``: its local features, to re-rank the best by (rerank.py)."""
        from photofinder.retrieval.rerank import rerank

        if top <= 0:
            return []
        hits = self.searcher().rank(vec, top + 1 + len(exclude))
        rows = self.catalog.photos.by_labels([label for label, _ in hits])
        hits = [(label, score) for label, score in hits if label in rows
                and rows[label].id != exclude_id and rows[label].path not in exclude][:top]
        hits = rerank(query_features, hits, self.features_of)
        return [Match(rows[label].path, min(1.0, max(-1.0, score)), rows[label].id)
                for label, score in hits]

    # -- evaluation -----------------------------------------------------------------------
    def evaluate(self, folder: str | os.PathLike,
                 progress: Callable[[Progress], None] | None = None):
        """Index ``folder`` (one sub-folder per group) into this library and measure how
        "Find similar" ranks each photo's group-mates: a retrieval.evaluate.Report."""
        from photofinder.retrieval import evaluate as ev
        from photofinder.retrieval.rerank import TOP as RERANK_TOP

        root = normpath(folder)
        if not os.path.isdir(root):
            raise LibraryError(f"not a folder: {root}")
        if not any(root == f.path or root.startswith(f.path.rstrip(os.sep) + os.sep)
                   for f in self.folders()):
            self.add_folder(root)
        self.update(progress, duplicates=False)
        model = self.embedder.model_id

        def lookup(path: str) -> dict | None:
            row = self.catalog.photos.by_path(path)
            if row is None:
                return None
            if row.status == "failed":
                return {"error": row.error}
            emb = self.catalog.embeddings.of_photo(row.id, model)
            return {"label": emb.label} if emb else {"error": "not indexed yet"}

        try:
            plan = ev.plan(root, list(scanner.walk(root)), lookup)
        except ev.EvaluationError as e:
            raise LibraryError(str(e)) from None
        searcher = self.searcher()
        settings = {"model": model, "provider": self.embedder.provider,
                    "projection": self.projection_status()["version"],
                    "query_expansion": searcher.options.describe(),
                    "rotations": "4-rotation max" if self._turned_views() else "off",
                    "rerank": f"spatial verification of the top {RERANK_TOP} (ORB + RANSAC)"}

        from photofinder.retrieval.rerank import rerank

        def rank_query(q, k):
            hits = searcher.rank(self.query_vectors(q.path)[0], k, {q.label})
            return rerank(self.query_features(q.path), hits, self.features_of)

        return ev.run(plan, rank_query, len(self.index), settings)

    def stored_vectors(self, labels: list[int]) -> np.ndarray:
        """The catalogue's vectors for ``labels`` (float32 rows, in the order asked)."""
        got = dict(self.catalog.embeddings.vectors(labels))
        return np.stack([np.frombuffer(got[l], np.float16) for l in labels]).astype(np.float32)

    def searcher(self):
        """The "Find similar" pipeline over this library's index (retrieval.search)."""
        from photofinder.retrieval.search import DEFAULT, Searcher

        return Searcher(self.index, self.stored_vectors, DEFAULT)
