"""Shared by the optimizer tests: the recorded torch trajectories and the wrong variants (mutants).

The mutants are the typical slips, written as update rules of the course's shape
``rule(x, dx, state, **hyperparameters) -> (x_next, state_next)``; a check that a mutant fails shows
the check can fail.
"""

import json
from pathlib import Path

import numpy as np

from course_lib import optim

GOLDEN = np.load(Path(__file__).parent / "golden" / "torch_trajectories.npz")
META = json.loads(str(GOLDEN["meta"]))


def sgd_wrong_sign(x, dx, state, learning_rate):
    return x + learning_rate * dx, {}


def momentum_wrong_sign(x, dx, state, learning_rate, rho):
    velocity = rho * state["velocity"] + dx
    return x + learning_rate * velocity, {"velocity": velocity}


def momentum_cs231n(x, dx, state, learning_rate, rho):
    """v = rho v - lr dx; x += v, the velocity converted once at the start: wrong after the lr change."""
    cs231n_velocity = state.get("cs231n_velocity", -learning_rate * state["velocity"])
    cs231n_velocity = rho * cs231n_velocity - learning_rate * dx
    return x + cs231n_velocity, {"velocity": state["velocity"], "cs231n_velocity": cs231n_velocity}


def nesterov_look_ahead_sign(x, dx, state, learning_rate, rho):
    velocity = rho * state["velocity"] + dx
    return x - learning_rate * (dx - rho * velocity), {"velocity": velocity}


def nesterov_plain(x, dx, state, learning_rate, rho):
    """Heavy ball in Nesterov's variables (forgets the look-ahead term)."""
    return optim.momentum_step(x, dx, state, learning_rate=learning_rate, rho=rho)


def adagrad_eps_inside(x, dx, state, learning_rate, eps):
    grad_squared = state["grad_squared"] + dx * dx
    return x - learning_rate * dx / np.sqrt(grad_squared + eps), {"grad_squared": grad_squared}


def adagrad_no_accumulation(x, dx, state, learning_rate, eps):
    return optim.adagrad_step(x, dx, {"grad_squared": 0 * dx}, learning_rate=learning_rate, eps=eps)


def rmsprop_eps_inside(x, dx, state, learning_rate, decay_rate, eps):
    grad_squared = decay_rate * state["grad_squared"] + (1 - decay_rate) * dx * dx
    return x - learning_rate * dx / np.sqrt(grad_squared + eps), {"grad_squared": grad_squared}


def rmsprop_accumulating(x, dx, state, learning_rate, decay_rate, eps):
    grad_squared = decay_rate * state["grad_squared"] + dx * dx
    return x - learning_rate * dx / (np.sqrt(grad_squared) + eps), {"grad_squared": grad_squared}


def adam_no_bias_correction(x, dx, state, **hyperparameters):
    return optim.adam_step(x, dx, state, bias_correction=False, **hyperparameters)


def adam_eps_inside(x, dx, state, learning_rate, beta1, beta2, eps):
    t = state["t"] + 1
    first_moment = beta1 * state["first_moment"] + (1 - beta1) * dx
    second_moment = beta2 * state["second_moment"] + (1 - beta2) * dx * dx
    first, second = first_moment / (1 - beta1**t), second_moment / (1 - beta2**t)
    x_next = x - learning_rate * first / np.sqrt(second + eps)
    return x_next, {"first_moment": first_moment, "second_moment": second_moment, "t": t}


def adam_t_from_zero(x, dx, state, **hyperparameters):
    """Bias correction with the step count before this step."""
    x_next, state_next = optim.adam_step(x, dx, {**state, "t": state["t"] - 1}, **hyperparameters)
    return x_next, {**state_next, "t": state["t"] + 1}


def adam_wrong_sign(x, dx, state, **hyperparameters):
    x_next, state_next = optim.adam_step(x, dx, state, **hyperparameters)
    return 2 * x - x_next, state_next


def adamw_l2(x, dx, state, weight_decay, **hyperparameters):
    """L2 regularisation inside Adam (torch's Adam(weight_decay=...)), not decoupled decay."""
    return optim.adam_step(x, dx + weight_decay * x, state, **hyperparameters)


def adamw_decay_after(x, dx, state, learning_rate, weight_decay, **hyperparameters):
    x_next, state_next = optim.adam_step(x, dx, state, learning_rate=learning_rate, **hyperparameters)
    return x_next - learning_rate * weight_decay * x_next, state_next


def adamw_decay_without_lr(x, dx, state, learning_rate, weight_decay, **hyperparameters):
    return optim.adam_step(x - weight_decay * x, dx, state, learning_rate=learning_rate, **hyperparameters)


MUTANTS = {
    "sgd": [sgd_wrong_sign],
    "momentum": [momentum_wrong_sign, momentum_cs231n],
    "nesterov": [nesterov_look_ahead_sign, nesterov_plain],
    "adagrad": [adagrad_eps_inside, adagrad_no_accumulation],
    "rmsprop": [rmsprop_eps_inside, rmsprop_accumulating],
    "adam": [adam_no_bias_correction, adam_eps_inside, adam_t_from_zero, adam_wrong_sign],
    "adamw": [adamw_l2, adamw_decay_after, adamw_decay_without_lr],
}
