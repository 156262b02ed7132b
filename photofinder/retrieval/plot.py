"""The precision-recall curve as a PNG. matplotlib is the optional extra ``plot``."""

from __future__ import annotations

import os
from pathlib import Path

from photofinder.errors import PhotofinderError


class PlotError(PhotofinderError):
    """The plot cannot be drawn (matplotlib missing, file not writable); one line."""

    @classmethod
    def missing(cls) -> "PlotError":
        return cls("--plot needs matplotlib: pip install 'photofinder[plot]'")


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def pr_png(path: str | os.PathLike, recall: list[float], precision: list[float], title: str,
           label: str = "") -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError.missing() from None
    path = Path(path)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    try:
        ax.plot(recall, precision, lw=2, label=label or None)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision (interpolated)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        if label:
            ax.legend(loc="lower left")
        fig.tight_layout()
        try:
            fig.savefig(path, format="png")
        except OSError as e:
            raise PlotError(f"cannot write the plot {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    return path
