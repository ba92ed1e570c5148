"""course_lib.optim's update rules against trajectories recorded from torch.optim (scripts/make_golden.py)."""

import numpy as np
import pytest
from optim_kit import GOLDEN, META, adam_eps_inside

from course_lib import optim


def trajectory(case, rule=None):
    """Run the case's rule (or ``rule``) from the recorded x0 on the recorded quadratic."""
    info = optim.TABLE[case["optimizer"]]
    rule = rule or info.cls.rule
    hyperparameters = dict(case["kwargs"])
    H, x = GOLDEN["hessian"], GOLDEN["x0"]
    state, points = info.cls.init(x), [x]
    for step in range(META["num_steps"]):
        if case["lr_drop"] and step == META["lr_drop_step"]:
            hyperparameters["learning_rate"] /= 10
        x, state = rule(x, H @ x, state, **hyperparameters)
        points.append(x)
    return np.array(points)


def max_relative_error(points, reference):
    scale = np.maximum(np.abs(reference).max(axis=1, keepdims=True), 1e-300)
    return float((np.abs(points - reference) / scale).max())


@pytest.mark.parametrize("name", sorted(META["cases"]))
def test_matches_torch(name):
    reference = GOLDEN[name]
    assert reference.shape == (META["num_steps"] + 1, *GOLDEN["x0"].shape)
    assert np.abs(reference[-1]).max() < np.abs(reference[0]).max()  # the run made progress
    assert max_relative_error(trajectory(META["cases"][name]), reference) <= 1e-10


def test_wrapper_class_follows_its_rule():
    """The lecture's classes only keep state: opt.step gives the rule's trajectory exactly."""
    case = META["cases"]["adam_lr_drop"]
    opt, x = optim.Adam(**case["kwargs"]), GOLDEN["x0"]
    points = [x]
    for step in range(META["num_steps"]):
        if step == META["lr_drop_step"]:
            opt.hyperparameters["learning_rate"] /= 10
        x = opt.step(x, GOLDEN["hessian"] @ x)
        points.append(x)
    assert np.array_equal(np.array(points), trajectory(case))


def test_golden_file_separates_eps_placement():
    """The large-eps cases must be able to fail: eps inside the root gives a different path."""
    points = trajectory(META["cases"]["adam_eps_large"], adam_eps_inside)
    assert max_relative_error(points, GOLDEN["adam_eps_large"]) > 1e-3


def slides_nesterov(x, dx, state, learning_rate, rho):
    """The slides' form, old_v = v; v = rho v - lr dx; x += -rho old_v + (1 + rho) v, with its velocity
    (CS231n's, -lr times the course's: ``cs231n_velocity``)."""
    old = state.get("cs231n_velocity", -learning_rate * state["velocity"])
    new = rho * old - learning_rate * dx
    return x - rho * old + (1 + rho) * new, {"velocity": state["velocity"], "cs231n_velocity": new}


def test_slides_nesterov_velocity_parts_from_torch_after_lr_drop():
    """Why the course stores Momentum's velocity: the slides' (which holds the learning rate) agrees
    with PyTorch only while the learning rate is constant."""
    constant = max_relative_error(trajectory(META["cases"]["nesterov"], slides_nesterov), GOLDEN["nesterov"])
    dropped = trajectory(META["cases"]["nesterov_lr_drop"], slides_nesterov)
    assert constant < 1e-10
    assert max_relative_error(dropped, GOLDEN["nesterov_lr_drop"]) > 1e-4


def test_adamw_follows_pytorchs_documented_algorithm():
    """AdamW written from PyTorch's documentation (decay x by lr * weight_decay, then Adam's step),
    independently of the course's rules; the torch recording above checks the same thing."""
    case = META["cases"]["adamw_lr_drop"]
    hp = case["kwargs"]
    lr, beta1, beta2 = hp["learning_rate"], hp["beta1"], hp["beta2"]
    wd, eps = hp["weight_decay"], hp["eps"]
    H, x = GOLDEN["hessian"], GOLDEN["x0"]
    m = v = np.zeros_like(x)
    points = [x]
    for t in range(1, META["num_steps"] + 1):
        if t - 1 == META["lr_drop_step"]:
            lr /= 10
        g = H @ x
        x = x * (1 - lr * wd)
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        points.append(x)
    assert max_relative_error(trajectory(case), np.array(points)) <= 1e-10
    assert max_relative_error(np.array(points), GOLDEN["adamw_lr_drop"]) <= 1e-10
    # weight decay matters here: Adam with the same settings ends elsewhere
    assert max_relative_error(trajectory({**case, "optimizer": "Adam", "kwargs": {
        k: v for k, v in hp.items() if k != "weight_decay"}}), np.array(points)) > 1e-3

