"""Gradients and Hessians of every loss surface against finite differences; minimizers are minima."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from course_lib import problems as P

PROBLEMS = [
    P.Quadratic.with_condition_number(50.0, angle=0.4),
    P.Quadratic.with_condition_number(1e3, dim=6, seed=3),
    P.Quadratic(np.array([[2.0, 0.5], [0.5, 1.0]]), center=[1.0, -2.0]),
    P.SaddleQuadratic(),
    P.SaddleQuadratic(1.0, 1.0),
    P.MonkeySaddle(),
    P.Rosenbrock(2),
    P.Rosenbrock(7),
    P.Beale(),
    P.WigglyWell(),
    P.LeastSquares(num_examples=60, dim=3, feature_scales=[1.0, 3.0, 0.3]),
    P.LogisticRegression(num_examples=80, dim=4),
]


def points(problem, count=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, problem.dim) for _ in range(count)]


def central_difference(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


@pytest.mark.parametrize("problem", PROBLEMS, ids=repr)
def test_gradient_matches_finite_differences(problem):
    for x in points(problem):
        numeric = central_difference(problem.loss, x)
        assert np.allclose(problem.grad(x), numeric, rtol=1e-6, atol=1e-6 * (1 + np.abs(numeric).max()))


@pytest.mark.parametrize("problem", PROBLEMS, ids=repr)
def test_hessian_matches_finite_differences_of_gradient(problem):
    for x in points(problem, seed=1):
        numeric = central_difference(problem.grad, x).T
        H = problem.hessian(x)
        assert np.allclose(H, H.T)
        assert np.allclose(H, numeric, rtol=1e-6, atol=1e-5 * (1 + np.abs(numeric).max()))


@pytest.mark.parametrize("problem", [p for p in PROBLEMS if p.minimizer is not None], ids=repr)
def test_minimizer_is_a_minimum(problem):
    x = problem.minimizer
    assert np.linalg.norm(problem.grad(x)) < 1e-8 * (1 + abs(problem.loss(x)))
    assert np.linalg.eigvalsh(problem.hessian(x)).min() > 0
    for y in points(problem, count=20, seed=2):
        assert problem.loss(y) >= problem.loss(x) - 1e-12


def test_saddles_have_no_minimizer_and_mixed_curvature():
    for problem in (P.SaddleQuadratic(), P.MonkeySaddle()):
        assert problem.minimizer is None
        assert np.allclose(problem.grad(np.zeros(2)), 0)
    assert np.linalg.eigvalsh(P.SaddleQuadratic(5, 1).hessian(np.zeros(2))).tolist() == [-2.0, 10.0]
    assert np.allclose(P.MonkeySaddle().hessian(np.zeros(2)), 0)  # degenerate: a monkey saddle


def test_quadratic_condition_number_and_rotation():
    q = P.Quadratic.with_condition_number(100.0, angle=np.pi / 6)
    assert np.isclose(np.linalg.cond(q.H), 100.0)
    shallow = np.linalg.eigh(q.H)[1][:, 0]
    assert np.isclose(abs(shallow @ [np.cos(np.pi / 6), np.sin(np.pi / 6)]), 1.0)


def test_wiggly_well_has_several_local_minima():
    w = P.WigglyWell()
    assert len(w.local_minima) >= 4
    for m in w.local_minima:
        assert abs(w.grad(np.array([m]))[0]) < 1e-10 and w.hessian(np.array([m]))[0, 0] > 0
    values = [w.loss(np.array([m])) for m in w.local_minima]
    assert np.isclose(min(values), w.loss(w.minimizer))


@pytest.mark.parametrize("problem", [PROBLEMS[-2], PROBLEMS[-1]], ids=repr)
def test_finite_sum_structure(problem):
    x = points(problem, count=1)[0]
    assert np.isclose(problem.loss(x), problem.per_example_losses(x).mean())
    assert np.allclose(problem.grad(x), problem.per_example_grads(x).mean(axis=0))
    idx = np.array([3, 7, 11])
    expected = np.mean([approx_fprime(x, lambda z, i=i: problem.per_example_losses(z)[i], 1e-7)
                        for i in idx], axis=0)
    assert np.allclose(problem.minibatch_grad(x, idx), expected, atol=1e-5)


def test_logistic_regression_minimizer_matches_scipy():
    from scipy.optimize import minimize

    problem = P.LogisticRegression(num_examples=100, dim=5, seed=4)
    result = minimize(problem.loss, np.zeros(5), jac=problem.grad, method="BFGS", options={"gtol": 1e-10})
    assert np.allclose(result.x, problem.minimizer, atol=1e-6)


def test_rosenbrock_standard_start_and_minimum():
    assert P.Rosenbrock.standard_start(5).tolist() == [-1.2, 1.0, -1.2, 1.0, -1.2]
    assert P.Rosenbrock(5).loss(np.ones(5)) == 0.0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: P.Quadratic([[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (lambda: P.Quadratic(np.ones(3)), "square"),
        (lambda: P.Quadratic.with_condition_number(0.5), "kappa"),
        (lambda: P.Rosenbrock(1), "dim"),
        (lambda: P.SaddleQuadratic(-1, 1), "a must be a finite number > 0"),
        (lambda: P.SaddleQuadratic(5, 0), "b must be a finite number > 0"),
        (lambda: P.Rosenbrock(2.5), "dim must be an integer"),
        (lambda: P.LeastSquares(num_examples=0), "num_examples"),
        (lambda: P.LogisticRegression(l2=0), "l2"),
        (lambda: P.LeastSquares(dim=2, feature_scales=[1, 2, 3]), "feature_scales"),
        (lambda: P.Rosenbrock(3).loss(np.zeros(2)), "shape"),
        (lambda: P.LeastSquares().minibatch_grad(np.zeros(2), [0, 500]), "indices"),
    ],
)
def test_bad_input_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_saddle_name_reads_as_a_lecturer_writes_it():
    assert P.SaddleQuadratic(5, 1).name == "5x² − y²"
    assert P.SaddleQuadratic(1, 2.5).name == "x² − 2.5y²"
