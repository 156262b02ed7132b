"""`photofinder integrate install|uninstall|status|export`: the real command in a temporary
HOME (XDG folders), the files it writes read back and run, and the Windows and macOS writers
checked on what they generate."""

from __future__ import annotations

import json
import os
import plistlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from photofinder import assets
from photofinder.platforms.launcher import Launcher, desktop_exec, windows_command

ROOT = Path(__file__).resolve().parents[1]
OTHER_ACTION = """<?xml version="1.0" encoding="UTF-8"?>
<actions>
<action>
\t<icon>gimp</icon>
\t<name>Edit in GIMP</name>
\t<unique-id>1700000000000001-1</unique-id>
\t<command>gimp %F</command>
\t<description>the user's own action</description>
\t<patterns>*</patterns>
\t<image-files/>
</action>
</actions>
"""
SYSTEM_DEFAULT = """<?xml version="1.0" encoding="UTF-8"?>
<actions>
<action>
\t<icon>utilities-terminal</icon>
\t<name>Open Terminal Here</name>
\t<unique-id>1-1</unique-id>
\t<command>exo-open --working-directory %f --launch TerminalEmulator</command>
\t<description>Example for a custom action</description>
\t<patterns>*</patterns>
\t<startup-notify/>
\t<directories/>
</action>
</actions>
"""


@pytest.fixture
def home(tmp_path):
    """A user's HOME with XDG folders, a data dir and the system's Thunar defaults."""
    h = tmp_path / "home"
    h.mkdir()
    system = tmp_path / "etc-xdg"
    (system / "Thunar").mkdir(parents=True)
    (system / "Thunar" / "uca.xml").write_text(SYSTEM_DEFAULT)
    env = {**os.environ, "HOME": str(h), "XDG_DATA_HOME": str(h / ".local" / "share"),
           "XDG_CONFIG_HOME": str(h / ".config"), "XDG_CONFIG_DIRS": str(system),
           "PHOTOFINDER_DATA": str(tmp_path / "data"), "PHOTOFINDER_LIBRARY": str(tmp_path / "lib")}
    return h, env


def pf(env, *args, check=True):
    r = subprocess.run([sys.executable, "-m", "photofinder", *args], env=env,
                       check=False, capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def tree(*roots: Path) -> dict[str, bytes | None]:
    out = {}
    for root in roots:
        for dirpath, dirs, files in os.walk(root):
            out[dirpath] = None
            for f in files:
                p = os.path.join(dirpath, f)
                out[p] = Path(p).read_bytes()
    return out


def read_desktop(path: Path) -> dict[str, dict[str, str]]:
    groups: dict[str, dict[str, str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = groups.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        assert current is not None and key not in current, f"{path}: {line}"
        current[key] = value
    return groups


def exec_argv(value: str) -> list[str]:
    """A desktop entry's Exec value as argv, read by the Desktop Entry spec: first the string
    value's escapes, then the Exec key's double quoting (\\ before " ` $ \\)."""
    text, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            text.append({"s": " ", "n": "\n", "t": "\t", "r": "\r"}.get(value[i + 1], value[i + 1]))
            i += 2
        else:
            text.append(value[i])
            i += 1
    s = "".join(text)
    args, cur, quoted, started, i = [], [], False, False, 0
    while i < len(s):
        c = s[i]
        if quoted:
            if c == "\\" and i + 1 < len(s) and s[i + 1] in '"`$\\':
                cur.append(s[i + 1])
                i += 1
            elif c == '"':
                quoted = False
            else:
                cur.append(c)
        elif c == " ":
            if started:
                args.append("".join(cur))
            cur, started = [], False
        elif c == '"':
            quoted = started = True
        else:
            cur.append(c)
            started = True
        i += 1
    if started:
        args.append("".join(cur))
    return args


def test_install_status_uninstall_leaves_nothing_behind(home):
    h, env = home
    before = tree(h, Path(env["PHOTOFINDER_DATA"]).parent)
    st = json.loads(pf(env, "integrate", "status", "--json").stdout)
    assert st["platform"] == "freedesktop"
    assert not any(i["installed"] for i in st["integrations"])

    out = pf(env, "integrate", "install", "--all").stdout
    data = h / ".local" / "share"
    entry = data / "applications" / "photofinder.desktop"
    script = data / "nautilus" / "scripts" / "Find similar photos"
    dolphin = data / "kio" / "servicemenus" / "photofinder-find-similar.desktop"
    nemo = data / "nemo" / "actions" / "photofinder-find-similar.nemo_action"
    uca = h / ".config" / "Thunar" / "uca.xml"
    icons = data / "icons" / "hicolor" / "scalable" / "apps"
    for p in (entry, script, dolphin, nemo, uca):
        assert p.is_file(), out
        assert str(p) in out
    assert (icons / "photofinder.svg").read_bytes() == assets.icon_path("photofinder").read_bytes()
    assert (icons / "photofinder-find-similar.svg").read_bytes() == \
        assets.icon_path("find-similar").read_bytes()
    assert os.access(script, os.X_OK) and os.access(dolphin, os.X_OK)

    st = json.loads(pf(env, "integrate", "status", "--json").stdout)
    by_name = {i["name"]: i for i in st["integrations"]}
    assert set(by_name) == {"desktop", "nautilus", "dolphin", "thunar", "nemo"}
    assert all(i["installed"] and i["current"] for i in by_name.values())
    assert str(entry) in by_name["desktop"]["where"]
    assert "installed" in pf(env, "integrate", "status").stdout

    # idempotent: a second install changes nothing
    snapshot = tree(h)
    again = pf(env, "integrate", "install", "--all").stdout
    assert "wrote" not in again and again.count("already installed, unchanged") == 5
    assert tree(h) == snapshot

    # Thunar's defaults stayed (the new uca.xml started from the system's)
    assert "Open Terminal Here" in uca.read_text() and "photofinder-find-similar" in uca.read_text()

    pf(env, "integrate", "uninstall")
    assert tree(h, Path(env["PHOTOFINDER_DATA"]).parent) == before
    st = json.loads(pf(env, "integrate", "status", "--json").stdout)
    assert not any(i["installed"] or i["where"] for i in st["integrations"])
    assert "nothing to remove" in pf(env, "integrate", "uninstall").stdout


def test_install_without_all_takes_the_file_managers_found_here(home):
    h, env = home
    env = {**env, "PATH": os.path.dirname(shutil.which("sh"))}  # no file manager on PATH
    out = pf(env, "integrate", "install").stdout
    assert "nautilus   skipped" in out and "dolphin    skipped" in out
    assert (h / ".local" / "share" / "applications" / "photofinder.desktop").is_file()
    assert not (h / ".local" / "share" / "kio").exists()
    r = pf(env, "integrate", "install", "--only", "dolphin,nope", check=False)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "unknown integration nope" in r.stderr
    pf(env, "integrate", "install", "--only", "nemo")
    assert (h / ".local" / "share" / "nemo" / "actions").is_dir()


def test_desktop_entry_is_valid_and_starts_photofinder(home, tmp_path):
    h, env = home
    pf(env, "integrate", "install", "--only", "desktop")
    entry = h / ".local" / "share" / "applications" / "photofinder.desktop"
    groups = read_desktop(entry)
    main = groups["Desktop Entry"]
    assert main["Type"] == "Application" and main["Icon"] == "photofinder"
    mimes = main["MimeType"].split(";")
    assert "image/jpeg" in mimes and "image/heic" in mimes and main["MimeType"].endswith(";")
    assert main["Actions"] == "find-similar;"
    argv = exec_argv(main["Exec"])
    assert argv[-2:] == ["gui", "%F"] and os.path.isfile(argv[0])
    action = groups["Desktop Action find-similar"]
    assert action["Name"].startswith("Find similar photos")
    assert exec_argv(action["Exec"])[-2:] == ["gui", "--choose"]
    # the command really starts photofinder: with a missing photo it says so and stops
    run = [a for a in argv if a != "%F"] + [str(tmp_path / "no such photo.jpg")]
    r = subprocess.run(run, env=env, check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no such file" in r.stderr and "no such photo.jpg" in r.stderr
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils); "
                    "the entry was checked by parsing only")
    v = subprocess.run([validator, str(entry)], check=False, capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip() == "", v.stdout


def test_exec_quoting_survives_awkward_paths(tmp_path):
    odd = str(tmp_path / 'my "photo" $apps` 100%' / "photo finder")
    argv = [odd, "--library", "/media/usb disk/lib", "gui", "%F"]
    value = desktop_exec(argv)
    assert "%%" in value
    assert [a.replace("%%", "%") for a in exec_argv(value)] == argv
    validator = shutil.which("desktop-file-validate")
    if validator:
        f = tmp_path / "odd.desktop"
        f.write_text(f"[Desktop Entry]\nType=Application\nName=odd\nExec={value}\n")
        v = subprocess.run([validator, str(f)], check=False, capture_output=True, text=True)
        assert v.returncode == 0, v.stdout


def test_file_manager_scripts_pass_every_selected_file(home, tmp_path):
    h, env = home
    pf(env, "integrate", "install", "--all")
    data = h / ".local" / "share"
    missing = [str(tmp_path / "a photo.jpg"), str(tmp_path / "b.jpg")]
    # Nautilus runs the script with the selection as arguments
    r = subprocess.run([str(data / "nautilus" / "scripts" / "Find similar photos"), *missing],
                       env=env, check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "a photo.jpg (and 1 more)" in r.stderr
    # Dolphin's service menu and Nemo's action
    dolphin = read_desktop(data / "kio" / "servicemenus" / "photofinder-find-similar.desktop")
    assert dolphin["Desktop Entry"]["MimeType"] == "image/*;"
    assert exec_argv(dolphin["Desktop Action photofinderFindSimilar"]["Exec"])[-2:] == ["gui", "%F"]
    nemo = read_desktop(data / "nemo" / "actions" / "photofinder-find-similar.nemo_action")
    assert nemo["Nemo Action"]["Mimetypes"] == "image/*;"
    assert shlex.split(nemo["Nemo Action"]["Exec"])[-2:] == ["gui", "%F"]


def test_thunar_action_is_merged_and_taken_out_again(home):
    h, env = home
    import xml.etree.ElementTree as ET

    uca = h / ".config" / "Thunar" / "uca.xml"
    uca.parent.mkdir(parents=True)
    uca.write_text(OTHER_ACTION)
    pf(env, "integrate", "install", "--only", "thunar")
    actions = ET.parse(uca).getroot().findall("action")
    assert [a.findtext("unique-id") for a in actions] == ["1700000000000001-1",
                                                          "photofinder-find-similar"]
    ours = actions[1]
    assert ours.find("image-files") is not None and ours.findtext("patterns") == "*"
    assert shlex.split(ours.findtext("command"))[-2:] == ["gui", "%F"]
    pf(env, "integrate", "uninstall", "--only", "thunar")
    left = ET.parse(uca).getroot().findall("action")
    assert [a.findtext("unique-id") for a in left] == ["1700000000000001-1"]
    assert left[0].findtext("command") == "gimp %F"
    # a broken uca.xml is never overwritten
    uca.write_text("<actions><action>")
    r = pf(env, "integrate", "install", "--only", "thunar", check=False)
    assert r.returncode == 1 and "not valid XML" in r.stderr and r.stderr.count("\n") == 1
    assert uca.read_text() == "<actions><action>"


def test_windows_registry_plan_and_reg_file(tmp_path):
    from photofinder.platforms.windows import ROOT as KEY
    from photofinder.platforms.windows import reg_file, registry_plan

    exe = r"C:\Program Files\photofinder\photofinder.exe"
    launcher = Launcher((exe,))
    plan = registry_plan(launcher)
    values = {(v.key, v.name): v.value for v in plan}
    assert KEY.startswith(r"Software\Classes\SystemFileAssociations\image\shell")
    assert values[(KEY, "")] == "Find similar photos"
    assert values[(KEY, "MultiSelectModel")] == "Player"
    command = values[(KEY + r"\command", "")]
    assert command == r'"C:\Program Files\photofinder\photofinder.exe" "gui" "%1"'
    text = reg_file(plan)
    assert text.startswith("Windows Registry Editor Version 5.00\r\n")
    assert f"[HKEY_CURRENT_USER\\{KEY}\\command]" in text
    assert '@="\\"C:\\\\Program Files\\\\photofinder\\\\photofinder.exe\\" \\"gui\\" \\"%1\\""' in text
    assert f"[-HKEY_CURRENT_USER\\{KEY}]" in reg_file([], remove=True)
    # a library path with a trailing backslash and a quote survives Windows' argv rules
    assert windows_command(["a b\\", 'say "hi"']) == '"a b\\\\" "say \\"hi\\""'
    # `integrate export` writes both .reg files as regedit reads them (UTF-16 with a BOM)
    env = {**os.environ, "PHOTOFINDER_DATA": str(tmp_path / "data")}
    out = pf(env, "integrate", "export", str(tmp_path / "win"), "--platform", "windows").stdout
    reg = (tmp_path / "win" / "install.reg").read_bytes()
    assert reg[:2] in (b"\xff\xfe", b"\xfe\xff") and "photofinder.findsimilar" in reg.decode("utf-16")
    assert "uninstall.reg" in out


def test_macos_quick_action_bundle(tmp_path, monkeypatch):
    from photofinder.platforms import installer

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PHOTOFINDER_DATA", str(tmp_path / "data"))
    launcher = Launcher((sys.executable, "-m", "photofinder"), library=str(tmp_path / "my lib"))
    written = installer.export(launcher, tmp_path / "mac", "macos")
    names = sorted(p.name for p in written)
    assert names == ["Info.plist", "document.wflow"]
    bundle = tmp_path / "mac" / "HOME" / "Library" / "Services" / "Find similar photos.workflow"
    info = plistlib.loads((bundle / "Contents" / "Info.plist").read_bytes())
    service = info["NSServices"][0]
    assert service["NSMenuItem"]["default"] == "Find similar photos"
    assert service["NSSendFileTypes"] == ["public.image"]
    assert service["NSMessage"] == "runWorkflowAsService"
    doc = plistlib.loads((bundle / "Contents" / "document.wflow").read_bytes())
    meta = doc["workflowMetaData"]
    assert meta["workflowTypeIdentifier"] == "com.apple.Automator.servicesMenu"
    assert meta["serviceInputTypeIdentifier"] == "com.apple.Automator.fileSystemObject.image"
    params = doc["actions"][0]["action"]["ActionParameters"]
    assert params["inputMethod"] == 1 and params["shell"] == "/bin/sh"
    # the Quick Action's script, run as Automator runs it, starts photofinder on the files
    photo = str(tmp_path / "holiday photo.jpg")
    r = subprocess.run(["/bin/sh", "-c", params["COMMAND_STRING"], "sh", photo],
                       env={**os.environ, "PHOTOFINDER_DATA": str(tmp_path / "data")},
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and f"no such file: {photo}" in r.stderr
    # the same bytes every time (install is idempotent)
    again = installer.export(launcher, tmp_path / "mac2", "macos")
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]
