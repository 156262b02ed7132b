"""``photofinder learn [--off] [--torch] [--json]``: tune Find similar to this library.

Learns a projection from the library's own photos (edited copies of them) and the user's
"similar" / "not similar" marks (retrieval/learn.py), makes it the active one and re-derives
the index from the stored vectors; ``--off`` goes back to plain. ``status`` shows the version.
"""

from __future__ import annotations

import json
import sys


def add_arguments(s) -> None:
    s.add_argument("--off", action="store_true", help="stop using what was learned (back to plain)")
    s.add_argument("--torch", action="store_true",
                   help="also fine-tune with a contrastive loss (needs the export extra; "
                        "measured to over-fit, so not the default)")
    s.add_argument("--photos", type=int, default=None, metavar="N",
                   help="photos to decode and edit (default 600)")
    s.add_argument("--json", action="store_true", help="print the result as JSON")


def run(lib, args) -> int:
    if args.off:
        out = lib.projection_off()
    else:
        last = [""]

        def progress(stage: str, done: int, total: int) -> None:
            if sys.stderr.isatty() or stage != last[0]:
                print(f"\r{stage}: {done} of {total}", end="" if sys.stderr.isatty() else "\n",
                      file=sys.stderr, flush=True)
                last[0] = stage

        out = lib.train_projection(progress=progress, use_torch=args.torch,
                                   max_photos=args.photos)
        if sys.stderr.isatty():
            print(file=sys.stderr)
    if args.json:
        print(json.dumps(out, indent=2))
    elif args.off:
        print(f"Find similar is back to {out['version']} (plain)")
    else:
        print(f"learned {out['version']} ({out['method']}) from {out['photos_edited']} photos "
              f"({out['edited_pairs']} edited copies), {out['similar_marks']} 'similar' and "
              f"{out['not_similar_marks']} 'not similar' marks")
    return 0
