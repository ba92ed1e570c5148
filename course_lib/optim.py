"""The lecture's first-order optimizers, each update rule written once as a pure function.

A rule has the shape the homework asks for (CS231n's and optax's: state is data, hyperparameters
are arguments), and comes with the state it starts from::

    state = momentum_init(x)
    x_next, state_next = momentum_step(x, dx, state, learning_rate=0.01, rho=0.9)

Conventions (stated once, used everywhere in the course):

* A step never modifies its arguments: it returns new arrays. Every method steps *down* the
  gradient (the slide transcript's ``x += learning_rate * dx`` is a sign typo).
* A state name means one quantity wherever it appears:
  ``velocity`` is the running sum of gradients ``v = rho v + dx`` (Momentum and Nesterov; PyTorch's
  ``momentum_buffer``); ``grad_squared`` the sum (AdaGrad) or leaky average (RMSProp) of
  ``dx * dx``; ``first_moment`` and ``second_moment`` Adam's averages of ``dx`` and ``dx * dx``
  before bias correction; ``t`` the number of steps taken (a step increments it first, so it is 1
  during the first step).
* CS231n's assignment and the slides' Nesterov form store ``-learning_rate * v`` instead of ``v``
  (``momentum_to_cs231n``); the two agree only while the learning rate is constant. Where the course
  keeps that quantity (homeworks 05 and 08) it is ``cs231n_velocity``, never ``velocity``.
* ``eps`` is added *outside* the square root, as on the slides and in PyTorch (TensorFlow, JAX and
  d2l put it inside). The default ``eps=1e-7`` is the slides' value (PyTorch uses 1e-8).
* A bad hyperparameter raises ValueError naming it.

The classes (``Momentum(learning_rate=0.01, rho=0.9)``) are thin wrappers for the lectures: they
keep a ``state`` and a ``hyperparameters`` dict and call the rule; change ``opt.hyperparameters``
between steps to model a schedule. ``TABLE`` lists every optimizer with its PyTorch equivalent and
memory passes; tests, benchmarks, plots and scripts/make_golden.py read it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from course_lib import validate


def _flag(name, value):
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# Each hyperparameter name has one meaning, hence one check.
HYPERPARAMETER_CHECKS = {
    "learning_rate": validate.positive,
    "rho": validate.unit_interval,
    "decay_rate": validate.unit_interval,
    "beta1": validate.unit_interval,
    "beta2": validate.unit_interval,
    "eps": validate.nonnegative,
    "weight_decay": validate.nonnegative,
    "bias_correction": _flag,
}


def check_hyperparameters(hyperparameters):
    """The hyperparameters as floats (flags as bools); ValueError naming the first bad one."""
    return {name: HYPERPARAMETER_CHECKS[name](name, value) if name in HYPERPARAMETER_CHECKS else value
            for name, value in hyperparameters.items()}


def update_rule(rule):
    """Give a rule the checks every step shares; the rule itself is only the update's math.

    ``x`` and ``dx`` become float arrays of one shape, ``dx`` must be finite (a non-finite gradient
    means the run diverged) and the hyperparameters must be valid.
    """

    @functools.wraps(rule)
    def step(x, dx, state, **hyperparameters):
        x = np.asarray(x, dtype=float)
        dx = np.asarray(dx, dtype=float)
        if dx.shape != x.shape:
            raise ValueError(f"dx must have the shape of x {x.shape}, got {dx.shape}")
        if not np.all(np.isfinite(dx)):
            raise ValueError("dx contains NaN or inf: the run has diverged (try a smaller learning_rate)")
        return rule(x, dx, state, **check_hyperparameters(hyperparameters))

    return step


@update_rule
def sgd_step(x, dx, state, *, learning_rate=1e-2):
    """Gradient descent (no state):  x = x - learning_rate * dx"""
    return x - learning_rate * dx, {}


def sgd_init(x):
    return {}


@update_rule
def momentum_step(x, dx, state, *, learning_rate=1e-2, rho=0.9):
    """SGD + momentum (slide/PyTorch convention):

        velocity = rho * velocity + dx
        x = x - learning_rate * velocity

    The velocity is a running sum of gradients; rho (0.9 or 0.99) acts as friction.
    """
    velocity = rho * state["velocity"] + dx
    return x - learning_rate * velocity, {"velocity": velocity}


def momentum_init(x):
    return {"velocity": np.zeros_like(x, dtype=float)}


@update_rule
def nesterov_step(x, dx, state, *, learning_rate=1e-2, rho=0.9):
    """Nesterov momentum after the change of variables x~ = x + rho v (x below is x~, dx the gradient there):

        velocity = rho * velocity + dx                   # Momentum's velocity
        x = x - learning_rate * (dx + rho * velocity)    # the gradient step plus the look-ahead

    This is the slides' ``old_v = v; v = rho v - lr dx; x += -rho old_v + (1 + rho) v`` with their
    velocity, which contains the learning rate, written as ``-learning_rate * velocity``: the two
    agree while the learning rate is constant, and this form is PyTorch's
    ``SGD(momentum=rho, nesterov=True)`` for any schedule.
    """
    velocity = rho * state["velocity"] + dx
    return x - learning_rate * (dx + rho * velocity), {"velocity": velocity}


nesterov_init = momentum_init


@update_rule
def adagrad_step(x, dx, state, *, learning_rate=1e-2, eps=1e-7):
    """AdaGrad: per-coordinate steps scaled by the history of squared gradients.

        grad_squared = grad_squared + dx * dx
        x = x - learning_rate * dx / (sqrt(grad_squared) + eps)
    """
    grad_squared = state["grad_squared"] + dx * dx
    return x - learning_rate * dx / (np.sqrt(grad_squared) + eps), {"grad_squared": grad_squared}


def adagrad_init(x):
    return {"grad_squared": np.zeros_like(x, dtype=float)}


@update_rule
def rmsprop_step(x, dx, state, *, learning_rate=1e-2, decay_rate=0.99, eps=1e-7):
    """RMSProp (Tieleman & Hinton, 2012): AdaGrad with a leaky average.

        grad_squared = decay_rate * grad_squared + (1 - decay_rate) * dx * dx
        x = x - learning_rate * dx / (sqrt(grad_squared) + eps)
    """
    grad_squared = decay_rate * state["grad_squared"] + (1 - decay_rate) * dx * dx
    return x - learning_rate * dx / (np.sqrt(grad_squared) + eps), {"grad_squared": grad_squared}


rmsprop_init = adagrad_init


@update_rule
def adam_step(x, dx, state, *, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, bias_correction=True):
    """Adam (Kingma & Ba, 2015): momentum + RMSProp, with bias correction.

        t = t + 1                                           # t = 1 on the first step
        first_moment = beta1 * first_moment + (1 - beta1) * dx
        second_moment = beta2 * second_moment + (1 - beta2) * dx * dx
        first_unbias = first_moment / (1 - beta1 ** t)
        second_unbias = second_moment / (1 - beta2 ** t)
        x = x - learning_rate * first_unbias / (sqrt(second_unbias) + eps)

    ``bias_correction=False`` is the lecture's "Adam (almost)", which uses the raw moments.
    """
    t = state["t"] + 1
    first_moment = beta1 * state["first_moment"] + (1 - beta1) * dx
    second_moment = beta2 * state["second_moment"] + (1 - beta2) * dx * dx
    first_unbias, second_unbias = first_moment, second_moment
    if bias_correction:
        first_unbias = first_moment / (1 - beta1**t)
        second_unbias = second_moment / (1 - beta2**t)
    x_next = x - learning_rate * first_unbias / (np.sqrt(second_unbias) + eps)
    return x_next, {"first_moment": first_moment, "second_moment": second_moment, "t": t}


def adam_init(x):
    zeros = np.zeros_like(x, dtype=float)
    return {"first_moment": zeros, "second_moment": zeros.copy(), "t": 0}


@update_rule
def adamw_step(x, dx, state, *, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=1e-2):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, in PyTorch's form.

        x = x - learning_rate * weight_decay * x     # shrink x first, outside Adam's scaling
        then the Adam step from the shrunk x

    (L2 regularisation would add ``weight_decay * x`` to ``dx`` instead, and Adam's per-coordinate
    scaling would then weaken the decay where gradients are large.)
    """
    decayed = x - learning_rate * weight_decay * x
    return adam_step(decayed, dx, state, learning_rate=learning_rate, beta1=beta1, beta2=beta2, eps=eps)


adamw_init = adam_init


class Optimizer:
    """A pure update rule with its state kept: ``x = opt.step(x, dx)``; ``opt.reset()`` starts over.

    A subclass names its rule and initialiser:
    ``class Momentum(Optimizer, rule=momentum_step, init=momentum_init)``. Hyperparameters are the
    rule's keyword arguments, given by name or in the rule's order (``Momentum(0.01, 0.9)``); the
    state is created from ``x`` at the first step after a reset.
    """

    rule: Callable
    init: Callable

    def __init_subclass__(cls, rule, init, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.rule, cls.init = staticmethod(rule), staticmethod(init)

    def __init__(self, *args, **kwargs):
        defaults = {name: p.default for name, p in inspect.signature(self.rule).parameters.items()
                    if p.kind is p.KEYWORD_ONLY}
        if len(args) > len(defaults):
            raise TypeError(f"{type(self).__name__} takes at most {len(defaults)} hyperparameters "
                            f"({', '.join(defaults)}), got {len(args)}")
        given = dict(zip(defaults, args, strict=False))
        for name in kwargs:
            if name not in defaults or name in given:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated hyperparameter {name!r}; "
                                f"it takes {', '.join(defaults)}")
        self.hyperparameters = {**defaults, **check_hyperparameters({**given, **kwargs})}
        self.reset()

    def reset(self):
        self.state = None

    def step(self, x, dx):
        if self.state is None:
            self.state = self.init(np.asarray(x, dtype=float))
        x_next, self.state = self.rule(x, dx, self.state, **self.hyperparameters)
        return x_next

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({params})"


class SGD(Optimizer, rule=sgd_step, init=sgd_init):
    """Gradient descent: ``sgd_step`` keeping its state."""


class Momentum(Optimizer, rule=momentum_step, init=momentum_init):
    """SGD + momentum: ``momentum_step`` keeping its state."""


class Nesterov(Optimizer, rule=nesterov_step, init=nesterov_init):
    """Nesterov momentum: ``nesterov_step`` keeping its state."""


class AdaGrad(Optimizer, rule=adagrad_step, init=adagrad_init):
    """AdaGrad: ``adagrad_step`` keeping its state."""


class RMSProp(Optimizer, rule=rmsprop_step, init=rmsprop_init):
    """RMSProp: ``rmsprop_step`` keeping its state."""


class Adam(Optimizer, rule=adam_step, init=adam_init):
    """Adam: ``adam_step`` keeping its state (``bias_correction=False``: "Adam (almost)")."""


class AdamW(Optimizer, rule=adamw_step, init=adamw_init):
    """AdamW (Adam with decoupled weight decay): ``adamw_step`` keeping its state."""


@dataclass(frozen=True)
class OptimizerInfo:
    """One row of the optimizer table. Plots style an optimizer by its ``name``."""

    cls: type[Optimizer]
    # the course's hyperparameters (all of them, by name) -> (torch.optim class name, its kwargs),
    # or None where PyTorch has no such optimizer
    torch: Callable[..., tuple[str, dict] | None]
    # array reads + writes of one fused step that returns the new x: x, dx and each state array are
    # read, the new x and each state array written (its memory-bandwidth floor)
    passes: int
    name: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "name", self.cls.__name__)

    @property
    def state_keys(self):
        return tuple(self.cls.init(np.zeros(1)))


def _adam_in_torch(learning_rate, beta1, beta2, eps, bias_correction=True):
    if not bias_correction:
        return None
    return "Adam", {"lr": learning_rate, "betas": (beta1, beta2), "eps": eps}


TABLE = {info.name: info for info in (
    OptimizerInfo(SGD, lambda learning_rate: ("SGD", {"lr": learning_rate}), passes=3),
    OptimizerInfo(Momentum, lambda learning_rate, rho: ("SGD", {"lr": learning_rate, "momentum": rho}),
                  passes=5),
    OptimizerInfo(Nesterov, lambda learning_rate, rho: ("SGD", {"lr": learning_rate, "momentum": rho,
                                                                "nesterov": True}), passes=5),
    OptimizerInfo(AdaGrad, lambda learning_rate, eps: ("Adagrad", {"lr": learning_rate, "eps": eps}),
                  passes=5),
    OptimizerInfo(RMSProp, lambda learning_rate, decay_rate, eps: (
        "RMSprop", {"lr": learning_rate, "alpha": decay_rate, "eps": eps}), passes=5),
    OptimizerInfo(Adam, _adam_in_torch, passes=7),
    OptimizerInfo(AdamW, lambda learning_rate, beta1, beta2, eps, weight_decay: (
        "AdamW", {"lr": learning_rate, "betas": (beta1, beta2), "eps": eps, "weight_decay": weight_decay}),
        passes=7),
)}

OPTIMIZERS = {name: info.cls for name, info in TABLE.items()}


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
    num_steps = validate.count("num_steps", num_steps, 0)
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
    for k in range(num_steps):
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
        ratios.append(abs(x_new[0] - x[0]) / opt.hyperparameters["learning_rate"])
        x = x_new
    return np.array(ratios)
