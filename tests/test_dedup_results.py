"""Duplicates results that persist, only new photos checked, the keeper by PATH, bursts kept
out of copy groups: real photos, the real model, catalogue and index."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from dedup_shots import burst, combined_edits
from photofinder.library import Library
from samples import sample_images


@pytest.fixture
def lib_and_folder(tmp_path, model):
    folder = tmp_path / "photos"
    folder.mkdir()
    img = sample_images()["astronaut"]
    img.save(folder / "astronaut.jpg", quality=92)
    combined_edits(img)["crop-border"].save(folder / "astronaut-crop-border.jpg", quality=85)
    shutil.copy2(folder / "astronaut.jpg", folder / "astronaut copy.jpg")
    burst(img, seed=3).save(folder / "astronaut-burst.jpg", quality=90)
    burst(img, seed=4).save(folder / "astronaut-burst2.jpg", quality=90)
    sample_images()["camera"].save(folder / "camera.jpg", quality=92)
    lib = Library(tmp_path / "lib")
    lib.add_folder(folder)
    lib.update(duplicates=False)  # indexed only: here ``duplicates`` does the checking
    yield lib, folder
    lib.close()


def names(groups):
    return [sorted(os.path.basename(m.path) for m in g.members) for g in groups]


def test_bursts_are_similar_shots_apart_from_copies(lib_and_folder):
    lib, folder = lib_and_folder
    found = lib.find_duplicates()
    assert names(found.groups) == [["astronaut copy.jpg", "astronaut-crop-border.jpg", "astronaut.jpg"]]
    (shots,) = found.similar_shots
    assert names([shots])[0] == ["astronaut-burst.jpg", "astronaut-burst2.jpg"]
    assert all(m.kind == "similar" for m in shots.members)
    j = found.to_json()
    assert set(j) == {"groups", "similar_shots"} and j["similar_shots"][0]["members"][0]["kind"] == "similar"


def test_results_persist_and_only_new_photos_are_checked(lib_and_folder):
    lib, folder = lib_and_folder
    first: dict = {}
    found = lib.find_duplicates(stats=first)
    assert first["checked"] > 0
    stored = lib.stored_duplicates()
    assert stored is not None and stored.fresh and names(stored.groups) == names(found.groups)
    again: dict = {}
    assert names(lib.find_duplicates(stats=again).groups) == names(found.groups)
    assert again["checked"] == 0 and again["candidates"] == 0  # nothing new: nothing checked
    assert lib.stored_duplicates(sensitivity=0.9) is None  # another sensitivity: not trusted
    img = sample_images()["astronaut"]
    combined_edits(img)["rotate-crop"].save(folder / "astronaut-rotated.jpg", quality=85)
    lib.update(duplicates=False)
    third: dict = {}
    found3 = lib.find_duplicates(stats=third)
    assert "astronaut-rotated.jpg" in names(found3.groups)[0]
    assert 0 < third["checked"] <= 4  # the new photo's candidates only
    # a member changed on disk: stored groups holding it are no longer shown as they were
    (folder / "astronaut-crop-border.jpg").write_bytes((folder / "camera.jpg").read_bytes())
    lib.update(duplicates=False)
    stale = lib.stored_duplicates()
    assert stale is not None and not stale.fresh
    assert all("astronaut-crop-border.jpg" not in n for n in names(stale.groups))


def test_indexing_checks_the_new_photos_so_duplicates_has_nothing_left(lib_and_folder, tmp_path):
    """``update`` ends with the duplicates check of what it indexed: the stored results are
    those a ``duplicates`` run makes, and that run then checks nothing; a photo arriving
    later is checked as it is indexed, alone with its candidates."""
    ref_lib, folder = lib_and_folder
    want = ref_lib.find_duplicates()  # the check made by ``duplicates`` itself
    with Library(tmp_path / "lib2") as lib:
        lib.add_folder(folder)
        lib.update()
        stored = lib.stored_duplicates()
        assert stored is not None and stored.fresh
        assert names(stored.groups) == names(want.groups)
        assert names(stored.similar_shots) == names(want.similar_shots)
        stats: dict = {}
        found = lib.find_duplicates(stats=stats)
        assert stats["candidates"] == 0 and stats["checked"] == 0
        assert names(found.groups) == names(want.groups)
        img = sample_images()["astronaut"]
        combined_edits(img)["rotate-crop"].save(folder / "astronaut-rotated.jpg", quality=85)
        lib.update()
        stored = lib.stored_duplicates()
        assert "astronaut-rotated.jpg" in names(stored.groups)[0]
        again: dict = {}
        lib.find_duplicates(stats=again)
        assert again["checked"] == 0


def test_keep_by_path_among_byte_identical_copies(lib_and_folder, capsys):
    from photofinder.cli import main

    lib, folder = lib_and_folder
    want = str(folder / "astronaut copy.jpg")
    lib.keep(want)
    (g,) = lib.find_duplicates().groups
    assert g.keep == want and "chosen by you" in g.members[0].reasons[0]
    assert want not in [m.path for m in g.others]
    path = lib.path
    lib.close()
    assert main(["--library", str(path), "duplicates", "--json", "--keep", str(folder / "astronaut.jpg")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["groups"][0]["keep"] == str(folder / "astronaut.jpg")
    assert "similar_shots" in out


def test_same_pixels_other_capture_time_is_another_shot(tmp_path, model):
    """Two exposures of a still scene can line up pixel for pixel; a copy keeps the capture
    time, another exposure has its own."""
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    img = sample_images()["chelsea"]
    for name, when in (("a.jpg", "2024:05:01 10:00:00"), ("b.jpg", "2024:05:01 10:00:03"),
                       ("c.jpg", "2024:05:01 10:00:00"), ("d.jpg", "2024:05:01 10:00:06")):
        exif = Image.Exif()
        exif[0x0110] = "test camera"
        exif.get_ifd(0x8769)[0x9003] = when  # DateTimeOriginal
        (img if name != "c.jpg" else img.resize((img.width // 2, img.height // 2))).save(
            folder / name, quality={"b.jpg": 80, "d.jpg": 70}.get(name, 90), exif=exif)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(folder)
        lib.update()
        found = lib.find_duplicates()
    assert names(found.groups) == [["a.jpg", "c.jpg"]]
    assert names(found.similar_shots) == [["b.jpg", "d.jpg"]]


@pytest.mark.parametrize("name", ["chelsea", "stereo_motorcycle"])
def test_look_alikes_never_chain_into_one_group_of_similar_shots(tmp_path, model, name):
    """A camera swept across a scene, a frame at a time: each frame is another shot of its
    neighbours (they overlap), but the first and the last show nothing in common. A group of
    similar shots holds photos like most of its members, never a chain A~B~C~D~E linked one
    to the next (a union of pairwise look-alikes made one group of 20 photos from 9 scenes
    of holidays-dev)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    img = sample_images()[name]
    w, h = img.size
    n, side = 5, int(0.4 * w)  # 5 frames 0.4 of the width wide, 0.15 apart: frames 3 or
    step = (w - side) / (n - 1)  # more apart share nothing
    for i in range(n):
        x0 = round(i * step)
        burst(img.crop((x0, 0, x0 + side, h)), seed=10 + i).save(folder / f"f{i}.jpg", quality=90)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(folder)
        lib.update(duplicates=False)
        found = lib.find_duplicates()
    assert found.groups == []  # another shot each, no copy
    shots = names(found.similar_shots)
    assert sorted(p for g in shots for p in g) == [f"f{i}.jpg" for i in range(n)]  # each found
    for g in shots:
        frames = sorted(int(p[1]) for p in g)
        assert frames[-1] - frames[0] < 3, shots  # no two frames without common content
