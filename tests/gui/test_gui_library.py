"""The library side of the window: first launch, demo photos, folders, errors, filter and
sort, thumbnails cached on disk, settings remembered, the UI thread never blocked."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QTimer

from photofinder import demo
from photofinder.gui.models import PathRole, value


def test_first_launch_shows_a_welcome_with_add_folder(make_window, qtbot):
    w = make_window()
    qtbot.waitUntil(lambda: w.status is not None, timeout=30_000)
    assert w.stack.currentWidget() is w.empty
    assert w.empty.add_button.isVisible()
    assert "Add folder" in w.empty.add_button.text()
    assert w.folders_panel.list.count() == 0


def test_demo_library_is_indexed_with_a_banner_and_can_be_removed(
        make_window, qtbot, wait_indexed, wait_results, tmp_path):
    w = make_window(demo_allowed=True)
    wait_indexed(w, len(demo.originals()) + 4 * len(demo.EDITED))
    assert w.stack.currentWidget() is w.library
    qtbot.waitUntil(lambda: w.library.banner.isVisible(), timeout=10_000)
    assert w.folders_panel.list.item(0).text().startswith("Demo photos")
    astronaut = next(p for p in w.library.model.table.paths if p.endswith("/astronaut.jpg"))
    w.search(astronaut)
    wait_results(w)
    m = w.results.model
    top4 = {os.path.basename(value(m.index(r), PathRole)) for r in range(4)}
    assert top4 == {f"astronaut-{k}.jpg" for k in ("resized", "cropped", "recompressed", "rotated")}
    w.show_library()
    w._remove(w.folders[0].path)  # what "Remove demo" does after its confirmation
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.empty and not w.folders, timeout=30_000)
    assert not w.library.banner.isVisible()
    w.close()
    again = make_window(demo_allowed=True)  # the demo stays away once removed
    qtbot.waitUntil(lambda: again.status is not None, timeout=30_000)
    assert again.stack.currentWidget() is again.empty


def test_demo_materialise_makes_edited_copies(tmp_path):
    folder = demo.materialise(tmp_path / "demo")
    names = {p.name for p in folder.rglob("*.jpg")}
    assert len(names) == len(demo.originals()) + 4 * len(demo.EDITED)
    assert "rocket-rotated.jpg" in names
    assert demo.is_demo_folder(folder)
    for src in demo.originals():
        assert src.stat().st_size <= 120_000
    assert (demo.originals()[0].parent / "LICENSES.md").exists()


def test_errors_panel_lists_a_corrupt_file_with_its_reason(make_window, wait_indexed, qtbot,
                                                           photo_set, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.jpg").write_bytes((photo_set / "originals" / "coins.jpg").read_bytes())
    good = (photo_set / "originals" / "camera.jpg").read_bytes()
    (folder / "broken.jpg").write_bytes(good[:200])  # truncated
    w = make_window()
    w.add_folder(str(folder))
    wait_indexed(w, 2)
    assert w.index_status.errors.isVisible()
    assert "1 problem" in w.index_status.errors.text()
    w.index_status.errors.click()
    assert w.errors_dock.isVisible()
    assert w.errors_panel.paths() == [str(folder / "broken.jpg")]
    assert w.errors_panel.table.item(0, 0).text() == "broken.jpg"
    reason = w.errors_panel.table.item(0, 2).text()
    assert reason.strip()
    assert "1 file" in w.errors_panel.summary.text()


def test_folders_panel_shows_counts_and_removes(make_window, wait_indexed, qtbot, photo_set,
                                                monkeypatch):
    w = make_window()
    w.add_folder(str(photo_set / "originals"))
    wait_indexed(w, 10)
    item = w.folders_panel.list.item(0)
    assert str(photo_set / "originals") in item.text() and "10 photos" in item.text()
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    w.folders_panel.list.setCurrentRow(0)
    w.folders_panel.remove_button.click()
    qtbot.waitUntil(lambda: w.folders == [] and w.stack.currentWidget() is w.empty,
                    timeout=30_000)
    assert (photo_set / "originals" / "coffee.jpg").exists()  # files on disk untouched


def test_filter_and_sort(make_window, wait_indexed, qtbot, photo_set):
    w = make_window()
    w.add_folder(str(photo_set))
    wait_indexed(w, 40)
    qtbot.waitUntil(lambda: w.library.model.rowCount() == 40, timeout=10_000)
    w.library.filter.setText("rocket")
    qtbot.waitUntil(lambda: w.library.model.rowCount() == 4, timeout=5_000)
    assert "4 of 40" in w.library.count.text()
    w.library.set_sort_key("name")
    m = w.library.model
    names = [value(m.index(r), 0) for r in range(m.rowCount())]
    assert names == sorted(names)
    w.library.filter.setText("no-such-name")
    qtbot.waitUntil(lambda: w.library.placeholder.isVisible(), timeout=5_000)
    w.library.filter.clear()
    qtbot.waitUntil(lambda: w.library.model.rowCount() == 40, timeout=5_000)
    w.library.set_sort_key("folder")
    paths = [m.path_at(r) for r in range(m.rowCount())]
    assert paths == sorted(paths)


def test_thumbnails_are_made_off_the_ui_thread_and_cached_on_disk(make_window, wait_indexed,
                                                                  qtbot, photo_set, tmp_path):
    w = make_window()
    w.add_folder(str(photo_set / "originals"))
    wait_indexed(w, 10)
    m = w.library.model
    qtbot.waitUntil(lambda: m.rowCount() == 10, timeout=10_000)
    qtbot.waitUntil(lambda: all(value(m.index(r), 1) is not None for r in range(10)),
                    timeout=30_000)
    cached = list((tmp_path / "library" / "thumbs").rglob("*.jpg"))
    assert len(cached) == 10
    pm = value(m.index(0), 1)
    assert max(pm.width(), pm.height()) == 256


def test_window_geometry_and_sort_are_remembered(make_window, qtbot, tmp_path):
    w = make_window()
    w.resize(780, 530)  # the offscreen screen is 800 x 600
    w.library.set_sort_key("name")
    w.close()
    w2 = make_window()
    assert (w2.width(), w2.height()) == (780, 530)
    assert w2.library.model.sort_key == "name"


def test_ui_thread_is_never_blocked_while_indexing(make_window, wait_indexed, qtbot, photo_set,
                                                   tmp_path):
    from PIL import Image

    folder = tmp_path / "many"
    folder.mkdir()
    for src in sorted(photo_set.rglob("*.jpg")):  # 40 photos and 3 variants of each
        with Image.open(src) as im:
            im = im.convert("RGB")
        im.save(folder / src.name)
        for k, angle in enumerate((2, -3, 180)):
            im.rotate(angle).save(folder / f"{src.stem}-v{k}.jpg", quality=85)
    w = make_window()
    qtbot.waitUntil(lambda: w.status is not None, timeout=30_000)
    gaps, last = [], [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()
    start = time.perf_counter()
    w.add_folder(str(folder))
    qtbot.waitUntil(lambda: w.index_status.bar.isVisible(), timeout=30_000)  # it is indexing
    wait_indexed(w, 160)
    timer.stop()
    took = time.perf_counter() - start
    assert took > 1.0 and len(gaps) > took * 30  # it really ran while indexing went on
    # never frozen: no decode, embed or hash runs on the UI thread (each takes longer than
    # this on a 12 MP photo). How smooth it stays is a figure, not a test: a loaded CI machine
    # stalls any thread for 100 ms now and then.
    assert max(gaps) < 0.5, f"UI thread blocked for {max(gaps) * 1000:.0f} ms"
    print(f"indexing 160 photos took {took:.1f} s; longest UI gap {max(gaps) * 1000:.0f} ms")


def test_broken_files_sort_last_under_newest_first(make_window, wait_indexed, qtbot, photo_set,
                                                   tmp_path):
    """A file that cannot be read, however new, goes after the photos under "Newest first"
    (issue 23): the grid opens on photos, not on grey boxes."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("coffee.jpg", "rocket.jpg"):
        (folder / name).write_bytes((photo_set / "originals" / name).read_bytes())
    broken = folder / "newest-broken.jpg"
    broken.write_bytes(b"not a picture at all")
    later = os.stat(folder / "coffee.jpg").st_mtime + 3600
    os.utime(broken, (later, later))  # the newest file of all
    w = make_window()
    w.library.set_sort_key("date")
    w.add_folder(str(folder))
    wait_indexed(w, 3)
    qtbot.waitUntil(lambda: w.library.model.rowCount() == 3, timeout=30_000)
    m = w.library.model
    order = [os.path.basename(m.path_at(r)) for r in range(m.rowCount())]
    assert order[-1] == "newest-broken.jpg" and w.status.photos.failed == 1
