"""Every row of course_lib.optim's optimizer table has all its pieces (docs/adding-an-optimizer.md).

One test per optimizer lists every piece it lacks and where that piece goes, so an optimizer added
with something forgotten fails here with a to-do list instead of somewhere downstream (or nowhere:
nothing else notices a lecture or a homework exercise that was never written).
"""

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
from optim_kit import GOLDEN, META, MUTANTS

from course_lib import optim, palette
from course_lib.grading import references

ROOT = Path(__file__).resolve().parents[1]

# An optimizer's homework exercise is named after its rule, except gradient descent's: homework 01
# asks for gd_step(x, dx, learning_rate), a step without state.
EXERCISE = {"SGD": "gd_step"}


def _code_cells(folder, answer_only=False):
    """(notebook name, cell) for the code cells of the numbered notebooks in ``folder``."""
    for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            kind = cell.get("metadata", {}).get("grading", {}).get("kind")
            if cell["cell_type"] == "code" and (not answer_only or kind == "answer"):
                yield path.name, cell


def _homework_exercises():
    return {cell["metadata"]["grading"]["exercise"]: name for name, cell in _code_cells("solutions", True)}


def _lecture_code():
    return [(name, "".join(cell["source"])) for name, cell in _code_cells("notebooks")]


def missing_pieces(name, exercises=None, lecture_code=None):
    """What optimizer ``name`` of the table lacks, each piece with where it goes (empty: complete)."""
    exercises = _homework_exercises() if exercises is None else exercises
    lecture_code = _lecture_code() if lecture_code is None else lecture_code
    info, prefix = optim.TABLE[name], name.lower()
    missing = []

    # 1. The rule and its initialiser, in course_lib/optim.py under the names the course uses.
    rule, init = info.cls.rule, info.cls.init
    if getattr(optim, f"{prefix}_step", None) is not rule or not hasattr(rule, "__wrapped__"):
        missing.append(f"the pure step function: {prefix}_step(x, dx, state, *, hyperparameters) under "
                       f"@update_rule in course_lib/optim.py, given to the class "
                       f"(class {name}(Optimizer, rule={prefix}_step, init={prefix}_init))")
    if getattr(optim, f"{prefix}_init", None) is not init:
        missing.append(f"the state initialiser: {prefix}_init(x) in course_lib/optim.py (the state before "
                       f"the first step), given to the class as init=")
    keyword = [p for p in inspect.signature(rule).parameters.values() if p.kind is p.KEYWORD_ONLY]
    no_default = [p.name for p in keyword if p.default is p.empty]
    if no_default:
        missing.append(f"defaults for the hyperparameters {no_default} of {rule.__name__} (the table, the "
                       "class and the benchmarks use them)")
        return missing  # the checks below need the defaults
    defaults = {p.name: p.default for p in keyword}
    x = np.array([0.5, -1.0, 2.0])
    state = init(x)
    _, after = rule(x, np.array([0.1, 0.2, -0.3]), state, **defaults)
    if set(after) != set(state):
        missing.append(f"a state initialiser that matches the rule: {init.__name__} returns the keys "
                       f"{sorted(state)}, {rule.__name__} returns {sorted(after)}")
    unchecked = sorted(set(defaults) - set(optim.HYPERPARAMETER_CHECKS))
    if unchecked:
        missing.append(f"checks for the hyperparameters {unchecked}: add them to "
                       "optim.HYPERPARAMETER_CHECKS")

    # 2. Its look in every plot.
    if name not in palette.STYLES:
        missing.append(f"a plot style: a line for {name!r} in STYLES in course_lib/palette.py")

    # 3. PyTorch recordings (scripts/make_golden.py writes tests/golden/torch_trajectories.npz).
    if info.torch(**defaults) is not None:
        if name not in {case["optimizer"] for case in META["cases"].values()}:
            missing.append(f"a PyTorch trajectory recording: a case for {name!r} in CASES in "
                           "scripts/make_golden.py, then rerun the script")
        fixed = [case for case, spec in META["fixed"]["cases"].items() if spec["optimizer"] == name]
        if not fixed:
            missing.append(f"a PyTorch fixed-input recording: a case for {name!r} in FIXED_CASES in "
                           "scripts/make_golden.py, then rerun the script")
        elif not set(fixed) & set(MUTANTS):
            missing.append(f"wrong variants for the fixed-input case {fixed}: the typical slips in "
                           "MUTANTS in tests/optim_kit.py")
        no_start = [key for key in state if f"fixed_start_{key}" not in GOLDEN]
        if no_start:
            missing.append(f"a fixed starting value for the state {no_start}: in fixed_inputs() and "
                           "TORCH_STATE in scripts/make_golden.py, then rerun the script")

    # 4. The homework exercise and the reference its checks compare with.
    exercise = EXERCISE.get(name, rule.__name__)
    if exercise not in exercises:
        missing.append(f"a homework exercise: an answer cell with grading exercise {exercise!r} in a "
                       "solutions/*.ipynb notebook")
    if not callable(getattr(references, exercise, None)):
        missing.append(f"a reference for the homework checks: {exercise} in "
                       f"course_lib/grading/references.py ({exercise} = optim.{rule.__name__} when the "
                       "exercise has the rule's signature and state)")

    # 5. A lecture that shows it: a code cell that builds it.
    built = re.compile(rf"\b{re.escape(name)}\(|(OPTIMIZERS|TABLE)\[[\"']{re.escape(name)}[\"']\]")
    if not any(built.search(source) for _, source in lecture_code):
        missing.append(f"a lecture that shows it: a code cell in notebooks/*.ipynb that uses "
                       f"optim.{name}(...)")
    return missing


@pytest.fixture(scope="module")
def notebooks():
    return _homework_exercises(), _lecture_code()


@pytest.mark.parametrize("name", list(optim.TABLE))
def test_optimizer_has_every_piece(name, notebooks):
    missing = missing_pieces(name, *notebooks)
    assert not missing, (f"{name} is in course_lib.optim.TABLE but lacks (docs/adding-an-optimizer.md):\n- "
                         + "\n- ".join(missing))


def test_a_forgotten_piece_is_named(notebooks, monkeypatch):
    """The check can fail, and says what is missing: an optimizer with only a rule and a table row."""
    @optim.update_rule
    def lion_step(x, dx, state, *, learning_rate=1e-4, beta1=0.9, beta2=0.99):
        direction = np.sign(beta1 * state["momentum"] + (1 - beta1) * dx)
        return x - learning_rate * direction, {"momentum": beta2 * state["momentum"] + (1 - beta2) * dx}

    def lion_init(x):
        return {"momentum": np.zeros_like(x)}

    class Lion(optim.Optimizer, rule=lion_step, init=lion_init):
        pass

    monkeypatch.setitem(optim.TABLE, "Lion", optim.OptimizerInfo(
        Lion, lambda learning_rate, beta1, beta2: ("Lion", {}), passes=5))
    missing = missing_pieces("Lion", *notebooks)
    for piece in ("the pure step function: lion_step", "the state initialiser: lion_init",
                  "a plot style", "a PyTorch trajectory recording", "a PyTorch fixed-input recording",
                  "a fixed starting value for the state ['momentum']", "a homework exercise",
                  "a reference for the homework checks: lion_step", "a lecture that shows it"):
        assert any(message.startswith(piece) for message in missing), (piece, missing)
    assert not any("HYPERPARAMETER_CHECKS" in message for message in missing)  # its names are known
