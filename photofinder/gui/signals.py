"""``emit(signal, *args)``: Signal.emit with a guard against a PySide6 reference-count bug.

PySide6 6.12.0's ``SignalInstance.emit`` returns ``True`` without taking a reference to it,
so every emit from Python takes one reference away from ``True``; after enough emits (a few
thousand thumbnails and progress reports) Python frees ``True`` and aborts with
"bool_dealloc: deallocating True or False". The bug is measured once at import, not
assumed from a version number: where it is present, each emit gives the reference back;
where it is absent, this is a plain emit. (An extra reference to ``True`` is harmless; a
missing one is fatal, so the check errs on the side of giving back.) On Python 3.11 that
release also loses references to None on every call returning nothing, which no wrapper can
mend: pyproject.toml keeps it out there, and tests/gui/test_refcounts.py checks the binding.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

_PROBES = 64


class _Probe(QObject):
    fired = Signal()


def _emit_drops_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe took
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= _PROBES * 3 // 4


EMIT_DROPS_TRUE = _emit_drops_true()
_incref = ctypes.pythonapi.Py_IncRef
_true = ctypes.py_object(True)


def emit(signal, *args) -> None:
    result = signal.emit(*args)
    if EMIT_DROPS_TRUE and result is True:
        _incref(_true)
