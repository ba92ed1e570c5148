"""The course as students see it: JupyterLab in chromium, run through the UI, sliders moved by keyboard.

Notebooks are discovered, not listed: every lecture notebook whose source builds an ``Explorer(`` is
tested (plus a tiny fixture that keeps the harness itself honest), so notebooks added later are
covered without editing this file. Assertions read the DOM (readout text, image ``src``), never
pixels: software rendering can paint a screenshot half-done. Screenshots are saved as artifacts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from lab_harness import EXPLORER, REPO, SCREENSHOTS, nudge, open_notebook, run_all, snapshot, wait_for_change

pytestmark = pytest.mark.browser

FIXTURE = "fixtures/explorer_fixture.ipynb"


# A notebook builds an explorer itself or through a factory of course_lib.explorers.
BUILDS_EXPLORER = re.compile(r"\bExplorer\(|\bexplorers\.(?!draw_)\w+\(")


def code(path):
    return "".join(c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code")


def explorer_notebooks():
    found = [p.relative_to(REPO).as_posix() for p in sorted((REPO / "notebooks").glob("*.ipynb"))
             if BUILDS_EXPLORER.search(code(p))]
    return [FIXTURE, *found]


def cell_errors(page, cells=()):
    """(cell index, text) of every output that shows a Python traceback, except in cells the
    notebook tags ``raises-exception`` (there an error is part of the lesson, as under nbval)."""
    texts = page.locator(".jp-Notebook .jp-Cell").evaluate_all(
        "cells => cells.map(c => [...c.querySelectorAll('.jp-OutputArea-output')]"
        ".map(o => o.innerText).join('\\n'))")
    expected = {i for i, cell in enumerate(cells) if "raises-exception" in cell.metadata.get("tags", [])}
    return [(i, text) for i, text in enumerate(texts)
            if "Traceback (most recent call last)" in text and i not in expected]


@pytest.mark.parametrize("notebook", explorer_notebooks())
def test_explorer_sliders_update_readout_and_plot(page, lab, notebook):
    open_notebook(page, lab, notebook)
    run_all(page)
    cells = nbformat.read(lab.root / notebook, 4).cells
    assert cell_errors(page, cells) == [], f"{notebook} raised while running all cells"
    explorers = page.locator(EXPLORER)
    assert explorers.count() >= 1, f"{notebook} builds an Explorer but none is displayed"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = Path(notebook).stem
    for i in range(explorers.count()):
        explorer = explorers.nth(i)
        explorer.scroll_into_view_if_needed()
        explorer.screenshot(path=SCREENSHOTS / f"{stem}-explorer{i}-before.png")
        handles = explorer.locator(".widget-slider .noUi-handle")
        assert handles.count() >= 1
        for j in range(handles.count()):
            before = snapshot(explorer)
            assert before["readout"] and before["src"], f"explorer {i}: empty readout or image before moving"
            nudge(handles.nth(j))
            # The first slider must change both; any other must at least visibly do something.
            if j == 0:
                after = wait_for_change(explorer, before, ("readout", "src"))
                assert after["readout"] != before["readout"], f"explorer {i}: readout did not change"
                assert after["src"] != before["src"], f"explorer {i}: plot image did not change"
            else:
                after = wait_for_change(explorer, before, ("src",))
                assert after != before, f"explorer {i}, slider {j}: neither readout nor plot changed"
        explorer.screenshot(path=SCREENSHOTS / f"{stem}-explorer{i}-after.png")
        if i == 0:  # what a student sees: the notebook in JupyterLab around the first explorer
            page.screenshot(path=SCREENSHOTS / f"{stem}-lab.png")
    assert cell_errors(page, cells) == [], f"moving a slider in {notebook} raised"


def first_check_and_hint(path):
    """Index of the first check cell, and the hint its exercise's stub raises (None if not a literal)."""
    cells = nbformat.read(path, 4).cells
    kind = [c.metadata.get("grading", {}).get("kind") for c in cells]
    first_check = kind.index("check")
    exercise = cells[first_check].metadata["grading"]["exercise"]
    for cell in cells:
        grading = cell.metadata.get("grading", {})
        if grading.get("kind") == "answer" and grading.get("exercise") == exercise:
            for node in ast.walk(ast.parse(cell.source)):
                if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                        and getattr(node.exc.func, "id", None) == "NotImplementedError"
                        and node.exc.args and isinstance(node.exc.args[0], ast.Constant)):
                    return first_check, node.exc.args[0].value
    return first_check, None


def test_unanswered_exercise_reports_not_implemented_hint(page, lab):
    exercises = sorted((REPO / "exercises").glob("*.ipynb"))
    if not exercises:
        pytest.skip("no exercises/*.ipynb released yet")
    path = exercises[0]
    first_check, hint = first_check_and_hint(path)
    open_notebook(page, lab, path.relative_to(REPO).as_posix())
    run_all(page)
    errors = cell_errors(page)
    assert errors, f"{path.name}: running the unanswered exercise raised nothing"
    cell, text = errors[0]
    assert cell == first_check, f"first error in cell {cell}, expected the first check cell {first_check}"
    assert "NotImplementedError" in text
    if hint is not None:
        assert hint in text, f"the stub's hint {hint!r} is not shown"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    check_cell = page.locator(".jp-Notebook .jp-Cell").nth(cell)
    check_cell.screenshot(path=SCREENSHOTS / f"{path.stem}-first-check.png")
