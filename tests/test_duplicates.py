"""Duplicates end to end: real photos and edits, the real model, catalogue and index."""

from __future__ import annotations

import os
import shutil

import pytest

import dbutil
from PIL import Image, ImageOps

from photofinder.dedup.cleanup import CleanupError
from photofinder.dedup import finder
from photofinder.library import Library

from samples import sample_images

EDITED = ["astronaut", "coffee", "chelsea", "rocket"]
ALONE = ["camera", "coins", "hubble_deep_field", "retina"]
T = Image.Transpose


def make_edits(img: Image.Image) -> dict[str, Image.Image]:
    w, h = img.size
    grey = ImageOps.grayscale(img).convert("RGB")
    return {
        "rot90": img.transpose(T.ROTATE_90),
        "rot180": img.transpose(T.ROTATE_180),
        "rot270-small": img.transpose(T.ROTATE_270).resize((h // 2, w // 2)),
        "mirror": img.transpose(T.FLIP_LEFT_RIGHT),
        "transpose": img.transpose(T.TRANSPOSE),
        "grey": grey,
        "crop": img.crop((w // 10, h // 12, w - w // 10, h - h // 12)),
        "small": img.resize((w // 3, h // 3), Image.Resampling.LANCZOS),
        "border": ImageOps.expand(img, border=max(w, h) // 20, fill=(255, 255, 255)),
    }


@pytest.fixture(scope="module")
def edit_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("dupes")
    imgs = sample_images()
    for name in EDITED:
        imgs[name].save(root / f"{name}.jpg", quality=92)
        for kind, e in make_edits(imgs[name]).items():
            e.save(root / f"{name}-{kind}.jpg", quality=75)
    for name in ALONE:
        imgs[name].save(root / f"{name}.jpg", quality=92)
    return root


@pytest.fixture(scope="module")
def edit_lib(edit_set, tmp_path_factory, model):
    lib = Library(tmp_path_factory.mktemp("lib"))
    lib.add_folder(edit_set)
    lib.update()
    yield lib
    lib.close()


def group_names(groups) -> list[set[str]]:
    return [{os.path.basename(m.path) for m in g.members} for g in groups]


def test_edited_copies_form_one_group_each_unrelated_alone(edit_lib):
    groups = group_names(edit_lib.find_duplicates().groups)
    for name in EDITED:
        want = {f"{name}.jpg"} | {f"{name}-{k}.jpg" for k in make_edits(Image.new("RGB", (8, 6)))}
        assert want in groups, (name, groups)
    assert len(groups) == len(EDITED)
    grouped = set().union(*groups)
    for name in ALONE:
        assert f"{name}.jpg" not in grouped


def test_group_shape_and_keeper_reasons(edit_lib):
    for g in edit_lib.find_duplicates().groups:
        j = g.to_json()
        assert set(j) == {"keep", "members"}
        assert j["keep"] in [m["path"] for m in j["members"]]
        for m in j["members"]:
            # the contract's keys, then the keys v3 added: is it pre-selected, is it an edit
            assert set(m) == {"path", "kind", "score", "reasons", "preselected", "edit"}
            assert m["kind"] in ("exact", "near") and 0.0 <= m["score"] <= 1.0 and m["reasons"]
            assert m["preselected"] == (m["path"] != j["keep"] and not m["edit"])
        # the border copy is larger, but the original has the most real pixels of the rest:
        # whoever wins, the reasons say why in words
        keep = [m for m in g.members if m.path == g.keep][0]
        assert keep.reasons[0].startswith("keep: ")
        rotated = [m for m in g.members if "rot90" in m.path][0]
        assert rotated.kind == "near"
        assert "turned" in rotated.reasons[0] or "mirrored" in rotated.reasons[0]


def test_keeper_is_the_original_and_user_can_override(edit_lib, tmp_path):
    """The original wins: the border copy has more pixels but no more picture; crops show
    less; the small copies have fewer real pixels; the grey copy changed the look; the rest
    are turned or mirrored."""
    lib = edit_lib
    g = [g for g in lib.find_duplicates().groups if "coffee.jpg" in {os.path.basename(m.path) for m in g.members}][0]
    assert os.path.basename(g.keep) == "coffee.jpg"
    border = [m for m in g.members if m.path.endswith("coffee-border.jpg")][0]
    assert border.preselected and "the copy kept wins by" in " ".join(border.reasons), border.reasons
    small = [m.path for m in g.members if m.path.endswith("coffee-small.jpg")][0]
    lib.keep(small)
    try:
        g2 = [g for g in lib.find_duplicates().groups if small in [m.path for m in g.members]][0]
        assert g2.keep == small and "chosen by you" in g2.members[0].reasons[0]
    finally:
        dbutil.execute(lib, "DELETE FROM keeper_paths")


def test_other_viewpoint_is_not_a_duplicate_unless_the_strict_check_is_off(tmp_path, model):
    import skimage.data

    left, right, _ = skimage.data.stereo_motorcycle()
    Image.fromarray(left).save(tmp_path / "left.jpg", quality=92)
    Image.fromarray(right).save(tmp_path / "right.jpg", quality=92)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(tmp_path)
        lib.update()
        assert lib.find_duplicates(sensitivity=0.8).groups == []
        loose = group_names(lib.find_duplicates(sensitivity=0.8, verify=False).groups)
        assert loose == [{"left.jpg", "right.jpg"}]


def test_blank_and_tiny_pictures_never_join(tmp_path, model):
    Image.new("RGB", (224, 399), (0, 0, 0)).save(tmp_path / "black.jpg")
    Image.new("RGB", (224, 399), (2, 2, 2)).save(tmp_path / "black2.png")
    img = sample_images()["camera"]
    img.resize((40, 40)).save(tmp_path / "tiny.png")
    img.resize((36, 36)).save(tmp_path / "tiny2.jpg")
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(tmp_path)
        lib.update()
        assert lib.find_duplicates(sensitivity=1.0).groups == []


@pytest.fixture
def copies(tmp_path, model):
    """an original, an exact copy, a smaller edit; and the original seen a second time through
    a hard link in another folder of the library (one file under two catalogued paths)"""
    a, b = tmp_path / "photos", tmp_path / "backup"
    a.mkdir(), b.mkdir()
    img = sample_images()["chelsea"]
    img.save(a / "cat.jpg", quality=95)
    shutil.copy2(a / "cat.jpg", a / "cat copy.jpg")
    img.resize((img.width // 2, img.height // 2)).save(a / "cat-small.jpg", quality=80)
    os.link(a / "cat.jpg", b / "cat-link.jpg")
    lib = Library(tmp_path / "lib")
    lib.add_folder(a)
    lib.update()
    folder = lib.add_folder(b)
    orig = lib.catalog.photos.by_path(str(a / "cat.jpg"))
    st = os.stat(b / "cat-link.jpg")
    pid = lib.catalog.photos.insert(folder.id, str(b / "cat-link.jpg"), st.st_size,
                                   st.st_mtime_ns, st.st_dev, st.st_ino)
    vec = lib.catalog.embeddings.of_photo(orig.id, lib.embedder.model_id).vector
    sig = dbutil.rows(lib, "SELECT sig FROM signatures WHERE photo_id=?", [orig.id])[0]["sig"]
    meta = {k: getattr(orig, k) for k in ("hash", "width", "height", "orientation", "taken_at", "format",
                                 "size", "mtime_ns")}
    lib.catalog.photos.record_result(pid, {**meta, "signature": sig}, lib.embedder.model_id, vec)
    lib.space.refresh()
    yield lib, a, b
    lib.close()


def test_exact_copies_and_hard_links(copies):
    lib, a, b = copies
    (g,) = lib.find_duplicates().groups
    paths = {m.path: m for m in g.members}
    assert len(g.members) == 3  # the hard link is the same file, not a copy
    assert str(b / "cat-link.jpg") not in paths
    linked = [m for m in g.members if m.also]
    assert linked and linked[0].also == [str(b / "cat-link.jpg")]
    kinds = sorted(m.kind for m in g.members)
    assert kinds == ["exact", "exact", "near"]
    rep = lib.trash([str(b / "cat-link.jpg")], lib.find_duplicates().groups, dry_run=True)
    assert rep.trashed == [] and str(b / "cat-link.jpg") in rep.refused


def test_not_duplicates_is_remembered(copies):
    lib, a, b = copies
    lib.not_duplicates(a / "cat.jpg", a / "cat-small.jpg")
    with pytest.raises(CleanupError, match="byte-identical"):  # its own type, one line
        lib.not_duplicates(a / "cat.jpg", a / "cat copy.jpg")
    path = lib.path
    lib.close()
    with Library(path) as again:
        names = group_names(again.find_duplicates(sensitivity=1.0, verify=False).groups)
        assert names == [{"cat.jpg", "cat copy.jpg"}]


def test_photos_indexed_before_signatures_still_match(edit_lib):
    edit_lib.catalog.db.execute("DELETE FROM signatures")
    groups = group_names(edit_lib.find_duplicates().groups)
    assert {"rocket-rot90.jpg", "rocket.jpg"} <= next(g for g in groups if "rocket.jpg" in g)
    assert edit_lib.catalog.db.execute("SELECT count(*) FROM signatures").fetchone()[0] > 0


def test_shared_testdata_groups(shared_testdata, tmp_path, model):
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(shared_testdata)
        lib.update()
        found = lib.find_duplicates()
        groups = found.groups
    rel = [{os.path.relpath(m.path, shared_testdata) for m in g.members} for g in groups]
    bridge = [g for g in rel if "pdq/bridge-mods/aaa-orig.jpg" in g]
    assert len(bridge) == 1
    want = {p for p in bridge[0] if p.startswith(("pdq/bridge-mods/", "pdq/reg-test-input/dih/",
                                                   "pdq/misc-images/modes/"))}
    assert want == bridge[0] and len(want) == 12 + 8 + len(
        [f for f in os.listdir(shared_testdata / "pdq/misc-images/modes") if not f.endswith(".md")])
    u120 = [g for g in rel if "imagededup/mixed_images/ukbench00120.jpg" in g][0]
    assert {f"imagededup/mixed_images/ukbench00120{s}.jpg" for s in ("", "_hflip", "_resize", "_rotation")} <= u120
    # the four exif-rotn photos are four shots of one desk (other framings, one landscape):
    # similar shots, not copies
    assert not [g for g in rel if any("exif-rotn" in p for p in g)]
    shots = [{os.path.relpath(m.path, shared_testdata) for m in g.members} for g in found.similar_shots]
    exif = [g for g in shots if any("exif-rotn" in p for p in g)]
    assert len(exif) == 1 and len(exif[0]) == 4
    grouped = set().union(*rel)
    for p in ("pdq/misc-images/small.jpg", "pdq/misc-images/wee.jpg"):
        assert p not in grouped
    assert not any(p.startswith("pdq/reg-test-input/labelme-subset/") for p in grouped)


def test_indexing_keeps_the_candidates_features_so_duplicates_reads_no_file(edit_set, tmp_path, model):
    """The indexer makes the local features from the picture it decoded anyway and keeps
    them for the photos with a near neighbour in the CNN space: the first ``duplicates``
    reads no file for them. The photos alone get none; a copy turned upside down may have
    no near neighbour there (the CNN is not rotation-invariant; the pixel signatures find
    it), and only such a copy is read by ``duplicates``."""
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(edit_set)
        lib.update(duplicates=False)
        stored = {r["hash"] for r in dbutil.rows(lib, "SELECT hash FROM dedup_features")}
        hash_of = {os.path.basename(r["path"]): r["hash"]
                   for r in dbutil.rows(lib, "SELECT path, hash FROM photos")}
        missing = {n for n, h in hash_of.items() if h not in stored}
        alone = {f"{n}.jpg" for n in ALONE}
        assert alone <= missing
        assert missing - alone <= {f"{n}-rot180.jpg" for n in EDITED}, missing
        stats: dict = {}
        found = lib.find_duplicates(stats=stats)
        assert stats["features_read"] == len(missing - alone) < len(EDITED)
        assert stats["checked"] > 0 and len(found.groups) == len(EDITED)


def test_a_grey_crop_further_than_the_cnn_threshold_is_still_found(tmp_path, model):
    """A grey + crop copy of retina sits below the CNN threshold from its original (the
    grey copy loses its colour to the CNN); the grey photo's nearest photo in colour is
    checked all the same, and it is a copy."""
    import numpy as np

    from dedup_shots import combined_edits
    from photofinder.dedup.finder import thresholds
    from photofinder.dedup.signature import COLOURLESS

    imgs = sample_images()
    d = tmp_path / "photos"
    d.mkdir()
    imgs["retina"].save(d / "retina.jpg", quality=92)
    combined_edits(imgs["retina"])["grey-crop"].save(d / "retina-grey-crop.jpg", quality=85)
    for name in ("coffee", "chelsea", "camera", "coins"):
        imgs[name].save(d / f"{name}.jpg", quality=92)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(d)
        lib.update(duplicates=False)
        vec = {os.path.basename(r["path"]): np.frombuffer(r["vector"], np.float16).astype(np.float32)
               for r in dbutil.rows(lib, "SELECT p.path, e.vector FROM photos p "
                                         "JOIN embeddings e ON e.photo_id=p.id")}
        cos = float(vec["retina.jpg"] @ vec["retina-grey-crop.jpg"])
        assert thresholds(0.5)["grey_cosine"] <= cos < thresholds(0.5)["cosine"]
        grey, colour = lib.catalog.signatures.colour_kinds(COLOURLESS)  # kept by the indexer
        ids = {os.path.basename(r["path"]): r["id"] for r in dbutil.rows(lib, "SELECT id, path FROM photos")}
        assert {ids["retina-grey-crop.jpg"], ids["camera.jpg"], ids["coins.jpg"]} == grey
        assert ids["retina.jpg"] in colour and ids["coffee.jpg"] in colour
        found = lib.find_duplicates()
    (group,) = found.groups
    assert {os.path.basename(m.path) for m in group.members} == {"retina.jpg", "retina-grey-crop.jpg"}
    assert group.keep.endswith("retina.jpg")


def test_a_check_cut_short_keeps_its_verdicts_and_the_next_run_goes_on(edit_set, tmp_path, model):
    """``cancel_indexing`` (quitting the app) ends the check after indexing at the pairs in
    hand: nothing is marked searched or stored as results, the verdicts made are kept, and
    the next run checks the rest only."""
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(edit_set)
        lib.update(duplicates=False)
        seen: dict = {}

        def cut(stage, done, todo):
            if stage == "checking" and done > 0:  # some pairs checked
                seen["pairs"] = todo
                lib.cancel_indexing()
        assert lib.check_duplicates(progress=cut) is None
        kept = len(dbutil.rows(lib, "SELECT hash_a FROM dedup_pairs"))
        assert 0 < kept < seen["pairs"]
        assert not dbutil.rows(lib, "SELECT hash FROM dedup_searched")
        assert lib.stored_duplicates() is None
        rest: dict = {}
        found = lib.find_duplicates(stats=rest)
        assert 0 < rest["checked"] <= seen["pairs"] - kept
        assert len(found.groups) == len(EDITED)


def test_the_check_runs_with_one_blas_thread_and_gives_the_others_back(edit_set, tmp_path, model):
    """hnswlib's threads and the check's workers use every core: while a check runs,
    OpenBLAS has one thread (its own would spin beside them); after it, what it had."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
    if not blas_threads():
        pytest.skip("numpy's BLAS here is none that threadpoolctl controls")
    with threadpool_limits(limits=2, user_api="blas"), Library(tmp_path / "lib") as lib:
        lib.add_folder(edit_set)
        lib.update(duplicates=False)
        before = blas_threads()
        during: list = []
        lib.find_duplicates(progress=lambda stage, done, todo: during.append(blas_threads()))
        assert before == {2} and during and all(d == {1} for d in during)
        assert blas_threads() == before


def test_keeper_is_not_a_turned_or_mirrored_copy_even_if_less_compressed(tmp_path, model):
    """A turned or mirrored copy saved at a higher JPEG quality is still an edit: the way
    most copies show the picture wins before the format rule."""
    img = sample_images()["coffee"]
    d = tmp_path / "photos"
    d.mkdir()
    img.save(d / "coffee.jpg", quality=80)
    img.save(d / "coffee-resaved.jpg", quality=80, comment=b"resaved")
    img.transpose(T.ROTATE_90).save(d / "coffee-turned.jpg", quality=97)
    img.transpose(T.FLIP_LEFT_RIGHT).save(d / "coffee-mirrored.jpg", quality=97)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(d)
        lib.update()
        (g,) = lib.find_duplicates().groups
    assert {os.path.basename(m.path) for m in g.members} == {
        "coffee.jpg", "coffee-resaved.jpg", "coffee-turned.jpg", "coffee-mirrored.jpg"}
    assert os.path.basename(g.keep) in ("coffee.jpg", "coffee-resaved.jpg"), g.members[0].reasons
    assert any("not turned or mirrored" in r for r in g.members[0].reasons)


def test_a_thumbnail_of_96_px_joins_its_original(tmp_path, model):
    """Issue 20: a thumbnail people make, about 96 px on the long side (a 16:9 photo's is
    54 px high), is a candidate like any photo and a copy of its original, as is one turned
    a quarter (found by the pixel signatures' hashes); the unrelated photos stay alone. (The
    first gate, 64 px on the shorter side, kept every such thumbnail out of the check.) A
    library checked before (its photos marked searched under the verdicts' key) searches
    them again: the marks carry the candidate stage's version."""
    imgs = sample_images()
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("coffee", "rocket"):
        img = imgs[name]
        h = round(img.width * 9 / 16)
        top = (img.height - h) // 2
        wide = img.crop((0, top, img.width, top + h))  # a 16:9 photo
        wide.save(folder / f"{name}.jpg", quality=92)
        thumb = wide.copy()
        thumb.thumbnail((96, 96), Image.Resampling.LANCZOS)
        assert thumb.size == (96, 54)
        thumb.save(folder / f"{name}-thumb.jpg", quality=85)
        if name == "rocket":
            thumb.transpose(T.ROTATE_90).save(folder / f"{name}-thumb-turned.jpg", quality=85)
    for name in ALONE:
        imgs[name].save(folder / f"{name}.jpg", quality=92)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(folder)
        lib.update(duplicates=False)
        # as a library checked before thumbnails took part: every photo marked searched
        # under the verdicts' key (the gate then left the thumbnails out of every search)
        hashes = [r["hash"] for r in dbutil.rows(lib, "SELECT hash FROM photos")]
        lib.catalog.dedup.add_searched(finder.params_key(lib.space.index.model, 0.5), hashes)
        groups = group_names(lib.find_duplicates().groups)
    assert {"coffee.jpg", "coffee-thumb.jpg"} in groups, groups
    assert {"rocket.jpg", "rocket-thumb.jpg", "rocket-thumb-turned.jpg"} in groups, groups
    assert len(groups) == 2


def test_the_best_shot_of_a_burst_is_a_full_size_one_not_a_sharp_looking_thumbnail(tmp_path, model):
    """Similar shots suggest the sharpest shot among those at full size: a small copy of
    another frame (each of its few pixels an edge, plus a date stamp's) measures sharper
    than any full frame, and was suggested as the best shot."""
    from PIL import ImageDraw, ImageFilter

    from dedup_shots import burst

    img = sample_images()["chelsea"]
    folder = tmp_path / "photos"
    folder.mkdir()
    for s in range(3):
        burst(img, seed=s).save(folder / f"frame{s}.jpg", quality=92)
    thumb = burst(img, seed=7).filter(ImageFilter.SHARPEN)
    thumb.thumbnail((120, 120), Image.Resampling.LANCZOS)
    ImageDraw.Draw(thumb).text((4, 4), "'98 7 14", fill=(255, 160, 0))
    thumb.save(folder / "frame7-small.jpg", quality=85)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(folder)
        lib.update(duplicates=False)
        found = lib.find_duplicates()
    [shots] = [g for g in found.similar_shots if len(g.members) >= 3]
    names = {os.path.basename(m.path) for m in shots.members}
    assert "frame7-small.jpg" in names, names
    assert os.path.basename(shots.keep) in {"frame0.jpg", "frame1.jpg", "frame2.jpg"}, shots.keep
    best = next(m for m in shots.members if m.path == shots.keep)
    assert best.reasons[0] == "suggested best shot: the sharpest of the full-size ones"


def test_a_thumbnail_is_grouped_with_its_original_not_with_a_tripod_pan_of_it(tmp_path, model):
    """A thumbnail has too few pixels to show a 2° tripod pan: it is judged a copy of the
    pan as much as of its original. That verdict must neither hide the thumbnail's pair
    with its original (the pan's group, found another shot of the original's, skipped every
    other pair of the two groups) nor pull the pan into the original's copy group."""
    from PIL import ImageEnhance

    from dedup_shots import pan

    img = sample_images()["chelsea"]
    folder = tmp_path / "photos"
    folder.mkdir()
    img.save(folder / "cat.jpg", quality=92)
    ImageEnhance.Brightness(img).enhance(1.15).save(folder / "cat-brighter.jpg", quality=90)
    img.save(folder / "cat-resaved.jpg", quality=70)
    shot = pan(img, 2.0, seed=3)
    shot.save(folder / "cat-pan.jpg", quality=92)
    shot.save(folder / "cat-pan-resaved.jpg", quality=75)
    for side, q in ((96, 85), (88, 60)):
        small = img.copy()
        small.thumbnail((side, side), Image.Resampling.LANCZOS)
        small.save(folder / f"cat-thumb{side}.jpg", quality=q)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(folder)
        lib.update(duplicates=False)
        found = lib.find_duplicates()
    named = group_names(found.groups)
    [cat] = [g for g in named if "cat.jpg" in g]
    assert {"cat-thumb96.jpg", "cat-thumb88.jpg", "cat-brighter.jpg", "cat-resaved.jpg"} <= cat, named
    assert not cat & {"cat-pan.jpg", "cat-pan-resaved.jpg"}, named
