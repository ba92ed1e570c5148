"""course_lib.schedules against PyTorch's schedulers, written here in the recursive form PyTorch uses.

torch.optim.lr_scheduler updates ``group["lr"]`` from its previous value at each ``scheduler.step()``
(``get_lr``); the course's functions use the closed forms from PyTorch's documentation. The
recursions below are transcribed from torch/optim/lr_scheduler.py (StepLR, CosineAnnealingLR,
LinearLR, MultiplicativeLR, SequentialLR), so the two sides are computed independently.
"""

import math

import numpy as np
import pytest

from course_lib import schedules

BASE = 0.3


def torch_step_lr(num_steps, step_size, gamma):
    """StepLR.get_lr: keep the rate unless last_epoch is a positive multiple of step_size."""
    rates = [BASE]
    for last_epoch in range(1, num_steps):
        rates.append(rates[-1] * gamma if last_epoch % step_size == 0 else rates[-1])
    return rates


def torch_cosine(num_steps, t_max, eta_min, start=BASE):
    """CosineAnnealingLR.get_lr, the recursive branch (and its special case one step past a trough)."""
    rates = [start]
    for last_epoch in range(1, num_steps):
        lr = rates[-1]
        if (last_epoch - 1 - t_max) % (2 * t_max) == 0:
            rates.append(lr + (start - eta_min) * (1 - math.cos(math.pi / t_max)) / 2)
        else:
            rates.append((1 + math.cos(math.pi * last_epoch / t_max))
                         / (1 + math.cos(math.pi * (last_epoch - 1) / t_max)) * (lr - eta_min) + eta_min)
    return rates


def torch_linear(num_steps, start_factor, total_iters, end_factor=1.0):
    """LinearLR.get_lr: a multiplicative update towards end_factor * base, then constant."""
    rates = [BASE * start_factor]
    for last_epoch in range(1, num_steps):
        lr = rates[-1]
        if last_epoch > total_iters:
            rates.append(lr)
        else:
            rise = end_factor - start_factor
            rates.append(lr * (1 + rise / (total_iters * start_factor + (last_epoch - 1) * rise)))
    return rates


def torch_inverse_time(num_steps, decay_rate):
    """MultiplicativeLR with factor (1 + k (t - 1)) / (1 + k t): the 1/t schedule as PyTorch recurses it."""
    rates = [BASE]
    for last_epoch in range(1, num_steps):
        rates.append(rates[-1] * (1 + decay_rate * (last_epoch - 1)) / (1 + decay_rate * last_epoch))
    return rates


def torch_warmup_cosine(num_steps, warmup_steps, total_steps, start_factor, eta_min):
    """SequentialLR([LinearLR, CosineAnnealingLR], milestones=[warmup_steps]): at the milestone the
    cosine scheduler is stepped to epoch 0, which sets the base rate; then it recurses."""
    warm = torch_linear(warmup_steps, start_factor, warmup_steps)
    return warm + torch_cosine(num_steps - warmup_steps, total_steps - warmup_steps, eta_min)


def close(ours, reference):
    ours, reference = np.asarray(ours), np.asarray(reference)
    assert ours.shape == reference.shape
    error = np.max(np.abs(ours - reference))
    assert error < 1e-12, f"max difference {error:.3g}\nours {ours[:12]}\ntorch {reference[:12]}"


@pytest.mark.parametrize("step_size, gamma", [(1, 0.5), (7, 0.1), (30, 0.9), (5, 1.0)])
def test_step_decay_matches_step_lr(step_size, gamma):
    ours = schedules.learning_rates(schedules.step_decay, 100, learning_rate=BASE,
                                    step_size=step_size, gamma=gamma)
    close(ours, torch_step_lr(100, step_size, gamma))


@pytest.mark.parametrize("total_steps, eta_min", [(1, 0.0), (10, 0.0), (57, 0.01), (200, 0.3)])
def test_cosine_matches_cosine_annealing_lr_up_to_total_steps(total_steps, eta_min):
    ours = schedules.learning_rates(schedules.cosine, total_steps + 1, learning_rate=BASE,
                                    total_steps=total_steps, min_learning_rate=eta_min)
    close(ours, torch_cosine(total_steps + 1, total_steps, eta_min))
    assert ours[-1] == pytest.approx(eta_min, abs=1e-15)


def test_cosine_holds_its_minimum_where_pytorch_climbs_back():
    ours = schedules.learning_rates(schedules.cosine, 40, learning_rate=BASE, total_steps=20)
    torch = torch_cosine(40, 20, 0.0)
    assert np.all(ours[20:] == 0.0)
    assert torch[30] == pytest.approx(BASE / 2) and torch[39] > 0.99 * BASE


@pytest.mark.parametrize("decay_rate", [0.0, 0.01, 1.0, 7.5])
def test_inverse_time_matches_the_multiplicative_recursion(decay_rate):
    ours = schedules.learning_rates(schedules.inverse_time, 500, learning_rate=BASE, decay_rate=decay_rate)
    close(ours, torch_inverse_time(500, decay_rate))


def test_inverse_time_meets_robbins_monro():
    """Partial sums of the rates grow like log n (no limit); of the squared rates they converge."""
    rates = schedules.learning_rates(schedules.inverse_time, 10**5, learning_rate=1.0, decay_rate=1.0)
    sums = np.cumsum(rates)
    assert sums[-1] - sums[10**4 - 1] == pytest.approx(math.log(10), rel=1e-3)
    assert np.sum(rates**2) == pytest.approx(math.pi**2 / 6, rel=1e-4)


@pytest.mark.parametrize("warmup_steps, start_factor", [(1, 0.5), (5, 1 / 3), (40, 0.01), (10, 1.0)])
def test_linear_warmup_matches_linear_lr(warmup_steps, start_factor):
    ours = schedules.learning_rates(schedules.linear_warmup, 60, learning_rate=BASE,
                                    warmup_steps=warmup_steps, start_factor=start_factor)
    close(ours, torch_linear(60, start_factor, warmup_steps))
    assert ours[0] == pytest.approx(BASE * start_factor) and ours[warmup_steps] == BASE


def test_no_warmup_is_the_constant_rate():
    assert np.all(schedules.learning_rates(schedules.linear_warmup, 5, learning_rate=BASE,
                                           warmup_steps=0) == BASE)


@pytest.mark.parametrize("warmup_steps, total_steps, start_factor, eta_min",
                         [(1, 2, 0.5, 0.0), (10, 100, 0.1, 0.0), (25, 60, 1 / 3, 0.02)])
def test_warmup_cosine_matches_sequential_lr(warmup_steps, total_steps, start_factor, eta_min):
    ours = schedules.learning_rates(schedules.warmup_cosine, total_steps + 1, learning_rate=BASE,
                                    warmup_steps=warmup_steps, total_steps=total_steps,
                                    start_factor=start_factor, min_learning_rate=eta_min)
    close(ours, torch_warmup_cosine(total_steps + 1, warmup_steps, total_steps, start_factor, eta_min))
    assert ours.max() == BASE and ours[warmup_steps] == BASE


def test_warmup_cosine_without_warmup_is_cosine():
    plain = schedules.learning_rates(schedules.cosine, 30, learning_rate=BASE, total_steps=30)
    warm = schedules.learning_rates(schedules.warmup_cosine, 30, learning_rate=BASE, warmup_steps=0,
                                    total_steps=30)
    close(warm, plain)


def test_steps_may_be_numpy_integers_or_whole_floats():
    assert schedules.step_decay(np.int64(10), BASE, 10, 0.5) == schedules.step_decay(10.0, BASE, 10, 0.5) \
        == BASE / 2


GOOD = {
    schedules.step_decay: {"learning_rate": BASE, "step_size": 10, "gamma": 0.5},
    schedules.cosine: {"learning_rate": BASE, "total_steps": 10, "min_learning_rate": 0.01},
    schedules.inverse_time: {"learning_rate": BASE, "decay_rate": 0.1},
    schedules.linear_warmup: {"learning_rate": BASE, "warmup_steps": 5, "start_factor": 0.1},
    schedules.warmup_cosine: {"learning_rate": BASE, "warmup_steps": 5, "total_steps": 20,
                              "start_factor": 0.1, "min_learning_rate": 0.01},
}

BAD = {
    "step": [-1, 2.5, True, "3", None, math.nan],
    "learning_rate": [0, -0.1, math.inf, math.nan, "0.1", None],
    "step_size": [0, 2.5, -3, True],
    "gamma": [0, -0.5, 1.5, math.nan],
    "total_steps": [0, 3.5, -1],
    "min_learning_rate": [-0.01, math.inf, BASE * 2],
    "decay_rate": [-0.1, math.inf, "x"],
    "warmup_steps": [-1, 0.5, False],
    "start_factor": [0, 1.5, -0.2, math.nan],
}

CASES = [(fn, name, value) for fn, good in GOOD.items() for name in ["step", *good]
         for value in BAD[name]]


@pytest.mark.parametrize("fn, name, value", CASES,
                         ids=[f"{fn.__name__}-{name}-{value!r}" for fn, name, value in CASES])
def test_bad_argument_raises_naming_it(fn, name, value):
    arguments = {"step": 3, **GOOD[fn], name: value}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        fn(**arguments)
    # at every phase of a schedule, not only where the argument is used
    for step in (0, 4, 15, 40):
        if name != "step":
            with pytest.raises(ValueError, match=rf"^{name} must"):
                fn(**{**arguments, "step": step})


def test_warmup_longer_than_the_schedule_is_refused():
    with pytest.raises(ValueError, match="total_steps must exceed warmup_steps 20"):
        schedules.warmup_cosine(0, BASE, warmup_steps=20, total_steps=20)


def test_learning_rates_refuses_a_bad_length():
    with pytest.raises(ValueError, match="num_steps must"):
        schedules.learning_rates(schedules.cosine, -1, learning_rate=BASE, total_steps=3)


def test_scheduled_optimizer_uses_the_rate_of_each_step():
    """Scheduled(Momentum) against the update written out with the tabulated rates."""
    from course_lib import optim

    rng = np.random.default_rng(0)
    gradients = rng.standard_normal((30, 3))
    rates = schedules.learning_rates(schedules.step_decay, 30, learning_rate=0.1, step_size=10, gamma=0.5)
    opt = schedules.Scheduled(optim.Momentum(rho=0.9), schedules.step_decay, learning_rate=0.1,
                              step_size=10, gamma=0.5)
    x = x_hand = np.zeros(3)
    velocity = np.zeros(3)
    for rate, g in zip(rates, gradients, strict=True):
        x = opt.step(x, g)
        velocity = 0.9 * velocity + g
        x_hand = x_hand - rate * velocity
    assert np.max(np.abs(x - x_hand)) < 1e-15 and opt.hyperparameters["learning_rate"] == rates[-1]
    opt.reset()  # starts the schedule over, as optim.run does
    assert opt.state is None and opt.num_steps == 0
    assert np.array_equal(opt.step(np.zeros(3), gradients[0]), -0.1 * gradients[0])


def test_scheduled_checks_its_arguments_at_once():
    from course_lib import optim

    with pytest.raises(ValueError, match="^warmup_steps must"):
        schedules.Scheduled(optim.SGD(), schedules.linear_warmup, learning_rate=0.1, warmup_steps=-2)
