"""Build the one-folder bundle (packaging/photofinder.spec) and try it, from the bundle:
``--version``, ``add`` + ``similar --json`` on the demo photos with an empty user data dir
(so the model shipped inside is the one used), and the GUI offscreen for a few seconds.

    python packaging/smoke_bundle.py [--skip-build] [--dist DIR]

Prints one JSON object (sizes, timings, what ran); exit status 0 when every step passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUI_SECONDS = 6


def folder_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())


def build(dist: Path, work: Path) -> float:
    start = time.monotonic()
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(ROOT / "packaging" / "photofinder.spec")]
    r = subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"pyinstaller failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return time.monotonic() - start


def run(exe: Path, env: dict, *args, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run([str(exe), *args], env=env, check=False, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"{exe.name} {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return r


def smoke(exe: Path) -> dict:
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="pf-bundle-") as tmp:
        tmp = Path(tmp)
        photos = tmp / "photos"
        photos.mkdir()
        for p in sorted((ROOT / "resources" / "demo").glob("*.jpg")):
            shutil.copy(p, photos / p.name)
        # an empty data dir and library: nothing from this checkout's venv or user dir is used
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PHOTOFINDER_", "PYTHON"))}
        env.update(PHOTOFINDER_DATA=str(tmp / "data"), PHOTOFINDER_LIBRARY=str(tmp / "library"),
                   QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp))

        t = time.monotonic()
        out["version"] = run(exe, env, "--version").stdout.strip()
        out["version_s"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        run(exe, env, "add", str(photos))
        out["add_s"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        query = photos / "chelsea.jpg"
        similar = json.loads(run(exe, env, "similar", str(query), "--top", "3", "--json").stdout)
        out["similar_s"] = round(time.monotonic() - t, 2)
        if similar["query"] != str(query) or len(similar["results"]) != 3:
            raise SystemExit(f"similar --json gave {similar}")
        out["similar_top"] = [(Path(r["path"]).name, round(r["score"], 3)) for r in similar["results"]]
        status = json.loads(run(exe, env, "status", "--json").stdout)
        out["indexed"] = status["photos"]["indexed"]
        out["provider"] = status["provider"]
        if out["indexed"] != len(list(photos.glob("*.jpg"))):
            raise SystemExit(f"status says {status['photos']}")

        # the GUI, offscreen, for a few seconds on the library, straight into a search
        gui = subprocess.Popen([str(exe), "-v", "gui", str(query)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        time.sleep(GUI_SECONDS)
        alive = gui.poll() is None
        if alive:
            gui.send_signal(signal.SIGINT if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        try:
            log, _ = gui.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            gui.kill()
            log, _ = gui.communicate()
        out["gui_ran_s"] = GUI_SECONDS if alive else None
        out["gui_exit"] = gui.returncode
        out["gui_results_shown"] = f"results on screen for {query}" in log
        if not alive or gui.returncode != 0 or not out["gui_results_shown"]:
            raise SystemExit(f"the GUI did not run for {GUI_SECONDS} s and close cleanly "
                             f"(exit {gui.returncode}):\n{log[-3000:]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", default=str(ROOT / "build" / "bundle" / "dist"))
    ap.add_argument("--skip-build", action="store_true", help="try the bundle already built")
    args = ap.parse_args()
    dist = Path(args.dist)
    report: dict = {}
    if not args.skip_build:
        report["build_s"] = round(build(dist, dist.parent / "work"), 1)
    app = dist / "photofinder"
    exe = app / ("photofinder.exe" if os.name == "nt" else "photofinder")
    if not exe.is_file():
        raise SystemExit(f"no bundle at {exe}: build it first (without --skip-build)")
    report["bundle_mb"] = round(folder_size(app) / 1e6, 1)
    report.update(smoke(exe))
    report["ok"] = True
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
