"""CS231n-style fixed-input checks of the pure update rules, asserted, with inputs that separate slips.

Expected values come from torch.optim (scripts/make_golden.py). Each check starts from non-zero
state, takes three steps and halves the learning rate before the last one. Each mutant in
tests/optim_kit.py (a typical wrong variant) must fail the check of its optimizer.
"""

import numpy as np
import pytest
from optim_kit import GOLDEN, META, MUTANTS, adam_t_from_zero

from course_lib import optim

FIXED = META["fixed"]


def rel_error(x, y):
    """CS231n's relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def fixed_start(keys):
    """The non-zero starting state by name, as scripts/make_golden.py put it into torch."""
    missing = [key for key in keys if f"fixed_start_{key}" not in GOLDEN]
    assert not missing, f"no fixed starting value for state {missing}: add it in scripts/make_golden.py"
    return {key: GOLDEN[f"fixed_start_{key}"][()] for key in keys}


def run_fixed(name, rule=None):
    case = FIXED["cases"][name]
    info = optim.TABLE[case["optimizer"]]
    rule = rule or info.cls.rule
    hyperparameters = dict(case["kwargs"])
    state, x, dw = fixed_start(info.state_keys), GOLDEN["fixed_w"], GOLDEN["fixed_dw"]
    points = []
    for k in range(FIXED["steps"]):
        if k == FIXED["steps"] - 1:
            hyperparameters["learning_rate"] /= 2
        x, state = rule(x, dw * (1 + 0.5 * k), state, **hyperparameters)
        points.append(x)
    return np.array(points)


def check(name, rule=None):
    with np.errstate(all="ignore"):
        points = run_fixed(name, rule)
    error = rel_error(points, GOLDEN[f"fixed_{name}"])
    assert error < 1e-12, f"{name}: relative error {error:.3g}"


@pytest.mark.parametrize("name", sorted(FIXED["cases"]))
def test_fixed_inputs(name):
    check(name)


def test_every_fixed_case_has_a_wrong_variant():
    """A check no mutant fails has not been shown able to fail."""
    missing = sorted(set(FIXED["cases"]) - set(MUTANTS))
    assert not missing, (f"no wrong variant for {missing}: "
                         "add the typical slips to MUTANTS in tests/optim_kit.py")


@pytest.mark.parametrize(
    "name, mutant", [(n, m) for n, ms in MUTANTS.items() for m in ms], ids=lambda v: getattr(v, "__name__", v)
)
def test_wrong_variant_fails_the_check(name, mutant):
    with pytest.raises(AssertionError):
        check(name, mutant)


def test_t_from_zero_divides_by_zero_at_the_first_step():
    """The transcript's `for t in range(num_iterations)` pitfall: 1 - beta1**0 = 0."""
    with np.errstate(all="ignore"):
        x, _ = adam_t_from_zero(np.ones(3), np.ones(3), optim.adam_init(np.ones(3)), learning_rate=1e-3)
    assert not np.all(np.isfinite(x))
