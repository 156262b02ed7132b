"""Fault injection for the clean-up: a world of photos with duplicate groups and a library,
a child process that runs trash or undo and dies (or meets a full / read-only disk) where it
is told, and the invariant checker. Used by tests/test_faults_*.py and
benchmarks/fault_campaign.py; ``python tests/faultkit.py child WORK ACTION [FAULT]`` is the
child.

Faults:
- ``kill``: SIGKILL at the N-th time a named step of trash or undo is reached (the child
  hands the Library a ``cleanup_steps`` hook: dedup/cleanup.py ``step``), or at a random
  moment;
- ``enospc:TARGET`` / ``erofs:TARGET``: at the N-th step the volume TARGET ("vol": the
  photos' other drive, "lib": the library's drive) is filled up or remounted read-only, so
  every later write there fails for real (small tmpfs mounts; needs root);
- ``writer:ERRNO``: where mounting is not allowed, the trash's own writes fail from that step.

Invariant (``check``): every photo that was on disk before the action is either in place with
its hash, or in a trash with a committed journal row; then ``undo`` of every batch puts each
back byte-exact at its path.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PICTURE = (".jpg", ".png")


def sha(path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def permissions_hold():
    """A ``preexec_fn`` for a child that must meet file permissions as any user does: as root
    it drops the capabilities that read and write past them (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH, from the bounding set, so the child's exec never has them); not
    root: None (they hold already)."""
    if os.geteuid() != 0:
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    return drop


def mount_problem() -> str | None:
    """None when small filesystems can be mounted here, else why not."""
    if os.geteuid() != 0:
        return "mounting a small filesystem needs root (mount -t tmpfs)"
    d = tempfile.mkdtemp(prefix="pf-mnt-")
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d],
                           capture_output=True, text=True)
        if r.returncode:
            return f"mount is not permitted here: {r.stderr.strip() or r.returncode}"
        subprocess.run(["umount", d], check=True)
        return None
    except (OSError, subprocess.CalledProcessError) as e:
        return f"mount is not permitted here: {e}"
    finally:
        os.rmdir(d)


def _mount(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def _clear(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _copy_into(src: Path, dst: Path) -> None:
    for child in src.iterdir():
        if child.is_dir():
            shutil.copytree(child, dst / child.name, copy_function=shutil.copy2, symlinks=True)
        else:
            shutil.copy2(child, dst / child.name)


class World:
    """``work``/photos (the home volume: its trash is ``work``/xdg/Trash), ``work``/vol (another
    volume: a tmpfs with its own .Trash-UID), ``work``/lib (the library; a tmpfs too when
    mounting is allowed, so its disk can fill up). Built once, reset from a snapshot."""

    def __init__(self, work: Path, mounts: bool):
        self.work = Path(work)
        self.mounts = mounts
        self.photos, self.vol, self.lib, self.xdg = (self.work / n for n in
                                                     ("photos", "vol", "lib", "xdg"))
        self.pristine = self.work.parent / (self.work.name + "-pristine")
        self.groups_file = self.work.parent / (self.work.name + "-groups.json")
        self.mounted: list[Path] = []

    def env(self, **extra) -> dict:
        env = dict(os.environ, XDG_DATA_HOME=str(self.xdg), PYTHONPATH=str(ROOT))
        env.update(extra)
        return env

    def build(self, images: dict, copies_on_vol: bool = True) -> None:
        """For each image: photos/a/NAME.jpg, an exact copy photos/b/NAME.jpg, a smaller
        copy photos/a/NAME-small.jpg, and an exact copy on the other volume."""
        from photofinder.library import Library

        for d in (self.photos / "a", self.photos / "b", self.xdg):
            d.mkdir(parents=True, exist_ok=True)
        if self.mounts:
            _mount(self.vol, "16m")
            _mount(self.lib, "48m")
            self.mounted = [self.vol, self.lib]
        else:
            self.vol.mkdir(parents=True, exist_ok=True)
        for name, img in images.items():
            img.save(self.photos / "a" / f"{name}.jpg", quality=90)
            shutil.copy2(self.photos / "a" / f"{name}.jpg", self.photos / "b" / f"{name}.jpg")
            img.resize((img.width // 2, img.height // 2)).save(
                self.photos / "a" / f"{name}-small.jpg", quality=85)
            if copies_on_vol:
                shutil.copy2(self.photos / "a" / f"{name}.jpg", self.vol / f"{name}-copy.jpg")
        with Library(self.lib) as lib:
            lib.add_folder(self.photos)
            lib.add_folder(self.vol)
            lib.update()
            groups = lib.find_duplicates().groups
        self.groups_file.write_text(json.dumps([asdict(g) for g in groups]))
        if self.pristine.exists():
            shutil.rmtree(self.pristine)
        for d in (self.photos, self.vol, self.lib, self.xdg):
            (self.pristine / d.name).mkdir(parents=True)
            _copy_into(d, self.pristine / d.name)

    def groups(self):
        from photofinder.dedup.finder import Group, Member

        return [Group(g["keep"], [Member(**m) for m in g["members"]])
                for g in json.loads(self.groups_file.read_text())]

    def reset(self) -> None:
        self.restore_filesystems()
        for d in (self.photos, self.vol, self.lib, self.xdg):
            if d in self.mounted:
                _clear(d)
            else:
                if d.exists():
                    shutil.rmtree(d)
                d.mkdir(parents=True)
            _copy_into(self.pristine / d.name, d)

    def restore_filesystems(self) -> None:
        for d in self.mounted:
            subprocess.run(["mount", "-o", "remount,rw", str(d)], capture_output=True)
            filler = d / ".filler"
            if filler.exists():
                filler.unlink()

    def close(self) -> None:
        for d in self.mounted:
            subprocess.run(["umount", "-l", str(d)], capture_output=True)
        self.mounted = []

    def pictures(self) -> dict[str, str]:
        """Every picture on disk outside the trashes: path -> content hash."""
        out = {}
        for top in (self.photos, self.vol):
            for folder, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in files:
                    if f.endswith(PICTURE):
                        out[os.path.join(folder, f)] = sha(os.path.join(folder, f))
        return out

    def run(self, action: str, kill: str | None = None, fault: str | None = None,
            kill_after: float | None = None, timeout: float = 120, env: dict | None = None
            ) -> dict:
        """Run trash or undo in a child; ``kill`` = "STEP:N", ``fault`` = "STEP:N:KIND:ARG",
        ``kill_after`` = seconds after the child is ready. Returns rc, killed, report."""
        env = self.env(**(env or {}))
        cmd = [sys.executable, str(Path(__file__)), "child", str(self.work), action,
               kill or "-", fault or "-"]
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        p.stdout.readline()  # "ready": imports done, the library is about to open
        ready = time.perf_counter()
        if kill_after is not None:
            time.sleep(kill_after)
            try:
                p.kill()
            except ProcessLookupError:
                pass
        out, err = p.communicate(timeout=timeout)
        took = time.perf_counter() - ready
        report = None
        for line in out.splitlines():
            if line.startswith("{"):
                report = json.loads(line)
        return {"rc": p.returncode, "killed": p.returncode == -9, "report": report,
                "stderr": err[-2000:], "seconds_after_ready": took}


def check(world: World, before: dict[str, str]) -> dict:
    """The invariant, then undo of every batch: see the module docstring. Returns counts
    and the problems found (empty lists when all is well)."""
    old = os.environ.get("XDG_DATA_HOME")
    try:
        return _check(world, before)
    finally:
        if old is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = old


def _check(world: World, before: dict[str, str]) -> dict:
    from photofinder.errors import PhotofinderError
    from photofinder.library import Library
    from photofinder.platforms.trash import Entry

    world.restore_filesystems()
    os.environ["XDG_DATA_HOME"] = str(world.xdg)
    problems, lost, in_trash = [], [], 0
    with Library(world.lib) as lib:
        entries = lib.catalog.journal.entries()
        if any(e.state in ("intent", "restoring") for e in entries):
            problems.append("journal rows left open after recovery")
        moved: dict[str, object] = {}
        for e in entries:
            if e.state == "moved":
                moved[e.path] = e
        listed = {row.path for row in lib.listing()}
        for path, h in before.items():
            if os.path.exists(path) and sha(path) == h:
                continue
            e = moved.get(path)
            if e is not None and e.trash_dir and os.path.exists(Entry(e.trash_dir, e.trash_name).file) \
                    and sha(Entry(e.trash_dir, e.trash_name).file) == h:
                in_trash += 1
                if path in listed:
                    problems.append(f"the catalogue lists {path}, which is in the trash")
                continue
            lost.append(path)
        # the copy to keep of every group never moves
        for g in world.groups():
            if g.keep in before and not (os.path.exists(g.keep) and sha(g.keep) == before[g.keep]):
                problems.append(f"the copy to keep {g.keep} is not in place")
        batches = list(dict.fromkeys(e.batch for e in reversed(entries) if e.state == "moved"))
        not_undoable = []
        for b in batches:
            try:
                rep = lib.undo(b, reindex=False)
            except PhotofinderError as e:
                not_undoable.append(b)
                problems.append(f"undo {b}: {e}")
                continue
            if rep.blocked:
                not_undoable.append(b)
                problems += [f"undo {b}: {p}: {why}" for p, why in rep.blocked.items()]
    for path, h in before.items():
        if path not in lost and not (os.path.exists(path) and sha(path) == h):
            lost.append(path)
            problems.append(f"undo did not put {path} back byte-exact")
    return {"lost": sorted(set(lost)), "in_trash": in_trash, "batches": len(batches),
            "not_undoable": not_undoable, "problems": problems}


# -- the child ------------------------------------------------------------------------------
def kill_at(spec: str):
    """A ``cleanup_steps`` hook: SIGKILL at the N-th time step STEP is reached ("STEP:N")."""
    want, _, nth = spec.partition(":")
    seen = {"n": 0}

    def hook(name: str) -> None:
        if name == want:
            seen["n"] += 1
            if seen["n"] >= int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
    return hook


def fault_at(spec: str, work: Path):
    """A ``cleanup_steps`` hook: at the N-th time STEP is reached ("STEP:N:KIND:ARG"), the
    volume ARG fills up (enospc) or turns read-only (erofs), or the trash module's own
    writes start failing with errno ARG (writer)."""
    step_name, nth, kind, arg = spec.split(":", 3)
    seen = {"n": 0}

    def hook(name: str) -> None:
        if name != step_name:
            return
        seen["n"] += 1
        if seen["n"] != int(nth):
            return
        target = work / arg
        if kind == "enospc":
            with open(target / ".filler", "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * (1 << 16))
                        f.flush()
                except OSError:
                    pass
        elif kind == "erofs":
            subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True,
                           capture_output=True)
        elif kind == "writer":
            from photofinder.platforms import trash as T

            code = getattr(errno, arg)

            def fail(*a, **k):
                raise OSError(code, os.strerror(code))

            for fn in ("write", "rename", "link", "mkdir", "unlink"):
                setattr(T.os, fn, fail)  # the trash module's own writes fail from here on
        print(json.dumps({"fault": spec}), file=sys.stderr, flush=True)
    return hook


def child(work: str, action: str, kill: str = "-", fault: str = "-") -> int:
    sys.path.insert(0, str(HERE))
    from photofinder.errors import PhotofinderError
    from photofinder.library import Library

    world = World(Path(work), mounts=False)
    hooks = ([kill_at(kill)] if kill != "-" else []) + \
        ([fault_at(fault, world.work)] if fault != "-" else [])

    def steps(name: str) -> None:
        for hook in hooks:
            hook(name)

    print("ready", flush=True)
    try:
        with Library(world.lib, cleanup_steps=steps) as lib:
            if action == "trash":
                r = lib.trash_groups(world.groups())
                print(json.dumps({"batch": r.batch, "trashed": r.trashed, "refused": r.refused,
                                  "error": r.error}), flush=True)
            else:
                r = lib.undo(reindex=False)
                print(json.dumps({"restored": list(r), "blocked": r.blocked}), flush=True)
    except PhotofinderError as e:
        print(json.dumps({"error": str(e)}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "child":
        sys.exit(child(*sys.argv[2:6]))
    print(__doc__)
