"""THE projection pipeline: raw embeddings -> the space the index searches and ranks in.

One class, ``LinearProjection``: y = normalise((x - mean) @ matrix). PCA-whitening learned from
the library's own vectors is one (kind "pca-whiten"); a learned head (issue 14) that is linear
plugs in as another kind, and anything else implements the same four members (``version``,
``dim``, ``index_dim``, ``full``/``reduced``) and ``to_arrays``/``KINDS``.

Versioning: ``version`` = "<kind>-<dim>x<index_dim>@<sha256 of the arrays, 12 hex>", so the
index file knows exactly which projection built it and any refit is a new version. The raw
float16 vectors stay in the catalogue; a new version re-derives the index from them without
re-embedding. ``full`` is the re-ranking space (all ``dim`` components), ``reduced`` the first
``index_dim`` components that go into the HNSW graph (fewer bytes a photo).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

import numpy as np

from photofinder.assets import projection_path

RAW = "raw"  # the version name of "no projection"


SMALL = 256  # rows below which a product is not handed to BLAS


def _product(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """x @ m. A few rows (a query, an indexing batch) by numpy's own loop, not BLAS: right
    after an onnxruntime run, whose threads spin a while, OpenBLAS's second thread waits for
    a core, and 8 x 1280 @ 1280 x 128 took 120-150 ms instead of 0.4 (measured in indexing:
    a fifth of its time)."""
    if len(x) <= SMALL:
        return np.einsum("nd,dk->nk", x, m)
    return x @ m


def _normalise(y: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(y, axis=-1, keepdims=True)
    return (y / np.maximum(n, 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class LinearProjection:
    kind: str
    mean: np.ndarray      # (D,)
    matrix: np.ndarray    # (D, dim), components ordered by importance
    index_dim: int
    trained_on: int = 0   # how many vectors it was learned from
    version: str = field(init=False)

    def __post_init__(self):
        h = hashlib.sha256()
        for a in (self.mean, self.matrix):
            h.update(np.ascontiguousarray(a, np.float32).tobytes())
        object.__setattr__(self, "version",
                           f"{self.kind}-{self.dim}x{self.index_dim}@{h.hexdigest()[:12]}")

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def full(self, x: np.ndarray) -> np.ndarray:
        """Unit vectors in the whole projected space (re-ranking)."""
        return _normalise(_product(np.atleast_2d(np.asarray(x, np.float32) - self.mean),
                                   self.matrix).reshape(*np.shape(x)[:-1], -1))

    def reduced(self, x: np.ndarray) -> np.ndarray:
        """Unit vectors of the leading ``index_dim`` components (the HNSW graph)."""
        return _normalise(_product(np.atleast_2d(np.asarray(x, np.float32) - self.mean),
                                   self.matrix[:, :self.index_dim]).reshape(*np.shape(x)[:-1], -1))

    # -- storage (plain arrays, no pickle) --------------------------------------------------
    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, kind=np.array(self.kind), mean=self.mean.astype(np.float32),
                 matrix=self.matrix.astype(np.float32), index_dim=np.array(self.index_dim),
                 trained_on=np.array(self.trained_on))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "LinearProjection":
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(str(z["kind"]), z["mean"], z["matrix"], int(z["index_dim"]),
                       int(z["trained_on"]))


def fit_pca_whitening(vectors: np.ndarray, dim: int, index_dim: int | None = None,
                      shrink: float = 0.1) -> LinearProjection:
    """PCA-whitening learned from ``vectors`` (n, D): centre, rotate onto the principal axes,
    divide each by sqrt(variance + shrink * mean variance of the kept axes). The shrinkage keeps
    the weakest axes (noisy with few samples) from being blown up."""
    x = np.asarray(vectors, np.float64)
    n, d_in = x.shape
    dim = int(min(dim, d_in, max(1, n - 1)))
    mean = x.mean(axis=0)
    xc = x - mean
    # eigenvectors of the covariance through the SVD of the data (n may be < D)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    var = (s[:dim] ** 2) / max(n - 1, 1)
    scale = 1.0 / np.sqrt(var + shrink * var.mean())
    matrix = (vt[:dim].T * scale).astype(np.float32)
    return LinearProjection("pca-whiten", mean.astype(np.float32), matrix,
                            int(min(index_dim or dim, dim)), n)


@dataclass(frozen=True)
class PrincipalAxes:
    """The projection every library starts with (kind "pca-axes", shipped in resources/):
    the graph holds the leading principal axes of the raw vectors (uncentred: of their
    second moment), so an index costs ``index_dim`` numbers a photo; ``full`` is the raw
    vector itself, so the graph's candidates are ranked by the plain cosine, exactly as
    without a projection. It changes which photos the graph offers, never their order
    (benchmarks/evaluate_settings.py: holidays-dev and the copies, before and after)."""

    axes: np.ndarray      # (D, index_dim), orthonormal columns
    trained_on: int = 0   # samples it was learned from (not a library's size)
    kind: str = field(default="pca-axes", init=False)
    version: str = field(init=False)

    def __post_init__(self):
        h = hashlib.sha256(np.ascontiguousarray(self.axes, np.float32).tobytes())
        object.__setattr__(self, "version",
                           f"{self.kind}-{self.dim}x{self.index_dim}@{h.hexdigest()[:12]}")

    @property
    def dim(self) -> int:
        return int(self.axes.shape[0])

    @property
    def index_dim(self) -> int:
        return int(self.axes.shape[1])

    def full(self, x: np.ndarray) -> np.ndarray:
        return _normalise(np.asarray(x, np.float32))

    def reduced(self, x: np.ndarray) -> np.ndarray:
        return _normalise(_product(np.atleast_2d(np.asarray(x, np.float32)), self.axes)
                          .reshape(*np.shape(x)[:-1], -1))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, kind=np.array(self.kind), axes=self.axes.astype(np.float32),
                 trained_on=np.array(self.trained_on))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "PrincipalAxes":
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(z["axes"], int(z["trained_on"]))


def fit_principal_axes(vectors: np.ndarray, index_dim: int) -> PrincipalAxes:
    """The leading ``index_dim`` right singular vectors of ``vectors`` (n, D), uncentred."""
    x = np.asarray(vectors, np.float64)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return PrincipalAxes(vt[:index_dim].T.astype(np.float32), len(x))


# "learned": retrieval/learn.py (a metric learned from the library's own photos under edits
# and the user's marks), the same arrays
KINDS = {"pca-whiten": LinearProjection.from_bytes, "learned": LinearProjection.from_bytes,
         "pca-axes": PrincipalAxes.from_bytes}


def whitens(p) -> bool:
    """Whether ``p`` ranks in a space of its own (a whitening, a learned metric), not by the
    raw vectors' cosine (no projection, or the shipped principal axes)."""
    return p is not None and p.kind != "pca-axes"


# -- the projection from the first photo (packaging/make_projection.py made it) ---------------
SHIPPED_FILE = "pca-axes.npz"
SHIPPED_INDEX_DIM = 128  # 512 B of floats a photo; 96 lost recall@20 on holidays-dev (0.993)


def shipped(dim: int) -> PrincipalAxes | None:
    """The shipped principal axes for raw vectors of ``dim``, None when they do not fit (a
    model of another size) or are missing."""
    try:
        p = PrincipalAxes.from_bytes(projection_path(SHIPPED_FILE).read_bytes())
    except (OSError, ValueError, KeyError):
        return None
    return p if p.dim == dim else None


def load(data: bytes) -> LinearProjection:
    """A stored projection of any kind."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        kind = str(z["kind"])
    if kind not in KINDS:
        raise ValueError(f"unknown projection kind {kind!r}")
    return KINDS[kind](data)


# -- when and how the library learns its own whitening -----------------------------------------
MIN_TRAIN = 2000       # fewer vectors than this: plain vectors (a whitening would be noise)
REFIT_GROWTH = 1.5     # refit when the library has grown by half since the last fit
FIT_SAMPLE = 20000     # vectors drawn at random to fit (the covariance settles long before)
DIM = 256              # whitened dimensions kept: the ranking space (re-ranking)
INDEX_DIM = 128        # the leading ones the HNSW graph holds (512 B of floats a photo)
SHRINK = 10.0          # variance regularisation: 1 helps scenes but costs edited copies (evaluate_settings)


def refit_due(count: int, current) -> bool:
    """Whether a library of ``count`` vectors should (re)learn its projection (the shipped
    axes count as none: a library learns its own at MIN_TRAIN)."""
    if count < MIN_TRAIN:
        return False
    return not whitens(current) or count >= REFIT_GROWTH * max(current.trained_on, 1)


def fit_library(vectors: np.ndarray, library_size: int) -> LinearProjection:
    """The library's PCA-whitening from a sample of its raw vectors; ``trained_on`` records
    the library's size (what the next refit is measured against)."""
    p = fit_pca_whitening(vectors, DIM, INDEX_DIM, shrink=SHRINK)
    return LinearProjection(p.kind, p.mean, p.matrix, p.index_dim, int(library_size))


def describe(p) -> dict:
    """For ``status``: what the index searches in."""
    if p is None:
        return {"version": RAW, "kind": "none",
                "note": f"plain vectors until the library holds {MIN_TRAIN} photos"}
    if not whitens(p):
        return {"version": p.version, "kind": p.kind, "dim": p.dim, "index_dim": p.index_dim,
                "trained_on": 0, "note": "shipped principal axes (ranked by plain cosine) "
                f"until the library holds {MIN_TRAIN} photos"}
    return {"version": p.version, "kind": p.kind, "dim": p.dim, "index_dim": p.index_dim,
            "trained_on": p.trained_on}
