"""``photofinder evaluate DIR [--json] [--plot FILE.png] [--words LABELS.json]``: how well
"Find similar" ranks, and with ``--words`` how well search by words does.

Each sub-folder of DIR is a group of photos of one scene or object; every photo queries the
rest. LABELS.json is ``{"words": {"WORD": ["relative/path.jpg", ...]}}`` (paths relative to
DIR): each word is searched over the whole library and scored by AP and P@10 against its
photos. Without ``--library`` the photos are indexed into a temporary library, thrown away
after.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from photofinder.cli.common import ProgressBar, UserError


def add_arguments(s) -> None:
    s.add_argument("folder", metavar="DIR", help="a folder with one sub-folder per group")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")
    s.add_argument("--plot", metavar="FILE.png", help="write the precision-recall curve")
    s.add_argument("--words", metavar="LABELS.json",
                   help='search by words too: {"words": {"WORD": ["relative/path.jpg", ...]}}')


def _read_word_labels(path: str) -> dict[str, list[str]]:
    try:
        data = json.loads(open(path, encoding="utf-8").read())
    except OSError as e:
        raise UserError(f"cannot read the word labels {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise UserError(f"the word labels {path} are not JSON: {e}") from None
    labels = data.get("words") if isinstance(data, dict) else None
    if not isinstance(labels, dict) or not labels or not all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in labels.values()):
        raise UserError(f'the word labels {path} want {{"words": {{"WORD": ["relative/path.jpg", '
                        '...]}}}')
    return labels


def _print_text(d: dict) -> None:
    p = d["precision_at"]
    print(f"{d['groups']} groups, {d['photos']} photos, {d['queries']} queries, "
          f"{d['distractors']} distractors")
    print(f"mAP {d['map']:.4f}   P@1 {p['1']:.4f}   P@5 {p['5']:.4f}   P@10 {p['10']:.4f}   "
          f"recall@10 {d['recall_at_10']:.4f}")
    print(f"model {d.get('model', '?')}, projection {d.get('projection', 'none')}, "
          f"query expansion {d.get('query_expansion', 'off')}")
    if "words_map" in d:
        print(f"words: {len(d['words'])}, mAP {d['words_map']:.4f}   "
              f"P@10 {d['words_p_at_10']:.4f}")
    for f in d["failed"]:
        print(f"skipped: {f['path']}: {f['error']}", file=sys.stderr)


def run_cli(args) -> int:
    from photofinder.library import Library, plot_problem, write_pr_curve

    folder = os.path.abspath(args.folder)
    if not os.path.isdir(folder):
        raise UserError(f"not a folder: {folder}")
    if args.plot and plot_problem():  # say it before indexing for minutes
        raise UserError(plot_problem())
    labels = _read_word_labels(args.words) if getattr(args, "words", None) else None
    with tempfile.TemporaryDirectory(prefix="photofinder-eval-") as tmp:
        path = args.library if getattr(args, "library_given", False) else tmp
        with Library(path, provider=args.provider) as lib:
            bar = ProgressBar("indexing")
            report = lib.evaluate(folder, progress=bar)
            bar.close()
            scored = lib.evaluate_words(folder, labels) if labels else None
    d = report.as_dict()
    if scored:
        d.update(scored)
    if args.plot:
        write_pr_curve(args.plot, report,
                       f"{os.path.basename(folder)}: mAP {d['map']:.3f}, {d['queries']} queries",
                       label=d.get("model", ""))
    if args.json:
        print(json.dumps(d, indent=2))
    else:
        _print_text(d)
        if args.plot:
            print(f"precision-recall curve: {os.path.abspath(args.plot)}")
    return 0
