"""Every notebook in notebooks/: stored clean, linked from the course map, and runs in a fresh kernel.

Each notebook is executed with nbclient from the notebooks/ directory, as a reader runs it; any error
fails the test, so the assertions a notebook carries on the numbers it teaches are part of the suite.
After the last cell, every ``course_lib.widgets.Explorer`` left in the kernel is driven as a reader
would: each slider is moved once, and the readout text and the image must both change.
Every figure has a caption cell and alt text, and every lecture ends with its references.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from notebook_kit import assert_stored_clean

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
INDEX = NOTEBOOK_DIR / "00_index.ipynb"
CELL_TIMEOUT = 300  # seconds; a dead kernel is only noticed after this
RUN_BUDGET = 120  # seconds per notebook; they take well under 30 s on an idle 2-core machine

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
        report.append({"name": name, "moves": moves, "update_seconds": list(obj.update_seconds),
                       "alt": obj.alt})
    print("EXPLORER-PROBE " + _json.dumps(report))


_probe()
'''


def _read(path):
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _ids(paths):
    return [p.name for p in paths]


LECTURES = [p for p in NOTEBOOKS if p != INDEX]
CAPTION = "*Figure:*"  # a figure's caption: the markdown cell right after it starts with this
# A cell draws a figure when it shows a pyplot figure, renders an animation, or ends by displaying an
# explorer; test_runs_top_to_bottom_in_a_fresh_kernel checks that every cell with an image output is one.
DRAWS = re.compile(r"plt\.show\(\)|\.to_jshtml\(")
SHOWS_EXPLORER = re.compile(r"\w*explorer\w*(\(.*\))?")


def figure_cells(nb):
    """Ids of the code cells that draw a figure."""
    ids = []
    for cell in nb.cells:
        lines = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
        if cell.cell_type != "code" or not lines:
            continue
        if DRAWS.search(cell.source) or SHOWS_EXPLORER.fullmatch(lines[-1]):
            ids.append(cell.id)
    return ids


def caption_problems(nb):
    """What is missing around each figure: its caption cell and its alt text (``metadata.alt``)."""
    problems = []
    following = {cell.id: nxt for cell, nxt in zip(nb.cells, nb.cells[1:] + [None], strict=True)}
    by_id = {cell.id: cell for cell in nb.cells}
    for cell_id in figure_cells(nb):
        nxt = following[cell_id]
        if nxt is None or nxt.cell_type != "markdown" or not nxt.source.startswith(CAPTION):
            problems.append(
                f"cell {cell_id}: no caption (a markdown cell starting {CAPTION!r} right after it)")
        alt = by_id[cell_id].metadata.get("alt", "")
        if not isinstance(alt, str) or len(alt.split()) < 5:
            problems.append(f"cell {cell_id}: no alt text (metadata 'alt', a sentence describing the image)")
    return problems


def test_caption_check_catches_a_bare_figure():
    new = nbformat.v4
    nb = new.new_notebook(cells=[new.new_code_cell("plt.plot([1, 2])\nplt.show()", id="bare"),
                                 new.new_markdown_cell("Some prose, not a caption.", id="prose"),
                                 new.new_code_cell("explorer", id="widget"),
                                 new.new_code_cell("x = explorer_runs(1)", id="not-a-figure")])
    nb.cells[2].metadata["alt"] = "Sliders above a contour plot with a gradient-descent path."
    assert figure_cells(nb) == ["bare", "widget"]
    assert caption_problems(nb) == [
        f"cell bare: no caption (a markdown cell starting {CAPTION!r} right after it)",
        "cell bare: no alt text (metadata 'alt', a sentence describing the image)",
        f"cell widget: no caption (a markdown cell starting {CAPTION!r} right after it)"]
    nb.cells.insert(3, new.new_markdown_cell(f"{CAPTION} the path zig-zags.", id="cap"))
    assert caption_problems(nb)[-1].startswith("cell bare: no alt text")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_figure_has_a_caption_and_alt_text(path):
    nb = _read(path)
    assert figure_cells(nb), f"{path.name} draws no figure"
    problems = caption_problems(nb)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


# Updating artists in place is wiring: it belongs in course_lib.explorers, not in the lecture's text.
WIRING = re.compile(r"\.set_(?:x|y)?data\(|\.autoscale_view\(|\.relim\(|\bExplorer\(|update_function")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_explorer_wiring_lives_in_course_lib(path):
    wired = [f"{cell.id}: {match.group()}" for cell in _read(path).cells if cell.cell_type == "code"
             for match in WIRING.finditer(cell.source)]
    assert not wired, f"{path.name} wires artists in its cells (move it to course_lib.explorers): {wired}"


def test_wiring_check_catches_an_inline_update():
    cell = nbformat.v4.new_code_cell("def update(lr):\n    line.set_data(x, y)\n    ax.relim()")
    assert [m.group() for m in WIRING.finditer(cell.source)] == [".set_data(", ".relim("]


@pytest.mark.parametrize("path", LECTURES, ids=_ids(LECTURES))
def test_ends_with_references(path):
    last = _read(path).cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## References"), \
        f"{path.name} must end with a '## References' markdown cell"
    entries = [line for line in last.source.splitlines() if line.startswith(("- ", "* "))]
    assert entries and all(re.search(r"\b(1[89]|20)\d\d\b", e) for e in entries), \
        f"{path.name}: every reference needs a year: {entries}"


def test_notebooks_exist():
    assert INDEX in NOTEBOOKS, "notebooks/00_index.ipynb (the course map) is missing"
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_stored_without_outputs_and_with_unique_ids(path):
    assert_stored_clean(path)


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
    nb, explorers, seconds = _execute(path, monkeypatch)
    record_property("seconds", round(seconds, 2))
    with_images = {cell.id for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.outputs if "image/png" in out.get("data", {})}
    unlisted = with_images - set(figure_cells(nb))
    assert not unlisted, f"{path.name}: cells {sorted(unlisted)} draw a figure figure_cells() does not see"
    assert seconds < RUN_BUDGET, f"{path.name} took {seconds:.0f} s"
    if path != INDEX:  # every lecture has an explorer
        assert explorers, f"{path.name} has no course_lib.widgets.Explorer"
    for explorer in explorers:
        assert explorer["moves"], f"explorer {explorer['name']} has no sliders"
        assert len(explorer["alt"].split()) >= 5, f"explorer {explorer['name']} has no alt text (alt=...)"
        for slider, move in explorer["moves"].items():
            where = f"{path.name}: explorer {explorer['name']}, slider {slider}"
            assert move["readout_changed"], f"{where}: the readout did not change ({move['readout']!r})"
            assert move["image_changed"], f"{where}: the figure did not change"
        median = sorted(explorer["update_seconds"])[len(explorer["update_seconds"]) // 2]
        record_property(f"{explorer['name']}_median_update_ms", round(1e3 * median))


# Slides (issue 17): `make slides` (scripts/build_slides.py) and RISE build a deck from each cell's
# metadata.slideshow.slide_type. A deck shows a figure cell's image without its code.
SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
SLIDE_LINES = 18  # visible source lines that fit on one slide at the deck's font size
FIGURE_LINES = 10  # a figure fills about this much of a slide
EXPLORER_LINES = 14  # an explorer: its sliders, readout and figure
HEADING = re.compile(r"#{1,3} ")
TITLED = re.compile(r"^#{1,3} |\A\*\*[^*\n]+\*\*", re.M)  # a heading, or a paragraph's bold lead-in


def slide_type(cell):
    return cell.metadata.get("slideshow", {}).get("slide_type")


def deck(nb):
    """The slides as lists of the cells shown on each (slide or subslide), skipped and notes left out."""
    slides = []
    for cell in nb.cells:
        kind = slide_type(cell)
        if kind in ("skip", "notes"):
            continue
        if kind in ("slide", "subslide") or not slides:
            slides.append([])
        slides[-1].append(cell)
    return slides


def _code_lines(source):
    return [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def is_plumbing(cell):
    """Imports and path set-up only, or a check cell (at least a third of its lines are asserts)."""
    lines = _code_lines(cell.source)
    statements = [line for line in lines if not line[0].isspace() and not line.startswith((")", "]"))]
    set_up = ("import ", "from ", "sys.path", "try:", "except")
    imports = [line for line in statements if line.startswith(set_up)]
    asserts = [line for line in lines if line.lstrip().startswith("assert ")]
    return not lines or len(imports) == len(statements) or 3 * len(asserts) >= len(lines)


def slide_lines(cells, figures):
    """How full a slide is: visible markdown lines, code lines (and a line or two of output), figures."""
    total = 0
    for cell in cells:
        if cell.id in figures:
            shows = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
            total += EXPLORER_LINES if SHOWS_EXPLORER.fullmatch(shows[-1]) else FIGURE_LINES
        elif cell.cell_type == "code":
            total += len(_code_lines(cell.source)) + 2
        else:
            total += sum(1 for line in cell.source.splitlines() if line.strip())
    return total


def slideshow_problems(nb):
    """What keeps a notebook from projecting well: cells without slide types, slides without a heading,
    figure or code, plumbing on a slide, overfull slides, no speaker notes with numbers."""
    problems = [f"cell {cell.id}: slide_type {slide_type(cell)!r} (metadata.slideshow)"
                for cell in nb.cells if slide_type(cell) not in SLIDE_TYPES]
    if problems:
        return problems
    ids = {cell.id for cell in nb.cells}
    figures = set(figure_cells(nb))
    if slide_type(nb.cells[0]) != "slide":
        problems.append(f"cell {nb.cells[0].id}: a deck starts with a slide")
    for cells in deck(nb):
        first = cells[0]
        shows = [c for c in cells if c.id in figures or c.cell_type == "code"
                 or TITLED.search(c.source.lstrip())]
        # a markdown cell too long for one slide continues on the next as "<id>-2", "<id>-3", ...
        continued = first.cell_type == "markdown" and re.fullmatch(r"(.+)-\d+", first.id) \
            and re.fullmatch(r"(.+)-\d+", first.id).group(1) in ids
        if slide_type(first) == "slide" and not HEADING.match(first.source.lstrip()):
            problems.append(f"slide at cell {first.id}: a new section opens with its heading")
        elif not shows and not continued:
            problems.append(f"slide at cell {first.id}: no heading, figure or code")
        if slide_lines(cells, figures) > SLIDE_LINES:
            problems.append(f"slide at cell {first.id}: overfull ({slide_lines(cells, figures)} lines "
                            f"> {SLIDE_LINES}; split it into subslides)")
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.id not in figures and is_plumbing(cell) \
                and slide_type(cell) != "skip":
            problems.append(f"cell {cell.id}: imports or checks only, skip it on slides")
    notes = [cell for cell in nb.cells if slide_type(cell) == "notes"]
    if not notes:
        problems.append("no speaker notes (markdown cells with slide_type 'notes')")
    problems += [f"cell {cell.id}: speaker notes are markdown with the numbers to say"
                 for cell in notes if cell.cell_type != "markdown" or not re.search(r"\d", cell.source)]
    return problems


def test_slideshow_check_catches_a_notebook_without_slides():
    new = nbformat.v4
    nb = new.new_notebook(cells=[new.new_markdown_cell("# Title", id="title"),
                                 new.new_code_cell("import numpy as np", id="setup"),
                                 new.new_markdown_cell("Text\n" * 30, id="long"),
                                 new.new_code_cell("x = 1\nassert x == 1", id="check")])
    assert slideshow_problems(nb) == [f"cell {c}: slide_type None (metadata.slideshow)"
                                      for c in ("title", "setup", "long", "check")]
    for cell, kind in zip(nb.cells, ["slide", "subslide", "subslide", "-"], strict=True):
        cell.metadata["slideshow"] = {"slide_type": kind}
    assert slideshow_problems(nb) == [
        "slide at cell long: overfull (34 lines > 18; split it into subslides)",
        "cell setup: imports or checks only, skip it on slides",
        "cell check: imports or checks only, skip it on slides",
        "no speaker notes (markdown cells with slide_type 'notes')"]
    nb.cells[2].metadata["slideshow"]["slide_type"] = "slide"
    nb.cells.append(new.new_markdown_cell("Say: it converges.", id="notes"))
    nb.cells[-1].metadata["slideshow"] = {"slide_type": "notes"}
    problems = slideshow_problems(nb)
    assert "slide at cell long: a new section opens with its heading" in problems
    assert "cell notes: speaker notes are markdown with the numbers to say" in problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_notebook_projects_as_slides(path):
    problems = slideshow_problems(_read(path))
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
