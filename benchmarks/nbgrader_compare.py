"""Section 6: this grader against ``nbgrader autograde``, the same class on the same machine.

The assignment (the template of section 5) is converted to nbgrader's format by adding nbgrader's
cell metadata to the graded cells (``to_nbgrader``): both tools use the same ``### BEGIN SOLUTION``
and ``### BEGIN HIDDEN TESTS`` markers, answer cells become nbgrader solution cells and check cells
its autograder-test cells with the same points. The class: 40 honest submissions, each the released
exercise with every exercise either answered correctly or left as released (a fixed pattern), and
with nbgrader's metadata added, so the *same files* are graded by both tools. nbgrader grades one
submission at a time (``nbgrader autograde``; its FAQ: parallel autograding is "not yet"
supported); this grader runs with 1 worker (like for like) and with 2.

nbgrader comes from the optional ``bench`` extra (``pip install -e '.[bench]'``) or from another
environment named by ``NBGRADER_PYTHON`` (a Python that can import nbgrader and course_lib); without
either the section says so.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from benchmarks.timing import ROOT, section

TITLE = "6. Against nbgrader"
TARGET = 2.0  # from the classroom issue: at least 2x faster per submission, equal scores
ASSIGNMENT = "hw"

SCORES = """
import json, sys
from nbgrader.api import Gradebook
with Gradebook(sys.argv[1]) as gradebook:
    print(json.dumps({s.student.id: s.score for s in gradebook.find_assignment(sys.argv[2]).submissions}))
"""


def nbgrader_python():
    """A Python with nbgrader, or None."""
    python = os.path.abspath(os.environ.get("NBGRADER_PYTHON", sys.executable))
    probe = subprocess.run([python, "-c", "import nbgrader, course_lib"], capture_output=True, check=False)
    return python if probe.returncode == 0 else None


def to_nbgrader(notebook):
    """The notebook with nbgrader's metadata on its graded cells (grade ids = cell ids)."""
    from course_lib.grading.assignment import ANSWER, CHECK, grading_metadata

    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        meta = grading_metadata(cell)
        if meta is None:  # nbgrader refuses its markers outside solution cells, even quoted in text
            cell.source = cell.source.replace("### BEGIN", "### Begin").replace("### END", "### End")
            continue
        kind = meta["kind"]  # answer (code), check, or written (nbgrader: a manually graded answer)
        answer, check = kind == ANSWER, kind == CHECK
        cell.metadata["nbgrader"] = {"grade": not answer, "solution": not check, "locked": check,
                                     "grade_id": cell.id, "schema_version": 3,
                                     **({} if answer else {"points": meta["points"]})}
    return notebook


def class_of(template_path, count):
    """``count`` honest submissions: student k answers exercise i correctly unless (k + i) % 4 == 0."""
    from course_lib.grading.assignment import ANSWER, find_regions, grading_metadata, load_assignment
    from course_lib.grading.release import release_notebook

    template = load_assignment(template_path)
    answers = {cell.id: cell.source for cell in template.notebook.cells
               if (grading_metadata(cell) or {}).get("kind") == ANSWER}
    exercises = list(template.exercises)
    released = release_notebook(template)
    submissions = {}
    for k in range(count):
        notebook = copy.deepcopy(released)
        for cell in notebook.cells:
            meta = grading_metadata(cell)
            if meta and meta["kind"] == ANSWER and (k + exercises.index(meta["exercise"])) % 4:
                assert find_regions(answers[cell.id])
                cell.source = answers[cell.id]
        submissions[f"student{k:02d}"] = to_nbgrader(notebook)
    return submissions


def _nbgrader(python, course, *args):
    started = time.perf_counter()
    env = dict(os.environ, PATH=f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}")  # alembic
    done = subprocess.run([python, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"], cwd=course,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {args[0]} failed: {done.stderr[-1500:]}")
    return time.perf_counter() - started


def grade_with_nbgrader(python, template_path, submissions, folder):
    """(seconds of ``nbgrader autograde``, {student: score}) in a fresh course folder."""
    course = Path(folder) / "course"
    source = course / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    name = f"{ASSIGNMENT}.ipynb"
    nbformat.write(to_nbgrader(nbformat.read(template_path, as_version=4)), source / name)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.ExecutePreprocessor.timeout = 120\nc.Execute.timeout = 120\n")
    _nbgrader(python, course, "generate_assignment", ASSIGNMENT, "--force")
    for student, notebook in submissions.items():
        submitted = course / "submitted" / student / ASSIGNMENT
        submitted.mkdir(parents=True)
        nbformat.write(notebook, submitted / name)
    seconds = _nbgrader(python, course, "autograde", ASSIGNMENT, "--force")
    scores = subprocess.run([python, "-c", SCORES, f"sqlite:///{course / 'gradebook.db'}", ASSIGNMENT],
                            capture_output=True, text=True, check=True).stdout
    return seconds, json.loads(scores)


def grade_with_ours(template_path, submissions, folder, workers):
    """(seconds of ``python -m course_lib.grading grade``, {student: score})."""
    folder = Path(folder)
    (folder / "submissions").mkdir(parents=True)
    for student, notebook in submissions.items():
        nbformat.write(notebook, folder / "submissions" / f"{student}.ipynb")
    out = folder / "grades"
    started = time.perf_counter()
    command = [sys.executable, "-m", "course_lib.grading", "grade", str(template_path),
               str(folder / "submissions"), "--out", str(out), "--workers", str(workers),
               "--format", "scores", "--quiet"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"grading failed: {done.stderr[-1500:]}")
    lines = (out / "scores.csv").read_text().splitlines()[2:]  # header, max_points
    return seconds, {line.split(",")[0]: float(line.split(",")[-1]) for line in lines}


def run(quick=False, template=None, notebook_seconds=None):
    """Grade the class of section 5's template (the fastest solution notebook by section 3's times)."""
    python = nbgrader_python()
    if python is None:
        return section(TITLE, "Not available: nbgrader is not installed (`pip install -e '.[bench]'`, or "
                       "NBGRADER_PYTHON=<a Python with nbgrader and course_lib>).")
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    if notebook_seconds:
        solutions.sort(key=lambda p: notebook_seconds.get(f"solutions/{p.name}", float("inf")))
    template = Path(template or solutions[0])
    count, rounds = (2, 1) if quick else (40, 4)
    submissions = class_of(template, count)
    students = list(submissions)
    tools = {"nbgrader": lambda batch, folder: grade_with_nbgrader(python, template, batch, folder),
             "1 worker": lambda batch, folder: grade_with_ours(template, batch, folder, 1)}
    if not quick:
        tools["2 workers"] = lambda batch, folder: grade_with_ours(template, batch, folder, 2)
    seconds = {tool: [] for tool in tools}
    scores = {tool: {} for tool in tools}
    with tempfile.TemporaryDirectory() as tmp:
        # Rounds alternate the tools on slices of the class, so load from other jobs on a shared
        # machine falls on all of them alike.
        for r in range(rounds):
            batch = {s: submissions[s] for s in students[r::rounds]}
            for tool, grade in tools.items():
                folder = Path(tmp) / f"{r}-{tool.replace(' ', '')}"
                took, got = grade(batch, folder)
                seconds[tool].append(took / len(batch))
                scores[tool].update(got)
                shutil.rmtree(folder, ignore_errors=True)
    per = {tool: statistics.median(values) for tool, values in seconds.items()}
    spread = {tool: f"{per[tool]:.2f} ({min(v):.2f}–{max(v):.2f})" for tool, v in seconds.items()}
    agree = sum(abs(scores["nbgrader"].get(s, -1) - scores["1 worker"][s]) < 1e-9 for s in students)
    ratio1 = per["nbgrader"] / per["1 worker"]
    rows = [["nbgrader autograde (s per submission)", spread["nbgrader"]],
            ["this grader, 1 worker (s per submission)", spread["1 worker"]],
            ["speed ratio, 1 worker (nbgrader / this grader)", f"{ratio1:.2f}×"]]
    if "2 workers" in per:
        ratio2 = per["nbgrader"] / per["2 workers"]
        agree2 = sum(abs(scores["2 workers"][s] - scores["1 worker"][s]) < 1e-9 for s in students)
        rows += [["this grader, 2 workers (s per submission)", spread["2 workers"]],
                 ["speed ratio, 2 workers (nbgrader / this grader)", f"{ratio2:.2f}×"],
                 ["same scores, 1 and 2 workers", f"{agree2}/{count}"]]
    totals = sorted(set(scores["1 worker"].values()))
    rows += [["same total score as nbgrader", f"{agree}/{count}"],
             ["distinct totals in the class", ", ".join(f"{v:g}" for v in totals)]]
    verdicts = [(f"≥ {TARGET:g}× faster per submission than nbgrader (1 worker each)", ratio1 >= TARGET,
                 f"{ratio1:.2f}×"),
                ("equal scores on honest submissions", agree == count, f"{agree}/{count}")]
    text = (f"Template `solutions/{template.name}`, converted to nbgrader's format by "
            "`benchmarks/nbgrader_compare.py` (nbgrader cell metadata on the graded cells; the markers are "
            "the same; instructions that quote them are reworded). "
            f"{count} honest submissions graded by both tools from the same files, in {rounds} round(s) that "
            "alternate the tools on a slice of the class each (median (min–max) of the rounds' seconds per "
            "submission). nbgrader's time is `nbgrader autograde` alone (after `generate_assignment`), this "
            "grader's the whole `grade` command. nbgrader runs the checks in the student's kernel and grades "
            "one submission at a time; this grader runs them in its own process, sandboxed.")
    return section(TITLE, text, ["quantity", "value"], rows, verdicts)


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv, template=next(
        (a for a in sys.argv[1:] if a.endswith(".ipynb")), None)), indent=1))
