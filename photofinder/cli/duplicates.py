"""The `duplicates` and `undo` commands of the CLI (front end: flags and printing)."""

from __future__ import annotations

import argparse
import json
import sys

# "normal" is the library's DEFAULT_SENSITIVITY (None here: the door's constant decides; the
# library is loaded only when a command runs)
SENSITIVITY_WORDS: dict[str, float | None] = {"low": 0.2, "normal": None, "high": 0.8}


def sensitivity(text: str) -> float | None:
    if text in SENSITIVITY_WORDS:
        return SENSITIVITY_WORDS[text]
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a number from 0 to 1, or low/normal/high") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError("a number from 0 to 1, or low/normal/high")
    return v


def add_arguments(s) -> None:
    s.add_argument("--sensitivity", type=sensitivity, default=None, metavar="S",
                   help="0..1 or low/normal/high (default normal = 0.5): higher finds more")
    s.add_argument("--trash", action="store_true",
                   help="move every copy but the suggested keeper to the system trash")
    s.add_argument("--include-edits", action="store_true",
                   help="with --trash: also move deliberate edits (tone, colour, black and "
                        "white copies), which are never pre-selected otherwise")
    s.add_argument("--yes", action="store_true", help="with --trash: do not ask")
    s.add_argument("--dry-run", action="store_true", help="with --trash: only say what would go")
    s.add_argument("--keep", metavar="PATH", action="append", default=[],
                   help="keep this copy in its group (remembered)")
    s.add_argument("--not-duplicates", nargs=2, metavar=("A", "B"),
                   help="remember that A and B are not duplicates")
    s.add_argument("--prefer-folder", metavar="DIR", action="append", default=[],
                   help="keeper rule: prefer copies in this folder (remembered)")


def run_cli(lib, args) -> int:
    from photofinder.library import DEFAULT_SENSITIVITY, LibraryError

    if getattr(args, "not_duplicates", None):
        lib.not_duplicates(*args.not_duplicates)
        print("remembered: not duplicates", file=sys.stderr)
    for p in getattr(args, "keep", []) or []:
        lib.keep(p)
    if getattr(args, "prefer_folder", None):
        lib.prefer_folders(args.prefer_folder)
    chosen = getattr(args, "sensitivity", None)
    found = lib.find_duplicates(DEFAULT_SENSITIVITY if chosen is None else chosen)
    if lib.duplicates_unsaved:  # a read-only library: found, not stored
        print(f"note: {lib.duplicates_unsaved}", file=sys.stderr)
    groups = found.groups  # copies only: similar shots are never offered for the trash
    if args.json and not getattr(args, "trash", False):
        print(json.dumps(found.to_json(), indent=2))
        return 0
    if not args.json:
        _print_groups(groups)
        _print_similar(found.similar_shots)
    if not getattr(args, "trash", False):
        return 0
    edits = bool(getattr(args, "include_edits", False))
    report = lib.trash_groups(groups, dry_run=True, include_edits=edits)
    if not report.trashed:
        print("nothing to move to the trash", file=sys.stderr)
        return 0
    if args.dry_run:
        for p in report.trashed:
            print(f"would trash: {p}")
        for p, why in report.refused.items():
            print(f"would keep:  {p} ({why})")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise LibraryError("--trash asks before moving files; add --yes to confirm "
                               "without a terminal")
        answer = input(f"Move {len(report.trashed)} copies to the trash? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing moved")
            return 0
    report = lib.trash_groups(groups, include_edits=edits)
    if args.json:
        print(json.dumps({**found.to_json(), "trashed": report.trashed,
                          "batch": report.batch, "skipped": report.refused,
                          "error": report.error}, indent=2))
    else:
        _print_trashed(report)
    if report.error:
        print(f"photofinder: {report.error}", file=sys.stderr)
        return 1
    return 0


def _print_trashed(report) -> None:
    for p, why in report.refused.items():
        print(f"kept: {p} ({why})")
    if not report.trashed:
        print("nothing moved to the trash")
    elif report.by_hand:
        print(f"moved {len(report.trashed)} copies to the Trash (put them back from the "
              "system Trash if needed)")
    else:
        print(f"moved {len(report.trashed)} copies to the trash (undo: photofinder undo "
              f"--batch {report.batch})")


def _print_groups(groups) -> None:
    if not groups:
        print("no duplicates")
        return
    _print_sets(groups, "group", "KEEP ", show_kind=True)


def _print_similar(shots) -> None:
    if not shots:
        return
    print(f"similar shots (not copies; nothing here is moved to the trash): {len(shots)}")
    _print_sets(shots, "shots", "BEST ", show_kind=False)


def _print_sets(groups, title: str, mark: str, show_kind: bool) -> None:
    """Each group: its members, the kept (or best) one marked, with their reasons."""
    for i, g in enumerate(groups, 1):
        print(f"{title} {i}:")
        for m in g.members:
            kind = f"{m.kind:5s} " if show_kind else ""
            mark_m = mark if m.path == g.keep else ("EDIT " if m.edit else " " * len(mark))
            print(f"  {mark_m}{kind}{m.score:5.3f}  {m.path}")
            print(f"{' ' * (14 + len(kind))}{'; '.join(m.reasons)}")


def run_undo(lib, args) -> int:
    report = lib.undo(getattr(args, "batch", None))
    for p in report:
        print(f"restored: {p}")
    for p, why in getattr(report, "blocked", {}).items():
        print(f"not restored: {p}: {why}", file=sys.stderr)
    return 1 if getattr(report, "blocked", None) else 0
