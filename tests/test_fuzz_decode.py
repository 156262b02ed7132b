"""Mutated image bytes through imaging.decode: a clean ImageError or a valid RGB picture,
never another exception, a crash or a hang. The fuzzing runs in a child process with a time
limit (tests/fuzz_decode.py) so a hang fails this test instead of blocking the suite."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
EXAMPLES = int(os.environ.get("PHOTOFINDER_FUZZ_EXAMPLES", "400"))
BUDGET_S = 300  # the whole run; 400 small inputs take a few seconds


def _tail(text: str, lines: int = 40) -> str:
    keep = [ln for ln in text.splitlines() if not ln.startswith(("tempfile.tif", "TIFF", "_tiff",
                                                                  "LZWDecode", "unknown file"))]
    return "\n".join(keep[-lines:])


def test_fuzzed_images_give_clean_errors_or_valid_pictures(tmp_path):
    case = tmp_path / "current-case.bin"
    cmd = [sys.executable, str(HERE / "fuzz_decode.py"), str(EXAMPLES), str(case)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=BUDGET_S, cwd=tmp_path,
                           errors="replace")
    except subprocess.TimeoutExpired as e:
        kept = tmp_path / "hang.bin"
        if case.exists():
            shutil.copy(case, kept)
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"decoding hung (no result in {BUDGET_S}s); the input is kept at {kept}\n"
                    + _tail(out))
    if r.returncode < 0:  # killed by a signal: a crash inside a decoder
        kept = tmp_path / "crash.bin"
        if case.exists():
            shutil.copy(case, kept)
        pytest.fail(f"decoder crashed ({signal.Signals(-r.returncode).name}); input kept at "
                    f"{kept}\n" + _tail(r.stdout + r.stderr))
    assert r.returncode == 0, _tail(r.stdout + r.stderr)
    assert f"fuzzed {EXAMPLES} inputs" in r.stdout
