"""The desktop bundle: PyInstaller builds the one-folder app (packaging/photofinder.spec) and
packaging/smoke_bundle.py runs it: --version, add + similar --json on the demo photos with
an empty user data dir (the model inside the bundle is used), the GUI offscreen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bundle_builds_and_runs(tmp_path, model):
    pytest.importorskip("PyInstaller", reason="the bundle extra is not installed: "
                        "pip install -c packaging/constraints.txt -e '.[bundle]'")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           # the model the test session built (conftest) goes into the bundle
           "PHOTOFINDER_BUNDLE_MODEL": str(model)}
    r = subprocess.run([sys.executable, str(ROOT / "packaging" / "smoke_bundle.py"),
                        "--dist", str(tmp_path / "dist")], env=env, check=False,
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = json.loads(r.stdout)
    assert report["ok"] and report["version"].startswith("photofinder ")
    assert report["indexed"] == 8 and len(report["similar_top"]) == 3
    assert report["gui_results_shown"] and report["gui_exit"] == 0
    app = tmp_path / "dist" / "photofinder" / "_internal"
    assert (app / "photofinder" / "models" / "efficientnet-lite2-gem" / "manifest.json").is_file()
    assert (app / "photofinder" / "resources" / "icons" / "photofinder.svg").is_file()
    assert list(app.rglob("libqoffscreen*")) or list(app.rglob("qoffscreen*"))
    assert not (app / "torch").exists()
