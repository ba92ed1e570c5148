"""Plotting helpers shared by every notebook: one look per optimizer, contours, paths and loss curves.

Each optimizer keeps its colour, line style and marker across the whole course (``STYLES``, from
course_lib.palette: Okabe–Ito colours, checked for colour-vision deficiencies), so no comparison
rests on colour alone. Functions draw on a given matplotlib ``Axes`` and return the artists they
create, so explorers can update them in place.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
from matplotlib import patheffects

from course_lib.palette import ALIASES, STYLES

COLORS = {name: style["color"] for name, style in STYLES.items()}
# A white rim under every path keeps it readable on any contour colour (viridis runs from dark
# purple to yellow, so no single path colour contrasts with all of it).
HALO = "#FFFFFF"
# Explorer images are shown at EXPLORER_CSS_DPI CSS pixels per inch of figure size and drawn with
# EXPLORER_PIXEL_RATIO device pixels per CSS pixel, so they stay sharp on 2x (HiDPI) screens.
EXPLORER_CSS_DPI = 80
EXPLORER_PIXEL_RATIO = 2


def _name(optimizer):
    return optimizer if isinstance(optimizer, str) else type(optimizer).__name__


def style_of(name):
    """The course style of an optimizer (name or object): {'color', 'linestyle', 'marker'}."""
    key = _name(name)
    if key not in STYLES:
        raise KeyError(f"no course style for {key!r}; known: {', '.join(STYLES)}")
    return dict(STYLES[key])


def color_of(name):
    """The course colour of an optimizer, looked up by its name or by an optimizer object."""
    return style_of(name)["color"]


def _line_style(label, color, defaults, kwargs):
    """Course style for a known optimizer label (colour overridable); a custom label needs a colour."""
    if color is None or _name(label) in STYLES:
        style = style_of(label)
    else:
        style = {}
    if color is not None:
        style["color"] = color
    return {**defaults, **style, **kwargs}


def loss_grid(problem, xlim, ylim, num=200):
    """(X, Y, Z) of a 2-D problem's loss on a num x num grid; compute once, draw many times."""
    X, Y = np.meshgrid(np.linspace(*xlim, num), np.linspace(*ylim, num))
    return X, Y, problem.loss_grid(X, Y)


def draw_contours(ax, grid, levels=30, log=None, minimizer=None):
    """Filled-free contour lines of a precomputed grid; log-spaced levels for positive losses. They
    are a background (zorder 1): a path or a marker drawn on them stays on top, even when the
    contours are drawn again after it (an explorer swapping in another bowl's)."""
    X, Y, Z = grid
    positive = np.nanmin(Z) > 0
    if log is None:
        log = positive and np.nanmax(Z) / max(np.nanmin(Z), 1e-300) > 1e3
    if log:
        lo = max(np.nanmin(Z), np.nanmax(Z) * 1e-8)
        levels = np.geomspace(lo, np.nanmax(Z), levels)
        artist = ax.contour(X, Y, Z, levels=levels, cmap="viridis", norm=mcolors.LogNorm(),
                            linewidths=0.8, zorder=1)
    else:
        artist = ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8, zorder=1)
    if minimizer is not None:
        ax.plot(*minimizer, marker="*", color="k", markersize=12, linestyle="none", label="minimum")
    ax.set_xlim(X.min(), X.max())
    ax.set_ylim(Y.min(), Y.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return artist


def draw_path(ax, points, label, color=None, **kwargs):
    """A trajectory as a line with a marker at every iterate, on a white rim; returns the Line2D.

    A course optimizer's name as ``label`` gives its colour, line style and marker; any other label
    needs a ``color``. Keyword arguments override the style (update the line with set_data).
    """
    points = np.asarray(points)
    style = _line_style(label, color, {"marker": "o", "linestyle": "-"}, kwargs)
    style.setdefault("markersize", 3)
    style.setdefault("linewidth", 1.2)
    if "path_effects" not in style:
        rim = style["linewidth"] + 2
        style["path_effects"] = [patheffects.withStroke(linewidth=rim, foreground=HALO)]
    (line,) = ax.plot(points[:, 0], points[:, 1], label=label, **style)
    return line


def draw_loss_curve(ax, values, label, color=None, ylabel="loss − min loss", **kwargs):
    """Loss (or distance) against step on a log y-axis, markers spaced along it; returns the Line2D."""
    values = np.asarray(values, dtype=float)
    style = _line_style(label, color, {"linestyle": "-", "marker": None}, kwargs)
    style.setdefault("markevery", 0.1)  # evenly spaced along the drawn curve, whatever its length
    (line,) = ax.semilogy(np.arange(len(values)), values, label=label, **style)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    return line


def draw_style_key(ax):
    """Every optimizer's line, marker and name, one row each (the course's key to its figures)."""
    names = [name for name in STYLES if name not in ALIASES]
    for row, name in enumerate(names):
        aliases = [alias for alias, target in ALIASES.items() if target == name]
        ax.plot([0, 1, 2], [-row] * 3, **STYLES[name], markersize=7, linewidth=2)
        ax.text(2.3, -row, " / ".join([name, *aliases]), va="center")
    ax.set_xlim(-0.3, 5)
    ax.set_ylim(-len(names) + 0.5, 0.5)
    ax.set_axis_off()


def positive_floor(values, floor=1e-300):
    """Values safe for a log axis (gaps below ``floor`` would vanish from the plot)."""
    return np.maximum(np.asarray(values, dtype=float), floor)


def animate_paths(figure, races, num_frames=30, interval=150):
    """Trajectories that grow frame by frame (a race); show it with ``.to_jshtml()``.

    ``races`` is a list of ``(ax, {label: points})``; frame k reveals the first (k+1)/num_frames of
    every path, so runs of different lengths finish together. Returns the ``FuncAnimation``.
    """
    from matplotlib.animation import FuncAnimation

    lines = [(draw_path(ax, points[:1], label), np.asarray(points))
             for ax, paths in races for label, points in paths.items()]

    def show_frame(k):
        for line, points in lines:
            n = max(1, round(len(points) * (k + 1) / num_frames))
            line.set_data(points[:n, 0], points[:n, 1])
        return [line for line, _ in lines]

    return FuncAnimation(figure, show_frame, frames=num_frames, interval=interval, blit=False)
