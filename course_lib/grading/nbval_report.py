"""A pytest plugin for students who check their homework with nbval (``make check-exercises``).

For notebooks that hold graded cells (``metadata.grading``) it

* names each cell by its exercise in failure headers ("adam_step: check" rather than "Cell 4");
* shows a failed cell as the kernel reported it, without nbval's copy of the cell's source: a failed
  check is only its message (expected, got, hint: ``checks.CheckFailed`` renders no frames), an
  exception of the student's code is its traceback without the grading package's frames;
* does not count instructor cells (imports, setup) and the cells that define the answers as passed
  checks (they run, and a failure in them is still reported);
* ends the run with a points table per notebook: for each exercise, the points its visible checks
  gave here, the points of the hidden checks that run only when the homework is graded, and the
  points of written answers, which a person scores.

The exercise and solution folders load it from their ``conftest.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from course_lib.grading.assignment import _declared, grading_metadata
from course_lib.grading.markers import BEGIN_HIDDEN, END_HIDDEN, remove_regions

POINTS_LINE = re.compile(r"^\[(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?) points\]", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SKIPPED_FRAMES = re.compile(r"\n *\[\.\.\. skipping hidden \d+ frames?\]\n")  # IPython's note on them
_cells = {}  # nodeid -> CellInfo of graded notebooks
_order = []  # notebooks in the order they ran
_written = {}  # notebook -> {exercise: points} of its written answers (read by a person, not run)


class CellInfo:
    """What the plugin knows about one code cell of a graded notebook."""

    def __init__(self, notebook, cell):
        self.notebook = notebook
        meta = grading_metadata(cell) or {}
        self.kind, self.exercise = meta.get("kind"), meta.get("exercise")
        self.visible = self.hidden = 0.0
        if self.kind == "check":
            self.visible = sum(_declared(ast.parse(remove_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)),
                                         "points"))
            self.hidden = float(meta.get("points", 0)) - self.visible
        self.earned = None  # points this run, known after the cell ran


def _is_nbval(item):
    return type(item).__name__ == "IPyNbCell" and hasattr(item, "cell")


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        if not _is_nbval(item):
            continue
        notebook = item.parent
        cells = [c for c in getattr(notebook, "nb", {}).get("cells", []) if c.get("cell_type") == "code"]
        if not any(grading_metadata(c) for c in cells):
            continue
        info = CellInfo(Path(str(notebook.fspath)).name, item.cell)
        metas = [m for m in map(grading_metadata, notebook.nb["cells"]) if m and m.get("kind") == "written"]
        _written.setdefault(info.notebook, {m["exercise"]: float(m.get("points", 0)) for m in metas})
        _cells[item.nodeid] = info
        if info.notebook not in _order:
            _order.append(info.notebook)
        what = f"{info.exercise}: {info.kind}" if info.kind else f"{item.name} (setup, not graded)"
        path, line, _ = item.location
        item.__dict__["location"] = (path, line, f"{info.notebook} {what}")


def _error_text(item):
    """The error as the kernel rendered it (colour codes removed), or None."""
    for output in getattr(item, "test_outputs", None) or []:
        if output.get("output_type") == "error":
            lines = output.get("traceback") or [f"{output['ename']}: {output['evalue']}"]
            return SKIPPED_FRAMES.sub("\n", ANSI.sub("", "\n".join(lines)))
    return None


def _printed(item):
    return "".join(o.get("text", "") for o in getattr(item, "test_outputs", None) or [] if "text" in o)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    info = _cells.get(item.nodeid)
    if info is None or call.when != "call":
        return
    if info.kind == "check":  # on failure, the calls that passed first printed their points
        info.earned = info.visible if call.excinfo is None else sum(
            float(m.group(1)) for m in POINTS_LINE.finditer(ANSI.sub("", _printed(item))))
    text = _error_text(item) if report.failed else None
    if text is not None:
        where = f"the check of {info.exercise}" if info.kind == "check" else (
            f"the answer cell of {info.exercise}" if info.kind else "a setup cell")
        report.longrepr = f"{where} failed:\n\n{text}"


def pytest_report_teststatus(report, config):
    info = _cells.get(report.nodeid)
    if info is not None and info.kind != "check" and report.when == "call" and report.passed:
        return "not graded", "", "ran (not graded)"
    return None


def pytest_terminal_summary(terminalreporter):
    rows = {}
    for info in _cells.values():
        if info.kind == "check":
            row = rows.setdefault((info.notebook, info.exercise), [0.0, 0.0, 0.0, True])
            row[0] += info.earned or 0.0
            row[1] += info.visible
            row[2] += info.hidden
            row[3] = row[3] and info.earned is not None
    if not rows:
        return
    write = terminalreporter.write_line
    for notebook in _order:
        mine = {exercise: row for (nb, exercise), row in rows.items() if nb == notebook}
        written = _written.get(notebook, {})
        if not mine and not written:
            continue
        width = max(len("exercise"), *map(len, mine), *map(len, written))
        terminalreporter.section(f"points: {notebook}", sep="-")
        write(f"{'exercise':<{width}}  checks here  hidden checks (when graded)")
        total = [0.0, 0.0, 0.0]
        for exercise, (earned, visible, hidden, ran) in mine.items():
            here = f"{earned:g} / {visible:g}" if ran else f"? / {visible:g}"
            write(f"{exercise:<{width}}  {here:<11}  {hidden:g} more")
            total = [total[0] + earned, total[1] + visible, total[2] + hidden]
        for exercise, points in written.items():
            write(f"{exercise:<{width}}  {'-':<11}  {points:g} more (written, read by a person)")
            total[2] += points
        write(f"{'total':<{width}}  {f'{total[0]:g} / {total[1]:g}':<11}  {total[2]:g} more "
              f"(graded out of {total[1] + total[2]:g})")
