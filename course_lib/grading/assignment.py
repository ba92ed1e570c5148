"""Load and validate a homework template (a solution notebook): its exercises, answers and checks.

A template is authored as described in docs/grading-design.md. ``load_assignment(path)`` reads it and
returns an ``Assignment`` (code exercises: answer and check cells; written exercises: one markdown
cell with the question, a model answer and a rubric, scored by a person); any authoring mistake
raises ``AuthoringError`` naming the notebook and the cell. The markers and region helpers live in
``markers`` (shared with release, splice and the grader); their names are importable from here too.
"""

from __future__ import annotations

import ast
import builtins
import copy
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_lib.grading.markers import (  # noqa: F401  (re-exported: ``assignment.find_regions``)
    BEGIN_HIDDEN,
    BEGIN_RUBRIC,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_RUBRIC,
    END_SOLUTION,
    MARKERS,
    Region,
    RegionError,
    find_regions,
    remove_regions,
    replace_regions,
)

ANSWER, CHECK, WRITTEN = "answer", "check", "written"


class AuthoringError(ValueError):
    """A template that breaks the authoring rules; the message names the notebook and the cell."""

    def __init__(self, notebook, cell_id, message):
        self.notebook, self.cell_id = str(notebook), cell_id
        where = f"{self.notebook}, cell {cell_id!r}" if cell_id is not None else self.notebook
        super().__init__(f"{where}: {message}")


@dataclass
class Exercise:
    """One graded exercise: the answer cells that define the student's functions and the check
    cells that grade them (ids in notebook order), or, for a written exercise, the one markdown
    cell that holds the question, the student's text and (in the template only) the rubric."""

    id: str
    answer_cells: list[str] = field(default_factory=list)
    check_cells: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    points: float = 0.0
    forbidden: list[str] = field(default_factory=list)
    hint: str = ""
    written_cell: str | None = None
    rubric: str = ""

    @property
    def written(self) -> bool:
        """Scored by a person (``python -m course_lib.grading review``), not by checks."""
        return self.written_cell is not None


@dataclass
class Assignment:
    """A validated template: the notebook and its exercises in notebook order."""

    path: Path
    notebook: nbformat.NotebookNode
    exercises: dict[str, Exercise]

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def points(self) -> float:
        return sum(exercise.points for exercise in self.exercises.values())

    def cell(self, cell_id):
        """The template's cell with this id."""
        return next(cell for cell in self.notebook.cells if cell.get("id") == cell_id)

    def blank_notebook(self) -> nbformat.NotebookNode:
        """A copy of the template without outputs or execution counts: what release and splice
        start from."""
        notebook = copy.deepcopy(self.notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        return notebook


def grading_metadata(cell) -> dict | None:
    """The cell's ``metadata.grading`` dict, or None for instructor material."""
    meta = cell.get("metadata", {}).get("grading")
    return meta if isinstance(meta, dict) else None


def _defined_functions(tree) -> list[str]:
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def _free_names(tree) -> set[str]:
    """Names a cell reads but neither assigns nor imports (anywhere in the cell: good enough for
    the flat code a check cell holds)."""
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.Lambda):
            bound.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
            if isinstance(node, ast.FunctionDef):
                bound.add(node.name)
        elif isinstance(node, ast.comprehension | ast.ExceptHandler) and getattr(node, "name", None):
            bound.add(node.name)
    return loaded - bound - set(dir(builtins))


def _declared(tree, name) -> list:
    """The literal values of the keyword ``name`` (``points=``, ``forbidden=``) of every call in a cell."""
    values = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == name:
                    values.append(ast.literal_eval(keyword.value))
    return values


def _points(meta, error, cell_id, kind):
    points = meta.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float) or not points > 0:
        raise error(cell_id, f"a {kind} cell needs metadata.grading.points > 0, got {points!r}")
    return points


def _written_exercise(cell, meta, error) -> Exercise:
    """A written exercise: one markdown cell with the question, the model answer between the
    solution markers (the student writes there) and the rubric between the rubric markers (only
    the template has it: release removes it)."""
    try:
        solution = find_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
        rubric = find_regions(cell.source, BEGIN_RUBRIC, END_RUBRIC)
    except RegionError as exc:
        raise error(cell.id, f"RegionError: {exc}") from None
    if BEGIN_HIDDEN in cell.source or END_HIDDEN in cell.source:
        raise error(cell.id, "hidden tests belong in check cells, not written cells")
    if len(solution) != 1 or not solution[0].text.strip():
        raise error(cell.id, f"a written cell needs one {BEGIN_SOLUTION!r} region holding the model answer")
    if len(rubric) != 1 or not rubric[0].text.strip():
        raise error(cell.id, f"a written cell needs one {BEGIN_RUBRIC!r} region holding the rubric")
    (answer,), (rubric,) = solution, rubric
    if answer.begin < rubric.end and rubric.begin < answer.end:
        raise error(cell.id, "the answer and rubric regions overlap (close one before opening the other)")
    hint = meta.get("hint", "")
    if not isinstance(hint, str) or "\n" in hint:
        raise error(cell.id, "metadata.grading.hint must be a one-line hint")
    return Exercise(meta["exercise"], points=_points(meta, error, cell.id, WRITTEN), hint=hint,
                    written_cell=cell.id, rubric=rubric.text.strip())


def load_assignment(path) -> Assignment:
    """Read a template notebook and validate it; raises AuthoringError naming notebook and cell."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        cells = json.loads(text)["cells"]
    except Exception as exc:
        raise AuthoringError(path, None, f"not a readable notebook: {exc}") from None
    # nbformat silently renames duplicate ids and invents missing ones on reading: check the file.
    seen = set()
    for index, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not cell_id:
            raise AuthoringError(path, f"#{index}", "cell has no id (use nbformat >= 4.5 with stable ids)")
        if cell_id in seen:
            raise AuthoringError(path, cell_id, "duplicate cell id")
        seen.add(cell_id)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:
        raise AuthoringError(path, None, f"not a readable notebook: {exc}") from None
    return validate(notebook, path)


def validate(notebook, path) -> Assignment:
    """The Assignment of an in-memory template (``path`` only names it in errors)."""
    validator = _Validator(Path(path))
    seen = set()
    for index, cell in enumerate(notebook.cells):
        cell_id = cell.get("id")
        if not cell_id:
            raise validator.error(f"#{index}", "cell has no id (use nbformat >= 4.5 with stable ids)")
        if cell_id in seen:
            raise validator.error(cell_id, "duplicate cell id")
        seen.add(cell_id)
        validator.cell(cell)
    validator.finish()
    return Assignment(Path(path), notebook, validator.exercises)


class _Validator:
    """The rules of each cell kind (``answer``, ``check``, ``written``, and instructor material:
    a cell without ``metadata.grading``), applied cell by cell; then the rules that tie an
    exercise's cells together (``finish``)."""

    def __init__(self, path):
        self.path = path
        self.exercises: dict[str, Exercise] = {}
        self.check_trees = []  # (cell id, syntax tree) of every check cell, for finish()

    def error(self, cell_id, message):
        return AuthoringError(self.path, cell_id, message)

    def cell(self, cell):
        meta = grading_metadata(cell)
        if meta is None:
            return self.instructor(cell)
        kind, exercise_id = meta.get("kind"), meta.get("exercise")
        if kind not in (ANSWER, CHECK, WRITTEN):
            raise self.error(cell.id, "metadata.grading.kind must be 'answer', 'check' or 'written', "
                                      f"got {kind!r}")
        cell_type = "markdown" if kind == WRITTEN else "code"
        if cell.cell_type != cell_type:
            raise self.error(cell.id, f"{kind} cells must be {cell_type} cells")
        if not isinstance(exercise_id, str) or not exercise_id.isidentifier():
            raise self.error(cell.id, f"metadata.grading.exercise must be an identifier, got {exercise_id!r}")
        if kind not in cell.get("metadata", {}).get("tags", []):
            raise self.error(cell.id, f"a {kind} cell needs the tag {kind!r}")
        existing = self.exercises.get(exercise_id)
        if existing is not None and (kind == WRITTEN or existing.written):
            raise self.error(cell.id, f"exercise {exercise_id!r} already has cells: a written exercise "
                                      "is one written cell (give this one its own exercise id)")
        {ANSWER: self.answer, CHECK: self.check, WRITTEN: self.written}[kind](cell, meta)

    def instructor(self, cell):
        """Release only cuts regions out of graded cells: markers anywhere else would publish them."""
        lines = {line.strip() for line in cell.source.splitlines()}
        for markers in MARKERS:
            if cell.cell_type == "code" and any(marker in cell.source for marker in markers) or (
                    lines & set(markers)):
                raise self.error(cell.id, f"{markers[0]!r} markers in a cell without metadata.grading "
                                          "(tag it as an answer, check or written cell)")

    def written(self, cell, meta):
        self.exercises[meta["exercise"]] = _written_exercise(cell, meta, self.error)

    def _code(self, cell, meta):
        """The solution regions, hidden regions and syntax tree of an answer or check cell, and its
        exercise."""
        if BEGIN_RUBRIC in cell.source or END_RUBRIC in cell.source:
            raise self.error(cell.id, "a rubric belongs in a written cell, not in a code cell")
        try:
            solution = find_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
            hidden = find_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
            tree = ast.parse(cell.source)
        except (RegionError, SyntaxError) as exc:
            raise self.error(cell.id, f"{type(exc).__name__}: {exc}") from None
        exercise = self.exercises.setdefault(meta["exercise"], Exercise(meta["exercise"]))
        return solution, hidden, tree, exercise

    def answer(self, cell, meta):
        """An answer cell defines the student's function(s) with the model answer between the solution
        markers and states the exercise's one-line hint and forbidden names."""
        solution, hidden, tree, exercise = self._code(cell, meta)
        if hidden:
            raise self.error(cell.id, "hidden tests belong in check cells, not answer cells")
        if not solution:
            raise self.error(cell.id, f"answer cell without a {BEGIN_SOLUTION!r} region")
        if any(not region.text.strip() for region in solution):
            raise self.error(cell.id, "answer cell with an empty solution region (no answer)")
        if exercise.check_cells:
            raise self.error(cell.id, f"answer cell after a check cell of {exercise.id!r}")
        functions = _defined_functions(tree)
        if not functions:
            raise self.error(cell.id, "an answer cell must define the student's function(s)")
        hint = meta.get("hint")
        if not isinstance(hint, str) or not hint.strip() or "\n" in hint:
            raise self.error(cell.id, "metadata.grading.hint must be a one-line hint")
        forbidden = meta.get("forbidden", [])
        if not isinstance(forbidden, list) or not all(isinstance(f, str) for f in forbidden):
            raise self.error(cell.id, "metadata.grading.forbidden must be a list of dotted names")
        exercise.answer_cells.append(cell.id)
        exercise.functions += functions
        exercise.forbidden += [f for f in forbidden if f not in exercise.forbidden]
        exercise.hint = exercise.hint or hint

    def check(self, cell, meta):
        """A check cell's check calls add up to its points and enforce the exercise's forbidden names."""
        solution, _, tree, exercise = self._code(cell, meta)
        if solution:
            raise self.error(cell.id, "solution markers in a check cell")
        points = _points(meta, self.error, cell.id, CHECK)
        try:
            declared, declared_forbidden = _declared(tree, "points"), _declared(tree, "forbidden")
        except ValueError:
            raise self.error(cell.id, "points= and forbidden= must be literals") from None
        if declared and abs(sum(declared) - points) > 1e-9:
            raise self.error(cell.id, f"the checks' points add up to {sum(declared)}, "
                                      f"but metadata.grading.points is {points}")
        # The rule is stated once per exercise (answer metadata) and the checks must enforce it.
        if exercise.forbidden and not declared_forbidden:
            raise self.error(cell.id, f"exercise {exercise.id!r} forbids {exercise.forbidden}, but no check "
                                      "in this cell passes forbidden=")
        if any(sorted(f) != sorted(exercise.forbidden) for f in declared_forbidden):
            raise self.error(cell.id, f"forbidden= differs from the answer cell's {exercise.forbidden}")
        exercise.check_cells.append(cell.id)
        exercise.points += points
        self.check_trees.append((cell.id, tree))

    def finish(self):
        """Every code exercise has answer and check cells, and its check cells name only its tools
        and the students' functions."""
        for exercise in self.exercises.values():
            if exercise.written:
                continue
            if not exercise.answer_cells:
                raise self.error(exercise.check_cells[0],
                                 f"exercise {exercise.id!r} has checks but no answer cell")
            if not exercise.check_cells:
                raise self.error(exercise.answer_cells[0], f"exercise {exercise.id!r} has no check cell")
        student_names = {name for exercise in self.exercises.values() for name in exercise.functions}
        for cell_id, tree in self.check_trees:
            # In the grader, every free name of a check cell is the student's object: a check cell
            # must import its own tools (checks, references, numpy) and name only student functions.
            stray = _free_names(tree) - student_names
            if stray:
                raise self.error(cell_id, f"check cell uses {sorted(stray)}, which it neither "
                                          "defines nor imports and no answer cell defines")
