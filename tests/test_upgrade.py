"""Libraries made by earlier photofinders open, migrate and keep everything: the released
0.1.0 (schema 2) and main before the store became repositories (schema 8). No photo is
re-embedded while the model is the same; decisions, marks, journal and results are intact;
and the migrated schema is the one a new catalogue gets."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

import dbutil
from photofinder.assets import demo_originals
from photofinder.library import Library
from photofinder.store import migrations
from photofinder.store.catalog import SCHEMA_VERSION, Catalog

DATA = Path(__file__).parent / "data"
DUMPS = {"0.1.0": DATA / "library-0.1.0.sql", "main-schema8": DATA / "library-main-schema8.sql"}


def _restore(tmp_path: Path, dump: Path, files: dict[str, bytes | str],
             model: Path | None = None) -> tuple[Path, Path]:
    """The dumped catalogue over the same photo files (same bytes where they can be made
    again, the mtimes of the rows). ``files``: name -> a demo photo's name or the bytes.
    ``model``: the model folder whose embedding id stands in for the dump's (the id is the
    hash of the exported graph, and the export's bytes differ from machine to machine: a
    dump made on one machine is, on another, a library of this machine's model)."""
    photos = tmp_path / "photos"
    photos.mkdir()
    demo = {p.name: p for p in demo_originals()}
    for name, source in files.items():
        if isinstance(source, bytes):
            (photos / name).write_bytes(source)
        else:
            shutil.copyfile(demo[source], photos / name)
    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    conn = sqlite3.connect(lib_dir / "catalog.sqlite")
    sql = dump.read_text().replace("@ROOT@", str(photos))
    if model is not None:
        manifest = json.loads((model / "manifest.json").read_text())
        here = f"{manifest['name']}@{manifest['embedding_sha256'][:12]}"
        sql = re.sub(re.escape(manifest["name"]) + r"@[0-9a-f]{12}", here, sql)
    conn.executescript(sql)
    rows = conn.execute("SELECT path, mtime_ns FROM photos").fetchall()
    conn.close()
    for path, mtime_ns in rows:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return lib_dir, photos


def _chelsea_half() -> bytes:
    """chelsea halved by Pillow at quality 85, as the schema-8 library was made."""
    import io

    demo = {p.name: p for p in demo_originals()}
    im = Image.open(demo["chelsea.jpg"])
    buf = io.BytesIO()
    im.resize((im.width // 2, im.height // 2)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


@pytest.fixture
def old_library(tmp_path):
    return _restore(tmp_path, DUMPS["0.1.0"], {n: n for n in ("astronaut.jpg", "chelsea.jpg",
                                                              "coffee.jpg")}
                    | {"coffee-copy.jpg": "coffee.jpg"})


@pytest.fixture
def main_library(tmp_path):
    return _restore(tmp_path, DUMPS["main-schema8"],
                    {n: n for n in ("astronaut.jpg", "chelsea.jpg", "coffee.jpg")}
                    | {"coffee-copy.jpg": "coffee.jpg", "chelsea-half.jpg": _chelsea_half(),
                       "broken.jpg": b"not a picture"})


def test_migrations_are_one_ordered_list_numbered_by_their_names():
    assert SCHEMA_VERSION == len(migrations.MIGRATIONS) >= 8
    for number, step in enumerate(migrations.MIGRATIONS, start=1):
        assert step.__name__.startswith(f"v{number}_"), step.__name__
        assert step.__doc__, f"{step.__name__}: say what the step does"


def _schema(path: Path) -> dict:
    """Every table's columns and indexes, as sqlite-utils reads them."""
    cat = Catalog(path, read_only=True)
    try:
        return {name: ([(c.name, c.type, c.notnull, c.default_value, c.is_pk)
                        for c in cat.db[name].columns],
                       sorted((i.name, tuple(i.columns), i.unique) for i in cat.db[name].indexes))
                for name in sorted(cat.db.table_names())}
    finally:
        cat.close()


@pytest.mark.parametrize("made_by", sorted(DUMPS))
def test_the_labels_of_a_model_are_read_from_an_index_not_the_vectors(tmp_path, made_by):
    """Opening the vector index reads every label of the model: on a migrated catalogue as
    on a new one, that read touches the index alone (a scan read every vector: 119 ms of a
    cold first search at 100k photos)."""
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old)
    conn.executescript(DUMPS[made_by].read_text().replace("@ROOT@", str(tmp_path)))
    conn.close()
    cat = Catalog(old)
    try:
        model = cat.db.execute("SELECT model FROM embeddings LIMIT 1").fetchone()[0]
        plan = " ".join(r[-1] for r in cat.db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM embeddings WHERE model = ?", [model]))
        assert "COVERING INDEX" in plan, plan
        assert sorted(cat.embeddings.labels(model)) == sorted(
            r[0] for r in cat.db.execute("SELECT id FROM embeddings WHERE model = ?", [model]))
    finally:
        cat.close()


@pytest.mark.parametrize("made_by", sorted(DUMPS))
def test_a_migrated_catalogue_has_the_schema_of_a_new_one(tmp_path, made_by):
    new = tmp_path / "new.sqlite"
    Catalog(new).close()
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old)
    conn.executescript(DUMPS[made_by].read_text().replace("@ROOT@", str(tmp_path)))
    conn.close()
    Catalog(old).close()
    assert _schema(old) == _schema(new)


def test_a_library_of_release_0_1_0_opens_and_migrates_without_reindexing(old_library, model):
    lib_dir, photos = old_library
    before = {r["path"]: (r["indexed_at"], r["model"]) for r in dbutil.rows(
        lib_dir, "SELECT p.path, p.indexed_at, e.model FROM photos p JOIN embeddings e ON e.photo_id=p.id")}
    assert dbutil.rows(lib_dir, "SELECT value FROM meta WHERE key='schema_version'")[0]["value"] == "2"
    with Library(lib_dir) as lib:
        assert lib.catalog.meta.get("schema_version") == str(SCHEMA_VERSION)
        report = lib.scan()
        assert (report.new, report.changed, report.moved, report.deleted) == (0, 0, 0, 0)
        same_model = {p for p, (_, m) in before.items() if m == lib.embedder.model_id}
        lib.index_pending()
        after = {r["path"]: r["indexed_at"] for r in dbutil.rows(lib, "SELECT path, indexed_at FROM photos")}
        assert set(after) == set(before)
        for p in same_model:  # nothing embedded again
            assert after[p] == before[p][0]
        assert lib.counts() == {"indexed": 4, "pending": 0, "failed": 0}
        top = lib.similar(photos / "coffee.jpg", top=3)
        assert top[0].path == str(photos / "coffee-copy.jpg") and top[0].score > 0.99
        decisions = dbutil.rows(lib, "SELECT hash_a, hash_b FROM decisions")
        assert len(decisions) == 1  # "astronaut and chelsea are not duplicates" is kept
        groups = lib.find_duplicates().groups
        assert [sorted(Path(m.path).name for m in g.members) for g in groups] == \
            [["coffee-copy.jpg", "coffee.jpg"]]


def test_a_library_of_main_at_schema_8_opens_with_everything_it_held(main_library, model):
    lib_dir, photos = main_library
    dumped_model = dbutil.rows(lib_dir, "SELECT DISTINCT model FROM embeddings")[0]["model"]
    indexed_at = {r["path"]: r["indexed_at"] for r in dbutil.rows(
        lib_dir, "SELECT path, indexed_at FROM photos")}
    with Library(lib_dir) as lib:
        cat = lib.catalog
        assert cat.schema_version() == SCHEMA_VERSION
        same_bytes = os.path.getsize(photos / "chelsea-half.jpg") == \
            cat.photos.by_path(str(photos / "chelsea-half.jpg")).size
        report, done = lib.update(duplicates=False)
        assert (report.new, report.moved, report.deleted) == (0, 0, 0)
        assert report.changed == (0 if same_bytes else 1)
        assert lib.counts() == {"indexed": 5, "pending": 0, "failed": 1}
        assert [(Path(e.path).name, e.error.split(":")[0]) for e in cat.photos.errors()] == \
            [("broken.jpg", "not an image")]
        if lib.embedder.model_id == dumped_model:  # nothing embedded again
            after = {r["path"]: r["indexed_at"] for r in dbutil.rows(
                lib, "SELECT path, indexed_at FROM photos")}
            assert {p for p in after if after[p] != indexed_at[p]} <= \
                ({str(photos / "broken.jpg")} | (set() if same_bytes else
                                                  {str(photos / "chelsea-half.jpg")}))
            # the results main stored were made by the v3 check: never shown as v4's, judged
            # again (issue 20; test_verdicts_of_the_v3_check_are_judged_again below)
            assert lib.stored_duplicates() is None
        # the user's choices, as main stored them
        assert cat.dedup.keeper_paths().keys() == {str(photos / "coffee-copy.jpg")}
        assert len(cat.dedup.not_duplicate_pairs()) == 1
        rules = cat.meta.get("keeper_rules")
        assert rules is not None and str(photos) in rules
        [entry] = cat.journal.entries()
        assert (entry.batch, Path(entry.path).name, entry.state) == ("batch-1", "coffee-copy.jpg",
                                                                      "failed")
        assert cat.projections.active(lib.embedder.model_id) is None  # switched off in main
        marks = cat.feedback.marked_vectors(lib.embedder.model_id)
        assert sorted(m.mark for m in marks) == ["not_similar", "similar"]
        found = lib.find_duplicates()
        assert sorted(sorted(Path(m.path).name for m in g.members) for g in found.groups) == \
            [["chelsea-half.jpg", "chelsea.jpg"], ["coffee-copy.jpg", "coffee.jpg"]]
        coffee = next(g for g in found.groups if Path(g.keep).name.startswith("coffee"))
        assert Path(coffee.keep).name == "coffee-copy.jpg"  # the keeper asked for in main
        top = lib.similar(photos / "coffee.jpg", top=5)
        assert top[0].path == str(photos / "coffee-copy.jpg")
        assert top[-1].path == str(photos / "chelsea.jpg") and top[-1].mark == "not_similar"
DUMP_V3 = Path(__file__).parent / "data" / "library-v3.sql"


@pytest.fixture
def v3_library(tmp_path, model):
    """A catalogue made by the duplicates check of round 2 (verdicts under method v3: a
    coffee group with the user's keeper choice, "chelsea and its crop are not duplicates"),
    over the same photo files."""
    return _restore(tmp_path, DUMP_V3,
                    {n: n for n in ("astronaut.jpg", "chelsea.jpg", "coffee.jpg")}
                    | {p.name: p.read_bytes() for p in (DUMP_V3.parent / "library-v3").iterdir()},
                    model)


def test_verdicts_of_the_v3_check_are_judged_again_and_the_users_decisions_kept(v3_library, model):
    """The first run after the upgrade judges every pair again (the stored verdicts and
    results carry the old method in their parameters: never read), while "not duplicates"
    and the keeper chosen by the user stay."""
    from photofinder.dedup import finder

    lib_dir, photos = v3_library
    old = dbutil.rows(lib_dir, "SELECT params FROM dedup_pairs")
    assert old and all(r["params"].endswith("|v3.f3") for r in old)
    with Library(lib_dir) as lib:
        assert lib.stored_duplicates() is None  # v3 results are not shown as v4's
        stats: dict = {}
        found = lib.find_duplicates(stats=stats)
        assert stats["checked"] >= 2 and stats["searched_before"] == 0  # judged again
        params = {r["params"] for r in dbutil.rows(lib, "SELECT params FROM dedup_pairs")}
        assert any(p.endswith("|" + finder.METHOD) for p in params)
        groups = {frozenset(Path(m.path).name for m in g.members): g for g in found.groups}
        coffee = groups[frozenset({"coffee.jpg", "coffee-half.jpg", "coffee-grey.jpg"})]
        assert Path(coffee.keep).name == "coffee-half.jpg"  # the user's choice, kept
        assert coffee.members[0].reasons == ["keep: chosen by you"]
        assert not any("chelsea-crop.jpg" in names for names in groups)  # the user's word
        grey = next(m for m in coffee.members if m.path.endswith("coffee-grey.jpg"))
        assert grey.edit == "black and white" and not grey.preselected
