"""A small homework template and submission makers for the grader tests (fast: numpy only).

Three exercises, as in a real template: ``gd`` (gradient descent step), ``momentum`` (a step with
state, also checked by a hidden test) and ``norm`` (a plain function). ``momentum`` forbids the
course's reference implementation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.grading import assignment as asg
from course_lib.grading.release import release_notebook

SOLUTIONS = {
    "gd": "return x - learning_rate * dx",
    "momentum": ('velocity = rho * state["velocity"] + dx\n'
                 'return x - learning_rate * velocity, {"velocity": velocity}'),
    "norm": "return float(np.sqrt(np.sum(np.asarray(dx, dtype=float) ** 2)))",
}
SIGNATURES = {"gd": "def gd_step(x, dx, learning_rate):",
              "momentum": "def momentum_step(x, dx, state, learning_rate, rho):",
              "norm": "def grad_norm(dx):"}
FORBIDDEN = {"momentum": ["course_lib.optim"]}
POINTS = {"gd": 1, "momentum": 3, "norm": 1}


def _answer(exercise, body):
    indented = "\n".join("    " + line for line in body.splitlines())
    source = f"{SIGNATURES[exercise]}\n    ### BEGIN SOLUTION\n{indented}\n    ### END SOLUTION"
    meta = {"grading": {"kind": "answer", "exercise": exercise, "hint": f"see the lecture on {exercise}",
                        "forbidden": FORBIDDEN.get(exercise, [])}, "tags": ["answer"]}
    return new_code_cell(source, id=f"{exercise}-answer", metadata=meta)


def _check(exercise, cell_id, source, points):
    meta = {"grading": {"kind": "check", "exercise": exercise, "points": points}, "tags": ["check"]}
    return new_code_cell(source, id=cell_id, metadata=meta)


CHECK_IMPORTS = "import numpy as np\nfrom course_lib.grading import checks, references\n"


def template_notebook():
    cells = [
        new_markdown_cell("# Grader test homework", id="title"),
        new_code_cell("import numpy as np", id="setup"),
        _answer("gd", SOLUTIONS["gd"]),
        _check("gd", "gd-check", CHECK_IMPORTS + (
            "checks.check_function(gd_step, references.gd_step,\n"
            "    [(np.array([1.0, -2.0]), np.array([0.5, 0.25]), 0.1), (np.zeros(3), np.ones(3), 2.0)],\n"
            "    points=1)"), 1),
        _answer("momentum", SOLUTIONS["momentum"]),
        _check("momentum", "momentum-check", CHECK_IMPORTS + (
            "grads = [np.array([1.0, -1.0]), np.array([0.5, 2.0]), np.array([-1.0, 0.0])]\n"
            "checks.check_steps(momentum_step, references.momentum_step, np.array([1.0, 2.0]),\n"
            "    {'velocity': np.zeros(2)}, grads, {'learning_rate': 0.1, 'rho': 0.9}, points=1,\n"
            "    forbidden=['course_lib.optim'])"), 1),
        _check("momentum", "momentum-hidden", CHECK_IMPORTS + (
            "### BEGIN HIDDEN TESTS\n"
            "rng = checks.case_rng('momentum')\n"
            "grads = list(rng.standard_normal((5, 4)))\n"
            "checks.check_steps(momentum_step, references.momentum_step, rng.standard_normal(4),\n"
            "    {'velocity': rng.standard_normal(4)}, grads, {'learning_rate': 0.05, 'rho': 0.5},\n"
            "    points=2, forbidden=['course_lib.optim'])\n"
            "### END HIDDEN TESTS"), 2),
        _answer("norm", SOLUTIONS["norm"]),
        _check("norm", "norm-check", CHECK_IMPORTS + (
            "checks.check_function(grad_norm, np.linalg.norm,\n"
            "    [np.array([3.0, 4.0]), np.arange(5.0)], points=1)"), 1),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def write_template(folder) -> Path:
    path = Path(folder) / "hw_grader.ipynb"
    nbformat.write(template_notebook(), path)
    asg.load_assignment(path)  # it must be a valid template
    return path


def submission(template_path, answers=None, edit=None):
    """The released exercise notebook with ``answers`` (exercise -> body) written in; ``edit(nb)``
    may change anything else. Exercises not in ``answers`` keep the stub."""
    notebook = release_notebook(asg.load_assignment(template_path))
    for cell in notebook.cells:
        meta = asg.grading_metadata(cell)
        if meta and meta["kind"] == "answer" and meta["exercise"] in (answers or {}):
            cell.source = asg.replace_regions(cell.source, [answers[meta["exercise"]]])
    if edit:
        edit(notebook)
    return notebook


def write_submission(folder, student, notebook) -> Path:
    path = Path(folder) / f"{student}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def grade(template, submissions, out, *extra, timeout=10, workers=2):
    """Run the command line as an instructor would; returns (completed process, rows by student)."""
    command = [sys.executable, "-m", "course_lib.grading", "grade", str(template), str(submissions),
               "--out", str(out), "--workers", str(workers), "--timeout", str(timeout), *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done, read_gradebook(Path(out) / "gradebook.csv")


def read_gradebook(path):
    import csv

    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["student"], {})[row["exercise"]] = row
    return rows


def record(out, student):
    return json.loads((Path(out) / "records" / f"{student}.json").read_text())


def start_interruptible(command):
    """Start the grader as a terminal does, so Ctrl-C (SIGINT) reaches it: a shell's background job
    (a CI runner's, say) ignores SIGINT, and Python then installs no KeyboardInterrupt handler."""
    import signal

    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
