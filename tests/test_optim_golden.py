"""course_lib.optim against trajectories recorded from torch.optim (scripts/make_golden.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_optim_fixed_inputs import AdamEpsInside  # the mutant the fixed-input checks also use

from course_lib import optim

GOLDEN = np.load(Path(__file__).parent / "golden" / "torch_trajectories.npz")
META = json.loads(str(GOLDEN["meta"]))


def course_trajectory(name, hessian, x0):
    case = META["cases"][name]
    opt = getattr(optim, case["optimizer"])(**case["kwargs"])
    x, points = x0, [x0]
    for step in range(META["num_steps"]):
        if case["lr_drop"] and step == META["lr_drop_step"]:
            opt.learning_rate /= 10
        x = opt.step(x, hessian @ x)
        points.append(x)
    return np.array(points)


def max_relative_error(points, reference):
    scale = np.maximum(np.abs(reference).max(axis=1, keepdims=True), 1e-300)
    return float((np.abs(points - reference) / scale).max())


@pytest.mark.parametrize("name", sorted(META["cases"]))
def test_matches_torch(name):
    reference = GOLDEN[name]
    assert reference.shape == (META["num_steps"] + 1, 50)
    assert np.abs(reference[-1]).max() < np.abs(reference[0]).max()  # the run made progress
    points = course_trajectory(name, GOLDEN["hessian"], GOLDEN["x0"])
    assert max_relative_error(points, reference) <= 1e-10


def test_golden_file_separates_eps_placement():
    """The large-eps cases must be able to fail: eps inside the root gives a different path."""

    kwargs = META["cases"]["adam_eps_large"]["kwargs"]
    H, x = GOLDEN["hessian"], GOLDEN["x0"]
    opt, points = AdamEpsInside(**kwargs), [x]
    for _ in range(META["num_steps"]):
        x = opt.step(x, H @ x)
        points.append(x)
    assert max_relative_error(np.array(points), GOLDEN["adam_eps_large"]) > 1e-3


def test_nesterov_convention_differs_from_torch_after_lr_drop():
    """Course Nesterov stores v_cs = -lr * v_torch, so the two part ways when lr changes."""
    H, x0 = GOLDEN["hessian"], GOLDEN["x0"]
    lr, rho = 0.004, 0.95
    ours, x = optim.Nesterov(learning_rate=lr, rho=rho), x0
    buf, y = np.zeros_like(x0), x0
    gap = []
    for step in range(40):
        if step == 20:
            ours.learning_rate = lr / 10
        x = ours.step(x, H @ x)
        g = H @ y
        buf = rho * buf + g
        y = y - (lr if step < 20 else lr / 10) * (g + rho * buf)
        gap.append(np.abs(x - y).max() / np.abs(y).max())
    assert max(gap[:20]) < 1e-12
    assert max(gap[20:]) > 1e-4
