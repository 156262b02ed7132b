"""A symlink named like a photo that leads nowhere is bad input like a broken file: a one-line
error in the catalogue (status, the GUI's problems), never skipped silently; the scan goes on,
nothing indexed is lost, and the link is picked up once it resolves again. Real files, the
real Library and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dbutil
import imagegen as g
from photofinder.work import scanner

DANGLING = "broken symbolic link: it points to ../elsewhere/later.jpg, which is not there"


def _jpeg(path, colour=(120, 60, 30)):
    img = g.upright(160, 120)
    img.paste(colour, (0, 0, 50, 40))
    path.write_bytes(g.encode(img, "JPEG", quality=90))


def _cli(library_dir, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "photofinder", "--library", str(library_dir),
                           *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def _errors(library) -> dict[str, str]:
    return {os.path.basename(e.path): e.error for e in library.status().errors}


def test_walk_reports_links_that_lead_nowhere(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    _jpeg(root / "one.jpg")
    (root / "dangling.jpg").symlink_to(root / "gone.jpg")
    (root / "self.jpg").symlink_to("self.jpg")  # a loop
    (root / "notes.txt").symlink_to(root / "gone.txt")  # not named like a photo: not ours
    broken: dict = {}
    found = scanner.walk(str(root), broken=broken)
    assert [os.path.basename(p) for p in found] == ["one.jpg"]
    why = {os.path.basename(p): b[0] for p, b in broken.items()}
    assert set(why) == {"dangling.jpg", "self.jpg"}
    assert why["dangling.jpg"] == (f"broken symbolic link: it points to {root / 'gone.jpg'}, "
                                   "which is not there")
    assert why["self.jpg"].startswith("symbolic link loop")


def test_broken_link_is_an_error_kept_until_it_resolves(library, tmp_path):
    root, outside = tmp_path / "photos", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    _jpeg(root / "a.jpg", (200, 30, 30))
    _jpeg(root / "b.jpg", (30, 200, 30))
    _jpeg(outside / "far.jpg", (30, 30, 200))
    (root / "far.jpg").symlink_to(outside / "far.jpg")  # a link out of the folder: a photo
    (root / "dangling.jpg").symlink_to("../elsewhere/later.jpg")  # relative, not there yet

    library.add_folder(root)
    report, _ = library.update()
    assert report.broken == [(str(root / "dangling.jpg"), DANGLING)]
    st = library.status()
    assert (st.photos.indexed, st.photos.failed) == (3, 1)
    assert _errors(library) == {"dangling.jpg": DANGLING}
    ids = {r["path"]: r["id"] for r in dbutil.rows(library, "SELECT id, path FROM photos")}
    vectors = "SELECT p.path, e.id FROM photos p JOIN embeddings e ON e.photo_id = p.id"
    labels = {r["path"]: r["id"] for r in dbutil.rows(library, vectors)}
    assert len(labels) == 3

    # a rescan changes nothing; the error stays, said once
    report, prog = library.update()
    assert (report.new, report.changed, report.deleted, prog.done) == (0, 0, 0, 0)
    assert report.broken and len(library.status().errors) == 1

    # the link's target goes (a drive unplugged): the photo keeps its place and id, says why
    (outside / "far.jpg").rename(outside / "away.jpg")
    report, _ = library.update()
    assert report.deleted == 0
    assert _errors(library)["far.jpg"] == (f"broken symbolic link: it points to "
                                           f"{outside / 'far.jpg'}, which is not there")
    assert {r["path"]: r["id"] for r in dbutil.rows(library, "SELECT id, path FROM photos")} == ids
    st = library.status()
    assert (st.photos.indexed, st.photos.failed) == (2, 2)
    assert len(library.space.index) == 2  # its vector goes: the file cannot be opened
    hits = library.similar(root / "a.jpg", top=5)
    assert [os.path.basename(h.path) for h in hits] == ["b.jpg"]

    # both links resolve again: indexed as usual, the far photo under its old id
    (outside / "away.jpg").rename(outside / "far.jpg")
    _jpeg(outside / "later.jpg", (200, 200, 30))
    report, prog = library.update()
    assert report.broken == [] and prog.failed == 0
    st = library.status()
    assert (st.photos.indexed, st.photos.failed) == (4, 0) and st.errors == []
    now = {r["path"]: r["id"] for r in dbutil.rows(library, "SELECT id, path FROM photos")}
    assert all(now[p] == i for p, i in ids.items())
    assert len(library.space.index) == 4
    now = {r["path"]: r["id"] for r in dbutil.rows(library, vectors)}
    for name in ("a.jpg", "b.jpg"):  # the rest of the folder kept its vectors throughout
        assert now[str(root / name)] == labels[str(root / name)]

    # and the CLI: one line on stderr at the scan, the error in status --json
    (outside / "later.jpg").unlink()
    library.close()
    r = _cli(library.path, "scan")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert f"photofinder: {root / 'dangling.jpg'}: {DANGLING}" in r.stderr.splitlines()
    r = _cli(library.path, "status", "--json")
    errors = json.loads(r.stdout)["errors"]
    assert errors == [{"path": str(root / "dangling.jpg"), "error": DANGLING}]
