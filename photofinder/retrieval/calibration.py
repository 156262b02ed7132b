"""One similarity scale for people: "Find similar"'s final score (the cosine, lifted by the
local features' agreement) mapped to how often a pair of photos with that score shows the same
place or object. 90 % means that about 9 in 10 such pairs were the same scene or thing.

The map is a logistic curve, p = 1 / (1 + exp(-(a * score + b))), fitted by
packaging/make_calibration.py on real photos (holidays-dev scenes, half of them held out to
check it) and shipped in resources/calibration/similarity.json with its provenance. Refit it
when find similar's scoring changes (the file names the scoring it was fitted on). The JSON
``score`` of the CLI keeps its raw meaning; people see this scale.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

from photofinder.assets import calibration_path

FILE = "similarity.json"


@lru_cache(maxsize=1)
def _curve() -> tuple[float, float] | None:
    try:
        with open(calibration_path(FILE), encoding="utf-8") as f:
            d = json.load(f)
        return float(d["a"]), float(d["b"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def same_scene_chance(score: float) -> float:
    """The calibrated chance (0..1) that a result with this raw score shows the same place
    or object as the query. Without a shipped curve: the raw score clipped to 0..1."""
    curve = _curve()
    if curve is None:
        return min(1.0, max(0.0, float(score)))
    a, b = curve
    z = a * float(score) + b
    return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


def raw_for(chance: float) -> float:
    """The raw score at which the calibrated chance is ``chance`` (the inverse, for a
    threshold); without a curve, ``chance`` itself."""
    curve = _curve()
    if curve is None:
        return chance
    a, b = curve
    c = min(max(chance, 1e-6), 1 - 1e-6)
    return (math.log(c / (1 - c)) - b) / a
