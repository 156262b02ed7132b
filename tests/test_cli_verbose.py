"""`-v` keeps the promise of "run with -v for details": an unexpected error's traceback."""

from __future__ import annotations

import io

from photofinder.cli.main import report_unexpected


def _raise_deep():
    return {"a": 1}["missing"]


def _caught() -> BaseException:
    try:
        _raise_deep()
    except KeyError as e:
        return e
    raise AssertionError("no error raised")


def test_an_unexpected_error_is_one_line_without_v():
    out = io.StringIO()
    report_unexpected(_caught(), verbose=False, stream=out)
    text = out.getvalue()
    assert text.count("\n") == 1 and "Traceback" not in text
    assert "unexpected error: KeyError" in text and "run with -v for details" in text


def test_v_prints_the_traceback_of_an_unexpected_error():
    out = io.StringIO()
    report_unexpected(_caught(), verbose=True, stream=out)
    text = out.getvalue()
    assert "Traceback (most recent call last)" in text
    assert "_raise_deep" in text  # the frame where it arose
    assert text.rstrip().splitlines()[-1].startswith("photofinder: unexpected error: KeyError")
    assert "run with -v" not in text
