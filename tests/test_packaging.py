"""The wheel holds every package and the resources (a plain install works)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "photofinder").rglob("__init__.py")}
    found.add("photofinder.resources")  # resources/ at the top, mapped into the package
    assert found == listed


def test_resources_load_through_importlib():
    from photofinder.assets import demo_originals, icon_path

    assert len(demo_originals()) == 8
    assert (demo_originals()[0].parent / "LICENSES.md").is_file()
    for svg in (ROOT / "resources" / "icons").glob("*.svg"):
        assert icon_path(svg.stem).read_bytes() == svg.read_bytes()


def _lock() -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (ROOT / "packaging" / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_every_install_goes_through_the_lock():
    """The README's commands (run, tests, plain install, bundle, GPU), CI and the plain-install
    smoke all install through packaging/constraints.txt: what a new machine resolves is what
    was tested."""
    import re

    texts = {"README.md": (ROOT / "README.md").read_text(), ".ci/run": (ROOT / ".ci" / "run").read_text(),
             ".ci/smoke_plain_install.sh": (ROOT / ".ci" / "smoke_plain_install.sh").read_text()}
    for name, text in texts.items():
        # .ci/run --latest installs past the lock on purpose, in its own venv
        installs = [m for line in text.splitlines() if ".venv-latest" not in line
                    for m in re.findall(r"pip install [^`&\n]*", line)]
        assert installs, name
        for cmd in installs:
            assert "constraints.txt" in cmd, (name, cmd)


def test_the_lock_satisfies_pyproject_and_bounds_the_numerics():
    """Every requirement of the package and its extras is pinned in the lock at a version its
    range allows; the libraries whose numerics decide verdicts and vectors carry upper bounds."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    pins = _lock()
    env = {"python_version": "3.11"}
    for r in reqs:
        if r.marker is not None and not r.marker.evaluate(env):
            continue
        name = canonicalize_name(r.name)
        assert name in pins, f"{r.name} is not in the lock"
        assert r.specifier.contains(pins[name], prereleases=True), (str(r), pins[name])
    bounded = {canonicalize_name(r.name): r for r in reqs}
    for name in ("opencv-python-headless", "onnxruntime", "onnxruntime-gpu", "numpy", "pillow", "hnswlib"):
        assert any(s.operator in ("<", "<=", "==") for s in bounded[name].specifier), f"{name} has no upper bound"
