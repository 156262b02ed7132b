"""Retrieval metrics against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from photofinder.retrieval import metrics as M


def test_average_precision_by_hand():
    # relevant at ranks 1, 3 and 6 of 3 relevant: (1/1 + 2/3 + 3/6) / 3
    r = [True, False, True, False, False, True]
    assert M.average_precision(r, 3) == pytest.approx((1 + 2 / 3 + 0.5) / 3)
    # one of two relevant never retrieved: it counts as precision 0
    assert M.average_precision([False, True], 2) == pytest.approx(0.25)
    assert M.average_precision([False, False], 1) == 0.0
    assert M.average_precision([True, True], 2) == 1.0
    with pytest.raises(ValueError):
        M.average_precision([True], 0)


def test_precision_and_recall_at_k():
    r = [True, False, True, False, False, True, False]
    assert M.precision_at(r, 1) == 1.0
    assert M.precision_at(r, 5) == pytest.approx(2 / 5)
    assert M.precision_at(r[:3], 10) == pytest.approx(2 / 10)  # a short list: misses
    assert M.recall_at(r, 4, 10) == pytest.approx(3 / 4)
    assert M.recall_at(r, 3, 2) == pytest.approx(1 / 3)


def test_pr_curve_is_interpolated_and_monotone():
    r = [False, True, False, True]  # recall .5 at rank 2 (p=.5), recall 1 at rank 4 (p=.5)
    c = M.pr_curve(r, 2)
    assert c[0] == pytest.approx(0.5) and c[-1] == pytest.approx(0.5)
    r = [True, False, False, False]  # half found, the other half never: precision 0 past .5
    c = M.pr_curve(r, 2)
    assert c[50] == 1.0 and c[51] == 0.0 and c[-1] == 0.0
    c = M.pr_curve([True, False, True, True, False, True], 4)
    assert np.all(np.diff(c) <= 1e-12)


def test_summarize_means_over_queries():
    s = M.summarize([([True, False], 1), ([False, True], 1)])
    assert s.queries == 2
    assert s.map == pytest.approx(0.75)
    assert s.precision_at[1] == pytest.approx(0.5)
    assert s.recall_at[10] == 1.0
    assert len(s.curve_recall) == len(s.curve_precision) == 101
    with pytest.raises(ValueError):
        M.summarize([])
