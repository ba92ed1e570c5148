"""CS231n-style fixed-input checks, asserted, with inputs that separate the usual slips.

Expected values come from torch.optim (scripts/make_golden.py). Each check starts from non-zero
state, takes three steps and halves the learning rate before the last one. The mutants below are the
typical wrong variants; each must fail the check of its optimizer, which shows the check can fail.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import optim

GOLDEN = np.load(Path(__file__).parent / "golden" / "torch_trajectories.npz")
FIXED = json.loads(str(GOLDEN["meta"]))["fixed"]


def rel_error(x, y):
    """CS231n's relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def fixed_inputs():
    w = np.linspace(-0.4, 0.6, 20).reshape(4, 5)
    dw = np.linspace(-0.6, 0.4, 20).reshape(4, 5)
    state = np.linspace(0.6, 0.9, 20).reshape(4, 5)
    return w, dw, state


def run_fixed(name, cls=None):
    case = FIXED["cases"][name]
    opt = (cls or getattr(optim, case["optimizer"]))(**case["kwargs"])
    w, dw, state = fixed_inputs()
    lr = case["kwargs"]["learning_rate"]
    if name == "momentum":
        opt.velocity = state.copy()
    elif name == "nesterov":
        opt.velocity = optim.momentum_to_cs231n(state, lr)  # course Nesterov stores -lr * buffer
    elif name in ("adagrad", "rmsprop"):
        opt.grad_squared = state.copy()
    elif name == "adam":
        opt.first_moment, opt.second_moment = state - 0.75, state.copy()
    opt.t = FIXED["t0"]
    points, x = [], w
    for k in range(FIXED["steps"]):
        if k == FIXED["steps"] - 1 and name != "nesterov":
            opt.learning_rate /= 2
        x = opt.step(x, dw * (1 + 0.5 * k))
        points.append(x)
    return np.array(points)


def check(name, cls=None):
    with np.errstate(all="ignore"):
        points = run_fixed(name, cls)
    error = rel_error(points, GOLDEN[f"fixed_{name}"])
    assert error < 1e-12, f"{name}: relative error {error:.3g}"


@pytest.mark.parametrize("name", sorted(FIXED["cases"]))
def test_fixed_inputs(name):
    check(name)


class SGDWrongSign(optim.SGD):
    def update(self, x, dx):
        return x + self.learning_rate * dx


class MomentumWrongSign(optim.Momentum):
    def update(self, x, dx):
        self.velocity = self.rho * self.velocity + dx
        return x + self.learning_rate * self.velocity


class MomentumCS231n(optim.Momentum):
    """v = rho v - lr dx; x += v, with v converted once at the start: wrong after the lr change."""

    def update(self, x, dx):
        if self.t == FIXED["t0"] + 1:  # convert the given slide-form velocity once
            self.velocity = -self.learning_rate * self.velocity
        self.velocity = self.rho * self.velocity - self.learning_rate * dx
        return x + self.velocity


class NesterovLookAheadSign(optim.Nesterov):
    def update(self, x, dx):
        old_velocity = self.velocity
        self.velocity = self.rho * self.velocity - self.learning_rate * dx
        return x + self.rho * old_velocity + (1 + self.rho) * self.velocity


class NesterovPlain(optim.Nesterov):
    """Heavy ball written in Nesterov's variables (forgets the rho (v - old_v) correction)."""

    def update(self, x, dx):
        self.velocity = self.rho * self.velocity - self.learning_rate * dx
        return x + self.velocity


class AdaGradEpsInside(optim.AdaGrad):
    def update(self, x, dx):
        self.grad_squared = self.grad_squared + dx * dx
        return x - self.learning_rate * dx / np.sqrt(self.grad_squared + self.eps)


class AdaGradNoAccumulation(optim.AdaGrad):
    def update(self, x, dx):
        self.grad_squared = dx * dx
        return x - self.learning_rate * dx / (np.sqrt(self.grad_squared) + self.eps)


class RMSPropEpsInside(optim.RMSProp):
    def update(self, x, dx):
        self.grad_squared = self.decay_rate * self.grad_squared + (1 - self.decay_rate) * dx * dx
        return x - self.learning_rate * dx / np.sqrt(self.grad_squared + self.eps)


class RMSPropAccumulating(optim.RMSProp):
    def update(self, x, dx):
        self.grad_squared = self.decay_rate * self.grad_squared + dx * dx
        return x - self.learning_rate * dx / (np.sqrt(self.grad_squared) + self.eps)


class AdamNoBiasCorrection(optim.Adam):
    def __init__(self, **kwargs):
        super().__init__(bias_correction=False, **kwargs)


class AdamEpsInside(optim.Adam):
    def update(self, x, dx):
        self.first_moment = self.beta1 * self.first_moment + (1 - self.beta1) * dx
        self.second_moment = self.beta2 * self.second_moment + (1 - self.beta2) * dx * dx
        first = self.first_moment / (1 - self.beta1**self.t)
        second = self.second_moment / (1 - self.beta2**self.t)
        return x - self.learning_rate * first / np.sqrt(second + self.eps)


class AdamTFromZero(optim.Adam):
    def update(self, x, dx):
        self.t -= 1  # bias correction with the step count before this step
        try:
            return super().update(x, dx)
        finally:
            self.t += 1


class AdamWrongSign(optim.Adam):
    def update(self, x, dx):
        return 2 * x - super().update(x, dx)


MUTANTS = {
    "sgd": [SGDWrongSign],
    "momentum": [MomentumWrongSign, MomentumCS231n],
    "nesterov": [NesterovLookAheadSign, NesterovPlain],
    "adagrad": [AdaGradEpsInside, AdaGradNoAccumulation],
    "rmsprop": [RMSPropEpsInside, RMSPropAccumulating],
    "adam": [AdamNoBiasCorrection, AdamEpsInside, AdamTFromZero, AdamWrongSign],
}


@pytest.mark.parametrize(
    "name, mutant", [(n, m) for n, ms in MUTANTS.items() for m in ms], ids=lambda v: getattr(v, "__name__", v)
)
def test_wrong_variant_fails_the_check(name, mutant):
    with pytest.raises(AssertionError):
        check(name, mutant)


def test_t_from_zero_divides_by_zero_at_the_first_step():
    """The transcript's `for t in range(num_iterations)` pitfall: 1 - beta1**0 = 0."""
    opt = AdamTFromZero(learning_rate=1e-3)
    with np.errstate(all="ignore"):
        x = opt.step(np.ones(3), np.ones(3))
    assert not np.all(np.isfinite(x))
