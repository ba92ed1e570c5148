"""Released exercises, run as a student first sees them (fresh kernel, nbval with the course's plugin
from exercises/conftest.py): they fail exactly in the check cells, every failure is the stub's
NotImplementedError carrying its exercise's hint, a failed check shows its message without the
grading package's frames, and the run ends with a points table named by exercise."""

import ast
import re

import nbformat
import pytest
from homework_kit import EXERCISES, NOTEBOOKS, SOLUTIONS, run_nbval
from homework_mutants import MUTANTS

from course_lib.grading.assignment import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    _declared,
    find_regions,
    grading_metadata,
    load_assignment,
    remove_regions,
    replace_regions,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_nbval([EXERCISES / f"{name}.ipynb" for name in NOTEBOOKS], tmp_path_factory.mktemp("nbval"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercise_fails_exactly_in_its_check_cells(run, name):
    exercises = load_assignment(SOLUTIONS / f"{name}.ipynb").exercises.values()
    check_cells = {cell for exercise in exercises for cell in exercise.check_cells}
    failed = {cell for cell, (outcome, _) in run[0][name].items() if outcome == "failed"}
    assert failed == check_cells


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_failure_is_the_stub_with_its_hint(run, name):
    for exercise in load_assignment(SOLUTIONS / f"{name}.ipynb").exercises.values():
        for cell in exercise.check_cells:
            message = run[0][name][cell][1]
            last_line = message.strip().splitlines()[-1]
            assert last_line == f"NotImplementedError: {exercise.hint}", (cell, message[-800:])
            assert "### BEGIN HIDDEN TESTS" not in message and "case_rng" not in message
            assert "course_lib/grading/checks.py" not in message and "skipping hidden" not in message
            assert message.startswith(f"the check of {exercise.id} failed:")


def _points(assignment, exercise):
    """(visible, hidden) points of an exercise's check cells, from their calls' points=."""
    sources = [assignment.cell(cell).source for cell in exercise.check_cells]
    def declared(source):
        return sum(_declared(ast.parse(source), "points"))

    visible = sum(declared(remove_regions(s, BEGIN_HIDDEN, END_HIDDEN)) for s in sources)
    return visible, sum(map(declared, sources)) - visible


def test_the_run_ends_with_points_per_exercise_and_counts_only_checks(run):
    output = run[1]
    checks = hidden = 0
    for name in NOTEBOOKS:
        assignment = load_assignment(SOLUTIONS / f"{name}.ipynb")
        section = output.split(f" points: {name}.ipynb ", 1)[1]
        for exercise in (e for e in assignment.exercises.values() if not e.written):
            visible, more = _points(assignment, exercise)
            line = rf"^{exercise.id} +0 / {visible:g} +{more:g} more$"
            assert re.search(line, section, re.MULTILINE), exercise.id
            checks += len(exercise.check_cells)
            hidden += more
        for exercise in (e for e in assignment.exercises.values() if e.written):
            line = rf"^{exercise.id} +- +{exercise.points:g} more \(written, read by a person\)$"
            assert re.search(line, section, re.MULTILINE), exercise.id
        # The total a student is told is the homework's whole total, written answers included.
        total = re.search(r"^total .*\(graded out of ([\d.]+)\)$", section, re.MULTILINE)
        assert float(total.group(1)) == assignment.points, (name, total.group(0), assignment.points)
    headers = re.findall(r"^_{3,} (.*?) _{3,}$", output, re.MULTILINE)  # failures named by exercise
    assert len(headers) == checks, headers
    assert all(re.fullmatch(r"\d\d_\w+\.ipynb \w+: check", header) for header in headers), headers
    code_cells = sum(len(nbformat.read(EXERCISES / f"{n}.ipynb", as_version=4).cells) for n in NOTEBOOKS)
    summary = output.strip().splitlines()[-1]
    assert f"{checks} failed" in summary and "passed" not in summary and " not graded" in summary, summary
    assert code_cells > checks


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_exercise_states_its_points(name):
    """The task text states the exercise's total, visible and hidden, as the check cells compute it."""
    assignment = load_assignment(SOLUTIONS / f"{name}.ipynb")
    for exercise in assignment.exercises.values():
        if exercise.written:  # its own cell states the points a person gives
            assert f"**Points: {exercise.points:g}**, scored by a person" in (
                assignment.cell(exercise.written_cell).source), exercise.id
            continue
        visible, hidden = _points(assignment, exercise)
        assert visible + hidden == exercise.points
        statement = (f"**Points: {exercise.points:g}** ({visible:g} from the checks below, "
                     f"{hidden:g} from hidden checks when graded).")
        assert assignment.cell(f"{exercise.id}-task").source.endswith(statement), exercise.id


def test_a_wrong_answer_shows_the_check_message_and_partial_points(tmp_path):
    """One exercise right, one with a slip that modifies its argument, the rest unanswered: the
    student sees the check's message (what was called, the argument it modified, the hint) and the
    points each exercise earned."""
    solution = load_assignment(SOLUTIONS / "07_adam.ipynb")
    notebook = nbformat.read(EXERCISES / "07_adam.ipynb", as_version=4)
    answers = {"adam_almost_step": find_regions(solution.cell("adam_almost_step-answer").source)[0].text,
               "adam_step": MUTANTS["07_adam"]["adam_step"]["increments t in the caller's state"]}
    for cell in notebook.cells:
        meta = grading_metadata(cell) or {}
        if meta.get("kind") == "answer" and meta["exercise"] in answers:
            cell.source = replace_regions(cell.source, [answers[meta["exercise"]]])
    path = tmp_path / "07_adam.ipynb"
    nbformat.write(notebook, path)
    verdicts, output = run_nbval([path], tmp_path, "-p", "course_lib.grading.nbval_report")
    message = verdicts["07_adam"]["adam_step-check"][1]
    first = "CheckFailed: [0/2 points] adam_step modified its argument state['t']"
    assert message.splitlines()[2].startswith(first), message
    assert "call: adam_step(x=np.array([1.0, -2.0, 0.5])" in message and "Hint: increment t" in message
    assert "Traceback" not in message and "checks.py" not in message
    assert re.search(r"^adam_almost_step +2 / 2 +1 more$", output, re.MULTILINE)
    assert re.search(r"^adam_step +0 / 2 +1 more$", output, re.MULTILINE)
    visible, hidden = map(sum, zip(*(_points(solution, e) for e in solution.exercises.values()), strict=True))
    hidden += sum(e.points for e in solution.exercises.values() if e.written)  # read by a person later
    total = rf"^total +2 / {visible:g} +{hidden:g} more \(graded out of {solution.points:g}\)$"
    assert re.search(total, output, re.MULTILINE), output[-600:]
    checks = sum(len(e.check_cells) for e in solution.exercises.values())
    code = sum(cell.cell_type == "code" for cell in notebook.cells)
    assert f"{checks - 1} failed, 1 passed, {code - checks} not graded" in output
