"""The lectures' explorers, wired up: sliders, one persistent figure, and the update that redraws it.

A lecture notebook shows the experiment it teaches, a function from slider values to runs, and
hands it to one factory here. The factory draws the initial figure, changes its artists in place on
every slider move (``set_data``; see ``course_lib.widgets.Explorer``) and writes the readout. The
``draw_*`` functions draw one static panel of the same picture, for the companion figures that a
reader without a running kernel sees.
"""

from __future__ import annotations

import numpy as np

from course_lib.plots import COLORS, draw_contours, draw_loss_curve, draw_path, loss_grid, positive_floor
from course_lib.widgets import Explorer, choice_slider, slider

# What each explorer's picture shows, for readers who cannot see it (the image's title attribute).
ALT_TEXT = {
    "conditioning": (
        "Contours of a quadratic bowl with a gradient-descent path (left) and its loss per step "
        "(right)."),
    "saddle_plateau": (
        "Contours of the saddle 5x² − y² with a gradient-descent path (left) and its gradient norm "
        "per step with the predicted escape step (right)."),
    "minibatch": (
        "Contours of a least-squares loss with a noisy SGD path (left) and its excess loss per step"
        " with the predicted noise floor (right)."),
    "gd_and_momentum": (
        "Gradient-descent path (left) and momentum path (middle) on an elongated bowl, and both "
        "distances to the minimum per step (right)."),
    "two_momenta": (
        "Heavy-ball and Nesterov paths on an elongated bowl (left) and their losses per step "
        "(right)."),
    "step_memory": (
        "AdaGrad's and RMSProp's step size over the learning rate against step, for a constant "
        "gradient (left) and one that shrinks tenfold at step 100 (right)."),
    "adam_hyperparameters": (
        "Adam's path on the Rosenbrock function with a grey reference path (left) and their losses "
        "per step (right)."),
    "step_decay_floor": (
        "SGD's learning rate against step under step decay (left) and its excess loss per step with "
        "the noise floor predicted at each step's rate (right)."),
    "newton_and_lbfgs": (
        "Damped-Newton and L-BFGS paths on the Rosenbrock function (left) and their losses per "
        "iteration (right)."),
    "learning_rate_choice": (
        "Training loss of the spiral network against epochs (left) and the classes it predicts over"
        " the plane with the data (right)."),
}

_GRIDS = {}


def _grid(key, problem, limits, num=120):
    """A contour grid computed once per (key, limits) and reused on every later slider move."""
    if (key, limits) not in _GRIDS:
        _GRIDS[key, limits] = loss_grid(problem, *limits, num=num)
    return _GRIDS[key, limits]


# --- notebook 01: condition number and step size ------------------------------------------------

CONDITIONING_LIMITS = ((-1, 1), (-1, 1))


def _bowl_key(bowl):
    return round(float(np.log10(bowl.eigenvalues[-1] / bowl.eigenvalues[0])), 6)


def _conditioning_title(bowl, kappa, learning_rate, trajectory):
    distance = np.linalg.norm(trajectory.points[-1] - bowl.minimizer)
    verdict = (f"diverged after {trajectory.num_steps} steps" if trajectory.diverged
               else f"|x − x*| = {distance:.2g} after {trajectory.num_steps} steps")
    return f"κ = {kappa:.4g}, α = {learning_rate:.3g}: {verdict}"


def draw_conditioning(ax, gd_on_bowl, kappa, learning_rate):
    """One static panel: the bowl's contours and the GD path of ``gd_on_bowl(kappa, learning_rate)``."""
    bowl, trajectory = gd_on_bowl(kappa, learning_rate)
    _draw_bowl(ax, bowl, minimizer=bowl.minimizer)
    draw_path(ax, trajectory.points, label="GD")
    ax.set_title(_conditioning_title(bowl, kappa, learning_rate, trajectory), fontsize=9)


def _draw_bowl(ax, bowl, minimizer=None):
    # log-spaced levels: the narrow bowls still show nested ellipses around the minimum
    grid = _grid(("bowl", _bowl_key(bowl)), bowl, CONDITIONING_LIMITS)
    return draw_contours(ax, grid, levels=np.geomspace(1e-4, 1.0, 13), log=False, minimizer=minimizer)


def conditioning(gd_on_bowl, kappa=100.0, learning_rate=0.9):
    """Sliders κ (log) and α over ``gd_on_bowl(kappa, learning_rate) -> (bowl, trajectory)``.

    Left: the path on the bowl's contours; right: the loss per step. The readout gives both
    per-direction factors |1 − αλ| of a bowl with λmax = 1 and λmin = 1/κ.
    """
    sliders = {"kappa": slider("condition number κ", kappa, 0, 3, step=0.25, log=True),
               "learning_rate": slider("learning rate α", learning_rate, 0.05, 2.2, step=0.05)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["conditioning"], figsize=(10, 4), ncols=2)
    ax_path, ax_loss = explorer.axes
    bowl, trajectory = gd_on_bowl(kappa, learning_rate)
    state = {"key": _bowl_key(bowl), "contours": _draw_bowl(ax_path, bowl, minimizer=bowl.minimizer)}
    path_line = draw_path(ax_path, trajectory.points, label="GD")
    ax_path.legend(loc="lower right", fontsize=8)
    loss_line = draw_loss_curve(ax_loss, positive_floor(trajectory.losses), label="GD", ylabel="loss")
    ax_loss.set_title("loss per step")
    ax_loss.legend()

    def update(kappa, learning_rate):
        bowl, trajectory = gd_on_bowl(kappa, learning_rate)
        if _bowl_key(bowl) != state["key"]:  # swap in the bowl's contours
            state["contours"].remove()
            state["key"] = _bowl_key(bowl)
            state["contours"] = _draw_bowl(ax_path, bowl)
        path_line.set_data(trajectory.points[:, 0], trajectory.points[:, 1])
        loss_line.set_data(np.arange(len(trajectory.losses)), positive_floor(trajectory.losses))
        ax_loss.relim()
        ax_loss.autoscale_view()
        ax_path.set_title(_conditioning_title(bowl, kappa, learning_rate, trajectory))
        lam_min, lam_max = bowl.eigenvalues[0], bowl.eigenvalues[-1]
        outcome = (trajectory.message if trajectory.diverged
                   else f"loss after {trajectory.num_steps} steps: {trajectory.losses[-1]:.3g}")
        return (f"<b>κ = {kappa:.4g}, α = {learning_rate:.3g}</b> — steep factor |1−αλmax| = "
                f"{abs(1 - learning_rate * lam_max):.3g}, shallow factor |1−αλmin| = "
                f"{abs(1 - learning_rate * lam_min):.4g}; {outcome}")

    explorer.update_function = update
    return explorer


# --- notebook 02: the plateau next to a saddle ----------------------------------------------------

def draw_saddle_plateau(ax_path, ax_grad, saddle, gd_near_saddle, eps, learning_rate):
    """Static panels: the GD path on the saddle's contours, and its gradient norm per step with the
    predicted escape step. ``gd_near_saddle(eps, learning_rate) -> (trajectory, escape, predicted)``."""
    trajectory, _, predicted = gd_near_saddle(eps, learning_rate)
    draw_contours(ax_path, _grid(id(saddle), saddle, ((-1.2, 1.2), (-1.6, 1.6))), levels=15)
    path = draw_path(ax_path, trajectory.points, label="GD")
    (grad,) = ax_grad.semilogy(positive_floor(trajectory.grad_norms), color=COLORS["GD"], label="GD ‖∇f‖")
    marker = ax_grad.axvline(predicted, color=COLORS["theory"], linestyle="--", label="predicted escape")
    ax_grad.set_xlabel("step")
    ax_grad.set_ylabel("gradient norm ‖∇f‖")
    return path, grad, marker


def saddle_plateau(saddle, gd_near_saddle, eps=1e-6, learning_rate=0.05):
    """Sliders ε (log) and α over ``gd_near_saddle``: the path and the gradient norm's plateau."""
    sliders = {"eps": slider("start offset ε", eps, -10, -1, step=0.5, log=True),
               "learning_rate": slider("learning rate α", learning_rate, 0.01, 0.15, step=0.01)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["saddle_plateau"], figsize=(10, 4), ncols=2)
    ax_path, ax_grad = explorer.axes
    path_line, grad_line, escape_line = draw_saddle_plateau(ax_path, ax_grad, saddle, gd_near_saddle, eps,
                                                            learning_rate)
    ax_path.legend(loc="lower right", fontsize=8)
    ax_grad.set_title("gradient norm per step")
    ax_grad.minorticks_off()  # fewer tick labels to lay out on every redraw
    ax_grad.legend(fontsize=8)

    def update(eps, learning_rate):
        trajectory, escape, predicted = gd_near_saddle(eps, learning_rate)
        path_line.set_data(trajectory.points[:, 0], trajectory.points[:, 1])
        grad_line.set_data(np.arange(len(trajectory.grad_norms)), positive_floor(trajectory.grad_norms))
        escape_line.set_xdata([predicted, predicted])
        ax_grad.relim()
        ax_grad.autoscale_view()
        ax_path.set_title(f"GD from (1, {eps:.0e}), α = {learning_rate:.3g}")
        plateau = int(np.sum(trajectory.grad_norms < 1e-3))
        return (f"<b>ε = {eps:.1e}, α = {learning_rate:.3g}</b> — GD leaves the saddle (|y| > 1) after "
                f"<b>{escape} steps</b> (theory {predicted}); {plateau} steps with ‖∇f‖ < 10⁻³")

    explorer.update_function = update
    return explorer


# --- notebook 03: batch size and learning rate ------------------------------------------------------

def _excess(problem, trajectory):
    return positive_floor(trajectory.losses - problem.min_loss, 1e-12)


def draw_minibatch(ax_path, ax_loss, problem, sgd_run, batch_size, learning_rate):
    """Static panels: the SGD path on the loss contours, and its excess loss with the predicted floor.
    ``sgd_run(batch_size, learning_rate) -> (trajectory, predicted_floor)``."""
    trajectory, floor = sgd_run(batch_size, learning_rate)
    center = problem.minimizer
    limits = ((center[0] - 3.5, center[0] + 3.5), (center[1] - 3.5, center[1] + 3.5))
    draw_contours(ax_path, _grid(id(problem), problem, limits), levels=15, minimizer=center)
    path = draw_path(ax_path, trajectory.points, label="SGD")
    loss = draw_loss_curve(ax_loss, _excess(problem, trajectory), label="SGD")
    floor_line = ax_loss.axhline(max(floor, 1e-12), color=COLORS["theory"], linestyle="--",
                                 label="predicted floor")
    return path, loss, floor_line


def minibatch(problem, sgd_run, batch_sizes, batch_size=8, learning_rate=0.2):
    """Sliders B (over ``batch_sizes``) and α over ``sgd_run``: the SGD path and its excess loss."""
    sliders = {"batch_size": choice_slider("batch size B", batch_sizes, batch_size),
               "learning_rate": slider("learning rate α", learning_rate, 0.02, 0.5, step=0.02)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["minibatch"], figsize=(10, 4), ncols=2)
    ax_path, ax_loss = explorer.axes
    path_line, loss_line, floor_line = draw_minibatch(ax_path, ax_loss, problem, sgd_run, batch_size,
                                                      learning_rate)
    ax_path.legend(loc="lower right", fontsize=8)
    ax_loss.set_title("excess loss per step")
    ax_loss.legend(fontsize=8)

    def update(batch_size, learning_rate):
        trajectory, floor = sgd_run(batch_size, learning_rate)
        path_line.set_data(trajectory.points[:, 0], trajectory.points[:, 1])
        loss_line.set_data(np.arange(len(trajectory.losses)), _excess(problem, trajectory))
        floor_line.set_ydata([max(floor, 1e-12)] * 2)
        ax_loss.relim()
        ax_loss.autoscale_view()
        ax_path.set_title(f"SGD, B = {batch_size}, α = {learning_rate:.3g}")
        tail = len(trajectory.losses) // 2
        reached = np.mean(trajectory.losses[tail:] - problem.min_loss)
        last = len(trajectory.losses) - tail
        return (f"<b>B = {batch_size}, α = {learning_rate:.3g}</b> — noise scale α/B = "
                f"{learning_rate / batch_size:.3g}; mean excess loss over the last {last} steps "
                f"{reached:.3g} (predicted floor {floor:.3g}); "
                f"{trajectory.num_steps * batch_size} examples processed")

    explorer.update_function = update
    return explorer


# --- notebook 04: gradient descent and momentum side by side ---------------------------------------

def _diverged_suffix(trajectory):
    return " (diverged)" if trajectory.diverged else ""


def draw_gd_and_momentum(ax_gd, ax_hb, bowl, side_by_side, learning_rate, rho, limits=((-1.2, 1.2),) * 2):
    """Static panels: contours with the GD path (``ax_gd``, may be None) and the momentum path.

    ``side_by_side(learning_rate, rho) -> {"GD": trajectory, "Momentum": trajectory}``.
    Returns (runs, lines).
    """
    runs, lines = side_by_side(learning_rate, rho), {}
    for ax, name in [(ax_gd, "GD"), (ax_hb, "Momentum")]:
        if ax is None:
            continue
        draw_contours(ax, _grid(id(bowl), bowl, limits), levels=12, minimizer=bowl.minimizer)
        lines[name] = draw_path(ax, runs[name].points, label=name)
        ax.set_title(f"{name}: α = {learning_rate:g}" + (f", ρ = {rho:g}" if name == "Momentum" else "")
                     + _diverged_suffix(runs[name]), fontsize=9)
    return runs, lines


def gd_and_momentum(bowl, side_by_side, predicted_rates, learning_rate=1.0, rho=0.9):
    """Sliders α and ρ: GD (left) and momentum (middle) paths, distance to the minimum (right).
    ``predicted_rates(learning_rate, rho) -> {"GD": rate, "Momentum": rate}`` feeds the readout."""
    sliders = {"learning_rate": slider("learning rate α", learning_rate, 0.1, 4.0, step=0.05),
               "rho": slider("momentum ρ", rho, 0.0, 0.99, step=0.01)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["gd_and_momentum"], figsize=(13, 4), ncols=3)
    ax_gd, ax_hb, ax_dist = explorer.axes
    runs, path_lines = draw_gd_and_momentum(ax_gd, ax_hb, bowl, side_by_side, learning_rate, rho)

    def distances(trajectory):
        return positive_floor(np.linalg.norm(trajectory.points - bowl.minimizer, axis=1))

    distance_lines = {name: draw_loss_curve(ax_dist, distances(trajectory), label=name,
                                            ylabel="distance to the minimum")
                      for name, trajectory in runs.items()}
    ax_dist.set_title("distance to the minimum")
    ax_dist.legend(fontsize=8)

    def update(learning_rate, rho):
        runs, rates = side_by_side(learning_rate, rho), predicted_rates(learning_rate, rho)
        parts = []
        for name, trajectory in runs.items():
            path_lines[name].set_data(trajectory.points[:, 0], trajectory.points[:, 1])
            distance = distances(trajectory)
            distance_lines[name].set_data(np.arange(len(distance)), distance)
            outcome = ("diverged" if trajectory.diverged
                       else f"distance after {trajectory.num_steps} steps {distance[-1]:.2g}")
            parts.append(f"{name}: rate {rates[name]:.3f}, {outcome}")
        ax_gd.set_title(f"GD, α = {learning_rate:.3g}" + _diverged_suffix(runs["GD"]))
        ax_hb.set_title(f"Momentum, α = {learning_rate:.3g}, ρ = {rho:.2f}"
                        + _diverged_suffix(runs["Momentum"]))
        ax_dist.relim()
        ax_dist.autoscale_view()
        return f"<b>α = {learning_rate:.3g}, ρ = {rho:.2f}</b> — " + "; ".join(parts)

    explorer.update_function = update
    return explorer


# --- notebook 05: heavy ball and Nesterov ------------------------------------------------------------

def two_momenta(bowl, momentum_runs, limits, rho=0.9, learning_rate=0.01):
    """Sliders ρ and α (log) over ``momentum_runs(rho, learning_rate)``, a dict of runs by name:
    the paths on the bowl (left) and their losses (right)."""
    sliders = {"rho": slider("ρ", rho, 0.0, 0.99, step=0.01, readout_format=".2f"),
               "learning_rate": slider("learning rate", learning_rate, -3, -1.3, log=True,
                                       readout_format=".4f")}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["two_momenta"], figsize=(10, 4), ncols=2)
    ax_path, ax_loss = explorer.axes
    draw_contours(ax_path, _grid(id(bowl), bowl, limits), minimizer=bowl.minimizer)
    runs = momentum_runs(rho, learning_rate)
    path_lines = {name: draw_path(ax_path, run.points, name) for name, run in runs.items()}
    loss_lines = {name: draw_loss_curve(ax_loss, positive_floor(run.losses), name, ylabel="loss")
                  for name, run in runs.items()}
    ax_path.set_title("Heavy ball ('Momentum') vs Nesterov")
    ax_path.legend(loc="lower right")
    ax_loss.set_ylim(1e-20, 1e4)
    ax_loss.set_title("Loss against step")
    ax_loss.legend()

    def update(rho, learning_rate):
        parts = []
        for name, run in momentum_runs(rho, learning_rate).items():
            path_lines[name].set_data(run.points[:, 0], run.points[:, 1])
            loss_lines[name].set_data(np.arange(len(run.losses)), positive_floor(run.losses))
            parts.append(f"{name} {run.message}" if run.diverged else f"{name} {run.losses[-1]:.1e}")
        steps = len(run.losses) - 1
        return f"<b>ρ={rho:.2f}, lr={learning_rate:.4f}</b>: loss after {steps} steps — " + ", ".join(parts)

    explorer.update_function = update
    return explorer


# --- notebook 06: RMSProp's memory ----------------------------------------------------------------------

def draw_step_sizes(ax_const, ax_shrink, t, adagrad_ratios, rmsprop_ratios, decay_rate):
    """AdaGrad's (fixed) and RMSProp's |step| / learning rate against t, for a constant gradient and
    one that shrinks 10x at t = 100. ``rmsprop_ratios(decay_rate)`` returns both of RMSProp's curves.
    Returns RMSProp's two lines."""
    lines = []
    for ax, adagrad, title in ((ax_const, adagrad_ratios[0], "constant gradient"),
                               (ax_shrink, adagrad_ratios[1], "gradient shrinks 10× at t = 100")):
        ax.loglog(t, adagrad, label="AdaGrad", color=COLORS["AdaGrad"])
        lines += ax.loglog(t, np.ones(len(t)), label="RMSProp", color=COLORS["RMSProp"], linestyle="--")
        ax.set_ylim(1e-3, 50)
        ax.set_xlabel("step t")
        ax.set_ylabel("|step| / learning rate")
        ax.set_title(title)
        ax.legend(loc="lower left")
    for line, ratios in zip(lines, rmsprop_ratios(decay_rate), strict=True):
        line.set_ydata(ratios)
    return lines


def step_memory(t, adagrad_ratios, rmsprop_ratios, recovery_step, decay_rate=0.99):
    """A decay-rate slider over RMSProp's step sizes, next to AdaGrad's; ``recovery_step(ratios)`` is
    the step at which the step is back to half the learning rate after the gradient shrinks."""
    sliders = {"decay_rate": slider("decay_rate", decay_rate, 0.5, 0.999, step=0.001, readout_format=".3f")}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["step_memory"], figsize=(10, 3.8), ncols=2)
    rmsprop_lines = draw_step_sizes(*explorer.axes, t, adagrad_ratios, rmsprop_ratios, decay_rate)

    def update(decay_rate):
        const_ratios, shrink_ratios = rmsprop_ratios(decay_rate)
        for line, ratios in zip(rmsprop_lines, (const_ratios, shrink_ratios), strict=True):
            line.set_ydata(ratios)
        explorer.axes[1].set_title(f"gradient shrinks 10× at t = 100 (decay_rate = {decay_rate:.3f})")
        return (f"<b>RMSProp decay_rate={decay_rate:.3f}</b>: first step {const_ratios[0]:.2f} × lr; "
                f"memory ≈ {1 / (1 - decay_rate):.0f} steps; after the gradient shrinks, the step is back "
                f"to ½ × lr at t = {recovery_step(shrink_ratios)} (AdaGrad never: it ends at "
                f"{adagrad_ratios[1][-1]:.4f} × lr)")

    explorer.update_function = update
    return explorer


# --- notebook 07: Adam's hyperparameters on Rosenbrock ----------------------------------------------

def draw_adam_run(ax, problem, run, limits, label="Adam", **style):
    """One static panel: the loss contours and an Adam path."""
    draw_contours(ax, _grid(id(problem), problem, limits), levels=20, minimizer=problem.minimizer)
    return draw_path(ax, run.points, label, **style)


def adam_hyperparameters(problem, adam_run, reference, limits, beta1=0.9, beta2=0.999, learning_rate=0.1):
    """Sliders β1, β2 and α (log) over ``adam_run(beta1, beta2, learning_rate)``: the path and the loss,
    with a fixed ``reference`` run in grey."""
    sliders = {"beta1": slider("β1", beta1, 0.0, 0.99, step=0.01, readout_format=".2f"),
               "beta2": slider("β2", beta2, 0.9, 0.9999, step=0.0001, readout_format=".4f"),
               "learning_rate": slider("learning rate", learning_rate, -3, 0, log=True)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["adam_hyperparameters"], figsize=(10, 4), ncols=2)
    ax_path, ax_loss = explorer.axes
    grey = {"color": "0.6", "linestyle": ":"}
    draw_adam_run(ax_path, problem, reference, limits, label="reference", marker=None, **grey)
    path_line = draw_path(ax_path, reference.points, "Adam")
    ax_path.set_title("Adam on Rosenbrock")
    ax_path.legend(loc="lower right")
    draw_loss_curve(ax_loss, positive_floor(reference.losses, 1e-32), "reference", ylabel="loss", **grey)
    loss_line = draw_loss_curve(ax_loss, positive_floor(reference.losses, 1e-32), "Adam")
    ax_loss.set_ylim(1e-32, 1e3)
    ax_loss.set_title("Loss against step")
    ax_loss.legend()

    def update(beta1, beta2, learning_rate):
        run = adam_run(beta1, beta2, learning_rate)
        path_line.set_data(run.points[:, 0], run.points[:, 1])
        loss_line.set_data(np.arange(len(run.losses)), positive_floor(run.losses, 1e-32))
        distance = np.linalg.norm(run.final_point - problem.minimizer)
        text = (f"Adam β1={beta1:.2f} β2={beta2:.4f} lr={learning_rate:.3g}: loss {run.losses[-1]:.2e}"
                f" after {run.num_steps} steps, distance to the minimum {distance:.3f}")
        return f"<b>{text}</b>" + (f" ({run.message})" if run.diverged else "")

    explorer.update_function = update
    return explorer


# --- notebook 08: step decay and SGD's noise floor ----------------------------------------------------

def draw_step_decay(ax_rate, ax_loss, decay_run, step_size, gamma, label="SGD"):
    """Static panels: the learning rate per step, and the excess loss with the floor predicted at each
    step's rate. ``decay_run(step_size, gamma) -> (rates, excess, floors)``, excess one entry longer
    (it starts at step 0). Returns the rate, excess-loss and floor lines."""
    rates, excess, floors = decay_run(step_size, gamma)
    (rate_line,) = ax_rate.semilogy(np.arange(len(rates)), rates, color=COLORS["SGD"], label=label)
    ax_rate.set_ylim(1e-4, 0.3)
    ax_rate.set_xlabel("step")
    ax_rate.set_ylabel("learning rate α")
    loss_line = draw_loss_curve(ax_loss, positive_floor(excess, 1e-12), label, color=COLORS["SGD"])
    (floor_line,) = ax_loss.semilogy(np.arange(len(floors)), floors, color=COLORS["theory"],
                                     linestyle="--", label="floor predicted at α")
    ax_loss.set_ylim(1e-5, 10)
    return rate_line, loss_line, floor_line


def step_decay_floor(decay_run, step_size=1000, gamma=0.1):
    """Sliders: the step decay's interval and factor γ (log) over ``decay_run``; the schedule (left),
    SGD's excess loss against the floor predicted at the current rate (right)."""
    sliders = {"step_size": slider("decay every (steps)", step_size, 250, 2750, step=250),
               "gamma": slider("factor γ", gamma, -2, 0, step=0.25, log=True)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["step_decay_floor"], figsize=(10, 4), ncols=2)
    ax_rate, ax_loss = explorer.axes
    rate_line, loss_line, floor_line = draw_step_decay(ax_rate, ax_loss, decay_run, step_size, gamma)
    ax_rate.set_title("learning-rate schedule")
    ax_loss.set_title("SGD's excess loss (running mean)")
    ax_loss.legend(loc="upper right", fontsize=8)

    def update(step_size, gamma):
        rates, excess, floors = decay_run(step_size, gamma)
        rate_line.set_ydata(rates)
        loss_line.set_ydata(positive_floor(excess, 1e-12))
        floor_line.set_ydata(floors)
        tail = max(1, len(rates) // 10)
        return (f"<b>× {gamma:.3g} every {step_size} steps</b>: final rate {rates[-1]:.3g}; excess loss "
                f"over the last {tail} steps {np.mean(excess[-tail:]):.2e}, floor predicted at the final "
                f"rate {floors[-1]:.2e}")

    explorer.update_function = update
    return explorer


# --- notebook 09: damped Newton and L-BFGS memory --------------------------------------------------

def _path_losses(problem, path):
    return positive_floor([problem.loss(x) for x in path], 1e-20)


def draw_newton_lbfgs(ax, problem, explorer_runs, newton_step, memory, limits):
    """One static panel: the damped-Newton and L-BFGS paths of ``explorer_runs(newton_step, memory)``,
    which returns ((newton_result, newton_path), (lbfgs_result, lbfgs_path))."""
    (newton_result, newton_path), (lbfgs_result, lbfgs_path) = explorer_runs(newton_step, memory)
    draw_contours(ax, _grid(id(problem), problem, limits), levels=15, minimizer=problem.minimizer)
    draw_path(ax, newton_path, f"Newton t = {newton_step:g}: {newton_result.nit} it.", color=COLORS["Newton"])
    draw_path(ax, lbfgs_path, f"L-BFGS m = {memory}: {lbfgs_result.nfev + lbfgs_result.njev} evaluations",
              color=COLORS["L-BFGS"], linestyle="--", marker="s")
    ax.legend(loc="lower right", fontsize=7)


def newton_and_lbfgs(problem, explorer_runs, limits, newton_step=1.0, memory=10):
    """Sliders: damped Newton's step size t and L-BFGS's memory m; paths (left), losses (right)."""
    sliders = {"newton_step": slider("Newton step size t", newton_step, 0.1, 1.0, step=0.05),
               "memory": slider("L-BFGS memory m", memory, 1, 10, step=1)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["newton_and_lbfgs"], figsize=(10, 4), ncols=2)
    ax_path, ax_loss = explorer.axes
    (_, newton_path), (_, lbfgs_path) = explorer_runs(newton_step, memory)
    draw_contours(ax_path, _grid(id(problem), problem, limits), levels=15, minimizer=problem.minimizer)
    newton_line = draw_path(ax_path, newton_path, "Newton")
    lbfgs_line = draw_path(ax_path, lbfgs_path, "L-BFGS")
    ax_path.legend(loc="lower right", fontsize=8)
    newton_curve = draw_loss_curve(ax_loss, _path_losses(problem, newton_path), "Newton", ylabel="loss")
    lbfgs_curve = draw_loss_curve(ax_loss, _path_losses(problem, lbfgs_path), "L-BFGS", ylabel="loss")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_title("loss per iteration")
    ax_loss.legend()

    def update(newton_step, memory):
        (newton_result, newton_path), (lbfgs_result, lbfgs_path) = explorer_runs(newton_step, memory)
        newton_line.set_data(newton_path[:, 0], newton_path[:, 1])
        lbfgs_line.set_data(lbfgs_path[:, 0], lbfgs_path[:, 1])
        newton_curve.set_data(np.arange(len(newton_path)), _path_losses(problem, newton_path))
        lbfgs_curve.set_data(np.arange(len(lbfgs_path)), _path_losses(problem, lbfgs_path))
        ax_loss.relim()
        ax_loss.autoscale_view()
        ax_path.set_title(f"Newton step size t = {newton_step:.2f}, L-BFGS memory m = {memory}")
        return (f"<b>Newton step size t = {newton_step:.2f}</b>: {newton_result.nit} iterations to "
                "|g| ≤ 1e-8; "
                f"<b>L-BFGS memory m = {memory}</b>: {lbfgs_result.nit} iterations, "
                f"{lbfgs_result.nfev + lbfgs_result.njev} evaluations, f = {lbfgs_result.fun:.1e}")

    explorer.update_function = update
    return explorer


# --- notebook 10: Adam's learning rate on the spiral network ---------------------------------------

def draw_training(ax_loss, ax_regions, epochs, losses, predicted, data, extent, class_colors):
    """Static panels: a training-loss curve against epochs, and the predicted class over the plane
    (an image over ``extent``) with the data ``(X, y)`` on top. Returns (loss line, class image)."""
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(class_colors)
    (line,) = ax_loss.semilogy(epochs, losses, label="Adam", color=COLORS["Adam"], linewidth=1)
    ax_loss.set_ylim(3e-3, 3)
    ax_loss.set_xlabel("epochs")
    ax_loss.set_ylabel("training loss")
    regions = ax_regions.imshow(predicted, origin="lower", extent=extent, cmap=cmap, alpha=0.35,
                                vmin=0, vmax=len(class_colors) - 1)
    X, y = data
    for label, marker in zip(range(len(class_colors)), "osD^v", strict=False):  # shape as well as colour
        ax_regions.scatter(*X[y == label].T, s=8, marker=marker, color=class_colors[label])
    ax_regions.set_xlabel("feature 1")
    ax_regions.set_ylabel("feature 2")
    return line, regions


def learning_rate_choice(runs, predicted, epochs, data, extent, class_colors, readout, learning_rate):
    """A slider over the finished runs (``runs`` and ``predicted`` keyed by learning rate): the loss
    curve and the decision regions swap in; ``readout(learning_rate, run)`` writes the numbers."""
    sliders = {"learning_rate": choice_slider("learning rate", list(runs), learning_rate)}
    explorer = Explorer(sliders, None, alt=ALT_TEXT["learning_rate_choice"], figsize=(10, 4), ncols=2)
    ax_loss, ax_regions = explorer.axes
    line, regions = draw_training(ax_loss, ax_regions, epochs, runs[learning_rate].losses,
                                  predicted[learning_rate], data, extent, class_colors)
    ax_regions.set_title("predicted class after training")

    def update(learning_rate):
        line.set_ydata(runs[learning_rate].losses)
        regions.set_data(predicted[learning_rate])
        ax_loss.set_title(f"Adam, lr = {learning_rate:g}: training loss")
        return readout(learning_rate, runs[learning_rate])

    explorer.update_function = update
    return explorer
