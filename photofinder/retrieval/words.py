"""Search by words, offline: a typed word -> ImageNet classes (through the WordNet table in
``resources/words``) -> each photo's score from its stored top classes, then pseudo-relevance
feedback in the embedding space for what the classes miss.

The table (``wordnet_table.py`` made it) lists, for a word, the classes it reaches and by
which relation; ``Weights`` turns those into one weight per class. The weights were tuned on
the labelled words of benchmarks/data/holidays-dev-words.json that are not held out
(benchmarks/words_quality.py prints both sets apart). ``resources/words/curated.json`` adds
photo words WordNet maps badly, each entry saying which gap it fills.
"""

from __future__ import annotations

import difflib
import gzip
import json
import re
import threading
from bisect import bisect_left
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from photofinder.errors import PhotofinderError
from photofinder.pixels.embedding.classes import (TAG_BYTES, TAGS_FROM_EMBEDDING,  # noqa: F401
                                                  TAGS_FROM_MODEL, TOP_K, decode_tags,
                                                  encode_tags, probs_from_embeddings,
                                                  top_classes)

TABLE_FILE = "wordnet-imagenet.json.gz"
CURATED_FILE = "curated.json"
N_CLASSES = 1000
# WordNet's morphy: the regular noun endings (the irregular ones are in the table)
_SUFFIXES = [("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
             ("men", "man"), ("ies", "y"), ("s", "")]
_WORD = re.compile(r"[\w'-]+", re.UNICODE)
# words that join the others in a query ("dog on the beach"), skipped unless part of a phrase
_JOINING = set("""a an the of on in at by with and or to from near under over at for my our
some photo photos picture pictures image images""".split())


EXAMPLES = ("beach", "dog", "car", "sunset", "food")
_SHIPPED: "Vocabulary | None" = None
_SHIPPED_LOCK = threading.Lock()


class WordError(PhotofinderError):
    """A word the table does not know (the message names near words), or an empty query."""


@dataclass(frozen=True)
class Weights:
    """How much each relation of the table counts (tuned; see the module doc)."""

    # tuned by benchmarks/words_quality.py --tune; the relations it set to 0 keep 0.02, so a
    # word reached by nothing stronger still finds its classes (weights are relative within
    # a word: beside a 1.0 they change nothing)
    relation: dict[str, float] = field(default_factory=lambda: {
        "syn": 1.0, "hypo": 1.0, "hyper": 0.6, "sib": 0.02, "part": 0.02, "haspart": 0.3,
        "member": 0.2, "hasmember": 0.2, "wgloss": 0.02, "cgloss": 0.2, "curated": 1.0})
    step: float = 1.0         # each step of ``hyper`` and ``sib`` keeps this much
    sense: float = 0.3        # each later sense of a word keeps this much
    gloss_idf: float = 3.0    # idf at which a gloss match counts fully


def _root() -> Path:
    return Path(str(resources.files("photofinder.resources"))) / "words"


class Vocabulary:
    """The table in memory: words -> class entries, the class names, inflections, the
    curated photo words. ``Vocabulary.shipped()`` is the one in resources/ (loaded once)."""

    def __init__(self, table: dict, curated: dict | None = None):
        self.relations: list[str] = table["relations"]
        self.classes: list[tuple[str, str]] = [tuple(c) for c in table["classes"]]
        self.words: dict[str, list[int]] = table["words"]
        self.exceptions: dict[str, str] = table.get("exceptions", {})
        self.curated: dict[str, dict] = {k.lower(): v for k, v in (curated or {}).items()
                                         if not k.startswith("_")}
        self._sorted: list[str] | None = None

    @classmethod
    def load(cls, table: Path, curated: Path | None = None) -> "Vocabulary":
        with gzip.open(table, "rt", encoding="utf-8") as f:
            data = json.load(f)
        extra = json.loads(Path(curated).read_text()) if curated and Path(curated).is_file() \
            else None
        return cls(data, extra)

    @staticmethod
    def shipped() -> "Vocabulary":
        """The table in resources/, loaded once a process (thread-safe)."""
        global _SHIPPED
        with _SHIPPED_LOCK:
            if _SHIPPED is None:
                _SHIPPED = Vocabulary.load(_root() / TABLE_FILE, _root() / CURATED_FILE)
            return _SHIPPED

    @staticmethod
    def is_loaded() -> bool:
        return _SHIPPED is not None and _SHIPPED._sorted is not None

    # -- words ---------------------------------------------------------------------------
    def knows(self, word: str) -> bool:
        return self.lemma(word) is not None

    def lemma(self, word: str) -> str | None:
        """The table's form of ``word``: itself, its WordNet exception (geese -> goose) or a
        regular base form (churches -> church), else None."""
        w = " ".join(word.lower().replace("_", " ").replace("-", " ").split())
        for form in base_forms(w, self.exceptions):
            if form in self.words or form in self.curated:
                return form
        return None

    def class_names(self) -> list[str]:
        return [name for _, name in self.classes]

    def parse(self, query: str) -> list[str]:
        """The query's words as table lemmas, longest match first ("sports car" is one word,
        "car beach" two). Raises WordError naming near words for one it does not know."""
        tokens = _WORD.findall(query.lower())
        if not tokens:
            raise WordError("no words to search for")
        out, i = [], 0
        while i < len(tokens):
            for n in (3, 2, 1):
                if i + n <= len(tokens):
                    lem = self.lemma(" ".join(tokens[i:i + n]))
                    if lem is not None:
                        out.append(lem)
                        i += n
                        break
            else:
                if tokens[i] in _JOINING:
                    i += 1
                    continue
                near = self.near(tokens[i])
                hint = f"; near words: {', '.join(near)}" if near else ""
                if not near:
                    hint = f"; try words like {', '.join(EXAMPLES)}"
                raise WordError(f"{tokens[i]!r} is not a word photofinder knows{hint}")
        if not out:
            raise WordError("no words to search for")
        return out

    def reaches_classes(self, lemma: str) -> bool:
        return bool(self.words.get(lemma)) or lemma in self.curated

    def near(self, word: str, n: int = 5) -> list[str]:
        """Words spelled like ``word`` that reach some class (for a word it does not know,
        or one that reaches none): one typing slip away first (a letter left out, added,
        changed or two swapped; curated photo words before the rest), then difflib's."""
        w = " ".join(word.lower().split())
        known = set(self._vocabulary())
        letters = "abcdefghijklmnopqrstuvwxyz"
        splits = [(w[:i], w[i:]) for i in range(len(w) + 1)]
        slips = {a + b[1:] for a, b in splits if b} | \
            {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1} | \
            {a + c + b[1:] for a, b in splits if b for c in letters} | \
            {a + c + b for a, b in splits for c in letters}
        out = sorted((slips & known) - {w}, key=lambda v: (v not in self.curated, v))
        if len(out) < n:
            same_start = [v for v in self._vocabulary()
                          if v[:1] == w[:1] and abs(len(v) - len(w)) <= 3]
            out += [v for v in difflib.get_close_matches(w, same_start, n=n, cutoff=0.6)
                    if v not in out and v != w]
        return out[:n]

    def complete(self, prefix: str, n: int = 12) -> list[str]:
        """Known words that start with ``prefix`` (the search box's suggestions): curated
        photo words first, then single words before phrases, shorter first."""
        p = " ".join(prefix.lower().split())
        if not p:
            return []
        pool = self._vocabulary()
        i = bisect_left(pool, p)
        hits = []
        while i < len(pool) and pool[i].startswith(p) and len(hits) < 400:
            hits.append(pool[i])
            i += 1
        hits.sort(key=lambda v: (v not in self.curated, not self._names_a_class(v), " " in v,
                                 len(v), v))
        return hits[:n]

    def _names_a_class(self, lemma: str) -> bool:
        """The word is a class or has classes below it (a thing photos show, not a word
        that only turns up in glosses)."""
        flat = self.words.get(lemma) or []
        strong = {self.relations.index("syn"), self.relations.index("hypo")}
        return any(flat[i] in strong for i in range(1, len(flat), 4))

    def _vocabulary(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(w for w in set(self.words) | set(self.curated)
                                  if self.reaches_classes(w))
        return self._sorted


    # -- classes -------------------------------------------------------------------------
    def class_weights(self, lemma: str, weights: Weights = Weights()) -> np.ndarray:
        """One weight per class for a table lemma, the strongest relation counting; the
        largest weight is 1 (a word that reaches no class: all zeros)."""
        w = np.zeros(N_CLASSES, np.float32)
        flat = self.words.get(lemma)
        if flat:
            e = np.asarray(flat, np.int64).reshape(-1, 4)
            rel_w = np.array([weights.relation.get(r, 0.0) for r in self.relations], np.float32)
            names = self.relations
            value = rel_w[e[:, 1]] * weights.sense ** e[:, 3]
            stepped = np.isin(e[:, 1], [names.index("hyper"), names.index("sib")])
            value = np.where(stepped, value * weights.step ** np.maximum(e[:, 2] - 1, 0), value)
            gloss = np.isin(e[:, 1], [names.index("wgloss"), names.index("cgloss")])
            value = np.where(gloss, value * np.minimum(e[:, 2] / 10.0 / weights.gloss_idf, 1.0),
                             value)
            np.maximum.at(w, e[:, 0], value.astype(np.float32))
        cur = self.curated.get(lemma)
        if cur:
            index = {wnid: i for i, (wnid, _) in enumerate(self.classes)}
            for like in cur.get("like", []):  # other words' classes, each scaled
                word, scale = (like, 1.0) if isinstance(like, str) else like
                np.maximum(w, self.class_weights(word, weights) * scale
                           * weights.relation["curated"], out=w)
            for wnid, scale, *_name in cur.get("classes", []):
                i = index[wnid]
                w[i] = max(w[i], scale * weights.relation["curated"])
        top = float(w.max())
        return w / top if top > 0 else w


def base_forms(word: str, exceptions: dict[str, str]) -> list[str]:
    """``word`` and its possible singular forms, by WordNet's exceptions and morphy's rules
    (applied to the last word of a phrase: "sports cars" -> "sports car")."""
    head, _, last = word.rpartition(" ")
    pre = head + " " if head else ""
    forms = [word]
    if last in exceptions:
        forms.append(pre + exceptions[last])
    for suffix, repl in _SUFFIXES:
        if last.endswith(suffix) and len(last) > len(suffix) + 1:
            forms.append(pre + last[: -len(suffix)] + repl)
    return forms


# -- scoring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tags:
    """Each photo's top classes: ``classes`` (n, k) int16 and ``probs`` (n, k) float32 (a
    photo with fewer than k has zeros at the end), ``labels`` (n,) its vector label."""

    labels: np.ndarray
    classes: np.ndarray
    probs: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def class_scores(tags: Tags, weights: np.ndarray) -> np.ndarray:
    """Each photo's score for a word: the sum over its top classes of weight x probability."""
    if len(tags) == 0:
        return np.zeros(0, np.float32)
    return (weights[tags.classes.astype(np.int64)] * tags.probs).sum(axis=1)


# -- the search ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class WordOptions:
    """Chosen on the tuned words of holidays-dev (benchmarks/words_quality.py prints each
    part's gain on the held-out words apart)."""

    tau: float = 0.5        # a photo's class probabilities count as p ** tau (flatter)
    prototype: float = 0.5  # the head's weight rows, mixed by the word: a direction in the
    #                         embedding space, scored on every candidate's embedding
    feedback: int = 5       # pseudo-relevance feedback: the mean embedding of the best N
    beta: float = 0.7       # ... and how much its cosine counts
    candidates: int = 300   # photos looked at beyond the classes' best (neighbours in the index)


SURE = 0.25  # a class at this probability in the best photo: sure of the query


def _best(x: np.ndarray, n: int) -> np.ndarray:
    """``np.argsort(-x, kind="stable")[:n]`` without sorting all of ``x`` (the same indices,
    ties taken lowest first): a search at 100k photos sorted 100k scores to keep 600."""
    if n >= len(x):
        return np.argsort(-x, kind="stable")
    neg = -x
    kth = np.partition(neg, n - 1)[n - 1]
    above = np.flatnonzero(neg < kth)
    sel = np.concatenate([above, np.flatnonzero(neg == kth)[:n - len(above)]])
    return sel[np.argsort(neg[sel], kind="stable")]


class WordSearcher:
    """Words -> photos. Holds the tags of the library's photos (``Tags``, labels are the
    index's), the stored vectors (``vectors_of(labels)``: raw float32 rows), the index's
    ``neighbours(vector, k) -> [(label, similarity)]`` and the head's weights (None: no
    prototypes)."""

    def __init__(self, vocabulary: Vocabulary, tags: Tags, vectors_of, neighbours,
                 head: tuple[np.ndarray, np.ndarray] | None = None,
                 options: WordOptions = WordOptions(), weights: Weights = Weights()):
        self.vocabulary = vocabulary
        self.tags = tags
        self.vectors_of = vectors_of
        self.neighbours = neighbours
        self.head = head
        self.options = options
        self.weights = weights
        self._flat = tags.probs ** options.tau
        self._classes = tags.classes.astype(np.intp)  # indexes the class weights as they are

    def rank(self, query: str, k: int, among: list[int] | None = None
             ) -> list[tuple[int, float]]:
        """The ``k`` best (label, score), best first. Several words: a photo's score is the
        geometric mean of its scores for each (it should show all of them). ``among``: only
        these labels are scored (no neighbours looked for beyond them)."""
        lemmas = self.vocabulary.parse(query)
        for lem in lemmas:
            if not self.vocabulary.reaches_classes(lem):
                near = [w for w in self.vocabulary.near(lem) if w != lem]
                hint = f"; try: {', '.join(near)}" if near else ""
                raise WordError(f"{lem!r} is a word photofinder knows, but none of the 1000 "
                                f"things it recognises in photos fits it{hint}")
        if k <= 0 or len(self.tags) == 0:
            return []
        full = k >= len(self.tags)
        for lem in lemmas:
            if not self.vocabulary.class_weights(lem, self.weights).any():
                raise WordError(f"{lem!r} is a word photofinder knows, but none of the 1000 "
                                "things it recognises in photos fits it")
        got = [self._word(lem, k, full, among) for lem in lemmas]
        per_word = [g[0] for g in got]
        # the scores rank within a query; scaled by how sure the classes are of the best photo
        # (a library without a dog still ranks its photos for "dog", all low)
        sure = float(np.exp(np.mean(np.log([max(g[1], 1e-3) for g in got]))))
        labels = sorted(set().union(*[set(s) for s in per_word]))
        vals = np.array([[s.get(label, 0.0) for label in labels] for s in per_word], np.float64)
        geo = np.exp(np.mean(np.log(np.maximum(vals, 1e-3)), axis=0)) if len(labels) else []
        scores = {label: sure * float(g) for label, g in zip(labels, geo)}
        return sorted(scores.items(), key=lambda h: (-h[1], h[0]))[:k]

    def scores(self, query: str, labels: list[int]) -> dict[int, float]:
        """The query's score for each of ``labels`` (words combined with "similar to")."""
        got = dict(self.rank(query, len(labels), among=labels))
        return {lab: got.get(lab, 0.0) for lab in labels}

    def _word(self, lemma: str, k: int, full: bool, among: list[int] | None = None
              ) -> tuple[dict[int, float], float]:
        """(label -> score in about 0..1 for the candidates, how sure: 1 when the best photo
        has the word's classes at probability 0.25 or more)."""
        o = self.options
        w = self.vocabulary.class_weights(lemma, self.weights)
        cls = (w[self._classes] * self._flat).sum(axis=1)
        top = float(cls.max())
        sure = min(1.0, top / SURE ** o.tau)
        cls = cls / top if top > 0 else cls
        labels = self.tags.labels
        if among is not None:  # the candidates are given: the pool of a "similar to"
            cand = np.flatnonzero(np.isin(labels, np.asarray(among, np.int64)))
            full = True  # nothing looked for beyond them
        elif full:
            cand = np.arange(len(labels))
        else:
            cand = _best(cls, max(3 * k, o.candidates))
        by_label = {int(labels[i]): float(cls[i]) for i in cand}
        proto = None
        if o.prototype and self.head is not None and w.any():
            proto = w @ self.head[0]
            proto /= max(float(np.linalg.norm(proto)), 1e-9)
            if not full:
                for lab, _ in self.neighbours(proto, o.candidates):
                    by_label.setdefault(lab, 0.0)
        order = list(by_label)
        vecs = self.vectors_of(order)
        s = np.array([by_label[lab] for lab in order], np.float32)
        if proto is not None:
            ps = vecs @ proto
            s = s + o.prototype * ps / max(float(np.abs(ps).max()), 1e-9)
        if o.feedback and len(order):
            best = np.argsort(-s, kind="stable")[:o.feedback]
            m = (vecs[best] * np.maximum(s[best], 1e-6)[:, None]).sum(axis=0)  # by score
            m /= max(float(np.linalg.norm(m)), 1e-9)
            if not full:
                extra = [lab for lab, _ in self.neighbours(m, o.candidates)
                         if lab not in by_label]
                if extra:
                    order += extra
                    vecs = np.vstack([vecs, self.vectors_of(extra)])
                    more = np.zeros(len(extra), np.float32)
                    if proto is not None:
                        ps_extra = vecs[-len(extra):] @ proto
                        more += o.prototype * ps_extra / max(float(np.abs(ps).max()), 1e-9)
                    s = np.concatenate([s, more])
            top = float(s.max())
            s = (1 - o.beta) * (s / top if top > 0 else s) + o.beta * (vecs @ m)
        return dict(zip(order, s.tolist())), sure
