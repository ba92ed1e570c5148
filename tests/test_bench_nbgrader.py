"""The nbgrader side-by-side benchmark (benchmarks/nbgrader_compare.py): the conversion and the class.

The comparison itself needs nbgrader (the optional ``bench`` extra, or ``NBGRADER_PYTHON``); its
quick mode runs here when nbgrader is available and checks that both tools give the same scores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import nbgrader_compare
from course_lib.grading import assignment
from course_lib.grading.release import stub

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "solutions" / "07_adam.ipynb"


def test_graded_cells_get_nbgrader_metadata_with_the_same_points():
    template = assignment.load_assignment(TEMPLATE)
    converted = nbgrader_compare.to_nbgrader(template.notebook)
    points = {}
    for cell in converted.cells:
        meta, nbgrader = assignment.grading_metadata(cell), cell.metadata.get("nbgrader")
        if meta is None:
            assert nbgrader is None and assignment.BEGIN_SOLUTION not in cell.source
            continue
        # A written answer is nbgrader's manually graded answer: a solution cell that carries points.
        kind = meta["kind"]
        assert nbgrader["grade_id"] == cell.id and nbgrader["solution"] == (kind != assignment.CHECK)
        assert nbgrader["grade"] == (kind != assignment.ANSWER)
        assert nbgrader["locked"] == (kind == assignment.CHECK)
        if nbgrader["grade"]:
            points[meta["exercise"]] = points.get(meta["exercise"], 0) + nbgrader["points"]
    assert points == {ex.id: ex.points for ex in template.exercises.values()}


def test_the_class_is_honest_answers_or_untouched_stubs():
    template = assignment.load_assignment(TEMPLATE)
    solutions = {c.id: c.source for c in template.notebook.cells
                 if (assignment.grading_metadata(c) or {}).get("kind") == assignment.ANSWER}
    submissions = nbgrader_compare.class_of(TEMPLATE, 8)
    answered = 0
    for notebook in submissions.values():
        for cell in notebook.cells:
            if cell.id in solutions:
                regions = assignment.find_regions(cell.source)
                hint = assignment.grading_metadata(cell)["hint"]
                assert cell.source == solutions[cell.id] or [r.text for r in regions] == [stub(hint)]
                answered += cell.source == solutions[cell.id]
    assert 0 < answered < 8 * len(solutions)  # some right, some left blank


@pytest.mark.slow
@pytest.mark.skipif(nbgrader_compare.nbgrader_python() is None, reason="nbgrader is not installed "
                    "(pip install -e '.[bench]', or NBGRADER_PYTHON=<a Python with nbgrader>)")
def test_both_tools_give_the_same_scores():
    result = nbgrader_compare.run(quick=True, template=TEMPLATE)
    verdicts = {claim: met for claim, met, _ in result["verdicts"]}
    assert verdicts["equal scores on honest submissions"], result["rows"]
