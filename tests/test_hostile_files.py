"""Broken and hostile files: each gives one clean ImageError with a one-line reason, never
another exception, never a huge allocation. Real files on disk, no mocks."""

from __future__ import annotations

import os
import struct
import tempfile
import threading
import zlib

import pytest
from PIL import Image

import imagegen as g
from photofinder.pixels import imaging


def _one_line_error(fn, *args, match: str | None = None) -> str:
    with pytest.raises(imaging.ImageError) as e:
        fn(*args)
    msg = str(e.value)
    assert msg and "\n" not in msg and len(msg) < 300, msg
    if match:
        assert match in msg, msg
    return msg


def _png_header(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\0" * 64)
    chunk += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))


def _jpeg_with_size(w: int, h: int) -> bytes:
    data = bytearray(g.encode(Image.new("RGB", (16, 16), (9, 9, 9)), "JPEG"))
    i = data.index(b"\xff\xc0")  # baseline SOF0: length(2) precision(1) height(2) width(2)
    struct.pack_into(">HH", data, i + 5, h, w)
    return bytes(data)


def _gif_with_size(w: int, h: int) -> bytes:
    data = bytearray(g.encode(Image.new("P", (4, 4)), "GIF"))
    struct.pack_into("<HH", data, 6, w, h)  # logical screen
    j = data.index(b",")  # image descriptor
    struct.pack_into("<HH", data, j + 5, w, h)
    return bytes(data)


def _bmp_with_size(w: int, h: int) -> bytes:
    data = bytearray(g.encode(Image.new("RGB", (4, 4)), "BMP"))
    struct.pack_into("<ii", data, 18, w, h)
    return bytes(data)


@pytest.mark.parametrize("make", [
    lambda: _png_header(100_000, 100_000),
    lambda: _png_header(2**31 - 1, 2**31 - 1),
    lambda: _jpeg_with_size(65_000, 65_000),
    lambda: _gif_with_size(65_535, 65_535),
    lambda: _bmp_with_size(200_000, 200_000),
])
def test_decompression_bombs_refused_before_decoding(make):
    msg = _one_line_error(imaging.decode, make())
    assert "too large" in msg or "damaged" in msg


def test_bomb_refused_by_declared_size_with_clear_reason():
    _one_line_error(imaging.decode, _png_header(30_000, 30_000), match="too large")
    _one_line_error(imaging.decode, _jpeg_with_size(20_000, 20_000), match="too large")


def test_tiff_bomb_refused():
    data = bytearray(g.encode(Image.new("L", (8, 8)), "TIFF"))
    from tifffile import TiffFile
    import io
    with TiffFile(io.BytesIO(bytes(data))) as tf:
        tags = tf.pages[0].tags
        w, h = tags["ImageWidth"], tags["ImageLength"]
    fmt = "<I" if w.dtype == 4 else "<H"
    struct.pack_into(fmt, data, w.valueoffset, 60_000)
    struct.pack_into(fmt, data, h.valueoffset, 60_000)
    _one_line_error(imaging.decode, bytes(data), match="too large")


def test_absurd_aspect_ratio_refused_but_panoramas_and_tiny_images_load():
    _one_line_error(imaging.decode, g.encode(Image.new("RGB", (3000, 20)), "PNG"), match="aspect")
    _one_line_error(imaging.decode, g.encode(Image.new("RGB", (1, 200)), "PNG"), match="aspect")
    assert imaging.decode(g.encode(Image.new("RGB", (4000, 500)), "JPEG")).width == 4000
    assert imaging.decode(g.encode(Image.new("RGB", (1, 1)), "PNG")).image.size == (1, 1)


def test_zero_byte_and_empty_input(tmp_path):
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    _one_line_error(imaging.load, p, match="empty file")
    _one_line_error(imaging.decode, b"", match="empty file")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF"])
def test_truncated_files(fmt, tmp_path):
    big = g.upright(640, 480)
    data = g.encode(big, fmt, quality=90)
    for frac in (0.02, 0.3, 0.6, 0.95):
        cut = data[: max(1, int(len(data) * frac))]
        try:
            d = imaging.decode(cut)
        except imaging.ImageError as e:
            assert "\n" not in str(e)
            continue
        pytest.fail(f"{fmt} cut at {frac} decoded as {d.image.size}: a half-copied file is not a photo")


def test_truncated_jpeg_says_truncated(tmp_path):
    data = g.encode(g.upright(640, 480), "JPEG", quality=95)
    p = tmp_path / "cut.jpg"
    p.write_bytes(data[: len(data) // 2])
    _one_line_error(imaging.load, p, match="truncated")


@pytest.mark.parametrize("content,name,expected", [
    (b"hello, this is a text file\n" * 10, "notes.jpg", "named .jpg"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "a.svg", "SVG"),
    (b"<!DOCTYPE html><html><body>404</body></html>", "photo.jpg", "HTML"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 200, "scan.png", "PDF"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\0" * 100, "clip.heic", "video"),
    (b"PK\x03\x04" + b"\0" * 100, "x.webp", "ZIP"),
    (os.urandom(4096), "random.png", "named .png"),
    (b"\xff\xd8\xff\xe0" + os.urandom(2000), "noise.jpg", None),
    (b"\x89PNG\r\n\x1a\n" + os.urandom(500), "noise.png", None),
    (b"GIF89a" + os.urandom(500), "noise.gif", None),
    (b"RIFF\x00\x10\x00\x00WEBPVP8 " + os.urandom(500), "noise.webp", None),
    (b"II*\x00" + os.urandom(500), "noise.tif", None),
])
def test_not_an_image(tmp_path, content, name, expected):
    p = tmp_path / name
    p.write_bytes(content)
    _one_line_error(imaging.load, p, match=expected)


def test_not_a_regular_file(tmp_path):
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    _one_line_error(imaging.load, folder, match="folder")
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    _one_line_error(imaging.load, fifo, match="not a regular file")  # and does not block
    _one_line_error(imaging.load, tmp_path / "missing.jpg", match="vanished")
    link = tmp_path / "dangling.jpg"
    link.symlink_to(tmp_path / "nowhere.jpg")
    _one_line_error(imaging.load, link, match="vanished")
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    _one_line_error(imaging.load, loop, match="cannot read file")


def test_permission_denied():
    """As an ordinary user: chmod 000. As root (which ignores modes) the read runs in a forked
    child that has dropped to 'nobody'."""
    folder = tempfile.mkdtemp(prefix="pf-perm-")
    try:
        os.chmod(folder, 0o755)
        p = os.path.join(folder, "secret.jpg")
        with open(p, "wb") as f:
            f.write(g.encode(g.upright(), "JPEG"))
        os.chmod(p, 0o000)
        if os.geteuid() != 0:
            _one_line_error(imaging.load, p, match="permission denied")
            return
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: drop privileges, try to read, report, exit
            try:
                os.setgid(65534)
                os.setuid(65534)
                imaging.load(p)
                msg = b"LOADED"
            except imaging.ImageError as e:
                msg = str(e).encode()
            except BaseException as e:  # noqa: BLE001 - reported to the parent
                msg = f"OTHER {type(e).__name__}: {e}".encode()
            os.write(w, msg)
            os._exit(0)
        os.close(w)
        _, status = os.waitpid(pid, 0)
        with os.fdopen(r, "rb") as f:
            msg = f.read().decode()
        assert msg == "permission denied", msg
    finally:
        os.chmod(p, 0o644)
        os.unlink(p)
        os.rmdir(folder)


def test_file_still_being_copied_is_never_accepted_half_written(tmp_path):
    """A writer copies a photo in small pieces while the loader keeps trying: every attempt
    is a clean error or the whole photo (its hash is the full file's), never a partial one."""
    data = g.encode(g.upright(800, 600), "JPEG", quality=95)
    full_hash = imaging.content_hash(data)
    p = tmp_path / "copying.jpg"
    p.write_bytes(b"")
    done = threading.Event()

    def copy():
        with open(p, "wb") as f:  # the last piece holds the end of the scan and the EOI
            for i in range(0, len(data) - 1024, 512):
                f.write(data[i:min(i + 512, len(data) - 1024)])
                f.flush()
            f.write(data[len(data) - 1024:])
        done.set()

    t = threading.Thread(target=copy)
    t.start()
    outcomes = set()
    while True:
        finished = done.is_set()
        try:
            d, digest, size = imaging.load(p, need=64)
            assert digest == full_hash and size == len(data)
            outcomes.add("ok")
        except imaging.ImageError as e:
            assert "\n" not in str(e)
            outcomes.add("error")
        if finished:
            break
    t.join()
    assert "ok" in outcomes  # once the copy is done the photo loads


def test_file_replaced_and_deleted_while_loading(tmp_path):
    """Another program keeps replacing and deleting the file: only ImageError or a result
    whose hash is one of the real versions ever comes back."""
    versions = [g.encode(g.upright(300 + 10 * i, 200), "PNG") for i in range(3)]
    hashes = {imaging.content_hash(v) for v in versions}
    p = tmp_path / "busy.png"
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            tmp = tmp_path / f".tmp{i % 2}"
            tmp.write_bytes(versions[i % 3])
            os.replace(tmp, p)
            if i % 4 == 3:
                p.unlink()
            i += 1

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(300):
            try:
                _, digest, _ = imaging.load(p, need=64)
                assert digest in hashes
            except imaging.ImageError as e:
                assert "\n" not in str(e)
    finally:
        stop.set()
        t.join()


def test_thumbnail_errors_are_image_errors(tmp_path):
    p = tmp_path / "bad.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    _one_line_error(imaging.thumbnail, p, 64)
