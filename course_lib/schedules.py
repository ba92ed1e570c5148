"""Learning-rate schedules, each a pure function of the step count: ``schedule(step, learning_rate, ...)``.

``step`` is the number of updates already taken (0 for the first update), as PyTorch's schedulers
count it (``last_epoch`` after ``scheduler.step()`` once per update); the function returns the
learning rate for the next update. ``learning_rate`` is the base (peak) rate. A bad argument raises
ValueError naming it. ``learning_rates(schedule, num_steps, ...)`` tabulates a schedule for plots
and for feeding an optimizer::

    rates = learning_rates(cosine, 100, learning_rate=0.1, total_steps=100)

``Scheduled(optimizer, schedule, ...)`` is an optimizer (for ``optim.run``) that sets the rate of
each update from the schedule::

    opt = Scheduled(optim.SGD(), cosine, learning_rate=0.1, total_steps=100)
"""

from __future__ import annotations

import math

import numpy as np

from course_lib import validate


def _fraction(name, value):
    """``value`` as a float, if it lies in (0, 1] (a factor that shrinks or keeps a rate)."""
    number = validate.positive(name, value)
    if number > 1:
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
    return number


def _step(step):
    return validate.count("step", step, 0)


def step_decay(step, learning_rate, step_size, gamma=0.1):
    """Step decay: multiply the rate by ``gamma`` every ``step_size`` steps.

        rate = learning_rate * gamma ** floor(step / step_size)

    PyTorch: ``StepLR(optimizer, step_size, gamma)``.
    """
    step = _step(step)
    learning_rate = validate.positive("learning_rate", learning_rate)
    step_size = validate.count("step_size", step_size, 1)
    gamma = _fraction("gamma", gamma)
    return learning_rate * gamma ** (step // step_size)


def cosine(step, learning_rate, total_steps, min_learning_rate=0.0):
    """Cosine annealing (Loshchilov & Hutter, 2017) from ``learning_rate`` to ``min_learning_rate``.

        rate = min_learning_rate + (learning_rate - min_learning_rate) * (1 + cos(pi * t / T)) / 2

    with ``t = min(step, total_steps)`` and ``T = total_steps``: the rate stays at its minimum after
    ``total_steps``. PyTorch: ``CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=min_learning_rate)``,
    equal up to ``total_steps``; past it PyTorch's rate climbs back up (period ``2 * T_max``).
    """
    step = _step(step)
    learning_rate = validate.positive("learning_rate", learning_rate)
    total_steps = validate.count("total_steps", total_steps, 1)
    min_learning_rate = validate.nonnegative("min_learning_rate", min_learning_rate)
    if min_learning_rate > learning_rate:
        raise ValueError(f"min_learning_rate must not exceed learning_rate {learning_rate!r}, "
                         f"got {min_learning_rate!r}")
    t = min(step, total_steps)
    half_cosine = (1 + math.cos(math.pi * t / total_steps)) / 2
    return min_learning_rate + (learning_rate - min_learning_rate) * half_cosine


def inverse_time(step, learning_rate, decay_rate):
    """1/t decay (inverse time), the schedule of Robbins & Monro (1951): sum of rates infinite,
    sum of squared rates finite.

        rate = learning_rate / (1 + decay_rate * step)

    PyTorch: ``LambdaLR(optimizer, lambda step: 1 / (1 + decay_rate * step))``.
    """
    step = _step(step)
    learning_rate = validate.positive("learning_rate", learning_rate)
    decay_rate = validate.nonnegative("decay_rate", decay_rate)
    return learning_rate / (1 + decay_rate * step)


def linear_warmup(step, learning_rate, warmup_steps, start_factor=1 / 3):
    """Linear warmup (Goyal et al., 2017) from ``start_factor * learning_rate`` to ``learning_rate``.

        rate = learning_rate * (start_factor + (1 - start_factor) * min(step, warmup_steps) / warmup_steps)

    then ``learning_rate`` from step ``warmup_steps`` on; ``warmup_steps=0`` means no warmup.
    PyTorch: ``LinearLR(optimizer, start_factor, end_factor=1.0, total_iters=warmup_steps)`` (whose
    default ``start_factor`` is 1/3, as here; it must lie in (0, 1]).
    """
    step = _step(step)
    learning_rate = validate.positive("learning_rate", learning_rate)
    warmup_steps = validate.count("warmup_steps", warmup_steps, 0)
    start_factor = _fraction("start_factor", start_factor)
    if step >= warmup_steps:
        return learning_rate
    return learning_rate * (start_factor + (1 - start_factor) * step / warmup_steps)


def warmup_cosine(step, learning_rate, warmup_steps, total_steps, start_factor=1 / 3, min_learning_rate=0.0):
    """Linear warmup for ``warmup_steps`` steps, then cosine annealing over the remaining steps.

        rate = linear_warmup(step, ...)                                    if step < warmup_steps
        rate = cosine(step - warmup_steps, total_steps=total_steps - warmup_steps, ...)   otherwise

    PyTorch: ``SequentialLR(optimizer, [LinearLR(optimizer, start_factor, total_iters=warmup_steps),
    CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=min_learning_rate)],
    milestones=[warmup_steps])``.
    """
    step = _step(step)
    warmup_steps = validate.count("warmup_steps", warmup_steps, 0)
    total_steps = validate.count("total_steps", total_steps, 1)
    if total_steps <= warmup_steps:
        raise ValueError(f"total_steps must exceed warmup_steps {warmup_steps}, got {total_steps!r}")
    if step < warmup_steps:
        # checks min_learning_rate too, so a bad value fails at every step
        cosine(0, learning_rate, total_steps - warmup_steps, min_learning_rate)
        return linear_warmup(step, learning_rate, warmup_steps, start_factor)
    _fraction("start_factor", start_factor)
    return cosine(step - warmup_steps, learning_rate, total_steps - warmup_steps, min_learning_rate)


def learning_rates(schedule, num_steps, **arguments):
    """The rates ``schedule(step, **arguments)`` for steps 0 .. num_steps - 1, as an array."""
    num_steps = validate.count("num_steps", num_steps, 0)
    return np.array([schedule(step, **arguments) for step in range(num_steps)], dtype=float)



class Scheduled:
    """An optimizer whose learning rate follows a schedule: update k (counting from 0) uses
    ``schedule(k, **arguments)``; ``arguments`` include the base ``learning_rate``.

    Works wherever an optimizer does (``optim.run``, ``optim.step_ratios``). PyTorch: the optimizer
    with its scheduler, ``scheduler.step()`` called after every ``optimizer.step()``.
    """

    def __init__(self, optimizer, schedule, **arguments):
        schedule(0, **arguments)  # a bad argument fails here, not at the first step
        self.optimizer, self.schedule, self.arguments = optimizer, schedule, arguments
        self.reset()

    @property
    def hyperparameters(self):
        return self.optimizer.hyperparameters

    @property
    def state(self):
        return self.optimizer.state

    def reset(self):
        self.optimizer.reset()
        self.num_steps = 0

    def step(self, x, dx):
        self.optimizer.hyperparameters["learning_rate"] = self.schedule(self.num_steps, **self.arguments)
        self.num_steps += 1
        return self.optimizer.step(x, dx)

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.arguments.items())
        return f"Scheduled({self.optimizer!r}, {self.schedule.__name__}, {arguments})"
