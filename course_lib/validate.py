"""Argument checks shared by the math modules: each raises ValueError naming the argument."""

from __future__ import annotations

import math


def _number(name, value):
    try:
        if isinstance(value, str | bytes):  # float("1") would accept text
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def positive(name, value):
    """``value`` as a float, if it is finite and > 0."""
    number = _number(name, value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def nonnegative(name, value):
    """``value`` as a float, if it is finite and >= 0."""
    number = _number(name, value)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def unit_interval(name, value):
    """``value`` as a float, if it lies in [0, 1) (a decay rate: 1 would never forget)."""
    number = _number(name, value)
    if not 0 <= number < 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return number


def count(name, value, minimum):
    """``value`` as an int, if it is a whole number >= ``minimum`` (2.0 passes, 2.5 and True do not)."""
    number = _number(name, value)
    if isinstance(value, bool) or not math.isfinite(number) or number != int(number) or number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(number)
