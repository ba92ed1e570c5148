"""Regenerate tests/golden/torch_trajectories.npz with PyTorch's own optimizers.

    pip install -e '.[golden]'   # torch==2.13.0, CPU
    python scripts/make_golden.py

The tests compare course_lib.optim against these trajectories without needing torch. Each case
runs a torch.optim optimizer for NUM_STEPS steps on a 50-dimensional quadratic with kappa = 100
(float64), with hyperparameters chosen to separate variants: a large eps (1e-1) that tells eps
inside the root from outside, non-default betas, and a learning-rate drop half-way.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from course_lib import optim
from course_lib.problems import Quadratic

NUM_STEPS = 250
LR_DROP_STEP = 125  # the learning rate is divided by 10 from this step on ("lr_drop" cases)
OUT = Path(__file__).resolve().parents[1] / "tests" / "golden" / "torch_trajectories.npz"

# name -> (course optimizer, course hyperparameters, lr drop?); torch's class and arguments come from
# the optimizer table (course_lib.optim.TABLE)
CASES = {
    "sgd": ("SGD", {"learning_rate": 0.015}, False),
    "momentum": ("Momentum", {"learning_rate": 0.004, "rho": 0.9}, False),
    "momentum_lr_drop": ("Momentum", {"learning_rate": 0.004, "rho": 0.9}, True),
    "nesterov": ("Nesterov", {"learning_rate": 0.004, "rho": 0.95}, False),
    "nesterov_lr_drop": ("Nesterov", {"learning_rate": 0.004, "rho": 0.95}, True),
    "adagrad_eps_large": ("AdaGrad", {"learning_rate": 0.5, "eps": 1e-1}, False),
    "adagrad": ("AdaGrad", {"learning_rate": 0.5, "eps": 1e-10}, False),
    "rmsprop_eps_large": ("RMSProp", {"learning_rate": 0.003, "decay_rate": 0.95, "eps": 1e-1}, False),
    "rmsprop": ("RMSProp", {"learning_rate": 0.01, "decay_rate": 0.99, "eps": 1e-8}, False),
    "adam_eps_large": ("Adam", {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-1}, False),
    "adam": ("Adam", {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, False),
    "adam_lr_drop": ("Adam", {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, True),
    "adamw": ("AdamW", {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                        "weight_decay": 0.5}, False),
    "adamw_lr_drop": ("AdamW", {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                                "weight_decay": 0.5}, True),
}


def torch_optimizer(name, kwargs, params):
    """torch.optim's equivalent of course optimizer ``name`` with ``kwargs`` (the table says which)."""
    info = optim.TABLE[name]
    torch_name, torch_kwargs = info.torch(**info.cls(**kwargs).hyperparameters)
    return getattr(torch.optim, torch_name)(params, **torch_kwargs)


def problem():
    quadratic = Quadratic.with_condition_number(100.0, dim=50, seed=1)
    rng = np.random.default_rng(2)
    return quadratic, rng.standard_normal(50) * 3


def torch_trajectory(name, kwargs, lr_drop, hessian, x0):
    H = torch.tensor(hessian, dtype=torch.float64)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(name, kwargs, [x])
    points = [x.detach().clone().numpy()]
    for step in range(NUM_STEPS):
        if lr_drop and step == LR_DROP_STEP:
            for group in opt.param_groups:
                group["lr"] /= 10
        opt.zero_grad()
        loss = 0.5 * x @ H @ x
        loss.backward()
        opt.step()
        points.append(x.detach().clone().numpy())
    return np.array(points)


# CS231n-style fixed inputs (w, dw and state are linspaces reshaped 4x5), but with non-zero
# starting state, three steps with a learning-rate change before the third, and a large eps, so
# that the usual slips (sign, missing bias correction, t from 0, eps inside the root) all show.
FIXED_STEPS = 3
FIXED_T0 = 4  # Adam continues from step count 4: the next step uses t = 5
FIXED_CASES = {  # name -> (course optimizer, course hyperparameters)
    "sgd": ("SGD", {"learning_rate": 0.1}),
    "momentum": ("Momentum", {"learning_rate": 0.1, "rho": 0.9}),
    "nesterov": ("Nesterov", {"learning_rate": 0.1, "rho": 0.9}),
    "adagrad": ("AdaGrad", {"learning_rate": 0.1, "eps": 0.1}),
    "rmsprop": ("RMSProp", {"learning_rate": 0.1, "decay_rate": 0.9, "eps": 0.1}),
    "adam": ("Adam", {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.95, "eps": 0.1}),
    "adamw": ("AdamW", {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.95, "eps": 0.1, "weight_decay": 0.5}),
}
# torch's name for each piece of state -> the course's (course_lib.optim names state one way)
TORCH_STATE = {"momentum_buffer": "velocity", "sum": "grad_squared", "square_avg": "grad_squared",
               "exp_avg": "first_moment", "exp_avg_sq": "second_moment", "step": "t"}


def fixed_inputs():
    """(w, dw, starting state by course name); the tests read all three from the golden file."""
    w = np.linspace(-0.4, 0.6, 20).reshape(4, 5)
    dw = np.linspace(-0.6, 0.4, 20).reshape(4, 5)
    state = np.linspace(0.6, 0.9, 20).reshape(4, 5)
    start = {"velocity": state, "grad_squared": state, "first_moment": state - 0.75, "second_moment": state,
             "t": np.array(FIXED_T0)}
    return w, dw, start


def torch_fixed(name, kwargs):
    w, dw, start = fixed_inputs()
    x = torch.tensor(w, requires_grad=True)
    opt = torch_optimizer(name, kwargs, [x])
    # torch creates its state on the first step; take a zero step, then overwrite the state.
    x.grad = torch.zeros_like(x)
    opt.step()
    for key, value in opt.state[x].items():
        value.copy_(torch.tensor(start[TORCH_STATE[key]]))
    with torch.no_grad():
        x.copy_(torch.tensor(w))
    points = []
    for k in range(FIXED_STEPS):
        if k == FIXED_STEPS - 1:
            opt.param_groups[0]["lr"] /= 2
        x.grad = torch.tensor(dw * (1 + 0.5 * k))
        opt.step()
        points.append(x.detach().clone().numpy())
    return np.array(points)


def main():
    torch.set_default_dtype(torch.float64)
    quadratic, x0 = problem()
    arrays = {"hessian": quadratic.H, "x0": x0}
    meta = {"num_steps": NUM_STEPS, "lr_drop_step": LR_DROP_STEP, "torch": torch.__version__, "cases": {}}
    for name, (course_name, kwargs, lr_drop) in CASES.items():
        arrays[name] = torch_trajectory(course_name, kwargs, lr_drop, quadratic.H, x0)
        meta["cases"][name] = {"optimizer": course_name, "kwargs": kwargs, "lr_drop": lr_drop}
    w, dw, start = fixed_inputs()
    arrays.update(fixed_w=w, fixed_dw=dw, **{f"fixed_start_{key}": value for key, value in start.items()})
    meta["fixed"] = {"steps": FIXED_STEPS, "cases": {}}
    for name, (course_name, kwargs) in FIXED_CASES.items():
        arrays[f"fixed_{name}"] = torch_fixed(course_name, kwargs)
        meta["fixed"]["cases"][name] = {"optimizer": course_name, "kwargs": kwargs}
    arrays["meta"] = np.array(json.dumps(meta))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({len(CASES)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
