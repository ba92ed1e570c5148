"""Every notebook in notebooks/: stored clean, linked from the course map, and runs in a fresh kernel.

Each notebook is executed with nbclient from the notebooks/ directory, as a reader runs it; any error
fails the test, so the assertions a notebook carries on the numbers it teaches are part of the suite.
After the last cell, every ``course_lib.widgets.Explorer`` left in the kernel is driven as a reader
would: each slider is moved once, and the readout text and the image must both change.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
INDEX = NOTEBOOK_DIR / "00_index.ipynb"
CELL_TIMEOUT = 300  # seconds; a dead kernel is only noticed after this
RUN_BUDGET = 120  # seconds per notebook; they take well under 30 s on an idle 2-core machine
LECTURES_WITH_EXPLORERS = re.compile(r"0[1-8]_")  # lecture notebooks 1-8 each have an explorer

# Runs in the notebook's kernel after its last cell; prints one JSON line about every Explorer.
PROBE = '''
import json as _json
import ipywidgets as _widgets
from course_lib.widgets import Explorer as _Explorer


def _other_value(s):
    if isinstance(s, _widgets.SelectionSlider):
        return s.options[(s.index + 1) % len(s.options)]
    for fraction in (0.3, 0.7):  # a point on the slider's own grid of steps, as a drag would give
        position = s.min + round(fraction * (s.max - s.min) / s.step) * s.step
        if isinstance(s, _widgets.FloatLogSlider):
            candidate = s.base**position
        else:
            candidate = type(s.value)(position)
        if abs(candidate - s.value) > 1e-9 * max(1.0, abs(s.value)):
            return candidate
    raise AssertionError(f"cannot find another value for slider {s.description!r}")


def _probe():
    report, seen = [], set()
    for name, obj in sorted(globals().items(), key=lambda item: item[0].startswith("_")):
        if not isinstance(obj, _Explorer) or id(obj) in seen:
            continue
        seen.add(id(obj))
        obj.refresh()
        moves = {}
        for key, s in obj.sliders.items():
            text, image = obj.readout.value, obj.image.value
            s.value = _other_value(s)
            moves[key] = {"readout_changed": obj.readout.value != text,
                          "image_changed": obj.image.value != image, "readout": obj.readout.value[:200]}
        report.append({"name": name, "moves": moves, "update_seconds": list(obj.update_seconds)})
    print("EXPLORER-PROBE " + _json.dumps(report))


_probe()
'''


def _read(path):
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _ids(paths):
    return [p.name for p in paths]


def test_notebooks_exist():
    assert INDEX in NOTEBOOKS, "notebooks/00_index.ipynb (the course map) is missing"
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_stored_without_outputs_and_with_unique_ids(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5), "cell ids need nbformat 4.5"
    ids = [cell.get("id") for cell in nb.cells]
    assert all(ids), "every cell needs an id"
    assert len(ids) == len(set(ids)), f"duplicate cell ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.id} was committed with outputs"
            assert cell.execution_count is None, f"cell {cell.id} has an execution count"


def _links(nb):
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return re.findall(r"\]\(([^)#\s]+\.ipynb)(?:#[^)]*)?\)", text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_links_between_notebooks_resolve(path):
    for link in _links(_read(path)):
        assert (path.parent / link).is_file(), f"{path.name} links to missing {link}"


def test_index_links_every_notebook():
    linked = {Path(link).name for link in _links(_read(INDEX))}
    missing = [p.name for p in NOTEBOOKS if p != INDEX and p.name not in linked]
    assert not missing, f"the course map does not link {missing}"


def _execute(path, monkeypatch):
    """Run every cell in a fresh kernel, then the explorer probe; return (notebook, probe report, seconds)."""
    # Small dense problems run many times slower with two BLAS threads on this 2-core machine.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    nb = _read(path)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)  # raises CellExecutionError on any error
        seconds = time.perf_counter() - start
        probe = nbformat.v4.new_code_cell(PROBE)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
    lines = [line for out in probe.outputs if out.get("name") == "stdout"
             for line in out.text.splitlines() if line.startswith("EXPLORER-PROBE ")]
    assert len(lines) == 1, f"explorer probe printed nothing: {probe.outputs}"
    return nb, json.loads(lines[0].removeprefix("EXPLORER-PROBE ")), seconds


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_runs_top_to_bottom_in_a_fresh_kernel(path, monkeypatch, record_property):
    _, explorers, seconds = _execute(path, monkeypatch)
    record_property("seconds", round(seconds, 2))
    assert seconds < RUN_BUDGET, f"{path.name} took {seconds:.0f} s"
    if LECTURES_WITH_EXPLORERS.match(path.name):
        assert explorers, f"{path.name} has no course_lib.widgets.Explorer"
    for explorer in explorers:
        assert explorer["moves"], f"explorer {explorer['name']} has no sliders"
        for slider, move in explorer["moves"].items():
            where = f"{path.name}: explorer {explorer['name']}, slider {slider}"
            assert move["readout_changed"], f"{where}: the readout did not change ({move['readout']!r})"
            assert move["image_changed"], f"{where}: the figure did not change"
        median = sorted(explorer["update_seconds"])[len(explorer["update_seconds"]) // 2]
        record_property(f"{explorer['name']}_median_update_ms", round(1e3 * median))
