"""Experiments a check runs with a student's functions: it owns the problem, the student owns the
decisions (the capstone homework, ``solutions/10_capstone.ipynb``).

Only data crosses between the grader and a student's kernel (``wire``), so a student's optimizer
cannot be handed ``f`` and ``grad``. It is written in ask-and-tell form instead, as scipy's
L-BFGS-B core (``setulb``, reverse communication with ``task = 'FG'``) and the ask/tell interfaces
of CMA-ES and Optuna are: told the loss and gradient at the point it asked for, it returns the next
point. The check evaluates every point itself, so it counts evaluations, and the student's code
never sees the objective (a hidden, rotated problem shows whether it minimises the function it is
told about). A training run works the same way: the check draws the minibatches, computes the
gradients and the losses, and the student's ``adam_step`` only steps.

Each experiment is an ``Experiment``: called like a student's function with plain-data arguments
(the case), it returns a verdict string, which ``checks.check_function`` compares with the verdict
of a correct answer (``references``), so a failure shows the case and what went wrong. Every call
of a student's function goes through ``checks.call`` (fresh copies, no mutation of arguments).

This module ships with the student edition (visible check cells import it); it holds no answers.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize as scipy_optimize

from course_lib import optim
from course_lib.grading import checks
from course_lib.network import Network, spiral_data
from course_lib.problems import Rosenbrock


class Experiment:
    """A check-side experiment a check calls like a student's function: ``run(*case)`` -> verdict."""

    def __init__(self, name, run):
        self.__name__, self._run = name, run

    def __call__(self, *args, **kwargs):
        return self._run(*args, **kwargs)


# -- the strong-Wolfe line search ----------------------------------------------------------------

ACCEPTED = "a strong-Wolfe step"


def start_search(phi0, dphi0, alpha):
    """The state of a strong-Wolfe line search before its first trial step ``alpha``: phi(0), phi'(0),
    the end ``lo`` = (alpha, phi, phi') with the lowest phi that has sufficient decrease (alpha = 0
    so far), and no other end ``hi`` of a bracket yet."""
    return {"phi0": float(phi0), "dphi0": float(dphi0), "alpha": float(alpha),
            "lo": np.array([0.0, phi0, dphi0]), "hi": None, "done": False}


def _search_verdict(student_step, fun, x, direction, alpha0, c1, c2, max_trials):
    """Run the student's line search along ``direction`` from ``x``; ``fun(z)`` is (loss, gradient)."""
    f0, g0 = fun(x)
    dphi0 = float(g0 @ direction)
    search = start_search(f0, dphi0, alpha0)
    for _ in range(max_trials):
        asked = search["alpha"]
        if isinstance(asked, np.ndarray) and asked.ndim == 0:  # np.array(0.5) is a number too
            asked = asked.item()
        if isinstance(asked, bool) or not isinstance(asked, int | float) or not asked > 0:
            return f"asked for the step length alpha = {checks.literal(asked)[:100]} (need a number > 0)"
        value, g = fun(x + asked * direction)
        slope = float(g @ direction)
        search = checks.call(student_step, search, value, slope, c1, c2)
        if not isinstance(search, dict) or not {"alpha", "done"} <= set(search):
            return f"returned {checks.literal(search)[:200]}, not the search dict"
        if search["done"] is True:
            if search["alpha"] != asked:
                return f"accepted alpha = {search['alpha']!r}, but was told phi at alpha = {asked!r}"
            if value > f0 + c1 * asked * dphi0:
                return (f"accepted alpha = {asked!r} where phi(alpha) = {value!r} > "
                        f"phi(0) + c1 alpha phi'(0) = {f0 + c1 * asked * dphi0!r} (no sufficient decrease)")
            if abs(slope) > -c2 * dphi0:
                return (f"accepted alpha = {asked!r} where |phi'(alpha)| = {abs(slope)!r} > c2 |phi'(0)| = "
                        f"{-c2 * dphi0!r} (curvature condition)")
            return ACCEPTED
    return f"accepted no step in {max_trials} trials (last trial alpha = {search['alpha']!r})"


def line_search_experiments(student_step):
    """(search_on_quadratic, search_on_rosenbrock): the student's line search on 1/2 z.Hz and on the
    Rosenbrock function of dimension len(x), from x along direction with first trial alpha0."""

    def search_on_quadratic(hessian, x, direction, alpha0, c1, c2, max_trials):
        hessian = np.asarray(hessian, dtype=float)
        return _search_verdict(student_step, lambda z: (0.5 * z @ hessian @ z, hessian @ z),
                               np.asarray(x, dtype=float), np.asarray(direction, dtype=float),
                               alpha0, c1, c2, max_trials)

    def search_on_rosenbrock(x, direction, alpha0, c1, c2, max_trials):
        rosenbrock = Rosenbrock(len(x))
        return _search_verdict(student_step, lambda z: (rosenbrock.loss(z), rosenbrock.grad(z)),
                               np.asarray(x, dtype=float), np.asarray(direction, dtype=float),
                               alpha0, c1, c2, max_trials)

    return Experiment("search_on_quadratic", search_on_quadratic), Experiment("search_on_rosenbrock",
                                                                              search_on_rosenbrock)


# -- the L-BFGS race -----------------------------------------------------------------------------

LBFGS_GTOL = 1e-5  # scipy's default: converged at max |gradient| <= 1e-5 ...
LBFGS_XTOL = 1e-3  # ... at a point this close (max norm) to the minimiser
LBFGS_CAP = 2  # a run gets at most this many times scipy's evaluations
_SCIPY_EVALUATIONS = {}  # problem key -> scipy's count: deterministic, so computed once per process


def scipy_evaluations(fun, x0):
    """Function-and-gradient evaluations scipy's L-BFGS-B (memory 10, its default) needs to reach
    max |g| <= LBFGS_GTOL from x0 (with ftol=0: its relative-decrease test would stop it first)."""
    result = scipy_optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                     options={"gtol": LBFGS_GTOL, "ftol": 0.0, "maxiter": 100_000,
                                              "maxfun": 100_000})
    if not np.max(np.abs(result.jac)) <= LBFGS_GTOL:
        raise RuntimeError(f"scipy's L-BFGS-B did not converge: {result.message}")
    return int(result.nfev)


def minimize_ask_tell(student_step, fun, x0, max_evaluations, **hyperparameters):
    """(evaluations, x): run the student's ``x, state = step(x, loss, dx, state, **hyperparameters)``
    from ``state = {}``, evaluating ``fun`` (loss, gradient) at every point it asks for, up to the
    first whose gradient has max |g| <= LBFGS_GTOL (evaluations is None if none is within
    ``max_evaluations``; x is then the last point asked for)."""
    x, state = np.asarray(x0, dtype=float), {}
    for evaluations in range(1, max_evaluations + 1):
        loss, dx = fun(x)
        if np.max(np.abs(dx)) <= LBFGS_GTOL:
            return evaluations, x
        x, state = checks.call(student_step, x, loss, dx, state, **hyperparameters)
        x = np.asarray(x, dtype=float)
        if x.shape != np.shape(x0) or not np.all(np.isfinite(x)):
            return None, x
    return None, x


def lbfgs_experiments(student_step, memory=10):
    """(lbfgs_on_rosenbrock, lbfgs_on_quadratic): the student's L-BFGS raced against scipy's.

    ``lbfgs_on_rosenbrock(x0, rotation, shift, ratio)`` minimises f(x) = rosenbrock(R^T (x - c))
    (R = I and c = 0 when None), whose minimiser is c + R 1; ``lbfgs_on_quadratic(hessian, x0,
    ratio)`` minimises 1/2 x.Hx. Each problem is run once, with LBFGS_CAP times scipy's
    evaluations, and each ``ratio`` (at most LBFGS_CAP) is read from that run."""
    runs = {}

    def race(key, fun, x0, minimizer, ratio):
        if key not in runs:
            if key not in _SCIPY_EVALUATIONS:
                _SCIPY_EVALUATIONS[key] = scipy_evaluations(fun, x0)
            budget = _SCIPY_EVALUATIONS[key]
            runs[key] = budget, minimize_ask_tell(student_step, fun, x0, LBFGS_CAP * budget, memory=memory)
        budget, (evaluations, x) = runs[key]
        if evaluations is None:
            return (f"no point with max |gradient| <= {LBFGS_GTOL:g} within {LBFGS_CAP * budget} evaluations "
                    f"({LBFGS_CAP} x scipy's {budget})")
        error = float(np.max(np.abs(x - minimizer)))
        if error > LBFGS_XTOL:
            return f"stopped at a point {error:.3g} (max norm) from the minimiser"
        if evaluations > ratio * budget:
            return f"converged after {evaluations} evaluations, more than {ratio:g} x scipy's {budget}"
        return f"converged within {ratio:g} x scipy's evaluations"

    def lbfgs_on_rosenbrock(x0, rotation, shift, ratio):
        x0 = np.asarray(x0, dtype=float)
        problem = Rosenbrock(dim=len(x0))
        R = np.eye(len(x0)) if rotation is None else np.asarray(rotation, dtype=float)
        c = np.zeros(len(x0)) if shift is None else np.asarray(shift, dtype=float)

        def fun(x):
            z = R.T @ (x - c)
            return problem.loss(z), R @ problem.grad(z)

        key = ("rosenbrock", x0.tobytes(), R.tobytes(), c.tobytes())
        return race(key, fun, x0, c + R @ np.ones(len(x0)), ratio)

    def lbfgs_on_quadratic(hessian, x0, ratio):
        H, x0 = np.asarray(hessian, dtype=float), np.asarray(x0, dtype=float)
        key = ("quadratic", H.tobytes(), x0.tobytes())
        return race(key, lambda x: (0.5 * x @ H @ x, H @ x), x0, np.zeros(len(x0)), ratio)

    return (Experiment("lbfgs_on_rosenbrock", lbfgs_on_rosenbrock),
            Experiment("lbfgs_on_quadratic", lbfgs_on_quadratic))


def raced(ratio):
    """The verdict of an L-BFGS that converges within ``ratio`` times scipy's evaluations."""
    return f"converged within {ratio:g} x scipy's evaluations"


# -- training the capstone's network -----------------------------------------------------------------

ADAM_SETTINGS = {"learning_rate", "beta1", "beta2", "eps"}  # what adam_settings() may set
REACHED = "reached the target"


def capstone_network():
    """The capstone's network (notebook 10): tanh 2-16-16-3 on the spiral data, and its start x0."""
    X, y = spiral_data(num_per_class=100, num_classes=3, noise=0.2, seed=0)
    net = Network(X, y, hidden=(16, 16))
    return net, net.init_params(seed=0)


def train_capstone(step, settings, num_steps=400, batch_size=32, seed=0, last=100):
    """The mean full training loss of the capstone's network over the last ``last`` of ``num_steps``
    minibatch steps (measured every 10 steps; inf if a step leaves the finite numbers):
    ``x, state = step(x, dx, state, **settings)`` from x0 and Adam's zero state
    (``optim.adam_init``), minibatches of ``batch_size`` drawn without replacement by
    ``default_rng(seed)``, as ``course_lib.optim.run`` draws them."""
    net, x = capstone_network()
    rng = np.random.default_rng(seed)
    state = optim.adam_init(x)
    losses = []
    for k in range(1, num_steps + 1):
        dx = net.minibatch_grad(x, rng.choice(net.num_examples, batch_size, replace=False))
        x, state = step(x, dx, state, **settings)
        x = np.asarray(x, dtype=float)
        if x.shape != dx.shape or not np.all(np.isfinite(x)):
            return np.inf
        if k > num_steps - last and k % 10 == 0:
            losses.append(net.loss(x))
    return float(np.mean(losses))


def adam_training_experiment(student_step, student_settings):
    """``train_network(seed, target)``: the student's adam_step with the student's settings trains the
    capstone's network (``train_capstone``, minibatches from ``seed``); the mean loss over the last
    100 of 400 steps must be at most ``target``."""

    def step(*args, **kwargs):
        return checks.call(student_step, *args, **kwargs)

    def train_network(seed, target):
        settings = checks.call(student_settings)
        usable = isinstance(settings, dict) and "learning_rate" in settings and set(settings) <= ADAM_SETTINGS
        if not usable:
            return (f"adam_settings() returned {checks.literal(settings)[:200]}: need a dict with "
                    "learning_rate and optionally beta1, beta2, eps")
        loss = train_capstone(step, settings, seed=seed)
        if not loss <= target:
            return f"mean training loss over the last 100 of 400 steps {loss:.4g} > {target:g}"
        return REACHED

    return Experiment("train_network", train_network)
