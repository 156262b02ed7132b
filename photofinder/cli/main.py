"""Command line: ``photofinder`` / ``python -m photofinder`` (contract in DESIGN.md).

Exit codes: 0 ok, 1 user error (one line on stderr, no traceback), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import traceback

from photofinder import __version__
from photofinder.cli import duplicates, evaluate, integrate, learn
from photofinder.cli.common import ProgressBar, UserError
from photofinder.errors import PhotofinderError
from photofinder.paths import default_library

log = logging.getLogger("photofinder")


def _open_library(args):
    from photofinder.library import Library

    return Library(args.library, provider=args.provider)


def _index_now(lib, quiet: bool = False) -> None:
    bar = ProgressBar("indexing")
    report, prog = lib.update(progress=bar)
    bar.close()
    if not quiet:
        st = lib.counts()
        print(f"{report.new} new, {report.changed} changed, {report.moved} moved, "
              f"{report.deleted} removed; indexed {prog.done - prog.failed}, failed {prog.failed}"
              + (f" ({prog.rate:.1f} photos/s)" if prog.done else "")
              + f"; library: {st['indexed']} photos indexed, {st['failed']} unreadable"
              + (f"; offline: {', '.join(report.offline)}" if report.offline else ""))
        for line in report.problem_lines():
            print(f"photofinder: {line}", file=sys.stderr)
        found = lib.stored_duplicates() if prog.done > prog.failed else None  # checked as it ended
        if found is not None and (found.groups or found.similar_shots):
            print(f"duplicates: {len(found.groups)} group{'s' if len(found.groups) != 1 else ''} "
                  f"of copies, {len(found.similar_shots)} of similar shots "
                  "(photofinder duplicates lists them)")


def cmd_add(args) -> int:
    with _open_library(args) as lib:
        for folder in args.folders:
            lib.add_folder(folder)
        _index_now(lib)
    return 0


def cmd_remove(args) -> int:
    with _open_library(args) as lib:
        n = lib.remove_folder(args.folder)
        print(f"removed {os.path.abspath(args.folder)} ({n} photos) from the library")
    return 0


def cmd_scan(args) -> int:
    with _open_library(args) as lib:
        _index_now(lib)
    return 0


def cmd_watch(args) -> int:
    with _open_library(args) as lib:
        lib.watch(log=lambda msg: print(msg, file=sys.stderr, flush=True))
    return 0


def cmd_status(args) -> int:
    with _open_library(args) as lib:
        st = lib.status()
    if args.json:
        print(json.dumps(st.to_json(), indent=2))
        return 0
    ph = st.photos
    print(f"photos: {ph.indexed} indexed, {ph.pending} pending, {ph.failed} failed")
    print(f"model: {st.provider}" if st.model == "unavailable"
          else f"model: {st.model} on {st.provider}")
    pr = st.projection or {}
    if pr.get("kind", "none") != "none":
        print(f"index: {pr['kind']} {pr['version']} " + (f"(learned from {pr['trained_on']} "
              "photos)" if pr.get("trained_on") else f"({pr.get('note', 'shipped')})"))
    for f in st.folders:
        print(f"folder: {f.path} ({f.photos} photos{'' if f.online else ', OFFLINE'})")
    for e in st.errors:
        print(f"error: {e.path}: {e.error}")
    return 0


def _region(text: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(round(float(v))) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a region is X,Y,W,H in pixels, not {text!r}") from None
    return x, y, w, h


def cmd_similar(args) -> int:
    if args.top < 1:
        raise UserError("--top must be at least 1")
    with _open_library(args) as lib:
        query = os.path.abspath(args.image)
        matches = lib.similar(query, args.top, region=args.region)
    if args.json:
        print(json.dumps({"query": query,
                          "results": [{"path": m.path, "score": round(m.score, 6)} for m in matches]},
                         indent=2))
    else:  # the GUI's scale: the calibrated chance of the same place or object (JSON: raw)
        from photofinder.library import similarity_percent

        if not matches:
            print("no similar photos (is the library empty? `photofinder add FOLDER`)")
        for m in matches:
            print(f"{similarity_percent(m.score):3d}%  {m.path}")
    return 0


def cmd_search(args) -> int:
    if args.top < 1:
        raise UserError("--top must be at least 1")
    query = " ".join(args.words)
    with _open_library(args) as lib:
        matches = lib.search_words(query, args.top)
    if args.json:
        print(json.dumps({"query": query,
                          "results": [{"path": m.path, "score": round(m.score, 6)} for m in matches]},
                         indent=2))
    else:
        if not matches:
            print("no photos yet (is the library empty? `photofinder add FOLDER`)")
        for m in matches:
            print(f"{m.score:6.3f}  {m.path}")
    return 0


def cmd_duplicates(args) -> int:
    with _open_library(args) as lib:
        return duplicates.run_cli(lib, args)


def cmd_undo(args) -> int:
    with _open_library(args) as lib:
        return duplicates.run_undo(lib, args)


def cmd_gui(args) -> int:
    try:
        from photofinder.gui.app import run
    except ImportError as e:
        raise UserError(f"the desktop app cannot start: {e}") from None
    images = args.image if isinstance(args.image, list) else [args.image] if args.image else []
    return run(args.library, images=images, provider=args.provider,
               choose=getattr(args, "choose", False))


def cmd_integrate(args) -> int:
    return integrate.run(args)


def cmd_evaluate(args) -> int:
    return evaluate.run_cli(args)


def cmd_learn(args) -> int:
    with _open_library(args) as lib:
        return learn.run(lib, args)


def cmd_model(args) -> int:
    from photofinder.library import build_model, model_info

    if args.action == "build":
        manifest = build_model(progress=lambda m: print(m, file=sys.stderr))
        emb = manifest.get("embedding_sha256", manifest["sha256"])
        print(f"built {manifest['name']} (embedding {emb[:12]}, dim {manifest['dim']}; "
              f"{manifest.get('classes', {}).get('count', 0)} classes; file sha256 "
              f"{manifest['sha256'][:12]})")
        return 0
    print(json.dumps(model_info(args.provider), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="photofinder",
                                description="Find similar photos by example and clean out "
                                            "duplicates, on your own machine.")
    p.add_argument("--version", action="version", version=f"photofinder {__version__}")
    p.add_argument("--library", default=None,
                   help="library folder (default: $PHOTOFINDER_LIBRARY, else the user data dir)")
    p.add_argument("--provider", choices=["auto", "cpu", "cuda"], default=None,
                   help="inference provider (default: CUDA when available, else CPU)")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("add", help="add folders and index them now")
    s.add_argument("folders", nargs="+", metavar="FOLDER")
    s.set_defaults(func=cmd_add)
    s = sub.add_parser("remove", help="forget a folder (its files are not touched)")
    s.add_argument("folder", metavar="FOLDER")
    s.set_defaults(func=cmd_remove)
    sub.add_parser("scan", help="pick up what changed since last time").set_defaults(func=cmd_scan)
    sub.add_parser("watch", help="watch the folders and index changes (headless)"
                   ).set_defaults(func=cmd_watch)
    s = sub.add_parser("status", help="what is indexed, pending and failed")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)
    s = sub.add_parser("similar", help="the photos most similar to IMAGE")
    s.add_argument("image", metavar="IMAGE")
    s.add_argument("--top", type=int, default=20, metavar="K")
    s.add_argument("--region", type=_region, metavar="X,Y,W,H",
                   help="find this part of IMAGE (in its pixels after EXIF orientation)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_similar)
    s = sub.add_parser("search", help="photos by words: what they show (offline)")
    s.add_argument("words", metavar="WORDS", nargs="+", help='e.g. dog, "sports car", beach sunset')
    s.add_argument("--top", type=int, default=20, metavar="K",
                   help="how many photos (as many as the library holds: the full ranking)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)
    s = sub.add_parser("duplicates", help="groups of duplicate photos")
    s.add_argument("--json", action="store_true")
    duplicates.add_arguments(s)
    s.set_defaults(func=cmd_duplicates)
    s = sub.add_parser("undo", help="put back what the last clean-up moved to the trash")
    s.add_argument("--batch", metavar="ID", help="a particular clean-up (default: the last)")
    s.set_defaults(func=cmd_undo)
    s = sub.add_parser("gui", help="the desktop app (default)")
    s.add_argument("image", nargs="*", metavar="IMAGE",
                   help="photos to find similar ones of (handed to the running window, if any)")
    s.add_argument("--choose", action="store_true", help="start by asking for a photo to search by")
    s.set_defaults(func=cmd_gui)
    s = sub.add_parser("integrate", help='"Find similar photos" in the file managers, a menu entry')
    integrate.add_arguments(s)
    s.set_defaults(func=cmd_integrate)
    s = sub.add_parser("evaluate", help="measure Find similar on a folder of groups (mAP, P@k)")
    evaluate.add_arguments(s)
    s.set_defaults(func=cmd_evaluate)
    s = sub.add_parser("learn", help="tune Find similar to this library's photos and marks")
    learn.add_arguments(s)
    s.set_defaults(func=cmd_learn)
    s = sub.add_parser("model", help="build the model or show what is in use")
    s.add_argument("action", choices=["build", "info"])
    s.set_defaults(func=cmd_model)
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8 print as they are
        reconfigure = getattr(stream, "reconfigure", None)  # (a TextIOWrapper's; not TextIO's)
        if reconfigure is not None:
            reconfigure(errors="surrogateescape")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.command, args.func, args.image = "gui", cmd_gui, None
    args.library_given = args.library is not None
    args.library = os.path.abspath(args.library) if args.library else str(default_library())
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except PhotofinderError as e:
        print(f"photofinder: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("photofinder: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except sqlite3.DatabaseError as e:  # a damaged catalogue page, a full disk under it
        why = "the disk holding it is full" if "full" in str(e) else "damaged? restore it from a backup"
        print(f"photofinder: the catalogue in {args.library} cannot be used ({e}; {why})",
              file=sys.stderr)
        return 1
    except OSError as e:  # a full disk, a read-only drive, a file where a folder should be
        print(f"photofinder: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""),
              file=sys.stderr)
        return 1
    except Exception as e:  # last line of defence: no traceback reaches a user (but -v)
        report_unexpected(e, args.verbose)
        return 1


def report_unexpected(e: BaseException, verbose: bool, stream=None) -> None:
    """One line for an error nobody foresaw; with ``-v`` its traceback first (the details
    that line promises)."""
    stream = stream or sys.stderr
    if verbose:
        traceback.print_exception(type(e), e, e.__traceback__, file=stream)
    first = str(e).splitlines()[0] if str(e) else ""
    print(f"photofinder: unexpected error: {type(e).__name__}: {first}"
          + ("" if verbose else " (run with -v for details)"), file=stream)
