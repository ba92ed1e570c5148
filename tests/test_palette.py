"""The course's optimizer styles (course_lib.palette, course_lib.plots): readable without colour.

The colour-vision-deficiency check simulates protanopia, deuteranopia and tritanopia (Machado et al.
2009) and measures CIELAB ΔE between every two optimizer colours; pairs that come too close must
differ in line style and marker. The check itself is tested on colours known to collide.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_lib import palette, plots


def _names():
    return [name for name in palette.STYLES if name not in palette.ALIASES]


def test_lab_conversion_matches_published_values():
    # sRGB white and primaries in CIELAB (D65), as colour-science tables give them.
    for colour, lab in {"#FFFFFF": (100, 0, 0), "#FF0000": (53.24, 80.09, 67.20),
                        "#0000FF": (32.30, 79.19, -107.86), "#808080": (53.59, 0, 0)}.items():
        assert np.allclose(palette.to_lab(palette.hex_to_linear_rgb(colour)), lab, atol=0.02), colour


def test_simulation_merges_red_and_green_for_deuteranopes_only():
    red, green = "#FF0000", "#00AA00"
    assert palette.delta_e(red, green) > 100
    assert palette.delta_e(red, green, "deuteranopia") < 15
    assert palette.delta_e(red, green, "tritanopia") > 100
    assert palette.confusable_pairs({"a": {"color": red}, "b": {"color": green}}) == {
        ("a", "b"): (pytest.approx(palette.delta_e(red, green, "deuteranopia")), "deuteranopia")}
    with pytest.raises(ValueError, match="known: normal"):
        palette.delta_e(red, green, "monochromacy")
    with pytest.raises(ValueError, match="#RRGGBB"):
        palette.hex_to_linear_rgb("red")


def test_colours_that_collide_for_some_vision_differ_in_line_style_and_marker():
    pairs = palette.confusable_pairs()
    # The Okabe–Ito colours are distinct but not far apart for every deficiency: the rule has work to do.
    assert any(vision != "normal" for _, vision in pairs.values())
    clash = palette.pairs_told_apart_by_colour_alone()
    assert clash == {}, f"too close in colour and alike in style (ΔE, vision): {clash}"
    alike = {"a": {"color": "#FF0000", "linestyle": "-", "marker": "o"},
             "b": {"color": "#00AA00", "linestyle": "-", "marker": "s"}}
    assert list(palette.pairs_told_apart_by_colour_alone(alike)) == [("a", "b")]


def test_every_optimizer_is_told_apart_in_greyscale():
    markers = [palette.STYLES[name]["marker"] for name in _names()]
    assert len(markers) == len(set(markers)), "two optimizers share a marker"
    assert all(palette.STYLES[name]["color"] not in {palette.OKABE_ITO["yellow"]} for name in _names())


def test_every_path_colour_stands_out_from_its_white_rim():
    for name in _names():
        for vision in palette.VISIONS:
            difference = palette.delta_e(palette.STYLES[name]["color"], plots.HALO, vision)
            assert difference >= palette.MIN_DELTA_E, (name, vision, difference)


def test_draw_path_and_loss_curve_use_the_course_style():
    figure = Figure()
    ax_path, ax_loss = figure.subplots(1, 2)
    plots.draw_contours(ax_path, plots.loss_grid(_Bowl(), (-1, 1), (-1, 1), num=20))
    for name in ("Nesterov", "AdaGrad", "SGD"):
        style = plots.style_of(name)
        for line in (plots.draw_path(ax_path, np.zeros((3, 2)), name),
                     plots.draw_loss_curve(ax_loss, [1.0, 0.5, 0.25], name)):
            assert line.get_color() == style["color"] and line.get_linestyle() == style["linestyle"]
            assert line.get_marker() == style["marker"]
    custom = plots.draw_path(ax_path, np.zeros((3, 2)), "α = 0.1", color="0.5", linestyle=":")
    assert custom.get_linestyle() == ":" and custom.get_color() == "0.5"
    with pytest.raises(KeyError, match="no course style for 'Adamm'"):
        plots.draw_path(ax_path, np.zeros((3, 2)), "Adamm")


def test_a_path_is_drawn_on_a_white_rim_visible_on_dark_contours():
    figure = Figure(figsize=(2, 2), dpi=50, facecolor="black")
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1), facecolor="black", xlim=(-1, 1), ylim=(-1, 1))
    ax.set_axis_off()
    plots.draw_path(ax, [[-0.8, 0.0], [0.8, 0.0]], "Newton")  # a black path on black
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3]
    assert (pixels.min(axis=-1) > 200).sum() > 50, "no white rim around the path"


class _Bowl:
    def loss_grid(self, X, Y):
        return X**2 + 10 * Y**2


def test_style_key_shows_every_optimizer_once_with_its_aliases():
    ax = Figure().subplots()
    plots.draw_style_key(ax)
    assert [line.get_marker() for line in ax.lines] == [str(palette.STYLES[n]["marker"]) for n in _names()]
    labels = [text.get_text() for text in ax.texts]
    assert "GD / SGD" in labels and len(labels) == len(_names())
