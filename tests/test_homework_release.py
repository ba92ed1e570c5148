"""The release pipeline: exercises/ is a deterministic function of solutions/, --check notices any
drift, answers become stubs and hidden checks vanish, and bad authoring stops the release."""

import argparse
import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
from homework_kit import EXERCISES, NOTEBOOKS, ROOT, SOLUTIONS

from course_lib.grading import release
from course_lib.grading.assignment import (
    BEGIN_HIDDEN,
    END_SOLUTION,
    AuthoringError,
    find_regions,
    grading_metadata,
    load_assignment,
)


def run_release(*argv):
    parser = argparse.ArgumentParser()
    release.add_arguments(parser)
    args = parser.parse_args(list(argv))
    return args.cli(args)


@pytest.fixture
def course(tmp_path):
    """A copy of two templates and their released exercises."""
    (tmp_path / "solutions").mkdir()
    for name in NOTEBOOKS[:2]:
        shutil.copy(SOLUTIONS / f"{name}.ipynb", tmp_path / "solutions")
    folders = ["--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises")]
    assert run_release(*folders) == 0
    return tmp_path, folders


def test_committed_exercises_are_fresh():
    completed = subprocess.run([sys.executable, "-m", "course_lib.grading", "release", "--check"],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert f"up to date ({len(NOTEBOOKS)} notebooks)" in completed.stdout


def test_release_is_byte_identical_on_rerun(course):
    tmp_path, folders = course
    before = {p.name: p.read_bytes() for p in (tmp_path / "exercises").glob("*.ipynb")}
    assert run_release(*folders) == 0
    assert before == {p.name: p.read_bytes() for p in (tmp_path / "exercises").glob("*.ipynb")}
    assert run_release(*folders, "--check") == 0


def test_check_names_stale_missing_and_orphan_notebooks(course, capsys):
    tmp_path, folders = course
    first, second = NOTEBOOKS[:2]
    template = tmp_path / "solutions" / f"{first}.ipynb"
    nb = nbformat.read(template, as_version=4)
    nb.cells[0].source += "\n\nOne more sentence."
    nbformat.write(nb, template)
    (tmp_path / "exercises" / f"{second}.ipynb").unlink()
    (tmp_path / "exercises" / "99_old.ipynb").write_text("{}")
    capsys.readouterr()
    assert run_release(*folders, "--check") == 1
    err = capsys.readouterr().err
    assert f"{first}.ipynb: differs from its template" in err
    assert f"{second}.ipynb: missing" in err
    assert "99_old.ipynb: has no template" in err
    assert run_release(*folders) == 0 and run_release(*folders, "--check") == 0
    assert not (tmp_path / "exercises" / "99_old.ipynb").exists()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_released_notebook_keeps_ids_and_metadata_and_hides_answers(name):
    template = load_assignment(SOLUTIONS / f"{name}.ipynb")
    released = nbformat.read(EXERCISES / f"{name}.ipynb", as_version=4)
    assert [c.id for c in released.cells] == [c.id for c in template.notebook.cells]
    assert [c.metadata for c in released.cells] == [c.metadata for c in template.notebook.cells]
    for cell, original in zip(released.cells, template.notebook.cells, strict=True):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        meta = grading_metadata(cell)
        if meta and meta["kind"] == "answer":
            [region] = find_regions(cell.source)
            assert region.text == f"raise NotImplementedError({meta['hint']!r})"
            answer = find_regions(original.source)[0].text
            assert answer not in cell.source
        elif meta and meta["kind"] == "check":
            assert BEGIN_HIDDEN not in cell.source and "case_rng" not in cell.source
            assert BEGIN_HIDDEN in original.source  # every check cell of the key has hidden cases
        elif meta and meta["kind"] == "written":  # the question stays; model answer and rubric go
            assert [r.text for r in find_regions(cell.source)] == [release.WRITTEN_STUB]
            assert "RUBRIC" not in cell.source
            assert find_regions(original.source)[0].text not in cell.source
        else:
            assert cell.source == original.source


def test_authoring_error_stops_release_and_names_notebook_and_cell(course, capsys):
    tmp_path, folders = course
    template = tmp_path / "solutions" / f"{NOTEBOOKS[0]}.ipynb"
    nb = nbformat.read(template, as_version=4)
    answer = next(c for c in nb.cells if (grading_metadata(c) or {}).get("kind") == "answer")
    answer.source = answer.source.replace(END_SOLUTION, "")
    nbformat.write(nb, template)
    with pytest.raises(AuthoringError, match=rf"{NOTEBOOKS[0]}\.ipynb, cell '{answer.id}': .*never closed"):
        load_assignment(template)
    capsys.readouterr()
    assert run_release(*folders) == 1
    assert f"cell '{answer.id}'" in capsys.readouterr().err


@pytest.mark.parametrize("damage, words", [("duplicate", "duplicate cell id"), ("missing", "has no id")])
def test_ids_are_checked_in_the_file_before_nbformat_repairs_them(tmp_path, damage, words):
    nb = json.loads((SOLUTIONS / f"{NOTEBOOKS[0]}.ipynb").read_text())
    if damage == "duplicate":
        nb["cells"][3]["id"] = nb["cells"][2]["id"]
    else:
        del nb["cells"][3]["id"]
    path = tmp_path / "broken.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(AuthoringError, match=rf"broken\.ipynb, cell .*{words}"):
        load_assignment(path)


def test_cli_without_the_course_environment_says_what_to_use(tmp_path):
    """A Python without nbformat (say the system's) gets a clear message, not a traceback."""
    import subprocess
    import sys
    from pathlib import Path

    shadow = tmp_path / "nbformat.py"
    shadow.write_text("raise ModuleNotFoundError('stand-in for a missing package', name='nbformat')\n")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-m", "course_lib.grading", "release", "--check"], cwd=root,
                            env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "nbformat is not installed" in result.stderr and ".venv/bin/python" in result.stderr
    assert "Traceback" not in result.stderr


def test_readme_course_table_states_each_homeworks_points_and_written_answers():
    """The README's course table is what students and instructors read first: its points and its
    mention of a written answer come from the templates, not from memory."""
    readme = (ROOT / "README.md").read_text()
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        assignment = load_assignment(path)
        number = int(path.name[:2])
        row = re.search(rf"^\| {number} \| .*\| \*\*([\d.]+) points\*\*: (.*) \|$", readme, re.MULTILINE)
        assert row, f"README's course table has no points for {path.name}"
        assert float(row.group(1)) == assignment.points, (path.name, row.group(1), assignment.points)
        written = any(e.written for e in assignment.exercises.values())
        assert ("a written answer" in row.group(2)) == written, path.name
