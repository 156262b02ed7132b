"""The door's functions that need no library: the model, pictures for display,
watching folders, plotting an evaluation."""

from __future__ import annotations

import os
from typing import Callable

from photofinder.library.errors import LibraryError
from photofinder.pixels import imaging
from photofinder.pixels.embedding.model import Embedder, ModelError, read_manifest
from photofinder.retrieval import plot
from photofinder.retrieval.calibration import same_scene_chance
from photofinder.retrieval.words import Vocabulary
from photofinder.work import watcher

def load_model(provider: str | None = None) -> Embedder:
    """The ONNX model, ready to share between Libraries (its run() is thread-safe); a
    ModelError says why it cannot be loaded."""
    return Embedder(provider=provider)


def model_info(provider: str | None = None) -> dict:
    """The model's manifest and the provider it runs on (or why it cannot run)."""
    manifest = read_manifest()
    try:
        running = Embedder(provider=provider).provider
    except ModelError as e:
        running = f"unavailable ({e})"
    return {**manifest, "provider": running}


def build_model(progress: Callable[[str], None] = lambda m: None) -> dict:
    """Export the model (needs the ``export`` extra: torch); returns its manifest."""
    try:
        from photofinder.pixels.embedding.export import export
    except ImportError as e:
        raise LibraryError(f"building the model needs the export extra ({e.name} is missing): "
                           "pip install 'photofinder[export]'") from None
    return export(progress=progress)


def similarity_percent(score: float) -> int:
    """A "Find similar" score as people see it: the calibrated chance, in percent, that the
    photo shows the same place or object (retrieval/calibration.py)."""
    return round(100 * same_scene_chance(score))


# -- pictures and watching, for the GUI (which imports nothing below this door) -------------
PictureError = imaging.ImageError
Picture = imaging.Decoded


def is_photo_name(path: str | os.PathLike) -> bool:
    """A file name the scanner would consider (by extension; content decides later)."""
    return imaging.is_candidate(os.fspath(path))


def open_picture(path: str | os.PathLike, long_side: int) -> Picture:
    """Decode a file for display (orientation applied) at about ``long_side`` px;
    PictureError with a one-line reason for anything that is not a usable picture."""
    return imaging.decode(imaging.read_bytes(path), need=long_side)


def thumbnail(path: str | os.PathLike, size: int):
    """A PIL thumbnail of a file, at most ``size`` px; PictureError when it cannot be read."""
    return imaging.thumbnail(path, size)


def folder_watcher(folders: list[str], on_burst: Callable[[], None],
                   log: Callable[[str], None] = lambda m: None) -> watcher.FolderWatcher:
    """Watch ``folders``: ``on_burst()`` once per burst of changes (start() / stop())."""
    return watcher.FolderWatcher(folders, on_burst, log)


def plot_problem() -> str | None:
    """Why ``evaluate --plot`` cannot draw (matplotlib missing), or None when it can."""
    return None if plot.available() else str(plot.PlotError.missing())


def write_pr_curve(path: str | os.PathLike, report, title: str, label: str = "") -> None:
    """The precision-recall curve of an ``evaluate`` report as a PNG (one-line errors)."""
    plot.pr_png(path, report.summary.curve_recall, report.summary.curve_precision, title,
                label=label)


def warm_words() -> None:
    """Load the word table (about a second) before the search box needs it; call it off the
    UI thread."""
    Vocabulary.shipped().complete("a")


def word_suggestions(prefix: str, n: int = 12) -> list[str]:
    """Words photofinder can search for that start with ``prefix`` (the search box's
    suggestions); [] until ``warm_words`` has loaded the table, so the UI never waits."""
    if not Vocabulary.is_loaded():
        return []
    return Vocabulary.shipped().complete(prefix, n)
