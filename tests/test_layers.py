"""The folders show the layers, and imports point down only (DESIGN.md):
gui, cli -> library -> (work, dedup, retrieval) -> (store, pixels) -> base modules.
Only gui imports Qt; the CLI and the GUI go through the Library door."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "photofinder"
BASE = {"errors", "paths", "assets", "checksums", "identity", "platforms", "resources"}
RANK = {**{b: 0 for b in BASE}, "store": 1, "pixels": 1, "work": 2, "dedup": 2, "retrieval": 2,
        "library": 3, "demo": 3, "cli": 4, "gui": 4, "__main__": 5, "__init__": 0}
DOOR_ONLY = {"store", "pixels", "work", "dedup", "retrieval"}  # never imported by cli / gui


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports():
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG)
        here = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for n in names:
                yield rel, here, n


def test_every_module_has_a_layer():
    for f in PKG.iterdir():
        name = f.stem if f.suffix == ".py" else f.name
        if name != "__pycache__":
            assert name in RANK, f"{name}: which layer is it in? (tests/test_layers.py)"


def test_imports_point_down():
    bad = []
    for rel, here, n in _imports():
        if not n.startswith("photofinder.") or n.count(".") < 1:
            continue
        there = _part(n)
        if there in RANK and here in RANK and there != here and RANK[there] > RANK[here]:
            bad.append(f"{rel} imports {n} (up: {here} -> {there})")
    assert not bad, "\n".join(sorted(set(bad)))


def test_cli_and_gui_use_the_library_door():
    bad = [f"{rel} imports {n}" for rel, here, n in _imports()
           if here in ("cli", "gui") and n.startswith("photofinder.") and _part(n) in DOOR_ONLY]
    assert not bad, "\n".join(sorted(set(bad)))


def test_only_gui_imports_qt():
    bad = [f"{rel} imports {n}" for rel, here, n in _imports()
           if n.split(".")[0] in ("PySide6", "shiboken6") and here != "gui"]
    assert not bad, "\n".join(sorted(set(bad)))
