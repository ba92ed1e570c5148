"""Planted wrong answers (tests/homework_mutants.py) lose points, correct answers written differently
(CONTROLS) earn every point, and neither depends on the grading seed.

Each answer is spliced into its template and graded in this process exactly as the batch grader
grades (``homework_kit.score``: check cells inside ``checks.collect``, one result per check call)
under SEEDS grading seeds; the points must be identical under all of them. The run ends with
"mutants caught: X/Y" and "correct variants accepted: A/B" (tests/conftest.py sums them).
"""

import pytest
from homework_kit import NOTEBOOKS, SOLUTIONS, score
from homework_mutants import CONTROLS, MUTANTS

from course_lib.grading.assignment import find_regions, load_assignment

SEEDS = range(20)


def test_every_exercise_has_three_slips_and_two_correct_variants():
    for name in NOTEBOOKS:
        exercises = {e.id: e for e in load_assignment(SOLUTIONS / f"{name}.ipynb").exercises.values()
                     if not e.written}  # written answers are scored by a person (tests/test_review.py)
        assert set(MUTANTS[name]) == set(exercises) == set(CONTROLS[name]), name
        for exercise_id in exercises:
            slips = [label for label in MUTANTS[name][exercise_id] if "(forbidden)" not in label]
            assert len(slips) >= 3, (name, exercise_id)
            assert len(CONTROLS[name][exercise_id]) >= 2, (name, exercise_id)


def _points_under_seeds(assignment, exercise_id, body):
    """{seed: points} for ``body`` as the exercise's answer, and the messages of the first seed."""
    [answer_id] = assignment.exercises[exercise_id].answer_cells
    answers = {answer_id: body} if body is not None else {}
    graded = {seed: score(assignment, answers, seed, [exercise_id])[exercise_id] for seed in SEEDS}
    return {seed: points for seed, (points, _) in graded.items()}, graded[SEEDS[0]][1]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_points_are_the_same_under_every_seed(name, record_property):
    assignment = load_assignment(SOLUTIONS / f"{name}.ipynb")
    problems, caught, slips, accepted, variants = [], 0, 0, 0, 0
    for exercise_id, exercise in assignment.exercises.items():
        if exercise.written:
            continue
        [answer_id] = exercise.answer_cells
        solution = find_regions(assignment.cell(answer_id).source)[0].text
        answers = [("solution", None, True)]
        answers += [(label, body, False) for label, body in MUTANTS[name][exercise_id].items()]
        answers += [(f"control {label}", body, True) for label, body in CONTROLS[name][exercise_id].items()]
        for label, body, correct in answers:
            assert body is None or body.strip() != solution.strip(), label
            points, messages = _points_under_seeds(assignment, exercise_id, body)
            if len(set(points.values())) > 1:
                problems.append(f"{exercise_id}: {label}: points depend on the seed {points}")
            full = all(p == exercise.points for p in points.values())
            if correct and label != "solution":
                variants += 1
                accepted += full
            elif not correct:
                slips += 1
                caught += not full
            if correct != full:
                problems.append(f"{exercise_id}: {label}: {'loses points' if correct else 'not caught'} "
                                f"{points[SEEDS[0]]}/{exercise.points}\n" + "\n".join(messages))
    record_property("summary:mutants caught", [caught, slips])
    record_property("summary:correct variants accepted", [accepted, variants])
    assert not problems, "\n\n".join(problems)
