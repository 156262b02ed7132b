"""Background indexing from the GUI: pause/resume with search on what is already indexed,
the watcher picking up a new file, About naming the model and provider, the CLI entry."""

from __future__ import annotations

import shutil

from PIL import Image
from PySide6.QtWidgets import QMessageBox

from photofinder import cli


def _many(photo_set, folder, per=3):
    folder.mkdir()
    for src in sorted(photo_set.rglob("*.jpg")):
        with Image.open(src) as im:
            im = im.convert("RGB")
        im.save(folder / src.name)
        for k in range(per):
            im.rotate(2 + k).save(folder / f"{src.stem}-v{k}.jpg", quality=85)
    return folder


def test_pause_stops_indexing_resume_finishes_and_search_works_meanwhile(
        make_window, wait_indexed, qtbot, photo_set, tmp_path):
    folder = _many(photo_set, tmp_path / "many")
    w = make_window()
    qtbot.waitUntil(lambda: w.status is not None, timeout=30_000)
    w.add_folder(str(folder))
    qtbot.waitUntil(lambda: w.index_status.pause.isVisible(), timeout=30_000)
    w.index_status.pause.click()  # pause
    assert w.index_status.pause.isChecked() and w.indexer.paused
    qtbot.waitUntil(lambda: "Paused" in w.index_status.label.text(), timeout=30_000)
    qtbot.wait(3000)  # the batch already in inference when pause was clicked commits
    old = w.status
    w.ask_status_now()
    qtbot.waitUntil(lambda: w.status is not old, timeout=30_000)  # a fresh answer
    first = w.status.photos.indexed
    qtbot.wait(1500)
    old = w.status
    w.ask_status_now()
    qtbot.waitUntil(lambda: w.status is not old, timeout=30_000)
    assert w.status.photos.indexed == first < 160  # nothing moved while paused
    assert w.status.photos.pending > 0
    # search works on what is already indexed
    w.ask_photos()
    t = w.library.model
    qtbot.waitUntil(lambda: "indexed" in t.table.status, timeout=30_000)
    indexed_path = t.table.paths[t.table.status.index("indexed")]
    w.search(indexed_path)
    qtbot.waitUntil(lambda: bool(w.results.model.matches), timeout=60_000)
    assert len(w.results.model.matches) <= first - 1
    w.index_status.pause.click()  # resume
    assert not w.indexer.paused
    wait_indexed(w, 160)
    assert w.status.photos.indexed == 160


def test_a_new_file_in_a_watched_folder_shows_up(make_window, wait_indexed, qtbot, photo_set,
                                                 tmp_path):
    folder = tmp_path / "watched"
    folder.mkdir()
    shutil.copy(photo_set / "originals" / "coffee.jpg", folder)
    w = make_window(watch=True)
    w.add_folder(str(folder))
    wait_indexed(w, 1)
    qtbot.waitUntil(lambda: w._watcher is not None, timeout=10_000)
    shutil.copy(photo_set / "originals" / "rocket.jpg", folder)
    qtbot.waitUntil(lambda: w.library.model.rowCount() == 2, timeout=60_000)
    wait_indexed(w, 2)


def test_about_names_the_model_and_the_provider(make_window, qtbot, monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a: said.append(a[2])))
    w = make_window()
    qtbot.waitUntil(lambda: w.status is not None, timeout=30_000)
    w.act_about.trigger()
    assert w.status.model in said[0] and w.status.provider in said[0]
    assert "efficientnet" in said[0].lower()


def test_gui_command_with_a_missing_image_is_a_one_line_error(tmp_path, capsys):
    code = cli.main(["--library", str(tmp_path / "lib"), "gui", str(tmp_path / "nope.jpg")])
    assert code == 1
    err = capsys.readouterr().err
    assert "no such file" in err and len(err.strip().splitlines()) == 1
