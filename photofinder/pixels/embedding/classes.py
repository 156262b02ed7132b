"""The model's class output, kept compactly: each photo's top ImageNet classes with their
probabilities (41 bytes a photo in the catalogue), and the same for a photo indexed before
the model had the output, from its stored embedding and the head's weights."""

from __future__ import annotations

import numpy as np

TOP_K = 10           # classes kept a photo (10 against all 1000: -0.01 mAP on the tuned words)
TAGS_FROM_MODEL, TAGS_FROM_EMBEDDING = 1, 2
# softmax(T * head(embedding)) stands in for the head's output on a photo indexed before the
# model had it: the stored embedding is GeM-pooled and unit length, the head was trained on
# average pooling; T = 17 matches the probabilities best (KL) on 35 photos outside
# holidays-dev (top-1 agrees on 89%), and word search scores the same with them
# (benchmarks/words_quality.py: "tags from embeddings").
TEMPERATURE = 17.0
_TAG_DTYPE = np.dtype([("cls", "<u2"), ("p", "<u2")])
TAG_BYTES = 1 + TOP_K * _TAG_DTYPE.itemsize


def top_classes(probs: np.ndarray, k: int = TOP_K) -> tuple[np.ndarray, np.ndarray]:
    """(classes (n, k) int16, probabilities (n, k) float32), most probable first."""
    probs = np.asarray(probs, np.float32)
    idx = np.argpartition(-probs, k - 1, axis=1)[:, :k]
    p = np.take_along_axis(probs, idx, 1)
    order = np.argsort(-p, axis=1)
    return (np.take_along_axis(idx, order, 1).astype(np.int16),
            np.take_along_axis(p, order, 1))


def encode_tags(classes: np.ndarray, probs: np.ndarray, kind: int) -> bytes:
    """One photo's top classes as 41 bytes: the kind (from the model's class output, or
    from its stored embedding), then (class, probability x 65535) as little-endian uint16."""
    rec = np.zeros(TOP_K, _TAG_DTYPE)
    rec["cls"][:len(classes)] = classes
    rec["p"][:len(probs)] = np.round(np.clip(probs, 0, 1) * 65535)
    return bytes([kind]) + rec.tobytes()


def decode_tags(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Many photos' tags at once: (classes (n, k), probs (n, k), kinds (n,))."""
    if not blobs:
        return np.zeros((0, TOP_K), np.int16), np.zeros((0, TOP_K), np.float32), \
            np.zeros(0, np.uint8)
    raw = np.frombuffer(b"".join(blobs), np.uint8).reshape(len(blobs), TAG_BYTES)
    rec = raw[:, 1:].copy().view(_TAG_DTYPE)
    return rec["cls"].astype(np.int16), rec["p"].astype(np.float32) / 65535, raw[:, 0].copy()


def probs_from_embeddings(vectors: np.ndarray, head: tuple[np.ndarray, np.ndarray]
                          ) -> np.ndarray:
    """Class probabilities of photos from their stored (GeM, unit) embeddings: see
    ``TEMPERATURE``."""
    weight, bias = head
    z = TEMPERATURE * (np.asarray(vectors, np.float32) @ weight.T) + bias
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
