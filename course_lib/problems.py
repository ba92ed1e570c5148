"""Loss surfaces used throughout the course.

Every problem has an exact ``loss(x)``, ``grad(x)`` and ``hessian(x)`` on a numpy vector ``x`` of
shape ``(dim,)``, a ``name``, and ``minimizer`` (the known global minimizer, or ``None`` when the
function is unbounded below). Finite-sum problems also expose per-example losses and a minibatch
gradient, as in the lecture's  L(W) = (1/N) sum_i L_i(W).

This module is pure math: numpy and scipy only, no plotting.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from course_lib import validate


class Problem:
    """Base class: shape checking and the shared interface."""

    name = "problem"
    dim = 2
    minimizer: np.ndarray | None = None

    def _check(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape != (self.dim,):
            raise ValueError(f"{self.name}: x must have shape ({self.dim},), got {x.shape}")
        return x

    def loss(self, x) -> float:
        raise NotImplementedError

    def grad(self, x) -> np.ndarray:
        raise NotImplementedError

    def hessian(self, x) -> np.ndarray:
        raise NotImplementedError

    def loss_grid(self, X, Y) -> np.ndarray:
        """The loss on a 2-D grid (for contour plots); vectorised where a subclass defines ``_loss_xy``."""
        if self.dim != 2:
            raise ValueError(f"{self.name} is {self.dim}-D; a loss grid needs a 2-D problem")
        if hasattr(self, "_loss_xy"):
            return self._loss_xy(np.asarray(X, float), np.asarray(Y, float))
        return np.vectorize(lambda a, b: self.loss(np.array([a, b])))(X, Y)

    @property
    def min_loss(self) -> float | None:
        return None if self.minimizer is None else self.loss(self.minimizer)

    def __repr__(self) -> str:
        return f"<{self.name}>"


class Quadratic(Problem):
    """f(x) = 1/2 (x - c)^T H (x - c) with a symmetric positive (semi)definite Hessian H."""

    def __init__(self, hessian, center=None, name="quadratic"):
        hessian = np.array(hessian, dtype=float)
        if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1]:
            raise ValueError(f"hessian must be a square matrix, got shape {hessian.shape}")
        if not np.allclose(hessian, hessian.T):
            raise ValueError("hessian must be symmetric")
        self.H = hessian
        self.dim = hessian.shape[0]
        self.center = np.zeros(self.dim) if center is None else np.array(center, dtype=float)
        if self.center.shape != (self.dim,):
            raise ValueError(f"center must have shape ({self.dim},), got {self.center.shape}")
        self.eigenvalues = np.linalg.eigvalsh(self.H)
        self.minimizer = self.center.copy() if self.eigenvalues[0] > 0 else None
        self.name = name

    @classmethod
    def with_condition_number(cls, kappa, dim=2, angle=0.0, lambda_min=1.0, seed=0):
        """A bowl with eigenvalues from lambda_min to kappa * lambda_min.

        In 2-D the shallow direction (eigenvalue lambda_min) points at ``angle`` radians from the x-axis
        and the steep one is perpendicular to it; in higher dimension the
        eigenvalues are log-spaced and the eigenvectors a seeded random rotation.
        """
        if not validate.positive("kappa", kappa) >= 1:
            raise ValueError(f"kappa must be >= 1, got {kappa}")
        validate.positive("lambda_min", lambda_min)
        eigenvalues = lambda_min * np.logspace(0, np.log10(kappa), dim)
        if dim == 2:
            c, s = np.cos(angle), np.sin(angle)
            rotation = np.array([[c, -s], [s, c]])
        else:
            rng = np.random.default_rng(seed)
            rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        hessian = rotation @ np.diag(eigenvalues) @ rotation.T
        return cls((hessian + hessian.T) / 2, name=f"quadratic (kappa={kappa:g}, dim={dim})")

    def loss(self, x):
        d = self._check(x) - self.center
        return 0.5 * float(d @ self.H @ d)

    def _loss_xy(self, X, Y):
        dx, dy = X - self.center[0], Y - self.center[1]
        return 0.5 * (self.H[0, 0] * dx**2 + 2 * self.H[0, 1] * dx * dy + self.H[1, 1] * dy**2)

    def grad(self, x):
        return self.H @ (self._check(x) - self.center)

    def hessian(self, x):
        self._check(x)
        return self.H.copy()


def _coefficient(value):
    """A coefficient as a lecturer writes it: 5x², but x² rather than 1x²."""
    return "" if value == 1 else f"{value:g}"


class SaddleQuadratic(Problem):
    """f(x, y) = a x^2 - b y^2: a saddle at the origin (Dauphin et al. use a=5, b=1)."""

    def __init__(self, a=5.0, b=1.0):
        self.a, self.b = validate.positive("a", a), validate.positive("b", b)
        self.name = f"{_coefficient(a)}x² − {_coefficient(b)}y²"

    def loss(self, x):
        return float(self._loss_xy(*self._check(x)))

    def _loss_xy(self, x, y):
        return self.a * x**2 - self.b * y**2

    def grad(self, x):
        x, y = self._check(x)
        return np.array([2 * self.a * x, -2 * self.b * y])

    def hessian(self, x):
        self._check(x)
        return np.diag([2 * self.a, -2 * self.b])


class MonkeySaddle(Problem):
    """f(x, y) = x^3 - 3 x y^2: a degenerate saddle (zero Hessian) at the origin."""

    name = "monkey saddle x³ − 3xy²"

    def loss(self, x):
        return float(self._loss_xy(*self._check(x)))

    def _loss_xy(self, x, y):
        return x**3 - 3 * x * y**2

    def grad(self, x):
        x, y = self._check(x)
        return np.array([3 * x**2 - 3 * y**2, -6 * x * y])

    def hessian(self, x):
        x, y = self._check(x)
        return np.array([[6 * x, -6 * y], [-6 * y, -6 * x]])


class Rosenbrock(Problem):
    """f(x) = sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2, minimised at x = (a, a^2, ...) = 1."""

    def __init__(self, dim=2, a=1.0, b=100.0):
        self.dim, self.a, self.b = validate.count("dim", dim, 2), float(a), float(b)
        self.minimizer = np.ones(self.dim) if a == 1.0 else None
        self.name = f"Rosenbrock (n={dim})"

    @staticmethod
    def standard_start(dim):
        """The classic starting point (-1.2, 1, -1.2, 1, ...)."""
        return np.where(np.arange(dim) % 2 == 0, -1.2, 1.0)

    def loss(self, x):
        x = self._check(x)
        return float(np.sum(self.b * (x[1:] - x[:-1] ** 2) ** 2 + (self.a - x[:-1]) ** 2))

    def _loss_xy(self, x, y):
        return self.b * (y - x**2) ** 2 + (self.a - x) ** 2

    def grad(self, x):
        x = self._check(x)
        inner = x[1:] - x[:-1] ** 2
        g = np.zeros_like(x)
        g[:-1] = -4 * self.b * x[:-1] * inner - 2 * (self.a - x[:-1])
        g[1:] += 2 * self.b * inner
        return g

    def hessian(self, x):
        x = self._check(x)
        diag = np.zeros_like(x)
        diag[:-1] = 12 * self.b * x[:-1] ** 2 - 4 * self.b * x[1:] + 2
        diag[1:] += 2 * self.b
        off = -4 * self.b * x[:-1]
        return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


class Beale(Problem):
    """f(x, y) = sum_{i=1..3} (c_i - x + x y^i)^2 with c = (1.5, 2.25, 2.625); minimum 0 at (3, 0.5)."""

    name = "Beale"
    c = np.array([1.5, 2.25, 2.625])
    powers = np.array([1, 2, 3])

    def __init__(self):
        self.minimizer = np.array([3.0, 0.5])

    def _residuals(self, x):
        x, y = self._check(x)
        r = self.c - x + x * y**self.powers
        dr_dx = y**self.powers - 1
        dr_dy = self.powers * x * y ** (self.powers - 1)
        return x, y, r, dr_dx, dr_dy

    def loss(self, x):
        return float(np.sum(self._residuals(x)[2] ** 2))

    def _loss_xy(self, x, y):
        return sum((c - x + x * y**i) ** 2 for c, i in zip(self.c, self.powers, strict=True))

    def grad(self, x):
        _, _, r, dr_dx, dr_dy = self._residuals(x)
        return 2 * np.array([r @ dr_dx, r @ dr_dy])

    def hessian(self, x):
        x, y, r, dr_dx, dr_dy = self._residuals(x)
        i = self.powers
        d2_xy = i * y ** (i - 1)
        d2_yy = i * (i - 1) * x * y ** np.maximum(i - 2, 0)
        hxx = 2 * np.sum(dr_dx**2)
        hxy = 2 * np.sum(dr_dx * dr_dy + r * d2_xy)
        hyy = 2 * np.sum(dr_dy**2 + r * d2_yy)
        return np.array([[hxx, hxy], [hxy, hyy]])


class WigglyWell(Problem):
    """A 1-D loss with several local minima: f(x) = x^2 / 20 + sin(2x).

    ``local_minima`` lists every local minimizer in [-8, 8]; ``minimizer`` is the global one.
    """

    name = "x²/20 + sin(2x)"
    dim = 1

    def __init__(self):
        grid = np.linspace(-8, 8, 4001)
        slope = grid / 10 + 2 * np.cos(2 * grid)
        roots = [
            brentq(lambda t: t / 10 + 2 * np.cos(2 * t), lo, hi)
            for lo, hi, s_lo, s_hi in zip(grid[:-1], grid[1:], slope[:-1], slope[1:], strict=True)
            if s_lo < 0 < s_hi
        ]
        self.local_minima = np.array(roots)
        values = self.local_minima**2 / 20 + np.sin(2 * self.local_minima)
        self.minimizer = np.array([self.local_minima[np.argmin(values)]])

    def loss(self, x):
        (x,) = self._check(x)
        return float(x**2 / 20 + np.sin(2 * x))

    def grad(self, x):
        (x,) = self._check(x)
        return np.array([x / 10 + 2 * np.cos(2 * x)])

    def hessian(self, x):
        (x,) = self._check(x)
        return np.array([[0.1 - 4 * np.sin(2 * x)]])


class FiniteSumProblem(Problem):
    """L(x) = (1/N) sum_i L_i(x) over a seeded synthetic dataset (features A, targets b).

    Subclasses define ``per_example_losses(x)`` and ``per_example_grads(x, indices)``.
    """

    def _data(self, num_examples, dim, feature_scales, seed):
        self.rng_seed = seed
        self.num_examples = validate.count("num_examples", num_examples, 1)
        self.dim = validate.count("dim", dim, 1)
        scales = np.ones(dim) if feature_scales is None else np.asarray(feature_scales, float)
        if scales.shape != (dim,):
            raise ValueError(f"feature_scales must have shape ({dim},), got {scales.shape}")
        rng = np.random.default_rng(seed)
        self.A = rng.standard_normal((num_examples, dim)) * scales
        return rng

    def _indices(self, indices):
        if indices is None:
            return slice(None)
        indices = np.asarray(indices)
        if indices.ndim != 1 or indices.size == 0:
            raise ValueError("indices must be a non-empty 1-D array of example indices")
        if indices.min() < 0 or indices.max() >= self.num_examples:
            raise ValueError(f"indices must lie in [0, {self.num_examples}), got {indices}")
        return indices

    def loss(self, x):
        return float(np.mean(self.per_example_losses(x)))

    def grad(self, x):
        return self.minibatch_grad(x, None)

    def minibatch_grad(self, x, indices):
        """(1/B) sum_{i in indices} grad L_i(x): an unbiased estimate of grad L(x)."""
        return self.per_example_grads(x, indices).mean(axis=0)


class LeastSquares(FiniteSumProblem):
    """L_i(x) = 1/2 (a_i . x - b_i)^2 with b = A x_true + noise."""

    def __init__(self, num_examples=200, dim=2, noise=0.5, feature_scales=None, seed=0):
        rng = self._data(num_examples, dim, feature_scales, seed)
        self.x_true = rng.standard_normal(dim)
        self.b = self.A @ self.x_true + noise * rng.standard_normal(num_examples)
        self.minimizer = np.linalg.lstsq(self.A, self.b, rcond=None)[0]
        self.name = f"least squares (N={num_examples}, dim={dim})"

    def per_example_losses(self, x):
        return 0.5 * (self.A @ self._check(x) - self.b) ** 2

    def per_example_grads(self, x, indices=None):
        idx = self._indices(indices)
        A = self.A[idx]
        return (A @ self._check(x) - self.b[idx])[:, None] * A

    def hessian(self, x):
        self._check(x)
        return self.A.T @ self.A / self.num_examples


class LogisticRegression(FiniteSumProblem):
    """L_i(x) = log(1 + exp(-y_i a_i . x)) + l2/2 |x|^2 with labels y_i in {-1, +1}.

    The minimizer has no closed form; ``minimizer`` is found once with Newton's method.
    """

    def __init__(self, num_examples=500, dim=10, l2=1e-2, feature_scales=None, seed=0):
        rng = self._data(num_examples, dim, feature_scales, seed)
        self.l2 = validate.positive("l2 (> 0 makes the minimizer unique)", l2)
        w = rng.standard_normal(dim)
        p = 1 / (1 + np.exp(-self.A @ w))
        self.y = np.where(rng.random(num_examples) < p, 1.0, -1.0)
        self.name = f"logistic regression (N={num_examples}, dim={dim})"
        self.minimizer = self._newton_minimizer()

    def _newton_minimizer(self):
        x = np.zeros(self.dim)
        for _ in range(50):
            step = np.linalg.solve(self.hessian(x), self.grad(x))
            x = x - step
            if np.linalg.norm(step) < 1e-14 * (1 + np.linalg.norm(x)):
                break
        return x

    def per_example_losses(self, x):
        x = self._check(x)
        return np.logaddexp(0, -self.y * (self.A @ x)) + 0.5 * self.l2 * (x @ x)

    def per_example_grads(self, x, indices=None):
        idx = self._indices(indices)
        x = self._check(x)
        A, y = self.A[idx], self.y[idx]
        sigma = 0.5 * (1 - np.tanh(0.5 * y * (A @ x)))  # = 1 / (1 + exp(y a.x)), overflow-free
        return -(y * sigma)[:, None] * A + self.l2 * x

    def hessian(self, x):
        p = 0.5 * (1 + np.tanh(0.5 * (self.A @ self._check(x))))
        weights = p * (1 - p)
        return (self.A.T * weights) @ self.A / self.num_examples + self.l2 * np.eye(self.dim)
