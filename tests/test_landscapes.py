"""course_lib.landscapes against independent checks: finite differences, every critical point of a 1-D
landscape bracketed by sign changes of f', scipy's root finder, and the covariances of the Gaussian field."""

import numpy as np
import pytest
from scipy.optimize import brentq, root

from course_lib import landscapes
from course_lib.landscapes import RandomLandscape, find_critical_points, index, rank_correlation


def central_difference(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


@pytest.mark.parametrize("dim", [1, 3, 8])
def test_gradient_and_hessian_match_finite_differences(dim):
    landscape = RandomLandscape(dim, num_features=64, length_scale=0.7, seed=dim)
    rng = np.random.default_rng(0)
    for x in rng.uniform(-2, 2, (3, dim)):
        assert np.allclose(landscape.grad(x), central_difference(landscape.loss, x), atol=1e-7)
        H = landscape.hessian(x)
        assert np.allclose(H, H.T)
        assert np.allclose(H, central_difference(landscape.grad, x).T, atol=1e-6)


def test_batched_and_single_point_agree():
    landscape = RandomLandscape(4, seed=1)
    points = np.random.default_rng(1).standard_normal((5, 4))
    assert np.allclose(landscape.values(points), [landscape.loss(x) for x in points])
    assert np.allclose(landscape.gradients(points), [landscape.grad(x) for x in points])
    assert np.allclose(landscape.hessians(points), [landscape.hessian(x) for x in points])
    with pytest.raises(ValueError, match="shape"):
        landscape.values(np.zeros(4))


def test_finds_every_critical_point_of_a_1d_landscape():
    """In 1-D the critical points are the zeros of f': bracket every sign change on a fine grid."""
    landscape = RandomLandscape(1, seed=3)
    slope = lambda t: landscape.grad([t])[0]  # noqa: E731
    grid = np.linspace(-6, 6, 6001)
    values = np.array([slope(t) for t in grid])
    zeros = np.array([brentq(slope, a, b, xtol=1e-14) for a, b, fa, fb
                      in zip(grid[:-1], grid[1:], values[:-1], values[1:], strict=True) if fa * fb < 0])
    assert len(zeros) >= 5
    points, norms = find_critical_points(landscape, np.linspace(-6, 6, 400)[:, None])
    inside = points[(points[:, 0] > -6) & (points[:, 0] < 6), 0]
    assert np.all(norms < 1e-10)
    assert np.allclose(np.sort(inside), zeros, atol=1e-9)  # the same points, none missed, none extra
    # index: 0 where f'' > 0 (a minimum), 1 where f'' < 0 (a maximum)
    curvature = np.array([landscape.hessian(x)[0, 0] for x in points])
    assert np.array_equal(index(landscape.hessians(points)), (curvature < 0).astype(float))


def test_critical_points_agree_with_scipy_root_and_are_distinct():
    landscape = RandomLandscape(6, seed=5)
    points, norms = find_critical_points(landscape, np.random.default_rng(5).uniform(-2, 2, (200, 6)))
    assert len(points) > 50 and np.all(norms < 1e-10)
    values = landscape.values(points)
    assert np.all(np.diff(values) >= 0)  # sorted by value
    gaps = np.linalg.norm(points[:, None] - points[None], axis=-1) + np.eye(len(points))
    assert gaps.min() > 1e-6
    for x in points[::10]:  # an independent root finder, started nearby, lands on the same point
        solution = root(landscape.grad, x + 1e-3, jac=landscape.hessian, tol=1e-13)
        assert solution.success and np.allclose(solution.x, x, atol=1e-8)


def test_index_of_known_matrices():
    assert index(np.diag([1.0, 2.0])) == 0 and index(np.diag([-1.0, -2.0])) == 1
    assert np.array_equal(index(np.array([np.diag([1.0, -1.0, 2.0, -3.0]), np.eye(4)])), [0.5, 0.0])
    with pytest.raises(ValueError, match="square"):
        index(np.zeros((2, 3)))


def test_value_and_hessian_covariances_are_those_of_the_isotropic_field():
    """Over many draws (unit length scale): Var f = 1; given f = u, E[H] = -u I and H + u I has the
    variances of sqrt(2) times a GOE matrix (2 on the diagonal, 1 off it, uncorrelated diagonals)."""
    dim, draws = 3, 4000
    x = np.array([0.3, -0.5, 0.8])
    samples = []
    for seed in range(draws):
        landscape = RandomLandscape(dim, num_features=128, seed=seed)
        samples.append((landscape.loss(x), landscape.hessian(x)))
    f = np.array([s[0] for s in samples])
    H = np.array([s[1] for s in samples])
    assert abs(f.var() - 1) < 0.1
    for i in range(dim):
        slope = np.cov(f, H[:, i, i])[0, 1] / f.var()
        assert abs(slope + 1) < 0.1, slope  # E[H_ii | f = u] = -u
    residual = H + f[:, None, None] * np.eye(dim)
    assert np.allclose(residual[:, range(dim), range(dim)].var(axis=0), 2, rtol=0.12)
    off_diagonal = [residual[:, i, j].var() for i, j in ((0, 1), (0, 2), (1, 2))]
    assert np.allclose(off_diagonal, 1, rtol=0.12)
    assert abs(np.corrcoef(residual[:, 0, 0], residual[:, 1, 1])[0, 1]) < 0.1


def test_rank_correlation_equals_scipy_spearman_with_ties():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(2)
    x = rng.standard_normal(300)
    y = np.round(8 * (x + rng.standard_normal(300))) / 8  # many ties, like indices k / n
    assert np.isclose(rank_correlation(x, y), spearmanr(x, y).statistic, rtol=1e-12)
    assert rank_correlation([1, 2, 3, 4], [1, 4, 9, 16]) == pytest.approx(1)
    assert rank_correlation([1, 2, 3, 4], [2, 2, 1, 1]) == pytest.approx(-np.sqrt(0.8))
    with pytest.raises(ValueError, match="same length"):
        rank_correlation([1, 2], [1, 2, 3])


def test_semicircle_index_integrates_the_semicircle_density_and_matches_a_large_goe():
    levels = np.linspace(-1.2, 1.2, 13)
    grid = np.linspace(-1, 1, 200_001)
    density = 2 / np.pi * np.sqrt(1 - grid**2)  # the semicircle on [-1, 1], total mass 1
    cumulative = np.concatenate([[0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    assert np.allclose(landscapes.semicircle_index(levels), np.interp(levels, grid, cumulative), atol=1e-6)
    assert np.array_equal(landscapes.semicircle_index([-1.5, -1.0, 0.0, 1.0, 1.5]), [0, 0, 0.5, 1, 1])
    a = np.random.default_rng(0).standard_normal((400, 400))
    eigenvalues = np.linalg.eigvalsh((a + a.T) / 2) / np.sqrt(2 * 400)  # GOE, in units of its half-width
    sampled = [np.mean(eigenvalues < level) for level in levels]
    assert np.allclose(sampled, landscapes.semicircle_index(levels), atol=0.02)
