"""Take the answers out of a submitted notebook and splice them into the pristine template.

Nothing else of the submission is trusted: check cells, setup cells, metadata and outputs all come
from the template. An answer cell of the template is matched in the submission by cell id and
``metadata.grading`` first, then by its markers plus the code in front of them (the ``def`` line),
so a student who copied the cell into a fresh notebook is still graded.
"""

from __future__ import annotations

import ast
import json
import warnings
from dataclasses import dataclass, field

import nbformat

from course_lib.grading.assignment import ANSWER, WRITTEN, Assignment, grading_metadata
from course_lib.grading.forbidden import bindings, find_forbidden
from course_lib.grading.markers import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    WRITTEN_STUB,
    RegionError,
    find_regions,
    replace_regions,
    stub,
)

MAX_BYTES = 100 * 2**20


class Unreadable(ValueError):
    """A submission that cannot be graded at all; the message says why, for the student."""


@dataclass
class Splice:
    """The notebook to run and what was decided before running it.

    ``verdicts``: exercise id -> (status, message) for exercises that score zero without running
    (missing, tampered, forbidden). ``notes``: exercise id -> remarks for the student (duplicates).
    ``written``: exercise id -> the student's text for a written exercise (scored by a person).
    """

    notebook: nbformat.NotebookNode
    verdicts: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)


def read_submission(data: bytes, max_bytes: int = MAX_BYTES) -> nbformat.NotebookNode:
    """Parse a submitted file; raises Unreadable with a message a student can act on."""
    if not data.strip():
        raise Unreadable("the file is empty")
    if len(data) > max_bytes:
        raise Unreadable(f"the file is {len(data) / 2**20:.0f} MB (limit {max_bytes / 2**20:.0f} MB); "
                         "clear the outputs (Edit > Clear Outputs of All Cells), save and resubmit")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Unreadable(f"not a Jupyter notebook (the file is not valid notebook JSON: {exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise Unreadable("not a Jupyter notebook (no list of cells)")
    major = raw.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise Unreadable("not a Jupyter notebook (no nbformat version number)")
    if major < 4:
        raise Unreadable(f"notebook format version {major} is too old; open the notebook in "
                         "JupyterLab, save it, and resubmit")
    try:
        with warnings.catch_warnings():  # nbformat renames duplicate cell ids, with a warning
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(json.dumps(raw), as_version=4)  # also joins line lists
    except Exception as exc:
        raise Unreadable(f"not a readable notebook: {exc}") from None
    if not all(isinstance(cell, dict) for cell in notebook.get("cells", [])):
        raise Unreadable("not a readable notebook: malformed cells")
    return notebook


def _code_before_marker(source: str) -> str:
    """The cell's code in front of its first solution marker, blank lines and comments dropped."""
    head = source.split(BEGIN_SOLUTION, 1)[0]
    return "\n".join(line.rstrip() for line in head.splitlines()
                     if line.strip() and not line.strip().startswith("#"))


def _candidates(submission, template_cell, exercise_id, kind=ANSWER):
    """Submission cells that hold this answer: by id and metadata, else by markers and the text in
    front of them (the def line; a written cell's question). A written answer is taken from a cell
    of any type (a student may have turned the markdown cell into a code or raw cell by mistake)."""
    cells = [c for c in submission.cells if isinstance(c.get("source"), str)
             and (kind == WRITTEN or c.get("cell_type") == template_cell.cell_type)]
    meta = {"kind": kind, "exercise": exercise_id}
    by_id = [c for c in cells if c.get("id") == template_cell.id
             and {k: (grading_metadata(c) or {}).get(k) for k in meta} == meta]
    if by_id:
        return by_id
    head = _code_before_marker(template_cell.source)
    return [c for c in cells if BEGIN_SOLUTION in c.source and _code_before_marker(c.source) == head]


def _imported_names(notebook):
    """Names the instructor's cells import (``from course_lib import optim`` -> optim), for the scan."""
    names = {}
    for cell in notebook.cells:
        if cell.cell_type != "code" or grading_metadata(cell) is not None:
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: such a cell imports nothing we need to know about
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    names[alias.asname or top] = alias.name if alias.asname else top
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _answers(candidates, exercise_id, regions):
    """The submitted region texts for one answer cell, or (status, message) when there are none."""
    if not candidates:
        return ("missing", f"no answer cell for {exercise_id} was found in the submission "
                           "(was the cell deleted?)")
    try:
        answers = [region.text for region in find_regions(candidates[0].source)]
    except RegionError:
        answers = None
    if answers is None or len(answers) != regions:
        return ("tampered", f"the {BEGIN_SOLUTION!r} / {END_SOLUTION!r} markers of the answer "
                            "cell were changed, so the answer cannot be located; restore them and resubmit")
    return answers


def _scan(source, forbidden, aliases):
    """The verdict on an answer cell's forbidden uses, or None. The cell is read as IPython runs it
    (magics included); one that cannot be parsed is never clean: it cannot be run or checked."""
    uses = find_forbidden(source, forbidden, aliases)
    if uses and uses[0].startswith("cannot be checked"):
        return "error", f"the answer cell has a SyntaxError, so it can be neither run nor checked ({uses[0]})"
    if uses:
        return "forbidden", ("the answer uses what it may not (this exercise forbids "
                             f"{', '.join(forbidden) or 'nothing more'}; some things no answer may use): "
                             + "; ".join(uses))
    return None


def _written(result, submission, exercise, template_cell) -> bool:
    """Record a written exercise's text in ``result.written`` (or its verdict: missing, tampered, or
    missing when the text is blank or still the released placeholder). True if its cell was found."""
    candidates = _candidates(submission, template_cell, exercise.id, WRITTEN)
    answers = _answers(candidates, exercise.id, 1)
    if isinstance(answers, tuple):
        result.verdicts[exercise.id] = answers
    elif answers[0].strip() in ("", WRITTEN_STUB):
        result.verdicts[exercise.id] = ("missing", f"no answer was written for {exercise.id} "
                                                   "(the text between the markers is empty or unchanged)")
    else:
        result.written[exercise.id] = answers[0].strip()
    return bool(candidates)


def splice(template: Assignment, submission) -> Splice:
    """The template with the submission's answer regions in place of the solutions."""
    notebook = template.blank_notebook()
    result = Splice(notebook)
    aliases = _imported_names(notebook)
    found_any, scans = False, []
    for exercise in template.exercises.values():
        for cell_id in exercise.answer_cells:
            cell = next(c for c in notebook.cells if c.get("id") == cell_id)
            regions = len(find_regions(cell.source))
            candidates = _candidates(submission, cell, exercise.id)
            found_any = found_any or bool(candidates)
            if len(candidates) > 1:
                result.notes.setdefault(exercise.id, []).append(
                    f"the submission has {len(candidates)} answer cells for {exercise.id}; graded the first")
            answers = _answers(candidates, exercise.id, regions)
            if isinstance(answers, tuple):
                result.verdicts.setdefault(exercise.id, answers)
                cell.source = replace_regions(cell.source, [stub(exercise.hint)] * regions)
                continue
            cell.source = replace_regions(cell.source, answers)
            scans.append((exercise, cell))
    for exercise in template.exercises.values():
        if exercise.written:
            cell = next(c for c in notebook.cells if c.get("id") == exercise.written_cell)
            found_any = _written(result, submission, exercise, cell) or found_any
    # All answer cells run in one kernel: a name one of them imports is the same object in the others.
    for _, cell in scans:
        aliases.update(bindings(cell.source))
    for exercise, cell in scans:
        verdict = _scan(cell.source, exercise.forbidden, aliases)
        if verdict:
            result.verdicts.setdefault(exercise.id, verdict)
    if not found_any:
        raise Unreadable(f"this notebook does not belong to assignment {template.name}: none of its "
                         "answer cells were found")
    return result
