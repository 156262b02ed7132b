"""The duplicates' candidate stage on its own: the CNN range search over a real (projected)
hnswlib index with raw re-scoring from a read-once cache, the signature contrast filter and
the dihedral hashing."""

from __future__ import annotations

import numpy as np
import pytest

from photofinder.dedup import candidates, clustering
from photofinder.dedup import signature as S
from photofinder.retrieval.projection import fit_pca_whitening
from photofinder.identity import decode_vectors, encode_vector
from photofinder.store.index import RawVectors, VectorIndex


def _library(tmp_path, n=900, d=96, seed=3):
    """A projected index (16-d graph) over embedding-like vectors with near copies: families
    of 2 to 6 members around a centre, plus unrelated photos."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 12)) @ rng.normal(size=(12, d)) + 0.4 * rng.normal(size=(n, d))
    for start in range(0, 300, 6):  # 50 families
        size = 2 + (start // 6) % 5
        base[start + 1:start + size] = base[start] + 0.25 * rng.normal(size=(size - 1, d))
    raw = (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)
    store = {10 + 3 * i: encode_vector(v) for i, v in enumerate(raw)}  # labels with gaps
    stored = {l: np.frombuffer(b, np.float16).astype(np.float32) for l, b in store.items()}
    reads = []

    def read(labels):
        reads.extend(labels)
        return ((l, store[l]) for l in labels)
    proj = fit_pca_whitening(raw, 48, 16, shrink=10.0)
    idx = VectorIndex(tmp_path / "i.hnsw", d, "m", proj,
                      lambda ls: np.stack([stored[int(l)] for l in ls]))
    idx.open(list(store), lambda ls: decode_vectors((l, store[l]) for l in ls))
    return idx, store, stored, read, reads


def test_raw_vectors_reads_each_once_and_answers_the_stored_values(tmp_path):
    idx, store, stored, read, reads = _library(tmp_path)
    raw = RawVectors(store, idx.raw_dim, read)
    some = [13, 10, 13, 2200]
    assert np.array_equal(raw(some), np.stack([stored[l] for l in some]))
    assert sorted(reads) == [10, 13, 2200]
    raw(list(store))
    assert sorted(reads) == sorted({10, 13, 2200} | set(store)) and len(reads) == len(store)
    with pytest.raises(KeyError):
        raw.rows([11])  # not a label of the set
    with pytest.raises(KeyError):
        RawVectors([5, 6], 4, lambda ls: iter(())).rows([5])  # the source lacks it
    # dots: the products of each query with its own rows
    rows = raw.rows([10, 13, 16, 19, 22, 25]).reshape(3, 2)
    q = np.random.default_rng(0).normal(size=(3, idx.raw_dim)).astype(np.float32)
    want = np.einsum("nkd,nd->nk", raw.matrix[rows].astype(np.float32), q)
    assert np.array_equal(raw.dots(rows, q), want)
    # labels far apart: found by search, not a table
    sparse = RawVectors([1, 10**12], 2, lambda ls: ((l, np.ones(2, np.float16).tobytes()) for l in ls))
    assert sparse.rows([10**12]).tolist() == [1]


def test_search_many_rescored_from_the_cache_matches_the_catalogue_path(tmp_path):
    idx, store, stored, read, reads = _library(tmp_path)
    raw = RawVectors(idx.live, idx.raw_dim, read)
    q = np.stack([stored[l] for l in sorted(store)[:200]])
    for k in (4, 16, 64):
        la, sa = idx.search_many(q, k, 4 * k)
        lb, sb = idx.search_many(q, k, 4 * k, raw=raw)
        assert np.array_equal(la, lb) and np.array_equal(sa, sb)
    everything = np.stack([stored[l] for l in sorted(store)])
    exact = q @ everything.T
    col = {l: j for j, l in enumerate(sorted(store))}
    assert np.allclose(sb, exact[np.arange(len(q))[:, None], np.vectorize(col.get)(lb)], atol=1e-5)


def test_cnn_pairs_with_the_cache_finds_the_same_pairs_and_every_near_copy(tmp_path):
    idx, store, stored, read, reads = _library(tmp_path)
    labels = sorted(store)

    def by_catalogue(ls):
        return np.stack([stored[l] for l in ls])
    before = sorted(clustering.cnn_pairs(labels, by_catalogue, idx.search_many, 0.8, chunk=128, k=2))
    raw = RawVectors(idx.live, idx.raw_dim, read)
    after = sorted(clustering.cnn_pairs(labels, raw, lambda v, k, ef: idx.search_many(v, k, ef, raw=raw),
                                      0.8, chunk=128, k=2))
    assert after == before and len(reads) == len(store)  # widened (k=2 is too few), read once
    found = {(a, b) for a, b, _ in after}
    m = by_catalogue(labels)
    sims = m @ m.T
    near = {(labels[i], labels[j]) for i, j in zip(*np.nonzero(np.triu(sims, 1) >= 0.8))}
    assert near and near <= found


def test_contrast_filter_decides_as_float32_std():
    rng = np.random.default_rng(5)
    flat = np.full((6, S.SIDE * S.SIDE), 100, np.uint8)
    flat[1, :100] = 110  # a little contrast
    flat[2] = rng.integers(0, 256, S.SIDE * S.SIDE)
    # std exactly at the limit: half the pixels at m - 6, half at m + 6
    flat[3, ::2], flat[3, 1::2] = 94, 106
    flat[4, ::2], flat[4, 1::2] = 95, 106  # just under
    sigs = np.concatenate([flat, rng.integers(90, 110, (200, S.SIDE * S.SIDE)).astype(np.uint8)])
    want = sigs.astype(np.float32).std(axis=1) >= S.MIN_CONTRAST
    assert np.array_equal(candidates._contrast_ok(sigs), want)
    assert want[3] and not want[4] and want[2] and not want[0]


def test_cnn_pairs_near_misses_are_an_askers_nearest_answer_below_the_threshold(tmp_path):
    """With ``low`` and ``low_pairs`` (askers, answers), each asker also pairs with its
    nearest answer below the threshold, from ``low`` up; the pairs at or above the
    threshold are the same as without."""
    idx, store, stored, read, reads = _library(tmp_path)
    labels = sorted(store)
    odd = {l for l in labels if l % 2}  # "grey" photos, asking for "colour" (even) ones

    def by_catalogue(ls):
        return np.stack([stored[l] for l in ls])

    plain = sorted(clustering.cnn_pairs(labels, by_catalogue, idx.search_many, 0.8))
    both = sorted(clustering.cnn_pairs(labels, by_catalogue, idx.search_many, 0.8, low=0.5,
                                     low_pairs=(odd, set(labels) - odd), low_k=1))
    assert sorted(p for p in both if p[2] >= 0.8) == plain
    misses = {(a, b): s for a, b, s in both if s < 0.8}
    assert misses and all(0.5 <= s for s in misses.values())
    assert all((a in odd) != (b in odd) for a, b in misses)  # one of each kind
    m = by_catalogue(labels)
    sims = m @ m.T
    want = set()
    for i, lab in enumerate(labels):  # an odd photo's nearest even one, below 0.8 from 0.5 up
        if lab in odd:
            j = next(j for j in np.argsort(-sims[i]) if labels[j] not in odd)
            if 0.5 <= sims[i, j] < 0.8:
                want.add((min(lab, labels[j]), max(lab, labels[j])))
    # among the k the graph search found (approximate: most, not all, of the exact nearest)
    assert want and len(want & set(misses)) >= 0.8 * len(want)
    per_photo = [a if a in odd else b for a, b in misses]
    assert len(per_photo) == len(set(per_photo))  # one such pair at most a grey photo



def test_cnn_pairs_a_lonely_photo_pairs_with_its_nearest_below_the_threshold(tmp_path):
    """With ``lonely``: a photo with no other photo at or above the threshold also pairs
    with its nearest one, from ``lonely`` up (a heavy edit pulls a copy away from its
    original in the CNN space; the original often stays its nearest); a photo with a near
    neighbour gets no pair below the threshold; the pairs at or above it are as without."""
    idx, store, stored, read, reads = _library(tmp_path)
    labels = sorted(store)

    def by_catalogue(ls):
        return np.stack([stored[l] for l in ls])

    plain = sorted(clustering.cnn_pairs(labels, by_catalogue, idx.search_many, 0.8))
    both = sorted(clustering.cnn_pairs(labels, by_catalogue, idx.search_many, 0.8, lonely=0.5))
    assert sorted(p for p in both if p[2] >= 0.8) == plain
    misses = {(a, b) for a, b, s in both if s < 0.8}
    assert all(s >= 0.5 for a, b, s in both)
    m = by_catalogue(labels)
    sims = m @ m.T
    np.fill_diagonal(sims, -1)
    near = {l for a, b, _ in plain for l in (a, b)}
    want = set()
    for i, lab in enumerate(labels):  # a lonely photo's nearest, below 0.8 from 0.5 up
        j = int(np.argmax(sims[i]))
        if lab not in near and 0.5 <= sims[i, j] < 0.8:
            want.add((min(lab, labels[j]), max(lab, labels[j])))
    # every miss is a lonely photo's (one at most each), most of the exact nearest found
    assert misses and all(a not in near or b not in near for a, b in misses)
    assert want and len(want & misses) >= 0.8 * len(want)
    assert len(misses) <= len(labels) - len(near)

def test_colourfulness_tells_a_grey_picture_from_a_colour_photo():
    import io

    from PIL import Image, ImageOps

    from samples import sample_images
    for name, img in sample_images().items():
        grey = ImageOps.grayscale(img).convert("RGB")
        buf = io.BytesIO()
        grey.save(buf, "JPEG", quality=85)
        assert S.colourfulness(Image.open(buf)) < S.COLOURLESS, name
    assert S.colourfulness(sample_images()["coffee"]) > 10 * S.COLOURLESS


def test_signature_hash_is_the_low_dct_of_the_shrunk_picture_by_the_book():
    """The one-matrix low DCT (shrink and transform folded together) against the two steps
    written out: linear interpolation to 32 x 32, then the DCT-II sum; and each hash bit is
    the sign of its coefficient (row-major, the DC term left out)."""
    rng = np.random.default_rng(11)
    sigs = rng.integers(0, 256, (5, S.SIDE * S.SIDE)).astype(np.uint8)
    pos = np.linspace(0, S.SIDE - 1, S.HASH_SIDE)
    k, x = np.arange(S.HASH_FREQ), np.arange(S.HASH_SIDE)
    basis = np.cos(np.pi * (2 * x[None, :] + 1) * k[:, None] / (2 * S.HASH_SIDE))
    got = S.low_dct(sigs)
    hashes = S.dihedral_hashes(sigs)[:, 0]
    for sig, c, h in zip(sigs, got, hashes):
        a = sig.reshape(S.SIDE, S.SIDE).astype(np.float64)
        rows = np.stack([np.interp(pos, np.arange(S.SIDE), r) for r in a])  # (48, 32)
        small = np.stack([np.interp(pos, np.arange(S.SIDE), col) for col in rows.T]).T
        want = basis @ small @ basis.T
        assert np.allclose(c, want, rtol=1e-5, atol=1e-2)
        signs = (want.ravel()[1:] > 0)
        clear = np.abs(want.ravel()[1:]) > 1.0  # away from 0, where rounding cannot flip
        bits = np.array([(int(h) >> i) & 1 for i in range(63)], bool)
        assert np.array_equal(bits[clear], signs[clear])


def test_dihedral_pairs_finds_turned_and_mirrored_copies():
    rng = np.random.default_rng(6)
    pics = []
    for _ in range(40):
        field = rng.normal(size=(6, 6))
        big = np.kron(field, np.ones((8, 8)))  # smooth enough for the low DCT
        pics.append(np.clip(128 + 40 * big + rng.normal(0, 2, (48, 48)), 0, 255))
    turned = [S.transform(pics[i], g) for i, g in zip(range(7), range(1, 8))]
    sigs = np.stack(pics + turned).astype(np.uint8).reshape(47, -1)
    ids = np.arange(100, 147)
    got = clustering.dihedral_pairs(ids, S.dihedral_hashes(sigs), 6)
    for i in range(7):
        assert (100 + i, 140 + i) in got
    assert len(got) <= 10  # nothing else (unrelated random fields)


def _catalogue(tmp_path):
    """A real catalogue: 60 photos, photos 0-9 with a near copy each (10-19: the CNN finds
    them), photos 20-24 with a turned copy (25-29: the signatures find them)."""
    from photofinder.store.catalog import Catalog

    rng = np.random.default_rng(8)
    cat = Catalog(tmp_path / "catalog.sqlite")
    folder = cat.folders.add("/x")
    vecs = rng.normal(size=(60, 64))
    vecs[10:20] = vecs[0:10] + 0.1 * rng.normal(size=(10, 64))
    pics = [np.clip(128 + 40 * np.kron(rng.normal(size=(6, 6)), np.ones((8, 8))), 0, 255)
            for _ in range(60)]
    for i in range(5):
        pics[25 + i] = S.transform(pics[20 + i], 1 + i)
    for i in range(60):
        pid = cat.photos.insert(folder.id, f"/x/{i}.jpg", 1000, 0, 1, i)
        v = vecs[i] / np.linalg.norm(vecs[i])
        cat.photos.record_result(pid, {"hash": f"h{i:03d}", "width": 800, "height": 600,
                                "signature": pics[i].astype(np.uint8).tobytes()},
                          "m", encode_vector(v))
    idx = VectorIndex(tmp_path / "i.hnsw", 64, "m")
    idx.open(cat.embeddings.labels("m"), lambda ls: decode_vectors(cat.embeddings.vectors(ls)))
    return cat, idx


def _found(cat, idx, todo=None, skip=frozenset()):
    nodes = cat.dedup.nodes()
    got = candidates.find(cat, idx, {n.photo_id: n.hash for n in nodes},
                          {n.label: n.photo_id for n in nodes}, todo, 0.8, 6, set(skip))
    return {k: (c.pa, c.pb, c.cosine, c.rotation, c.mirror_hint, tuple(c.sources))
            for k, c in got.items()}


def test_find_beside_and_on_one_connection_agree(tmp_path, caplog):
    cat, idx = _catalogue(tmp_path)
    assert cat.signatures.reads_apart()
    with caplog.at_level("DEBUG", logger="photofinder.dedup.candidates"):
        beside = _found(cat, idx)
    assert not caplog.records  # the rotation pass ran beside, on its own connection
    assert {(f"h{i:03d}", f"h{i + 10:03d}") for i in range(10)} <= set(beside)
    turned = {(f"h{20 + i:03d}", f"h{25 + i:03d}"): 1 + i for i in range(5)}
    assert all(beside[k][3] is not None and "rotation" in beside[k][5] for k in turned)
    with cat.transaction():  # uncommitted work: only this connection sees it
        assert not cat.signatures.reads_apart()
        assert _found(cat, idx) == beside
    only_new = _found(cat, idx, {"h003"})
    assert set(only_new) == {("h003", "h013")}
    assert _found(cat, idx, set()) == {}
    # a tiny picture is in no pair, either side
    pid = {n.hash: n.photo_id for n in cat.dedup.nodes()}
    without = _found(cat, idx, skip={pid["h004"], pid["h015"]})
    assert without == {k: v for k, v in beside.items() if not {"h004", "h015"} & set(k)}


def test_mirror_hints_say_which_pairs_are_mirrored(tmp_path):
    """A mirrored copy's signature agrees with the original's mirrored, not as it is; both
    correlations match numpy's, and a flat picture correlates with nothing."""
    rng = np.random.default_rng(11)
    pics = np.clip(128 + 40 * np.kron(rng.normal(size=(5, 6, 6)), np.ones((1, 8, 8))), 0, 255)
    a = np.concatenate([pics, pics[:1], np.full((1, 48, 48), 90.0)]).astype(np.uint8)
    b = np.concatenate([pics[:, :, ::-1], pics[1:2], pics[2:3]]).astype(np.uint8)
    plain, mirrored = candidates._ncc_plain_and_mirrored(a, b)
    for i in range(len(a)):
        x, y = a[i].astype(float).ravel(), b[i].astype(float)
        if a[i].std() == 0:
            assert plain[i] == mirrored[i] == 0.0
            continue
        assert plain[i] == pytest.approx(np.corrcoef(x, y.ravel())[0, 1], abs=1e-5)
        assert mirrored[i] == pytest.approx(np.corrcoef(x, y[:, ::-1].ravel())[0, 1], abs=1e-5)
    assert (mirrored[:5] > 0.99).all() and (plain[:5] < 0.9).all()
    # through the catalogue: the mirrored pairs are hinted, the others not
    from photofinder.store.catalog import Catalog

    cat = Catalog(tmp_path / "catalog.sqlite")
    folder = cat.folders.add("/x")
    for i, pic in enumerate(np.concatenate([pics, pics[:, :, ::-1]])):
        pid = cat.photos.insert(folder.id, f"/x/{i}.jpg", 1000, 0, 1, i)
        cat.photos.record_result(pid, {"hash": f"h{i}", "width": 800, "height": 600,
                                "signature": pic.astype(np.uint8).tobytes()}, "m", encode_vector(np.ones(4)))
    ids = {r.path: r.id for r in cat.photos.by_ids(range(1, 11)).values()}
    mirrored_pairs = [candidates.Candidate(ids[f"/x/{i}.jpg"], ids[f"/x/{i + 5}.jpg"]) for i in range(5)]
    plain_pairs = [candidates.Candidate(ids[f"/x/{i}.jpg"], ids[f"/x/{i}.jpg"]) for i in range(5)]
    candidates.mirror_hints(cat, mirrored_pairs + plain_pairs, chunk=3)
    assert all(c.mirror_hint for c in mirrored_pairs) and not any(c.mirror_hint for c in plain_pairs)


def test_nearest_through_the_graph_finds_what_comparing_all_finds():
    """store.index.nearest: exact for few rows, an in-memory HNSW graph for many; both put
    each query's true nearest first."""
    from photofinder.store import index as I

    rng = np.random.default_rng(5)
    base = rng.normal(size=(4000, 24)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = base[:300] + 0.05 * rng.normal(size=(300, 24)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    rows, sims = I.nearest(base, queries, 3)
    assert len(base) * len(queries) <= I.EXACT_WORK and (rows[:, 0] == np.arange(300)).all()
    many = np.repeat(queries, 50, axis=0)  # past EXACT_WORK: through the graph
    assert len(base) * len(many) > I.EXACT_WORK
    g_rows, g_sims = I.nearest(base, many, 3)
    assert (g_rows[::50, 0] == np.arange(300)).mean() >= 0.99
    assert np.allclose(g_sims[::50, 0], sims[:, 0], atol=1e-4)


def test_coarse_pairs_find_copies_under_a_sticker_and_noise_turned_or_mirrored():
    """Real photos and the benchmark's edits: copies under a sticker with heavy noise, turned
    with noise and a watermark, mirrored, blurred and under a sticker pair with their
    original by the coarse picture, at the right turn; the other photos pair with none of
    them; a photo that does not ask (searched before) finds nothing of its own."""
    import dedup_edits as E
    from samples import sample_images

    pics = sample_images()
    names = list(pics)
    combos = [["sticker", "noise-high"], ["turn", "noise-high", "watermark-corner"],
              ["mirror", "blur", "sticker"]]
    copies = [E.apply(pics["chelsea"], c, np.random.default_rng(4))[0] for c in combos]
    sigs = np.stack([np.frombuffer(S.compute(p), np.uint8) for p in [*pics.values(), *copies]])
    ids = np.arange(len(sigs)) + 100
    small = np.stack([S.coarse(sigs), S.coarse(S.trimmed(sigs))], axis=1)
    got = candidates.coarse_pairs(ids, small, np.ones(len(ids), bool))
    me = 100 + names.index("chelsea")
    mine = [(me, 100 + len(names) + i) for i in range(3)]
    assert set(mine) <= set(got), got
    assert got[mine[0]] == 0 and S.swaps_sides(got[mine[1]]) and got[mine[2]] >= 4  # mirrored
    photos = set(range(100, 100 + len(names)))
    assert not {p for p in got if set(p) <= photos}, got  # no two unrelated photos
    asks = np.zeros(len(ids), bool)
    asks[-3:] = True  # only the copies ask: their pairs are found all the same
    assert set(mine) <= set(candidates.coarse_pairs(ids, small, asks))
    assert candidates.coarse_pairs(ids, small, np.zeros(len(ids), bool)) == {}
