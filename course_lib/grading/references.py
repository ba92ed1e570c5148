"""Reference answers for the homework checks, in the signatures the exercises ask for.

Each one is a thin adapter around the course's own implementation (``course_lib.optim``,
``theory``, ``problems``, ``second_order``), so a check compares the student with the code the
lectures teach; the exceptions compute from a definition (``minibatch_variance`` enumerates every
minibatch). The optimizer steps are ``course_lib.optim``'s pure update rules, ``step(x, dx, state,
**hyperparameters) -> (x_next, state_next)`` with the state named as in the lecture (``velocity``,
``grad_squared``, ``first_moment``, ``second_moment``, and ``t``, the number of steps taken before
this one); the adapters below only fit an exercise's signature or state to them. A name means one
quantity: the exercises that store CS231n's velocity, -learning_rate times ``velocity``, call it
``cs231n_velocity``.
"""

from __future__ import annotations

import itertools

import numpy as np

from course_lib import optim, second_order, theory
from course_lib.grading import experiments
from course_lib.problems import LeastSquares, Rosenbrock

condition_number = theory.condition_number
max_stable_learning_rate = theory.max_stable_learning_rate
momentum_to_cs231n = optim.momentum_to_cs231n


def gd_step(x, dx, learning_rate):
    return optim.sgd_step(x, dx, {}, learning_rate=learning_rate)[0]


def optimal_fixed_step(hessian):
    """(learning_rate, rate) of gradient descent tuned to the extreme eigenvalues of ``hessian``."""
    eigenvalues = np.linalg.eigvalsh(np.asarray(hessian, dtype=float))
    learning_rate, rate = theory.gd_optimal(eigenvalues[-1], eigenvalues[0])
    return float(learning_rate), float(rate)


def optimal_heavy_ball(hessian):
    """(learning_rate, rho, rate) of heavy-ball momentum tuned to the extreme eigenvalues of ``hessian``."""
    eigenvalues = np.linalg.eigvalsh(np.asarray(hessian, dtype=float))
    return tuple(float(v) for v in theory.heavy_ball_optimal(eigenvalues[-1], eigenvalues[0]))


def stability_limit(eigenvalue, rho):
    """Momentum on 1/2 eigenvalue x^2 converges iff 0 < learning_rate * eigenvalue < 2 + 2 rho
    (``theory.momentum_stable``): the largest stable learning rate is (2 + 2 rho) / eigenvalue."""
    return (2.0 + 2.0 * rho) / eigenvalue


def steps_to_tolerance(kappa, tol):
    """Theory for the exercise's run: on 1/2 (x1^2 + kappa x2^2) from (1, 1) with learning rate
    1/kappa, x2 vanishes in the first step and x1 shrinks by (1 - 1/kappa) per step, so
    |x_k| <= tol |x_0| first holds at k = ceil(log(tol sqrt 2) / log(1 - 1/kappa))."""
    return int(np.ceil(np.log(tol * np.sqrt(2.0)) / np.log1p(-1.0 / kappa)))


def fitted_exponent(kappas, tol):
    """The least-squares slope of log(steps) against log(kappa): steps grow like kappa^slope."""
    steps = [steps_to_tolerance(kappa, tol) for kappa in kappas]
    return float(np.polyfit(np.log(kappas), np.log(steps), 1)[0])


momentum_step = optim.momentum_step
adagrad_step = optim.adagrad_step
rmsprop_step = optim.rmsprop_step
adam_step = optim.adam_step
adamw_step = optim.adamw_step


def adam_almost_step(x, dx, state, **hyperparameters):
    """The exercise's state has no step count: bias_correction=False never reads it."""
    x_next, state_next = optim.adam_step(x, dx, {**state, "t": 0}, bias_correction=False, **hyperparameters)
    return x_next, {key: state_next[key] for key in state}


def nesterov_step(x, dx, state, learning_rate, rho):
    """The exercise stores the slides' (CS231n's) velocity ``cs231n_velocity``, -learning_rate times
    the course's ``velocity`` (``momentum_to_cs231n``)."""
    velocity = np.asarray(state["cs231n_velocity"], dtype=float) / -learning_rate
    x_next, state_next = optim.nesterov_step(x, dx, {"velocity": velocity},
                                             learning_rate=learning_rate, rho=rho)
    return x_next, {"cs231n_velocity": optim.momentum_to_cs231n(state_next["velocity"], learning_rate)}


def nesterov_rate(learning_rate, rho, eigenvalue):
    """Nesterov on 1/2 eigenvalue x^2 (look-ahead y = x_k + rho (x_k - x_{k-1}), x_{k+1} = y - a lambda y)
    obeys e_{k+1} = (1 + rho)(1 - a lambda) e_k - rho (1 - a lambda) e_{k-1}: the largest |root|."""
    shrink = 1.0 - learning_rate * eigenvalue
    return float(np.max(np.abs(np.roots([1.0, -(1.0 + rho) * shrink, rho * shrink]))))


def measured_nesterov_rate(kappa, num_steps):
    """The theory the exercise's measurement is held against: with learning rate 1/L and rho =
    (sqrt(kappa) - 1) / (sqrt(kappa) + 1), the direction of L is gone after two steps and that of
    mu = 1 has a double root 1 - 1/sqrt(kappa) (``theory.nesterov_optimal``)."""
    return float(theory.nesterov_optimal(kappa, 1.0)[2])


def constant_gradient_steps(t, gradient, learning_rate, decay_rate, eps):
    """From a zero cache under a constant gradient g, step t divides by sqrt(cache) + eps with the
    cache t g^2 (AdaGrad) or (1 - decay_rate^t) g^2 (RMSProp: a geometric sum)."""
    size = abs(gradient)
    return (learning_rate * size / (np.sqrt(t) * size + eps),
            learning_rate * size / (np.sqrt(-np.expm1(t * np.log(decay_rate))) * size + eps))


def adagrad_distance(hessian, x0, learning_rate, num_steps):
    """|x_N| of the course's AdaGrad (eps = 0, zero cache) on 1/2 x^T H x from x0."""
    hessian, x = np.asarray(hessian, dtype=float), np.asarray(x0, dtype=float)
    state = optim.adagrad_init(x)
    for _ in range(num_steps):
        x, state = optim.adagrad_step(x, hessian @ x, state, learning_rate=learning_rate, eps=0.0)
    return float(np.linalg.norm(x))


def uncorrected_step_ratio(t, beta1, beta2):
    """Under a constant gradient g from zero moments, m_t = (1 - beta1^t) g and v_t = (1 - beta2^t) g^2
    (geometric sums), so with eps = 0 the uncorrected step over the learning rate is
    (1 - beta1^t) / sqrt(1 - beta2^t) (computed with expm1: no cancellation for beta near 1)."""
    return float(np.expm1(t * np.log(beta1)) / -np.sqrt(-np.expm1(t * np.log(beta2))))


def overshoot_ratio(num_steps, beta1, beta2):
    """With eps = 0 every bias-corrected step under a constant gradient is exactly the learning rate,
    so the distance ratio is the mean of ``uncorrected_step_ratio`` over t = 1..num_steps."""
    return float(np.mean([uncorrected_step_ratio(t, beta1, beta2) for t in range(1, num_steps + 1)]))


def classify_critical_point(hessian, tol=1e-8):
    """'minimum', 'maximum', 'saddle' or 'degenerate' (an eigenvalue within tol * max|eigenvalue| of 0)."""
    eigenvalues = np.linalg.eigvalsh(np.asarray(hessian, dtype=float))
    scale = np.max(np.abs(eigenvalues))
    if scale == 0 or np.any(np.abs(eigenvalues) <= tol * scale):
        return "degenerate"
    if np.all(eigenvalues > 0):
        return "minimum"
    if np.all(eigenvalues < 0):
        return "maximum"
    return "saddle"


def goe_samples(n, num_samples, seed):
    """The exercise's sampling rule: A = rng.standard_normal((num_samples, n, n)); H = (A + A^T) / 2."""
    A = np.random.default_rng(seed).standard_normal((num_samples, n, n))
    return (A + A.transpose(0, 2, 1)) / 2


def fraction_positive_definite(n, num_samples, seed):
    return float(np.mean(np.linalg.eigvalsh(goe_samples(n, num_samples, seed))[:, 0] > 0))


def _constant_model(x, grad, hessian):
    g, H = np.asarray(grad, dtype=float), np.asarray(hessian, dtype=float)
    return dict(problem=lambda z: 0.0, x0=np.asarray(x, dtype=float), grad=lambda z: g,
                hessian=lambda z: H, gtol=0.0, maxiter=1)


def newton_step(x, grad, hessian):
    return second_order.newton(**_constant_model(x, grad, hessian)).x


def saddle_free_newton_step(x, grad, hessian):
    return second_order.saddle_free_newton(**_constant_model(x, grad, hessian)).x


def escape_time(learning_rate, y0):
    """Gradient descent on 5x^2 - y^2 multiplies y by (1 + 2 learning_rate) per step, so |y| grows
    from |y0| to 1 after log(1/|y0|) / log(1 + 2 learning_rate) steps."""
    return float(np.log(1.0 / abs(y0)) / np.log1p(2.0 * learning_rate))


def saddle_free_escape_steps(curvature, y0):
    """Saddle-free Newton on 1/2 x^2 - 1/2 curvature y^2 steps y - (-curvature y) / curvature = 2y:
    |y| doubles per step whatever the curvature, and first reaches 1 after ceil(log2(1/|y0|)) steps."""
    return int(np.ceil(np.log2(1.0 / abs(y0))))


def minibatch_gradient(A, b, x, indices):
    """(1/B) sum_{i in indices} grad L_i(x) for least squares L_i = 1/2 (a_i . x - b_i)^2."""
    problem = LeastSquares(num_examples=len(A), dim=np.shape(A)[1])
    problem.A, problem.b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    return problem.minibatch_grad(x, indices)


def minibatch_variance(per_example_grads, batch_size):
    """E |g_B - g|^2 over every minibatch of ``batch_size`` distinct examples (by enumeration)."""
    grads = np.asarray(per_example_grads, dtype=float)
    full = grads.mean(axis=0)
    subsets = itertools.combinations(range(len(grads)), batch_size)
    return float(np.mean([np.sum((grads[list(s)].mean(axis=0) - full) ** 2) for s in subsets]))


def sgd_noise_floor(learning_rate, curvature, variance):
    """SGD on 1/2 curvature x^2 with gradient noise of the given variance, x <- (1 - a c) x - a noise,
    has E x^2 = (1 - a c)^2 E x^2 + a^2 variance at stationarity: a variance / (c (2 - a c))."""
    return learning_rate * variance / (curvature * (2.0 - learning_rate * curvature))


def noise_floor_slope(A, b, learning_rate, batch_sizes, num_steps, seed):
    """The theory the exercise's measurement is held against: with batches drawn with replacement
    the gradient noise has covariance Sigma / B, and for a small learning rate the floor E|x - x*|^2
    is proportional to learning_rate / B (``sgd_noise_floor`` per eigen-direction): slope -1."""
    return -1.0


def newton_rate(power):
    """Newton on |x|^p / p steps x - x / (p - 1): the error shrinks by (p - 2) / (p - 1) per step."""
    return (power - 2.0) / (power - 1.0)


def measured_newton_rate(x0, num_steps):
    """Newton on x^4/4 + x^6/6 steps x (2 + 4x^2) / (3 + 5x^2): the ratio tends to newton_rate(4) = 2/3
    (the exercise's tolerance covers the x^2 / 3 left after num_steps)."""
    return newton_rate(4.0)


def _line_search_curvatures(n):
    return np.geomspace(1.0, 1e4, n)


# Homework 9's TEST_PROBLEMS (its setup cell defines the same ones in the student's kernel).
LINE_SEARCH_PROBLEMS = {
    "rosenbrock": (lambda x: Rosenbrock(dim=len(x)).loss(x), lambda x: Rosenbrock(dim=len(x)).grad(x)),
    "quadratic": (lambda x: 0.5 * np.sum(_line_search_curvatures(len(x)) * x**2),
                  lambda x: _line_search_curvatures(len(x)) * x),
    "log_cosh": (lambda x: np.sum(np.logaddexp(x, -x) - np.log(2.0)), np.tanh),
}


def backtracking_line_search(f, grad, x, direction, step=1.0, c1=1e-4, shrink=0.5):
    """The Armijo step length along ``direction`` on homework 9's test problem named ``f`` (the checks
    pass a name, ``grad`` None); 0.0 when ``direction`` is not a descent direction (the exercise's
    rule; ``second_order`` raises instead)."""
    f, grad = LINE_SEARCH_PROBLEMS[f]
    x, direction = np.asarray(x, dtype=float), np.asarray(direction, dtype=float)
    gx = grad(x)
    if not gx @ direction < 0:
        return 0.0
    search = second_order.backtracking_line_search(f, x, direction, f(x), gx, step, c1, shrink,
                                                   maxiter=100_000)
    assert search.success, "the line search of a check case did not terminate"
    return search.step


def two_loop_recursion(g, s_history, y_history):
    return second_order.two_loop_recursion(g, [np.asarray(s, float) for s in s_history],
                                           [np.asarray(y, float) for y in y_history])


def warmup_cosine(step, learning_rate, warmup_steps, total_steps, start_factor, min_learning_rate):
    """Linear warmup from start_factor * learning_rate, then cosine annealing to min_learning_rate,
    held there from total_steps on (written out here: the grader imports no lecture module)."""
    if step < warmup_steps:
        return learning_rate * (start_factor + (1.0 - start_factor) * step / warmup_steps)
    progress = min(step - warmup_steps, total_steps - warmup_steps) / (total_steps - warmup_steps)
    half_cosine = (1.0 + np.cos(np.pi * progress)) / 2.0
    return float(min_learning_rate + (learning_rate - min_learning_rate) * half_cosine)


def steps_to_new_floor(lr_before, lr_after, curvature, excess):
    """After a drop from the floor of lr_before, E x_k^2 - F(lr_after) = q^(2k) (F(lr_before) - F(lr_after))
    with q = 1 - lr_after curvature (``sgd_noise_floor`` F; the noise variance cancels): the excess
    over the new floor reaches ``excess`` F(lr_after) after log(excess F_after / (F_before - F_after)) /
    log(q^2) steps."""
    before, after = (sgd_noise_floor(lr, curvature, 1.0) for lr in (lr_before, lr_after))
    return float(np.log(excess * after / (before - after)) / np.log((1.0 - lr_after * curvature) ** 2))


def floor_ratio(eigenvalues, learning_rate, factor, noise, num_steps, seed):
    """The theory the exercise's measurement is held against: each eigen-direction settles to
    ``sgd_noise_floor``, so the ratio of the summed floors after and before the drop."""
    def floor(lr):
        return sum(sgd_noise_floor(lr, curvature, noise**2) for curvature in eigenvalues)

    return float(floor(factor * learning_rate) / floor(learning_rate))


def cs231n_momentum_step(x, dx, state, learning_rate, rho):
    """CS231n's velocity ``cs231n_velocity`` is -learning_rate times the course's ``velocity``
    (``momentum_to_cs231n``): convert with the rate the last step used (``previous_learning_rate``),
    take the course's step with this one's, convert back."""
    velocity = np.asarray(state["cs231n_velocity"], dtype=float) / -state["previous_learning_rate"]
    x_next, state_next = optim.momentum_step(x, dx, {"velocity": velocity}, learning_rate=learning_rate,
                                             rho=rho)
    return x_next, {"cs231n_velocity": optim.momentum_to_cs231n(state_next["velocity"], learning_rate),
                    "previous_learning_rate": learning_rate}


# -- homework 10: the capstone (the experiments that drive the student's code: ``experiments``) --------

def wolfe_interval(hessian, grad, direction, c1, c2):
    """The step lengths that satisfy the strong Wolfe conditions on a quadratic.

    phi(a) = f(x + a p) = f + a g.p + a^2/2 p.Hp is least at a* = -g.p / p.Hp; sufficient decrease
    phi(a) <= f + c1 a g.p holds for a <= 2 (1 - c1) a*, and the curvature condition
    |phi'(a)| = |g.p| |1 - a / a*| <= c2 |g.p| for (1 - c2) a* <= a <= (1 + c2) a*.
    """
    hessian, grad, direction = (np.asarray(v, dtype=float) for v in (hessian, grad, direction))
    exact = -(grad @ direction) / (direction @ hessian @ direction)
    return float((1 - c2) * exact), float(min(1 + c2, 2 * (1 - c1)) * exact)


def line_search_step(search, phi, dphi, c1=1e-4, c2=0.9):
    """One trial of the strong-Wolfe line search of Nocedal & Wright (Algorithms 3.5 and 3.6) in
    ask-and-tell form: told phi and phi' at ``search["alpha"]``, accept it (``done``), or move an
    end of the bracket [lo, hi] to it and return the next trial: twice alpha while there is no
    bracket, else a point inside it (``second_order``'s safeguarded cubic interpolation)."""
    alpha = float(search["alpha"])
    trial = np.array([alpha, phi, dphi])
    lo, hi = np.asarray(search["lo"], dtype=float), search["hi"]
    if phi > search["phi0"] + c1 * alpha * search["dphi0"] or phi >= lo[1]:
        hi = trial
    elif abs(dphi) <= -c2 * search["dphi0"]:
        return {**search, "done": True}
    else:
        # lo moves to the trial; the bracket keeps the side towards which phi' points downhill.
        if (dphi >= 0) if hi is None else (dphi * (hi[0] - lo[0]) >= 0):
            hi = lo
        lo = trial
    following = 2 * alpha if hi is None else second_order._interpolate(lo, np.asarray(hi, dtype=float))
    return {**search, "lo": lo, "hi": hi, "alpha": float(following)}


def lbfgs_step(x, loss, dx, state, memory=10, c1=1e-4, c2=0.9):
    """L-BFGS in ask-and-tell form: told the loss and gradient at ``x`` (the point it asked for),
    continue the line search along the current direction, or, when it accepts x, remember
    s = x - start, y = dx - grad (the last ``memory`` pairs), take the new direction -H dx
    (``second_order.two_loop_recursion``) and ask for its trial step 1. The first direction is -dx
    with a trial step of length 1."""
    if state:
        search = line_search_step(state["search"], loss, dx @ state["direction"], c1, c2)
        if not search["done"]:
            return state["start"] + search["alpha"] * state["direction"], {**state, "search": search}
        s_history = [*state["s_history"], x - state["start"]][-memory:]
        y_history = [*state["y_history"], dx - state["grad"]][-memory:]
        direction, alpha = -second_order.two_loop_recursion(dx, s_history, y_history), 1.0
    else:
        s_history, y_history = [], []
        direction, alpha = -dx, 1.0 / np.linalg.norm(dx)
    search = experiments.start_search(loss, dx @ direction, alpha)
    state = {"start": x, "grad": dx, "direction": direction, "search": search,
             "s_history": s_history, "y_history": y_history}
    return x + alpha * direction, state


def adam_settings():
    """Adam's settings for the capstone's 400-step budget (chosen by the experiment in the homework)."""
    return {"learning_rate": 0.02}


def line_search_verdict(*case):
    """The verdict of a correct line search in every case of ``experiments.line_search_experiments``."""
    return experiments.ACCEPTED


def lbfgs_verdict(*case):
    """The verdict of an L-BFGS as fast as the case's ratio (its last argument) of scipy's evaluations."""
    return experiments.raced(case[-1])


def training_verdict(seed, target):
    """The verdict of a correct Adam with well-chosen settings in ``experiments.adam_training_experiment``."""
    return experiments.REACHED
