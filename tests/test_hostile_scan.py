"""Scanning a disk people really have: symlink loops, odd and long names, system folders, a
huge folder, and a mix of good and broken files through the real Library and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import dbutil
from PIL import Image

import imagegen as g
from photofinder.work import scanner


def _jpeg(path, colour=(120, 60, 30), size=(160, 120)):
    img = g.upright(*size)
    img.paste(colour, (0, 0, size[0] // 3, size[1] // 3))
    path.write_bytes(g.encode(img, "JPEG", quality=90))


def _cli(library_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "photofinder", "--library", str(library_dir), *args],
                          capture_output=True, timeout=300, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def test_symlink_loops_and_links_do_not_hang_or_duplicate(tmp_path):
    root = tmp_path / "photos"
    (root / "a" / "b").mkdir(parents=True)
    _jpeg(root / "a" / "b" / "one.jpg")
    (root / "a" / "b" / "up").symlink_to(root)  # folder loop
    (root / "a" / "self").symlink_to(root / "a")
    (root / "loop1.jpg").symlink_to(root / "loop2.jpg")  # file loop
    (root / "loop2.jpg").symlink_to(root / "loop1.jpg")
    (root / "dir-named.jpg").symlink_to(root / "a")  # a link to a folder, named like a photo
    (root / "alias.jpg").symlink_to(root / "a" / "b" / "one.jpg")
    found = scanner.walk(str(root))
    assert len(found) == 1  # one.jpg, seen once (the alias is the same inode)


def test_hidden_and_system_folders_skipped(tmp_path):
    root = tmp_path / "photos"
    for d in [".thumbnails", "@eaDir", ".Trash-1000", ".cache", "$RECYCLE.BIN", "#recycle",
              "lost+found", "__MACOSX", "System Volume Information", ".git", "keep"]:
        (root / d / "deep").mkdir(parents=True)
        _jpeg(root / d / "x.jpg")
        _jpeg(root / d / "deep" / "y.jpg")
    found = sorted(os.path.relpath(p, root) for p in scanner.walk(str(root)))
    assert found == ["keep/deep/y.jpg", "keep/x.jpg"]


def test_real_svg_drawings_are_not_listed_but_disguised_photos_are(tmp_path):
    (tmp_path / "icon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    (tmp_path / "photo.svg").write_bytes(g.encode(g.upright(), "JPEG"))
    assert [os.path.basename(p) for p in scanner.walk(str(tmp_path))] == ["photo.svg"]


def test_very_long_names_and_too_deep_paths(library, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    longest = "x" * 251 + ".jpg"  # NAME_MAX is 255 bytes
    _jpeg(root / longest)
    _jpeg(root / ("é" * 125 + ".jpg"))  # 250 bytes of UTF-8
    # a chain of folders deeper than PATH_MAX (4096): made relative to each parent's fd
    fd = os.open(root, os.O_RDONLY)
    for _ in range(24):
        os.mkdir("d" * 200, dir_fd=fd)
        nxt = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    with open(os.open("deep.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
        f.write(g.encode(g.upright(), "JPEG"))
    os.close(fd)
    library.add_folder(root)
    report, prog = library.update()
    st = library.status().to_json()
    assert st["photos"]["indexed"] == 2, st
    paths = {r["path"] for r in dbutil.rows(library, "SELECT path FROM photos")}
    assert str(root / longest) in paths and len(paths) == 2
    assert any("too long" in why.lower() for _, why in report.problems), report.problems


def test_non_utf8_file_names_survive_catalogue_json_and_cli(library, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    raw_names = [b"caf\xe9.jpg", b"\xff\xfe-bad.jpg", "ok-ünïcode.jpg".encode()]
    for raw in raw_names:
        with open(os.path.join(os.fsencode(root), raw), "wb") as f:
            f.write(g.encode(g.upright(), "JPEG"))
    with open(os.path.join(os.fsencode(root), b"broken-\xe9.jpg"), "wb") as f:
        f.write(b"not a photo")
    library.add_folder(root)
    library.update()
    st = library.status().to_json()
    assert st["photos"]["indexed"] == 3  # three files (exact copies, but three photos)
    indexed = {os.path.basename(os.fsencode(r["path"])) for r in dbutil.rows(library,
        "SELECT path FROM photos WHERE status='indexed'")}
    assert indexed == set(raw_names)  # every name round-trips byte for byte
    assert st["photos"]["indexed"] + st["photos"]["failed"] == 4
    back = {os.path.basename(os.fsencode(e["path"])) for e in st["errors"]}
    assert back == {b"broken-\xe9.jpg"}
    library.close()
    r = _cli(library.path, "status", "--json")
    assert r.returncode == 0 and b"Traceback" not in r.stderr
    parsed = json.loads(r.stdout)
    assert {os.path.basename(os.fsencode(e["path"])) for e in parsed["errors"]} == {b"broken-\xe9.jpg"}
    r = _cli(library.path, "status")
    assert r.returncode == 0 and b"Traceback" not in r.stderr


@pytest.mark.slow
def test_folder_of_100000_files_scans(library, tmp_path):
    """Scan only (no decoding): 100,000 tiny files are listed and catalogued in one pass."""
    root = tmp_path / "huge"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    try:
        for i in range(100_000):
            os.close(os.open(f"IMG_{i:06d}.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        for i in range(1000):  # and files that are not candidates
            os.close(os.open(f"note_{i}.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    assert len(scanner.walk(str(root))) == 100_000
    library.add_folder(root)
    report = library.scan()
    assert report.new == 100_000
    assert library.catalog.photos.counts()["pending"] == 100_000
    report = library.scan()  # a rescan only stats
    assert report.unchanged == 100_000 and report.new == 0


# -- end to end: good and hostile files side by side -------------------------------------------
def _bomb_png() -> bytes:
    from test_hostile_files import _png_header

    return _png_header(60_000, 60_000)


def _populate_good(root):
    _jpeg(root / "a.jpg", (200, 0, 0))
    (root / "b-rotated.jpg").write_bytes(
        g.encode(g.stored_for(6), "JPEG", exif=g.exif_with(6).tobytes()))
    (root / "c.heic").write_bytes(g.encode(g.upright(200, 120), "HEIF"))
    (root / "d.dng").write_bytes(g.make_dng(8, "jpeg"))
    (root / "e-disguised.svg").write_bytes(g.encode(g.upright(130, 90), "PNG"))
    (root / "f.avif").write_bytes(g.encode(g.upright(140, 100), "AVIF"))
    (root / "g.gif").write_bytes(g.encode(g.upright(150, 100).convert("P"), "GIF"))
    (root / "h.tiff").write_bytes(g.encode(g.upright(170, 100), "TIFF"))
    return 8


BAD = {
    "empty.jpg": (lambda: b"", "empty file"),
    "cut.jpg": (lambda: g.encode(g.upright(400, 300), "JPEG")[:900], "truncated"),
    "text.jpg": (lambda: b"just some text\n" * 20, "not an image"),
    "bomb.png": (_bomb_png, "too large"),
    "strip.png": (lambda: g.encode(Image.new("RGB", (4000, 10)), "PNG"), "aspect"),
    "fake.cr2": (lambda: b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\0" * 500, "CR2 camera RAW"),
    "page.heic": (lambda: b"<html><body>login</body></html>", "HTML"),
}
MORE_BAD = {
    "later-empty.png": (lambda: b"", "empty file"),
    "later-noise.webp": (lambda: b"RIFF\x00\x01\x00\x00WEBPVP8 " + bytes(range(256)) * 4, ""),
    "later-cut.heic": (lambda: g.encode(g.upright(300, 200), "HEIF")[:400], ""),
}


def test_good_and_hostile_files_end_to_end(library, tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    good = _populate_good(root)
    for name, (make, _) in BAD.items():
        (root / name).write_bytes(make())
    (root / "real.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')  # not listed
    (root / "folder.jpg").mkdir()  # a folder named like a photo: walked, not decoded
    os.mkfifo(root / "pipe.jpg")  # not a regular file: not listed, never blocks
    (root / "dangling.jpg").symlink_to(root / "gone.jpg")  # an error, never skipped silently
    (root / ".thumbnails").mkdir()
    _jpeg(root / ".thumbnails" / "t.jpg")

    library.add_folder(root)
    _, prog = library.update()
    st = library.status().to_json()
    assert st["photos"]["indexed"] == good, st["errors"]
    assert st["photos"]["failed"] == len(BAD) + 1 and prog.failed == len(BAD)
    errors = {os.path.basename(e["path"]): e["error"] for e in st["errors"]}
    assert set(errors) == set(BAD) | {"dangling.jpg"}
    for name, (_, expected) in BAD.items():
        assert expected in errors[name] and "\n" not in errors[name], (name, errors[name])
    assert errors["dangling.jpg"] == (f"broken symbolic link: it points to {root / 'gone.jpg'}, "
                                      "which is not there")
    before = {r["path"]: r["hash"] for r in dbutil.rows(library,
        "SELECT path, hash FROM photos WHERE status='indexed'")}
    labels_before = sorted(library.catalog.embeddings.labels(library.embedder.model_id))

    # more bad files arrive, one good file is damaged in place: nothing else is lost
    for name, (make, _) in MORE_BAD.items():
        (root / name).write_bytes(make())
    library.update()
    st = library.status().to_json()
    assert st["photos"]["indexed"] == good
    assert st["photos"]["failed"] == len(BAD) + len(MORE_BAD) + 1
    after = {r["path"]: r["hash"] for r in dbutil.rows(library,
        "SELECT path, hash FROM photos WHERE status='indexed'")}
    assert after == before
    assert sorted(library.catalog.embeddings.labels(library.embedder.model_id)) == labels_before
    assert len(library.space.index) == good
    # searching still works
    hits = library.similar(root / "a.jpg", top=3)
    assert hits and all(h.path != str(root / "a.jpg") for h in hits)
    library.close()

    r = _cli(library.path, "status", "--json")
    assert r.returncode == 0, r.stderr
    assert b"Traceback" not in r.stderr
    parsed = json.loads(r.stdout)
    names = {os.path.basename(e["path"]) for e in parsed["errors"]}
    assert names == set(BAD) | set(MORE_BAD) | {"dangling.jpg"}
    assert all(e["error"] and "\n" not in e["error"] for e in parsed["errors"])
    r = _cli(library.path, "status")
    assert r.returncode == 0 and b"Traceback" not in r.stderr
    assert r.stdout.count(b"error: ") == len(BAD) + len(MORE_BAD) + 1


def test_cli_add_reports_failures_without_traceback(tmp_path, model):
    root = tmp_path / "p"
    root.mkdir()
    _jpeg(root / "ok.jpg")
    (root / "zero.jpg").write_bytes(b"")
    (root / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30)
    r = _cli(tmp_path / "L", "add", str(root))
    assert r.returncode == 0, r.stderr
    assert b"Traceback" not in r.stdout + r.stderr
    st = json.loads(_cli(tmp_path / "L", "status", "--json").stdout)
    assert st["photos"] == {"indexed": 1, "pending": 0, "failed": 2}
