"""The Explorer's cached-layer rendering shows exactly what a full redraw would, and each lecture's
explorer reports what its lecture says it shows."""

import io
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from course_lib import optim, plots, problems
from course_lib.widgets import Explorer, slider


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def full_render(explorer):
    for ax in explorer.axes:
        for artist in ax.get_children():
            artist.set_animated(False)
    buffer = io.BytesIO()
    explorer.figure.savefig(buffer, format="png", dpi=explorer.figure.dpi)
    return buffer.getvalue()


def make_explorer():
    bowl = problems.Quadratic.with_condition_number(30.0, angle=0.4)
    grid = plots.loss_grid(bowl, (-3, 3), (-3, 3), num=60)
    explorer = Explorer({"learning_rate": slider("α", 0.01, 0.001, 0.06)}, update=None, ncols=2)
    ax_path, ax_loss = explorer.axes
    plots.draw_contours(ax_path, grid)
    path = plots.draw_path(ax_path, np.zeros((2, 2)), "SGD")
    loss = plots.draw_loss_curve(ax_loss, [1.0, 0.5], "SGD")
    explorer.figure.suptitle("fixed title")

    def update(learning_rate):
        run = optim.run(optim.SGD(learning_rate=learning_rate), bowl, [2.5, 2.0], 60)
        path.set_data(run.points[:, 0], run.points[:, 1])
        loss.set_data(np.arange(len(run.losses)), run.losses)
        ax_loss.relim()
        ax_loss.autoscale_view()
        ax_path.set_title(f"α = {learning_rate:.3g}")
        return f"marker α={learning_rate:.4f}"

    explorer.update_function = update
    return explorer


def test_updates_change_the_image_and_match_a_full_redraw():
    explorer = make_explorer()
    explorer.widget()
    first = explorer.image.value
    for value in (0.004, 0.03, 0.05):
        explorer.set(learning_rate=value)
        assert "marker α=" in explorer.readout.value and f"{value:.4f}" in explorer.readout.value
    assert explorer.image.value != first
    assert len(explorer.update_seconds) == 4
    # the moving artists were learned and the static ones were not
    ax_path = explorer.axes[0]
    assert ax_path.lines[0].get_animated() and ax_path.title.get_animated()
    assert not any(c.get_animated() for c in ax_path.collections)
    blitted = pixels(explorer.image.value)
    # drawn at twice the pixels of its CSS size, so it is sharp on 2x screens
    assert blitted.shape[1] == 2 * int(explorer.image.layout.width.removesuffix("px"))
    reference = pixels(full_render(explorer))
    assert blitted.shape == reference.shape
    assert np.abs(blitted - reference).max() <= 2  # rounding of the compositing only


def test_swapped_contours_one_changed_panel_and_figure_text_match_a_full_redraw():
    """Notebook 01's explorer swaps the bowl's contour set in when κ moves and rescales only the loss
    panel when α moves; a suptitle that follows κ changes the figure's own layer. After every move
    the cached-layer image equals a full render (the path stays on top of swapped-in contours)."""
    explorer = lecture_namespace("01_conditioning.ipynb", "setup", "explorer")["explorer"]
    lecture_update = explorer.update_function

    def update(**values):
        explorer.figure.suptitle(f"κ = {values['kappa']:.3g}")
        return lecture_update(**values)

    explorer.update_function = update
    explorer.widget()
    for values in ({"kappa": 10.0}, {"learning_rate": 0.5}, {"kappa": 1000.0}, {"learning_rate": 1.9},
                   {"kappa": 1000.0}):
        explorer.set(**values)
        blitted = pixels(explorer.image.value)
        # (a full render makes every artist static again: the next move learns them anew)
        reference = pixels(full_render(explorer))
        assert blitted.shape == reference.shape
        assert np.abs(blitted - reference).max() <= 2, values


# --- the lectures' explorers, built from the notebooks' own cells ----------------------------------
# Each test runs the cells a lecture's explorer needs (by cell id) and moves its sliders as a reader
# would; the readout must report what the lecture says it shows. Timings are in benchmarks/explorers.py.

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def lecture_namespace(notebook, *cell_ids):
    """Execute the named cells of a lecture notebook (in order, in the notebooks folder) and return
    their namespace; pyplot draws off-screen."""
    import matplotlib

    matplotlib.use("Agg")
    cells = {cell.id: cell for cell in nbformat.read(NOTEBOOKS / notebook, as_version=4).cells}
    missing = [cell_id for cell_id in cell_ids if cell_id not in cells]
    assert not missing, f"{notebook} has no cells {missing}"
    namespace = {"__name__": "__lecture__"}
    cwd = os.getcwd()
    try:
        os.chdir(NOTEBOOKS)
        for cell_id in cell_ids:
            exec(compile(cells[cell_id].source, f"{notebook}:{cell_id}", "exec"), namespace)  # noqa: S102
    finally:
        os.chdir(cwd)
    return namespace


def test_conditioning_explorer_01():
    explorer = lecture_namespace("01_conditioning.ipynb", "setup", "explorer")["explorer"]
    explorer.widget()
    assert "κ = 100, α = 0.9" in explorer.readout.value
    explorer.set(kappa=10.0, learning_rate=2.1)
    assert "κ = 10, α = 2.1" in explorer.readout.value and "diverged" in explorer.readout.value
    explorer.set(learning_rate=0.5)
    assert "loss after 60 steps" in explorer.readout.value and "diverged" not in explorer.readout.value
    # steep factor |1 - 0.5 * 1| and shallow factor |1 - 0.5 / 10|
    assert "|1−αλmax| = 0.5," in explorer.readout.value and "|1−αλmin| = 0.95;" in explorer.readout.value


def test_saddle_explorer_02():
    namespace = lecture_namespace("02_minima_saddles.ipynb", "setup", "stall", "explorer")
    explorer = namespace["explorer"]
    explorer.widget()
    explorer.set(eps=1e-9, learning_rate=0.1)
    escape = namespace["gd_near_saddle"](1e-9, 0.1)[1]
    assert "ε = 1.0e-09, α = 0.1" in explorer.readout.value
    assert f"after <b>{escape} steps" in explorer.readout.value
    # the escape step is the closed form ceil(ln(1/eps) / ln(1 + 2 alpha))
    assert escape == int(np.ceil(np.log(1e9) / np.log(1.2)))


def test_minibatch_explorer_03():
    namespace = lecture_namespace("03_minibatch_noise.ipynb", "setup", "finite-sum", "floor", "explorer")
    explorer = namespace["explorer"]
    explorer.widget()
    explorer.set(batch_size=1)
    assert "B = 1, α = 0.2" in explorer.readout.value and "noise scale α/B = 0.2;" in explorer.readout.value
    explorer.set(batch_size=256)
    readout = explorer.readout.value
    assert "B = 256, α = 0.2" in readout and "76800 examples processed" in readout  # 300 steps of 256
    floor = namespace["predicted_floor"](0.2, 256)
    assert f"predicted floor {floor:.3g})" in explorer.readout.value


def test_momentum_explorer_04():
    namespace = lecture_namespace("04_sgd_momentum.ipynb", "setup", "explorer")
    explorer = namespace["explorer"]
    explorer.widget()
    alpha, rho = round(namespace["alpha_best"], 2), round(namespace["rho_best"], 2)
    explorer.set(learning_rate=alpha, rho=rho)
    readout = explorer.readout.value  # near the optimum: momentum converges at about its optimal rate
    assert f"α = {alpha:.3g}, ρ = {rho:.2f}" in readout and "Momentum: rate 0.75" in readout
    assert "GD: rate 2.070, diverged" in readout  # alpha > 2 / lambda_max
    explorer.set(learning_rate=3.0, rho=0.2)  # beyond 2 + 2 rho = 2.4: both diverge
    assert explorer.readout.value.count("diverged") == 2
    explorer.set(learning_rate=2.2, rho=0.5)  # between 2 and 2 + 2 rho = 3: only gradient descent diverges
    assert "GD: rate 1.200, diverged" in explorer.readout.value
    momentum_rate = namespace["predicted_rates"](2.2, 0.5)["Momentum"]
    assert momentum_rate < 1 and f"Momentum: rate {momentum_rate:.3f}, distance" in explorer.readout.value


def test_nesterov_explorer_05():
    namespace = lecture_namespace("05_nesterov.ipynb", "setup", "lookahead", "proof", "paths", "eigen",
                                  "explorer")
    explorer = namespace["explorer"]
    explorer.widget()
    before = explorer.readout.value
    explorer.set(rho=0.97)
    assert "ρ=0.97" in explorer.readout.value and explorer.readout.value != before
    runs = namespace["momentum_runs"](0.97, 0.01)
    assert f"Nesterov {runs['Nesterov'].losses[-1]:.1e}" in explorer.readout.value
    # alpha lambda_max = 2.5: inside heavy ball's limit 2 + 2 rho, beyond Nesterov's (2 + 2 rho) / (1 + 2 rho)
    explorer.set(learning_rate=0.05)
    runs = namespace["momentum_runs"](0.97, 0.05)
    assert not runs["Momentum"].diverged and runs["Nesterov"].diverged
    assert "lr=0.0500" in explorer.readout.value
    assert f"Nesterov {runs['Nesterov'].message}" in explorer.readout.value


def test_rmsprop_explorer_06():
    namespace = lecture_namespace("06_adagrad_rmsprop.ipynb", "setup", "rmsprop-explorer")
    explorer = namespace["explorer"]
    explorer.widget()
    before = explorer.readout.value
    explorer.set(decay_rate=0.9)
    readout = explorer.readout.value
    assert "decay_rate=0.900" in readout and readout != before
    assert f"first step {1 / np.sqrt(1 - 0.9):.2f} × lr" in readout  # sqrt(10): the empty cache
    recovery = namespace["recovery_step"](namespace["rmsprop_ratios"](0.9)[1])
    assert f"back to ½ × lr at t = {recovery} " in readout and 100 < recovery < 200


def test_adam_explorer_07():
    namespace = lecture_namespace("07_adam.ipynb", "setup", "explorer")
    explorer = namespace["explorer"]
    explorer.widget()
    before = explorer.readout.value
    explorer.set(beta1=0.0)
    assert "β1=0.00" in explorer.readout.value and explorer.readout.value != before
    explorer.set(beta1=0.9, learning_rate=0.01)
    run = namespace["adam_run"](0.9, 0.999, 0.01)
    assert "lr=0.01" in explorer.readout.value and f"loss {run.losses[-1]:.2e}" in explorer.readout.value


def test_schedules_explorer_08():
    namespace = lecture_namespace("08_schedules.ipynb", "setup", "schedules-fig", "floor-setup", "explorer")
    explorer, decay_run = namespace["explorer"], namespace["decay_run"]
    explorer.widget()
    assert "× 0.1 every 1000 steps</b>: final rate 0.001;" in explorer.readout.value
    for step_size, gamma in ((1000, 1.0), (250, 0.1)):
        explorer.set(step_size=step_size, gamma=gamma)
        rates, excess, floors = decay_run(step_size, gamma)
        readout = explorer.readout.value
        assert f"× {gamma:.3g} every {step_size} steps</b>: final rate {rates[-1]:.3g};" in readout
        assert f"last 300 steps {np.mean(excess[-300:]):.2e}, floor" in readout
        assert f"the final rate {floors[-1]:.2e}" in readout
    assert np.mean(excess[-300:]) > 1e3 * floors[-1]  # decays faster than the loss can follow
    no_decay = decay_run(1000, 1.0)
    assert np.all(no_decay[0] == 0.1) and np.isclose(np.mean(no_decay[1][1000:]), no_decay[2][-1], rtol=0.3)


def test_newton_explorer_09():
    namespace = lecture_namespace("09_second_order.ipynb", "setup", "taylor-1d", "explorer")
    explorer = namespace["explorer"]
    explorer.widget()

    def newton_iterations():
        return int(explorer.readout.value.split("</b>: ")[1].split(" iterations")[0])

    iterations = {1.0: newton_iterations()}
    for t in (0.5, 0.25):
        explorer.set(newton_step=t)
        assert f"Newton step size t = {t:.2f}" in explorer.readout.value
        iterations[t] = newton_iterations()
    assert iterations[1.0] < iterations[0.5] < iterations[0.25]  # damping throws away quadratic convergence
    explorer.set(memory=1)
    lbfgs_result = namespace["explorer_runs"](0.25, 1)[1][0]
    assert f"L-BFGS memory m = 1</b>: {lbfgs_result.nit} iterations" in explorer.readout.value


@pytest.mark.slow  # trains the notebook's networks first (about 10 s)
def test_learning_rate_explorer_10():
    namespace = lecture_namespace("10_capstone.ipynb", "setup", "data", "race", "table", "explorer")
    explorer = namespace["explorer"]
    explorer.widget()
    for learning_rate in (1e-4, 1e-2):
        explorer.set(learning_rate=learning_rate)
        run = namespace["adam_runs"][learning_rate]
        assert f"Adam lr={learning_rate:g}</b>: final loss {run.losses[-1]:.4f}" in explorer.readout.value
    assert "loss &lt; 0.1 after None steps" not in explorer.readout.value  # 1e-2 gets there
