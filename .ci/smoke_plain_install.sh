#!/usr/bin/env bash
# A user's plain install: non-editable, in a fresh venv outside the source tree, with only the
# extras the README's run command names (export). Then the main jobs from there, on the demo
# photos that ship inside the package: model, add, similar, duplicates (>= 1 group), status,
# icons. Usage: .ci/smoke_plain_install.sh [SOURCE_DIR]
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
extras=$(grep -o "pip install[^&]*-e '\.\[[a-z,]*\]'" "$src/README.md" | head -1 | sed "s/.*\[\(.*\)\].*/\1/")
[ -n "$extras" ] || { echo "cannot read the run command's extras from README.md"; exit 1; }
work=$(mktemp -d /tmp/pf-plain.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"  # outside the source tree: nothing imports from the checkout
python3 -m venv venv
venv/bin/pip install -q -c "$src/packaging/constraints.txt" "$src[$extras]" 2>&1 | grep -v "^WARNING: Location" || true
venv/bin/python -c "import photofinder, sys; p = photofinder.__file__; sys.exit(p.startswith('$src') and f'imported from the checkout: {p}')"
export PHOTOFINDER_DATA="$work/data" QT_QPA_PLATFORM=offscreen
pf=venv/bin/photofinder
lib="$work/library"
$pf model build >/dev/null 2>&1 || { $pf model build; exit 1; }
demo=$(venv/bin/python -c "from photofinder import demo; print(demo.materialise('$work/demo'))")
$pf --library "$lib" add "$demo"
$pf --library "$lib" similar "$demo/astronaut.jpg" --json > similar.json
$pf --library "$lib" duplicates --json > duplicates.json
$pf --library "$lib" status --json > status.json
venv/bin/python - "$demo" <<'PY'
import json, sys
sim = json.load(open("similar.json"))
assert sim["results"], "similar found nothing"
assert sim["results"][0]["path"].endswith("astronaut-resized.jpg") or "astronaut" in sim["results"][0]["path"], sim["results"][:3]
dup = json.load(open("duplicates.json"))
assert len(dup["groups"]) >= 1, "duplicates found no group on the demo photos"
st = json.load(open("status.json"))
assert st["photos"]["indexed"] >= 20 and st["photos"]["failed"] == 0, st["photos"]
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
from photofinder.assets import icon_path
from photofinder.gui.icons import icon
for name in ("photofinder", "trash", "find-similar", "duplicates"):
    assert icon_path(name).is_file(), icon_path(name)
    assert not icon(name).isNull(), f"icon {name} does not load"
print(f"plain install OK: {st['photos']['indexed']} photos, {len(dup['groups'])} duplicate "
      f"groups, top match {sim['results'][0]['path'].rsplit('/', 1)[-1]} "
      f"({sim['results'][0]['score']:.3f}), icons load from {icon_path('trash').parent}")
PY
