"""The check API that homework check cells are written with (see docs/grading-design.md).

Every check call is worth its own ``points`` and ends in one result: passed (all its points) or
failed / error (none of them). It calls the student's function through ``call`` (arguments and
result cross as plain ``wire`` data, exactly as in the batch grader), computes the expected value
with a reference from ``course_lib`` in this process, and verifies that the student's function left
its arguments unchanged. It never shows the check's source.

    check_function(student_fn, reference, cases, points, rtol=1e-10, atol=1e-12, hint="", forbidden=())
    check_steps(student_step, reference_step, x0, state, grads, hyperparameters, points, ...)
    check_optimizer(student_step, reference_step, state, hyperparameters, points, ..., rng=None)

In a notebook (nbval, JupyterLab) a passing check prints ``[p/p points] ...`` and a failing one
raises ``CheckFailed`` (an ``AssertionError``) showing only its message: what was called, what was
expected, what came back and a hint. Inside ``collect()`` (the batch grader, the tests) nothing is
raised: every call records a ``CheckResult`` and the next check call runs, so a cell with several
independent checks earns the points of those that pass. Exceptions raised by the student's code
propagate unchanged in a notebook (``NotImplementedError`` with its hint for an unanswered stub);
inside ``collect()`` they make that one check an error naming the case and its arguments.
"""

from __future__ import annotations

import contextlib
import inspect
import textwrap
import zlib
from dataclasses import dataclass

import numpy as np

from course_lib.grading import wire
from course_lib.grading.forbidden import ALWAYS_FORBIDDEN, find_forbidden
from course_lib.grading.wire import StudentError

NOTEBOOK_SEED = 20250101
EPS = float(np.finfo(float).eps)  # unit roundoff of float64, the unit of every tolerance
_grading_seed = None
_results = None  # a list while collect() is active
_results_filename = None


class CheckFailed(AssertionError):
    """A failed check in a notebook. IPython shows only the message (``_render_traceback_``), not
    the frames of this module, so a student sees expected / got / hint and nothing else."""

    def _render_traceback_(self):
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


@dataclass
class CheckResult:
    """The verdict of one check call. ``line`` is the line of the check cell that made the call
    (the grader labels calls inside the hidden region ``hidden``)."""

    title: str
    points: float
    status: str  # "passed", "failed" (a wrong result) or "error" (the student's code raised)
    detail: str = ""
    hint: str = ""
    line: int | None = None
    hidden: bool = False
    error_type: str | None = None  # the exception's type name, for status "error"

    @property
    def earned(self):
        return self.points if self.status == "passed" else 0.0

    def message(self):
        label = " (hidden check)" if self.hidden else ""
        text = f"[{self.earned:g}/{self.points:g} points] {self.title}{label}"
        if self.detail:
            text += "\n" + textwrap.indent(self.detail, "  ")
        if self.hint and self.status != "passed":
            text += f"\n  Hint: {self.hint}"
        return text


@contextlib.contextmanager
def collect(filename=None):
    """Record every check call's ``CheckResult`` in the yielded list instead of raising.

    ``filename``: the name the check cell was compiled under, to find the line of each call.
    """
    global _results, _results_filename
    outer = _results, _results_filename
    _results, _results_filename = [], filename
    try:
        yield _results
    finally:
        _results, _results_filename = outer


def _caller_line():
    """The line of the check cell (the first frame outside this module) that called a check."""
    frame = inspect.currentframe()
    while frame is not None:
        name = frame.f_code.co_filename
        if name == _results_filename or (_results_filename is None and name != __file__):
            return frame.f_lineno
        frame = frame.f_back
    return None


def _conclude(result):
    """Record (inside collect()) or report (in a notebook) one check's result."""
    __tracebackhide__ = True
    result.line = _caller_line()
    if _results is not None:
        _results.append(result)
        return result
    if result.status == "passed":
        print(result.message())
        return result
    raise CheckFailed(result.message())


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


# -- calling the student's function -----------------------------------------------------------------

class ArgumentModified(Exception):
    """The student's function changed one of its arguments (the exercises forbid it)."""


def _call(fn, args, kwargs, names=()):
    """``fn(*args, **kwargs)`` as the grader would run it: on fresh copies of the arguments (wire
    data), its result as plain data. Raises ArgumentModified naming the argument it changed.

    In the batch grader ``fn`` is a proxy for a function in the student's kernel: the kernel sends
    back the arguments as they are after the call and they are compared here, in the grader.
    """
    __tracebackhide__ = True
    sent = wire.roundtrip((list(args), dict(kwargs)))  # what the function receives, exactly
    checked = getattr(type(fn), "__call_checked__", None)
    if checked is not None:  # the grader's proxy
        result, after = checked(fn, list(args), dict(kwargs))
    else:
        after = wire.roundtrip(sent)
        result = wire.roundtrip(fn(*after[0], **after[1]))
    where = _first_change(*sent, after, names)
    if where:
        raise ArgumentModified(
            f"modified its argument {where} (for example with -=, += or an assignment into it); "
            "leave the arguments unchanged and return new arrays")
    return result


def call(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on copies of the arguments, its result as the grader would see it.

    Raises CheckFailed if ``fn`` modified one of its arguments."""
    __tracebackhide__ = True
    try:
        return _call(fn, args, kwargs)
    except ArgumentModified as exc:
        raise CheckFailed(f"{_name(fn)} {exc}") from None


def fetch(obj):
    """A student's (non-callable) object as plain data."""
    if hasattr(type(obj), "__fetch__"):  # the grader's proxy for an object in the student's kernel
        return type(obj).__fetch__(obj)
    return wire.roundtrip(obj)


def _first_change(args, kwargs, after, names):
    """Where the arguments after the call differ from those sent (``"x"``, ``"state['velocity']"``),
    or None. ``after`` is None when they no longer even hold data."""
    if after is None:
        return "(it now holds something that is not numbers or arrays)"
    after_args, after_kwargs = after
    for i, (before, now) in enumerate(zip(args, after_args, strict=False)):
        path = _difference(before, now, names[i] if i < len(names) else f"number {i + 1}")
        if path:
            return path
    for key, before in kwargs.items():
        path = _difference(before, after_kwargs.get(key, _MISSING), key)
        if path:
            return path
    return None


_MISSING = object()


def _difference(before, now, path):
    """The first path at which ``now`` is not identical to ``before`` (values and types), or None."""
    if isinstance(before, dict):
        if not isinstance(now, dict) or set(now) != set(before):
            return path
        return next(filter(None, (_difference(before[k], now[k], f"{path}[{k!r}]") for k in before)), None)
    if isinstance(before, list | tuple):
        if type(now) is not type(before) or len(now) != len(before):
            return path
        return next(filter(None, (_difference(b, n, f"{path}[{i}]")
                                  for i, (b, n) in enumerate(zip(before, now, strict=True)))), None)
    if isinstance(before, np.ndarray):
        same = (isinstance(now, np.ndarray) and now.shape == before.shape and now.dtype == before.dtype
                and np.array_equal(now, before, equal_nan=before.dtype.kind in "fc"))
        return None if same else path
    same = type(now) is type(before) and (now == before or (now != now and before != before))
    return None if same else path


def _name(fn):
    return getattr(fn, "__name__", "your function")


def _parameter_names(reference):
    """Names for positional arguments, taken from the reference (it has the exercise's signature)."""
    try:
        parameters = inspect.signature(reference).parameters.values()
    except (TypeError, ValueError):
        return ()
    return tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


# -- describing values ------------------------------------------------------------------------------

def literal(value):
    """``value`` written out in full as Python a student can paste (``np.array([...])``, every digit)."""
    if isinstance(value, np.ndarray):  # nested lists of Python numbers: the shortest exact digits
        default = value.dtype in (np.float64, np.bool_) or (value.dtype == np.int64 and value.size)
        dtype = "" if default else f", dtype=np.{value.dtype.name}"
        return f"np.array({value.tolist()!r}{dtype})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(literal, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(map(literal, value)) + "]"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def describe_call(name, args, kwargs, names=()):
    """``name(x=np.array([...]), dx=..., learning_rate=0.1)`` with every input in full."""
    parts = [f"{names[i]}={literal(a)}" if i < len(names) else literal(a) for i, a in enumerate(args)]
    parts += [f"{k}={literal(v)}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    if isinstance(value, bool | str | list | tuple | dict) or value is None:
        return f"a {type(value).__name__}" if value is not None else "None"
    return "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"


def _mismatch(got, expected, rtol, atol, where="the result"):
    """A description of how ``got`` differs from ``expected``, or None when they agree.

    Containers are compared item by item (a tuple may come back as a list), strings and bools
    exactly, numbers and arrays by shape and ``np.isclose(rtol, atol)``. A right value of the wrong
    type (a list where an array is expected) is reported as a type problem, not as wrong numbers."""
    if isinstance(expected, tuple | list):
        if isinstance(got, np.ndarray) and got.shape == (len(expected),):  # the numbers, as an array
            got = list(got)
        if not isinstance(got, tuple | list) or len(got) != len(expected):
            return f"{where} should be a sequence of {len(expected)} items, got {_kind(got)}: {literal(got)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = _mismatch(g, e, rtol, atol, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            keys = sorted(got) if isinstance(got, dict) else _kind(got)
            return f"{where} should be a dict with keys {sorted(expected)}, got {keys}"
        for key in expected:
            problem = _mismatch(got[key], expected[key], rtol, atol, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(expected, str | bool) or expected is None:
        if got == expected and type(got) is type(expected):
            return None
        kind = "" if type(got) is type(expected) else f"{_kind(got)}: "
        return f"{where}: expected {expected!r}, got {kind}{literal(got)}"
    want_array = isinstance(expected, np.ndarray)
    expected = np.asarray(expected, dtype=float)
    if isinstance(got, str | dict | bool) or got is None:
        wanted = _kind(expected) if want_array else "a number"
        return f"{where}: expected {wanted}, got {_kind(got)}: {literal(got)}"
    if isinstance(got, list | tuple):
        try:
            values = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            values = None
        right = (values is not None and values.shape == expected.shape
                 and np.allclose(values, expected, rtol=rtol, atol=atol))
        wanted = f"a numpy array of shape {expected.shape}" if want_array else "a single number"
        return (f"{where}: expected {wanted}, got {_kind(got)}"
                + (" with the right numbers: return np.array(...) instead" if right else f": {literal(got)}"))
    got = np.asarray(got)
    if got.dtype.kind not in "biuf":
        return f"{where}: expected real numbers, got an array of dtype {got.dtype}"
    if got.shape != expected.shape:
        if not want_array and got.size == 1:
            return f"{where}: expected a single number, got {_kind(got)}; return float(...) of it"
        return f"{where}: expected shape {expected.shape}, got shape {got.shape}"
    if got.dtype.kind == "f" and got.dtype.itemsize < 8:
        return f"{where}: computed in {got.dtype} (low precision); compute in float64"
    got = got.astype(float)
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return None
    error = np.abs(got - expected)
    worst = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(error, nan=np.inf), -1)), got.shape)
    at = f" at index {tuple(int(i) for i in worst)}" if got.ndim else ""
    return (f"{where}: expected {literal(expected if want_array else float(expected))}\n"
            f"    got {literal(got if want_array else float(got))}\n"
            f"    largest error {float(error[worst]):.3g}{at}; tolerance rtol={rtol:.3g}, atol={atol:.3g}")


# -- the checks -------------------------------------------------------------------------------------

def _forbidden_use(student_fn, forbidden):
    """The forbidden uses in the source of a (locally defined) student function, or None.

    In the student's kernel the source is read with ``inspect``; in the batch grader the student's
    function is a proxy without source and the grader scans the submitted answer cell instead.
    """
    if not inspect.isfunction(student_fn) or student_fn.__name__ == "<lambda>":
        return None  # a lambda's "source" is the whole line that holds it
    try:
        source = textwrap.dedent(inspect.getsource(student_fn))
    except (OSError, TypeError):
        return None
    uses = find_forbidden(source, forbidden)
    if not uses:
        return None
    rule = ", ".join([*forbidden, *ALWAYS_FORBIDDEN])
    return CheckResult(f"{student_fn.__name__} uses what this exercise forbids ({rule})", 0, "failed",
                       "\n".join(uses), "write the computation yourself with numpy")


def _tolerance(value, args, kwargs):
    """A tolerance is a number or a function of the case's arguments (its conditioning)."""
    return float(value(*args, **kwargs) if callable(value) else value)


def _as_case(case):
    """A case is a tuple of positional arguments, a dict of keyword arguments, or (tuple, dict)."""
    if isinstance(case, dict):
        return (), case
    pair = isinstance(case, tuple) and len(case) == 2
    if pair and isinstance(case[0], tuple) and isinstance(case[1], dict):
        return case
    return (tuple(case) if isinstance(case, tuple | list) else (case,)), {}


def _student_failure(exc, title, points, detail, hint):
    """The result of a check whose call of the student's function did not return a gradable value:
    it modified an argument or returned something that is not data (failed, in both modes), or it
    raised (an error inside collect(); None in a notebook, where the exception propagates unchanged
    so a stub shows its NotImplementedError and hint)."""
    if isinstance(exc, ArgumentModified):
        return CheckResult(title.format(str(exc)), points, "failed", detail, hint)
    if isinstance(exc, wire.WireError) or getattr(exc, "type_name", None) == "WireError":
        return CheckResult(title.format("returned a value that cannot be graded"), points, "failed",
                           f"{detail}\n{exc}", hint)
    if _results is None:
        return None
    name = exc.type_name if isinstance(exc, StudentError) else type(exc).__name__
    message = exc.message if isinstance(exc, StudentError) else str(exc)
    return CheckResult(title.format(f"raised {name}: {message}"), points, "error", detail, hint,
                       error_type=name)


def check_function(student_fn, reference, cases, points, rtol=1e-10, atol=1e-12, hint="", forbidden=()):
    """Assert that ``student_fn(*case) == reference(*case)`` (within rtol/atol) for every case, and
    that the student's function leaves its arguments unchanged.

    ``cases``: an iterable of argument tuples (or kwargs dicts, or ``(args, kwargs)`` pairs).
    ``rtol``, ``atol``: numbers, or functions of a case's arguments (a tolerance that follows the
    case's conditioning). ``forbidden``: dotted names the student's function may not use.
    """
    __tracebackhide__ = True
    name = _name(student_fn)
    forbidden_use = _forbidden_use(student_fn, forbidden)
    if forbidden_use is not None:
        forbidden_use.points = points
        return _conclude(forbidden_use)
    names = _parameter_names(reference)
    cases = [_as_case(case) for case in cases]
    for number, (args, kwargs) in enumerate(cases, 1):
        where = f"in case {number} of {len(cases)}"
        detail = f"call: {describe_call(name, args, kwargs, names)}"
        expected = wire.roundtrip(reference(*wire.roundtrip(args), **wire.roundtrip(kwargs)))
        try:
            got = _call(student_fn, args, kwargs, names)
        except Exception as exc:
            failure = _student_failure(exc, f"{name} {{}} ({where})", points, detail, hint)
            if failure is None:
                raise
            return _conclude(failure)
        problem = _mismatch(got, expected, _tolerance(rtol, args, kwargs), _tolerance(atol, args, kwargs))
        if problem:
            return _conclude(CheckResult(f"{name} is wrong {where}", points, "failed",
                                         f"{detail}\n{problem}", hint))
    return _conclude(CheckResult(f"{name}: {len(cases)} cases passed", points, "passed"))


def check_steps(student_step, reference_step, x0, state, grads, hyperparameters, points,
                rtol=1e-10, atol=1e-12, hint="", forbidden=()):
    """Run ``x, state = student_step(x, dx, state, **hyperparameters)`` for several steps, feeding
    the student's own x and state back in, and compare every step with the reference's step from
    the same inputs. The student's step must leave x, dx and state unchanged.

    ``grads``: one gradient per step. ``hyperparameters``: a dict used for every step, or a list of
    dicts, one per step (a learning-rate schedule, say). ``state``: a dict of the optimizer's state.
    """
    __tracebackhide__ = True
    name = _name(student_step)
    forbidden_use = _forbidden_use(student_step, forbidden)
    if forbidden_use is not None:
        forbidden_use.points = points
        return _conclude(forbidden_use)
    schedule = hyperparameters if isinstance(hyperparameters, list) else [hyperparameters] * len(grads)
    if len(schedule) != len(grads):
        raise ValueError(f"hyperparameters: need one dict per step ({len(grads)}), got {len(schedule)}")
    names = ("x", "dx", "state")
    x, student_state = wire.roundtrip(np.asarray(x0, dtype=float)), wire.roundtrip(state)
    for step, (dx, hyper) in enumerate(zip(grads, schedule, strict=True), 1):
        where = f"at step {step} of {len(grads)}"
        detail = f"call: {describe_call(name, (x, dx, student_state), hyper, names)}"
        inputs = wire.roundtrip((x, np.asarray(dx), student_state))
        expected = wire.roundtrip(reference_step(*inputs, **hyper))
        try:
            got = _call(student_step, (x, dx, student_state), hyper, names)
        except Exception as exc:
            failure = _student_failure(exc, f"{name} {{}} ({where})", points, detail, hint)
            if failure is None:
                raise
            return _conclude(failure)
        if isinstance(got, tuple | list) and len(got) == 2:
            problem = (_mismatch(got[0], expected[0], rtol, atol, "x")
                       or _mismatch(got[1], expected[1], rtol, atol, "state"))
        else:
            problem = f"return (x, state): a pair, got {_kind(got)}: {literal(got)}"
        if problem:
            return _conclude(CheckResult(f"{name} is wrong {where}", points, "failed",
                                         f"{detail}\n{problem}", hint))
        x, student_state = got
    return _conclude(CheckResult(f"{name}: {len(grads)} steps passed", points, "passed"))


# The fixed case of every optimizer exercise: gradients whose entries range from 1e-3 to 4, so a
# wrong weighting, a misplaced eps or a missing square root shows in some coordinate.
OPTIMIZER_X0 = np.array([1.0, -2.0, 0.5])
OPTIMIZER_GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.3, 0.2, 1.5]), np.array([1e-3, 4.0, -0.8]),
                   np.array([0.0, -2.0, 0.1]), np.array([2.5, 0.7, -0.2])]


def check_optimizer(student_step, reference_step, state, hyperparameters, points, hint="", forbidden=(),
                    x0=None, rng=None, steps=8):
    """``check_steps`` for an optimizer's pure rule ``step(x, dx, state, **hyperparameters)``.

    Without ``rng`` (the visible check): from ``x0`` (default ``OPTIMIZER_X0``) and the given
    (non-zero) ``state``, five steps with ``OPTIMIZER_GRADS``; ``hyperparameters`` is a dict or
    one dict per step. With ``rng`` (a hidden check): ``steps`` steps from a random x0 of the
    state's size, random gradients of random scale, and a learning rate drawn anew for every step
    (a schedule) added to ``hyperparameters``, which then holds the other, fixed hyperparameters.
    """
    __tracebackhide__ = True
    grads = OPTIMIZER_GRADS
    if rng is not None:
        size = next(np.size(value) for value in state.values() if isinstance(value, np.ndarray))
        x0 = rng.standard_normal(size) if x0 is None else x0
        grads = [rng.standard_normal(size) * rng.uniform(0.1, 3) for _ in range(steps)]
        hyperparameters = [{"learning_rate": learning_rate, **hyperparameters}
                           for learning_rate in rng.uniform(0.01, 0.5, steps)]
    return check_steps(student_step, reference_step, OPTIMIZER_X0 if x0 is None else x0, state, grads,
                       hyperparameters, points, hint=hint, forbidden=forbidden)


# -- building cases ---------------------------------------------------------------------------------

def random_symmetric(rng, eigenvalues):
    """A symmetric matrix with the given eigenvalues and random eigenvectors (hidden test inputs)."""
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    rotation, _ = np.linalg.qr(rng.standard_normal((eigenvalues.size, eigenvalues.size)))
    matrix = (rotation * eigenvalues) @ rotation.T
    return (matrix + matrix.T) / 2


def condition(matrix):
    """The 2-norm condition number of a square matrix (largest over smallest singular value)."""
    singular_values = np.linalg.svd(np.asarray(matrix, dtype=float), compute_uv=False)
    return float(singular_values[0] / singular_values[-1])


def solve_atol(matrix, rhs, factor=100):
    """An absolute tolerance for a result that solves ``matrix @ p = rhs``.

    A backward-stable solve errs by about n·ε·κ(matrix) relative to the solution (Higham, *Accuracy
    and Stability of Numerical Algorithms*, 2nd ed., §7.1), and |p| ≤ |rhs| / σ_min(matrix); ``factor``
    leaves room for other sound formulations (an explicit inverse, an eigendecomposition). float32
    arithmetic errs about 10^8 times more and fails.
    """
    matrix = np.asarray(matrix, dtype=float)
    singular_values = np.linalg.svd(matrix, compute_uv=False)
    size = np.linalg.norm(np.asarray(rhs, dtype=float)) / singular_values[-1]
    return float(factor * len(matrix) * EPS * singular_values[0] / singular_values[-1] * size)
