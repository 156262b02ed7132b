#!/usr/bin/env bash
# Regenerate packaging/constraints.txt, the one lock every install goes through (the README's
# two commands, .ci/run, the bundle): a fresh venv takes the newest releases that
# pyproject.toml's ranges allow for every extra, and its `pip freeze` becomes the lock.
#
#   bash packaging/lock.sh            # then run .ci/run; commit the lock only when it is green
#
# The lock is made for CPython 3.11 on Linux x86-64 (the machine CI runs on). On another
# platform pip takes what the lock names where it exists there; run this script there to
# lock for it. torch is locked without its local label (2.13.0, not 2.13.0+cpu), so the CPU
# wheel and PyPI's build both satisfy it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/pf-lock.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$src[export,test,bundle,map,plot]" 2>&1 | grep -v "^WARNING: Location" || true
# onnxruntime-gpu replaces onnxruntime (the gpu extra); it cannot share a venv with it, so its
# newest release inside pyproject's range is looked up and locked beside it.
gpu=$("$work/venv/bin/pip" index versions onnxruntime-gpu 2>/dev/null \
      | sed -n 's/^onnxruntime-gpu (\([0-9.]*\)).*/\1/p')
python3 - "$work/venv/bin/pip" "$gpu" "$src/packaging/constraints.txt" <<'PY'
import datetime, platform, subprocess, sys

pip, gpu, out = sys.argv[1], sys.argv[2], sys.argv[3]
frozen = subprocess.run([pip, "freeze", "--exclude", "photofinder"], check=True,
                        capture_output=True, text=True).stdout.split()
lines = sorted((l.split("+", 1)[0] for l in frozen if "==" in l), key=str.lower)
if gpu:
    lines = sorted(lines + [f"onnxruntime-gpu=={gpu}"], key=str.lower)
head = [
    "# The lock: every install goes through it (pip install -c packaging/constraints.txt ...):",
    "# the README's run and test commands, .ci/run and the bundle. Made by packaging/lock.sh",
    f"# on {datetime.date.today()} for CPython {platform.python_version()} on {platform.system()} "
    f"{platform.machine()}; do not edit by hand.",
    "# .ci/run --latest runs the suite against the newest releases instead (see .ci/run).",
]
open(out, "w").write("\n".join(head + lines) + "\n")
print(f"wrote {out}: {len(lines)} pins")
PY
