"""Plotting helpers shared by every notebook: one palette, contours, paths and loss curves.

Each optimizer keeps its colour across the whole course (``COLORS``). Functions draw on a given
matplotlib ``Axes`` and return the artists they create, so explorers can update them in place.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np

COLORS = {
    "GD": "#1f77b4",
    "SGD": "#1f77b4",
    "Momentum": "#ff7f0e",
    "Nesterov": "#2ca02c",
    "AdaGrad": "#d62728",
    "RMSProp": "#9467bd",
    "Adam": "#8c564b",
    "Adam (almost)": "#e377c2",
    "Newton": "#17becf",
    "saddle-free Newton": "#bcbd22",
    "BFGS": "#7f7f7f",
    "L-BFGS": "#393b79",
    "theory": "#000000",
}


def color_of(name):
    """The course colour of an optimizer, looked up by its name or by an optimizer object."""
    key = name if isinstance(name, str) else type(name).__name__
    if key not in COLORS:
        raise KeyError(f"no course colour for {key!r}; known: {', '.join(COLORS)}")
    return COLORS[key]


def loss_grid(problem, xlim, ylim, num=200):
    """(X, Y, Z) of a 2-D problem's loss on a num x num grid; compute once, draw many times."""
    X, Y = np.meshgrid(np.linspace(*xlim, num), np.linspace(*ylim, num))
    return X, Y, problem.loss_grid(X, Y)


def draw_contours(ax, grid, levels=30, log=None, minimizer=None):
    """Filled-free contour lines of a precomputed grid; log-spaced levels for positive losses."""
    X, Y, Z = grid
    positive = np.nanmin(Z) > 0
    if log is None:
        log = positive and np.nanmax(Z) / max(np.nanmin(Z), 1e-300) > 1e3
    if log:
        lo = max(np.nanmin(Z), np.nanmax(Z) * 1e-8)
        levels = np.geomspace(lo, np.nanmax(Z), levels)
        artist = ax.contour(X, Y, Z, levels=levels, cmap="viridis", norm=mcolors.LogNorm(),
                            linewidths=0.8)
    else:
        artist = ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
    if minimizer is not None:
        ax.plot(*minimizer, marker="*", color="k", markersize=12, linestyle="none", label="minimum")
    ax.set_xlim(X.min(), X.max())
    ax.set_ylim(Y.min(), Y.max())
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return artist


def draw_path(ax, points, label, color=None, **kwargs):
    """A trajectory as a line with small markers; returns the Line2D (update it with set_data)."""
    points = np.asarray(points)
    style = {"marker": "o", "linestyle": "-", "markersize": 2.5, "linewidth": 1.2, **kwargs}
    (line,) = ax.plot(points[:, 0], points[:, 1], label=label, color=color or color_of(label), **style)
    return line


def draw_loss_curve(ax, values, label, color=None, ylabel="loss − min loss", **kwargs):
    """Loss (or distance) against step on a log y-axis; returns the Line2D."""
    values = np.asarray(values, dtype=float)
    (line,) = ax.semilogy(np.arange(len(values)), values, label=label,
                          color=color or color_of(label), **kwargs)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    return line


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
