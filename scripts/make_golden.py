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

from course_lib.problems import Quadratic

NUM_STEPS = 250
LR_DROP_STEP = 125  # the learning rate is divided by 10 from this step on ("lr_drop" cases)
OUT = Path(__file__).resolve().parents[1] / "tests" / "golden" / "torch_trajectories.npz"

# name -> (course class name, course kwargs, torch class, torch kwargs, lr drop?)
CASES = {
    "sgd": ("SGD", {"learning_rate": 0.015}, torch.optim.SGD, {"lr": 0.015}, False),
    "momentum": ("Momentum", {"learning_rate": 0.004, "rho": 0.9},
                 torch.optim.SGD, {"lr": 0.004, "momentum": 0.9}, False),
    "momentum_lr_drop": ("Momentum", {"learning_rate": 0.004, "rho": 0.9},
                         torch.optim.SGD, {"lr": 0.004, "momentum": 0.9}, True),
    "nesterov": ("Nesterov", {"learning_rate": 0.004, "rho": 0.95},
                 torch.optim.SGD, {"lr": 0.004, "momentum": 0.95, "nesterov": True}, False),
    "adagrad_eps_large": ("AdaGrad", {"learning_rate": 0.5, "eps": 1e-1},
                          torch.optim.Adagrad, {"lr": 0.5, "eps": 1e-1}, False),
    "adagrad": ("AdaGrad", {"learning_rate": 0.5, "eps": 1e-10},
                torch.optim.Adagrad, {"lr": 0.5, "eps": 1e-10}, False),
    "rmsprop_eps_large": ("RMSProp", {"learning_rate": 0.003, "decay_rate": 0.95, "eps": 1e-1},
                          torch.optim.RMSprop, {"lr": 0.003, "alpha": 0.95, "eps": 1e-1}, False),
    "rmsprop": ("RMSProp", {"learning_rate": 0.01, "decay_rate": 0.99, "eps": 1e-8},
                torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}, False),
    "adam_eps_large": ("Adam", {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-1},
                       torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-1}, False),
    "adam": ("Adam", {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
             torch.optim.Adam, {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8}, False),
    "adam_lr_drop": ("Adam", {"learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
                     torch.optim.Adam, {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8}, True),
}


def problem():
    quadratic = Quadratic.with_condition_number(100.0, dim=50, seed=1)
    rng = np.random.default_rng(2)
    return quadratic, rng.standard_normal(50) * 3


def torch_trajectory(torch_cls, torch_kwargs, lr_drop, hessian, x0):
    H = torch.tensor(hessian, dtype=torch.float64)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch_cls([x], **torch_kwargs)
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
# (Nesterov keeps its learning rate: the course's velocity is -lr times torch's buffer.)
FIXED_STEPS = 3
FIXED_T0 = 4  # Adam continues from step count 4: the next step uses t = 5
FIXED_CASES = {
    "sgd": ("SGD", {"learning_rate": 0.1}, torch.optim.SGD, {"lr": 0.1}),
    "momentum": ("Momentum", {"learning_rate": 0.1, "rho": 0.9},
                 torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    "nesterov": ("Nesterov", {"learning_rate": 0.1, "rho": 0.9},
                 torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "adagrad": ("AdaGrad", {"learning_rate": 0.1, "eps": 0.1}, torch.optim.Adagrad, {"lr": 0.1, "eps": 0.1}),
    "rmsprop": ("RMSProp", {"learning_rate": 0.1, "decay_rate": 0.9, "eps": 0.1},
                torch.optim.RMSprop, {"lr": 0.1, "alpha": 0.9, "eps": 0.1}),
    "adam": ("Adam", {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.95, "eps": 0.1},
             torch.optim.Adam, {"lr": 0.1, "betas": (0.8, 0.95), "eps": 0.1}),
}


def fixed_inputs():
    w = np.linspace(-0.4, 0.6, 20).reshape(4, 5)
    dw = np.linspace(-0.6, 0.4, 20).reshape(4, 5)
    state = np.linspace(0.6, 0.9, 20).reshape(4, 5)
    return w, dw, state


def torch_fixed(name, torch_cls, torch_kwargs):
    w, dw, state = fixed_inputs()
    x = torch.tensor(w, requires_grad=True)
    opt = torch_cls([x], **torch_kwargs)
    # torch creates its state on the first step; take a zero step, then overwrite the state.
    x.grad = torch.zeros_like(x)
    opt.step()
    st = opt.state[x]
    s = torch.tensor(state)
    if name in ("momentum", "nesterov"):
        st["momentum_buffer"].copy_(s)
    elif name == "adagrad":
        st["sum"].copy_(s)
        st["step"].fill_(FIXED_T0)
    elif name == "rmsprop":
        st["square_avg"].copy_(s)
        st["step"].fill_(FIXED_T0)
    elif name == "adam":
        st["exp_avg"].copy_(s - 0.75)
        st["exp_avg_sq"].copy_(s)
        st["step"].fill_(FIXED_T0)
    with torch.no_grad():
        x.copy_(torch.tensor(w))
    points = []
    for k in range(FIXED_STEPS):
        if k == FIXED_STEPS - 1 and name != "nesterov":  # the course's Nesterov is CS231n-convention
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
    for name, (course_cls, course_kwargs, torch_cls, torch_kwargs, lr_drop) in CASES.items():
        arrays[name] = torch_trajectory(torch_cls, torch_kwargs, lr_drop, quadratic.H, x0)
        meta["cases"][name] = {"optimizer": course_cls, "kwargs": course_kwargs, "lr_drop": lr_drop}
    meta["fixed"] = {"steps": FIXED_STEPS, "t0": FIXED_T0, "cases": {}}
    for name, (course_cls, course_kwargs, torch_cls, torch_kwargs) in FIXED_CASES.items():
        arrays[f"fixed_{name}"] = torch_fixed(name, torch_cls, torch_kwargs)
        meta["fixed"]["cases"][name] = {"optimizer": course_cls, "kwargs": course_kwargs}
    arrays["meta"] = np.array(json.dumps(meta))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({len(CASES)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    main()
