"""The markers a template uses and the helpers that read and rewrite what lies between them.

One module for every stage that cuts or fills regions, so all read the markers the same way:
``assignment`` validates them, ``release`` replaces answers by ``stub``s and drops hidden checks
and rubrics, ``splice`` puts a submission's answers back into the template, and the grader finds
the hidden region of a check cell. A region is the lines strictly between a begin marker and its
end marker (each marker alone on its line, any indentation); regions do not nest.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
BEGIN_RUBRIC = "### BEGIN RUBRIC"
END_RUBRIC = "### END RUBRIC"
MARKERS = ((BEGIN_SOLUTION, END_SOLUTION), (BEGIN_HIDDEN, END_HIDDEN), (BEGIN_RUBRIC, END_RUBRIC))

WRITTEN_STUB = "*Write your answer here.*"  # a written answer's region in the student's notebook


def stub(hint: str) -> str:
    """What an answer region holds in the student's notebook: code that raises with the hint."""
    return f"raise NotImplementedError({hint!r})"


class RegionError(ValueError):
    """Markers that do not pair up (BEGIN without END, END without BEGIN, nested BEGIN)."""


@dataclass(frozen=True)
class Region:
    """Lines ``begin``..``end`` (0-based, the marker lines) of a cell; ``text`` is what lies between,
    dedented; ``indent`` is the begin marker's indentation."""

    begin: int
    end: int
    indent: str
    text: str


def find_regions(source: str, begin: str = BEGIN_SOLUTION, end: str = END_SOLUTION) -> list[Region]:
    """Every ``begin``/``end`` marker pair in ``source``, in order. Raises RegionError if unbalanced."""
    lines = source.splitlines()
    regions, start = [], None
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped == begin:
            if start is not None:
                raise RegionError(f"line {number + 1}: {begin!r} before the previous one was closed")
            start = number
        elif stripped == end:
            if start is None:
                raise RegionError(f"line {number + 1}: {end!r} without a matching {begin!r}")
            indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
            body = textwrap.dedent("\n".join(lines[start + 1 : number]))
            regions.append(Region(start, number, indent, body))
            start = None
    if start is not None:
        raise RegionError(f"line {start + 1}: {begin!r} is never closed by {end!r}")
    return regions


def replace_regions(source: str, replacements, begin: str = BEGIN_SOLUTION, end: str = END_SOLUTION) -> str:
    """``source`` with the text between each marker pair replaced by the next item of ``replacements``
    (dedented text, re-indented to the marker's level). The markers themselves stay."""
    regions = find_regions(source, begin, end)
    replacements = list(replacements)
    if len(replacements) != len(regions):
        raise RegionError(f"{len(regions)} regions but {len(replacements)} replacements")
    lines = source.splitlines()
    for region, text in reversed(list(zip(regions, replacements, strict=True))):
        body = textwrap.indent(textwrap.dedent(text).strip("\n"), region.indent, lambda _: True)
        lines[region.begin + 1 : region.end] = body.splitlines()
    return "\n".join(lines)


def remove_regions(source: str, begin: str = BEGIN_HIDDEN, end: str = END_HIDDEN) -> str:
    """``source`` without the marker pairs and what lies between them (trailing blank lines dropped)."""
    lines = source.splitlines()
    for region in reversed(find_regions(source, begin, end)):
        del lines[region.begin : region.end + 1]
    return "\n".join(lines).rstrip()
