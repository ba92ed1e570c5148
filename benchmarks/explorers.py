"""Section 2: kernel time per slider update of every explorer, against a naive full redraw.

The explorers are found by executing each lecture notebook (``benchmarks.notebooks`` does that) and
then, in the same kernel, collecting every live ``course_lib.widgets.Explorer``. Each slider is
moved as a reader would (``explorer.set``), and ``explorer.update_seconds`` records the kernel time
of the in-place update + PNG render.

The naive baseline is what ``ipywidgets.interact`` with a fresh plot per change costs: for the same
slider values, the notebook's update (its time inside that move's refresh), then the whole figure
rebuilt as a new one (a pickle round trip creates every artist again: axes, contour lines, paths,
text), laid out and rendered as the inline backend does (``bbox_inches="tight"``). It does not
recompute contour levels from the loss, so it is cheaper than a literal naive redraw; a reference
explorer measures that difference.
"""

from __future__ import annotations

import gc
import io
import pickle
import sys
import time

import numpy as np

from benchmarks.timing import Spread, in_fresh_process, pin_threads, section

FRACTIONS = (0.3, 0.7, 0.5)  # slider positions visited, as fractions of each slider's range
PROFILE_FRACTION = 0.9  # one more, profiled, move
TARGET_RATIO, TARGET_SECONDS = 0.5, 0.1
LAYOUT = "constrained"  # the layout an Explorer's figure is created with


def _target_value(control, fraction):
    """A value ``fraction`` of the way along a control's range (log sliders: in exponent)."""
    if hasattr(control, "options"):
        options = list(control.options)
        return options[int(fraction * len(options)) % len(options)] if options else control.value
    if isinstance(control.value, bool):
        return not control.value
    lo, hi = control.min, control.max
    value = lo + fraction * (hi - lo)
    if type(control).__name__ == "FloatLogSlider":
        return control.base**value
    return round(value) if isinstance(control.value, int) else value


def naive_redraw(explorer, update_seconds):
    """Seconds for an ``interact``-style redraw of ``explorer`` at its current slider values.

    The notebook's update already ran inside the explorer's refresh (``update_seconds``); running it
    again here could hit a cache that the first call filled, so its measured time is added instead.
    """
    start = time.perf_counter()
    figure = pickle.loads(pickle.dumps(explorer.figure))
    figure.set_layout_engine(LAYOUT)  # a fresh figure is laid out again (the Explorer keeps its first layout)
    figure.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    return update_seconds + time.perf_counter() - start


class _TimedUpdate:
    """Stands in for an explorer's update function and records how long each call takes."""

    def __init__(self, explorer):
        self.explorer, self.function, self.seconds = explorer, explorer.update_function, []

    def __call__(self, **values):
        start = time.perf_counter()
        text = self.function(**values)
        self.seconds.append(time.perf_counter() - start)
        return text

    def __enter__(self):
        self.explorer.update_function = self
        return self

    def __exit__(self, *_):
        self.explorer.update_function = self.function


def _cumulative(stats, filename_end, name):
    """Cumulative seconds of the profiled function ``name`` defined in a file ending ``filename_end``."""
    return sum(entry[3] for (filename, _, function), entry in stats.items()
               if filename.endswith(filename_end) and function == name)


def profile_update(explorer, name, value):
    """Where one update's kernel time goes, as fractions of ``refresh`` (under cProfile).

    The profiled move sets slider ``name`` to ``value``, which should not have been visited before
    (a cached result would hide the notebook's own computation).
    """
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(explorer.set, **{name: value})
    stats = pstats.Stats(profiler).stats
    total = _cumulative(stats, "widgets.py", "refresh")
    code = getattr(explorer.update_function, "function", explorer.update_function).__code__
    # Every artist's draw goes through artist.py's draw_wrapper; its outermost calls are the drawing.
    drawing = [entry[3] for (filename, _, function), entry in stats.items()
               if filename.endswith("artist.py") and function == "draw_wrapper"]
    shares = {
        "notebook's update function": _cumulative(stats, code.co_filename, code.co_name),
        "constrained layout": _cumulative(stats, "_constrained_layout.py", "do_constrained_layout"),
        "matplotlib drawing": max(drawing, default=0.0),
        "PNG encoding": sum(entry[3] for (_, _, name), entry in stats.items() if "ImagingEncoder" in name),
    }
    shares["matplotlib drawing"] -= shares["constrained layout"]  # layout runs inside the figure's draw
    shares["other (compositing, widget messages)"] = total - sum(shares.values())
    shares["tick updates (part of layout and drawing)"] = _cumulative(stats, "axis.py", "_update_ticks")
    return {name: seconds / total for name, seconds in shares.items()}


def _name_of(explorer, index):
    namespace = vars(sys.modules["__main__"])
    names = [k for k, v in namespace.items() if v is explorer and not k.startswith("_")]
    return names[0] if names else f"explorer #{index + 1}"


def _is_instance(obj, cls):
    try:
        return isinstance(obj, cls)
    except ReferenceError:  # a weakref.proxy whose object is gone
        return False


def _move_sliders(explorer, fractions):
    """Move each slider to each fraction of its range; the kernel time of every update and naive redraw."""
    updates, naive = [], []
    with _TimedUpdate(explorer) as timed:
        for name, control in explorer.sliders.items():
            for fraction in fractions:
                before = len(explorer.update_seconds)
                explorer.set(**{name: _target_value(control, fraction)})
                if len(explorer.update_seconds) > before:  # the value changed: one timed update
                    updates.append(explorer.update_seconds[-1])
                    naive.append(naive_redraw(explorer, timed.seconds[-1]))
    return updates, naive


def _profiled_move(explorer):
    """Profile one more move, of the first slider to a position not visited before."""
    name, control = next(iter(explorer.sliders.items()))
    return profile_update(explorer, name, _target_value(control, PROFILE_FRACTION))


def measure_live_explorers(fractions=FRACTIONS):
    """Move every slider of every live Explorer; return per-explorer update and naive times."""
    from course_lib.widgets import Explorer

    pin_threads(1)
    explorers = [o for o in gc.get_objects() if _is_instance(o, Explorer)]
    results = []
    for index, explorer in enumerate(explorers):
        result = {"name": _name_of(explorer, index)}
        try:
            result["update"], result["naive"] = _move_sliders(explorer, fractions)
            result["profile"] = _profiled_move(explorer)
        except Exception as error:  # noqa: BLE001 - one broken explorer must not hide the others
            result["error"] = f"{type(error).__name__}: {error}"
        results.append(result)
    return results


def reference_explorer(num_moves):
    """A typical explorer (200×200 contour + GD path) with a literal naive redraw for calibration."""
    from matplotlib.figure import Figure

    from course_lib.optim import SGD, run
    from course_lib.plots import draw_contours, draw_path, loss_grid
    from course_lib.problems import Rosenbrock
    from course_lib.widgets import Explorer, slider

    pin_threads(1)
    problem, start, limits = Rosenbrock(), np.array([-1.2, 1.0]), ((-2, 2), (-1, 3))

    def draw_from_scratch(learning_rate):
        figure = Figure(figsize=(6, 4), dpi=explorer.figure.dpi, layout="constrained")  # as the explorer
        ax = figure.subplots()
        draw_contours(ax, loss_grid(problem, *limits, num=200), minimizer=problem.minimizer)
        draw_path(ax, run(SGD(learning_rate), problem, start, 100).points, label="GD")
        ax.set(title=f"GD, α = {learning_rate:.2g}", xlabel="x", ylabel="y")
        figure.savefig(io.BytesIO(), format="png", bbox_inches="tight")

    def update(learning_rate):
        path.set_data(*run(SGD(learning_rate), problem, start, 100).points.T)
        explorer.axes[0].set_title(f"GD, α = {learning_rate:.2g}")
        return f"α = {learning_rate:.2g}"

    explorer = Explorer({"learning_rate": slider("learning rate", 1e-3, -4, -2.5, log=True)}, update,
                        figsize=(6, 4))
    ax = explorer.axes[0]
    draw_contours(ax, loss_grid(problem, *limits, num=200), minimizer=problem.minimizer)
    path = draw_path(ax, run(SGD(1e-3), problem, start, 100).points, label="GD")
    ax.set(xlabel="x", ylabel="y")
    explorer.refresh()
    updates, generic, literal = [], [], []
    with _TimedUpdate(explorer) as timed:
        for k in range(num_moves):
            explorer.set(learning_rate=10 ** (-4 + 1.5 * (k + 1) / (num_moves + 1)))
            updates.append(explorer.update_seconds[-1])
            generic.append(naive_redraw(explorer, timed.seconds[-1]))
            start_time = time.perf_counter()
            draw_from_scratch(explorer.values["learning_rate"])
            literal.append(time.perf_counter() - start_time)
    profile = _profiled_move(explorer)
    return {"update": updates, "naive": generic, "literal naive": literal, "profile": profile}


def _row(name, result):
    update, naive = Spread(result["update"]), Spread(result["naive"])
    ratios = Spread([u / n for u, n in zip(result["update"], result["naive"], strict=True)])
    ok = ratios.median <= TARGET_RATIO and update.median < TARGET_SECONDS
    verdict = "yes" if ok else "**no**"
    return [name, str(len(update.values)), update.ms(), naive.ms(), ratios.ratio(), verdict], ok


def run(notebook_results, quick=False):
    """Build the section from explorer measurements gathered while the notebooks ran."""
    header = ["explorer", "updates", "update (ms)", "naive redraw (ms)", "update / naive", "target met"]
    rows, verdicts, profiles = [], [], []
    reference = in_fresh_process("explorers", "reference_explorer", num_moves=3 if quick else 8)
    row, ok = _row("reference: Rosenbrock 200×200 contour + GD path (benchmarks)", reference)
    rows.append(row)
    profiles.append((row[0], ok, reference["profile"]))
    literal = Spread([g / t for g, t in zip(reference["naive"], reference["literal naive"], strict=True)])
    for notebook, explorers in notebook_results.items():
        for result in explorers:
            if "error" in result:
                rows.append([f"{notebook}: `{result['name']}`", "—", "—", "—", "—",
                             f"**measurement failed**: {result['error'][:200]}"])
            elif result["update"]:
                row, ok = _row(f"{notebook}: `{result['name']}`", result)
                rows.append(row)
                profiles.append((row[0], ok, result["profile"]))
                verdicts.append((f"{notebook} `{result['name']}` ≤ {TARGET_RATIO}× naive and < "
                                 f"{1e3 * TARGET_SECONDS:.0f} ms", ok, row[4] + ", " + row[2] + " ms"))
    found = sum(len(v) for v in notebook_results.values())
    text = (
        f"Kernel time per slider move (Explorer's `update_seconds`: update + PNG render), each slider moved "
        f"to {len(FRACTIONS)} positions; {found} explorer(s) found in {len(notebook_results)} executed "
        "lecture notebook(s). Naive = the time of the notebook's update function in that move, plus the "
        "whole figure rebuilt as a new figure (pickle round trip), laid out and rendered with "
        "`bbox_inches='tight'` as inline `interact` does. "
        "It skips recomputing contours, so it is a lower bound on a literal naive redraw: on the reference "
        f"explorer it takes {literal.ratio()} the time of a literal one (new figure, loss grid, contour, "
        "path). Ratios: median (min–max) over moves. BLAS pinned to 1 thread."
    )
    parts = list(profiles[0][2])
    profile_rows = [[name, "yes" if ok else "**no**", *(f"{100 * shares[p]:.0f} %" for p in parts)]
                    for name, ok, shares in profiles]
    caption = "Profile: share of one update's kernel time (cProfile; one more move, to a new value)"
    extra = [(caption, ["explorer", "target met", *parts], profile_rows)]
    return section("2. Explorer responsiveness", text, header, rows, verdicts, extra)
