"""Measured rates against closed-form theory; the runner's bookkeeping and divergence detection;
clear errors for bad hyperparameters."""

import numpy as np
import pytest

from course_lib import optim, problems, theory, validate


@pytest.mark.parametrize("kappa", [10, 100, 1000])
def test_gd_rate_with_optimal_step(kappa):
    q = problems.Quadratic.with_condition_number(kappa, dim=20, seed=0)
    lr, rate = theory.gd_optimal(q.eigenvalues[-1], q.eigenvalues[0])
    steps = int(40 * np.sqrt(kappa) * 3)
    traj = optim.run(optim.SGD(learning_rate=lr), q, np.ones(20), min(steps, 4000))
    measured = theory.measured_rate(traj.points, q.minimizer, skip=len(traj.points) // 2)
    assert abs(measured / rate - 1) < 0.03


@pytest.mark.parametrize("kappa", [10, 100, 1000])
def test_heavy_ball_rate_with_optimal_parameters(kappa):
    q = problems.Quadratic.with_condition_number(kappa, dim=20, seed=0)
    lr, rho, rate = theory.heavy_ball_optimal(q.eigenvalues[-1], q.eigenvalues[0])
    traj = optim.run(optim.Momentum(learning_rate=lr, rho=rho), q, np.ones(20), int(30 * np.sqrt(kappa)))
    measured = theory.measured_rate(traj.points, q.minimizer, skip=len(traj.points) // 2)
    assert abs(measured / rate - 1) < 0.03
    # and it really is faster than tuned gradient descent
    assert measured < theory.gd_optimal(q.eigenvalues[-1], q.eigenvalues[0])[1]


@pytest.mark.parametrize("kappa", [10, 100, 1000])
def test_nesterov_rate(kappa):
    q = problems.Quadratic.with_condition_number(kappa, dim=2)
    lr, rho, rate = theory.nesterov_optimal(q.eigenvalues[-1], q.eigenvalues[0])
    traj = optim.run(optim.Nesterov(learning_rate=lr, rho=rho), q, np.ones(2), int(30 * np.sqrt(kappa)))
    measured = theory.measured_rate(traj.points, q.minimizer, skip=len(traj.points) // 2)
    assert abs(measured / rate - 1) < 0.03


def test_condition_number_and_stable_step():
    H = np.diag([1.0, 4.0, 250.0])
    assert theory.condition_number(H) == 250.0
    assert theory.max_stable_learning_rate(H) == 2 / 250
    q = problems.Quadratic(H)
    lr = theory.max_stable_learning_rate(H)
    assert not optim.run(optim.SGD(learning_rate=0.99 * lr), q, np.ones(3), 3000).diverged
    assert optim.run(optim.SGD(learning_rate=1.05 * lr), q, np.ones(3), 3000).diverged


def test_momentum_stability_region_and_contraction():
    rho, lam = 0.9, 1.0
    assert theory.momentum_stable(3.7, rho, lam) and not theory.momentum_stable(3.9, rho, lam)
    assert theory.momentum_contraction(3.7, rho, lam) < 1 < theory.momentum_contraction(3.9, rho, lam)
    # complex roots r, conj(r) of z^2 - (1 + rho - alpha lam) z + rho: |r|^2 = rho, whatever the step
    assert np.isclose(theory.momentum_contraction(0.5, rho, lam), np.sqrt(rho))


def test_runner_records_a_consistent_trajectory():
    q = problems.Quadratic.with_condition_number(10.0)
    traj = optim.run(optim.Momentum(learning_rate=0.05, rho=0.5), q, [1.0, 2.0], 25)
    assert traj.points.shape == (26, 2) and traj.losses.shape == (26,) and traj.grad_norms.shape == (26,)
    assert not traj.diverged
    for x, f, g in zip(traj.points, traj.losses, traj.grad_norms, strict=True):
        assert np.isclose(f, q.loss(x)) and np.isclose(g, np.linalg.norm(q.grad(x)))
    again = optim.run(optim.Momentum(learning_rate=0.05, rho=0.5), q, [1.0, 2.0], 25)
    assert np.array_equal(traj.points, again.points)


def test_runner_stops_and_reports_divergence():
    q = problems.Quadratic.with_condition_number(10.0)
    traj = optim.run(optim.SGD(learning_rate=0.5), q, [1.0, 1.0], 1000)
    assert traj.diverged and "diverged at step" in traj.message
    assert np.all(np.isfinite(traj.points)) and np.all(np.isfinite(traj.losses))
    assert len(traj.points) < 1000


def test_minibatch_runs_are_seeded_and_noisy():
    ls = problems.LeastSquares(num_examples=100, dim=2, seed=0)
    a = optim.run(optim.SGD(learning_rate=0.05), ls, [3.0, -3.0], 50, batch_size=5, seed=1)
    b = optim.run(optim.SGD(learning_rate=0.05), ls, [3.0, -3.0], 50, batch_size=5, seed=1)
    c = optim.run(optim.SGD(learning_rate=0.05), ls, [3.0, -3.0], 50, batch_size=5, seed=2)
    full = optim.run(optim.SGD(learning_rate=0.05), ls, [3.0, -3.0], 50)
    assert np.array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points) and not np.allclose(a.points, full.points)
    assert a.losses[-1] < a.losses[0] / 10


@pytest.mark.parametrize("name", optim.TABLE)
def test_rule_does_not_modify_its_arguments(name):
    info = optim.TABLE[name]
    x, dx = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    state = {key: value + 0.5 for key, value in info.cls.init(x).items()}  # non-zero, t too
    copies = [x.copy(), dx.copy(), {key: np.copy(value) for key, value in state.items()}]
    x_next, state_next = info.cls.rule(x, dx, state, learning_rate=0.1)
    assert np.array_equal(x, copies[0]) and np.array_equal(dx, copies[1])
    assert state.keys() == copies[2].keys() and all(np.array_equal(state[k], copies[2][k]) for k in state)
    assert tuple(state_next) == info.state_keys and not np.array_equal(x_next, x)
    assert all(state_next[k] is not state[k] for k in state_next if isinstance(state[k], np.ndarray))


def test_wrapper_takes_hyperparameters_by_position_or_name():
    assert optim.Adam(0.1, 0.8).hyperparameters == optim.Adam(learning_rate=0.1, beta1=0.8).hyperparameters
    assert optim.Nesterov().hyperparameters == {"learning_rate": 1e-2, "rho": 0.9}  # the rule's defaults
    for make, message in [(lambda: optim.Momentum(0.1, 0.9, 3), "at most 2"),
                          (lambda: optim.Momentum(0.1, learning_rate=0.2), "'learning_rate'"),
                          (lambda: optim.Adam(beta=0.9), "'beta'")]:
        with pytest.raises(TypeError, match=message):
            make()


def test_wrapper_keeps_state_and_reset_starts_over():
    for name, cls in optim.OPTIMIZERS.items():
        opt = cls(learning_rate=0.1)
        x, dx = np.array([1.0, -2.0]), np.array([0.5, 0.25])
        first = opt.step(x, dx)
        assert tuple(opt.state) == optim.TABLE[name].state_keys
        opt.step(first, dx)
        opt.reset()
        assert opt.state is None
        assert np.array_equal(opt.step(x, dx), first), cls.__name__


@pytest.mark.parametrize("check, value", [
    (validate.positive, 0), (validate.positive, float("inf")), (validate.positive, "1"),
    (validate.nonnegative, -1e-300), (validate.nonnegative, float("nan")), (validate.unit_interval, 1.0),
    (validate.unit_interval, float("nan")), (validate.count, 2.5), (validate.count, True),
    (validate.count, float("inf")), (validate.count, 1),
])
def test_validation_helpers_name_the_argument(check, value):
    args = ("width", value, 2) if check is validate.count else ("width", value)
    with pytest.raises(ValueError, match="^width must"):
        check(*args)


def test_validation_helpers_return_the_cleaned_value():
    assert validate.count("n", 3.0, 1) == 3 and isinstance(validate.count("n", np.int64(3), 1), int)
    assert validate.positive("lr", np.float32(0.5)) == 0.5 and validate.unit_interval("rho", 0) == 0.0


def lowered_to_zero(opt):
    """A schedule gone wrong: the wrapper's hyperparameters are checked at every step too."""
    opt.hyperparameters["learning_rate"] = 0.0
    return opt


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: optim.SGD(learning_rate=0), "learning_rate"),
        (lambda: optim.SGD(learning_rate=-1e-3), "learning_rate"),
        (lambda: optim.Adam(learning_rate=float("nan")), "learning_rate"),
        (lambda: optim.Momentum(rho=1.0), r"rho must lie in \[0, 1\)"),
        (lambda: optim.Nesterov(rho=-0.1), "rho"),
        (lambda: optim.RMSProp(decay_rate=1.5), "decay_rate"),
        (lambda: optim.Adam(beta1=1.0), "beta1"),
        (lambda: optim.Adam(beta2=-0.5), "beta2"),
        (lambda: optim.AdaGrad(eps=-1e-8), "eps"),
        (lambda: optim.Adam(bias_correction="no"), "bias_correction"),
        (lambda: optim.momentum_step(np.zeros(2), np.ones(2), {"velocity": np.zeros(2)}, rho=1.5), "rho"),
        (lambda: optim.sgd_step(np.zeros(2), np.ones(2), {}, learning_rate="x"), "learning_rate"),
        (lambda: optim.SGD().step(np.zeros(3), np.zeros(2)), "shape"),
        (lambda: optim.Adam().step(np.zeros(2), np.array([1.0, np.nan])), "NaN or inf"),
        (lambda: lowered_to_zero(optim.Momentum()).step(np.zeros(2), np.ones(2)), "learning_rate"),
        (lambda: optim.run(optim.SGD(), problems.Beale(), [1.0, 1.0], 10, batch_size=4), "finite-sum"),
        (lambda: optim.run(optim.SGD(), problems.LeastSquares(), [0.0, 0.0], 10, batch_size=0), "batch_size"),
        (lambda: optim.run(optim.SGD(), problems.Beale(), [1.0, 1.0], -1), "num_steps"),
        (lambda: theory.gd_optimal(1.0, 2.0), "mu <= L"),
    ],
)
def test_bad_input_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()
