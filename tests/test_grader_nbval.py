"""On clean submissions the grader agrees with nbval: per exercise, the grader's "passed" equals
"every answer and check cell of the exercise passes under nbval" on the spliced notebook.

Submissions are made from the released exercises/ notebooks of real templates: all answers filled
in from the solution, none (the stubs), only the first exercise, and every exercise answered with
the next exercise's solution (code that runs but computes the wrong thing).
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import grader_kit as kit
import nbformat
import pytest

from course_lib.grading import assignment
from course_lib.grading.splice import read_submission, splice

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ["07_adam.ipynb"]


def _submissions(template):
    """name -> notebook made from the released exercise with some answers filled in."""
    solution = assignment.load_assignment(ROOT / "solutions" / template)
    released = nbformat.read(ROOT / "exercises" / template, as_version=4)
    answers = {c.id: [r.text for r in assignment.find_regions(c.source)] for c in solution.notebook.cells
               if (assignment.grading_metadata(c) or {}).get("kind") == assignment.ANSWER}
    first = next(iter(solution.exercises.values()))
    made = {}
    ids = list(answers)
    swapped = {cell_id: answers[ids[(i + 1) % len(ids)]] for i, cell_id in enumerate(ids)}
    chosen = {"complete": answers, "blank": {}, "first_only": {c: answers[c] for c in first.answer_cells},
              "swapped": swapped}
    for name, texts in chosen.items():
        notebook = nbformat.from_dict(released)
        for cell in notebook.cells:
            if cell.get("id") in texts:
                cell.source = assignment.replace_regions(cell.source, texts[cell.get("id")])
        made[name] = notebook
    return solution, made


def _nbval_cells(notebook_path, tmp_path):
    """Code cell number (as nbval counts: code cells only) -> passed, from running nbval."""
    report = tmp_path / f"{notebook_path.stem}.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                    "-c", "/dev/null", "--rootdir", str(notebook_path.parent), "--nbval-lax",
                    "--nbval-current-env", f"--junitxml={report}", str(notebook_path)],
                   cwd=notebook_path.parent, capture_output=True, timeout=600)
    results = {}
    for case in ET.parse(report).iter("testcase"):
        index = int(case.get("name").split()[-1])
        results[index] = not any(child.tag in ("failure", "error") for child in case)
    assert results, "nbval ran no cells"
    return results


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_grader_agrees_with_nbval(template, tmp_path):
    solution, notebooks = _submissions(template)
    subs = tmp_path / "submissions"
    for name, notebook in notebooks.items():
        kit.write_submission(subs, name, notebook)
    _, rows = kit.grade(ROOT / "solutions" / template, subs, tmp_path / "grades", timeout=60)

    seen = set()
    for name in notebooks:
        spliced = splice(solution, read_submission((subs / f"{name}.ipynb").read_bytes())).notebook
        path = tmp_path / "spliced" / name / template
        path.parent.mkdir(parents=True)
        nbformat.write(spliced, path)
        cells = _nbval_cells(path, tmp_path)
        index_of = {cell.id: i for i, cell in enumerate(c for c in spliced.cells if c.cell_type == "code")}
        for exercise in solution.exercises.values():
            if exercise.written:  # no cell nbval runs; the grader leaves it pending for a person
                continue
            graded = [index_of[c] for c in exercise.answer_cells + exercise.check_cells]
            nbval_passed = all(cells[i] for i in graded)
            grader_passed = rows[name][exercise.id]["status"] == "passed"
            assert grader_passed == nbval_passed, (name, exercise.id, rows[name][exercise.id])
            seen.add(grader_passed)
    assert seen == {True, False}, "the submissions should include passing and failing exercises"


@pytest.mark.slow
def test_every_solution_gets_full_marks():
    """Each real template, submitted as its own solution, earns every point: no check of any
    template relies on something the proxies cannot do."""
    from course_lib.grading.grade import grade_submission

    for template in sorted((ROOT / "solutions").glob("*.ipynb")):
        rows = [row for row in grade_submission(template, template, timeout=60)["rows"]
                if row["status"] != "pending"]  # written answers wait for a person's score
        assert all(r["status"] == "passed" and r["points"] == r["max_points"] > 0 for r in rows), (
            template.name, rows)
