"""Reference results recorded for the visible checks: the student edition's ``references``.

The instructor's ``references`` module computes expected results with code that would answer some
exercises outright (classifying a critical point, sampling the GOE, enumerating minibatches). The
student edition (``publish.py``) ships instead a table of the results the visible checks ask for,
recorded from the real references, and this module to read it. A check called with arguments that
were not recorded (a student who edits the check cell's inputs) gets a ``LookupError`` saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from course_lib.grading import wire

# Arguments match a recorded call within these tolerances (looser than the checks' defaults): check_steps
# passes the student's own x and state, which a correct answer reaches only up to rounding, and another
# machine's BLAS may compute the inputs differently in the last bits.
RTOL, ATOL = 1e-9, 1e-12


def recorded_functions(table_path) -> dict:
    """``{name: function}`` for every reference recorded in the JSON table at ``table_path``."""
    table = json.loads(Path(table_path).read_text(encoding="utf-8"))
    return {name: _replay(name, entries) for name, entries in table.items()}


def _replay(name, entries):
    cases = [(wire.loads(arguments), wire.loads(result)) for arguments, result in entries]

    def reference(*args, **kwargs):
        called = wire.roundtrip((list(args), dict(kwargs)))
        for arguments, result in cases:
            if _close(called, arguments):
                return result
        raise LookupError(f"the student edition knows {name}'s expected results only for the inputs of "
                          "the visible checks; run the check cell as released")

    reference.__name__ = name
    return reference


def _close(a, b) -> bool:
    """Same structure, equal strings and flags, numbers equal within RTOL/ATOL."""
    if isinstance(b, tuple | list):
        return (isinstance(a, tuple | list) and len(a) == len(b)
                and all(_close(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in b)
    if isinstance(b, str | bool) or b is None or isinstance(a, str | bool) or a is None:
        return type(a) is type(b) and a == b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))
