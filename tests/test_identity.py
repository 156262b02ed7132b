"""One content hash and one vector codec (photofinder/identity.py): what the indexer records
is what the trash checks, whichever way a file is read."""

from __future__ import annotations

import io

import numpy as np

from photofinder import identity
from photofinder.dedup.cleanup import file_hash as cleanup_file_hash
from photofinder.pixels import imaging
from samples import sample_images


def test_a_file_hashes_the_same_whole_in_chunks_and_at_the_trash(tmp_path):
    img = sample_images()["coffee"].resize((1200, 800))
    buf = io.BytesIO()
    img.save(buf, "BMP")  # uncompressed: nearly 3 MB, more than one chunk
    data = buf.getvalue()
    assert len(data) > 2 * identity.CHUNK
    for name, blob in (("big.bmp", data), ("exact.bin", data[:identity.CHUNK]),
                       ("small.bin", data[:1000]), ("empty.bin", b"")):
        path = tmp_path / name
        path.write_bytes(blob)
        whole = identity.content_hash(blob)
        assert identity.file_hash(path) == whole
        if name == "big.bmp":  # the hash the indexer records as it decodes the photo
            assert imaging.load(path)[1] == whole
        assert cleanup_file_hash(str(path)) == whole  # the trash's check, until it uses identity
    assert identity.content_hash(data) != identity.content_hash(data[:-1])


def test_vectors_round_trip_through_their_stored_bytes():
    rng = np.random.default_rng(3)
    v = rng.standard_normal((5, 1280)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    blobs = [identity.encode_vector(x) for x in v]
    assert all(len(b) == 1280 * 2 for b in blobs)
    half = v.astype(np.float16).astype(np.float32)
    assert np.array_equal(identity.decode_vector(blobs[0]), half[0])
    assert np.array_equal(identity.decode_matrix(blobs), half)
    chunks = list(identity.decode_vectors(((i, b) for i, b in enumerate(blobs)), chunk=2))
    assert [labels for labels, _ in chunks] == [[0, 1], [2, 3], [4]]
    assert np.array_equal(np.vstack([m for _, m in chunks]), half)
