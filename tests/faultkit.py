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

Also (issue 22): a ``hostile`` world (symlinks, a folder on a third volume reached through
one, 16-bit and palette PNGs), ``World.snapshot``/``written_outside`` (what changed outside
the registered folders and the user's own trash), ``OtherUser`` (a throwaway second local
user, root only) and ``squat`` (that user listening on a socket).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import stat
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
        if child.is_symlink():
            os.symlink(os.readlink(child), dst / child.name)
        elif child.is_dir():
            shutil.copytree(child, dst / child.name, copy_function=shutil.copy2, symlinks=True)
        else:
            shutil.copy2(child, dst / child.name)


def save_picture(img, path: Path, **kw) -> None:
    """A JPEG, or a PNG for the modes JPEG cannot hold (16-bit grey, palette)."""
    img.save(path, format="PNG" if path.suffix == ".png" else "JPEG", **kw)


def ext_for(img) -> str:
    return ".jpg" if img.mode in ("RGB", "L", "CMYK") else ".png"


class World:
    """``work``/photos (the home volume: its trash is ``work``/xdg/Trash), ``work``/vol (another
    volume: a tmpfs with its own .Trash-UID), ``work``/lib (the library; a tmpfs too when
    mounting is allowed, so its disk can fill up). Built once, reset from a snapshot.

    A ``hostile`` world adds what an intruder or an odd disk brings (``_add_hostile``):
    ``work``/outside (files outside every registered folder), photos/links (a relative and an
    absolute symlink to pictures there), photos/door (a folder symlink leading outside), and
    ``work``/via, a registered folder that is a symlink to vol2/pics on a third volume."""

    def __init__(self, work: Path, mounts: bool):
        self.work = Path(work)
        self.mounts = mounts
        self.photos, self.vol, self.lib, self.xdg = (self.work / n for n in
                                                     ("photos", "vol", "lib", "xdg"))
        self.outside, self.vol2, self.via = (self.work / n for n in ("outside", "vol2", "via"))
        self.pristine = self.work.parent / (self.work.name + "-pristine")
        self.groups_file = self.work.parent / (self.work.name + "-groups.json")
        self.mounted: list[Path] = []
        self.hostile = self.via.is_symlink()  # (a child finds the world as it was built)

    @property
    def dirs(self) -> list[Path]:
        """The folders reset from the snapshot."""
        return [self.photos, self.vol, self.lib, self.xdg] + \
            ([self.outside, self.vol2] if self.hostile else [])

    @property
    def tops(self) -> list[Path]:
        """The registered folders, as the library names them."""
        return [self.photos, self.vol] + ([self.via] if self.hostile else [])

    def env(self, **extra) -> dict:
        env = dict(os.environ, XDG_DATA_HOME=str(self.xdg), PYTHONPATH=str(ROOT))
        env.update(extra)
        return env

    def build(self, images: dict, copies_on_vol: bool = True, hostile: bool = False,
              files: tuple[Path, ...] = ()) -> None:
        """For each image: photos/a/NAME.EXT, an exact copy photos/b/NAME.EXT, a smaller
        copy photos/a/NAME-small.EXT, and an exact copy on the other volume (EXT: .jpg, or
        .png for the modes JPEG cannot hold: 16-bit grey, palette). Each of ``files`` (made
        elsewhere, a film scan say) goes to photos/a and photos/b as it is."""
        from photofinder.library import Library

        self.hostile = hostile
        for d in (self.photos / "a", self.photos / "b", self.xdg):
            d.mkdir(parents=True, exist_ok=True)
        if self.mounts:
            _mount(self.vol, "16m")
            _mount(self.lib, "48m")
            self.mounted = [self.vol, self.lib]
        else:
            self.vol.mkdir(parents=True, exist_ok=True)
        for name, img in images.items():
            ext = ext_for(img)
            a, b = self.photos / "a" / f"{name}{ext}", self.photos / "b" / f"{name}{ext}"
            save_picture(img, a, **({"quality": 90} if ext == ".jpg" else {}))
            shutil.copy2(a, b)
            save_picture(img.resize((img.width // 2, img.height // 2)),
                         self.photos / "a" / f"{name}-small{ext}",
                         **({"quality": 85} if ext == ".jpg" else {}))
            if copies_on_vol:
                shutil.copy2(a, self.vol / f"{name}-copy{ext}")
        for f in files:
            shutil.copy2(f, self.photos / "a" / Path(f).name)
            shutil.copy2(f, self.photos / "b" / Path(f).name)
        if hostile:
            self._add_hostile([n for n, i in images.items() if ext_for(i) == ".jpg"][:2])
        with Library(self.lib) as lib:
            for top in self.tops:
                lib.add_folder(top)
            lib.update()
            groups = lib.find_duplicates().groups
        self.groups_file.write_text(json.dumps([asdict(g) for g in groups]))
        if self.pristine.exists():
            shutil.rmtree(self.pristine)
        for d in self.dirs:
            (self.pristine / d.name).mkdir(parents=True)
            _copy_into(d, self.pristine / d.name)

    def _add_hostile(self, names: list[str]) -> None:
        """Links and a folder on a third volume reached through a symlink (see the class)."""
        first, second = names[0], names[-1]
        self.outside.mkdir(parents=True, exist_ok=True)
        links = self.photos / "links"
        links.mkdir(exist_ok=True)
        for name in (first, second):
            shutil.copy2(self.photos / "a" / f"{name}.jpg", self.outside / f"{name}-target.jpg")
        # a relative link whose target lies outside the folder, beside copies of that target
        os.symlink(f"../../outside/{first}-target.jpg", links / f"{first}-link.jpg")
        os.symlink(self.outside / f"{second}-target.jpg", links / f"{second}-abs.jpg")
        os.symlink(self.outside, self.photos / "door")  # a folder link (never followed)
        if self.mounts:
            _mount(self.vol2, "16m")
            self.mounted.append(self.vol2)
        (self.vol2 / "pics").mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.photos / "a" / f"{first}.jpg", self.vol2 / "pics" / f"{first}-far.jpg")
        os.symlink(self.vol2 / "pics", self.via)

    def groups(self):
        from photofinder.dedup.finder import Group, Member

        return [Group(g["keep"], [Member(**m) for m in g["members"]])
                for g in json.loads(self.groups_file.read_text())]

    def reset(self) -> None:
        self.restore_filesystems()
        for d in self.dirs:
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

    def own_trashes(self) -> list[str]:
        """The trash folders this user may be written to now, judged by the freedesktop rules
        apart from the code under test: the home trash and each volume's ``.Trash-$uid`` and
        ``.Trash/$uid``, when absent (made by the app) or a real folder of the user's that
        nobody else may write to (``.Trash/$uid`` only inside a real, sticky ``.Trash``)."""
        uid = os.getuid()

        def ok(p: Path) -> bool:
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                return True
            return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o022

        out = [self.xdg / "Trash"] if ok(self.xdg / "Trash") else []
        for top in [self.vol] + ([self.vol2] if self.hostile else []):
            if ok(top / f".Trash-{uid}"):
                out.append(top / f".Trash-{uid}")
            try:
                st = os.lstat(top / ".Trash")
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX and ok(top / ".Trash" / str(uid)):
                out.append(top / ".Trash" / str(uid))
        return [str(p) for p in out]

    def snapshot(self) -> dict:
        """What the app may not change, as it is now: every entry under ``work`` and the
        trash folders at the top of the volume that holds it (``tree``), with the trash
        folders that are the user's own at this moment."""
        top = _volume_top(str(self.work))
        roots = [str(self.work), os.path.join(top, f".Trash-{os.getuid()}"),
                 os.path.join(top, ".Trash")]
        return {"tree": tree(roots), "own": self.own_trashes()}

    def written_outside(self, before: dict) -> list[str]:
        """Entries created, changed or removed since ``before`` (``snapshot``) outside the
        registered folders (symlinks resolved), the user's own trash folders and the
        library: a trash folder that is not the user's counts as outside even inside a
        registered folder."""
        allowed = before["own"] + [str(self.lib)]
        folders = [os.path.realpath(t) for t in self.tops]
        trashy = re.compile(r"/\.Trash(-\d+)?(/|$)")

        def inside(p: str, root: str) -> bool:
            return p == root or p.startswith(root.rstrip("/") + "/")

        out = []
        for p in changed(before["tree"], tree(list(before["tree"]["roots"]))):
            if any(inside(p, a) for a in allowed):
                continue
            if not trashy.search(p) and any(inside(p, f) for f in folders):
                continue
            out.append(p)
        return out

    def close(self) -> None:
        for d in self.mounted:
            subprocess.run(["umount", "-l", str(d)], capture_output=True)
        self.mounted = []

    def pictures(self) -> dict[str, str]:
        """Every picture on disk outside the trashes: path -> content hash."""
        out = {}
        for top in self.tops:
            for folder, dirs, files in os.walk(top):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in files:
                    if f.endswith(PICTURE):
                        out[os.path.join(folder, f)] = sha(os.path.join(folder, f))
        return out

    def run(self, action: str, kill: str | None = None, fault: str | None = None,
            kill_after: float | None = None, timeout: float = 120, env: dict | None = None,
            hold: bool = False) -> dict:
        """Run trash, undo or scan in a child; ``kill`` = "STEP:N", ``fault`` =
        "STEP:N:KIND:ARG", ``kill_after`` = seconds after the child is ready; ``hold``: the
        child meets file permissions as any user does (``permissions_hold``). Returns rc,
        killed, report."""
        env = self.env(**(env or {}))
        cmd = [sys.executable, str(Path(__file__)), "child", str(self.work), action,
               kill or "-", fault or "-"]
        # unbuffered: readline takes "ready" alone; a buffered reader could take the report
        # line too, which communicate() (reading the pipe itself) would then never see
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             bufsize=0, preexec_fn=permissions_hold() if hold else None)
        p.stdout.readline()  # "ready": imports done, the library is about to open
        ready = time.perf_counter()
        if kill_after is not None:
            time.sleep(kill_after)
            try:
                p.kill()
            except ProcessLookupError:
                pass
        out_b, err_b = p.communicate(timeout=timeout)
        out, err = out_b.decode(errors="replace"), err_b.decode(errors="replace")
        took = time.perf_counter() - ready
        report = None
        for line in out.splitlines():
            if line.startswith("{"):
                report = json.loads(line)
        return {"rc": p.returncode, "killed": p.returncode == -9, "report": report,
                "stderr": err[-2000:], "seconds_after_ready": took}


def _volume_top(path: str) -> str:
    p = os.path.realpath(path)
    while not os.path.ismount(p):
        p = os.path.dirname(p)
    return p


def tree(roots: list[str]) -> dict:
    """Every entry under ``roots`` (links not followed; an absent root is skipped):
    ``entries`` maps path -> ("dir",), ("link", target) or ("file", size, mtime_ns, inode)."""
    entries: dict[str, tuple] = {}

    def note(p: str) -> None:
        try:
            st = os.lstat(p)
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode):
            entries[p] = ("link", os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            entries[p] = ("dir",)
        else:
            entries[p] = ("file", st.st_size, st.st_mtime_ns, st.st_ino)

    for root in roots:
        note(root)
        if entries.get(root) != ("dir",):
            continue
        for folder, dirs, files in os.walk(root):
            for n in dirs + files:
                note(os.path.join(folder, n))
    return {"roots": list(roots), "entries": entries}


def changed(before: dict, after: dict) -> list[str]:
    """Paths created, removed or changed between two ``tree``s (a folder: only made or
    removed; its time changes whenever an entry in it does)."""
    a, b = before["entries"], after["entries"]
    return sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))


class OtherUser:
    """A throwaway second local user, made with ``useradd`` (root only) and removed by
    ``close``: the intruder who plants trash folders, symlinks and sockets."""

    def __init__(self, prefix: str = "pfintr"):
        import pwd

        self.name = f"{prefix}{os.getpid() % 1000000}"
        r = subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell",
                            "/usr/sbin/nologin", self.name], capture_output=True, text=True)
        if r.returncode:
            raise OSError(f"useradd {self.name} failed: {r.stderr.strip() or r.returncode}")
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def become(self):
        """A ``preexec_fn``: the child runs as this user."""
        def drop() -> None:
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)
        return drop

    def run(self, *cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(cmd), preexec_fn=self.become(), capture_output=True,
                              text=True, timeout=60)

    def close(self) -> None:
        subprocess.run(["userdel", self.name], capture_output=True)
        subprocess.run(["groupdel", self.name], capture_output=True)  # (where userdel left it)

    def __enter__(self) -> "OtherUser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_SQUAT = r"""
import os, socket, sys
path, uid, gid, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
os.chmod(path, 0o777)
os.setgroups([]); os.setgid(gid); os.setuid(uid)  # listen() records these credentials
srv.listen(1)
print("listening", flush=True)
srv.settimeout(wait)
got = 0
try:
    conn, _ = srv.accept()
    conn.settimeout(3)
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += len(chunk)
except OSError:
    pass
print(got, flush=True)
"""


def squat(user: OtherUser, path: str, wait: float = 5.0) -> subprocess.Popen:
    """``user`` listens on a Unix socket at ``path`` (root binds it where the user could not,
    then becomes the user before ``listen``, so the peer credentials are theirs). Its stdout
    says "listening", then how many bytes it was sent."""
    p = subprocess.Popen([sys.executable, "-c", _SQUAT, path, str(user.uid), str(user.gid),
                          str(wait)], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "listening":
        p.kill()
        raise OSError(f"the squatter could not listen on {path}")
    return p


def entry_sha(file: str, home: str) -> str | None:
    """The content hash of a trash entry, read as the file would be at ``home``: a symlink
    entry by its target as the link reads from there (a relative link dangles from the
    trash). None when it cannot be read."""
    try:
        if os.path.islink(file):
            return sha(os.path.join(os.path.dirname(home), os.readlink(file)))
        return sha(file)
    except OSError:
        return None


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
            if e is not None and e.trash_dir \
                    and entry_sha(Entry(e.trash_dir, e.trash_name).file, path) == h:
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
            try:
                with open(target / ".filler", "wb") as f:
                    while True:
                        f.write(b"\0" * (1 << 16))
                        f.flush()
            except OSError:
                pass  # full (already full: not even the filler could be made)
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
            elif action == "scan":
                r = lib.scan()
                print(json.dumps({"new": r.new, "deleted": r.deleted, "offline": r.offline}),
                      flush=True)
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
