"""Fault injection: the clean-up killed at every step of trash and undo (SIGKILL in a child
process), at random moments, and meeting full and read-only disks at every step; after each
run the invariant checker (tests/faultkit.py) must find every photo in place with its hash or
in a trash with a committed journal row that undo puts back byte-exact."""

from __future__ import annotations

import errno
import os
import random
import stat

import pytest

import faultkit
from faultkit import World, check, sha
from photofinder.dedup.cleanup import TRASH_STEPS, UNDO_STEPS
from photofinder.platforms import trash as T
from samples import sample_images

MOUNT = faultkit.mount_problem()
needs_mount = pytest.mark.skipif(MOUNT is not None, reason=f"small filesystems: {MOUNT}")
PER_FILE = [s for s in TRASH_STEPS if s != "indexed"]


@pytest.fixture(scope="module")
def world(tmp_path_factory, model):
    w = World(tmp_path_factory.mktemp("faults") / "work", mounts=MOUNT is None)
    imgs = sample_images()
    w.build({k: imgs[k] for k in ("astronaut", "coffee")})
    yield w
    w.close()


def assert_safe(world: World, before: dict) -> dict:
    c = check(world, before)
    assert c["lost"] == [] and c["problems"] == [] and c["not_undoable"] == [], c
    return c


def trash_with(world: World, **fault) -> tuple[dict, dict]:
    world.reset()
    before = world.pictures()
    r = world.run("trash", **fault)
    assert r["rc"] in (0, 1, -9), r["stderr"]
    return r, assert_safe(world, before)


def undo_with(world: World, **fault) -> tuple[dict, dict]:
    world.reset()
    before = world.pictures()
    done = world.run("trash")
    assert done["rc"] == 0 and len(done["report"]["trashed"]) == 6, done
    r = world.run("undo", **fault)
    assert r["rc"] in (0, 1, -9), r["stderr"]
    return r, assert_safe(world, before)


def test_the_world_has_copies_to_trash(world):
    assert len(world.groups()) == 2 and all(len(g.members) == 4 for g in world.groups())
    r, c = trash_with(world)
    assert r["rc"] == 0 and len(r["report"]["trashed"]) == 6 and c["in_trash"] == 6


def test_production_code_holds_no_fault_trigger(world):
    """The kill switch lives in the tests' hook (faultkit.kill_at): the environment variable
    that used to kill a clean-up at a step does nothing to a plain run."""
    r, c = trash_with(world, env={"PHOTOFINDER_FAULT_KILL": "verified:1"})
    assert r["rc"] == 0 and not r["killed"] and len(r["report"]["trashed"]) == 6, r
    import photofinder.dedup.cleanup as cleanup
    assert not hasattr(cleanup, "STEP_HOOK") and "environ" not in open(cleanup.__file__).read()


@pytest.mark.parametrize("step", TRASH_STEPS)
def test_killed_at_each_step_of_trash(world, step):
    r, c = trash_with(world, kill=f"{step}:{1 if step == 'indexed' else 3}")
    assert r["killed"], (step, r)


@pytest.mark.parametrize("step", UNDO_STEPS)
def test_killed_at_each_step_of_undo(world, step):
    r, c = undo_with(world, kill=f"{step}:3")
    assert r["killed"], (step, r)


@pytest.mark.slow
@pytest.mark.parametrize("step", PER_FILE)
def test_killed_at_each_step_of_every_file(world, step):
    for nth in range(1, 7):
        r, _ = trash_with(world, kill=f"{step}:{nth}")
        assert r["killed"]
    for s in UNDO_STEPS:
        for nth in range(1, 7):
            r, _ = undo_with(world, kill=f"{s}:{nth}")
            assert r["killed"]


@pytest.mark.slow
def test_killed_at_random_moments(world):
    rng = random.Random(10)
    for i in range(40):
        r, _ = (trash_with if i % 2 == 0 else undo_with)(world, kill_after=rng.uniform(0, 0.4))


@needs_mount
def test_full_disks_and_a_read_only_drive(world):
    r, _ = trash_with(world, fault="reserved:2:enospc:vol")
    assert any("No space left" in why for why in r["report"]["refused"].values())
    r, _ = trash_with(world, fault="intent:2:enospc:lib")
    assert r["rc"] == 0 and "catalogue cannot be written" in r["report"]["error"]
    r, _ = trash_with(world, fault="verified:1:erofs:vol")
    assert any("Read-only" in why for why in r["report"]["refused"].values())
    r, _ = undo_with(world, fault="undo-verified:1:erofs:vol")
    assert r["report"]["blocked"]


@pytest.mark.slow
@needs_mount
@pytest.mark.parametrize("kind,target", [("enospc", "vol"), ("erofs", "vol"), ("enospc", "lib")])
def test_full_and_read_only_disks_at_each_step(world, kind, target):
    for step in PER_FILE:
        r, c = trash_with(world, fault=f"{step}:2:{kind}:{target}")
        assert r["report"] is not None, r["stderr"]  # a clean report, never a traceback
    for step in UNDO_STEPS:
        r, c = undo_with(world, fault=f"{step}:2:{kind}:{target}")
        assert r["report"] is not None, r["stderr"]


def test_a_failing_writer_at_each_step(world):
    """Without mounting: the trash's own writes fail (ENOSPC, EROFS) from a step on."""
    for code, step in (("ENOSPC", "verified"), ("EROFS", "intent")):
        r, _ = trash_with(world, fault=f"{step}:2:writer:{code}")
        assert r["report"] is not None, r["stderr"]
        assert any(os.strerror(getattr(errno, code)) in why
                   for why in r["report"]["refused"].values()), r["report"]


@needs_mount
def test_other_volume_trash_and_undo(world):
    """A copy on another drive goes to that drive's .Trash-UID with a Path relative to the
    drive's top, and undo puts it back; with a sticky .Trash on the drive, to .Trash/UID."""
    for shared in (False, True):
        world.reset()
        before = world.pictures()
        if shared:
            (world.vol / ".Trash").mkdir()
            os.chmod(world.vol / ".Trash", 0o777 | stat.S_ISVTX)
        r = world.run("trash")
        on_vol = [p for p in r["report"]["trashed"] if p.startswith(str(world.vol))]
        assert len(on_vol) == 2
        trash_dir = world.vol / (".Trash/%d" % os.getuid() if shared else ".Trash-%d" % os.getuid())
        for p in on_vol:
            entry = T.Entry(str(trash_dir), os.path.basename(p))
            assert sha(entry.file) == before[p]
            text = open(entry.info).read()
            assert f"Path={os.path.basename(p)}\n" in text  # relative to the drive's top
            assert T.recorded_path(entry) == p
        assert not (world.xdg / "Trash" / "files").exists() or \
            not set(os.listdir(world.xdg / "Trash" / "files")) & {os.path.basename(p) for p in on_vol}
        u = world.run("undo")
        assert u["rc"] == 0 and sorted(u["report"]["restored"]) == sorted(r["report"]["trashed"])
        assert all(sha(p) == h for p, h in before.items())
