"""Candidate pairs for the strict check, never all against all, and for new photos only
when the others were searched before.

- CNN: a range search in the HNSW index (cosine >= the sensitivity's threshold) for each
  photo still to search (clustering.cnn_pairs: batched kNN that widens while its last hit is
  above the threshold). With a projected graph, the hits are re-scored with the raw vectors,
  each read from the catalogue once a run (store.index.RawVectors).
- Pixel signatures: rotated/mirrored copies by hashing the signatures' eight dihedral sign
  hashes (clustering.dihedral_pairs: vectorised multi-index hashing), since the CNN embedding
  is not rotation-invariant. It runs in a thread beside the CNN search, reading the
  signatures on a connection of its own (on this one inside a write transaction).
- Grey copies: a photo without colour (signature.colourfulness, kept at index time) also
  pairs with its nearest photo in colour a little below the CNN threshold (the same
  search). It is the grey photo's search that finds it: a colour photo arriving after its
  grey copy does not look for it.
- Near misses: a photo with no other photo at or above the CNN threshold also pairs with
  its nearest photo from the same low cosine up (``grey_cosine``; the same search). A heavy
  edit (a sticker, noise with black and white, a frame with a turn) pulls a copy away from
  its original in the CNN space, but the original often stays its nearest: on the issue-20
  set it was the nearest of 18 of the 50 copies (not thumbnails) that met no file of their
  own source (81 more candidate pairs of 15,967; recall .8446 -> .8569, look-alikes in copy
  groups as before). One strict check a lonely photo at most.
- Near hits that look alike in pixels: among each photo's first CNN hits (the search's
  first ``NEAR_K``, asked for anyway), one below the threshold, from ``near_cosine`` up, is a
  pair when the two signatures' hashes are within ``NEAR_BITS`` in some orientation, as they
  are or with flat frames/borders/letterbox bars stripped (signature.trimmed). An overlay, a
  frame or heavy noise moves a copy away in the CNN space but leaves the picture's coarse
  layout where it was. On the issue-20 set, tuned with the overlay family held out.
- A mirror hint per pair (vectorised over all pairs): does B's signature, mirrored, agree
  with A's better than as it is? Local features are not mirror-invariant: verify.py tries
  the mirror first then.

A pair is keyed by the two content hashes, smaller first (byte-identical files are one node).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import logging
from typing import Callable

import numpy as np

from photofinder.dedup import clustering
from photofinder.dedup import signature as S
from photofinder.store.index import RawVectors, nearest

log = logging.getLogger(__name__)
# A grey copy of a colour photo loses more to the CNN than other edits: its cosine to the
# original fell to 0.55-0.72 for 24 of the 108 grey + crop copies of
# benchmarks/duplicates_quality.py, while grey photos crowd each other. So a photo without
# colour also pairs with its nearest photo in colour (among the search's hits) from
# finder.thresholds' "grey_cosine" up: at most one more pair a grey photo.
GREY_K = 1
# near hits (see the module docstring): the first round of clustering.cnn_pairs asks for this
# many hits a photo; those below the threshold are pairs when their hashes agree this well
NEAR_K = 16
NEAR_BITS = 8
# coarse look-alikes (signature.coarse): each photo pairs with its COARSE_K most correlated
# others from COARSE_CORR up, whatever the CNN says (set on the issue-20 set: see finder.SEARCH)
COARSE_K = 2
COARSE_CORR = 0.9


@dataclass
class Candidate:
    pa: int  # a photo of hash_a
    pb: int  # a photo of hash_b
    cosine: float | None = None
    rotation: int | None = None  # dihedral index from the signature hash
    mirror_hint: bool = False
    sources: list[str] = field(default_factory=list)


def _key(ha: str, hb: str) -> tuple[str, str]:
    return (ha, hb) if ha < hb else (hb, ha)


def find(catalog, index, node_of_photo: dict[int, str], photo_of_label: dict[int, int],
         todo_hashes: set[str] | None, cosine: float, hash_bits: int, skip: set[int],
         grey_cosine: float | None = None, near_cosine: float | None = None
         ) -> dict[tuple[str, str], Candidate]:
    """Candidate pairs touching a hash in ``todo_hashes`` (all when None); ``skip``: photo
    ids that are never candidates (tiny pictures). ``grey_cosine``: a photo without colour
    also pairs with its nearest photo in colour from this cosine up, and a photo with no
    photo at or above ``cosine`` with its nearest one. ``near_cosine``: a first hit below
    ``cosine`` from here up is a pair when the pixel signatures' hashes agree."""
    cand: dict[tuple[str, str], Candidate] = {}
    if todo_hashes is not None and not todo_hashes:
        return cand  # nothing new: every pair was a candidate before

    def add(pa: int, pb: int, source: str) -> Candidate | None:
        ha, hb = node_of_photo.get(pa), node_of_photo.get(pb)
        if ha is None or hb is None or ha == hb or pa in skip or pb in skip:
            return None
        if todo_hashes is not None and ha not in todo_hashes and hb not in todo_hashes:
            return None
        key = _key(ha, hb)
        c = cand.get(key)
        if c is None:
            first, second = (pa, pb) if ha < hb else (pb, pa)
            c = cand[key] = Candidate(first, second)
        if source not in c.sources:
            c.sources.append(source)
        return c

    def rotation_pairs(apart: bool):
        wide = near_cosine is not None
        ids, hashes, inner, small = signature_hashes(catalog, apart, trim=wide, coarse=wide)
        pairs = clustering.dihedral_pairs(ids, hashes, hash_bits)
        if inner is not None:  # a turned copy in a frame or with letterbox bars: its inside
            for k, g in clustering.dihedral_pairs(ids, inner, hash_bits).items():
                pairs.setdefault(k, g)
        alike: dict = {}
        if small is not None and len(ids):
            asks = np.array([todo_hashes is None or node_of_photo.get(int(i)) in todo_hashes
                             for i in ids.tolist()], bool)
            alike = coarse_pairs(ids, small, asks)
        return pairs, ids, hashes, inner, alike

    # a photo in ``skip`` is in no pair: it needs no search of its own
    labels = sorted(l for l, p in photo_of_label.items()
                    if p in node_of_photo and p not in skip and l in index.live
                    and (todo_hashes is None or node_of_photo[p] in todo_hashes))
    with ThreadPoolExecutor(1) as pool:
        # the rotation pass needs nothing from the CNN's: beside it (numpy, SQLite and
        # hnswlib let go of the GIL), on a connection of its own
        rotated = pool.submit(rotation_pairs, True) if catalog.signatures.reads_apart() else None
        if labels:
            vectors: Callable[[list[int]], np.ndarray] | None
            raw: RawVectors | None
            if index.projection is not None:
                # every raw vector (queries, hits to re-score) read from the catalogue once
                raw = vectors = RawVectors(index.live, index.raw_dim, catalog.embeddings.vectors)

                def search(vecs, k, ef):
                    return index.search_many(vecs, k, ef, raw=raw)
            else:  # the graph holds the raw vectors: no re-scoring; queries chunk by chunk
                def chunk_vectors(part: list[int]) -> np.ndarray:
                    return RawVectors(part, index.raw_dim, catalog.embeddings.vectors)(part)
                vectors = chunk_vectors
                search = index.search_many
            grey, colour = catalog.signatures.colour_kinds(S.COLOURLESS) if grey_cosine else (set(), set())
            grey_to_colour = ({l for l, p in photo_of_label.items() if p in grey},
                              {l for l, p in photo_of_label.items() if p in colour})
            low = grey_cosine if grey and colour else None
            hits = _FirstHits(vectors, search, cosine, near_cosine)
            if near_cosine is not None:
                vectors, search = hits.vectors, hits.search
            for la, lb, sim in clustering.cnn_pairs(labels, vectors, search, cosine, low=low,
                                                  low_pairs=grey_to_colour, low_k=GREY_K,
                                                  lonely=grey_cosine):
                pa, pb = photo_of_label.get(la), photo_of_label.get(lb)
                if pa is None or pb is None:
                    continue
                c = add(pa, pb, "cnn" if sim >= cosine else "cnn-near-miss")
                if c is not None:
                    c.cosine = max(c.cosine or 0.0, sim)
            raw = vectors = None  # the raw vectors' memory, before the rotation pass ends
            hits.release()
        else:
            hits = None
        try:
            got = rotated.result() if rotated is not None else None
        except Exception as e:  # the second connection failed: on this one, then
            log.debug("rotation pass beside the CNN failed (%s); again on this connection", e)
            got = None
    if got is None:
        got = rotation_pairs(False)
    rot, ids, hashes, inner, alike = got
    for (pa, pb), g in rot.items():
        c = add(pa, pb, "rotation")
        if c is not None:
            c.rotation = g
    for (pa, pb), g in alike.items():
        c = add(pa, pb, "coarse")
        if c is not None and c.rotation is None and g:
            c.rotation = g
    if hits is not None and hits.pairs:
        for la, lb, sim, g in _hash_agrees(hits.pairs, photo_of_label, ids, hashes, inner):
            c = add(photo_of_label[la], photo_of_label[lb], "cnn-hash")
            if c is not None:
                c.cosine = max(c.cosine or 0.0, sim)
                if g and c.rotation is None:
                    c.rotation = g
    mirror_hints(catalog, list(cand.values()))
    return cand


class _FirstHits:
    """Wraps the CNN pass's ``vectors`` and ``search`` (clustering.cnn_pairs) to keep each
    photo's first-round hits (the ``NEAR_K`` asked for right after its chunk's vectors are
    read) from ``floor`` up to below ``threshold``: (label, hit label, similarity)."""

    def __init__(self, vectors, search, threshold: float, floor: float | None):
        self._vectors, self._search = vectors, search
        self.threshold, self.floor = threshold, floor
        self._part: list[int] | None = None
        self.pairs: list[tuple[int, int, float]] = []

    def release(self) -> None:
        self._vectors = self._search = None

    def vectors(self, part: list[int]) -> np.ndarray:
        assert self._vectors is not None, "used after release()"
        self._part = list(part)
        return self._vectors(part)

    def search(self, vecs: np.ndarray, k: int, ef: int):
        assert self._search is not None, "used after release()"
        found, sims = self._search(vecs, k, ef)
        part, self._part = self._part, None
        # the first round after a chunk's vectors asks for the whole chunk, in its order
        if part is not None and k == NEAR_K and len(part) == len(vecs) and self.floor is not None:
            f, s = np.asarray(found), np.asarray(sims)
            rows, cols = np.nonzero((s >= self.floor) & (s < self.threshold))
            for r, c in zip(rows.tolist(), cols.tolist()):
                lab = int(f[r, c])
                if lab != part[r]:
                    self.pairs.append((part[r], lab, float(s[r, c])))
        return found, sims


def _hash_agrees(pairs: list[tuple[int, int, float]], photo_of_label: dict[int, int],
                 ids: np.ndarray, hashes: np.ndarray, inner: np.ndarray | None
                 ) -> list[tuple[int, int, float, int]]:
    """The (label, label, similarity, dihedral index) of ``pairs`` whose signature hashes
    agree within NEAR_BITS: B turned by the index against A as stored, the whole pictures
    or their insides (flat edges stripped, signature.trimmed)."""
    if not len(ids):
        return []
    order = np.argsort(ids)
    sid = ids[order]
    pa = np.array([photo_of_label.get(a, -1) for a, _, _ in pairs], np.int64)
    pb = np.array([photo_of_label.get(b, -1) for _, b, _ in pairs], np.int64)
    ia = np.minimum(np.searchsorted(sid, pa), len(sid) - 1)
    ib = np.minimum(np.searchsorted(sid, pb), len(sid) - 1)
    ok = (sid[ia] == pa) & (sid[ib] == pb)
    ra, rb = order[ia[ok]], order[ib[ok]]
    keep = np.nonzero(ok)[0]
    best = np.full(len(ra), 64, np.int64)
    turn = np.zeros(len(ra), np.int64)
    for hs in (hashes, inner) if inner is not None else (hashes,):
        d = np.bitwise_count(hs[rb] ^ hs[ra, :1]).astype(np.int64)  # (m, 8): B turned by g
        g = d.argmin(axis=1)
        m = d[np.arange(len(d)), g]
        better = m < best
        best[better], turn[better] = m[better], g[better]
    close = np.nonzero(best <= NEAR_BITS)[0]
    return [(pairs[keep[i]][0], pairs[keep[i]][1], pairs[keep[i]][2], int(turn[i]))
            for i in close.tolist()]


def signature_hashes(catalog, apart: bool = False, trim: bool = False, coarse: bool = False
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(photo ids, (n, 8) dihedral hashes, with ``trim`` those of the signatures with their
    flat edges stripped, and with ``coarse`` the (n, 2, COARSE**2) coarse pictures, as
    they are and stripped: signature.coarse) of every usable signature, read in chunks
    (``apart``: on a connection of its own, for a thread)."""
    ids, hashes, inner, small = [], [], [], []
    read = catalog.signatures.read_apart if apart else catalog.signatures.read
    for rows in read(S.MIN_LONG_SIDE, S.MIN_SHORT_SIDE):
        blob = b"".join(r[1] for r in rows)
        if len(blob) == len(rows) * S.SIDE * S.SIDE:
            sigs = np.frombuffer(blob, np.uint8).reshape(len(rows), -1)
        else:  # a damaged signature: as before (np.stack says what is wrong)
            sigs = np.stack([np.frombuffer(r[1], np.uint8) for r in rows])
        ok = _contrast_ok(sigs.reshape(len(sigs), -1))
        if not ok.any():
            continue
        ids.append(np.array([r[0] for r in rows], np.int64)[ok])
        hashes.append(S.dihedral_hashes(sigs[ok]))
        if trim or coarse:
            stripped = S.trimmed(sigs[ok])
            if trim:
                inner.append(S.dihedral_hashes(stripped))
            if coarse:
                small.append(np.stack([S.coarse(sigs[ok]), S.coarse(stripped)], axis=1))
    if not ids:
        return (np.empty(0, np.int64), np.empty((0, 8), np.uint64),
                np.empty((0, 8), np.uint64) if trim else None,
                np.empty((0, 2, S.COARSE ** 2), np.float32) if coarse else None)
    return (np.concatenate(ids), np.concatenate(hashes), np.concatenate(inner) if trim else None,
            np.concatenate(small) if coarse else None)


def coarse_pairs(ids: np.ndarray, small: np.ndarray, asks: np.ndarray
                 ) -> dict[tuple[int, int], int]:
    """(photo id, photo id) -> g: each asking photo (``asks``) with its ``COARSE_K`` most
    correlated others by the coarse picture (signature.coarse), from ``COARSE_CORR`` up, in
    any orientation (signature.canonical: each picture searched in its canonical one), as it
    is or with its flat edges stripped; g: the first photo turned by DIHEDRAL[g] agrees
    best with the second as stored. ``small``: (n, 2, d), as they are and stripped."""
    n = len(ids)
    stripped = np.nonzero(np.abs(small[:, 1] - small[:, 0]).max(axis=1) > 1e-6)[0]
    pics = np.concatenate([small[:, 0], small[stripped, 1]])
    owner = np.concatenate([np.arange(n), stripped])
    best, tries = S.canonical(pics)
    base = np.empty_like(pics)
    for g in range(8):
        rows = np.nonzero(best == g)[0]
        base[rows] = S.turned(pics[rows], g)
    queries, q_owner = [], []
    for g in range(8):
        rows = np.nonzero(tries[:, g] & asks[owner])[0]
        queries.append(S.turned(pics[rows], g))
        q_owner.append(owner[rows])
    query, q_of = np.concatenate(queries), np.concatenate(q_owner)
    out: dict[tuple[int, int], int] = {}
    if not len(query):
        return out
    rows, sims = nearest(base, query, COARSE_K + 3)  # itself, as it is and stripped
    q = np.repeat(q_of, rows.shape[1])
    hit = owner[rows.ravel()]
    sim = sims.ravel()
    keep = (sim >= COARSE_CORR) & (hit != q)
    q, hit, sim = q[keep], hit[keep], sim[keep]
    # each (asking photo, other) once, at its best; then each asker's best few
    order = np.lexsort((-sim, hit, q))
    q, hit, sim = q[order], hit[order], sim[order]
    first = np.ones(len(q), bool)
    first[1:] = (q[1:] != q[:-1]) | (hit[1:] != hit[:-1])
    q, hit, sim = q[first], hit[first], sim[first]
    order = np.lexsort((-sim, q))
    q, hit = q[order], hit[order]
    rank = np.arange(len(q)) - np.searchsorted(q, q, side="left")
    q, hit = q[rank < COARSE_K], hit[rank < COARSE_K]
    # the turn: the asker's orientation that agrees best with the other as it is
    turns = np.stack([np.einsum("ij,ij->i", S.turned(small[q, 0], g), small[hit, 0])
                      for g in range(8)], axis=1).argmax(axis=1) if len(q) else np.empty(0, int)
    for a, b, g in zip(ids[q].tolist(), ids[hit].tolist(), turns.tolist()):
        out.setdefault((a, b) if a < b else (b, a), int(g))
    return out


def _contrast_ok(sigs: np.ndarray) -> np.ndarray:
    """std(grey levels) >= MIN_CONTRAST per row, as float32 ``std`` decides it, from exact
    integer sums (a third of the time); rows within a hair of the limit take float32's word."""
    x = sigs.astype(np.int32)
    n = x.shape[1]
    std = np.sqrt(np.maximum(np.einsum("ij,ij->i", x, x) / n - (x.sum(axis=1) / n) ** 2, 0.0))
    ok = std >= S.MIN_CONTRAST
    near = np.abs(std - S.MIN_CONTRAST) < 1e-3
    if near.any():
        ok[near] = sigs[near].astype(np.float32).std(axis=1) >= S.MIN_CONTRAST
    return ok


def mirror_hints(catalog, cands: list[Candidate], chunk: int = 1024) -> None:
    """Set ``mirror_hint`` on each candidate, vectorised over all of them."""
    for start in range(0, len(cands), chunk):
        part = cands[start:start + chunk]
        sigs = catalog.signatures.of(sorted({c.pa for c in part} | {c.pb for c in part}))
        have = [c for c in part if c.pa in sigs and c.pb in sigs]
        if not have:
            continue
        a = np.stack([np.frombuffer(sigs[c.pa], np.uint8) for c in have]).reshape(-1, S.SIDE, S.SIDE)
        b = np.stack([np.frombuffer(sigs[c.pb], np.uint8) for c in have]).reshape(-1, S.SIDE, S.SIDE)
        plain, mirrored = _ncc_plain_and_mirrored(a, b)
        for c, p, m in zip(have, plain.tolist(), mirrored.tolist()):
            c.mirror_hint = bool(m > p + 0.05) or (c.rotation is not None and c.rotation >= 4)


def _ncc_plain_and_mirrored(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row by row: the correlation of A with B, and with B mirrored (which has B's mean and
    spread: each side is centred and measured once)."""
    za, zb = a.astype(np.float32), b.astype(np.float32)
    za -= za.mean(axis=(1, 2), keepdims=True)
    zb -= zb.mean(axis=(1, 2), keepdims=True)
    d = np.sqrt(np.einsum("ijk,ijk->i", za, za) * np.einsum("ijk,ijk->i", zb, zb))
    plain = np.einsum("ijk,ijk->i", za, zb)
    mirrored = np.einsum("ijk,ijk->i", za, zb[:, :, ::-1])
    ok = d > 1e-6
    safe = np.where(ok, d, 1.0)
    return np.where(ok, plain / safe, 0.0), np.where(ok, mirrored / safe, 0.0)
