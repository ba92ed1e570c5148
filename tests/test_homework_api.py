"""Unit tests of the homework machinery: authoring validation, marker regions, forbidden-use scan
and the check API."""

import nbformat
import numpy as np
import pytest

from course_lib.grading import checks, references
from course_lib.grading.assignment import (
    AuthoringError,
    RegionError,
    find_regions,
    remove_regions,
    replace_regions,
    validate,
)
from course_lib.grading.forbidden import find_forbidden

ANSWER = '''def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION'''

CHECK = '''from course_lib.grading import checks
checks.check_function(double, lambda x: 2 * x, [1.0, 2.0], points=1)
### BEGIN HIDDEN TESTS
checks.check_function(double, lambda x: 2 * x, [3.0], points=1)
### END HIDDEN TESTS'''


def make_notebook(answer=ANSWER, check=CHECK, answer_meta=None, check_meta=None, check_id="check"):
    nb = nbformat.v4.new_notebook()
    meta_a = {"kind": "answer", "exercise": "double", "hint": "multiply by two"}
    meta_c = {"kind": "check", "exercise": "double", "points": 2}
    meta_a.update(answer_meta or {})
    meta_c.update(check_meta or {})
    nb.cells = [
        nbformat.v4.new_markdown_cell("Write `double`.", id="intro"),
        nbformat.v4.new_code_cell(answer, id="answer", metadata={"grading": meta_a, "tags": ["answer"]}),
        nbformat.v4.new_code_cell(check, id=check_id, metadata={"grading": meta_c, "tags": ["check"]}),
    ]
    return nb


def test_valid_template_gives_exercises():
    assignment = validate(make_notebook(), "hw.ipynb")
    exercise = assignment.exercises["double"]
    assert exercise.answer_cells == ["answer"] and exercise.check_cells == ["check"]
    assert exercise.functions == ["double"] and exercise.points == 2 and exercise.hint == "multiply by two"


@pytest.mark.parametrize("kwargs, cell, words", [
    ({"answer": ANSWER.replace("    ### END SOLUTION", "")}, "answer", "never closed"),
    ({"answer": ANSWER.replace("    return 2 * x\n", "")}, "answer", "no answer"),
    ({"check": CHECK.replace("### END HIDDEN TESTS", "")}, "check", "never closed"),
    ({"check_meta": {"points": None}}, "check", "points"),
    ({"check_meta": {"points": 0}}, "check", "points"),
    ({"check_meta": {"points": 3}}, "check", "add up to 2"),
    ({"check_id": "answer"}, "answer", "duplicate cell id"),
    ({"answer_meta": {"hint": ""}}, "answer", "hint"),
    ({"check": CHECK.replace("from course_lib.grading import checks\n", "")}, "check", "checks"),
    ({"answer_meta": {"forbidden": ["torch.optim"]}}, "check", "no check in this cell passes forbidden="),
    ({"answer_meta": {"kind": "solution"}}, "answer", "kind must be"),
    # One case per rule of each cell kind (assignment._Validator: answer, check, then the exercise).
    ({"check_meta": {"exercise": "not an id"}}, "check", "must be an identifier"),
    ({"answer": ANSWER + "\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"}, "answer", "hidden tests belong"),
    ({"answer": "def double(x):\n    return 2 * x"}, "answer", "without a '### BEGIN SOLUTION' region"),
    ({"answer": "### BEGIN SOLUTION\ndouble = 2\n### END SOLUTION"}, "answer", "must define the student's"),
    ({"answer_meta": {"forbidden": "torch.optim"}}, "answer", "list of dotted names"),
    ({"answer": ANSWER + "\n# ### BEGIN RUBRIC\n# ### END RUBRIC"}, "answer", "rubric belongs in a written"),
    ({"check": CHECK + "\n### BEGIN SOLUTION\n### END SOLUTION"}, "check", "solution markers in a check"),
    ({"check": CHECK.replace("points=1)", "points=one)")}, "check", "must be literals"),
    ({"answer_meta": {"forbidden": ["torch.optim"]},
      "check": CHECK.replace("points=1)", "points=1, forbidden=['numpy'])")}, "check", "forbidden= differs"),
    ({"check_meta": {"exercise": "triple"}}, "answer", "exercise 'double' has no check cell"),
])
def test_authoring_errors_name_notebook_and_cell(kwargs, cell, words):
    with pytest.raises(AuthoringError) as info:
        validate(make_notebook(**kwargs), "solutions/hw.ipynb")
    message = str(info.value)
    assert message.startswith(f"solutions/hw.ipynb, cell {cell!r}:") and words in message
    assert info.value.cell_id == cell


def test_regions_roundtrip_and_reindent():
    [region] = find_regions(ANSWER)
    assert region.text == "return 2 * x" and region.indent == "    "
    replaced = replace_regions(ANSWER, ["y = x + x\nreturn y"])
    assert "    y = x + x\n    return y\n    ### END SOLUTION" in replaced
    assert find_regions(replaced)[0].text == "y = x + x\nreturn y"
    assert "HIDDEN" not in remove_regions(CHECK) and "[3.0]" not in remove_regions(CHECK)
    with pytest.raises(RegionError, match="without a matching"):
        find_regions("### END SOLUTION")


def test_forbidden_scan_resolves_aliases_and_dynamic_access():
    rule = ["torch.optim", "course_lib.optim"]
    assert find_forbidden("from torch import optim as o\no.Adam", rule)
    assert find_forbidden("import course_lib\ncourse_lib.optim.Adam()", rule)
    assert find_forbidden("x = __import__('importlib')", rule)
    assert find_forbidden("import numpy as np\nnp.sqrt(2)", rule) == []
    assert find_forbidden("from torch import optim", []) == []


def test_check_function_passes_and_fails_with_expected_got_hint():
    def square(x):
        return x * x

    checks.check_function(square, np.square, [(np.arange(3.0),)], points=1)
    with pytest.raises(AssertionError) as info:
        checks.check_function(lambda x: x * x + 1e-6, np.square, [(np.arange(3.0),)], points=2,
                              hint="square it")
    text = str(info.value)
    assert "expected np.array([0.0, 1.0, 4.0])" in text and "got" in text and "Hint: square it" in text
    assert text.startswith("[0/2 points]")


def test_the_same_numbers_as_an_array_where_a_tuple_is_expected_pass_and_wrong_ones_fail():
    def rates(a, b):
        return (4 / (a + b) ** 2, a * b)

    checks.check_function(lambda a, b: np.array(rates(a, b)), rates, [(1.0, 2.0)], points=1)
    with pytest.raises(AssertionError, match=r"the result\[1\]"):
        checks.check_function(lambda a, b: np.array([rates(a, b)[0], 0.0]), rates, [(1.0, 2.0)], points=1)
    with pytest.raises(AssertionError, match="a sequence of 2 items, got a numpy array of shape"):
        checks.check_function(lambda a, b: np.ones(3), rates, [(1.0, 2.0)], points=1)


def test_the_notebook_to_grade_and_the_others_a_person_should_check():
    from course_lib.grading.grade import pick_submission

    assert pick_submission(["a/final.ipynb", "a/hw.ipynb", "a/notes.pdf"], "hw.ipynb") == \
        ("a/hw.ipynb", ["a/final.ipynb"])
    assert pick_submission(["a/answers.pdf", "a/scan.pdf"], "hw.ipynb") == ("a/answers.pdf", [])
    assert pick_submission([], "hw.ipynb") == (None, [])


def test_check_steps_feeds_back_student_state():
    def sloppy_momentum(x, dx, state, learning_rate, rho):
        velocity = dx if state["velocity"] is None else rho * state["velocity"] + dx
        return x - learning_rate * velocity, {"velocity": dx}  # forgets the velocity it computed

    def momentum(x, dx, state, learning_rate, rho):
        velocity = rho * state["velocity"] + dx
        return x - learning_rate * velocity, {"velocity": velocity}

    x0, state = np.array([1.0, -2.0]), {"velocity": np.array([0.3, 0.1])}
    grads = [np.array([0.5, -1.0])] * 3
    hyper = {"learning_rate": 0.1, "rho": 0.9}
    checks.check_steps(momentum, references.momentum_step, x0, state, grads, hyper, points=1)
    with pytest.raises(AssertionError, match="step 1 of 3"):
        checks.check_steps(sloppy_momentum, references.momentum_step, x0, state, grads, hyper, points=1)


def test_forbidden_use_fails_the_check_in_the_kernel():
    def uses_reference(x, dx, learning_rate):
        from course_lib import optim
        return optim.SGD(learning_rate).step(x, dx)

    with pytest.raises(AssertionError, match="forbids"):
        checks.check_function(uses_reference, references.gd_step, [(np.ones(2), np.ones(2), 0.1)], points=1,
                              forbidden=["course_lib.optim"])


def test_case_rng_is_fixed_in_notebooks_and_seeded_by_the_grader():
    first = checks.case_rng("a").random(3)
    assert np.array_equal(first, checks.case_rng("a").random(3))
    assert not np.array_equal(first, checks.case_rng("b").random(3))
    try:
        checks.set_grading_seed(123)
        assert not np.array_equal(first, checks.case_rng("a").random(3))
    finally:
        checks.set_grading_seed(None)
    assert np.array_equal(first, checks.case_rng("a").random(3))
