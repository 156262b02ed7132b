"""The indexing pipeline: pending photos -> parallel decode -> batched embed -> commit.

Decoding runs in a thread pool (Pillow releases the GIL while decoding; JPEGs decode in draft
mode at reduced scale) and stays a window ahead, so decoding batch k+1 overlaps inference on
batch k (onnxruntime releases the GIL too). Each batch is one catalogue transaction, and its
vectors go to the index right after, so a crash loses at most the batch in flight. The same
pass over the model gives each photo's top ImageNet classes, stored beside its vector (search
by words).

The duplicates check's local features (dedup/features.py: ORB keypoints and a small grey
picture, about 3 ms) are computed from the same decoded picture, and kept for the photos
that have a near neighbour once their batch is in the index (the photos that will be
duplicate candidates); a neighbour indexed before without them gets them then. So
``duplicates`` on an indexed library reads no file for them.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from photofinder.pixels import imaging
from photofinder.store.catalog import Catalog
from photofinder.dedup import features as dedup_features
from photofinder.dedup import signature
from photofinder.dedup.finder import DEFAULT_SENSITIVITY, thresholds
from photofinder.work.decodepool import DecodePool, DecodeTimeout
from photofinder.pixels.embedding import classes, preprocess
from photofinder.pixels.embedding.model import Embedder
from photofinder.identity import encode_vector
from photofinder.store.index import VectorIndex

# Batches of 8 run as fast as 16 on the CPU provider, and onnxruntime's arena for them
# holds half the memory (about 240 MB against 480 MB; benchmarks/indexer_memory.py).
BATCH = 8
DECODE_TIMEOUT = 60.0
NEAR_K = 8  # neighbours looked at for "will be a duplicate candidate"
VANISHED = "file vanished before it could be read"


@dataclass
class Progress:
    done: int
    total: int
    failed: int
    rate: float  # photos per second
    eta: float | None  # seconds
    current: str


@dataclass
class _Item:
    photo_id: int
    path: str
    array: np.ndarray | None = None
    meta: dict | None = None
    error: str | None = None
    features: bytes | None = None  # dedup features, kept if the photo has a near neighbour


def prepare(photo_id: int, path: str) -> _Item:
    """Worker: read, hash, decode, preprocess one file; never raises for bad input."""
    item = _Item(photo_id, path)
    try:
        st = os.stat(path)
        decoded, digest, size = imaging.load(path, need=preprocess.LONG_SIDE)
        item.array = preprocess.prepare(decoded.image)
        item.meta = {"hash": digest, "width": decoded.width, "height": decoded.height,
                     "orientation": decoded.orientation, "taken_at": decoded.taken_at,
                     "format": decoded.format, "size": size, "mtime_ns": st.st_mtime_ns,
                     "signature": signature.compute(decoded.image),  # duplicates: < 1 ms
                     "colour": signature.colourfulness(decoded.image)}
        item.features = _features(decoded)
    except imaging.ImageError as e:
        item.error = str(e)
    except FileNotFoundError:
        item.error = VANISHED
    except Exception as e:  # a decoder bug must not stop the run: record it for this file
        item.error = f"could not decode: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}"
    if item.error and not os.path.lexists(path):
        item.error = VANISHED
    return item


def _features(decoded: imaging.Decoded) -> bytes | None:
    """The duplicates features of a decoded picture, when it was decoded at least as large as
    they need (else they are made from the file if the photo becomes a candidate)."""
    w, h = decoded.image.size
    full = (decoded.width or w) * (decoded.height or h)
    if max(w, h) < dedup_features.SIDE and w * h < full:
        return None
    try:
        return dedup_features.from_image(np.asarray(decoded.image.convert("RGB")), full).to_blob()
    except Exception:  # noqa: BLE001 - features are an optimisation: the check makes them later
        return None


class Indexer:
    def __init__(self, catalog: Catalog, index: VectorIndex, embedder: Embedder,
                 workers: int | None = None, batch: int = BATCH, timeout: float = DECODE_TIMEOUT):
        self.catalog = catalog
        self.index = index
        self.embedder = embedder
        self.workers = workers or max(2, os.cpu_count() or 2)
        self.batch = batch
        self.timeout = timeout
        self.cancelled = threading.Event()
        self.running = threading.Event()
        self.running.set()

    def pause(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def cancel(self) -> None:
        self.cancelled.set()
        self.running.set()

    def run(self, progress: Callable[[Progress], None] | None = None,
            save_every: float = 30.0) -> Progress:
        """Index every pending photo; returns the final progress."""
        todo = [(r.id, r.path) for r in self.catalog.photos.pending()]
        total, done, failed = len(todo), 0, 0
        start = last_save = time.monotonic()
        report = Progress(0, total, 0, 0.0, None, "")
        if not todo:
            return report
        window = self.batch * 3  # decoding runs up to three batches ahead of inference
        pool = DecodePool(self.workers, self.timeout)
        try:
            queue: deque = deque()
            it = iter(todo)

            def refill():
                while len(queue) < window:
                    nxt = next(it, None)
                    if nxt is None:
                        return
                    queue.append((nxt, pool.submit(prepare, *nxt)))

            refill()
            while queue and not self.cancelled.is_set():
                self.running.wait()
                if self.cancelled.is_set():
                    break
                items = []
                while queue and len(items) < self.batch:
                    (photo_id, path), job = queue.popleft()
                    try:
                        items.append(pool.result(job))
                    except DecodeTimeout as e:
                        items.append(_Item(photo_id, path, error=str(e)))
                    refill()
                failed += self._commit(items)
                done += len(items)
                elapsed = max(time.monotonic() - start, 1e-6)
                rate = done / elapsed
                report = Progress(done, total, failed, rate,
                                  (total - done) / rate if rate > 0 else None, items[-1].path)
                if progress:
                    progress(report)
                if time.monotonic() - last_save > save_every:
                    self.index.save()
                    last_save = time.monotonic()
            for _, job in queue:
                job.future.cancel()
        finally:
            pool.close()
        self.index.save()
        return report

    def _commit(self, items: list[_Item]) -> int:
        # (an item whose decoding failed after its array was made is a failure, not a result)
        good = [(it, it.array, it.meta) for it in items
                if it.error is None and it.array is not None and it.meta is not None]
        vectors, tags = None, [None] * len(good)
        if good:  # what the index holds is exactly what the catalogue stores (float16)
            vectors, probs = self.embedder.embed_and_classify([array for _, array, _ in good])
            vectors = vectors.astype(np.float16)
            if probs is not None:  # the top classes, from the same pass (search by words)
                top, p = classes.top_classes(probs)
                tags = [classes.encode_tags(c, q, classes.TAGS_FROM_MODEL) for c, q in zip(top, p)]
        labels, added, removed, failed = [], [], [], 0
        kept: list[tuple[_Item, int, str]] = []  # (item, label, hash): now in the index
        with self.catalog.transaction():
            for it in items:
                if it.error == VANISHED:  # gone between scan and decode: not a photo any more
                    removed += self.catalog.photos.delete([it.photo_id])
                elif it.error is not None:
                    old = self.catalog.photos.record_failure(it.photo_id, it.error)
                    failed += 1
                    if old:
                        removed.append(old)
            for (it, _, meta), vec, tag in zip(good, vectors if vectors is not None else [], tags):
                label, old = self.catalog.photos.record_result(
                    it.photo_id, meta, self.embedder.model_id, encode_vector(vec), tag)
                if label is not None:
                    labels.append(label)
                    added.append(vec)
                    kept.append((it, label, meta["hash"]))
                if old:
                    removed.append(old)
        self.index.remove(removed)
        if labels:
            self.index.add(labels, np.asarray(added, dtype=np.float32))
            self._keep_candidate_features(kept, np.asarray(added, dtype=np.float32))
        return failed

    def _keep_candidate_features(self, kept: list[tuple[_Item, int, str]], vectors: np.ndarray
                                 ) -> None:
        """Store the features of this batch's photos that have a near neighbour in the index,
        and make them for such neighbours indexed earlier without them (read once, now)."""
        near = thresholds(DEFAULT_SENSITIVITY)["cosine"]
        found, sims = self.index.search_many(vectors, NEAR_K + 1, 4 * (NEAR_K + 1))
        keep: dict[str, bytes] = {}
        others: set[int] = set()
        own = {label for _, label, _ in kept}
        for (it, label, hash_), row, row_sims in zip(kept, found, sims):
            close = [int(lab) for lab, s in zip(row, row_sims) if s >= near and int(lab) != label]
            if close and it.features is not None:
                keep[hash_] = it.features
            others.update(lab for lab in close if lab not in own)
            if close and it.features is None:
                others.add(label)
        if others:
            photos = self.catalog.photos.by_labels(sorted(others))
            hashes = [p.hash for p in photos.values() if p.hash and p.hash not in keep]
            have = set(self.catalog.dedup.features(hashes, dedup_features.VERSION))
            for p in photos.values():
                if p.hash and p.hash not in keep and p.hash not in have:
                    f = dedup_features.compute(p.path)
                    if f is not None:
                        keep[p.hash] = f.to_blob()
        if keep:
            self.catalog.dedup.set_features(keep, dedup_features.VERSION)
