"""Development time only: the table that turns a typed word into ImageNet classes, made from
WordNet 3.0 (Debian's ``wordnet-base``: ``index.noun``, ``data.noun``, ``noun.exc``).

    python -m photofinder.retrieval.wordnet_table [--wordnet /usr/share/wordnet] [--out FILE]

The 1000 classes of the model's head are WordNet noun synsets (``resources/words/
imagenet_synsets.txt``, timm's list, Apache-2.0). For every noun lemma of WordNet the table
lists the classes it reaches (none for some: the search says so) and by which relation, with
a distance and the rank of the word's sense; ``retrieval/words.py`` turns those into one
weight per class (the weights a relation gets are tuned there, on labelled words, so tuning
needs no WordNet). Relations:

- ``syn``: one of the word's senses is the class.
- ``hypo``: the class is a kind of the word (``dog`` -> 118 breeds); distance in steps.
- ``hyper``: the word is a kind of the class (``ristretto`` -> espresso).
- ``sib``: the word's nearest ancestor that has classes below it, and those classes
  (``coupe`` -> car -> cab, convertible, ...); distance = steps up + steps down.
- ``part`` / ``haspart`` / ``member`` / ``hasmember``: part-of and member-of in both
  directions (``sail`` is part of a sailing vessel -> yawl, schooner, ...).
- ``wgloss``: a noun in the word's own gloss names classes (``beach: an area of sand sloping
  down to the water of a sea`` -> sandbar, seashore); the value is that noun's idf x 10.
- ``cgloss``: the word appears in a class's gloss or among its names; idf x 10.

Plurals and other inflections: WordNet's own exception list (``noun.exc``: geese -> goose)
is kept in the table; the regular endings are WordNet's morphy rules, applied at run time
(``words.base_forms``). No network, no download: the table is a file in ``resources/``.

Hand-written because no kept library reads WordNet (nltk would be a large dependency for a
script that reads three text files once).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

RELATIONS = ["syn", "hypo", "hyper", "sib", "part", "haspart", "member", "hasmember",
             "wgloss", "cgloss"]
REL = {name: i for i, name in enumerate(RELATIONS)}
FORMAT = 1
MAX_UP = 3            # steps up looked at for ``hyper`` and ``sib``
SIB_MAX_CLASSES = 150  # an ancestor with more classes below it says nothing of the word
PART_MAX_CLASSES = 60
GLOSS_MAX_CLASSES = 20  # a gloss noun that covers more classes is too general to tell
MAX_DF = 40           # a gloss noun found in more class glosses than this is not telling
STOP = set("""a an the of or and to in on by with for from as at into its it is that this
which who whose used any some one ones part kind sort type form something someone thing
things especially usually often small large big long short having has have made make
various several many much other such being genus family species member members order
body area time way use number group set""".split())
_TOKEN = re.compile(r"[a-z][a-z'-]+")


@dataclass
class Synset:
    offset: int
    lemmas: list[str]
    gloss: str
    name: str = ""  # the first lemma as WordNet writes it (Arabian camel), for display
    pointers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


def _lemma(word: str) -> str:
    return word.replace("_", " ").lower()


def read_synsets(data_noun: Path) -> dict[int, Synset]:
    """``data.noun``: offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (ptr)* | gloss"""
    out: dict[int, Synset] = {}
    with open(data_noun, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  "):  # the licence header
                continue
            head, _, gloss = line.partition(" | ")
            parts = head.split()
            offset, n_words = int(parts[0]), int(parts[3], 16)
            words = [re.sub(r"\(.*\)$", "", w) for w in parts[4:4 + 2 * n_words:2]]
            i = 4 + 2 * n_words
            n_ptr = int(parts[i])
            s = Synset(offset, [_lemma(w) for w in words], gloss.strip(),
                       words[0].replace("_", " "))
            for k in range(n_ptr):
                sym, target, pos = parts[i + 1 + 4 * k: i + 4 + 4 * k]
                if pos == "n":
                    s.pointers[sym].append(int(target))
            out[offset] = s
    return out


def read_index(index_noun: Path) -> dict[str, list[int]]:
    """``index.noun``: lemma -> its synsets, most frequent sense first."""
    out = {}
    with open(index_noun, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("  "):
                continue
            parts = line.split()
            n_senses, n_ptr = int(parts[2]), int(parts[3])
            out[_lemma(parts[0])] = [int(x) for x in parts[6 + n_ptr: 6 + n_ptr + n_senses]]
    return out


def read_exceptions(noun_exc: Path) -> dict[str, str]:
    out = {}
    with open(noun_exc, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                out.setdefault(_lemma(parts[0]), _lemma(parts[1]))
    return out


def read_classes(synsets_txt: Path) -> list[int]:
    return [int(line.strip()[1:]) for line in open(synsets_txt) if line.strip()]


class _Graph:
    def __init__(self, synsets: dict[int, Synset], classes: list[int]):
        self.s = synsets
        self.class_index = {off: i for i, off in enumerate(classes)}
        # classes at or below each synset, with the fewest steps down
        self.below: dict[int, dict[int, int]] = defaultdict(dict)
        for off, c in self.class_index.items():
            for anc, d in self.ancestors(off, 99).items():
                if d < self.below[anc].get(c, 99):
                    self.below[anc][c] = d

    def up(self, off: int) -> list[int]:
        p = self.s[off].pointers
        return p.get("@", []) + p.get("@i", [])

    def ancestors(self, off: int, limit: int) -> dict[int, int]:
        """{synset: steps up} including ``off`` itself at 0."""
        seen = {off: 0}
        frontier = [off]
        for d in range(1, limit + 1):
            nxt = []
            for o in frontier:
                for a in self.up(o):
                    if a in self.s and a not in seen:
                        seen[a] = d
                        nxt.append(a)
            frontier = nxt
        return seen


def _nouns(text: str, index: dict[str, list[int]]) -> set[str]:
    text = text.split('"')[0].lower()  # the gloss, not its examples
    return {t for t in _TOKEN.findall(text) if t not in STOP and t in index}


def build(wordnet: Path, synsets_txt: Path) -> dict:
    wordnet = Path(wordnet)
    synsets = read_synsets(wordnet / "data.noun")
    index = read_index(wordnet / "index.noun")
    exceptions = read_exceptions(wordnet / "noun.exc")
    classes = read_classes(synsets_txt)
    g = _Graph(synsets, classes)

    # gloss nouns of each class (its gloss and its names), and how rare each noun is
    class_nouns: dict[int, set[str]] = {}
    for off, c in g.class_index.items():
        s = synsets[off]
        names = {t for lem in s.lemmas for t in lem.split() if t in index and t not in STOP}
        class_nouns[c] = _nouns(s.gloss, index) | names
    df: dict[str, int] = defaultdict(int)
    for nouns in class_nouns.values():
        for t in nouns:
            df[t] += 1
    idf = {t: math.log(len(classes) / n) for t, n in df.items() if n <= MAX_DF}
    by_noun: dict[str, list[int]] = defaultdict(list)
    for c, nouns in class_nouns.items():
        for t in nouns:
            if t in idf:
                by_noun[t].append(c)

    def direct(off: int) -> dict[int, int]:
        """Classes a synset names or has below it: {class: steps down}."""
        return g.below.get(off, {})

    words: dict[str, list[int]] = {}
    for lemma, senses in index.items():
        best: dict[tuple[int, int], tuple[int, int]] = {}  # (class, rel) -> (dist, rank)

        def add(c: int, rel: str, dist: int, rank: int) -> None:
            key = (c, REL[rel])
            if key not in best or (dist, rank) < best[key]:
                best[key] = (dist, rank)

        for rank, off in enumerate(senses[:8]):
            if off not in synsets:
                continue
            for c, d in direct(off).items():
                add(c, "syn" if d == 0 else "hypo", d, rank)
            anc = g.ancestors(off, MAX_UP)
            sib_done = False
            for a, u in sorted(anc.items(), key=lambda x: x[1]):
                if u == 0:
                    continue
                if a in g.class_index:
                    add(g.class_index[a], "hyper", u, rank)
                below = direct(a)
                if below and not sib_done and not direct(off):
                    sib_done = True
                    if len(below) <= SIB_MAX_CLASSES:
                        for c, d in below.items():
                            add(c, "sib", u + d, rank)
            p = synsets[off].pointers
            for sym, rel in (("#p", "part"), ("#s", "part"), ("%p", "haspart"),
                             ("%s", "haspart"), ("#m", "member"), ("%m", "hasmember")):
                for other in p.get(sym, []):
                    below = direct(other)
                    if 0 < len(below) <= PART_MAX_CLASSES:
                        for c, d in below.items():
                            add(c, rel, d, rank)
            if rank < 3:
                for t in _nouns(synsets[off].gloss, index) - set(lemma.split()):
                    if t not in idf:
                        continue
                    first = index[t][0]
                    below = direct(first)
                    if 0 < len(below) <= GLOSS_MAX_CLASSES:
                        for c in below:
                            add(c, "wgloss", -round(10 * idf[t]), rank)
        for t in by_noun.get(lemma, []):
            add(t, "cgloss", -round(10 * idf[lemma]), 0)
        flat: list[int] = []
        for (c, rel), (dist, rank) in sorted(best.items()):
            flat += [c, rel, abs(dist), rank]
        words[lemma] = flat  # [] for a word that reaches no class: known, and said so

    names = [[f"n{off:08d}", synsets[off].name] for off in classes]
    return {
        "format": FORMAT,
        "source": {"wordnet": "WordNet 3.0 (Princeton University; Debian wordnet-base)",
                   "classes": "ImageNet-1k synsets, timm's imagenet_synsets.txt (Apache-2.0)"},
        "relations": RELATIONS,
        "entry": "class, relation, distance (steps; for wgloss/cgloss idf x 10), sense rank",
        "classes": names,
        "words": words,
        "exceptions": {k: v for k, v in sorted(exceptions.items()) if v in words},
    }


def write(table: dict, out: Path) -> None:
    """gzip'd JSON, byte-stable (no timestamp in the gzip header) so a regeneration diffs clean."""
    data = json.dumps(table, separators=(",", ":"), sort_keys=True).encode()
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                               filename="") as f:
        f.write(data)


def main(argv: list[str] | None = None) -> None:
    root = Path(__file__).resolve().parents[2] / "resources" / "words"
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--wordnet", default="/usr/share/wordnet",
                    help="folder with index.noun, data.noun and noun.exc (WordNet 3.0)")
    ap.add_argument("--synsets", default=str(root / "imagenet_synsets.txt"))
    ap.add_argument("--out", default=str(root / "wordnet-imagenet.json.gz"))
    args = ap.parse_args(argv)
    table = build(Path(args.wordnet), Path(args.synsets))
    write(table, Path(args.out))
    print(f"{len(table['words'])} words, {len(table['exceptions'])} inflections -> {args.out}")


if __name__ == "__main__":
    main()
