"""Find similar: the query (a photo, a part of one), its place in the vector space, the best
photos by cosine, re-ranked by local features and by the user's marks; and its evaluation."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

from photofinder.dedup import features as F
from photofinder.identity import decode_vector
from photofinder.library.errors import LibraryError
from photofinder.library.records import Match, normpath
from photofinder.library.space import VectorSpace
from photofinder.library.writer import Writer
from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess
from photofinder.retrieval import evaluate as ev
from photofinder.retrieval import feedback
from photofinder.retrieval.rerank import TOP as RERANK_TOP
from photofinder.retrieval.search import DEFAULT
from photofinder.store.catalog import Catalog
from photofinder.store.feedback import MARKS, NOT_SIMILAR, SIMILAR
from photofinder.work import scanner

_TURNS = (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270)


@dataclass
class Query:
    """What a search looks with: the vectors of the photo (or of a part of it) and of its
    turned views, its local features, its own catalogue entry (left out of the results)
    and the user's marks on its earlier results."""
    path: str
    vectors: np.ndarray                      # (n, d) raw vectors: the photo, then turned views
    features: F.Features | None              # to re-rank the best results by
    own_id: int | None = None
    marks: feedback.QueryFeedback | None = None


class Search:
    def __init__(self, catalog: Catalog, space: VectorSpace, writer: Writer):
        self.catalog = catalog
        self.space = space
        self.writer = writer  # marks are written

    def similar(self, path: str | os.PathLike, top: int = 20,
                region: tuple[int, int, int, int] | None = None) -> list[Match]:
        """The photos most like ``path`` (or, with ``region``, like that part of it: X, Y, W, H
        in its pixels after EXIF orientation), best first. The score is the final one: the
        cosine, lifted toward 1 for the best results whose local features agree with the
        query's (retrieval/rerank.py)."""
        q = self.region_query(path, region) if region is not None else self.query(path)
        return self.matches(q, top)

    def matches(self, q: Query, top: int, rerank: bool = True) -> list[Match]:
        """The ``top`` best photos for a query, best first (``rerank``: by local features too)."""
        if top <= 0:
            return []
        vectors = feedback.adjust_query(q.vectors, q.marks) if q.marks else q.vectors
        exclude = {q.path, os.path.realpath(q.path)}  # the query itself, by any name
        hits = self.space.rank(vectors, top + 1 + len(exclude))        # HNSW, projected space
        rows = self.catalog.photos.by_labels([label for label, _ in hits])
        hits = [(label, score) for label, score in hits if label in rows
                and rows[label].id != q.own_id and rows[label].path not in exclude][:top]
        if rerank:
            hits = self.space.rerank(q.features, hits)                 # local features agree
        got = [Match(rows[label].path, min(1.0, max(-1.0, score)), rows[label].id)
               for label, score in hits]
        if not q.marks:
            return got
        return feedback.pin(got, self.catalog.photos.hashes([m.photo_id for m in got]), q.marks)

    def is_catalogued(self, path: str | os.PathLike) -> bool:
        return self.catalog.photos.by_path(normpath(path)) is not None

    # -- the query ------------------------------------------------------------------------------
    def query(self, path: str | os.PathLike) -> Query:
        """A photo as a query: its stored vector when it is catalogued and unchanged, else
        embedded now; the turned views; its local features (on a thread, beside the turned
        views). A catalogued photo is decoded once, at the local features' size, for both."""
        p = normpath(path)
        if not os.path.isfile(p):
            raise LibraryError(f"no such file: {p}")
        stored, own_id = self._stored(p)
        if stored is None:
            return self._outside_query(p, own_id)
        try:
            decoded = imaging.decode(imaging.read_bytes(p), need=F.SIDE, name=p)
        except (imaging.ImageError, OSError):  # a stored vector of a file unreadable now
            return Query(p, stored[None], None, own_id, self._marks(p))
        with ThreadPoolExecutor(1) as pool:  # ORB and OpenCV let go of the GIL
            # exactly F.compute's features, from the one decode
            feats = pool.submit(F.from_image, np.asarray(decoded.image.convert("RGB")),
                                (decoded.width or 0) * (decoded.height or 0))
            vectors = stored[None]
            if self.space.turned_views():
                vectors = np.vstack([vectors, self._turned(decoded.image)])
            return Query(p, vectors, feats.result(), own_id, self._marks(p))

    def _outside_query(self, p: str, own_id: int | None) -> Query:
        """A photo not catalogued (or changed since): embedded now, decoded as the indexer
        does, so an outside copy of a catalogued photo gets its vector."""
        with ThreadPoolExecutor(1) as pool:
            feats = pool.submit(F.compute, p)
            try:
                decoded, _, _ = imaging.load(p, need=preprocess.LONG_SIDE)
            except imaging.ImageError as e:
                raise LibraryError(f"{p}: {e}") from None
            vectors = self.space.embedder.embed([preprocess.prepare(decoded.image)])
            if self.space.turned_views():
                vectors = np.vstack([vectors, self._turned(decoded.image)])
            return Query(p, vectors, feats.result(), own_id, self._marks(p))

    def region_query(self, path: str | os.PathLike, region: tuple[int, int, int, int]) -> Query:
        """A part of a photo as a query (x, y, w, h in the picture's pixels after EXIF
        orientation): the crop's vectors (turned as ``query``), its local features."""
        p = normpath(path)
        if not os.path.isfile(p):
            raise LibraryError(f"no such file: {p}")
        x, y, w, h = (int(v) for v in region)
        if w < 1 or h < 1 or x < 0 or y < 0:
            raise LibraryError(f"a region is X,Y,W,H with X, Y >= 0 and W, H >= 1, not "
                               f"{x},{y},{w},{h}")
        embedder = self.space.embedder  # a missing model is the first thing to say
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
        vecs = embedder.embed([preprocess.prepare(crop)])
        if self.space.turned_views():
            vecs = np.vstack([vecs, self._turned(crop)])
        row = self.catalog.photos.by_path(p) or self.catalog.photos.by_path(os.path.realpath(p))
        return Query(p, vecs, F.from_image(np.asarray(crop.convert("L"))), row.id if row else None)

    def _stored(self, p: str) -> tuple[np.ndarray | None, int | None]:
        """The photo's stored raw vector when it is catalogued and unchanged (else None), and
        its id when catalogued."""
        model_id = self.space.embedder.model_id  # a missing model is the first thing to say
        row = self.catalog.photos.by_path(p) or self.catalog.photos.by_path(os.path.realpath(p))
        if row and row.status == "indexed":
            st = os.stat(p)
            stored = self.catalog.embeddings.of_photo(row.id, model_id)
            if stored and st.st_size == row.size and st.st_mtime_ns == row.mtime_ns:
                return decode_vector(stored.vector), row.id
        return None, row.id if row else None

    def _turned(self, img) -> np.ndarray:
        return self.space.embedder.embed([preprocess.prepare(img.transpose(t)) for t in _TURNS])

    # -- the user's marks -----------------------------------------------------------------------
    def mark_result(self, query: str | os.PathLike, result: str | os.PathLike,
                    mark: str | None) -> None:
        """The user's verdict on a result of "Find similar": "similar", "not_similar", or None
        to forget it. Stored by content (a decision); it re-ranks that query at once and feeds
        the next ``Projections.train``."""
        if mark is not None and mark not in MARKS:
            raise LibraryError(f"a mark is one of {', '.join(MARKS)}, not {mark!r}")
        hashes = []
        for p in (query, result):
            row = self.catalog.photos.by_path(normpath(p))
            if row is None or not row.hash:
                raise LibraryError(f"not an indexed photo of this library: {normpath(p)}")
            hashes.append(row.hash)
        with self.writer.held():
            self.catalog.feedback.set_mark(hashes[0], hashes[1], mark)

    def _marks(self, path: str) -> feedback.QueryFeedback | None:
        """The user's marks on this query's results, with the marked photos' vectors."""
        row = self.catalog.photos.by_path(path)
        marked = self.catalog.feedback.marked_vectors(self.space.embedder.model_id, row.hash) \
            if row is not None and row.hash else []
        if not marked:
            return None
        sides = {m: [r.result_label for r in marked if r.mark == m and r.result_label]
                 for m in MARKS}
        vecs = {m: self.space.stored_vectors(ls) if ls else
                np.empty((0, self.space.embedder.dim), np.float32) for m, ls in sides.items()}
        return feedback.QueryFeedback(
            vecs[SIMILAR], vecs[NOT_SIMILAR],
            frozenset(r.result_hash for r in marked if r.mark == SIMILAR),
            frozenset(r.result_hash for r in marked if r.mark == NOT_SIMILAR))

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, root: str, projection: str) -> ev.Report:
        """How "Find similar" ranks each photo's group-mates in ``root`` (one sub-folder per
        group, indexed in this library): a retrieval.evaluate.Report. ``projection``: the
        version searched in, for the report."""
        model = self.space.embedder.model_id

        def lookup(path: str) -> dict | None:
            row = self.catalog.photos.by_path(path)
            if row is None:
                return None
            if row.status == "failed":
                return {"error": row.error}
            stored = self.catalog.embeddings.of_photo(row.id, model)
            return {"label": stored.label} if stored else {"error": "not indexed yet"}

        plan = ev.plan(root, list(scanner.walk(root)), lookup)
        settings = {"model": model, "provider": self.space.embedder.provider,
                    "projection": projection, "query_expansion": DEFAULT.describe(),
                    "augmentation": DEFAULT.describe_dba(),
                    "rotations": "4-rotation max" if self.space.turned_views() else "off",
                    "rerank": f"spatial verification of the top {RERANK_TOP} (ORB + RANSAC)"}

        def rank_query(q, k):
            query = self.query(q.path)
            return self.space.rerank(query.features, self.space.rank(query.vectors, k, {q.label}))

        return ev.run(plan, rank_query, len(self.space.index), settings)
