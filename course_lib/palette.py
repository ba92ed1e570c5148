"""The course's look for each optimizer: colour, line style and marker (pure data and numpy, no plotting).

Colours come from the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design",
https://jfly.uni-koeln.de/color/), chosen to stay apart for the common colour-vision deficiencies.
Eight colours cannot give a dozen optimizers a colour each, and a colour alone never carries a
comparison: every style also has its own line style and marker, so a figure reads in greyscale too.
Optimizers of one family share a colour (Adam, Adam (almost), AdamW; Newton and L-BFGS) and differ in
line style and marker.

The colour-vision-deficiency check (``confusable_pairs``, tested in tests/test_palette.py):
simulate protanopia, deuteranopia and tritanopia with the full-severity matrices of Machado,
Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color vision
deficiency", IEEE TVCG 15(6), applied in linear sRGB; convert to CIELAB (D65) and measure the
CIE76 colour difference ΔE*ab. Two styles whose colours come closer than ``MIN_DELTA_E`` for
normal vision or any simulated deficiency must differ in both line style and marker
(``pairs_told_apart_by_colour_alone`` lists those that do not; it must stay empty).
"""

from __future__ import annotations

import itertools

import numpy as np

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",  # too pale for a line on white: not used for optimizers
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}


def _style(colour, linestyle, marker):
    return {"color": OKABE_ITO[colour], "linestyle": linestyle, "marker": marker}


# One entry per optimizer name as the course (and course_lib.optim) spells it; "theory" is the
# reference curve a measurement is compared with.
STYLES = {
    "GD": _style("blue", "-", "o"),
    "Momentum": _style("orange", "--", "s"),
    "Nesterov": _style("bluish green", "-.", "^"),
    "AdaGrad": _style("reddish purple", ":", "v"),
    "RMSProp": _style("vermillion", "-", "D"),
    "Adam": _style("sky blue", "-", "P"),
    "Adam (almost)": _style("sky blue", ":", "X"),
    "AdamW": _style("sky blue", "--", "d"),
    "Newton": _style("black", "-", "*"),
    "saddle-free Newton": _style("vermillion", "-.", "h"),
    "BFGS": _style("reddish purple", "-", "p"),
    "L-BFGS": _style("black", "--", "x"),
    "theory": _style("black", ":", None),
}
# SGD is gradient descent on minibatch gradients: the same method, drawn the same way.
ALIASES = {"SGD": "GD"}
STYLES.update({alias: STYLES[name] for alias, name in ALIASES.items()})

# Below this CIE76 difference two thin lines are easily confused (ΔE ≈ 2.3 is a just-noticeable
# difference for patches; lines need far more).
MIN_DELTA_E = 20.0

# Machado et al. (2009), severity 1.0; rows give the simulated linear R, G, B.
CVD_MATRICES = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
VISIONS = ("normal", *CVD_MATRICES)

# sRGB (linear) to CIE XYZ, D65 white (IEC 61966-2-1).
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_D65 = _RGB_TO_XYZ.sum(axis=1)


def hex_to_linear_rgb(colour):
    """'#RRGGBB' -> linear-light sRGB in [0, 1] (the inverse of the sRGB transfer curve)."""
    value = colour.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"expected a colour as '#RRGGBB', got {colour!r}")
    srgb = np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)]) / 255
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def simulate(linear_rgb, vision):
    """How a colour (linear sRGB) looks with a deficiency; 'normal' returns it unchanged."""
    if vision == "normal":
        return np.asarray(linear_rgb, dtype=float)
    if vision not in CVD_MATRICES:
        raise ValueError(f"unknown vision {vision!r}; known: {', '.join(VISIONS)}")
    return np.clip(CVD_MATRICES[vision] @ linear_rgb, 0.0, 1.0)


def to_lab(linear_rgb):
    """Linear sRGB -> CIELAB (L*, a*, b*) under D65."""
    t = (_RGB_TO_XYZ @ linear_rgb) / _D65
    delta = 6 / 29
    f = np.where(t > delta**3, np.cbrt(t), t / (3 * delta**2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(colour_a, colour_b, vision="normal"):
    """CIE76 ΔE*ab between two '#RRGGBB' colours as seen with ``vision``."""
    lab_a, lab_b = (to_lab(simulate(hex_to_linear_rgb(c), vision)) for c in (colour_a, colour_b))
    return float(np.linalg.norm(lab_a - lab_b))


def confusable_pairs(styles=None, min_delta_e=MIN_DELTA_E):
    """Pairs of style names whose colours, for some vision, differ by less than ``min_delta_e``.

    Returns {(name_a, name_b): (smallest ΔE, vision where it occurs)}; aliases are skipped.
    """
    styles = {k: v for k, v in (STYLES if styles is None else styles).items() if k not in ALIASES}
    close = {}
    for a, b in itertools.combinations(styles, 2):
        worst = min(((delta_e(styles[a]["color"], styles[b]["color"], v), v) for v in VISIONS),
                    key=lambda pair: pair[0])
        if worst[0] < min_delta_e:
            close[a, b] = worst
    return close


def pairs_told_apart_by_colour_alone(styles=None, min_delta_e=MIN_DELTA_E):
    """The confusable pairs (see ``confusable_pairs``) that share a line style or a marker."""
    styles = STYLES if styles is None else styles
    return {(a, b): found for (a, b), found in confusable_pairs(styles, min_delta_e).items()
            if styles[a]["linestyle"] == styles[b]["linestyle"] or styles[a]["marker"] == styles[b]["marker"]}
