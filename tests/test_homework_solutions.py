"""Every solution notebook passes under nbval, every cell of it (the answer key is right)."""

import pytest
from homework_kit import NOTEBOOKS, SOLUTIONS, run_nbval

from course_lib.grading.assignment import load_assignment


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    return run_nbval([SOLUTIONS / f"{name}.ipynb" for name in NOTEBOOKS], tmp_path_factory.mktemp("nbval"))[0]


def test_every_lecture_has_its_homework_with_graded_exercises():
    """One homework per lecture, numbered like it (00, the course map, has none)."""
    lectures = sorted(path.name[:2] for path in (SOLUTIONS.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [name[:2] for name in NOTEBOOKS] == [number for number in lectures if number != "00"]
    for name in NOTEBOOKS:
        assignment = load_assignment(SOLUTIONS / f"{name}.ipynb")
        assert assignment.exercises and all(e.points > 0 for e in assignment.exercises.values())


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_passes_nbval(verdicts, name):
    failed = {cell: text[-1500:] for cell, (outcome, text) in verdicts[name].items() if outcome != "passed"}
    assert not failed, failed
    checks = load_assignment(SOLUTIONS / f"{name}.ipynb").exercises.values()
    assert all(cell in verdicts[name] for exercise in checks for cell in exercise.check_cells)
