"""Learning the metric from the library itself: a linear projection on top of the frozen GeM
vectors, trained on the user's own photos and decisions.

What it learns from (``TrainingSet``):
- positives: library photos under synthetic edits (crop, border, rotation, flip, colour,
  recompression, blur), each edit paired with the photo's stored vector (``edit_pairs``,
  which decodes and embeds: a background job), and the user's "similar" marks;
- negatives: each sampled photo's near non-matches in the library (ranks NEG_FROM..NEG_TO of
  its neighbours, skipping the nearest, which in a real library are often other views of the
  same scene) and the user's "not similar" marks (used by the torch fine-tuning; measured,
  stretching the closed form along them lost held-out mAP). The duplicates' "not a copy"
  decisions are NOT used: those pairs are usually the most similar photos a user has
  (bursts, other views); they teach the duplicate check, never Find similar.

How (``fit``): centre on the library's mean, then the learned whitening of Radenovic et al.
in closed form (numpy): whiten the differences of matching pairs (``Cs^-1/2``, shrunk towards
the identity), so the directions edits move a vector in count less. Optionally (torch, the
``export`` extra) the map is then fine-tuned with a contrastive loss for 200 steps (CPU
minutes), kept near the closed-form start; measured, it over-fits the synthetic edits, so the
closed form is the default. The result is one ``projection.LinearProjection`` of kind
"learned" (all dimensions kept): applied with numpy, versioned and stored like the whitening,
and the index is re-derived from the stored raw vectors, never re-embedding.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from photofinder.identity import decode_matrix
from photofinder.pixels import imaging
from photofinder.pixels.embedding import preprocess
from photofinder.retrieval import projection as P
from photofinder.errors import PhotofinderError

KIND = "learned"
MAX_PHOTOS = 600        # photos decoded and edited per training (CPU minutes at most)
EDITS = 2               # edited copies per photo
NEG_FROM, NEG_TO = 5, 25  # near non-matches: these neighbour ranks of each sampled photo
POS_SHRINK = 0.7        # Cs is shrunk this far towards a scaled identity (chosen on a split
                        # of holidays-dev other than the one reported: benchmarks/learn_eval.py)
TORCH_STEPS = 200
TAU = 0.05
MIN_PHOTOS = 20         # fewer than this: nothing to learn from

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class LearnError(PhotofinderError):
    """Training cannot run (too few photos, none decodable); one line for the user."""


@dataclass
class TrainingSet:
    """Raw vectors (unit rows). ``pos_a[i]``/``pos_b[i]`` match; ``neg_a[j]``/``neg_b[j]`` do
    not."""
    pos_a: np.ndarray
    pos_b: np.ndarray
    neg_a: np.ndarray
    neg_b: np.ndarray
    library: np.ndarray          # a sample of the library's vectors (the PCA and its mean)
    library_size: int
    sources: dict                # how many pairs came from where (for status and the report)


# -- synthetic edits -----------------------------------------------------------------------
def random_edit(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """One to three of: crop, border, rotation or flip, colour, blur, recompression."""
    img = img.convert("RGB")
    w, h = img.size
    ops = rng.choice(6, size=int(rng.integers(1, 4)), replace=False)
    for op in sorted(ops):
        if op == 0:  # crop 45-90 % of each side
            fx, fy = rng.uniform(0.45, 0.9, 2)
            cw, ch = max(16, int(w * fx)), max(16, int(h * fy))
            x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            img = img.crop((x, y, x + cw, y + ch))
        elif op == 1:  # border of 4-15 % in a flat colour
            b = int(max(img.size) * rng.uniform(0.04, 0.15))
            img = ImageOps.expand(img, b, fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
        elif op == 2:  # a small tilt, a quarter turn or a mirror
            r = rng.random()
            if r < 0.4:
                img = img.rotate(float(rng.uniform(-12, 12)), expand=True,
                                 resample=Image.Resampling.BILINEAR)
            elif r < 0.7:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            else:
                img = img.transpose(Image.Transpose.ROTATE_90)
        elif op == 3:  # colour, brightness, contrast; sometimes grey
            if rng.random() < 0.2:
                img = ImageOps.grayscale(img).convert("RGB")
            else:
                for enh in (ImageEnhance.Color, ImageEnhance.Brightness, ImageEnhance.Contrast):
                    img = enh(img).enhance(float(rng.uniform(0.6, 1.5)))
        elif op == 4:
            img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.8, 2.5))))
        else:  # recompression, maybe smaller
            if rng.random() < 0.5:
                s = rng.uniform(0.3, 0.7)
                img = img.resize((max(16, int(img.width * s)), max(16, int(img.height * s))))
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=int(rng.integers(15, 60)))
            img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def edit_pairs(paths: list[str], embedder, rng: np.random.Generator, edits: int = EDITS,
               progress: Progress | None = None, batch: int = 16
           ) -> tuple[list[int], np.ndarray, list[str]]:
    """Decode each photo, make ``edits`` edited copies and embed them: (index into
    ``paths`` of each row, the rows' vectors, errors "path: why")."""
    which: list[int] = []
    arrays: list[np.ndarray] = []
    out_rows, out_vecs, errors = [], [], []

    def flush():
        if arrays:
            out_vecs.append(embedder.embed(arrays))
            out_rows.extend(which)
            arrays.clear()
            which.clear()

    for i, path in enumerate(paths):
        try:
            decoded, _, _ = imaging.load(path, need=2 * preprocess.LONG_SIDE)
        except (imaging.ImageError, OSError) as e:
            errors.append(f"{path}: {e}")
            continue
        for _ in range(edits):
            arrays.append(preprocess.prepare(random_edit(decoded.image, rng)))
            which.append(i)
        if len(arrays) >= batch:
            flush()
        if progress:
            progress("editing photos", i + 1, len(paths))
    flush()
    vecs = np.vstack(out_vecs) if out_vecs else np.empty((0, embedder.dim), np.float32)
    return out_rows, vecs, errors


# -- negatives -------------------------------------------------------------------------------
def near_negatives(anchors: np.ndarray, library: np.ndarray, anchor_rows: np.ndarray,
                   same: Callable[[int, int], bool], per_anchor: int = 4,
                   rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each anchor (rows of ``library`` given by ``anchor_rows``), ``per_anchor``
    neighbours drawn from ranks NEG_FROM..NEG_TO that ``same(anchor_row, row)`` does not call
    a match: (anchor indices, library rows)."""
    rng = rng or np.random.default_rng(0)
    a_idx, n_rows = [], []
    for start in range(0, len(anchors), 256):
        sims = anchors[start:start + 256] @ library.T
        order = np.argsort(-sims, axis=1)[:, :NEG_TO + 1]
        for k, ranked in enumerate(order):
            i = start + k
            pool = [int(r) for r in ranked[1:] if r != anchor_rows[i]
                    and not same(int(anchor_rows[i]), int(r))][NEG_FROM - 1:NEG_TO]
            if not pool:
                continue
            for r in rng.choice(pool, size=min(per_anchor, len(pool)), replace=False):
                a_idx.append(i)
                n_rows.append(int(r))
    return np.asarray(a_idx, np.int64), np.asarray(n_rows, np.int64)


# -- fitting ---------------------------------------------------------------------------------
def _inv_sqrt(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((c + c.T) / 2)
    return (v / np.sqrt(np.maximum(w, 1e-9))) @ v.T


def learned_whitening(pos_a: np.ndarray, pos_b: np.ndarray, shrink: float = POS_SHRINK
                      ) -> np.ndarray:
    """Radenovic's learned whitening in closed form: ``Cs^-1/2`` of the matching pairs'
    differences, shrunk towards a scaled identity (few pairs for many dimensions). The
    directions in which an edit moves a photo's vector count less. (D, D)."""
    d = pos_a.shape[1]
    dp = np.asarray(pos_a, np.float64) - np.asarray(pos_b, np.float64)
    cs = dp.T @ dp / max(len(dp), 1)
    cs = (1 - shrink) * cs + shrink * np.eye(d) * (np.trace(cs) / d)
    return _inv_sqrt(cs)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def finetune(w0: np.ndarray, mean: np.ndarray, ts: TrainingSet, steps: int = TORCH_STEPS,
             progress: Progress | None = None, seed: int = 0) -> np.ndarray:
    """Contrastive fine-tuning (InfoNCE: each anchor against its positive, the batch's other
    positives and the near negatives, temperature TAU) of the linear map ``w0``, pulled back
    towards it. (D, D)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    m = torch.tensor(mean, dtype=torch.float32)
    A = torch.tensor(ts.pos_a, dtype=torch.float32) - m
    B = torch.tensor(ts.pos_b, dtype=torch.float32) - m
    N = torch.tensor(ts.neg_b, dtype=torch.float32) - m
    W0 = torch.tensor(w0, dtype=torch.float32)
    W = torch.nn.Parameter(W0.clone())
    opt = torch.optim.Adam([W], lr=1e-3)
    scale = float(W0.norm()) ** 2
    unit = torch.nn.functional.normalize
    for step in range(steps):
        pick = torch.randint(len(A), (min(128, len(A)),), generator=g)
        a, p = unit(A[pick] @ W, dim=1), unit(B[pick] @ W, dim=1)
        parts = [a @ p.T]
        if len(N):
            parts.append(a @ unit(N[torch.randint(len(N), (512,), generator=g)] @ W, dim=1).T)
        logits = torch.cat(parts, 1) / TAU
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(pick))) \
            + ((W - W0) ** 2).sum() / scale
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress and (step % 10 == 0 or step == steps - 1):
            progress("training", step + 1, steps)
    return W.detach().numpy().astype(np.float64)


def fit(ts: TrainingSet, use_torch: bool = False, progress: Progress | None = None
        ) -> P.LinearProjection:
    """The learned projection of a training set: centre on the library's mean, then the
    learned whitening of the matching pairs (closed form); with ``use_torch`` then fine-tuned
    with the contrastive loss. Measured (benchmarks/learn_eval.py): the closed form helps
    held-out scenes, the fine-tuning over-fits the synthetic edits, so it is not the default."""
    if len(ts.pos_a) < 10:
        raise LearnError("too few matching pairs to learn from (need 10 or more)")
    mean = np.asarray(ts.library, np.float64).mean(axis=0)
    w = learned_whitening(ts.pos_a, ts.pos_b)
    if use_torch:
        if not torch_available():
            raise LearnError("training with torch needs the export extra: "
                             "pip install 'photofinder[export]'")
        w = finetune(w, mean, ts, progress=progress)
    return P.LinearProjection(KIND, mean.astype(np.float32), w.astype(np.float32), w.shape[1],
                              int(ts.library_size))


# -- the training set of a library -----------------------------------------------------------
def _vectors(catalog, labels: list[int]) -> np.ndarray:
    got = dict(catalog.embeddings.vectors(labels))
    return decode_matrix(got[l] for l in labels)


def training_set(catalog, model: str, embedder, progress: Progress | None = None,
                 max_photos: int = MAX_PHOTOS, seed: int = 0) -> TrainingSet:
    """Everything ``fit`` learns from, out of the catalogue (stored vectors, marks) and the
    photos themselves (decoded and edited here: slow, run it in a background job)."""
    items = catalog.embeddings.items(model)
    if len(items) < MIN_PHOTOS:
        raise LearnError(f"the library holds {len(items)} indexed photos; learning needs "
                         f"{MIN_PHOTOS} or more")
    rng = np.random.default_rng(seed)
    library_size = len(items)
    keep = np.sort(rng.choice(len(items), min(len(items), P.FIT_SAMPLE), replace=False))
    items = [items[i] for i in keep]
    library = _vectors(catalog, [it.label for it in items])
    anchors = np.sort(rng.choice(len(items), min(len(items), max_photos), replace=False))
    rows, edited, errors = edit_pairs([items[r].path for r in anchors], embedder, rng,
                                      progress=progress)
    if not rows:
        raise LearnError(f"none of the photos could be read to learn from ({errors[0]})"
                         if errors else "no photos to learn from")
    pos_a, pos_b = [library[anchors[rows]]], [edited]
    # the user's decisions in Find similar
    similar, not_similar = set(), []
    for m in catalog.feedback.marked_vectors(model):
        if m.query_label is None or m.result_label is None:
            continue
        if m.mark == "similar":
            similar |= {(m.query_hash, m.result_hash), (m.result_hash, m.query_hash)}
            pos_a.append(_vectors(catalog, [m.query_label]))
            pos_b.append(_vectors(catalog, [m.result_label]))
        else:
            not_similar.append((m.query_label, m.result_label))

    def same(i: int, j: int) -> bool:
        hi, hj = items[i].hash, items[j].hash
        return hi == hj or (hi, hj) in similar

    a_idx, n_rows = near_negatives(library[anchors], library, anchors, same, rng=rng)
    neg_a, neg_b = [library[anchors[a_idx]]], [library[n_rows]]
    for qa, rb in not_similar:
        neg_a.append(_vectors(catalog, [qa]))
        neg_b.append(_vectors(catalog, [rb]))
    n_marked_pos = sum(len(x) for x in pos_a[1:])
    return TrainingSet(np.vstack(pos_a), np.vstack(pos_b), np.vstack(neg_a), np.vstack(neg_b),
                       library, library_size, {
                           "photos_edited": len(set(rows)), "edited_pairs": len(rows),
                           "similar_marks": n_marked_pos, "not_similar_marks": len(not_similar),
                           "near_negatives": len(a_idx), "unreadable": len(errors)})
