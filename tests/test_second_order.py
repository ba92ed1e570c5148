"""course_lib.second_order against closed forms, the Wolfe conditions and scipy.optimize."""

import numpy as np
import pytest
from scipy.optimize import least_squares, line_search, minimize

from course_lib.network import Network, spiral_data
from course_lib.problems import LogisticRegression, Quadratic, Rosenbrock, SaddleQuadratic
from course_lib.second_order import (
    backtracking_line_search,
    bfgs,
    gauss_newton,
    lbfgs,
    newton,
    newton_cg,
    saddle_free_newton,
    strong_wolfe_line_search,
    truncated_cg,
    two_loop_recursion,
)

EPS = np.finfo(float).eps


class Counted:
    """A problem wrapper that counts evaluations independently of the optimizer's own bookkeeping."""

    def __init__(self, problem):
        self.problem, self.dim = problem, problem.dim
        self.losses = self.grads = self.hessians = 0

    def loss(self, x):
        self.losses += 1
        return self.problem.loss(x)

    def grad(self, x):
        self.grads += 1
        return self.problem.grad(x)

    def hessian(self, x):
        self.hessians += 1
        return self.problem.hessian(x)


def value_and_grad(problem):
    return lambda x: (problem.loss(x), problem.grad(x))


# --- Newton ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kappa", [1.0, 1e2, 1e4, 1e8])
@pytest.mark.parametrize("dim", [2, 30])
def test_newton_solves_any_quadratic_in_one_step(kappa, dim):
    rng = np.random.default_rng(int(kappa) + dim)
    bowl = Quadratic.with_condition_number(kappa, dim=dim, angle=0.3)
    problem = Quadratic(bowl.H, center=rng.standard_normal(dim))
    x0 = rng.standard_normal(dim) * 10
    result = newton(problem, x0, maxiter=1)
    # A backward-stable solve is accurate to about kappa * machine epsilon, and no better.
    relative_error = np.linalg.norm(result.x - problem.center) / np.linalg.norm(x0 - problem.center)
    assert relative_error <= 100 * EPS * kappa
    assert (result.nit, result.nfev, result.nhev) == (1, 2, 1)


def test_newton_stops_after_one_step_on_a_quadratic():
    problem = Quadratic.with_condition_number(1e3, dim=10)
    result = newton(problem, np.ones(10))
    assert result.success and result.nit == 1


def test_damped_newton_shrinks_the_error_by_one_minus_step_size():
    problem = Quadratic.with_condition_number(50, dim=5, seed=3)
    x0 = np.arange(1.0, 6.0)
    path = []
    newton(problem, x0, step_size=0.25, maxiter=6, callback=path.append)
    expected = [0.75 ** (k + 1) * x0 for k in range(6)]
    np.testing.assert_allclose(path, expected, rtol=1e-12)


def test_newton_converges_quadratically_on_rosenbrock():
    problem = Rosenbrock(2)
    path = []
    result = newton(problem, Rosenbrock.standard_start(2), line_search=True, callback=path.append)
    assert result.success and result.fun < 1e-20
    errors = np.linalg.norm(np.array(path) - 1.0, axis=1)
    # The last few errors before machine precision satisfy e_{k+1} <= C e_k^2.
    tail = errors[(errors > 1e-13) & (errors < 1e-1)]
    assert len(tail) >= 3
    assert np.all(tail[1:] <= 20 * tail[:-1] ** 2)


def test_newton_matches_scipy_on_logistic_regression():
    problem = LogisticRegression(num_examples=400, dim=8, l2=1e-3, seed=2)
    result = newton(problem, np.zeros(8), gtol=1e-12)
    reference = minimize(problem.loss, np.zeros(8), jac=problem.grad, hess=problem.hessian,
                         method="trust-exact", options={"gtol": 1e-10})
    assert reference.success and result.success and result.nit < 15
    # Quadratic convergence takes Newton well past scipy's stopping point.
    assert np.max(np.abs(problem.grad(result.x))) <= 1e-12
    np.testing.assert_allclose(result.x, reference.x, atol=1e-9)


def test_newton_heads_for_the_saddle_and_saddle_free_newton_escapes():
    saddle = SaddleQuadratic(a=5, b=1)  # 5x² − y²
    x0 = np.array([1.0, 0.1])
    assert np.allclose(newton(saddle, x0, maxiter=1).x, 0.0, atol=1e-15)
    path = []
    saddle_free_newton(saddle, x0, maxiter=3, callback=path.append)
    # Along x (curvature +10) it is Newton's step; along y (curvature −2) it moves away: y doubles.
    np.testing.assert_allclose(path, [[0, 0.2], [0, 0.4], [0, 0.8]], atol=1e-15)
    # A line search does not help: where -H^{-1} g points downhill Newton still lands on the saddle,
    # and where the negative curvature dominates it points uphill and the search refuses.
    assert np.allclose(newton(saddle, x0, line_search=True).x, 0.0, atol=1e-15)
    stalled = newton(saddle, np.array([0.1, 1.0]), line_search=True)
    assert not stalled.success and "uphill" in stalled.message


def test_saddle_free_newton_equals_newton_on_a_convex_problem_and_damping_scales_steps():
    problem = LogisticRegression(num_examples=200, dim=5, seed=1)
    x0 = np.full(5, 0.3)
    np.testing.assert_allclose(saddle_free_newton(problem, x0, maxiter=3).x,
                               newton(problem, x0, maxiter=3).x, rtol=1e-12)
    saddle = SaddleQuadratic(a=5, b=1)
    damped = saddle_free_newton(saddle, np.array([1.0, 1.0]), damping=2.0, maxiter=1)
    # step = g / (|lambda| + damping): x: 1 − 10/12, y: 1 + 2/4
    np.testing.assert_allclose(damped.x, [1 - 10 / 12, 1 + 2 / 4], rtol=1e-14)


# --- line searches ---------------------------------------------------------------------------


def _line_search_cases():
    rng = np.random.default_rng(0)
    problem = Rosenbrock(6)
    for _ in range(20):
        x = rng.uniform(-2, 2, 6)
        g = problem.grad(x)
        direction = -g if rng.random() < 0.5 else -g * rng.uniform(0.1, 10, 6)
        yield problem, x, direction, 10.0 ** rng.uniform(-4, 2)


def test_backtracking_satisfies_armijo_and_is_the_first_such_step():
    for problem, x, direction, step in _line_search_cases():
        f, g = problem.loss(x), problem.grad(x)
        result = backtracking_line_search(problem.loss, x, direction, f, g, step=step, c1=1e-4, shrink=0.5)
        slope = g @ direction
        assert result.success
        assert result.fun == problem.loss(x + result.step * direction)
        assert result.fun <= f + 1e-4 * result.step * slope
        assert np.isclose(result.step, step * 0.5 ** (result.nfev - 1), rtol=1e-14)
        if result.nfev > 1:
            previous = 2 * result.step
            assert problem.loss(x + previous * direction) > f + 1e-4 * previous * slope


@pytest.mark.filterwarnings("ignore:The line search algorithm did not converge")
@pytest.mark.parametrize("c1,c2", [(1e-4, 0.9), (1e-4, 0.1), (0.3, 0.4)])
def test_strong_wolfe_conditions_hold(c1, c2):
    scipy_found = 0
    for problem, x, direction, step in _line_search_cases():
        f, g = problem.loss(x), problem.grad(x)
        calls = []

        def counted(x_trial, problem=problem, calls=calls):
            calls.append(x_trial)
            return problem.loss(x_trial), problem.grad(x_trial)

        result = strong_wolfe_line_search(counted, x, direction, f, g, step, c1, c2)
        assert result.success and result.nfev == len(calls)
        x_new = x + result.step * direction
        assert result.fun == problem.loss(x_new)
        np.testing.assert_array_equal(result.jac, problem.grad(x_new))
        assert result.fun <= f + c1 * result.step * (g @ direction)
        assert abs(result.jac @ direction) <= c2 * abs(g @ direction)
        # scipy's search (maxiter 10, its own trial steps) solves the same problem when it succeeds.
        reference = line_search(problem.loss, problem.grad, x, direction, g, f, c1=c1, c2=c2, maxiter=25)
        if reference[0] is not None:
            scipy_found += 1
            assert abs(problem.grad(x + reference[0] * direction) @ direction) <= c2 * abs(g @ direction)
    assert scipy_found >= 10


def test_strong_wolfe_zoom_interpolates_a_quadratic_exactly():
    problem = Quadratic.with_condition_number(10, dim=4, seed=1)
    x = np.array([1.0, -2.0, 0.5, 3.0])
    g = problem.grad(x)
    exact_step = (g @ g) / (g @ problem.H @ g)  # minimizer of f(x − alpha g)
    # The first trial overshoots (fails sufficient decrease); the cubic through its two ends is the
    # parabola itself, so the second evaluation lands on the exact minimizer.
    result = strong_wolfe_line_search(value_and_grad(problem), x, -g, problem.loss(x), g,
                                      step=3 * exact_step, c2=0.01)
    assert result.success and result.nfev == 2
    assert result.step == pytest.approx(exact_step, rel=1e-12)


def test_strong_wolfe_extrapolates_from_a_tiny_step():
    problem = Quadratic.with_condition_number(1, dim=3)
    x = np.array([1.0, 1.0, 1.0])
    g = problem.grad(x)
    result = strong_wolfe_line_search(value_and_grad(problem), x, -g, problem.loss(x), g, step=1e-3)
    assert result.success and result.nfev > 2
    assert abs(result.jac @ g) <= 0.9 * (g @ g)


@pytest.mark.parametrize("c1,c2", [(0, 0.9), (0.5, 0.5), (0.9, 0.1), (1e-4, 1.0), (-1, 0.5)])
def test_bad_wolfe_constants_are_rejected(c1, c2):
    problem = Rosenbrock(2)
    x = np.zeros(2)
    g = problem.grad(x)
    with pytest.raises(ValueError, match="c1"):
        strong_wolfe_line_search(value_and_grad(problem), x, -g, problem.loss(x), g, c1=c1, c2=c2)
    with pytest.raises(ValueError, match="c1"):
        lbfgs(problem, x, c1=c1, c2=c2)
    with pytest.raises(ValueError, match="c1"):
        bfgs(problem, x, c1=c1, c2=c2)


def test_line_searches_reject_an_uphill_direction():
    problem = Rosenbrock(2)
    x = np.zeros(2)
    f, g = problem.loss(x), problem.grad(x)
    with pytest.raises(ValueError, match="descent direction"):
        backtracking_line_search(problem.loss, x, g, f, g)
    with pytest.raises(ValueError, match="descent direction"):
        strong_wolfe_line_search(value_and_grad(problem), x, g, f, g)


# --- BFGS and L-BFGS -------------------------------------------------------------------------


def test_two_loop_recursion_equals_the_dense_bfgs_product():
    rng = np.random.default_rng(5)
    n, m = 7, 4
    A = rng.standard_normal((n, n))
    H_true = A @ A.T + n * np.eye(n)
    s_history = [rng.standard_normal(n) for _ in range(m)]
    y_history = [H_true @ s for s in s_history]
    g = rng.standard_normal(n)
    s, y = s_history[-1], y_history[-1]
    H_inv = (s @ y) / (y @ y) * np.eye(n)
    for s, y in zip(s_history, y_history, strict=True):
        rho = 1 / (y @ s)
        left = np.eye(n) - rho * np.outer(s, y)
        H_inv = left @ H_inv @ left.T + rho * np.outer(s, s)
    np.testing.assert_allclose(two_loop_recursion(g, s_history, y_history), H_inv @ g, rtol=1e-12)
    np.testing.assert_array_equal(two_loop_recursion(g, [], []), g)


def _scipy_lbfgsb(problem, x0):
    result = minimize(problem.loss, x0, jac=problem.grad, method="L-BFGS-B")
    assert result.success
    return result


@pytest.mark.parametrize("n", [2, 10, 100, 1000])
def test_lbfgs_needs_at_most_1_1x_scipys_evaluations_on_rosenbrock(n):
    problem = Counted(Rosenbrock(n))
    x0 = Rosenbrock.standard_start(n)
    reference = _scipy_lbfgsb(problem.problem, x0)
    result = lbfgs(problem, x0, memory=10)
    assert result.success and result.fun < 1e-8
    np.testing.assert_allclose(result.x, 1.0, atol=1e-3)
    assert (result.nfev, result.njev) == (problem.losses, problem.grads)
    assert result.nfev + result.njev <= 1.1 * (reference.nfev + reference.njev)


@pytest.mark.parametrize("n", [2, 10, 100])
def test_bfgs_reaches_rosenbrocks_minimum_with_few_evaluations(n):
    problem = Counted(Rosenbrock(n))
    x0 = Rosenbrock.standard_start(n)
    reference = _scipy_lbfgsb(problem.problem, x0)
    result = bfgs(problem, x0)
    assert result.success and result.fun < 1e-8
    np.testing.assert_allclose(result.x, 1.0, atol=1e-4)
    assert (result.nfev, result.njev) == (problem.losses, problem.grads)
    # Dense BFGS is not tuned like L-BFGS-B's stopping rule; it stays within 25 % of its evaluations.
    assert result.nfev + result.njev <= 1.25 * (reference.nfev + reference.njev)


@pytest.mark.parametrize("method", [bfgs, lbfgs])
@pytest.mark.parametrize("kwargs", [dict(), dict(num_examples=2000, dim=50, l2=1e-3,
                                                 feature_scales=np.geomspace(1, 30, 50))])
def test_quasi_newton_on_logistic_regression(method, kwargs):
    problem = LogisticRegression(**kwargs)
    x0 = np.zeros(problem.dim)
    reference = _scipy_lbfgsb(problem, x0)
    result = method(problem, x0)
    assert result.success
    assert result.fun - problem.min_loss < 1e-7
    error, reference_error = (np.max(np.abs(r.x - problem.minimizer)) for r in (result, reference))
    assert error <= 10 * reference_error
    if method is lbfgs:
        assert result.nfev + result.njev <= 1.1 * (reference.nfev + reference.njev)


def test_plain_callables_give_the_same_run_as_the_problem():
    problem = Rosenbrock(4)
    x0 = Rosenbrock.standard_start(4)
    expected = lbfgs(problem, x0)
    separate = lbfgs(problem.loss, x0, grad=problem.grad)
    together = lbfgs(value_and_grad(problem), x0, grad=True)
    for result in (separate, together):
        np.testing.assert_array_equal(result.x, expected.x)
        assert (result.nit, result.nfev) == (expected.nit, expected.nfev)
    by_hand = newton(problem.loss, x0, grad=problem.grad, hessian=problem.hessian, line_search=True)
    np.testing.assert_array_equal(by_hand.x, newton(problem, x0, line_search=True).x)


def test_lbfgs_memory_one_still_converges_and_more_memory_helps():
    problem = Rosenbrock(10)
    x0 = Rosenbrock.standard_start(10)
    one, ten = lbfgs(problem, x0, memory=1), lbfgs(problem, x0, memory=10)
    assert one.success and ten.success and one.fun < 1e-6
    assert ten.nfev < one.nfev


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: lbfgs(p, np.zeros(3), memory=0), "memory"),
        (lambda p: lbfgs(p, np.zeros(3), memory=2.5), "memory"),
        (lambda p: lbfgs(p, np.zeros(2)), r"x0 must have shape \(3,\)"),
        (lambda p: bfgs(p, np.zeros((3, 1))), "1-D"),
        (lambda p: newton(p, [0.0, np.nan, 0.0]), "finite"),
        (lambda p: lbfgs(p, [np.inf, 0.0, 0.0]), "finite"),
        (lambda p: newton(p, np.zeros(3), step_size=0), "step_size"),
        (lambda p: saddle_free_newton(p, np.zeros(3), damping=-1), "damping"),
        (lambda p: lbfgs(p, np.zeros(3), gtol=-1), "gtol"),
        (lambda p: lbfgs(p.loss, np.zeros(3)), "grad must be given"),
        (lambda p: newton(p.loss, np.zeros(3), grad=p.grad), "Hessian"),
        (lambda p: lbfgs(p.loss, np.zeros(3), grad=lambda x: np.zeros(2)), "gradient has shape"),
        (lambda p: lbfgs("rosenbrock", np.zeros(3)), "problem"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(Rosenbrock(3))


def test_strong_wolfe_backs_off_from_an_overflowing_step():
    def fun_and_grad(x):
        with np.errstate(over="ignore", invalid="ignore"):
            value = np.exp(x @ x)
            return value, 2 * x * value

    x = np.array([1.0])
    f, g = fun_and_grad(x)
    with np.errstate(all="raise"):  # no floating-point warning escapes the search
        result = strong_wolfe_line_search(fun_and_grad, x, -g, f, g, step=1e3)
    assert result.success and np.isfinite(result.fun) and result.fun < f
    assert abs(result.jac @ g) <= 0.9 * (g @ g)


# --- Newton-CG (truncated Newton, Hessian-free) and Gauss-Newton ------------------------------


class CountedProducts(Counted):
    """Counted, plus a Hessian-vector product from the dense Hessian (counted separately)."""

    products = 0

    def hessian_vector_product(self, x, v):
        self.products += 1
        return self.problem.hessian(x) @ v


def test_truncated_cg_solves_a_positive_definite_system_and_stays_downhill():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((12, 12))
    B = A @ A.T + 0.1 * np.eye(12)
    g = rng.standard_normal(12)
    products = []
    result = truncated_cg(lambda d: products.append(d) or B @ d, g, tolerance=1e-10, maxiter=100)
    np.testing.assert_allclose(result.x, -np.linalg.solve(B, g), rtol=1e-8)
    assert result.nit == len(products) and result.message.startswith("residual")
    assert result.curvature == pytest.approx(result.x @ B @ result.x, rel=1e-10)
    # A loose tolerance stops early, with a descent direction whose residual meets it.
    early = truncated_cg(lambda d: B @ d, g, tolerance=0.5 * np.abs(g).sum(), maxiter=100)
    assert early.nit < result.nit and g @ early.x < 0
    assert np.abs(B @ early.x + g).sum() <= 0.5 * np.abs(g).sum()


def test_truncated_cg_stops_at_negative_curvature():
    B = np.diag([2.0, -1.0])
    # First direction -g = (-1, 0): positive curvature; the next one meets the negative eigenvalue.
    result = truncated_cg(lambda d: B @ d, np.array([1.0, 1e-3]), tolerance=1e-12, maxiter=10)
    assert result.message == "negative curvature" and result.nit == 2
    np.testing.assert_allclose(result.x, -(1 + 1e-6) / (2 - 1e-6) * np.array([1.0, 1e-3]), rtol=1e-14)
    # Negative curvature along -g itself: the scaled steepest-descent step |g|^2 / |g^T B g| (-g).
    first = truncated_cg(lambda d: B @ d, np.array([0.0, 3.0]), tolerance=1e-12, maxiter=10)
    assert first.nit == 1 and first.message.startswith("negative curvature at the first")
    np.testing.assert_allclose(first.x, [0.0, -3.0], rtol=1e-15)


def test_newton_cg_with_a_tight_forcing_term_is_newton_on_a_quadratic():
    problem = Quadratic.with_condition_number(1e4, dim=20, angle=0.3)
    x0 = np.linspace(-1, 1, 20)
    result = newton_cg(problem, x0, hessp=lambda x, v: problem.H @ v, forcing=1e-13, maxiter=1)
    np.testing.assert_allclose(result.x, problem.center, atol=1e-9)
    assert result.nit == 1 and 1 <= result.nhvp <= 60 and result.nhvp == sum(result.cg_iterations)
    assert (result.nfev, result.njev) == (2, 2)  # the start, and the accepted unit step


@pytest.mark.parametrize("n", [2, 10, 100])
def test_newton_cg_matches_scipy_on_rosenbrock(n):
    problem = CountedProducts(Rosenbrock(n))
    x0 = Rosenbrock.standard_start(n)
    result = newton_cg(problem, x0, gtol=1e-8)
    reference = minimize(problem.problem.loss, x0, jac=problem.problem.grad, method="Newton-CG",
                         hessp=lambda x, v: problem.problem.hessian(x) @ v, options={"xtol": 1e-10})
    assert result.success and reference.success
    np.testing.assert_allclose(result.x, 1.0, atol=1e-9)
    np.testing.assert_allclose(reference.x, 1.0, atol=1e-9)
    assert (result.nfev, result.njev, result.nhvp) == (problem.losses, problem.grads, problem.products)
    # Measured (n = 2, 10, 100): 206, 340, 610 evaluations against scipy's 214, 270, 514;
    # 125, 366, 1645 Hessian-vector products against 146, 422, 1819.
    assert result.nfev + result.njev <= 1.3 * (reference.nfev + reference.njev)
    assert result.nhvp <= 1.1 * reference.nhev


@pytest.mark.parametrize("kwargs", [dict(), dict(num_examples=2000, dim=50, l2=1e-3,
                                                 feature_scales=np.geomspace(1, 30, 50))])
def test_newton_cg_matches_scipy_on_logistic_regression(kwargs):
    problem = LogisticRegression(**kwargs)
    x0 = np.zeros(problem.dim)

    def hessp(x, v):  # A^T diag(p (1 - p)) A v / N + l2 v, without forming the Hessian
        p = 0.5 * (1 + np.tanh(0.5 * (problem.A @ x)))
        return problem.A.T @ (p * (1 - p) * (problem.A @ v)) / problem.num_examples + problem.l2 * v

    v = np.linspace(-1, 1, problem.dim)
    np.testing.assert_allclose(hessp(x0 + 0.1, v), problem.hessian(x0 + 0.1) @ v, rtol=1e-12)
    result = newton_cg(problem, x0, hessp=hessp, gtol=1e-10)
    reference = minimize(problem.loss, x0, jac=problem.grad, hessp=hessp, method="Newton-CG",
                         options={"xtol": 1e-12})
    assert result.success and reference.success and result.negative_curvature == 0  # convex
    np.testing.assert_allclose(result.x, problem.minimizer, atol=1e-9)
    np.testing.assert_allclose(reference.x, problem.minimizer, atol=1e-5)
    # Measured: 7 and 15 iterations' evaluations against scipy's 7 and 17; products 15, 316 against 13, 250
    # (gtol 1e-10 asks more of the last solves than scipy's step-size test, which stops ~1e-6 away).
    assert result.nfev <= reference.nfev + 1
    assert result.nhvp <= 1.5 * reference.nhev


class LinearLeastSquares:
    """f(x) = |A x - b|^2 / (2 m): its Gauss-Newton matrix A^T A / m is its Hessian."""

    def __init__(self, m=40, n=8, seed=0):
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((m, n)) * np.geomspace(1, 100, n)
        self.b = rng.standard_normal(m)
        self.dim = n

    def loss(self, x):
        r = self.A @ x - self.b
        return 0.5 * r @ r / len(self.b)

    def grad(self, x):
        return self.A.T @ (self.A @ x - self.b) / len(self.b)

    def hessian(self, x):
        return self.A.T @ self.A / len(self.b)

    def gauss_newton_vector_product(self, x, v):
        return self.A.T @ (self.A @ v) / len(self.b)


def test_gauss_newton_is_newton_on_linear_least_squares_in_one_step():
    problem = LinearLeastSquares()
    x0 = np.ones(problem.dim)
    result = gauss_newton(problem, x0, damping=0.0, adapt_damping=False, forcing=1e-13, maxiter=1)
    solution = np.linalg.lstsq(problem.A, problem.b, rcond=None)[0]
    # CG's forcing bounds the error in norm, so a small component can be off by more than 1e-9 of
    # itself (1.1e-9 was seen on another machine's BLAS): compare against the solution's scale.
    atol = 1e-9 * np.abs(solution).max()
    np.testing.assert_allclose(result.x, solution, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(result.x, newton(problem, x0, maxiter=1).x, rtol=1e-9, atol=atol)
    assert result.nit == 1 and result.nfev == 2 and result.negative_curvature == 0


def test_levenberg_marquardt_damping_shrinks_where_the_model_is_exact():
    problem = LinearLeastSquares(seed=1)
    result = gauss_newton(problem, np.zeros(problem.dim), damping=10.0, gtol=0, maxiter=4)
    # On a quadratic the model's predicted decrease is the actual one (rho = 1): lambda *= 2/3 per step
    # (until the decrease is lost in rounding near the minimum).
    assert result.nit == 4 and result.damping == pytest.approx(10.0 * (2 / 3) ** 4, rel=1e-12)
    adaptive = gauss_newton(problem, np.zeros(problem.dim), damping=10.0, gtol=1e-6)
    fixed = gauss_newton(problem, np.zeros(problem.dim), damping=10.0, adapt_damping=False, gtol=1e-6)
    assert adaptive.success and fixed.success and fixed.damping == 10.0 and fixed.nit > adaptive.nit


def test_gauss_newton_fits_an_exponential_like_scipy_least_squares():
    t = np.linspace(0, 2, 30)
    observed = 2.0 * np.exp(-1.3 * t) + 0.05 * np.random.default_rng(3).standard_normal(30)

    def residuals(x):
        return x[0] * np.exp(x[1] * t) - observed

    def jacobian(x):
        return np.column_stack([np.exp(x[1] * t), x[0] * t * np.exp(x[1] * t)])

    result = gauss_newton(lambda x: 0.5 * residuals(x) @ residuals(x), np.array([1.0, 0.0]),
                          grad=lambda x: jacobian(x).T @ residuals(x),
                          gnvp=lambda x, v: jacobian(x).T @ (jacobian(x) @ v), gtol=1e-10)
    reference = least_squares(residuals, [1.0, 0.0], jac=jacobian, method="lm", xtol=1e-15, ftol=1e-15)
    assert result.success and result.negative_curvature == 0
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-9)


def test_gauss_newton_and_newton_cg_on_softmax_regression_reach_newtons_minimizer():
    X, y = spiral_data(20, 3, seed=2)
    regression = Network(X, y, hidden=(), l2=1e-2)  # convex, and G = H: the logits are linear
    x0 = regression.init_params(seed=0)
    exact = newton(regression, x0, gtol=1e-12)
    for method in (newton_cg, gauss_newton):
        result = method(regression, x0, gtol=1e-10)
        assert result.success and result.negative_curvature == 0
        np.testing.assert_allclose(result.x, exact.x, atol=1e-8)


def test_on_a_network_gauss_newton_never_meets_negative_curvature_and_newton_cg_does():
    X, y = spiral_data(30, 3, seed=0)
    net = Network(X, y, hidden=(8,))
    x0 = net.init_params(seed=1)
    hf, gn = newton_cg(net, x0, maxiter=30), gauss_newton(net, x0, maxiter=30)
    assert hf.negative_curvature > 0 and gn.negative_curvature == 0
    for result in (hf, gn):
        assert result.fun < 0.5 * net.loss(x0) and result.nhvp == sum(result.cg_iterations)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: newton_cg(p, np.zeros(3)), "hessian_vector_product"),
        (lambda p: gauss_newton(p, np.zeros(3)), "gauss_newton_vector_product"),
        (lambda p: newton_cg(p, np.zeros(3), hessp="H"), "hessp"),
        (lambda p: newton_cg(p, np.zeros(3), hessp=lambda x, v: v[:2]), "hessp returned shape"),
        (lambda p: gauss_newton(p, np.zeros(3), gnvp=lambda x, v: v, damping=-1), "damping"),
        (lambda p: newton_cg(p, np.zeros(3), hessp=lambda x, v: v, forcing=1.0), "forcing"),
        (lambda p: newton_cg(p, np.zeros(3), hessp=lambda x, v: v, forcing=0), "forcing"),
        (lambda p: newton_cg(p, np.zeros(3), hessp=lambda x, v: v, cg_maxiter=0), "cg_maxiter"),
        (lambda p: newton_cg(p, np.zeros(3), hessp=lambda x, v: v, maxiter=-1), "maxiter"),
        (lambda p: newton_cg(p, [np.nan, 0, 0], hessp=lambda x, v: v), "finite"),
        (lambda p: gauss_newton(p, np.zeros(4), gnvp=lambda x, v: v), r"x0 must have shape \(3,\)"),
        (lambda p: newton_cg(p.loss, np.zeros(3), hessp=lambda x, v: v), "grad must be given"),
        (lambda p: gauss_newton(p, np.zeros(3), gnvp=lambda x, v: v, damping=0.0), "adapt_damping"),
        (lambda p: gauss_newton(p, np.zeros(3), gnvp=lambda x, v: v, damping=np.nan), "damping"),
        (lambda p: truncated_cg(lambda d: d, np.ones(3), tolerance=-1.0, maxiter=5), "tolerance"),
        (lambda p: truncated_cg(lambda d: d, np.ones(3), tolerance=0.1, maxiter=0), "maxiter"),
    ],
)
def test_truncated_newton_bad_input_raises_a_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call(Rosenbrock(3))
