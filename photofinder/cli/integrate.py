"""``photofinder integrate install|uninstall|status|export``: the "Find similar photos"
action in the user's file managers and the desktop entry. Per user, no root, idempotent."""

from __future__ import annotations

import argparse
import json
import os

from photofinder.cli.common import UserError
from photofinder.paths import default_library
from photofinder.platforms import current, installer
from photofinder.platforms.launcher import detect


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("action", choices=["install", "uninstall", "status", "export"])
    s.add_argument("folder", nargs="?", metavar="FOLDER",
                   help="export: the folder to write the generated files into")
    s.add_argument("--only", metavar="NAME[,NAME]",
                   help="just these (desktop, nautilus, dolphin, thunar, nemo; explorer; finder)")
    s.add_argument("--all", action="store_true",
                   help="install for every file manager of this OS, even those not found here")
    s.add_argument("--platform", choices=["freedesktop", "windows", "macos"],
                   help="export: the OS whose files to write (default: this one)")
    s.add_argument("--json", action="store_true", help="status: as JSON")


def _launcher(args):
    # the actions open the library this command was given, when it is not the default one
    lib = args.library if args.library and os.path.abspath(args.library) != str(default_library()) \
        else None
    return detect(lib)


def run(args) -> int:
    launcher = _launcher(args)
    names = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    if args.action == "export":
        if not args.folder:
            raise UserError("integrate export needs a FOLDER to write into")
        platform = args.platform or current()
        for p in installer.export(launcher, args.folder, platform):
            print(p)
        return 0
    if args.action == "status":
        rows = installer.status(launcher)
        if args.json:
            print(json.dumps({"platform": current(), "command": launcher.gui(),
                              "integrations": [{"name": r.name, "title": r.title,
                                                "detected": r.detected, "installed": r.installed,
                                                "current": r.current, "where": r.where}
                                               for r in rows]}, indent=2))
            return 0
        print(f"command: {' '.join(launcher.gui('FILE...'))}")
        for r in rows:
            found = "" if r.detected else " (file manager not found here)"
            print(f"{r.name:10} {r.state}{found}")
            for w in r.where:
                print(f"{'':10}   {w}")
        return 0
    outcomes = (installer.install(launcher, names, args.all) if args.action == "install"
                else installer.uninstall(launcher, names))
    verb = "wrote" if args.action == "install" else "removed"
    for o in outcomes:
        if o.skipped:
            print(f"{o.name:10} skipped: {o.skipped}")
        elif o.changed:
            print(f"{o.name:10} {verb} " + f"\n{'':10} {verb} ".join(o.changed))
        else:
            print(f"{o.name:10} " + ("already installed, unchanged" if args.action == "install"
                                     else "nothing to remove"))
    return 0
