"""Second-order methods: Newton, line searches, BFGS, L-BFGS, saddle-free Newton, Newton-CG, Gauss-Newton.

Every method minimises around the second-order Taylor model of the loss at x,

    f(x + p) ≈ f(x) + g^T p + 1/2 p^T H p,        g = ∇f(x),  H = ∇²f(x),

whose critical point is the Newton step p = -H^{-1} g. The methods differ in what they use for
H^{-1}: the exact Hessian (Newton), |H|^{-1} (saddle-free Newton), or an estimate built from
gradient differences (BFGS stores it as a dense matrix, L-BFGS keeps only the last m pairs).
Newton-CG (Hessian-free) and Gauss-Newton never form a matrix either: they solve the Newton system
approximately by conjugate gradients, which needs only products of H (or of the positive
semi-definite Gauss-Newton matrix G) with vectors, each about as costly as a gradient.

Conventions:

* ``problem`` is a course problem (``loss``, ``grad`` and, for Newton, ``hessian``) or a plain
  callable f(x) with ``grad=`` (and ``hessian=``) callables; ``grad=True`` means that f returns
  ``(loss, gradient)`` together, as with scipy's ``jac=True``.
* Every method returns a ``scipy.optimize.OptimizeResult`` with ``x, fun, jac, nit, nfev, njev,
  success, message, nhev, nhvp``. ``nfev`` counts loss evaluations, ``njev`` gradient evaluations,
  ``nhev`` Hessian evaluations and ``nhvp`` curvature-matrix-vector products (H v for Newton-CG,
  G v for Gauss-Newton); the line-search methods always evaluate loss and gradient together.
* ``callback(x)`` is called with a copy of each new iterate (collect paths with ``path.append``).
* Stopping: the gradient's largest entry falls to ``gtol``, or ``maxiter`` iterations are done.
  L-BFGS also stops on scipy L-BFGS-B's relative-reduction test (``ftol``) so that the two can be
  compared under the same rule.

This module is pure math: numpy and scipy only, no plotting.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import OptimizeResult

from course_lib import validate

# ---------------------------------------------------------------------------------------------
# Argument checks and evaluation counting


def _check_start(x0, dim=None):
    x0 = np.array(x0, dtype=float)
    if x0.ndim != 1 or x0.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array, got shape {x0.shape}")
    if dim is not None and x0.shape != (dim,):
        raise ValueError(f"x0 must have shape ({dim},) for this problem, got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be finite (it contains NaN or inf)")
    return x0


def _check_wolfe_constants(c1, c2):
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"the Wolfe constants must satisfy 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")


class _Objective:
    """f, ∇f and ∇²f of a problem or of plain callables, counting every evaluation."""

    def __init__(self, problem, grad=None, hessian=None, need_hessian=False):
        if hasattr(problem, "loss") and hasattr(problem, "grad"):
            self.dim = getattr(problem, "dim", None)
            self._loss, self._grad = problem.loss, problem.grad
            self._hessian = getattr(problem, "hessian", None)
            self._together = False
        elif callable(problem):
            if grad is None:
                raise ValueError("grad must be given (a callable, or True if f returns (loss, grad))")
            if grad is not True and not callable(grad):
                raise ValueError(f"grad must be a callable or True, got {grad!r}")
            self.dim = None
            self._loss, self._grad, self._hessian = problem, grad, hessian
            self._together = grad is True
        else:
            raise ValueError(f"problem must have loss/grad methods or be callable, got {problem!r}")
        if need_hessian and not callable(self._hessian):
            raise ValueError("this method needs the Hessian: pass a problem with hessian() or hessian=")
        self.nfev = self.njev = self.nhev = self.nhvp = 0

    def value_and_grad(self, x):
        self.nfev += 1
        self.njev += 1
        if self._together:
            f, g = self._loss(x)
        else:
            f, g = self._loss(x), self._grad(x)
        g = np.asarray(g, dtype=float)
        if g.shape != x.shape:
            raise ValueError(f"the gradient has shape {g.shape}, expected {x.shape}")
        return float(f), g

    def value(self, x):
        if self._together:
            return self.value_and_grad(x)[0]
        self.nfev += 1
        return float(self._loss(x))

    def hessian(self, x):
        self.nhev += 1
        H = np.asarray(self._hessian(x), dtype=float)
        if H.shape != (x.size, x.size):
            raise ValueError(f"the Hessian has shape {H.shape}, expected {(x.size, x.size)}")
        return H


def _result(objective, x, f, g, nit, success, message):
    return OptimizeResult(x=x, fun=f, jac=g, nit=nit, nfev=objective.nfev, njev=objective.njev,
                          nhev=objective.nhev, nhvp=objective.nhvp, success=bool(success), message=message)


def _converged(g, gtol):
    return np.max(np.abs(g)) <= gtol


def _descend(objective, x, gtol, maxiter, callback, next_point, ftol=None):
    """The loop every method shares: until max |g| <= gtol or ``maxiter`` iterations, move to
    ``next_point(x, f, g)``, which returns the new ``(x, f, g)`` or, when it cannot move, a message.
    With ``ftol``, also stop once (f_old - f) / max(|f_old|, |f|, 1) <= ftol (scipy L-BFGS-B's test).
    """
    f, g = objective.value_and_grad(x)
    for nit in range(maxiter):
        if _converged(g, gtol):
            return _result(objective, x, f, g, nit, True, "gradient below gtol")
        moved = next_point(x, f, g)
        if isinstance(moved, str):
            return _result(objective, x, f, g, nit, False, moved)
        f_old, (x, f, g) = f, moved
        if callback is not None:
            callback(x.copy())
        if ftol is not None and (f_old - f) / max(abs(f_old), abs(f), 1.0) <= ftol:
            return _result(objective, x, f, g, nit + 1, True, "relative reduction of f below ftol")
    return _result(objective, x, f, g, maxiter, _converged(g, gtol), "reached maxiter")


# ---------------------------------------------------------------------------------------------
# Line searches: choose a step length alpha along a descent direction p.
# Both work on phi(alpha) = f(x + alpha p), whose slope at 0 is phi'(0) = g^T p < 0.


def backtracking_line_search(fun, x, direction, fx, gx, step=1.0, c1=1e-4, shrink=0.5, maxiter=60):
    """Backtracking (Armijo): try alpha = step, step*shrink, step*shrink², ... until

        f(x + alpha p) <= f(x) + c1 alpha g^T p          (sufficient decrease)

    ``fun(x)`` returns the loss. Returns an ``OptimizeResult`` with ``step`` (alpha), ``fun``
    (the loss there), ``nfev`` and ``success``.
    """
    if not 0 < c1 < 1:
        raise ValueError(f"c1 must lie in (0, 1), got {c1}")
    if not 0 < shrink < 1:
        raise ValueError(f"shrink must lie in (0, 1), got {shrink}")
    validate.positive("step", step)
    slope = float(np.dot(gx, direction))
    if not slope < 0:
        raise ValueError(f"direction must be a descent direction (g^T p < 0), got g^T p = {slope:.3g}")
    alpha = step
    for nfev in range(1, maxiter + 1):
        f_new = fun(x + alpha * direction)
        if f_new <= fx + c1 * alpha * slope:
            return OptimizeResult(step=alpha, fun=f_new, nfev=nfev, success=True)
        alpha *= shrink
    return OptimizeResult(step=alpha, fun=f_new, nfev=maxiter, success=False)


def _cubic_minimizer(a, fa, da, b, fb, db):
    """Minimizer of the cubic through (a, fa) and (b, fb) with slopes da, db (None if it has none)."""
    d1 = da + db - 3 * (fa - fb) / (a - b)
    radicand = d1 * d1 - da * db
    if radicand < 0:
        return None
    d2 = np.sign(b - a) * np.sqrt(radicand)
    denominator = db - da + 2 * d2
    if denominator == 0:
        return None
    return b - (b - a) * (db + d2 - d1) / denominator


def _quadratic_minimizer(a, fa, da, b, fb):
    """Minimizer of the parabola through (a, fa) and (b, fb) with slope da at a (None if concave)."""
    curvature = (fb - fa - da * (b - a)) / (b - a) ** 2
    if curvature <= 0:
        return None
    return a - da / (2 * curvature)


def _interpolate(lo, hi):
    """A trial step inside the bracket: cubic, else quadratic, else bisection, kept away from the ends.

    ``lo`` and ``hi`` are (alpha, phi, phi') triples. The safeguard keeps the trial in the middle
    80 % of the bracket so that the bracket always shrinks by a fixed fraction.
    """
    (a, fa, da), (b, fb, db) = lo, hi
    trial = None
    # Huge or overflowed (inf) values at an end give no usable fit: the checks below then bisect.
    with np.errstate(over="ignore", invalid="ignore"):
        if np.all(np.isfinite([fa, da, fb, db])):
            trial = _cubic_minimizer(a, fa, da, b, fb, db)
            if trial is None or not np.isfinite(trial):
                trial = _quadratic_minimizer(a, fa, da, b, fb)
    left, right = min(a, b), max(a, b)
    margin = 0.1 * (right - left)
    if trial is None or not np.isfinite(trial) or not left + margin <= trial <= right - margin:
        trial = 0.5 * (a + b)
    return trial


def strong_wolfe_line_search(fun_and_grad, x, direction, fx, gx, step=1.0, c1=1e-4, c2=0.9,
                             max_step=1e10, maxiter=25):
    """A step length satisfying the strong Wolfe conditions (Nocedal & Wright, Algorithms 3.5-3.6):

        f(x + alpha p) <= f(x) + c1 alpha g^T p                  (sufficient decrease)
        |∇f(x + alpha p)^T p| <= c2 |g^T p|                      (curvature)

    Phase 1 (bracketing) tries alpha = step, 2 step, 4 step, ... until an interval is known to
    contain acceptable steps; phase 2 (zoom) shrinks that interval using cubic interpolation of
    phi(alpha) = f(x + alpha p) from the values and slopes at its ends.

    ``fun_and_grad(x)`` returns ``(loss, gradient)``. Returns an ``OptimizeResult`` with ``step``,
    ``fun``, ``jac`` (the gradient at x + alpha p), ``nfev`` and ``success``.
    """
    _check_wolfe_constants(c1, c2)
    validate.positive("step", step)
    phi0, dphi0 = fx, float(np.dot(gx, direction))
    if not dphi0 < 0:
        raise ValueError(f"direction must be a descent direction (g^T p < 0), got g^T p = {dphi0:.3g}")
    evaluations = {}  # alpha -> (loss, gradient) at x + alpha p
    nfev = 0

    def phi(alpha):
        nonlocal nfev
        nfev += 1
        f, g = fun_and_grad(x + alpha * direction)
        evaluations[alpha] = (f, g)
        return f, float(np.dot(g, direction))

    def armijo(alpha, f):
        return f <= phi0 + c1 * alpha * dphi0

    def flat_enough(slope):
        return abs(slope) <= -c2 * dphi0

    def accept(alpha):
        f, g = evaluations[alpha]
        return OptimizeResult(step=alpha, fun=f, jac=g, nfev=nfev, success=True)

    def zoom(lo, hi):
        # Invariants: lo satisfies sufficient decrease and has the lowest phi seen so far;
        # phi'(lo) (hi - lo) < 0, so the interval between lo and hi contains an acceptable step.
        while nfev < maxiter:
            alpha = _interpolate(lo, hi)
            f, slope = phi(alpha)
            if not armijo(alpha, f) or f >= lo[1]:
                hi = (alpha, f, slope)
            else:
                if flat_enough(slope):
                    return accept(alpha)
                if slope * (hi[0] - lo[0]) >= 0:
                    hi = lo
                lo = (alpha, f, slope)
        return None

    previous = (0.0, phi0, dphi0)
    alpha = step
    result = None
    while nfev < maxiter:
        f, slope = phi(alpha)
        if not armijo(alpha, f) or (previous[0] > 0 and f >= previous[1]):  # also when f is inf/NaN
            result = zoom(previous, (alpha, f, slope))
            break
        if flat_enough(slope):
            return accept(alpha)
        if slope >= 0:
            result = zoom((alpha, f, slope), previous)
            break
        if alpha >= max_step:
            break
        previous = (alpha, f, slope)
        alpha = min(2 * alpha, max_step)
    if result is not None:
        return result
    best = min(evaluations, key=lambda a: evaluations[a][0])
    f, g = evaluations[best]
    return OptimizeResult(step=best, fun=f, jac=g, nfev=nfev, success=False)


# ---------------------------------------------------------------------------------------------
# Newton's method and saddle-free Newton


def newton(problem, x0, grad=None, hessian=None, step_size=1.0, line_search=False, gtol=1e-8,
           maxiter=100, callback=None):
    """Newton's method: minimise the local quadratic model exactly at every step,

        x = x - step_size * H^{-1} g

    There is no learning rate: on a quadratic, step_size = 1 lands on the minimizer in one step
    whatever the condition number. ``step_size < 1`` damps the step; ``line_search=True`` instead
    chooses it by backtracking (Armijo) from 1. H^{-1} g is computed by solving H p = g, never by
    inverting H. Where H is not positive definite, -H^{-1} g need not point downhill: plain Newton
    then heads for saddle points and maxima, and the line search stops with ``success=False``.
    """
    objective = _Objective(problem, grad, hessian, need_hessian=True)
    x = _check_start(x0, objective.dim)
    validate.positive("step_size", step_size)
    validate.nonnegative("gtol", gtol)
    maxiter = validate.count("maxiter", maxiter, 0)

    def next_point(x, f, g):
        newton_step = np.linalg.solve(objective.hessian(x), g)
        alpha = step_size
        if line_search:
            if not np.dot(g, newton_step) > 0:
                return "the Newton direction points uphill (the Hessian is not positive definite)"
            search = backtracking_line_search(objective.value, x, -newton_step, f, g, step=step_size)
            if not search.success:
                return "line search failed"
            alpha = search.step
        x = x - alpha * newton_step
        return (x, *objective.value_and_grad(x))

    return _descend(objective, x, gtol, maxiter, callback, next_point)


def saddle_free_newton(problem, x0, grad=None, hessian=None, step_size=1.0, damping=0.0, gtol=1e-8,
                       maxiter=100, callback=None):
    """Saddle-free Newton (Dauphin et al., 2014): Newton with the Hessian's eigenvalues made positive,

        H = V diag(lambda) V^T,    |H| = V diag(|lambda|) V^T
        x = x - step_size * (|H| + damping I)^{-1} g

    Along positive-curvature directions this is Newton's step; along negative-curvature ones it
    moves *away* from the saddle instead of towards it. ``damping`` > 0 keeps the step finite where
    an eigenvalue is near zero.
    """
    objective = _Objective(problem, grad, hessian, need_hessian=True)
    x = _check_start(x0, objective.dim)
    validate.positive("step_size", step_size)
    validate.nonnegative("damping", damping)
    validate.nonnegative("gtol", gtol)
    maxiter = validate.count("maxiter", maxiter, 0)

    def next_point(x, f, g):
        H = objective.hessian(x)
        eigenvalues, V = np.linalg.eigh((H + H.T) / 2)
        curvature = np.abs(eigenvalues) + damping
        if not np.all(curvature > 0):
            return "|H| + damping I is singular (a zero eigenvalue): use damping > 0"
        x = x - step_size * V @ ((V.T @ g) / curvature)
        return (x, *objective.value_and_grad(x))

    return _descend(objective, x, gtol, maxiter, callback, next_point)


# ---------------------------------------------------------------------------------------------
# Quasi-Newton: BFGS and L-BFGS, both with a strong-Wolfe line search


def _first_step(g):
    """Before any curvature is known the direction is -g; the first trial moves a distance of 1."""
    return 1.0 / np.linalg.norm(g)


def _quasi_newton_point(objective, c1, c2, direction_of, remember):
    """``next_point`` for ``_descend``: a strong-Wolfe step along ``direction_of(g)`` (a direction and
    a trial step), then ``remember(s, y)`` with s = x_new - x and y = g_new - g."""

    def next_point(x, f, g):
        direction, step = direction_of(g)
        search = strong_wolfe_line_search(objective.value_and_grad, x, direction, f, g, step, c1, c2)
        if not search.success:
            return "line search failed"
        s = search.step * direction
        remember(s, search.jac - g)
        return x + s, search.fun, search.jac

    return next_point


def bfgs(problem, x0, grad=None, c1=1e-4, c2=0.9, gtol=1e-5, maxiter=10_000, callback=None):
    """BFGS: keep a dense estimate H_inv of the inverse Hessian and improve it after every step.

        p = -H_inv g                                        (quasi-Newton direction)
        x_new = x + alpha p                                 (alpha: strong-Wolfe line search)
        s = x_new - x,  y = g_new - g,  rho = 1 / (y^T s)
        H_inv = (I - rho s y^T) H_inv (I - rho y s^T) + rho s s^T

    The update is the smallest change that makes H_inv y = s (the secant equation) and keeps H_inv
    symmetric positive definite (the curvature condition y^T s > 0 holds at a Wolfe step). Before
    the first update H_inv is scaled to (y^T s / y^T y) I, as Nocedal & Wright advise. Each step
    costs O(n²) time and H_inv needs O(n²) memory.
    """
    objective = _Objective(problem, grad)
    x = _check_start(x0, objective.dim)
    _check_wolfe_constants(c1, c2)
    validate.nonnegative("gtol", gtol)
    maxiter = validate.count("maxiter", maxiter, 0)
    H_inv = None

    def direction_of(g):
        return (-g, _first_step(g)) if H_inv is None else (-H_inv @ g, 1.0)

    def remember(s, y):
        nonlocal H_inv
        rho = 1.0 / (y @ s)
        if H_inv is None:
            H_inv = np.eye(s.size) * (y @ s) / (y @ y)
        H_inv_y = H_inv @ y
        # The product form above, expanded so that it costs O(n²) instead of O(n³).
        H_inv += (rho * rho * (y @ H_inv_y) + rho) * np.outer(s, s) - rho * (
            np.outer(H_inv_y, s) + np.outer(s, H_inv_y))

    return _descend(objective, x, gtol, maxiter, callback,
                    _quasi_newton_point(objective, c1, c2, direction_of, remember))


def two_loop_recursion(g, s_history, y_history):
    """H_inv g for the L-BFGS inverse-Hessian estimate, from the stored pairs (oldest first).

        q = g
        for i = newest .. oldest:   a_i = rho_i s_i^T q;   q = q - a_i y_i
        r = gamma q,                gamma = s^T y / y^T y   (newest pair: the initial H_inv = gamma I)
        for i = oldest .. newest:   b = rho_i y_i^T r;     r = r + (a_i - b) s_i
        return r

    with rho_i = 1 / (y_i^T s_i). It costs O(m n) and never forms a matrix. With no pairs it is g.
    """
    q = np.array(g, dtype=float)
    if not s_history:
        return q
    rhos = [1.0 / (y @ s) for s, y in zip(s_history, y_history, strict=True)]
    alphas = []
    for s, y, rho in zip(reversed(s_history), reversed(y_history), reversed(rhos), strict=True):
        a = rho * (s @ q)
        q -= a * y
        alphas.append(a)
    s, y = s_history[-1], y_history[-1]
    r = (s @ y) / (y @ y) * q
    for s, y, rho, a in zip(s_history, y_history, rhos, reversed(alphas), strict=True):
        b = rho * (y @ r)
        r += (a - b) * s
    return r


def lbfgs(problem, x0, grad=None, memory=10, c1=1e-4, c2=0.9, gtol=1e-5, ftol=2.220446049250313e-09,
          maxiter=15_000, callback=None):
    """L-BFGS: BFGS without the matrix. Only the last ``memory`` (m) pairs are kept,

        s_k = x_{k+1} - x_k,   y_k = g_{k+1} - g_k,

    and p = -H_inv g is computed from them by the two-loop recursion (``two_loop_recursion``),
    which applies m BFGS updates to the initial estimate gamma I in O(m n) time and memory.
    The step length comes from a strong-Wolfe line search (trial step 1).

    Stops when max |g_i| <= gtol or when (f_old - f) / max(|f_old|, |f|, 1) <= ftol: the defaults
    are scipy L-BFGS-B's, so the two can be compared evaluation for evaluation.
    """
    objective = _Objective(problem, grad)
    x = _check_start(x0, objective.dim)
    memory = validate.count("memory", memory, 1)
    _check_wolfe_constants(c1, c2)
    validate.nonnegative("gtol", gtol)
    validate.nonnegative("ftol", ftol)
    maxiter = validate.count("maxiter", maxiter, 0)
    s_history, y_history = [], []

    def direction_of(g):
        return -two_loop_recursion(g, s_history, y_history), 1.0 if s_history else _first_step(g)

    def remember(s, y):
        s_history.append(s)
        y_history.append(y)
        if len(s_history) > memory:
            s_history.pop(0)
            y_history.pop(0)

    return _descend(objective, x, gtol, maxiter, callback,
                    _quasi_newton_point(objective, c1, c2, direction_of, remember), ftol=ftol)


# ---------------------------------------------------------------------------------------------
# Truncated Newton: conjugate gradients on the Newton system, with matrix-vector products only


def _counted_product(objective, problem, given, attribute, keyword):
    """The product v -> B(x) v from ``given`` (a callable (x, v)) or the problem's ``attribute``,
    counted in ``objective.nhvp`` and checked for shape."""
    product = given if given is not None else getattr(problem, attribute, None)
    if not callable(product):
        raise ValueError(f"this method needs matrix-vector products: pass a problem with {attribute}() "
                         f"or {keyword}=(a callable (x, v))")

    def counted(x, v):
        objective.nhvp += 1
        Bv = np.asarray(product(x, v), dtype=float)
        if Bv.shape != v.shape:
            raise ValueError(f"{keyword} returned shape {Bv.shape}, expected {v.shape}")
        return Bv

    return counted


def _check_truncation(forcing, cg_maxiter, dim):
    if forcing is not None and not 0 < forcing < 1:
        raise ValueError(f"forcing must be None (eta = min(0.5, sqrt|g|)) or lie in (0, 1), got {forcing}")
    return 20 * dim if cg_maxiter is None else validate.count("cg_maxiter", cg_maxiter, 1)


def truncated_cg(product, g, tolerance, maxiter):
    """Solve B p = -g approximately by conjugate gradients from p = 0 with products B d only
    (Nocedal & Wright 2006, Algorithm 7.1):

        r = g,  d = -g                                  (r = B p + g, the residual)
        repeat:
            if d^T B d <= 0: stop                       (negative curvature: B is not positive definite)
            alpha = r^T r / d^T B d,   p = p + alpha d,   r_new = r + alpha B d
            if |r_new|_1 <= tolerance: stop             (truncation)
            d = -r_new + (r_new^T r_new / r^T r) d,   r = r_new

    While the curvature stays positive every iterate is a descent direction (g^T p < 0). When the
    first direction has non-positive curvature the answer is the steepest-descent step -g (scaled by
    |g|^2 / |g^T B g|, as scipy's Newton-CG does). Returns an ``OptimizeResult`` with ``x`` (p), ``curvature``
    (p^T B p), ``nit`` (products used) and ``message``.
    """
    g = np.asarray(g, dtype=float)
    validate.nonnegative("tolerance", tolerance)
    maxiter = validate.count("maxiter", maxiter, 1)
    p, r, d = np.zeros_like(g), g.copy(), -g
    rr = r @ r
    for nit in range(1, maxiter + 1):
        Bd = product(d)
        curvature = d @ Bd
        if not curvature > 0:
            if nit > 1:
                return OptimizeResult(x=p, curvature=p @ (r - g), nit=nit, message="negative curvature")
            scale = rr / abs(curvature) if curvature != 0 else 1.0
            return OptimizeResult(x=-scale * g, curvature=scale**2 * curvature, nit=nit,
                                  message="negative curvature at the first CG step: steepest descent")
        alpha = rr / curvature
        p += alpha * d
        r += alpha * Bd
        rr_new = r @ r
        if np.abs(r).sum() <= tolerance:
            break
        d = -r + (rr_new / rr) * d
        rr = rr_new
    else:
        return OptimizeResult(x=p, curvature=p @ (r - g), nit=maxiter, message="reached cg_maxiter")
    # B p = r - g, so p^T B p needs no further product.
    return OptimizeResult(x=p, curvature=p @ (r - g), nit=nit, message="residual below the forcing tolerance")


def _forcing_tolerance(g, forcing):
    """Nocedal & Wright (7.3): stop CG at |r| <= eta |g| with eta = min(0.5, sqrt|g|) (superlinear
    convergence), or with a fixed eta (linear convergence). The norms are 1-norms, as in scipy's
    Newton-CG; with 2-norms the early solves are tighter, which on Rosenbrock (n = 100) costs more
    iterations and line-search evaluations."""
    norm = np.linalg.norm(g, 1)
    return (min(0.5, np.sqrt(norm)) if forcing is None else forcing) * norm


def newton_cg(problem, x0, grad=None, hessp=None, forcing=None, cg_maxiter=None, c1=1e-4, c2=0.9, gtol=1e-5,
              maxiter=1000, callback=None):
    """Newton-CG, also called truncated Newton or Hessian-free optimisation (Nocedal & Wright 2006,
    chapter 7, Algorithm 7.1; Martens 2010): Newton's step without ever forming the Hessian.

        p ≈ solution of H p = -g by conjugate gradients (``truncated_cg``), using products H v only,
            stopped once |H p + g|_1 <= eta |g|_1, eta = min(0.5, sqrt|g|_1) (``forcing``),
            or at the first direction of negative curvature
        x = x + alpha p,   alpha from a strong-Wolfe line search starting at 1

    A Hessian-vector product costs a small multiple of a gradient (``Network.hessian_vector_product``
    computes it by Pearlmutter's R-operator, for about two gradients), so an iteration costs some
    gradients, not O(n^3). Loose CG solves
    far from the minimum and tighter ones near it give superlinear convergence. Stopping on negative
    curvature keeps the direction downhill where H is indefinite, but it does not escape saddles
    the way saddle-free Newton does.

    ``hessp(x, v)`` returns H(x) v; by default the problem's ``hessian_vector_product``. The result
    counts the products in ``nhvp``, the CG iterations of every step in ``cg_iterations``, and the
    steps whose CG stopped on negative curvature in ``negative_curvature``.
    """
    objective = _Objective(problem, grad)
    x = _check_start(x0, objective.dim)
    product = _counted_product(objective, problem, hessp, "hessian_vector_product", "hessp")
    return _truncated_newton(objective, x, product, forcing, cg_maxiter, c1, c2, gtol, maxiter, callback)


def gauss_newton(problem, x0, grad=None, gnvp=None, damping=1.0, adapt_damping=True, forcing=None,
                 cg_maxiter=None, c1=1e-4, c2=0.9, gtol=1e-5, maxiter=1000, callback=None):
    """Gauss-Newton with Levenberg-Marquardt damping, solved by conjugate gradients: Newton-CG with the
    Hessian replaced by the generalized Gauss-Newton matrix G (Schraudolph 2002; Martens 2010):

        p ≈ solution of (G + lambda I) p = -g by CG (``truncated_cg``, products G v only)
        x = x + alpha p,   alpha from a strong-Wolfe line search starting at 1
        rho = (f(x + alpha p) - f(x)) / (alpha g^T p + alpha^2/2 p^T G p)   (actual / predicted decrease)
        lambda = 3/2 lambda if rho < 1/4,   2/3 lambda if rho > 3/4         (Martens 2010)

    For a loss f(x) = (1/N) sum_i l(z_i(x)) of model outputs z_i, G = (1/N) sum_i J_i^T H_i J_i, with
    J_i the outputs' Jacobian and H_i the Hessian of l in the outputs: the Hessian without the terms
    in the outputs' second derivatives. For least squares (l = |z - t|^2 / 2, H_i = I) it is the classic
    J^T J. When l is convex in z, G is positive semi-definite everywhere, so with lambda > 0 CG never
    meets negative curvature, unlike Newton-CG on a non-convex loss. Where the model is trusted
    (rho near 1) lambda shrinks towards Gauss-Newton; where it is not, lambda grows towards a short
    gradient step. ``damping=0, adapt_damping=False`` is plain Gauss-Newton.

    ``gnvp(x, v)`` returns G(x) v; by default the problem's ``gauss_newton_vector_product``. The result
    counts the products in ``nhvp``, and also returns the final ``damping``.
    """
    objective = _Objective(problem, grad)
    x = _check_start(x0, objective.dim)
    validate.nonnegative("damping", damping)
    if adapt_damping and damping == 0:
        raise ValueError("adapt_damping needs damping > 0 to start from (lambda = 0 stays 0)")
    product = _counted_product(objective, problem, gnvp, "gauss_newton_vector_product", "gnvp")
    return _truncated_newton(objective, x, product, forcing, cg_maxiter, c1, c2, gtol, maxiter, callback,
                             damping=damping, adapt_damping=adapt_damping)


def _truncated_newton(objective, x, product, forcing, cg_maxiter, c1, c2, gtol, maxiter, callback,
                      damping=None, adapt_damping=False):
    """The loop Newton-CG and Gauss-Newton share: a CG direction, a strong-Wolfe step from 1 and, with
    ``damping``, the Levenberg-Marquardt update of lambda from the reduction ratio."""
    cg_maxiter = _check_truncation(forcing, cg_maxiter, x.size)
    _check_wolfe_constants(c1, c2)
    validate.nonnegative("gtol", gtol)
    maxiter = validate.count("maxiter", maxiter, 0)
    cg_iterations, negative_curvature = [], 0
    lam = damping

    def next_point(x, f, g):
        nonlocal lam, negative_curvature

        def multiply(v):
            return product(x, v) if lam is None else product(x, v) + lam * v

        cg = truncated_cg(multiply, g, _forcing_tolerance(g, forcing), cg_maxiter)
        cg_iterations.append(cg.nit)
        negative_curvature += cg.message.startswith("negative curvature")
        direction = cg.x
        if not g @ direction < 0:
            return "the CG direction points uphill"
        search = strong_wolfe_line_search(objective.value_and_grad, x, direction, f, g, 1.0, c1, c2)
        if not search.success:
            return "line search failed"
        if adapt_damping:
            alpha = search.step
            undamped_curvature = cg.curvature - lam * (direction @ direction)
            predicted = alpha * (g @ direction) + 0.5 * alpha**2 * undamped_curvature
            # A model that predicts no decrease is not to be trusted either (rho = 0: more damping).
            rho = (search.fun - f) / predicted if predicted < 0 else 0.0
            lam *= 1.5 if rho < 0.25 else 2 / 3 if rho > 0.75 else 1.0
        return x + search.step * direction, search.fun, search.jac

    result = _descend(objective, x, gtol, maxiter, callback, next_point)
    result.cg_iterations, result.negative_curvature = cg_iterations, negative_curvature
    if damping is not None:
        result.damping = lam
    return result
