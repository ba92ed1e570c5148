"""Random smooth Gaussian landscapes and their critical points, found numerically.

``RandomLandscape`` is a seeded random function on R^n built from random Fourier features,

    f(x) = sum_j (a_j cos(w_j . x) + c_j sin(w_j . x)),   a_j, c_j ~ N(0, 1/M),  w_j ~ N(0, I / l^2),

for M features. Over the draw of the coefficients it is a stationary Gaussian field with covariance
E f(x) f(y) = exp(-|x - y|^2 / (2 l^2)) on average over the frequencies (Rahimi & Recht 2007): the
isotropic landscape of Bray & Dean (2007), in a dimension small enough to find its critical points.

For that field (l = 1) the value and the Hessian at a point are correlated: given f(x) = u, the
Hessian is -u I + M with M a symmetric Gaussian matrix (Var M_ii = 2, Var M_ij = 1): sqrt(2) times
a GOE matrix, whose eigenvalues fill [-2 sqrt(n), 2 sqrt(n)] for large n. The higher the value, the
further the spectrum is shifted down, and the more directions lead down (Bray & Dean 2007).

``find_critical_points`` runs Newton's method on the gradient, x <- x - H^-1 grad f(x) (with the step
length capped), from many starts at once. Newton's method is attracted to every critical point, not
only minima, which is what a census of critical points needs. ``index`` is the fraction of negative
Hessian eigenvalues, ``semicircle_index`` its large-n prediction from the semicircle law, and
``rank_correlation`` (Spearman's) measures how consistently the index rises with the loss.

This module is pure math: numpy only, no plotting.
"""

from __future__ import annotations

import numpy as np

from course_lib import validate
from course_lib.problems import Problem


class RandomLandscape(Problem):
    """A seeded random smooth function on R^dim (random Fourier features; see the module docstring).

    ``loss``, ``grad`` and ``hessian`` take one point of shape (dim,); ``values``, ``gradients`` and
    ``hessians`` take a batch of points of shape (count, dim). ``minimizer`` is None: the landscape
    has many local minima and no known global one.
    """

    def __init__(self, dim, num_features=256, length_scale=1.0, seed=0):
        self.dim = validate.count("dim", dim, 1)
        self.num_features = validate.count("num_features", num_features, 1)
        self.length_scale = validate.positive("length_scale", length_scale)
        rng = np.random.default_rng(seed)
        self.frequencies = rng.standard_normal((self.num_features, self.dim)) / self.length_scale
        self.cos_weights = rng.standard_normal(self.num_features) / np.sqrt(self.num_features)
        self.sin_weights = rng.standard_normal(self.num_features) / np.sqrt(self.num_features)
        self.name = f"random landscape (dim={self.dim}, seed={seed})"

    def _batch(self, points):
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != self.dim:
            raise ValueError(f"{self.name}: points must have shape (count, {self.dim}), got {points.shape}")
        phases = points @ self.frequencies.T  # (count, M)
        return np.cos(phases), np.sin(phases)

    def values(self, points):
        cos, sin = self._batch(points)
        return cos @ self.cos_weights + sin @ self.sin_weights

    def gradients(self, points):
        cos, sin = self._batch(points)
        return (cos * self.sin_weights - sin * self.cos_weights) @ self.frequencies

    def hessians(self, points):
        return self.gradients_and_hessians(points)[1]

    def gradients_and_hessians(self, points):
        """Both at once, from one evaluation of the features (what Newton's method needs)."""
        cos, sin = self._batch(points)
        gradients = (cos * self.sin_weights - sin * self.cos_weights) @ self.frequencies
        curvature = -(cos * self.cos_weights + sin * self.sin_weights)  # (count, M): d²/dphase² of each term
        # H = W^T diag(curvature) W for every point, as one batched matrix product
        return gradients, np.matmul(self.frequencies.T[None] * curvature[:, None, :], self.frequencies)

    def loss(self, x):
        return float(self.values(self._check(x)[None])[0])

    def grad(self, x):
        return self.gradients(self._check(x)[None])[0]

    def hessian(self, x):
        return self.hessians(self._check(x)[None])[0]


def semicircle_index(level):
    """The index predicted by the semicircle law: the fraction of a large GOE spectrum below ``level``.

    ``level`` is measured in units of the spectrum's half-width (sqrt(2n) for the course's GOE, 2 sqrt(n)
    for sqrt(2) times it): F(l) = 1/2 + (l sqrt(1 - l^2) + arcsin l) / pi, 0 below -1 and 1 above 1.
    The index of G - l R I, with R the half-width of G's spectrum, is F(l) for large n.
    """
    level = np.clip(np.asarray(level, dtype=float), -1.0, 1.0)
    return 0.5 + (level * np.sqrt(1 - level**2) + np.arcsin(level)) / np.pi


def index(hessians):
    """The index of a critical point: the fraction of its Hessian's eigenvalues that are negative.

    0 for a minimum, 1 for a maximum, in between for a saddle. Accepts one (n, n) matrix or a stack.
    """
    hessians = np.asarray(hessians, dtype=float)
    if hessians.ndim < 2 or hessians.shape[-1] != hessians.shape[-2]:
        raise ValueError(f"hessians must be square matrices, got shape {hessians.shape}")
    return np.mean(np.linalg.eigvalsh(hessians) < 0, axis=-1)


def find_critical_points(landscape, starts, num_iterations=50, max_step=0.5, tol=1e-10, merge_distance=1e-6):
    """Critical points of ``landscape`` by Newton's method on its gradient, from every start at once.

    Each start iterates x <- x - s H^-1 grad f(x), with s <= 1 chosen so that the step is at most
    ``max_step`` long, until |grad f| < ``tol`` or ``num_iterations`` steps. Runs that end with
    |grad f| >= tol (or a singular Hessian) are dropped, and points closer than ``merge_distance``
    count once. Returns (points, gradient norms), the points sorted by value.
    """
    points = np.array(starts, dtype=float)
    if points.ndim != 2 or points.shape[1] != landscape.dim:
        raise ValueError(f"starts must have shape (count, {landscape.dim}), got {points.shape}")
    num_iterations = validate.count("num_iterations", num_iterations, 0)
    max_step, tol = validate.positive("max_step", max_step), validate.positive("tol", tol)
    active = np.arange(len(points))
    for _ in range(num_iterations):
        grads, hessians = landscape.gradients_and_hessians(points[active])
        moving = np.linalg.norm(grads, axis=1) >= tol
        active, grads, hessians = active[moving], grads[moving], hessians[moving]
        if not len(active):
            break
        solvable = np.abs(np.linalg.det(hessians)) > 1e-300
        active, grads, hessians = active[solvable], grads[solvable], hessians[solvable]
        steps = np.linalg.solve(hessians, grads[..., None])[..., 0]
        lengths = np.linalg.norm(steps, axis=1, keepdims=True)
        points[active] -= steps * np.minimum(1.0, max_step / np.maximum(lengths, 1e-300))
    norms = np.linalg.norm(landscape.gradients(points), axis=1)
    found = np.isfinite(norms) & (norms < tol)
    points, norms = points[found], norms[found]
    distinct = []
    for k, x in enumerate(points):
        if not distinct or np.min(np.linalg.norm(points[distinct] - x, axis=1)) > merge_distance:
            distinct.append(k)
    points, norms = points[distinct], norms[distinct]
    order = np.argsort(landscape.values(points)) if len(points) else np.arange(0)
    return points[order], norms[order]


def _average_ranks(values):
    """Ranks 0, 1, ... of ``values``; tied values share the mean of their ranks."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    _, group, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(group, weights=ranks)
    return sums[group] / counts[group]


def rank_correlation(x, y):
    """Spearman's rank correlation: the correlation of the ranks (ties share their mean rank).

    +1 when y grows with x in any monotone way, 0 when the order of one says nothing of the other.
    The same number as scipy.stats.spearmanr, without its import time.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(f"x and y must be 1-D of the same length >= 2, got {x.shape} and {y.shape}")
    return float(np.corrcoef(_average_ranks(x), _average_ranks(y))[0, 1])
