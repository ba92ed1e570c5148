"""Section 3: each notebook's execution wall time against an empty notebook's (kernel start-up).

Notebooks run with nbclient in a fresh kernel, in their own folder, with default thread settings
(as a reader's kernel runs them). The wall time runs from asking for a kernel to the end of the
notebook's last cell. Lecture notebooks get one extra cell at the end of the first round, outside
the timed part, that measures their explorers (``benchmarks.explorers``).
"""

from __future__ import annotations

import json
import subprocess
import time

import nbformat
from nbclient import NotebookClient

from benchmarks.timing import RESULT_MARKER, ROOT, Spread, section

GROUPS = ("notebooks", "solutions", "exercises")
NOTEBOOK_LIMIT_SECONDS = 30.0  # the developers' guide: "well under 30 s each"
EXPLORER_CELL = (
    "import json as _json, sys as _sys\n"
    f"_sys.path.insert(0, {str(ROOT)!r})\n"
    "from benchmarks.explorers import measure_live_explorers as _measure\n"
    f"print({RESULT_MARKER!r} + _json.dumps(_measure()))\n"
)


def execute(nb, folder, extra_code=None, timeout=600):
    """Run ``nb`` in a fresh kernel; return (seconds to the end of its last cell, errors, extra result).

    ``extra_code`` runs after the timed cells in the same kernel; a line it prints after
    ``RESULT_MARKER`` is decoded from JSON and returned.
    """
    nb = nbformat.from_dict(nb)
    last = len(nb.cells) - 1
    done = {}
    if extra_code:
        nb.cells.append(nbformat.v4.new_code_cell(extra_code))

    def on_cell_executed(cell, cell_index, **_):
        if cell_index == last:
            done["time"] = time.perf_counter()

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}}, on_cell_executed=on_cell_executed)
    start = time.perf_counter()
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's start-up warnings are noise here
    errors = [o for c in nb.cells[: last + 1] if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    extra = None
    if extra_code:
        text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
        lines = [line for line in text.splitlines() if line.startswith(RESULT_MARKER)]
        extra = json.loads(lines[0][len(RESULT_MARKER):]) if lines else {"error": text[-500:] or
                                                                          str(nb.cells[-1].outputs)[-500:]}
    return done.get("time", time.perf_counter()) - start, len(errors), extra


def empty_notebook():
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])


def discover(quick=False):
    """(label, group, path) of every committed notebook, lecture notebooks first.

    Quick mode takes only the course map (or, before it exists, a one-cell import notebook).
    """
    found = [(f"{group}/{path.name}", group, path) for group in GROUPS
             for path in sorted((ROOT / group).glob("*.ipynb"))]
    if quick:
        found = [item for item in found if item[2].name.startswith("00_")][:1] or [
            ("generated: import course_lib.optim", "generated", None)]
    return found


def _load(path):
    if path is None:
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import course_lib.optim")]), ROOT
    return nbformat.read(path, as_version=4), path.parent


def _execute_retrying(nb, folder, extra_code=None):
    try:
        return execute(nb, folder, extra_code)
    except RuntimeError:  # the kernel failed to start, as happens on a loaded machine: once more
        return execute(nb, folder, extra_code)


def run(quick=False, repeats=2):
    """Time every notebook; also collect explorer timings from lecture notebooks (first round).

    Returns the report section, the explorer measurements by notebook and each notebook's median time.
    """
    notebooks = discover(quick)
    repeats = 1 if quick else repeats
    empty, errors, explorers, notes = Spread(), {}, {}, {}
    times = {key: (Spread(), Spread()) for key, _, _ in notebooks}
    for round_ in range(repeats):
        empty_seconds = _execute_retrying(empty_notebook(), ROOT)[0]
        empty.values.append(empty_seconds)
        for key, group, path in notebooks:
            measure = round_ == 0 and group == "notebooks" and not quick
            try:
                seconds, num_errors, extra = _execute_retrying(*_load(path), measure and EXPLORER_CELL)
            except Exception as error:  # noqa: BLE001 - one notebook that cannot run must not hide the others
                notes[key] = f"; did not run in round {round_ + 1}: {type(error).__name__}: {error}"
                continue
            times[key][0].values.append(seconds)
            times[key][1].values.append(seconds / empty_seconds)
            errors[key] = max(errors.get(key, 0), num_errors)
            if measure:
                explorers[path.name] = extra if isinstance(extra, list) else []
                if isinstance(extra, dict):
                    notes[key] = f"; explorer measurement failed: {extra['error'][-300:]}"
    rows = [["empty notebook (kernel start-up)", empty.seconds(), "1.00× (baseline)", "—"]]
    verdicts = []
    for key, (seconds, ratio) in times.items():
        expected_errors = key.startswith("exercises/")  # unanswered stubs raise NotImplementedError
        status = (f"{errors[key]} cell error(s)" + (" (unanswered stubs)" if expected_errors else "")
                  if errors.get(key) else "ok") + notes.get(key, "")
        rows.append([f"`{key}`", seconds.seconds(), ratio.ratio(1), status])
        if not expected_errors:
            verdicts.append((f"`{key}` runs without errors in < {NOTEBOOK_LIMIT_SECONDS:g} s",
                             key in errors and not errors[key] and seconds.median < NOTEBOOK_LIMIT_SECONDS,
                             f"{seconds.median:.1f} s, {status}"))
    text = (
        f"Wall time from kernel request to the end of the last cell (nbclient, fresh kernel per run, default "
        f"threads as a reader's kernel), {repeats} round(s); each round starts with the empty notebook "
        "(one `pass` cell) and each ratio uses that round's empty time. Seconds and ratios: median (min–max)."
    )
    if quick:
        text += " Quick mode: one small notebook, one round."
    report = section("3. Notebook execution", text,
                     ["notebook", "wall time (s)", "× empty notebook", "status"], rows, verdicts)
    medians = {key: seconds.median for key, (seconds, _) in times.items() if seconds.values}
    return report, explorers, medians
