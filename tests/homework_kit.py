"""Shared helpers for the homework tests: run nbval as a student would and read its per-cell verdicts."""

import linecache
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat

from course_lib.grading import checks
from course_lib.grading.assignment import grading_metadata, replace_regions

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
NOTEBOOKS = sorted(path.stem for path in SOLUTIONS.glob("*.ipynb"))
ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")  # junit XML spells ESC as "#x1B"


def code_cell_ids(path):
    """nbval numbers code cells 0, 1, ... ("Cell N"); the ids of those cells in that order."""
    return [cell.id for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def run_nbval(paths, tmp_path, *options):
    """Run ``pytest --nbval-lax --nbval-current-env`` on notebooks in one subprocess, as a student does
    (the folders' conftest.py loads the course's nbval plugin; ``options`` are added).

    Returns ({notebook stem: {cell id: (outcome, message)}}, the terminal output) with outcome
    "passed" or "failed" and the failure text without colour codes. Asserts that every code cell
    was reported.
    """
    report = tmp_path / "nbval.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "--nbval-lax", "--nbval-current-env",
               f"--junitxml={report}", *options, *map(str, paths)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert completed.returncode in (0, 1), completed.stdout[-3000:] + completed.stderr[-3000:]
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        stem = case.get("classname").removesuffix(".ipynb").rsplit(".", 1)[-1]
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        outcome = "passed" if failure is None else "failed"
        message = "" if failure is None else ANSI.sub("", failure.text or failure.get("message", ""))
        results.setdefault(stem, {})[int(case.get("name").split()[-1])] = (outcome, message)
    by_id = {}
    for path in paths:
        ids = code_cell_ids(path)
        cells = results.get(path.stem, {})
        assert sorted(cells) == list(range(len(ids))), f"{path.name}: nbval reported cells {sorted(cells)}"
        by_id[path.stem] = {ids[index]: verdict for index, verdict in cells.items()}
    return by_id, ANSI.sub("", completed.stdout)


def score(assignment, answers=(), seed=None, exercises=None):
    """Grade a template in this process the way the batch grader does, cheaply: instructor and
    answer cells run in one namespace, in order (answers: {answer cell id: text for its solution region}),
    check cells run inside ``checks.collect`` under grading seed ``seed``, each check call earning
    its own points. Returns {exercise id: (points, [messages])} for ``exercises`` (default all).

    Sources are registered in ``linecache`` as IPython does, so the forbidden-use scan of the check
    API can read a student's function as it does in a kernel.
    """
    answers = dict(answers)
    wanted = set(exercises or assignment.exercises)
    namespace = {"__name__": "__main__"}
    scores = {exercise: [0.0, []] for exercise in wanted}
    checks.set_grading_seed(seed)
    try:
        for cell in assignment.notebook.cells:
            if cell.cell_type != "code":
                continue
            meta = grading_metadata(cell) or {}
            if meta.get("kind") == "check" and meta["exercise"] not in wanted:
                continue  # every answer runs (one may call another), only the wanted checks
            source = cell.source
            if meta.get("kind") == "answer" and cell.id in answers:
                source = replace_regions(source, [answers[cell.id]])
            filename = f"<cell {cell.id}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            code = compile(source, filename, "exec")
            if meta.get("kind") != "check":
                exec(code, namespace)
                continue
            entry = scores[meta["exercise"]]
            with checks.collect(filename) as results:
                try:
                    exec(code, namespace)
                except Exception as exc:  # the cell stopped: its remaining checks earn nothing
                    entry[1].append(f"stopped: {type(exc).__name__}: {exc}")
            for result in results:
                entry[0] += result.earned
                entry[1].append(result.message())
    finally:
        checks.set_grading_seed(None)
    return {exercise: (points, messages) for exercise, (points, messages) in scores.items()}
