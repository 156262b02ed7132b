"""Fault campaign: the clean-up (duplicates --trash, undo) run again and again in a child
process that is killed at every named step and at random moments, that meets full and
read-only disks (small tmpfs mounts, where this machine allows mounting) and failing writes,
whose files change between detection and action, and whose trash is emptied and refilled.

Issue 22 adds a hostile world (tests/faultkit.py World(hostile=True)): symlinked files (a
relative link to a picture outside the folders, beside copies of it; an absolute one), a
folder link leading outside, a registered folder that is a symlink to a third volume,
16-bit grey and palette PNGs (and, unless --quick, a 12-megapixel 16-bit scan); in it:
- kills at each step with the links present;
- an unreadable subfolder before a trash, an undo and a scan (the child meets permissions
  as a user does, also as root);
- tampered journal rows and trash entries (paths outside, climbing trash names with and
  without a forged hash, an emptied hash, a folder dressed up as a trash, a folder
  registered later, a path through a folder link, a removed or edited .trashinfo, a
  swapped entry): undo must refuse the row; the edit is then undone and nothing may be lost;
- a second local user (as root: a throwaway user made with useradd and removed after; not
  root: skipped, saying why) who plants trash folders (a symlinked home trash, their
  .Trash-UID, a symlink or their folder as .Trash/UID, a .Trash without the sticky bit),
  then deletes what it can reach there; and who squats the single-instance socket.

After every run the invariant checker (tests/faultkit.py) looks for photos lost (neither at
its path with its hash nor put back by undo from the journal), and each run and the
checker's undo are watched for files written outside the registered folders and the user's
own trash, and for restores of files the journal did not move.

    python benchmarks/fault_campaign.py [--random 360] [--quick] [--only-issue22]

Prints JSON: runs, faults_injected by kind, photos_lost, files_written_outside,
wrong_restores, batches_not_undoable, invariant_problems (the first few of each), what the
tampered rows, the unreadable folder and the second user came to, and the journal's cost
per file beside 40,000 old trash entries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import dbutil  # noqa: E402
import faultkit  # noqa: E402
from faultkit import World, check, entry_sha, sha  # noqa: E402
from photofinder.dedup.cleanup import TRASH_STEPS, UNDO_STEPS  # noqa: E402
from photofinder.platforms import trash as T  # noqa: E402

PER_FILE = [s for s in TRASH_STEPS if s != "indexed"]


class Campaign:
    def __init__(self, world: World, copies: int):
        self.w = world
        self.copies = copies
        self.runs = 0
        self.faults = Counter()
        self.lost: set[str] = set()
        self.not_undoable = 0
        self.problems: list[str] = []
        self.wrong: list[str] = []       # restores of files the journal did not move
        self.outside: list[str] = []     # written outside the folders and the user's trash
        self.missed = 0

    def on(self, world: World, copies: int) -> None:
        """Go on in another world (the counts carry on)."""
        self.w, self.copies = world, copies

    # -- what every run is judged by -----------------------------------------------------
    def watched(self, kind: str, before: dict, snap: dict) -> None:
        """Since ``snap`` (World.snapshot): nothing written outside the registered folders
        and the user's own trash, and nothing put in a folder that is not the file the
        journal moved from there (``before``: path -> hash before the batch)."""
        self.outside += [f"{kind}: {p}" for p in self.w.written_outside(snap)]
        real = {_real(p): h for p, h in before.items()}
        now = faultkit.tree(snap["tree"]["roots"])
        folders = [os.path.realpath(t) for t in self.w.tops]
        for p in faultkit.changed(snap["tree"], now):
            kind_now = now["entries"].get(p, ("gone",))[0]
            if kind_now not in ("file", "link") or "/.Trash" in p or p.endswith("/.filler") or \
                    not any(p.startswith(f + "/") for f in folders):
                continue
            if p not in real or entry_sha(p, p) != real[p]:
                self.wrong.append(f"{kind}: {p}")

    def _settle(self, before: dict, kind: str, fired: bool | None) -> None:
        """``fired``: whether the fault fired (None: a run without one, checked alike)."""
        self.runs += 1
        if fired:
            self.faults[kind] += 1
        elif fired is False:
            self.missed += 1
        snap = self.w.snapshot()
        c = check(self.w, before)
        self.watched(f"{kind} (the check's undo)", before, snap)
        self.lost.update(c["lost"])
        self.not_undoable += len(c["not_undoable"])
        self.problems += [f"{kind}: {p}" for p in c["problems"]]

    def _fired(self, r: dict) -> bool:
        return r["killed"] or '"fault"' in r["stderr"]

    def _ran(self, kind: str, r: dict) -> None:
        if r["rc"] not in (0, 1, -9) or "Traceback" in r["stderr"]:
            self.problems.append(f"{kind}: child failed: {r['stderr'][-300:]}")

    def trash(self, kind: str, mutate=None, hold: bool = False, after=None, plain=False,
              **fault) -> dict:
        """Reset, ``mutate`` the world, trash in a child (``fault``), ``after(report)`` (the
        intruder's move, permissions back), then the checks."""
        self.w.reset()
        if mutate:
            mutate()
        before = self.w.pictures()
        snap = self.w.snapshot()
        r = self.w.run("trash", hold=hold, **fault)
        self._ran(kind, r)
        self.watched(kind, before, snap)
        if after:
            after(r)
        self._settle(before, kind, None if plain else bool(mutate) or self._fired(r))
        return r

    def undo(self, kind: str, mutate=None, hold: bool = False, after=None, plain=False,
             **fault) -> dict:
        self.w.reset()
        before = self.w.pictures()
        done = self.w.run("trash")
        if done["rc"] != 0 or len(done["report"]["trashed"]) != self.copies:
            self.problems.append(f"{kind}: the trash before undo failed: {done}")
        if mutate:
            mutate()
        snap = self.w.snapshot()
        r = self.w.run("undo", hold=hold, **fault)
        self._ran(kind, r)
        self.watched(kind, before, snap)
        if after:
            after(r)
        self._settle(before, kind, None if plain else bool(mutate) or self._fired(r))
        return r

    def refilled(self) -> None:
        """Trash, empty the trash, trash another file under the same name, undo: the other
        file must stay in the trash and the photo's path stay free."""
        self.w.reset()
        before = self.w.pictures()
        r = self.w.run("trash")
        victim = r["report"]["trashed"][0]
        shutil.rmtree(self.w.xdg / "Trash", ignore_errors=True)
        for d in (self.w.vol / f".Trash-{os.getuid()}",):
            shutil.rmtree(d, ignore_errors=True)
        os.environ["XDG_DATA_HOME"] = str(self.w.xdg)
        Path(victim).write_bytes(b"another file, same name")
        entry = T.reserve(victim)
        T.move(victim, entry)
        u = self.w.run("undo")
        self.runs += 1
        self.faults["trash emptied and refilled"] += 1
        if os.path.exists(victim):
            self.wrong.append(f"refilled trash: {victim}")
        if not u["report"] or victim not in u["report"].get("blocked", {}):
            self.problems.append(f"refilled trash: undo did not say why {victim} stays: {u}")
        for p in (u["report"] or {}).get("restored", []):  # (the trash was emptied: none)
            if sha(p) != before[p]:
                self.problems.append(f"refilled trash: {p} came back different")


def _real(path: str) -> str:
    """``path`` with its folders' symlinks resolved (the file itself may be a link)."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def journal_cost(world: World, entries: int) -> float:
    """Seconds per file for a batch beside ``entries`` old entries in the home trash."""
    world.reset()
    info = world.xdg / "Trash" / "info"
    info.mkdir(parents=True, exist_ok=True)
    (world.xdg / "Trash" / "files").mkdir(exist_ok=True)
    for i in range(entries):
        (info / f"old{i}.jpg.trashinfo").write_text(
            f"[Trash Info]\nPath=/gone/old{i}.jpg\nDeletionDate=2020-01-01T00:00:00\n")
    start = time.perf_counter()
    r = world.run("trash")
    took = time.perf_counter() - start
    return took / max(1, len(r["report"]["trashed"]))


# -- issue 22: symlinks, unreadable folders, tampered journals, a second user ----------------
def hostile_world(tmp: Path, imgs: dict, mounts: bool, quick: bool) -> World:
    """A world with links, a folder reached through a symlink on a third volume, a 16-bit
    grey and a palette picture (and, unless quick, a 12-megapixel 16-bit film scan)."""
    import imagegen
    import numpy as np
    from PIL import Image

    deep = Image.fromarray(np.asarray(imgs["camera"].convert("L"), dtype=np.uint16) * 257)
    palette = imgs["chelsea"].convert("RGB").quantize(64)
    scans = []
    if not quick:
        scans.append(tmp / "scan-16bit.png")
        imagegen.big_png(scans[0], 4000, 3000, "I;16")
    w = World(tmp / "hostile", mounts=mounts)
    w.build({"astronaut": imgs["astronaut"], "coffee": imgs["coffee"], "deep": deep,
             "palette": palette}, hostile=True, files=tuple(scans))
    return w


def _rows(w: World) -> list[dict]:
    return dbutil.rows(w.lib, "SELECT * FROM journal WHERE state='moved' ORDER BY id")


def _pick(rows: list[dict], want: str = "") -> dict:
    """A journal row to tamper with: one whose path has ``want`` in it if any, else the
    first."""
    return next((r for r in rows if want and want in r["path"]), rows[0])


def _put_back(w: World, saved: list[dict], infos: dict[str, bytes]) -> None:
    """Undo the intruder's edits: the journal's columns as the clean-up wrote them (its
    state as undo left it), every .trashinfo as it was."""
    for r in saved:
        dbutil.execute(w.lib, "UPDATE journal SET path=?, trash_dir=?, trash_name=?, hash=?, "
                       "size=? WHERE id=?", [r["path"], r["trash_dir"], r["trash_name"],
                                             r["hash"], r["size"], r["id"]])
    for path, data in infos.items():
        Path(path).write_bytes(data)


def tampered(c: Campaign, user: faultkit.OtherUser | None) -> dict:
    """Trash, then an intruder with write access to the catalogue and the trash edits one
    journal row or trash entry; ``undo`` must refuse that row (and may put back the rest).
    Then the edits are undone and the checker runs: nothing lost."""
    from photofinder.dedup.cleanup import file_hash

    w = c.w
    refused: Counter = Counter()
    intruder = w.work / "intruder"

    def plant_trash(name: str, content: Path, path: str) -> Path:
        """A folder dressed up as a trash, holding ``content`` as ``name`` for ``path``."""
        shutil.rmtree(intruder, ignore_errors=True)
        fake = intruder / "Trash"
        (fake / "files").mkdir(parents=True)
        (fake / "info").mkdir()
        shutil.copy2(content, fake / "files" / name)
        (fake / "info" / f"{name}.trashinfo").write_text(
            f"[Trash Info]\nPath={path}\nDeletionDate=2026-01-01T00:00:00\n")
        if user is not None:
            subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", str(intruder)], check=True)
            subprocess.run(["chmod", "-R", "a+rwX", str(intruder)], check=True)
        return fake

    def edits():
        victim = w.outside / "letter.txt"
        later = w.work / "later"

        def outside(row):
            dbutil.execute(w.lib, "UPDATE journal SET path=? WHERE id=?",
                           [str(w.outside / os.path.basename(row["path"])), row["id"]])

        def climb(row, forged: bool):
            victim.write_bytes(b"the user's private letter")
            climb = os.path.relpath(victim, os.path.join(row["trash_dir"], "files"))
            dbutil.execute(w.lib, "UPDATE journal SET trash_name=?, hash=?, size=?, path=? "
                           "WHERE id=?", [climb, file_hash(victim) if forged else "",
                                          victim.stat().st_size if forged else None,
                                          str(w.photos / "a" / "letter.txt"), row["id"]])

        def no_hash(row):
            dbutil.execute(w.lib, "UPDATE journal SET hash='' WHERE id=?", [row["id"]])

        def fake_trash(row):
            other = w.outside / "astronaut-target.jpg"
            fake = plant_trash(row["trash_name"], other, row["path"])
            dbutil.execute(w.lib, "UPDATE journal SET trash_dir=?, hash=?, size=? WHERE id=?",
                           [str(fake), file_hash(other), other.stat().st_size, row["id"]])

        def info_gone(row):
            os.unlink(T.Entry(row["trash_dir"], row["trash_name"]).info)

        def info_names_another(row):
            info = Path(T.Entry(row["trash_dir"], row["trash_name"]).info)
            text = info.read_text().splitlines()
            info.write_text("\n".join(
                (ln.rsplit("/", 1)[0] + "/elsewhere.jpg") if ln.startswith("Path=") else ln
                for ln in text) + "\n")

        def swapped(row):
            entry = T.Entry(row["trash_dir"], row["trash_name"]).file
            os.rename(entry, entry + ".aside")
            shutil.copy2(w.outside / "coffee-target.jpg", entry)
            return lambda: os.replace(entry + ".aside", entry)

        def registered_later(row):
            from photofinder.library import Library

            later.mkdir(exist_ok=True)
            with Library(w.lib) as lib:
                lib.add_folder(later)
            dbutil.execute(w.lib, "UPDATE journal SET path=? WHERE id=?",
                           [str(later / os.path.basename(row["path"])), row["id"]])

            def forget():
                with Library(w.lib) as lib:
                    lib.remove_folder(later)
            return forget

        def through_a_link(row):
            dbutil.execute(w.lib, "UPDATE journal SET path=? WHERE id=?",
                           [str(w.photos / "door" / os.path.basename(row["path"])), row["id"]])

        yield "journal: path outside every folder", "", outside
        yield "journal: trash name climbs out, no hash", "", lambda r: climb(r, False)
        yield "journal: trash name climbs out, forged hash", "", lambda r: climb(r, True)
        yield "journal: content hash emptied", "", no_hash
        yield "journal: a folder dressed up as a trash", "", fake_trash
        yield "journal: a folder registered after the batch", "", registered_later
        yield "journal: path through a folder link", "", through_a_link
        yield "trash: .trashinfo removed", "", info_gone
        yield "trash: .trashinfo names another path", "", info_names_another
        yield "trash: .trashinfo of a relative link removed", "-link", info_gone
        yield "trash: entry swapped for another photo", "", swapped

    for kind, want, edit in edits():
        w.reset()
        before = w.pictures()
        done = w.run("trash")
        if done["rc"] != 0 or not done["report"]["trashed"]:
            c.problems.append(f"{kind}: the trash before the edit failed: {done['stderr'][-300:]}")
            continue
        rows = _rows(w)
        row = _pick(rows, want)
        infos = {T.Entry(r["trash_dir"], r["trash_name"]).info:
                 Path(T.Entry(r["trash_dir"], r["trash_name"]).info).read_bytes() for r in rows}
        fix = edit(row)
        edited = dbutil.rows(w.lib, "SELECT * FROM journal WHERE id=?", [row["id"]])[0]
        snap = w.snapshot()
        u = w.run("undo")
        c._ran(kind, u)
        c.watched(kind, before, snap)
        blocked = (u["report"] or {}).get("blocked", {})
        if edited["path"] in blocked:
            refused[kind] += 1
        else:
            c.problems.append(f"{kind}: undo did not refuse the edited row: {u['report']}")
        if os.path.exists(w.outside / "letter.txt") is False and "climbs" in kind:
            c.wrong.append(f"{kind}: the user's letter was moved")
        if fix:
            fix()
        info = T.Entry(row["trash_dir"], row["trash_name"]).info
        _put_back(w, [row], {info: infos[info]})
        if "swapped" in kind:  # the trash held another file: 'gone' was right; put back
            dbutil.execute(w.lib, "UPDATE journal SET state='moved', reason=NULL WHERE id=?",
                           [row["id"]])
        c._settle(before, kind, True)
    return dict(refused)


def symlinks(c: Campaign, quick: bool) -> None:
    """Links in the folders and a folder reached through one, under kills at each step."""
    c.trash("symlinks: trash and check", plain=True)
    c.undo("symlinks: undo", plain=True)
    for step in (TRASH_STEPS if not quick else ["moved", "verified"]):
        c.trash(f"symlinks: kill at {step}", kill=f"{step}:2")
    for step in (UNDO_STEPS if not quick else ["restoring"]):
        c.undo(f"symlinks: kill at {step}", kill=f"{step}:2")


def unreadable(c: Campaign) -> dict:
    """A subfolder turns unreadable before a trash, before an undo, before a scan; the
    child meets permissions as a user does. After permissions are back, nothing is lost and
    the scan dropped no photo of the folder from the catalogue."""
    w = c.w
    locked = w.photos / "b"

    def lock(d=locked):
        return lambda: os.chmod(d, 0)

    def unlock(_r=None):
        for d in (w.photos / "a", w.photos / "b"):
            os.chmod(d, 0o755)

    r = c.trash("unreadable subfolder: trash", mutate=lock(), hold=True, after=unlock)
    trash_said = {"trashed": len((r["report"] or {}).get("trashed", [])),
                  "kept_with_a_reason": len((r["report"] or {}).get("refused", {}))}
    c.undo("unreadable subfolder: undo", mutate=lock(w.photos / "a"), hold=True, after=unlock)
    c.trash("unreadable subfolder: trash killed", mutate=lock(), hold=True, after=unlock,
            kill="verified:1")
    # scan while unreadable: the folder's photos stay in the catalogue
    w.reset()
    rows = {r["path"] for r in dbutil.rows(w.lib, "SELECT path FROM photos")
            if r["path"].startswith(str(locked) + "/")}
    os.chmod(locked, 0)
    r = w.run("scan", hold=True)
    unlock()
    c._ran("unreadable subfolder: scan", r)
    c.runs += 1
    c.faults["unreadable subfolder: scan"] += 1
    kept = {r["path"] for r in dbutil.rows(w.lib, "SELECT path FROM photos")}
    dropped = sorted(rows - kept)
    if dropped:
        c.problems.append(f"scan of an unreadable subfolder dropped {dropped}")
    return {"photos_under_it": len(rows), "trash_while_unreadable": trash_said,
            "dropped_from_catalogue_by_scan": len(dropped),
            "scan_report": (r["report"] or {})}


def intruders(c: Campaign, user: faultkit.OtherUser) -> dict:
    """A second local user plants trash folders and symlinks (freedesktop spec: a trash
    folder must be the user's own, no symlink, a sticky .Trash); after the clean-up the
    intruder deletes whatever it can reach there. Nothing may be lost or written there."""
    w = c.w
    uid = os.getuid()
    theirs = w.work / "intruder"
    used: Counter = Counter()

    def as_user(*cmd: str) -> None:
        r = user.run(*cmd)
        if r.returncode:
            raise OSError(f"{user.name}: {' '.join(cmd)}: {r.stderr.strip()}")

    def fresh() -> None:
        shutil.rmtree(theirs, ignore_errors=True)
        theirs.mkdir()
        os.chown(theirs, user.uid, user.gid)
        os.chmod(w.vol, 0o1777)  # (a tmpfs top already is; a plain folder is made so)

    def home_trash_link():
        fresh()
        as_user("mkdir", "-p", f"{theirs}/Trash/files", f"{theirs}/Trash/info")
        as_user("chmod", "-R", "777", f"{theirs}/Trash")
        os.symlink(theirs / "Trash", w.xdg / "Trash")

    def their_per_volume_trash():
        fresh()
        as_user("mkdir", "-m", "777", f"{w.vol}/.Trash-{uid}")

    def link_in_shared_trash():
        fresh()
        as_user("mkdir", "-m", "1777", f"{w.vol}/.Trash")
        as_user("mkdir", "-m", "777", f"{theirs}/trap")
        as_user("ln", "-s", f"{theirs}/trap", f"{w.vol}/.Trash/{uid}")

    def their_folder_in_shared_trash():
        fresh()
        as_user("mkdir", "-m", "1777", f"{w.vol}/.Trash")
        as_user("mkdir", "-m", "777", f"{w.vol}/.Trash/{uid}")

    def shared_trash_not_sticky():
        fresh()
        as_user("mkdir", "-m", "777", f"{w.vol}/.Trash")

    def empty_theirs(_r) -> None:
        """The intruder deletes all it can in the folders it planted."""
        for d in (theirs, w.vol / ".Trash", w.vol / f".Trash-{uid}"):
            user.run("sh", "-c", f'find "{d}" -mindepth 1 -delete 2>/dev/null; true')
        if os.path.islink(w.xdg / "Trash"):
            os.unlink(w.xdg / "Trash")

    for kind, plant in (("home trash is a symlink to their folder", home_trash_link),
                        ("their .Trash-UID on the drive (mode 777)", their_per_volume_trash),
                        ("a symlink planted as .Trash/UID", link_in_shared_trash),
                        ("their folder as .Trash/UID", their_folder_in_shared_trash),
                        (".Trash without the sticky bit", shared_trash_not_sticky)):
        r = c.trash(f"second user: {kind}", mutate=plant, after=empty_theirs)
        used[kind] = len((r["report"] or {}).get("trashed", []))
    shutil.rmtree(theirs, ignore_errors=True)
    return {"trashed_per_plant": dict(used)}


def sockets(user: faultkit.OtherUser, tmp: Path) -> dict:
    """The single-instance socket against a second user: the user's folder for it made
    first by the intruder (mode 777) with a listener inside, and a listener of theirs at the
    very name. A start sends them nothing and never takes them for a window."""
    import tempfile as tf

    from photofinder.gui.single_instance import Request, Starter

    uid = os.getuid()
    run, tmpdir, lib = tmp / "run", tmp / "tmpdir", tmp / "sock-lib"
    for d in (run, tmpdir):
        d.mkdir()
    os.chmod(run, 0o700)
    os.chmod(tmpdir, 0o1777)
    old_env, old_tmp = os.environ.get("XDG_RUNTIME_DIR"), tf.tempdir
    os.environ["XDG_RUNTIME_DIR"], tf.tempdir = str(run), str(tmpdir)
    out = {"starts": 0, "bytes_sent_to_another_user": 0, "handed_to_another_user": 0}
    secret = Request([str(tmp / "a private photo.jpg")])
    try:
        base = os.path.basename(Starter(str(lib)).name)  # as the intruder can work it out
        # 1. a listener of theirs at the very name (in the runtime folder)
        # 2. no private runtime folder: theirs made first in the temporary folder
        # 3. the old guessable name, straight in the temporary folder
        for case in ("at the name", "their folder made first", "the old name in /tmp"):
            if case == "their folder made first":
                os.chmod(run, 0o755)
                r = user.run("mkdir", "-m", "777", f"{tmpdir}/photofinder-{uid}")
                if r.returncode:
                    raise OSError(r.stderr)
                path = f"{tmpdir}/photofinder-{uid}/{base}"
            elif case == "the old name in /tmp":
                path = f"{tmpdir}/{base}"
            else:
                path = f"{run}/{base}"
            listener = faultkit.squat(user, path)
            starter = Starter(str(lib))
            try:
                handed = starter.forward(secret)
            finally:
                starter.release()
            listener.wait(timeout=30)
            got = int(listener.stdout.read().strip() or 0)
            out["starts"] += 1
            out["bytes_sent_to_another_user"] += got
            out["handed_to_another_user"] += int(handed)
            os.unlink(path)
    finally:
        if old_env is None:
            os.environ.pop("XDG_RUNTIME_DIR", None)
        else:
            os.environ["XDG_RUNTIME_DIR"] = old_env
        tf.tempdir = old_tmp
    return out


def second_user_problem() -> str | None:
    if os.geteuid() != 0:
        return "not root: a throwaway second user needs root (useradd)"
    if shutil.which("useradd") is None:
        return "useradd is not installed here"
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", type=int, default=360, help="random-moment kills")
    ap.add_argument("--quick", action="store_true", help="a short run (a few minutes)")
    ap.add_argument("--only-issue22", action="store_true",
                    help="only the symlink, unreadable, tampering and second-user families")
    args = ap.parse_args()
    problem = faultkit.mount_problem()
    tmp = Path(tempfile.mkdtemp(prefix="pf-faults-"))
    os.chmod(tmp, 0o755)  # the second user reaches the folders it plants in
    os.environ.setdefault("PHOTOFINDER_DATA", str(Path.home() / ".local/share/photofinder"))
    world = World(tmp / "work", mounts=problem is None)
    hostile = None
    user = None
    from samples import sample_images

    imgs = sample_images()
    started = time.perf_counter()
    try:
        world.build({k: imgs[k] for k in ("astronaut", "coffee", "chelsea")})
        copies = sum(len(g.others) for g in world.groups())
        c = Campaign(world, copies)
        batch_s = classic(c, world, imgs, args, problem, copies) if not args.only_issue22 \
            else None
        beside_0 = journal_cost(world, 0) if not args.only_issue22 else None
        beside_40k = journal_cost(world, 40000) if not args.only_issue22 else None
        # issue 22
        hostile = hostile_world(tmp, imgs, problem is None, args.quick)
        groups = hostile.groups()
        c.on(hostile, sum(len(g.others) for g in groups))
        deep = sorted({os.path.basename(m.path) for g in groups for m in g.members
                       if m.path.endswith(".png")})
        symlinks(c, args.quick)
        unread = unreadable(c)
        why_no_user = second_user_problem()
        second = {"skipped": why_no_user} if why_no_user else {}
        if why_no_user:
            print(f"fault_campaign: second local user skipped: {why_no_user}", file=sys.stderr)
        else:
            user = faultkit.OtherUser()
            second = {"user": f"{user.name} (uid {user.uid}), made by useradd, removed after"}
            second.update(intruders(c, user))
            second["sockets"] = sockets(user, tmp)
        refused = tampered(c, user)
        result = {
            "runs": c.runs,
            "faults_injected": sum(c.faults.values()),
            "faults_by_kind": dict(sorted(c.faults.items())),
            "random_kills_that_came_after_the_child_finished": c.missed,
            "photos_lost": len(c.lost),
            "files_written_outside": len(c.outside),
            "wrong_restores": len(c.wrong),
            "batches_not_undoable": c.not_undoable,
            "invariant_problems": len(c.problems),
            "first_problems": c.problems[:5],
            "first_lost": sorted(c.lost)[:5],
            "first_written_outside": c.outside[:5],
            "first_wrong_restores": c.wrong[:5],
            "copies_per_batch": copies,
            "hostile_world": {
                "copies_per_batch": c.copies,
                "sixteen_bit_and_palette_files_in_groups": deep,
                "symlinked": ["photos/links: a relative link to a picture outside the folders "
                              "beside copies of it, an absolute one", "photos/door: a folder "
                              "link leading outside", "via: a registered folder that is a "
                              "symlink to a folder on a third volume"],
            },
            "tampered_rows_refused": refused,
            "unreadable_subfolder": unread,
            "second_user": second,
            "small_filesystems": "tmpfs mounts" if problem is None else f"none ({problem})",
            "seconds": round(time.perf_counter() - started, 1),
            "note": "2-core machine shared with other jobs; per-file times include the "
                    "child's start-up (python + imports) spread over the batch",
        }
        if not args.only_issue22:
            result["trash_seconds_per_file_beside_0_entries"] = round(beside_0, 4)
            result["trash_seconds_per_file_beside_40000_entries"] = round(beside_40k, 4)
            result["batch_seconds"] = round(batch_s, 2)
    finally:
        world.close()
        if hostile is not None:
            hostile.close()
        if user is not None:
            user.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))


def classic(c: Campaign, world: World, imgs: dict, args, problem: str | None,
            copies: int) -> float:
    """Kills at every step, full and read-only disks, failing writes, files changed behind
    the clean-up's back, a refilled trash, SIGKILL at random moments. Returns the seconds a
    whole batch took after the child was ready (the random kills' range)."""
    nths = [1, 2] if args.quick else list(range(1, copies + 1))
    for step in TRASH_STEPS:
        for n in ([1] if step == "indexed" else nths):
            c.trash(f"kill at {step}", kill=f"{step}:{n}")
    for step in UNDO_STEPS:
        for n in nths:
            c.undo(f"kill at {step}", kill=f"{step}:{n}")
    fs = [("enospc", "vol"), ("erofs", "vol"), ("enospc", "lib")] if problem is None else []
    picks = [1, copies // 2, copies] if not args.quick else [2]
    for kind, target in fs:
        for step in PER_FILE:
            for n in picks:
                c.trash(f"{kind} on {target}", fault=f"{step}:{n}:{kind}:{target}")
        for step in UNDO_STEPS:
            for n in picks:
                c.undo(f"{kind} on {target}", fault=f"{step}:{n}:{kind}:{target}")
    for code in ("ENOSPC", "EROFS"):
        for step in PER_FILE:
            for n in ([1, copies // 2] if not args.quick else [1]):
                c.trash(f"failing writer {code}", fault=f"{step}:{n}:writer:{code}")
    groups = world.groups()
    rng = random.Random(10)

    def change(kind):
        def mutate():
            g = rng.choice(groups)
            m = rng.choice(g.others)
            if kind == "keeper overwritten":
                imgs["rocket"].save(g.keep, format="JPEG")
            elif kind == "copy edited":
                imgs["camera"].convert("RGB").save(m.path, format="JPEG")
            elif kind == "copy deleted":
                os.unlink(m.path)
            else:
                os.rename(m.path, m.path + ".moved.jpg")
        return mutate

    kinds = ["keeper overwritten", "copy edited", "copy deleted", "copy moved"]
    for i in range(8 if not args.quick else 1):
        for kind in kinds:
            step = rng.choice(PER_FILE)
            c.trash(f"changed behind our back: {kind}", mutate=change(kind),
                    kill=f"{step}:{rng.randint(1, copies)}" if i % 2 else None)
    for _ in range(10 if not args.quick else 1):
        c.refilled()
    world.reset()
    batch_s = world.run("trash")["seconds_after_ready"]  # kills land within the batch
    for i in range(args.random if not args.quick else 10):
        if i % 2 == 0:
            c.trash("SIGKILL at a random moment", kill_after=rng.uniform(0, batch_s))
        else:
            c.undo("SIGKILL at a random moment", kill_after=rng.uniform(0, batch_s))
    return batch_s


if __name__ == "__main__":
    main()
