"""Closed-form facts about optimizers on quadratics, and rates measured from trajectories.

On f(x) = 1/2 x^T H x with eigenvalues mu = lambda_min <= ... <= lambda_max = L and kappa = L / mu:

* gradient descent is stable for 0 < alpha < 2 / L; with alpha = 2 / (L + mu) the distance to the
  minimizer contracts by (kappa - 1) / (kappa + 1) per step;
* heavy-ball momentum (x -= alpha v, v = beta v + grad) is stable for 0 < alpha lambda < 2 + 2 beta;
  with alpha = 4 / (sqrt L + sqrt mu)^2 and beta = ((sqrt kappa - 1) / (sqrt kappa + 1))^2 it
  contracts by (sqrt kappa - 1) / (sqrt kappa + 1);
* Nesterov with alpha = 1 / L and rho = (sqrt kappa - 1) / (sqrt kappa + 1) contracts by 1 - 1/sqrt kappa.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from course_lib import validate


def _eigenvalues(hessian):
    hessian = np.asarray(hessian, dtype=float)
    if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1]:
        raise ValueError(f"hessian must be a square matrix, got shape {hessian.shape}")
    return np.linalg.eigvalsh((hessian + hessian.T) / 2)


def condition_number(hessian):
    """kappa = largest / smallest singular value of the Hessian (inf if it is singular)."""
    singular_values = np.linalg.svd(np.asarray(hessian, dtype=float), compute_uv=False)
    return np.inf if singular_values[-1] == 0 else singular_values[0] / singular_values[-1]


def max_stable_learning_rate(hessian):
    """Gradient descent on a convex quadratic diverges for learning rates above 2 / lambda_max."""
    lam_max = _eigenvalues(hessian)[-1]
    if lam_max <= 0:
        raise ValueError("the Hessian has no positive eigenvalue: no step size makes GD converge")
    return 2.0 / lam_max


def _check_curvatures(L, mu):
    if not (0 < mu <= L):
        raise ValueError(f"need 0 < mu <= L, got mu={mu}, L={L}")
    return np.sqrt(L / mu)


def gd_optimal(L, mu):
    """(learning_rate, rate) of gradient descent tuned for eigenvalues in [mu, L]."""
    kappa = _check_curvatures(L, mu) ** 2
    return 2.0 / (L + mu), (kappa - 1) / (kappa + 1)


def heavy_ball_optimal(L, mu):
    """(learning_rate, rho, rate) of heavy-ball momentum tuned for eigenvalues in [mu, L]."""
    root_kappa = _check_curvatures(L, mu)
    rate = (root_kappa - 1) / (root_kappa + 1)
    return 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2, rate**2, rate


def nesterov_optimal(L, mu):
    """(learning_rate, rho, rate) of Nesterov momentum for a strongly convex quadratic."""
    root_kappa = _check_curvatures(L, mu)
    return 1.0 / L, (root_kappa - 1) / (root_kappa + 1), 1 - 1 / root_kappa


def momentum_stable(learning_rate, rho, eigenvalue):
    """Heavy ball on one eigen-direction converges iff 0 < learning_rate * eigenvalue < 2 + 2 rho."""
    return 0 < learning_rate * eigenvalue < 2 + 2 * rho


def momentum_contraction(learning_rate, rho, eigenvalue):
    """Spectral radius of heavy ball's 2x2 iteration matrix on one eigen-direction.

    The error obeys e_{k+1} = (1 + rho - learning_rate * eigenvalue) e_k - rho e_{k-1}; with complex
    roots the contraction is sqrt(rho), whatever the eigenvalue.
    """
    a = 1 + rho - learning_rate * eigenvalue
    return float(np.max(np.abs(np.roots([1.0, -a, rho]))))


def measured_rate(points, minimizer, skip=0):
    """Average contraction of |x_k - x*| per step, measured over points[skip:].

    It is the geometric mean of the ratios of successive distances: (d_end / d_skip)^(1/steps).
    """
    points = np.asarray(points, dtype=float)
    distances = np.linalg.norm(points - np.asarray(minimizer, dtype=float), axis=-1)
    window = distances[skip:]
    if len(window) < 2:
        raise ValueError("need at least two points after `skip` to measure a rate")
    if window[-1] == 0 or window[0] == 0:
        raise ValueError("the trajectory reached the minimizer exactly; measure over fewer steps")
    return float((window[-1] / window[0]) ** (1.0 / (len(window) - 1)))


def goe_positive_definite_probability(n):
    """P(all eigenvalues > 0) for an n x n matrix from the Gaussian orthogonal ensemble.

    GOE: (A + A^T) / 2 with A standard Gaussian (diagonal N(0, 1), off-diagonal N(0, 1/2)); its
    eigenvalues have density proportional to prod_{i<j} |l_i - l_j| prod_i exp(-l_i^2 / 2).
    The integral of that density over l > 0 and over all of R^n are both Pfaffians (de Bruijn, 1955)
    of skew matrices a_jk = int int_{x<y} (x^j y^k - x^k y^j) w(x) w(y), bordered by the moments
    int x^j w when n is odd; the probability is the ratio, sqrt(det_+ / det_all). It falls like
    exp(-theta n^2) with theta -> ln(3) / 4 (Dean & Majumdar, 2006): faster than exponentially.
    """
    n = validate.count("n", n, 1)
    nodes, weights = np.polynomial.legendre.leggauss(200)
    j = np.arange(n)[:, None]
    # int_0^b x^j exp(-x^2/2) dx = c_j * P((j+1)/2, b^2/2), P the regularized lower incomplete gamma
    c = 2 ** ((j - 1) / 2) * special.gamma((j + 1) / 2)

    def skew_determinant(lower):
        a = max(lower, -12.0)  # exp(-72) is far below float64's resolution of these integrals
        y = a + (12.0 - a) * (nodes + 1) / 2
        w = weights * (12.0 - a) / 2 * np.exp(-y * y / 2)
        partial = special.gammainc((j + 1) / 2, y * y / 2)
        tail = c * (1 + np.where(y >= 0, -1.0, (-1.0) ** j) * partial)  # int_y^inf x^j w(x) dx
        tail_lower = c * (1 + (-1.0) ** j) if lower == -np.inf else c
        cumulative = tail_lower - tail  # int_lower^y x^j w(x) dx, one row per j
        moments = (cumulative * w) @ (y**j).T
        skew = moments - moments.T
        if n % 2:
            col = tail_lower[:, :1]
            skew = np.block([[skew, col], [-col.T, np.zeros((1, 1))]])
        return np.linalg.det(skew)

    return float(np.sqrt(skew_determinant(0.0) / skew_determinant(-np.inf)))
