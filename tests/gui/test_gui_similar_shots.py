"""Duplicates view: similar shots in a section of their own (never offered for the trash),
the stored results shown at once when the view opens again, progress while checking."""

from __future__ import annotations

import os

from dedup_shots import burst, combined_edits
from samples import sample_images


def test_similar_shots_apart_and_stored_results_at_once(make_window, wait_indexed, qtbot,
                                                        tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    img = sample_images()["coffee"]
    img.save(folder / "coffee.jpg", quality=92)
    combined_edits(img)["crop-border"].save(folder / "coffee-framed.jpg", quality=85)
    burst(img, seed=5).save(folder / "coffee-burst.jpg", quality=90)
    burst(img, seed=6).save(folder / "coffee-burst2.jpg", quality=90)
    w = make_window()
    w.add_folder(str(folder))
    wait_indexed(w, 4)
    d = w.duplicates
    progress = []
    d.progressed.connect(lambda *a: progress.append(a))
    w.show_duplicates()
    qtbot.waitUntil(lambda: len(d.groups) == 1 and len(d.similar) == 1 and not d.checking,
                    timeout=60_000)
    assert progress  # the check said how far it was
    assert {os.path.basename(m.path) for m in d.groups[0].members} == {"coffee.jpg", "coffee-framed.jpg"}
    assert "coffee-burst.jpg" in {os.path.basename(m.path) for m in d.similar[0].members}
    assert "similar shots" in d.summary.text()
    # the similar shots: their own section, nothing there can be moved to the trash
    row = len(d.groups) + 1
    assert not (d.list.item(len(d.groups)).flags() & d.list.item(0).flags().ItemIsSelectable)
    d.list.setCurrentRow(row)
    assert d.current_group() is d.similar[0]
    assert not d.trash_group.isEnabled()
    assert all(c.objectName() in ("keeper", "copy") for c in d.cards)
    assert "similar shots" in d.group_title.text()
    # one scale: no card shows a raw "looks alike 0.89", no badge a % beside its words (a
    # copy is a copy, a similar shot is not); the compare header neither
    from PySide6.QtWidgets import QLabel

    def cards_say():
        labels = [c.findChildren(QLabel) for c in d.cards]
        return ([lab[0].text() for lab in labels],
                [x.text() + " " + x.toolTip() for lab in labels for x in lab])

    badges, said = cards_say()
    assert "similar shot" in badges and not [b for b in badges if "%" in b]
    assert not [t for t in said if "looks alike" in t]
    d.list.setCurrentRow(0)
    badges, said = cards_say()
    assert badges[0] == "KEEP" and not [b for b in badges if "%" in b]
    assert not [t for t in said if "looks alike" in t]
    assert "%" not in " ".join(c.text() for c in d.compare_view.captions)
    d.list.setCurrentRow(row)
    # open again: the stored results are on screen before the check answers
    shown = []
    plain = d.set_findings
    d.set_findings = lambda found, checking=False: (
        shown.append((checking, len(found.groups), len(found.similar_shots))), plain(found, checking))
    w.show_library()
    w.show_duplicates()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=60_000)
    assert shown == [(True, 1, 1), (False, 1, 1)]  # stored first (reviewable), then the check
    assert not d.checking and len(d.groups) == 1 and len(d.similar) == 1
