"""How the catalogue names things: a file's content hash and a vector's stored bytes.

One definition each, because two that drifted apart would break the library quietly: the
trash refuses a copy whose bytes no longer hash as the catalogue recorded (``file_hash`` must
equal ``content_hash`` of the same bytes), and the index is rebuilt from the stored vectors.
"""

from __future__ import annotations

import hashlib
import os
from typing import Iterable, Iterator

import numpy as np

CHUNK = 1 << 20  # bytes a file is hashed by


def content_hash(data: bytes) -> str:
    """The content hash of a photo's bytes (BLAKE2b, 16 bytes, hex)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_hash(path: str | os.PathLike) -> str:
    """``content_hash`` of a file's bytes, read in chunks (no whole copy in memory)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def encode_vector(v: np.ndarray) -> bytes:
    """A vector as the catalogue stores it: float16, native byte order."""
    return np.asarray(v, dtype=np.float16).tobytes()


def decode_vector(blob: bytes) -> np.ndarray:
    """A stored vector back as float32."""
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def decode_matrix(blobs: Iterable[bytes]) -> np.ndarray:
    """Stored vectors as the rows of one float32 matrix."""
    return np.stack([np.frombuffer(b, dtype=np.float16) for b in blobs]).astype(np.float32)


def decode_vectors(rows: Iterator[tuple[int, bytes]], chunk: int = 2048
                   ) -> Iterator[tuple[list[int], np.ndarray]]:
    """(label, stored blob) rows -> chunks of (labels, float32 matrix)."""
    labels, vecs = [], []
    for label, blob in rows:
        labels.append(label)
        vecs.append(np.frombuffer(blob, dtype=np.float16))
        if len(labels) >= chunk:
            yield labels, np.vstack(vecs).astype(np.float32)
            labels, vecs = [], []
    if labels:
        yield labels, np.vstack(vecs).astype(np.float32)
