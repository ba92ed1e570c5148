"""Released exercises, run as a student first sees them (fresh kernel, nbval): they fail exactly in
the check cells, and every failure is the stub's NotImplementedError carrying its exercise's hint."""

import pytest
from homework_kit import EXERCISES, NOTEBOOKS, SOLUTIONS, run_nbval

from course_lib.grading.assignment import load_assignment


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    return run_nbval([EXERCISES / f"{name}.ipynb" for name in NOTEBOOKS], tmp_path_factory.mktemp("nbval"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercise_fails_exactly_in_its_check_cells(verdicts, name):
    exercises = load_assignment(SOLUTIONS / f"{name}.ipynb").exercises.values()
    check_cells = {cell for exercise in exercises for cell in exercise.check_cells}
    failed = {cell for cell, (outcome, _) in verdicts[name].items() if outcome == "failed"}
    assert failed == check_cells


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_failure_is_the_stub_with_its_hint(verdicts, name):
    for exercise in load_assignment(SOLUTIONS / f"{name}.ipynb").exercises.values():
        for cell in exercise.check_cells:
            message = verdicts[name][cell][1]
            last_line = message.strip().splitlines()[-1]
            assert last_line == f"NotImplementedError: {exercise.hint}", (cell, message[-800:])
            assert "### BEGIN HIDDEN TESTS" not in message and "case_rng" not in message
