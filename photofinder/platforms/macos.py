"""macOS: a Finder Quick Action ("Find similar photos" under Quick Actions and Services in
Finder's right-click menu for image files), as the Automator workflow bundle
``~/Library/Services/Find similar photos.workflow`` running one shell command with the
selected files as arguments. Per user, no administrator rights; written as plists anywhere,
so the tests read the generated bundle on any OS."""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
import uuid
from pathlib import Path

from photofinder.platforms import ACTION_NAME
from photofinder.platforms.integration import Integration, PlannedFile, Record
from photofinder.platforms.launcher import Launcher, sh_command

IMAGE_UTI = "public.image"
AUTOMATOR_IMAGES = "com.apple.Automator.fileSystemObject.image"
SHELL_ACTION = "/System/Library/Automator/Run Shell Script.action"


def services_dir() -> Path:
    return Path(os.path.expanduser("~")) / "Library" / "Services"


def workflow_dir() -> Path:
    return services_dir() / f"{ACTION_NAME}.workflow"


def _uuid(tag: str) -> str:
    """Stable ids, so a second install writes the same bytes (idempotent)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"photofinder:quick-action:{tag}")).upper()


def info_plist() -> dict:
    return {
        "CFBundleName": ACTION_NAME,
        "CFBundleIdentifier": "org.photofinder.find-similar",
        "NSServices": [{
            "NSMenuItem": {"default": ACTION_NAME},
            "NSMessage": "runWorkflowAsService",
            "NSRequiredContext": {"NSApplicationIdentifier": "com.apple.finder"},
            "NSSendFileTypes": [IMAGE_UTI],
            "NSIconName": "NSActionTemplate",
        }],
    }


def shell_script(launcher: Launcher) -> str:
    return f'exec {sh_command(launcher.gui())} "$@"\n'


def document(launcher: Launcher) -> dict:
    string_list = {"Container": "List", "Types": ["com.apple.cocoa.string"]}
    action = {
        "AMAccepts": {**string_list, "Optional": True},
        "AMActionVersion": "2.0.3",
        "AMApplication": ["Automator"],
        "AMParameterProperties": {k: {} for k in ("COMMAND_STRING", "CheckedForUserDefaultShell",
                                                  "inputMethod", "shell", "source")},
        "AMProvides": string_list,
        "ActionBundlePath": SHELL_ACTION,
        "ActionName": "Run Shell Script",
        "ActionParameters": {
            "COMMAND_STRING": shell_script(launcher),
            "CheckedForUserDefaultShell": True,
            "inputMethod": 1,  # pass input as arguments
            "shell": "/bin/sh",
            "source": "",
        },
        "BundleIdentifier": "com.apple.RunShellScript",
        "CFBundleVersion": "2.0.3",
        "CanShowSelectedItemsWhenRun": False,
        "CanShowWhenRun": True,
        "Category": ["AMCategoryUtilities"],
        "Class Name": "RunShellScriptAction",
        "InputUUID": _uuid("input"),
        "Keywords": ["Shell", "Script", "Command", "Run", "Unix"],
        "OutputUUID": _uuid("output"),
        "UUID": _uuid("action"),
        "UnlocalizedApplications": ["Automator"],
        "isViewVisible": 1,
        "nibPath": f"{SHELL_ACTION}/Contents/Resources/Base.lproj/main.nib",
    }
    return {
        "AMApplicationBuild": "521",
        "AMApplicationVersion": "2.10",
        "AMDocumentVersion": "2",
        "actions": [{"action": action, "isViewVisible": 1}],
        "connectors": {},
        "workflowMetaData": {
            "applicationBundleIDsByPath": {},
            "applicationPaths": [],
            "inputTypeIdentifier": AUTOMATOR_IMAGES,
            "outputTypeIdentifier": "com.apple.Automator.nothing",
            "presentationMode": 15,
            "processesInput": 0,
            "serviceApplicationBundleID": "com.apple.finder",
            "serviceApplicationPath": "/System/Library/CoreServices/Finder.app",
            "serviceInputTypeIdentifier": AUTOMATOR_IMAGES,
            "serviceOutputTypeIdentifier": "com.apple.Automator.nothing",
            "serviceProcessesInput": 0,
            "systemImageName": "NSActionTemplate",
            "useAutomaticInputType": 0,
            "workflowTypeIdentifier": "com.apple.Automator.servicesMenu",
        },
    }


class Finder(Integration):
    name = "finder"
    title = "Finder Quick Action"

    def plan(self, launcher: Launcher) -> list[PlannedFile]:
        contents = workflow_dir() / "Contents"
        return [
            PlannedFile(contents / "Info.plist", plistlib.dumps(info_plist(), sort_keys=True)),
            PlannedFile(contents / "document.wflow", plistlib.dumps(document(launcher), sort_keys=True)),
        ]

    def install(self, launcher: Launcher, record: Record) -> list[str]:
        written = super().install(launcher, record)
        if written:
            _refresh_services()
        return written

    def uninstall(self, launcher: Launcher, record: Record) -> list[str]:
        removed = super().uninstall(launcher, record)
        for d in (workflow_dir() / "Contents", workflow_dir()):  # the bundle is all ours
            try:
                d.rmdir()
                removed.append(str(d))
            except OSError:
                pass
        if removed:
            _refresh_services()
        return removed


def _refresh_services() -> None:
    """Ask macOS to re-read the Services menu (else it shows up after the next log-in)."""
    pbs = "/System/Library/CoreServices/pbs"
    if sys.platform == "darwin" and os.path.exists(pbs):
        subprocess.run([pbs, "-flush"], capture_output=True, timeout=30, check=False)
