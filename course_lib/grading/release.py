"""``python -m course_lib.grading release [--check]``: make exercises/ from solutions/.

Every answer region becomes a stub that raises ``NotImplementedError`` with the exercise's one-line
hint (the markers stay, so students write between them and the grader can find the answer), the
model answer of a written cell becomes ``WRITTEN_STUB`` and its rubric is removed, hidden
checks are removed, outputs and execution counts are cleared; cell ids and metadata are kept so a
submission can be matched back to its template. The output is a pure function of the template, so
a re-run is byte-identical and ``--check`` can tell a stale exercise from a fresh one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from course_lib.grading.assignment import WRITTEN, AuthoringError, grading_metadata, load_assignment
from course_lib.grading.markers import (
    BEGIN_HIDDEN,
    BEGIN_RUBRIC,
    END_HIDDEN,
    END_RUBRIC,
    WRITTEN_STUB,
    find_regions,
    remove_regions,
    replace_regions,
    stub,
)


def release_notebook(assignment) -> nbformat.NotebookNode:
    """The student's version of a validated template."""
    notebook = assignment.blank_notebook()
    for cell in notebook.cells:
        meta = grading_metadata(cell)
        if meta is None:
            continue
        if meta["kind"] == "answer":
            hint = meta["hint"]
            cell.source = replace_regions(cell.source, [stub(hint)] * len(find_regions(cell.source)))
        elif meta["kind"] == WRITTEN:
            answered = replace_regions(cell.source, [WRITTEN_STUB])
            cell.source = remove_regions(answered, BEGIN_RUBRIC, END_RUBRIC)
        else:
            cell.source = remove_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
    return notebook


def render(notebook) -> str:
    return nbformat.writes(notebook, version=4) + "\n"


def plan(solutions: Path, exercises: Path) -> dict[Path, str | None]:
    """What exercises/ should contain: text per notebook, None for a file that must go."""
    wanted = {}
    for template in sorted(solutions.glob("*.ipynb")):
        wanted[exercises / template.name] = render(release_notebook(load_assignment(template)))
    for existing in sorted(exercises.glob("*.ipynb")):
        wanted.setdefault(existing, None)
    return wanted


def stale(wanted: dict[Path, str | None]) -> list[str]:
    problems = []
    for path, text in wanted.items():
        if text is None:
            problems.append(f"{path}: has no template in solutions/ (delete it or add the template)")
        elif not path.exists():
            problems.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from its template")
    return problems


def cli(args) -> int:
    solutions, exercises = Path(args.solutions), Path(args.exercises)
    if not solutions.is_dir():
        print(f"release: --solutions {solutions} is not a directory", file=sys.stderr)
        return 2
    try:
        wanted = plan(solutions, exercises)
    except AuthoringError as exc:
        print(f"release: authoring error: {exc}", file=sys.stderr)
        return 1
    problems = stale(wanted)
    if args.check:
        if problems:
            print("exercises/ is stale; run `python -m course_lib.grading release`:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(f"exercises/ is up to date ({len(wanted)} notebooks)")
        return 0
    exercises.mkdir(parents=True, exist_ok=True)
    for path, text in wanted.items():
        if text is None:
            path.unlink()
        else:
            path.write_text(text, encoding="utf-8")
    print(f"released {sum(t is not None for t in wanted.values())} notebooks to {exercises}/"
          + (f" ({len(problems)} changed)" if problems else " (no changes)"))
    return 0


def add_arguments(parser):
    parser.add_argument("--solutions", default="solutions", help="templates (default: solutions)")
    parser.add_argument("--exercises", default="exercises", help="output folder (default: exercises)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and name the notebooks if exercises/ is stale")
    parser.set_defaults(cli=cli)
