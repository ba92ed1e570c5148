"""A tiny fully-connected network in numpy, posed as one of the course's finite-sum problems.

The network is a multilayer perceptron with tanh hidden layers and a softmax output, trained with
the mean cross-entropy over N labelled examples plus an optional L2 penalty:

    L(x) = (1/N) sum_i L_i(x),   L_i(x) = -log softmax(f(a_i; x))[y_i] + l2/2 |x|^2

All weights and biases live in ONE flat vector ``x`` (layer by layer, weight matrix then bias), so
every optimizer of the course (``opt.step(x, dx)``), ``course_lib.optim.run`` (also with
``batch_size``) and the second-order tools work on it unchanged.

Derivatives are exact: the gradient by backpropagation, Hessian-vector products by Pearlmutter's
R-operator (forward-mode differentiation of backpropagation), and the Hessian as the Hessian-vector
products with every unit vector. For the Gauss-Newton methods: Jacobian-vector products J v of the
logits (the same forward mode) and generalized Gauss-Newton products G v = J^T H_L J v (Schraudolph,
2002). No finite differences are involved; the tests compare them with finite differences and, when
PyTorch is installed, with ``torch.autograd``.

Also here: the classic spiral dataset, and Newton's method on the gradient for locating critical
points of any index (Dauphin et al., NIPS 2014, Figure 1).

This module is pure math: numpy only, no plotting.
"""

from __future__ import annotations

import numpy as np

from course_lib import validate
from course_lib.problems import FiniteSumProblem


def spiral_data(num_per_class=100, num_classes=3, noise=0.2, seed=0):
    """The classic spiral dataset: ``num_classes`` interleaved arms in the plane.

    Arm k has points r (sin t, cos t) with radius r evenly spaced in [0, 1] and angle
    t = 4k + 4r + noise * N(0, 1). Returns features ``X`` of shape (N, 2) and integer labels ``y``.
    """
    num_per_class = validate.count("num_per_class", num_per_class, 1)
    num_classes = validate.count("num_classes", num_classes, 2)
    validate.nonnegative("noise", noise)
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.0, 1.0, num_per_class), num_classes)
    y = np.repeat(np.arange(num_classes), num_per_class)
    angle = 4.0 * y + 4.0 * radius + noise * rng.standard_normal(radius.size)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return X, y


class Network(FiniteSumProblem):
    """A tanh MLP with softmax cross-entropy on a labelled dataset; parameters in one flat vector.

    ``Network(X, y, hidden=(16,))`` builds layers of sizes (features, 16, classes). Layer l computes
    z_l = a_{l-1} W_l + b_l, with a_l = tanh(z_l) for hidden layers; the last z is the logits.
    ``hidden=()`` is softmax regression (convex); ``l2`` adds l2/2 |x|^2 to every L_i.
    """

    def __init__(self, X, y, hidden=(16,), l2=0.0, num_classes=None, name=None):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"X must be a non-empty (N, features) array, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or inf")
        if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise ValueError(f"y must hold {X.shape[0]} integer class labels >= 0, got {y.dtype} {y.shape}")
        hidden = (hidden,) if np.ndim(hidden) == 0 else tuple(hidden)
        hidden = tuple(validate.count("hidden layer width", h, 1) for h in hidden)
        self.l2 = validate.nonnegative("l2", l2)
        num_classes = validate.count("num_classes", int(y.max()) + 1 if num_classes is None else num_classes,
                                     max(2, int(y.max()) + 1))
        self.X, self.y = X, y
        self.num_examples = X.shape[0]
        self.layer_sizes = (X.shape[1], *hidden, num_classes)
        self.shapes = [(m, n) for m, n in zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True)]
        self.dim = sum(m * n + n for m, n in self.shapes)
        self.targets = np.eye(num_classes)[y]
        sizes = "-".join(map(str, self.layer_sizes))
        self.name = name or f"tanh network {sizes} ({self.dim} parameters, N={self.num_examples})"

    def init_params(self, seed=0):
        """Seeded initial parameters: W_l ~ N(0, 1/fan_in) (keeps tanh out of saturation), b_l = 0."""
        rng = np.random.default_rng(seed)
        parts = []
        for m, n in self.shapes:
            parts += [rng.standard_normal(m * n) / np.sqrt(m), np.zeros(n)]
        return np.concatenate(parts)

    def unflatten(self, x):
        """The list of (W_l, b_l) as views into the flat vector ``x``.

        ``x`` may also hold one parameter vector per row (shape (k, dim)); each W_l and b_l then
        get that leading axis.
        """
        x = np.asarray(x, dtype=float)
        if x.ndim not in (1, 2) or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape ({self.dim},) or (k, {self.dim}), got {x.shape}")
        lead = x.shape[:-1]
        layers, start = [], 0
        for m, n in self.shapes:
            W = x[..., start:start + m * n].reshape(*lead, m, n)
            b = x[..., start + m * n:start + m * n + n]
            layers.append((W, b))
            start += m * n + n
        return layers

    def _forward(self, layers, A):
        """Activations [a_0 = A, a_1, ..., a_{L-1}] and the logits z_L."""
        activations = [A]
        for W, b in layers[:-1]:
            activations.append(np.tanh(activations[-1] @ W + b))
        W, b = layers[-1]
        return activations, activations[-1] @ W + b

    @staticmethod
    def _softmax(logits):
        shifted = logits - logits.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)

    def _rows(self, indices):
        idx = self._indices(indices)
        return self.X[idx], self.targets[idx]

    def logits(self, x, X=None):
        """Network outputs before the softmax, on ``X`` (default: the training features)."""
        A = self.X if X is None else np.asarray(X, dtype=float)
        if A.ndim != 2 or A.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (n, {self.layer_sizes[0]}), got {A.shape}")
        return self._forward(self.unflatten(self._check(x)), A)[1]

    def predict(self, x, X=None):
        """Predicted class labels (argmax of the logits)."""
        return np.argmax(self.logits(x, X), axis=1)

    def accuracy(self, x):
        """Fraction of training examples classified correctly."""
        return float(np.mean(self.predict(x) == self.y))

    def per_example_losses(self, x):
        x = self._check(x)
        z = self.logits(x)
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_probs[np.arange(self.num_examples), self.y] + 0.5 * self.l2 * (x @ x)

    @staticmethod
    def _pull_back(layers, activations, output_delta):
        """Backpropagate a delta at the logits to every layer: delta_{l-1} = (delta_l W_l^T)(1 - a_{l-1}^2).

        ``output_delta`` has shape (..., n, classes); a leading axis holds one delta per direction.
        """
        deltas = [output_delta]
        for (W, _), a in zip(layers[:0:-1], activations[:0:-1], strict=True):
            deltas.insert(0, (deltas[0] @ W.T) * (1 - a**2))
        return deltas

    @staticmethod
    def _parameter_sums(activations, deltas, count):
        """(1/count) [a_{l-1}^T delta_l, sum_i delta_l] of all layers, one flat vector (any leading axis)."""
        parts = []
        for a, d in zip(activations, deltas, strict=True):
            parts += [(a.T @ d).reshape(*d.shape[:-2], -1) / count, d.sum(axis=-2) / count]
        return np.concatenate(parts, axis=-1)

    def _backprop(self, x, indices):
        """Activations and the deltas dL_i/dz_l of every layer, for the selected examples."""
        layers = self.unflatten(x)
        A, T = self._rows(indices)
        activations, z = self._forward(layers, A)
        return activations, self._pull_back(layers, activations, self._softmax(z) - T)

    def minibatch_grad(self, x, indices):
        """(1/B) sum over the minibatch of grad L_i(x), by backpropagation (all examples if None)."""
        x = self._check(x)
        activations, deltas = self._backprop(x, indices)
        return self._parameter_sums(activations, deltas, deltas[0].shape[0]) + self.l2 * x

    def per_example_grads(self, x, indices=None):
        """grad L_i(x) for each selected example, one row each (shape (B, dim))."""
        x = self._check(x)
        activations, deltas = self._backprop(x, indices)
        B = deltas[0].shape[0]
        parts = []
        for a, d in zip(activations, deltas, strict=True):
            parts += [np.einsum("bi,bj->bij", a, d).reshape(B, -1), d]
        return np.concatenate(parts, axis=1) + self.l2 * x

    def hessian_vector_product(self, x, v):
        """H(x) v, exactly, by Pearlmutter's R-operator; ``v`` may be one vector or rows of vectors.

        R{.} is the directional derivative along v. Forward: R{z_l} = R{a_{l-1}} W_l + a_{l-1} V_l
        + v_{b_l}, R{a_l} = (1 - a_l^2) R{z_l}; the output delta p - t gives R{p} = p (R{z} - <p, R{z}>);
        backward: R{delta_{l-1}} = (R{delta_l} W_l^T + delta_l V_l^T)(1 - a^2) - 2 a R{a} (delta_l W_l^T).
        The gradient's parts a^T delta and sum delta then differentiate by the product rule.
        """
        V, single = self._directions(v)
        layers, activations, z, R_acts, R_z = self._tangents(x, V)
        VW = [W for W, _ in self.unflatten(V)]
        N = self.num_examples
        p = self._softmax(z)
        delta = p - self.targets
        R_delta = p * (R_z - np.sum(p * R_z, axis=-1, keepdims=True))
        # Backward pass, from the output layer down.
        parts = []
        for l in range(len(layers) - 1, -1, -1):
            a, R_a = activations[l], R_acts[l]
            parts = [
                (np.swapaxes(R_a, 1, 2) @ delta + a.T @ R_delta).reshape(len(V), -1) / N,
                R_delta.sum(axis=1) / N,
            ] + parts
            if l > 0:
                W = layers[l][0]
                back = delta @ W.T
                R_back = R_delta @ W.T + delta @ np.swapaxes(VW[l], 1, 2)
                R_delta = R_back * (1 - a**2) - 2 * a * R_a * back
                delta = back * (1 - a**2)
        Hv = np.concatenate(parts, axis=1) + self.l2 * V
        return Hv[0] if single else Hv

    def _directions(self, v):
        """``v`` as rows of directions (k, dim), and whether it was a single vector."""
        v = np.asarray(v, dtype=float)
        V = np.atleast_2d(v)
        if v.ndim > 2 or V.shape[1] != self.dim:
            raise ValueError(f"v must have shape ({self.dim},) or (k, {self.dim}), got {v.shape}")
        return V, v.ndim == 1

    def _tangents(self, x, V):
        """The forward pass and its directional derivatives along each row of V (forward mode):

            R{z_l} = R{a_{l-1}} W_l + a_{l-1} V_l + v_{b_l},    R{a_l} = (1 - a_l^2) R{z_l},   R{a_0} = 0.

        Returns the layers, the activations, the logits z, the R{a_l} and R{z} = J v (the Jacobian of
        the logits times v), the last two with a leading axis of one entry per direction.
        """
        layers = self.unflatten(self._check(x))
        VW, Vb = zip(*self.unflatten(V), strict=True)
        activations, z = self._forward(layers, self.X)
        R_acts = [np.zeros((len(V), *self.X.shape))]
        for l, (W, _) in enumerate(layers):
            R_z = R_acts[l] @ W + activations[l] @ VW[l] + Vb[l][:, None, :]
            if l < len(layers) - 1:
                R_acts.append((1 - activations[l + 1] ** 2) * R_z)
        return layers, activations, z, R_acts, R_z

    def jacobian_vector_product(self, x, v):
        """J(x) v: the change of every logit along v, shape (N, classes) (or (k, N, classes) for rows of v).

        J is the Jacobian of the N x classes logits with respect to the parameters; J v is computed in
        one forward pass of directional derivatives, without forming J.
        """
        V, single = self._directions(v)
        Jv = self._tangents(x, V)[-1]
        return Jv[0] if single else Jv

    def gauss_newton_vector_product(self, x, v):
        """G(x) v for the generalized Gauss-Newton matrix (Schraudolph, 2002):

            G = (1/N) sum_i J_i^T H_i J_i + l2 I,     H_i = diag(p_i) - p_i p_i^T,

        where J_i is the Jacobian of example i's logits and H_i the Hessian of the cross-entropy with
        respect to those logits (p_i: the softmax probabilities). The Hessian is G plus the terms with
        the second derivatives of the logits, weighted by the output deltas p_i - t_i; dropping them
        leaves a positive semi-definite matrix (H_i is, the cross-entropy being convex in the logits).
        G v costs one forward pass (J v, as in ``jacobian_vector_product``), the multiplication by H_i,
        and one ordinary backward pass (J^T), about as much as a Hessian-vector product.
        ``v`` may be one vector or rows of vectors. For ``hidden=()`` the logits are linear in the
        parameters and G is the Hessian.
        """
        V, single = self._directions(v)
        layers, activations, z, _, Jv = self._tangents(x, V)
        p = self._softmax(z)
        HJv = p * (Jv - np.sum(p * Jv, axis=-1, keepdims=True))
        deltas = self._pull_back(layers, activations, HJv)
        Gv = self._parameter_sums(activations, deltas, self.num_examples) + self.l2 * V
        return Gv[0] if single else Gv

    def gauss_newton_matrix(self, x):
        """The generalized Gauss-Newton matrix G(x), from its products with every unit vector (symmetric)."""
        G = self.gauss_newton_vector_product(x, np.eye(self.dim))
        return (G + G.T) / 2

    def hessian(self, x):
        """The exact Hessian: the Hessian-vector products with every unit vector (symmetric)."""
        H = self.hessian_vector_product(x, np.eye(self.dim))
        return (H + H.T) / 2


def critical_point_index(hessian, tol=1e-8):
    """Index of a critical point: the fraction of Hessian eigenvalues below -tol * max |eigenvalue|.

    0 at a minimum, 1 at a maximum, in between at a saddle (Dauphin et al.'s alpha).
    """
    eigenvalues = np.linalg.eigvalsh(np.asarray(hessian, dtype=float))
    return float(np.mean(eigenvalues < -tol * np.max(np.abs(eigenvalues))))


def newton_critical_point(problem, x0, grad_tol=1e-8, max_iter=40):
    """Newton's method on the gradient: x <- x - t H^{-1} grad L(x), from ``x0``.

    Newton's method solves grad L = 0 and is attracted to critical points of ANY index, saddles
    included, which is why Dauphin et al. use it to find them (gradient descent flees saddles).
    Far from a critical point the full step (t = 1) overshoots, so t is halved until |grad L|
    decreases: the Newton direction lowers |grad L|^2 / 2 for small t whatever the signs of the
    Hessian's eigenvalues, so this safeguard does not prefer minima. Near a critical point t = 1
    and convergence is quadratic. A singular Hessian gets the least-squares (minimum-norm) step.

    Returns (x, converged): converged is True when |grad L(x)| <= grad_tol. A run that stalls
    (no decrease even for t < 1e-6) or reaches ``max_iter`` returns converged=False.
    """
    validate.positive("grad_tol", grad_tol)
    max_iter = validate.count("max_iter", max_iter, 1)
    x = problem._check(x0).copy()
    g = problem.grad(x)
    for _ in range(max_iter):
        if np.linalg.norm(g) <= grad_tol:
            return x, True
        direction = np.linalg.lstsq(problem.hessian(x), g, rcond=None)[0]
        t = 1.0
        while t >= 1e-6:
            x_new = x - t * direction
            g_new = problem.grad(x_new)
            if np.linalg.norm(g_new) < (1 - 1e-4 * t) * np.linalg.norm(g):
                break
            t /= 2
        else:
            return x, False
        x, g = x_new, g_new
    return x, bool(np.linalg.norm(g) <= grad_tol)
