"""The check API that homework check cells are written with (see docs/grading-design.md).

Every check is an assertion worth ``points``: it calls the student's function through ``call``
(results cross as plain ``wire`` data, exactly as in the batch grader), computes the expected value
with a reference from ``course_lib`` in this process, and on a mismatch raises ``AssertionError``
with what was expected, what came back and a hint. It never shows the check's source.

    check_function(student_fn, reference, cases, points, rtol=1e-10, atol=1e-12, hint="", forbidden=())
    check_steps(student_step, reference_step, x0, state, grads, hyperparameters, points, ...)

Exceptions raised by the student's code propagate unchanged (``NotImplementedError`` with its hint
for an unanswered stub); in the grader they arrive as ``StudentError``.
"""

from __future__ import annotations

import copy
import inspect
import textwrap
import zlib

import numpy as np

from course_lib.grading import wire
from course_lib.grading.forbidden import ALWAYS_FORBIDDEN, find_forbidden

NOTEBOOK_SEED = 20250101
_grading_seed = None


class StudentError(Exception):
    """An exception raised by student code in another process (the grader's kernel)."""

    def __init__(self, type_name, message):
        self.type_name, self.message = type_name, message
        super().__init__(f"{type_name}: {message}")


def set_grading_seed(seed):
    """Seed the hidden random cases (the grader draws a fresh seed per grading run); None resets."""
    global _grading_seed
    _grading_seed = None if seed is None else int(seed)


def case_rng(name=""):
    """A generator for hidden random cases: fixed under nbval, seeded by the grader when grading.

    ``name`` (for example the exercise id) gives each check its own independent stream.
    """
    seed = NOTEBOOK_SEED if _grading_seed is None else _grading_seed
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on copies of the arguments, its result as the grader would see it."""
    return wire.roundtrip(fn(*copy.deepcopy(args), **copy.deepcopy(kwargs)))


def fetch(obj):
    """A student's (non-callable) object as plain data."""
    if hasattr(type(obj), "__fetch__"):  # the grader's proxy for an object in the student's kernel
        return type(obj).__fetch__(obj)
    return wire.roundtrip(obj)


def _short(value, limit=400):
    with np.printoptions(precision=8, threshold=40, edgeitems=3, linewidth=100):
        text = repr(value) if not isinstance(value, np.ndarray) else np.array2string(value, separator=", ")
    return text if len(text) <= limit else text[:limit] + " ..."


def _mismatch(got, expected, rtol, atol, where="the result"):
    """A description of how ``got`` differs from ``expected``, or None when they agree."""
    if isinstance(expected, tuple | list):
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            return f"{where} should be a sequence of {len(expected)} items, got {_short(got)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = _mismatch(g, e, rtol, atol, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return f"{where} should be a dict with keys {sorted(expected)}, got {keys}"
        for key in expected:
            problem = _mismatch(got[key], expected[key], rtol, atol, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(expected, str | bool) or expected is None:
        return None if got == expected and type(got) is type(expected) else (
            f"{where}: expected {expected!r}, got {_short(got)}")
    expected = np.asarray(expected, dtype=float)
    if isinstance(got, str | dict | tuple | list) or got is None:
        return f"{where}: expected a number or array of shape {expected.shape}, got {_short(got)}"
    got = np.asarray(got)
    if got.dtype.kind not in "biuf":
        return f"{where}: expected real numbers, got dtype {got.dtype}"
    if got.shape != expected.shape:
        return f"{where}: expected shape {expected.shape}, got shape {got.shape}"
    got = got.astype(float)
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return None
    error = np.abs(got - expected)
    worst = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(error, nan=np.inf), -1)), got.shape)
    at = f" (worst at index {tuple(int(i) for i in worst)})" if got.ndim else ""
    return (f"{where}: expected {_short(expected)}\n    got {_short(got)}\n"
            f"    largest error {float(error[worst]):.3g}{at}; tolerance rtol={rtol:g}, atol={atol:g}")


def _fail(title, detail, hint, points):
    message = f"{title} [0/{points:g} points]\n  {detail}"
    if hint:
        message += f"\n  Hint: {hint}"
    raise AssertionError(message)


def check_forbidden(student_fn, forbidden, points):
    """Fail if the source of a (locally defined) student function uses something forbidden.

    In the student's kernel the source is read with ``inspect``; in the batch grader the student's
    function is a proxy without source and the grader scans the submitted answer cell instead.
    """
    if not inspect.isfunction(student_fn) or student_fn.__name__ == "<lambda>":
        return  # a lambda's "source" is the whole line that holds it
    try:
        source = textwrap.dedent(inspect.getsource(student_fn))
    except (OSError, TypeError):
        return
    uses = find_forbidden(source, forbidden)
    if uses:
        rule = ", ".join([*forbidden, *ALWAYS_FORBIDDEN])
        _fail(f"{student_fn.__name__} uses what this exercise forbids ({rule})",
              "\n  ".join(uses), "write the computation yourself with numpy", points)


def _describe_args(args, kwargs):
    parts = [_short(a, 120) for a in args] + [f"{k}={_short(v, 120)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def _as_case(case):
    """A case is a tuple of positional arguments, a dict of keyword arguments, or (tuple, dict)."""
    if isinstance(case, dict):
        return (), case
    pair = isinstance(case, tuple) and len(case) == 2
    if pair and isinstance(case[0], tuple) and isinstance(case[1], dict):
        return case
    return (tuple(case) if isinstance(case, tuple | list) else (case,)), {}


def check_function(student_fn, reference, cases, points, rtol=1e-10, atol=1e-12, hint="", forbidden=()):
    """Assert that ``student_fn(*case) == reference(*case)`` (within rtol/atol) for every case.

    ``cases``: an iterable of argument tuples (or kwargs dicts, or ``(args, kwargs)`` pairs).
    ``forbidden``: dotted names the student's function may not use (the exercise's rule).
    """
    name = getattr(student_fn, "__name__", "your function")
    check_forbidden(student_fn, forbidden, points)
    cases = [_as_case(case) for case in cases]
    for number, (args, kwargs) in enumerate(cases, 1):
        expected = wire.roundtrip(reference(*copy.deepcopy(args), **copy.deepcopy(kwargs)))
        got = call(student_fn, *args, **kwargs)
        problem = _mismatch(got, expected, rtol, atol)
        if problem:
            _fail(f"{name} is wrong in case {number} of {len(cases)}: {name}({_describe_args(args, kwargs)})",
                  problem, hint, points)
    print(f"{name}: {len(cases)} cases passed [{points:g} points]")


def check_steps(student_step, reference_step, x0, state, grads, hyperparameters, points,
                rtol=1e-10, atol=1e-12, hint="", forbidden=()):
    """Run ``x, state = student_step(x, dx, state, **hyperparameters)`` for several steps, feeding
    the student's own x and state back in, and compare every step with the reference's.

    ``grads``: one gradient per step. ``hyperparameters``: a dict used for every step, or a list of
    dicts, one per step (a learning-rate schedule, say). ``state``: a dict of the optimizer's state.
    """
    name = getattr(student_step, "__name__", "your step")
    check_forbidden(student_step, forbidden, points)
    schedule = hyperparameters if isinstance(hyperparameters, list) else [hyperparameters] * len(grads)
    if len(schedule) != len(grads):
        raise ValueError(f"hyperparameters: need one dict per step ({len(grads)}), got {len(schedule)}")
    x, student_state = np.asarray(x0, dtype=float), copy.deepcopy(state)
    ref_x, ref_state = x.copy(), copy.deepcopy(state)
    for step, (dx, hyper) in enumerate(zip(grads, schedule, strict=True), 1):
        reference = reference_step(ref_x.copy(), np.array(dx), copy.deepcopy(ref_state), **hyper)
        expected = wire.roundtrip(reference)
        got = call(student_step, x, dx, student_state, **hyper)
        if isinstance(got, tuple | list) and len(got) == 2:
            problem = (_mismatch(got[0], expected[0], rtol, atol, "x")
                       or _mismatch(got[1], expected[1], rtol, atol, "state"))
        else:
            problem = f"return (x, state): a pair, got {_short(got)}"
        if problem:
            _fail(f"{name} is wrong at step {step} of {len(grads)} "
                  f"(started from x0={_short(np.asarray(x0), 120)}, state={_short(state, 200)}, "
                  f"hyperparameters {_short(hyper, 160)})", problem, hint, points)
        ref_x, ref_state = expected
        x, student_state = got
    print(f"{name}: {len(grads)} steps passed [{points:g} points]")


def check_true(condition, message, points, hint=""):
    """Assert a property of the student's results that has no single expected value."""
    if not condition:
        _fail(message, "the property does not hold", hint, points)
    print(f"passed [{points:g} points]")


def random_symmetric(rng, eigenvalues):
    """A symmetric matrix with the given eigenvalues and random eigenvectors (hidden test inputs)."""
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    rotation, _ = np.linalg.qr(rng.standard_normal((eigenvalues.size, eigenvalues.size)))
    matrix = (rotation * eigenvalues) @ rotation.T
    return (matrix + matrix.T) / 2
