"""Every solution notebook passes under nbval, every cell of it (the answer key is right)."""

import pytest
from homework_kit import NOTEBOOKS, SOLUTIONS, run_nbval

from course_lib.grading.assignment import load_assignment


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    return run_nbval([SOLUTIONS / f"{name}.ipynb" for name in NOTEBOOKS], tmp_path_factory.mktemp("nbval"))[0]


HOMEWORK = ["01_conditioning", "02_minima_saddles", "03_minibatch_noise", "04_momentum", "05_nesterov",
            "06_adagrad_rmsprop", "07_adam", "08_schedules", "09_newton_lbfgs", "10_capstone"]


def test_every_homework_is_there_with_graded_exercises():
    assert NOTEBOOKS == HOMEWORK
    for name in NOTEBOOKS:
        assignment = load_assignment(SOLUTIONS / f"{name}.ipynb")
        assert assignment.exercises and all(e.points > 0 for e in assignment.exercises.values())


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_passes_nbval(verdicts, name):
    failed = {cell: text[-1500:] for cell, (outcome, text) in verdicts[name].items() if outcome != "passed"}
    assert not failed, failed
    checks = load_assignment(SOLUTIONS / f"{name}.ipynb").exercises.values()
    assert all(cell in verdicts[name] for exercise in checks for cell in exercise.check_cells)
