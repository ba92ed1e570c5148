"""Planted wrong answers (tests/homework_mutants.py) must make their exercise's checks fail.

One kernel per notebook: run the solution, then for each mutant splice it into the answer cell,
run that exercise's check cells, expect an AssertionError from the check, and restore the answer.
Correct answers written differently (CONTROLS) must pass, so the harness is not just failing everything.
The count is reported at the end of the run as "mutants caught: X/Y".
"""

import copy

import pytest
from homework_kit import NOTEBOOKS, SOLUTIONS
from homework_mutants import CONTROLS, MUTANTS
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_lib.grading.assignment import find_regions, load_assignment, replace_regions


def test_every_exercise_has_at_least_two_mutants():
    assert all(set(CONTROLS[name]) <= set(MUTANTS[name]) for name in CONTROLS)
    for name in NOTEBOOKS:
        exercises = load_assignment(SOLUTIONS / f"{name}.ipynb").exercises
        assert set(MUTANTS[name]) == set(exercises), name
        for exercise_id, mutants in MUTANTS[name].items():
            slips = [label for label in mutants if "(forbidden)" not in label]
            assert len(slips) >= 2, (name, exercise_id)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_mutants_are_caught(name, record_property):
    assignment = load_assignment(SOLUTIONS / f"{name}.ipynb")
    notebook = assignment.notebook
    index = {cell.id: i for i, cell in enumerate(notebook.cells)}
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(SOLUTIONS)}})
    escaped, total = [], 0
    with client.setup_kernel():
        for i, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, i)
        for exercise_id, mutants in MUTANTS[name].items():
            exercise = assignment.exercises[exercise_id]
            [answer_id] = exercise.answer_cells
            answer = notebook.cells[index[answer_id]]
            solution = find_regions(answer.source)[0].text
            control = CONTROLS.get(name, {}).get(exercise_id)
            for label, body in [*mutants.items(), *([("control", control)] if control else [])]:
                assert body.strip() != solution.strip(), label
                mutant = copy.deepcopy(answer)
                mutant.source = replace_regions(answer.source, [body])
                client.execute_cell(mutant, index[answer_id])  # the mutant itself must define the function
                failures = []
                for check_id in exercise.check_cells:
                    try:
                        client.execute_cell(copy.deepcopy(notebook.cells[index[check_id]]), index[check_id])
                    except CellExecutionError as error:
                        failures.append(error.ename)
                if label == "control":
                    assert not failures, f"{exercise_id}: a correct alternative answer fails {failures}"
                else:
                    total += 1
                    if "AssertionError" not in failures:
                        escaped.append(f"{exercise_id}: {label} ({failures or 'all checks passed'})")
                client.execute_cell(answer, index[answer_id])
    record_property("summary:mutants caught", [total - len(escaped), total])
    assert not escaped, escaped
