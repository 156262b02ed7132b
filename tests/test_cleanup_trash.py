"""Clean-up end to end: trash with a write-ahead journal, checks at the moment of action, undo
that knows what it restores. Real photos, the real model, catalogue, index and trash folders
(XDG_DATA_HOME in a temp dir, never the real one)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import dbutil
from faultkit import sha
from photofinder.dedup.cleanup import CleanupError
from photofinder.library import Library
from photofinder.platforms import trash as T
from samples import sample_images


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(d))
    return d


@pytest.fixture
def copies(tmp_path, xdg, model):
    """cat.jpg, an exact copy, a smaller edit; coffee.jpg and an exact copy elsewhere."""
    a, b = tmp_path / "photos", tmp_path / "backup"
    a.mkdir(), b.mkdir()
    imgs = sample_images()
    imgs["chelsea"].save(a / "cat.jpg", quality=95)
    shutil.copy2(a / "cat.jpg", a / "cat copy.jpg")
    small = imgs["chelsea"].resize((imgs["chelsea"].width // 2, imgs["chelsea"].height // 2))
    small.save(a / "cat-small.jpg", quality=80)
    imgs["coffee"].save(a / "coffee.jpg", quality=95)
    shutil.copy2(a / "coffee.jpg", b / "coffee.jpg")
    lib = Library(tmp_path / "lib")
    lib.add_folder(tmp_path)
    lib.update()
    yield lib, a, b
    lib.close()


def group_of(groups, name):
    return next(g for g in groups if any(os.path.basename(m.path) == name for m in g.members))


def trash_files(xdg) -> list[str]:
    d = xdg / "Trash" / "files"
    return sorted(os.listdir(d)) if d.exists() else []


def test_trash_journal_undo_and_last_copy(copies, xdg):
    lib, a, b = copies
    groups = lib.find_duplicates().groups
    everything = [m.path for g in groups for m in g.members]
    dry = lib.trash(everything, groups, dry_run=True)
    assert dry.dry_run and len(dry.trashed) == len(everything) - len(groups)
    assert set(dry.refused) == {g.keep for g in groups}
    assert set(dry.refused.values()) == {"this is the copy to keep"}
    assert all(os.path.exists(p) for p in everything)  # a dry run moves nothing

    hashes = {p: sha(p) for p in everything}
    rep = lib.trash_groups(groups)
    gone = sorted(m.path for g in groups for m in g.others)
    assert sorted(rep.trashed) == gone and not rep.refused and rep.error is None
    assert not any(os.path.exists(p) for p in gone)
    assert all(os.path.exists(g.keep) for g in groups)
    assert len(trash_files(xdg)) == len(gone)
    rows = dbutil.rows(lib, "SELECT path, state, batch, trash_dir, trash_name, hash FROM journal")
    assert sorted(r["path"] for r in rows) == gone
    assert {r["state"] for r in rows} == {"moved"} and {r["batch"] for r in rows} == {rep.batch}
    for r in rows:  # the journal knows exactly where each file went
        entry = T.Entry(r["trash_dir"], r["trash_name"])
        assert sha(entry.file) == r["hash"] == hashes[r["path"]]
        assert T.recorded_path(entry) == r["path"]
    assert not any(lib.is_catalogued(p) for p in gone)
    assert lib.find_duplicates().groups == []

    restored = lib.undo()
    assert sorted(restored) == gone and restored.blocked == {}
    assert all(sha(p) == hashes[p] for p in gone)
    assert trash_files(xdg) == [] and os.listdir(xdg / "Trash" / "info") == []
    assert all(lib.is_catalogued(p) for p in gone)  # indexed again
    assert len(lib.find_duplicates().groups) == len(groups)
    with pytest.raises(CleanupError, match="nothing to undo"):
        lib.undo()


def test_checked_at_the_moment_of_action(copies):
    """Groups held on screen while the disk changes: the keeper overwritten with another
    picture, a copy edited into a different picture, a copy deleted, a copy moved away."""
    lib, a, b = copies
    groups = lib.find_duplicates().groups
    cat, coffee = group_of(groups, "cat.jpg"), group_of(groups, "coffee.jpg")
    # the keeper of one group becomes another picture: nothing of that group may go
    sample_images()["rocket"].save(coffee.keep, format="JPEG")
    # in the other: one copy edited into another picture, one deleted
    edited, deleted = [m.path for m in cat.others]
    other_pic = sample_images()["astronaut"]
    other_pic.save(edited, format="JPEG")
    os.unlink(deleted)
    before = {p: sha(p) for p in (edited, coffee.keep, *[m.path for m in coffee.others])}
    rep = lib.trash_groups(groups)
    assert rep.trashed == []
    assert "changed" in rep.refused[edited] and "no longer on disk" in rep.refused[deleted]
    for m in coffee.others:
        assert "copy to keep" in rep.refused[m.path] and "changed" in rep.refused[m.path]
    assert all(sha(p) == h for p, h in before.items())  # nothing unique went


def test_moved_away_copy_and_keeper_gone(copies):
    lib, a, b = copies
    groups = lib.find_duplicates().groups
    coffee = group_of(groups, "coffee.jpg")
    (other,) = [m.path for m in coffee.others]
    os.rename(coffee.keep, coffee.keep + ".moved")
    rep = lib.trash_groups([coffee])
    assert rep.trashed == [] and "last copy" in rep.refused[other] and os.path.exists(other)
    os.rename(coffee.keep + ".moved", coffee.keep)
    os.rename(other, other + ".away")
    rep = lib.trash_groups([coffee])
    assert rep.trashed == [] and rep.refused[other] == "no longer on disk"


def test_a_group_whose_keeper_is_offline_is_shown_but_not_trashed(tmp_path, xdg, model):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    sample_images()["coffee"].save(a / "coffee.jpg", quality=90)
    shutil.copy2(a / "coffee.jpg", b / "coffee.jpg")
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(a)
        lib.add_folder(b)
        lib.update()
        (g,) = lib.find_duplicates().groups
        drive = os.path.dirname(g.keep)
        shutil.move(drive, str(tmp_path / "unplugged"))
        os.mkdir(drive)  # the empty mount point
        assert lib.scan().offline == [drive]
        (shown,) = lib.find_duplicates().groups  # its photos are kept: the group is still shown
        assert {m.path for m in shown.members} == {m.path for m in g.members}
        rep = lib.trash_groups([g])  # the group as it was on screen when the drive went
        (other,) = [m.path for m in g.others]
        assert rep.trashed == [] and "offline" in rep.refused[other]
        assert os.path.exists(other)


def test_the_copy_to_keep_is_a_path_never_trashed(copies):
    """Among byte-identical copies the keeper is the PATH the group names, whatever the
    hashes say."""
    lib, a, b = copies
    coffee = group_of(lib.find_duplicates().groups, "coffee.jpg")
    for keep in [m.path for m in coffee.members]:
        g = type(coffee)(keep, coffee.members)
        rep = lib.trash([m.path for m in coffee.members], [g])
        assert rep.refused[keep] == "this is the copy to keep"
        assert os.path.exists(keep)
        assert lib.undo() == [p for p in rep.trashed]


@pytest.mark.parametrize("where", ["another folder", "the same path"])
def test_undo_never_restores_another_file_after_the_trash_was_refilled(copies, xdg, where):
    """Trash emptied, then another file of the same name trashed (by a file manager): undo
    must not put that file at the photo's path."""
    lib, a, b = copies
    coffee = group_of(lib.find_duplicates().groups, "coffee.jpg")
    (copy,) = [m.path for m in coffee.others]
    rep = lib.trash_groups([coffee])
    assert rep.trashed == [copy]
    shutil.rmtree(xdg / "Trash")  # the user empties the trash
    if where == "another folder":
        (Path(copy).parent / "elsewhere").mkdir()
        stranger = str(Path(copy).parent / "elsewhere" / os.path.basename(copy))
    else:
        stranger = copy
    sample_images()["rocket"].save(stranger, format="JPEG")
    entry = T.reserve(stranger)  # trashed the freedesktop way
    T.move(stranger, entry)
    assert entry.name == os.path.basename(copy)
    undo = lib.undo(reindex=False)
    assert undo == [] and "another file" in undo.blocked[copy]
    assert not os.path.exists(copy) and os.path.exists(entry.file)
    state = dbutil.rows(lib, "SELECT state FROM journal WHERE batch=?", [rep.batch])
    assert [r["state"] for r in state] == ["gone"]


def test_undo_goes_on_past_a_blocked_file_and_reports_each(copies):
    lib, a, b = copies
    groups = lib.find_duplicates().groups
    rep = lib.trash_groups(groups)
    assert len(rep.trashed) == 3
    taken = rep.trashed[0]
    Path(taken).write_bytes(b"someone else's file")
    undo = lib.undo()
    assert sorted(undo) == sorted(rep.trashed[1:])
    assert list(undo.blocked) == [taken] and "a file is at" in undo.blocked[taken]
    assert Path(taken).read_bytes() == b"someone else's file"  # never overwritten
    assert all(lib.is_catalogued(p) for p in undo)
    os.unlink(taken)  # the user moves it away: undo again finishes the batch
    again = lib.undo(rep.batch)
    assert again == [taken] and again.blocked == {}


def test_undo_a_name_that_is_not_utf8(tmp_path, xdg, model):
    photos = tmp_path / "photos"
    photos.mkdir()
    sample_images()["coffee"].save(photos / "coffee.jpg", quality=90)
    odd = os.fsdecode(bytes(photos) + b"/caf\xe9.jpg")
    shutil.copy2(photos / "coffee.jpg", odd)
    with Library(tmp_path / "lib") as lib:
        lib.add_folder(photos)
        lib.update()
        (g,) = lib.find_duplicates().groups
        rep = lib.trash([odd], [g]) if odd != g.keep else lib.trash([str(photos / "coffee.jpg")], [g])
        assert len(rep.trashed) == 1
        assert lib.undo() == rep.trashed and os.path.exists(rep.trashed[0])


def test_cli_trash_and_undo(copies, capsys):
    from photofinder.cli import main

    lib, a, b = copies
    lib.close()
    base = ["--library", str(lib.path)]
    assert main(base + ["duplicates", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert len(groups) == 2
    assert main(base + ["duplicates", "--trash", "--dry-run"]) == 0
    capsys.readouterr()
    assert main(base + ["duplicates", "--trash"]) == 1  # no terminal and no --yes: refuses
    assert "--yes" in capsys.readouterr().err
    assert main(base + ["duplicates", "--trash", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "moved 3 copies to the trash (undo: photofinder undo --batch " in out
    assert all(os.path.exists(g["keep"]) for g in groups)
    assert main(base + ["undo", "--batch", "NOSUCH"]) == 1
    assert "no clean-up 'NOSUCH'" in capsys.readouterr().err
    assert main(base + ["undo"]) == 0
    assert all(os.path.exists(m["path"]) for g in groups for m in g["members"])
    assert main(base + ["undo"]) == 1
    assert "nothing to undo" in capsys.readouterr().err
