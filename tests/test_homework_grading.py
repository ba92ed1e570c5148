"""The batch grader on real templates: the same submission gets the same points under any grading
seed (and the same as the in-process scoring the mutant tests use), every point is explained by a
message, hidden failures are labelled and carry their full inputs, error rows name the case, and a
non-notebook upload gets no coding hints.
"""

import re

import nbformat
import numpy as np
import pytest
from homework_kit import EXERCISES, SOLUTIONS, score
from homework_mutants import CONTROLS, MUTANTS

from course_lib.grading import checks, references, report
from course_lib.grading.assignment import grading_metadata, load_assignment, replace_regions
from course_lib.grading.grade import Outcome, grade_submission

NAME = "02_minima_saddles"
POINTS = re.compile(r"^\[([\d.]+)/([\d.]+) points\]", re.MULTILINE)
# One submission with a slip in two exercises and a correct variant in the third; one that raises in
# one exercise and modifies an argument in another.
SLIPS, VARIANTS = MUTANTS[NAME], CONTROLS[NAME]
ANSWERS = {
    "mixed": {"classify_critical_point": SLIPS["classify_critical_point"]["tests signs before the zero test"],
              "fraction_positive_definite": VARIANTS["fraction_positive_definite"]["Cholesky succeeds"],
              "saddle_free_newton_step": next(body for label, body in SLIPS["saddle_free_newton_step"].items()
                                              if label.startswith("np.linalg.eig with V.T"))},
    "raises": {"classify_critical_point": "if len(hessian) > 2:\n    raise ValueError('only 2-D, sorry')\n"
                                          "return 'saddle' if np.linalg.det(hessian) < 0 else 'minimum'",
               # the right numbers, but the caller's gradient is overwritten
               "saddle_free_newton_step": "e, V = np.linalg.eigh(hessian)\ngrad[:] = V.T @ grad\n"
                                          "return x - V @ (grad / np.abs(e))"},
}


def _submission(tmp_path, student, answers):
    """The released exercise with the given answers (by exercise id) written between the markers."""
    notebook = nbformat.read(EXERCISES / f"{NAME}.ipynb", as_version=4)
    for cell in notebook.cells:
        meta = grading_metadata(cell) or {}
        if meta.get("kind") == "answer" and meta["exercise"] in answers:
            cell.source = replace_regions(cell.source, [answers[meta["exercise"]]])
    path = tmp_path / f"{student}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: {seed: rows by exercise}}: each submission graded by the real grader under two seeds."""
    tmp_path = tmp_path_factory.mktemp("submissions")
    template = SOLUTIONS / f"{NAME}.ipynb"
    return {student: {seed: {row["exercise"]: row for row in grade_submission(
                template, _submission(tmp_path, student, answers), timeout=60, seed=seed)["rows"]}
                      for seed in (11, 12)}
            for student, answers in ANSWERS.items()}


@pytest.mark.slow
def test_points_do_not_depend_on_the_seed_and_match_the_in_process_scores(graded):
    assignment = load_assignment(SOLUTIONS / f"{NAME}.ipynb")
    stubs = {e: f"raise NotImplementedError({x.hint!r})"
             for e, x in assignment.exercises.items() if not x.written}  # written answers: no code
    for student, answers in ANSWERS.items():
        by_cell = {assignment.exercises[e].answer_cells[0]: body for e, body in {**stubs, **answers}.items()}
        expected = {exercise: points for exercise, (points, _) in score(assignment, by_cell, seed=0).items()}
        for seed, rows in graded[student].items():
            assert {e: row["points"] for e, row in rows.items()} == expected, (student, seed)
    mixed = graded["mixed"][11]
    assert [mixed[e]["points"] for e in ANSWERS["mixed"]] == [1, 2, 2]  # partial credit per check call


@pytest.mark.slow
def test_the_points_in_the_messages_add_up_to_the_score(graded):
    for student, by_seed in graded.items():
        for row in by_seed[11].values():
            earned = sum(float(a) for a, _ in POINTS.findall(row["message"]))
            available = sum(float(b) for _, b in POINTS.findall(row["message"]))
            assert (earned, available) == (row["points"], row["max_points"]), (student, row)


@pytest.mark.slow
def test_a_hidden_failure_is_labelled_and_its_full_inputs_reproduce_it(graded):
    message = graded["mixed"][11]["classify_critical_point"]["message"]
    hidden = [block for block in re.split(r"\n(?=\[)", message) if "(hidden check)" in block.splitlines()[0]]
    assert hidden and " ..." not in message
    call = re.search(r"call: classify_critical_point\((.*)\)$", hidden[0], re.MULTILINE).group(1)
    arguments = eval(f"dict({call})", {"np": np})  # the inputs, every digit, as the student can paste them
    expected = re.search(r"expected '(\w+)', got '(\w+)'", hidden[0])
    assert references.classify_critical_point(**arguments) == expected.group(1) != expected.group(2)


@pytest.mark.slow
def test_an_error_row_names_the_case_and_its_arguments(graded):
    row = graded["raises"][11]["classify_critical_point"]
    assert row["status"] == "error"
    assert "raised ValueError: only 2-D, sorry (in case 3 of 5)" in row["message"]
    assert "call: classify_critical_point(hessian=np.array([[-1.0, 0.0, 0.0], [0.0, -2.0, 0.0]" in (
        row["message"])


@pytest.mark.slow
def test_a_function_that_modifies_its_argument_loses_the_points_in_the_kernel(graded):
    row = graded["raises"][11]["saddle_free_newton_step"]
    assert row["points"] == 0 and row["status"] == "failed"
    assert "saddle_free_newton_step modified its argument grad" in row["message"]


def test_a_right_value_of_the_wrong_type_gets_a_message_about_the_type():
    def as_list(x, dx, learning_rate):
        return list(x - learning_rate * dx)

    with checks.collect() as results:
        checks.check_function(as_list, references.gd_step, [(np.ones(2), np.ones(2), 0.5)], points=1)
    [result] = results
    assert result.status == "failed"
    assert "expected a numpy array of shape (2,), got a list with the right numbers" in result.detail


def test_the_check_names_the_argument_a_function_modified():
    def decays_in_place(x, dx, state, learning_rate, rho):
        state["velocity"] *= rho
        state["velocity"] += dx
        return x - learning_rate * state["velocity"], {"velocity": state["velocity"]}

    state = {"velocity": np.array([0.5, 0.5])}
    with pytest.raises(checks.CheckFailed, match=r"modified its argument state\['velocity'\]"):
        checks.check_steps(decays_in_place, references.momentum_step, np.zeros(2), state,
                           [np.ones(2)], {"learning_rate": 0.1, "rho": 0.9}, points=1)
    assert np.array_equal(state["velocity"], [0.5, 0.5])  # the check's own inputs are untouched


def test_a_failed_check_renders_as_its_message_alone():
    failure = checks.CheckFailed("[0/1 points] f is wrong in case 1 of 1\n  Hint: h")
    assert failure._render_traceback_() == [f"\x1b[0;31mCheckFailed\x1b[0m: {failure}"]


def test_points_not_run_are_charged_to_the_problem_that_stopped_them():
    outcome = Outcome("adam_step", 3)
    outcome.record(checks.CheckResult("adam_step: 5 steps passed", 2, "passed"))
    outcome.fail("timeout", "your code did not finish within 60 s", final=True)
    row = outcome.row()
    assert row["points"] == 2 and row["status"] == "timeout"
    assert row["message"] == ("[2/2 points] adam_step: 5 steps passed\n"
                              "[0/1 points] your code did not finish within 60 s")
    outcome.status = "forbidden"  # a zero verdict: the checks that ran count for nothing
    outcome.fail("forbidden", "your code used course_lib.optim")
    assert outcome.row()["message"] == ("your code did not finish within 60 s\n"
                                        "[0/3 points] your code used course_lib.optim")


def test_a_non_notebook_upload_gets_no_coding_hints(tmp_path):
    upload = tmp_path / "bob.pdf"
    upload.write_bytes(b"%PDF-1.4 my homework")
    template = SOLUTIONS / f"{NAME}.ipynb"
    record = grade_submission(template, upload, timeout=60, seed=1)
    assert {row["status"] for row in record["rows"]} == {"unreadable"}
    text = report.feedback(load_assignment(template), "bob", report.Record.from_json("bob", record))
    assert "Hint:" not in text and "eigenvalue" not in text
