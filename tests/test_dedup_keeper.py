"""The keeper (issue 20, point 4): the unspoiled original, not the copy saved at a higher
JPEG quality nor the one the library happened to find first. End to end on real photos and
edits (tests/dedup_edits.py), the real model, catalogue and verdicts; and each rule alone."""

from __future__ import annotations

import os

import numpy as np
import pytest

import dedup_edits as E
from photofinder.dedup import keeper
from photofinder.library import Library

from samples import sample_images


@pytest.mark.parametrize("name", ["coffee", "astronaut"])
def test_the_original_beats_overlay_tone_and_border_copies_saved_at_a_higher_quality(tmp_path, model, name):
    """Copies people make, each saved at JPEG quality 95 beside the original's 92, and named
    so that the library finds them first: a caption, a sepia look, a white border. None of
    them is the original: the caption hides part of the picture against every other copy,
    the sepia look changed against each, the border is no picture; a re-save at 95 is no
    better than 92. (Before: "least compressed" or "known longest" kept a copy.)"""
    img = sample_images()[name]
    rng = np.random.default_rng(7)
    d = tmp_path / "photos"
    d.mkdir()
    img.save(d / f"{name}.jpg", quality=92)
    for edit in ("caption", "sepia", "border"):
        out, _, _ = E.apply(img, [edit], rng)
        out.save(d / f"{name}--{edit}.jpg", quality=95)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(d)
        lib.update()
        (g,) = lib.find_duplicates().groups
    assert len(g.members) == 4, [m.path for m in g.members]
    assert os.path.basename(g.keep) == f"{name}.jpg", g.members[0].reasons
    by = {os.path.basename(m.path): m for m in g.members}
    assert by[f"{name}--sepia.jpg"].edit and not by[f"{name}--sepia.jpg"].preselected
    assert by[f"{name}--caption.jpg"].preselected and by[f"{name}--border.jpg"].preselected


BASE = dict(format="JPEG", size=100_000, width=1000, height=800, content=1.0, real=800_000,
            taken_at=None, camera=False, jpeg_quality=92)


def _keep(members, **rules):
    return keeper.choose([dict(m) for m in members], keeper.Rules(**rules))


def test_a_resave_at_a_slightly_higher_quality_is_no_better_a_messenger_copy_is_worse():
    orig = {**BASE, "path": "/p/b.jpg", "hash": "o", "id": 2, "links": 3}
    resave = {**BASE, "path": "/p/a.jpg", "hash": "r", "id": 1, "jpeg_quality": 95, "links": 1}
    keep, reasons = _keep([orig, resave])
    assert keep["path"] == "/p/b.jpg" and "match most" in reasons[-1], reasons
    camera = {**orig, "jpeg_quality": 96, "links": 1}
    messenger = {**resave, "jpeg_quality": 70, "links": 3}
    keep, reasons = _keep([camera, messenger])
    assert keep["path"] == "/p/b.jpg" and "clearly less compressed" in reasons[0], reasons


def test_known_longest_decides_between_byte_identical_copies_only():
    a = {**BASE, "path": "/p/a-copy.jpg", "hash": "x", "id": 1}
    b = {**BASE, "path": "/p/b.jpg", "hash": "y", "id": 2}
    keep, reasons = _keep([a, b])
    assert not any("known longest" in r for r in reasons), reasons
    same = {**b, "hash": "x", "path": "/p/ab.jpg"}
    keep, reasons = _keep([same, a])
    assert keep["path"] == "/p/a-copy.jpg" and "known longest" in reasons[-1]


@pytest.mark.parametrize("fact, value, words", [
    ("overlay", 0.3, "no caption, watermark"),  # every pair of it hides 30% of the picture
    ("edited", True, "look not changed"),  # every pair of it changed the look
])
def test_each_new_rule_keeps_the_copy_without_the_edit(fact, value, words):
    orig = {**BASE, "path": "/p/z.jpg", "hash": "o", "id": 9, "jpeg_quality": 90}
    copy = {**BASE, "path": "/p/a.jpg", "hash": "c", "id": 1, "jpeg_quality": 95, fact: value}
    keep, reasons = _keep([copy, orig])
    assert keep["path"] == "/p/z.jpg" and words in reasons[0], reasons
    assert keeper.beaten_by(keep, copy, keeper.Rules()) is not None


def test_an_added_border_loses_to_the_same_picture_without_one():
    orig = {**BASE, "path": "/p/z.jpg", "hash": "o", "id": 9, "jpeg_quality": 90}
    framed = {**BASE, "path": "/p/a.jpg", "hash": "c", "id": 1, "jpeg_quality": 95,
              "width": 1160, "height": 960}  # as many real pixels, in a bigger file
    keep, reasons = _keep([framed, orig])
    assert keep["path"] == "/p/z.jpg" and "no added border" in reasons[0], reasons


def test_rules_saved_before_the_new_rules_get_them_in_their_places():
    old = ["folder", "content", "unspoiled", "pixels", "camera", "upright", "format", "place",
           "oldest"]
    assert keeper.Rules.from_dict({"order": old}).order == keeper.DEFAULT_RULES
