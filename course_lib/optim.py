"""The lecture's first-order optimizers, one short class each.

Conventions (stated once, used everywhere in the course):

* ``opt.step(x, dx)`` returns the next ``x``; it never modifies ``x`` or ``dx``. It advances the
  optimizer's own state (``velocity``, ``grad_squared``, ``first_moment``, ``second_moment``) and
  the step counter ``t``, which is 1 during the first step. ``opt.reset()`` clears the state.
* Every method steps *down* the gradient (the slide transcript's ``x += learning_rate * dx`` is a
  sign typo).
* Momentum uses the slide/PyTorch convention ``v = rho v + dx; x -= learning_rate v``. CS231n's
  assignment stores ``v_cs = -learning_rate v`` instead; the two agree only while the learning
  rate is constant (see ``momentum_to_cs231n``).
* ``eps`` is added *outside* the square root, as on the slides and in PyTorch (TensorFlow, JAX and
  d2l put it inside). The default ``eps=1e-7`` is the slides' value (PyTorch uses 1e-8).

Hyperparameters may be changed between steps (``opt.learning_rate = ...``) to model a schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _check_positive(name, value):
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _check_unit_interval(name, value):
    if not (np.isfinite(value) and 0 <= value < 1):
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return float(value)


def _check_eps(value):
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"eps must be a finite number >= 0, got {value!r}")
    return float(value)


class Optimizer:
    """Shared plumbing: argument checks, the step counter and reset. Subclasses write ``update``."""

    def __init__(self, learning_rate):
        self.learning_rate = _check_positive("learning_rate", learning_rate)
        self.reset()

    def reset(self):
        self.t = 0

    def step(self, x, dx):
        x = np.asarray(x, dtype=float)
        dx = np.asarray(dx, dtype=float)
        if dx.shape != x.shape:
            raise ValueError(f"dx must have the shape of x {x.shape}, got {dx.shape}")
        if not np.all(np.isfinite(dx)):
            raise ValueError("dx contains NaN or inf: the run has diverged (try a smaller learning_rate)")
        self.t += 1
        return self.update(x, dx)

    def update(self, x, dx):
        raise NotImplementedError

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({params})"

    def hyperparameters(self):
        return {k: v for k, v in vars(self).items() if isinstance(v, float | bool)}


class SGD(Optimizer):
    """Gradient descent:  x = x - learning_rate * dx"""

    def __init__(self, learning_rate=1e-2):
        super().__init__(learning_rate)

    def update(self, x, dx):
        return x - self.learning_rate * dx


class Momentum(Optimizer):
    """SGD + momentum (slide/PyTorch convention):

        velocity = rho * velocity + dx
        x = x - learning_rate * velocity

    The velocity is a running sum of gradients; rho (0.9 or 0.99) acts as friction.
    """

    def __init__(self, learning_rate=1e-2, rho=0.9):
        self.rho = _check_unit_interval("rho", rho)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.velocity = 0.0

    def update(self, x, dx):
        self.velocity = self.rho * self.velocity + dx
        return x - self.learning_rate * self.velocity


class Nesterov(Optimizer):
    """Nesterov momentum after the change of variables x~ = x + rho v (x below is x~):

        old_velocity = velocity
        velocity = rho * velocity - learning_rate * dx
        x = x - rho * old_velocity + (1 + rho) * velocity

    Here ``velocity`` is in the look-ahead form's convention (it already contains the learning rate).
    For a constant learning rate this equals PyTorch's ``SGD(momentum=rho, nesterov=True)``.
    """

    def __init__(self, learning_rate=1e-2, rho=0.9):
        self.rho = _check_unit_interval("rho", rho)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.velocity = 0.0

    def update(self, x, dx):
        old_velocity = self.velocity
        self.velocity = self.rho * self.velocity - self.learning_rate * dx
        return x - self.rho * old_velocity + (1 + self.rho) * self.velocity


class AdaGrad(Optimizer):
    """AdaGrad: per-coordinate steps scaled by the history of squared gradients.

        grad_squared = grad_squared + dx * dx
        x = x - learning_rate * dx / (sqrt(grad_squared) + eps)
    """

    def __init__(self, learning_rate=1e-2, eps=1e-7):
        self.eps = _check_eps(eps)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.grad_squared = 0.0

    def update(self, x, dx):
        self.grad_squared = self.grad_squared + dx * dx
        return x - self.learning_rate * dx / (np.sqrt(self.grad_squared) + self.eps)


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton, 2012): AdaGrad with a leaky average.

        grad_squared = decay_rate * grad_squared + (1 - decay_rate) * dx * dx
        x = x - learning_rate * dx / (sqrt(grad_squared) + eps)
    """

    def __init__(self, learning_rate=1e-2, decay_rate=0.99, eps=1e-7):
        self.decay_rate = _check_unit_interval("decay_rate", decay_rate)
        self.eps = _check_eps(eps)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.grad_squared = 0.0

    def update(self, x, dx):
        self.grad_squared = self.decay_rate * self.grad_squared + (1 - self.decay_rate) * dx * dx
        return x - self.learning_rate * dx / (np.sqrt(self.grad_squared) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): momentum + RMSProp, with bias correction.

        first_moment = beta1 * first_moment + (1 - beta1) * dx
        second_moment = beta2 * second_moment + (1 - beta2) * dx * dx
        first_unbias = first_moment / (1 - beta1 ** t)      # t = 1 on the first step
        second_unbias = second_moment / (1 - beta2 ** t)
        x = x - learning_rate * first_unbias / (sqrt(second_unbias) + eps)

    ``bias_correction=False`` is the lecture's "Adam (almost)", which uses the raw moments.
    """

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, bias_correction=True):
        self.beta1 = _check_unit_interval("beta1", beta1)
        self.beta2 = _check_unit_interval("beta2", beta2)
        self.eps = _check_eps(eps)
        self.bias_correction = bool(bias_correction)
        super().__init__(learning_rate)

    def reset(self):
        super().reset()
        self.first_moment = 0.0
        self.second_moment = 0.0

    def update(self, x, dx):
        self.first_moment = self.beta1 * self.first_moment + (1 - self.beta1) * dx
        self.second_moment = self.beta2 * self.second_moment + (1 - self.beta2) * dx * dx
        first, second = self.first_moment, self.second_moment
        if self.bias_correction:
            first = first / (1 - self.beta1**self.t)
            second = second / (1 - self.beta2**self.t)
        return x - self.learning_rate * first / (np.sqrt(second) + self.eps)


OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam)}


def momentum_to_cs231n(velocity, learning_rate):
    """The CS231n-assignment velocity (v = rho v - lr dx; x += v) equal to a slide-form velocity."""
    return -learning_rate * np.asarray(velocity, dtype=float)


@dataclass
class Trajectory:
    """What ``run`` returns: one row per visited point, x0 included."""

    points: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    diverged: bool = False
    message: str = "completed"
    optimizer: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def num_steps(self):
        return len(self.points) - 1

    @property
    def final_point(self):
        return self.points[-1]


def run(opt, problem, x0, num_steps, batch_size=None, seed=0, explode_factor=1e8):
    """Run ``opt`` on ``problem`` from ``x0`` for ``num_steps`` steps (the optimizer is reset first).

    With ``batch_size`` the step uses ``problem.minibatch_grad`` on a fresh random minibatch (drawn
    without replacement from a generator seeded with ``seed``); losses are always full losses.

    A run stops early, with ``diverged=True`` and a message, when the loss becomes non-finite or
    exceeds ``explode_factor`` times its starting magnitude; its arrays then end at the last finite
    point, so a diverged run is never plotted as NaN.
    """
    if num_steps < 0 or int(num_steps) != num_steps:
        raise ValueError(f"num_steps must be an integer >= 0, got {num_steps!r}")
    if batch_size is not None:
        if not hasattr(problem, "minibatch_grad"):
            raise ValueError(f"batch_size needs a finite-sum problem; {problem!r} has no minibatches")
        if not 1 <= batch_size <= problem.num_examples:
            raise ValueError(f"batch_size must lie in [1, {problem.num_examples}], got {batch_size}")
    rng = np.random.default_rng(seed)
    opt.reset()
    x = np.asarray(x0, dtype=float).copy()
    loss0 = problem.loss(x)
    if not np.isfinite(loss0):
        raise ValueError(f"the loss at x0 is not finite: {loss0}")
    limit = explode_factor * max(1.0, abs(loss0))
    points, losses, grad_norms = [x], [loss0], []
    diverged, message = False, f"completed {num_steps} steps"
    for k in range(int(num_steps)):
        if batch_size is None:
            dx = problem.grad(x)
        else:
            dx = problem.minibatch_grad(x, rng.choice(problem.num_examples, batch_size, replace=False))
        grad_norms.append(np.linalg.norm(dx))
        with np.errstate(over="ignore", invalid="ignore"):
            x = opt.step(x, dx)
            loss = problem.loss(x) if np.all(np.isfinite(x)) else np.inf
        if not np.isfinite(loss) or abs(loss) > limit:
            diverged = True
            message = f"diverged at step {k + 1}: loss {loss:.3g} (started at {loss0:.3g})"
            break
        points.append(x)
        losses.append(loss)
    if not diverged:
        grad_norms.append(np.linalg.norm(problem.grad(x)))
    return Trajectory(
        points=np.array(points),
        losses=np.array(losses),
        grad_norms=np.array(grad_norms),
        diverged=diverged,
        message=message,
        optimizer=repr(opt),
    )


def step_ratios(opt, gradients):
    """|step| / learning_rate for each step of ``opt`` fed a given 1-D sequence of gradients.

    The answer to "how big is the step?" for schedule-free questions (constant gradient, a gradient
    that suddenly shrinks), independent of any loss surface. The optimizer is reset first.
    """
    opt.reset()
    x, ratios = np.zeros(1), []
    for g in np.asarray(gradients, dtype=float):
        x_new = opt.step(x, np.array([g]))
        ratios.append(abs(x_new[0] - x[0]) / opt.learning_rate)
        x = x_new
    return np.array(ratios)
