"""Search by words: the WordNet table's generation (on a tiny WordNet-format fixture), the
shipped table (synonyms, inflections, unknown words, suggestions) and the searcher's ranking
on hand-made tags with the real table."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from photofinder.retrieval import wordnet_table, words

MINI = Path(__file__).parent / "data" / "wordnet-mini"
ROOT = Path(__file__).resolve().parents[1]
LINER = "n03673027"


def _entries(table: dict, word: str) -> set[tuple[str, str]]:
    flat = table["words"][word]
    return {(table["classes"][flat[i]][1], table["relations"][flat[i + 1]])
            for i in range(0, len(flat), 4)}


def test_the_table_is_generated_from_wordnet_files(tmp_path):
    table = wordnet_table.build(MINI, MINI / "classes.txt")
    assert [name for _, name in table["classes"]] == ["liner", "container ship", "yawl",
                                                      "seashore"]
    assert ("liner", "syn") in _entries(table, "ocean liner")  # a synonym is the class
    assert {("liner", "hypo"), ("container ship", "hypo")} <= _entries(table, "ship")
    assert ("liner", "hypo") in _entries(table, "craft")  # a far hypernym still reaches it
    assert ("yawl", "part") in _entries(table, "sail")  # part of a sailing vessel
    assert {("liner", "sib"), ("container ship", "sib")} <= _entries(table, "coupe")
    assert ("seashore", "sib") in _entries(table, "beach")
    assert ("liner", "wgloss") in _entries(table, "beach")  # "... where a ship may land"
    assert table["words"]["sand"] == []  # known, reaches no class: said so at search time
    assert table["exceptions"] == {"geese": "goose", "liners": "liner"}
    a, b = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    wordnet_table.write(table, a)
    wordnet_table.write(wordnet_table.build(MINI, MINI / "classes.txt"), b)
    assert a.read_bytes() == b.read_bytes()  # a regeneration diffs clean
    with gzip.open(a, "rt") as f:
        assert json.load(f) == json.loads(json.dumps(table))


def test_the_shipped_table_and_its_class_order():
    voc = words.Vocabulary.shipped()
    synsets = (ROOT / "resources" / "words" / "imagenet_synsets.txt").read_text().split()
    assert [wnid for wnid, _ in voc.classes] == synsets and len(synsets) == 1000
    assert synsets == sorted(synsets)  # the model head's order: sorted WordNet ids
    assert voc.classes[281][1] == "tabby" and voc.classes[978][1] == "seashore"
    assert (ROOT / "resources" / "words" / "LICENSES.md").read_text().count("WordNet 3.0") >= 2
    for word, entry in voc.curated.items():  # every curated entry says which gap it fills
        assert entry["gap"], word
        for wnid, weight, name in entry.get("classes", []):
            i = synsets.index(wnid)
            assert voc.classes[i][1] == name and 0 < weight <= 1
        for like, scale in entry.get("like", []):
            assert voc.class_weights(like).any(), (word, like)


def test_a_known_synonym_and_inflections_reach_the_class():
    voc = words.Vocabulary.shipped()
    liner = [w for w, _ in voc.classes].index(LINER)
    assert voc.class_weights("ship")[liner] == pytest.approx(1.0)
    for typed in ("ships", "Ship", "ocean liner", "liners"):
        lemma = voc.lemma(typed)
        assert lemma is not None and voc.class_weights(lemma)[liner] > 0.5, typed
    assert voc.lemma("geese") == "goose"  # WordNet's exception list
    assert voc.lemma("churches") == "church"  # morphy's rules
    assert voc.parse("sports cars on the beach")[:1] == ["sports car"]
    dog = voc.class_weights("dog")
    assert np.count_nonzero(dog == 1.0) >= 118  # every breed


def test_an_unknown_word_says_so_and_suggests_near_words():
    voc = words.Vocabulary.shipped()
    with pytest.raises(words.WordError, match=r"'dgo' is not a word photofinder knows; near words: .*dog"):
        voc.parse("dgo")
    with pytest.raises(words.WordError, match="no words"):
        voc.parse("  ,, ")
    assert voc.complete("bea")[:3] and "beach" in voc.complete("bea")
    assert voc.complete("") == []


def _searcher(tags_by_photo: list[dict[int, float]], dim: int = 8):
    """A searcher over photos whose top classes are given; vectors are random unit rows."""
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(len(tags_by_photo), dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    probs = np.zeros((len(tags_by_photo), 1000), np.float32)
    for i, t in enumerate(tags_by_photo):
        for c, p in t.items():
            probs[i, c] = p
    classes, p = words.top_classes(probs)
    tags = words.Tags(np.arange(len(vecs)) + 100, classes, p)

    def neighbours(v, k):
        sims = vecs @ v
        return [(int(i) + 100, float(sims[i])) for i in np.argsort(-sims)[:k]]

    return words.WordSearcher(words.Vocabulary.shipped(), tags,
                              lambda labels: vecs[np.asarray(labels) - 100], neighbours)


def test_ship_finds_the_liner_first_and_a_word_without_classes_says_so():
    voc = words.Vocabulary.shipped()
    liner = [w for w, _ in voc.classes].index(LINER)
    tabby = 281
    s = _searcher([{tabby: 0.9}, {liner: 0.8, 978: 0.1}, {978: 0.7}, {tabby: 0.5, 282: 0.4}])
    assert s.rank("ship", 2)[0][0] == 101
    assert [lab for lab, _ in s.rank("ships", 4)][0] == 101
    assert {lab for lab, _ in s.rank("cat", 2)} == {100, 103}
    full = s.rank("cat", 4)
    assert len(full) == 4 and [h[1] for h in full] == sorted((h[1] for h in full), reverse=True)
    with pytest.raises(words.WordError, match="'idea' is a word photofinder knows, but none of the 1000"):
        s.rank("idea", 3)
    with pytest.raises(words.WordError, match="'shpi' is not a word photofinder knows; near words: ship"):
        s.rank("shpi", 3)


def test_tags_round_trip_in_41_bytes_and_from_an_embedding():
    probs = np.random.default_rng(1).dirichlet(np.ones(1000) * 0.05, size=3).astype(np.float32)
    classes, p = words.top_classes(probs)
    blobs = [words.encode_tags(c, q, words.TAGS_FROM_MODEL) for c, q in zip(classes, p)]
    assert {len(b) for b in blobs} == {words.TAG_BYTES} and words.TAG_BYTES == 41
    c2, p2, kinds = words.decode_tags(blobs)
    assert np.array_equal(c2, classes) and np.abs(p2 - p).max() < 1e-4
    assert (kinds == words.TAGS_FROM_MODEL).all()
    assert (np.diff(p2, axis=1) <= 0).all()  # most probable first
    weight = np.eye(1000, 16, dtype=np.float32)
    out = words.probs_from_embeddings(np.eye(3, 16, dtype=np.float32),
                                      (weight, np.zeros(1000, np.float32)))
    assert out.shape == (3, 1000) and np.allclose(out.sum(1), 1) and list(out.argmax(1)) == [0, 1, 2]


def test_the_best_candidates_are_those_of_a_full_stable_sort():
    """The searcher keeps a word's best photos without sorting them all: the same photos in
    the same order as a full stable sort, ties (many photos at 0) taken lowest first."""
    rng = np.random.default_rng(3)
    for t in range(200):
        size = int(rng.integers(1, 2000))
        x = (rng.integers(0, 4, size) / 3 if t % 2 else rng.random(size)).astype(np.float32)
        n = int(rng.integers(1, 700))
        assert np.array_equal(words._best(x, n), np.argsort(-x, kind="stable")[:n])
