"""The journal itself: migration 3 of an old catalogue's rows, and recovery of each kind of
open row against the real trash folders and disk (no model needed)."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
import sqlite_utils

from faultkit import sha
from photofinder.dedup import cleanup, recovery
from photofinder.platforms import trash as T
from photofinder.store import migrations
from photofinder.store.catalog import Catalog


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def test_migration_3_keeps_old_journal_rows_undoable(tmp_path, xdg):
    photo = tmp_path / "p" / "old.jpg"
    photo.parent.mkdir()
    photo.write_bytes(b"an old photo's bytes")
    digest = sha(photo)
    entry = T.reserve(str(photo))
    T.move(str(photo), entry)
    path = tmp_path / "catalog.sqlite"
    db = sqlite_utils.Database(sqlite3.connect(str(path), isolation_level=None))
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    migrations.v1_catalogue(db), migrations.v2_signatures(db)
    db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    db.execute("INSERT INTO folders(path, added_at) VALUES (?, 0)", [str(photo.parent)])
    db.execute("INSERT INTO journal(at, action, path, hash, batch, detail, undone_at) VALUES "
               "(1, 'trash', ?, ?, 'b1', ?, NULL)",
               [str(photo), digest, json.dumps({"trash_dir": entry.trash_dir, "name": entry.name})])
    db.execute("INSERT INTO journal(at, action, path, hash, batch, detail, undone_at) VALUES "
               "(0, 'trash', '/x/gone.jpg', 'h', 'b0', '{}', 5)")
    db.conn.close()
    cat = Catalog(path)
    rows = {e.path: e for e in cat.journal.entries()}
    assert rows[str(photo)].state == "moved" and rows[str(photo)].trash_name == entry.name
    assert rows["/x/gone.jpg"].state == "undone"
    assert cat.journal.last_batch() == "b1"
    assert cleanup.undo(cat) == [str(photo)] and sha(photo) == digest
    cat.close()


def _intent(cat, path, entry, digest):
    return cat.journal.intent("b", path, digest, os.path.getsize(path), 0, entry.trash_dir,
                              entry.name)


def test_recovery_of_each_open_state(tmp_path, xdg):
    folder = tmp_path / "p"
    folder.mkdir()
    cat = Catalog(tmp_path / "catalog.sqlite")
    fid = cat.folders.add(str(folder)).id
    files = {}
    for name in ("moved", "not-moved", "restored", "not-restored"):
        p = folder / f"{name}.jpg"
        p.write_bytes(name.encode() * 100)
        files[name] = (str(p), sha(p), cat.photos.insert(fid, str(p), 1, 1, 1, 1))
    # killed after the move, before its outcome
    p, h, _ = files["moved"]
    e1 = T.reserve(p)
    _intent(cat, p, e1, h)
    T.move(p, e1)
    # killed after the intent, before the move
    p, h, _ = files["not-moved"]
    e2 = T.reserve(p)
    _intent(cat, p, e2, h)
    # undo killed after linking back, before the trash side went
    p, h, _ = files["restored"]
    e3 = T.reserve(p)
    i3 = _intent(cat, p, e3, h)
    T.move(p, e3)
    cat.journal.moved(i3, p)
    cat.journal.set_state(i3, "restoring")
    os.link(e3.file, p)
    # undo killed after its intent, before anything moved
    p, h, _ = files["not-restored"]
    e4 = T.reserve(p)
    i4 = _intent(cat, p, e4, h)
    T.move(p, e4)
    cat.journal.moved(i4, p)
    cat.journal.set_state(i4, "restoring")

    done = recovery.recover(cat)
    states = dict(done.settled)
    assert states == {files["moved"][0]: "moved", files["not-moved"][0]: "failed",
                      files["restored"][0]: "undone", files["not-restored"][0]: "moved"}
    assert cat.photos.by_path(files["moved"][0]) is None  # never listed as present
    assert cat.photos.by_path(files["not-moved"][0]) is not None
    assert not os.path.exists(e2.info)  # the reserved name is given back
    assert not os.path.exists(e3.file) and not os.path.exists(e3.info)
    assert done.restored == [files["restored"][0]]
    assert not cat.journal.has_open()
    assert sorted(os.listdir(xdg / "Trash" / "files")) == sorted([e1.name, e4.name])
    cat.close()
