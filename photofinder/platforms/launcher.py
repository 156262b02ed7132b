"""How a file manager starts photofinder: the command line of ``photofinder gui FILE...``,
and its spelling in each format (a freedesktop Exec key, a shell script, a Windows command).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Launcher:
    """``argv`` starts photofinder (before the sub-command); ``library`` is passed as
    ``--library`` when the actions are for a library other than the default one."""

    argv: tuple[str, ...]
    library: str | None = None
    extra: tuple[str, ...] = field(default=())

    def gui(self, *args: str) -> list[str]:
        lib = ["--library", self.library] if self.library else []
        return [*self.argv, *lib, "gui", *self.extra, *args]


def detect(library: str | None = None) -> Launcher:
    """This installation's own command: the bundle's executable when frozen (PyInstaller),
    else the ``photofinder`` script beside the running Python (a venv or a user install),
    else ``python -m photofinder`` with this very interpreter."""
    if getattr(sys, "frozen", False):
        return Launcher((os.path.abspath(sys.executable),), library)
    bindir = os.path.dirname(os.path.abspath(sys.executable))
    for name in ("photofinder.exe", "photofinder") if sys.platform == "win32" else ("photofinder",):
        script = os.path.join(bindir, name)
        if os.path.isfile(script) and os.access(script, os.X_OK):
            return Launcher((script,), library)
    found = shutil.which("photofinder")
    if found and os.path.dirname(os.path.abspath(found)) == bindir:
        return Launcher((os.path.abspath(found),), library)
    return Launcher((os.path.abspath(sys.executable), "-m", "photofinder"), library)


# -- spellings -------------------------------------------------------------------------------
_DESKTOP_RESERVED = set(' \t\n"\'\\><~|&;$*?#()`')


def desktop_exec(argv: list[str]) -> str:
    """The freedesktop Exec value for ``argv`` (field codes like %F pass through as they are).

    Per the Desktop Entry spec: an argument with a reserved character is double-quoted with
    ``"`` ``\\`` ``$`` and `````` backslash-escaped; a literal ``%`` is ``%%``; then the whole
    value is a string value, whose backslashes are escaped once more."""
    out = []
    for a in argv:
        if a in ("%f", "%F", "%u", "%U"):
            out.append(a)
            continue
        a = a.replace("%", "%%")
        if any(c in _DESKTOP_RESERVED for c in a) or a == "":
            a = '"' + "".join("\\" + c if c in '"`$\\' else c for c in a) + '"'
        out.append(a)
    return " ".join(out).replace("\\", "\\\\")


def sh_quote(arg: str) -> str:
    """POSIX shell quoting (single quotes)."""
    if arg and all(c.isalnum() or c in "@%+=:,./-_" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def sh_command(argv: list[str]) -> str:
    return " ".join(sh_quote(a) for a in argv)


def windows_command(argv: list[str]) -> str:
    """A Windows command line (CommandLineToArgvW rules): every argument double-quoted, so
    ``%1`` receives paths with spaces whole."""
    out = []
    for a in argv:
        if a == "%1" or a == "%*":
            out.append(f'"{a}"' if a == "%1" else a)
            continue
        # backslashes before a quote are doubled, the quote escaped
        quoted, slashes = [], 0
        for c in a:
            if c == "\\":
                slashes += 1
                continue
            if c == '"':
                quoted.append("\\" * (2 * slashes + 1) + '"')
            else:
                quoted.append("\\" * slashes + c)
            slashes = 0
        quoted.append("\\" * (2 * slashes))
        out.append('"' + "".join(quoted) + '"')
    return " ".join(out)
