"""Bad input, resuming, and what the grader writes (gradebook, feedback, records, Gradescope)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import grader_kit as kit
import nbformat
import pytest

from course_lib.grading import assignment as asg
from course_lib.grading.names import file_stem


def _with_outputs(notebook, megabytes):
    cell = next(c for c in notebook.cells if c.cell_type == "code")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (megabytes * 2**20))]
    return notebook


def _drop_answer(exercise):
    def edit(notebook):
        notebook.cells = [c for c in notebook.cells
                          if (asg.grading_metadata(c) or {}).get("exercise") != exercise
                          or asg.grading_metadata(c)["kind"] != "answer"]
    return edit


def _break_markers(exercise):
    def edit(notebook):
        for cell in notebook.cells:
            meta = asg.grading_metadata(cell) or {}
            if meta.get("kind") == "answer" and meta["exercise"] == exercise:
                cell.source = cell.source.replace(asg.END_SOLUTION, "")
    return edit


def _strip_ids_and_metadata(notebook):
    """A student who pasted their answers into a notebook saved by an older Jupyter (nbformat 4.2)."""
    notebook.nbformat_minor = 2
    for cell in notebook.cells:
        cell.pop("id", None)
        cell.metadata = {}


@pytest.mark.slow
def test_bad_input_gets_rows_with_clear_messages(tmp_path):
    template = kit.write_template(tmp_path)
    subs = tmp_path / "submissions"
    subs.mkdir()
    (subs / "malformed.ipynb").write_text('{"cells": [, }')
    (subs / "essay.txt").write_text("I did the homework on paper.")
    (subs / "scan.pdf").write_bytes(b"%PDF-1.4\x00\xff\xfe binary")
    (subs / "empty.ipynb").write_bytes(b"")
    (subs / "old.ipynb").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                                "worksheets": [{"cells": []}]}))
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('another assignment')")])
    nbformat.write(other, subs / "other.ipynb")
    (subs / "nofile").mkdir()
    kit.write_submission(subs, "huge", _with_outputs(kit.submission(template, kit.SOLUTIONS), 12))
    kit.write_submission(subs, "big", _with_outputs(kit.submission(template, kit.SOLUTIONS), 3))
    kit.write_submission(subs / "folder", "hw_grader", kit.submission(template, kit.SOLUTIONS))
    edits = {"nomomentum": _drop_answer("momentum"), "markers": _break_markers("gd"),
             "oldjupyter": _strip_ids_and_metadata}
    for student, edit in edits.items():
        kit.write_submission(subs, student, kit.submission(template, kit.SOLUTIONS, edit))
    kit.write_submission(subs, "syntax", kit.submission(template, {**kit.SOLUTIONS, "gd": "return x -"}))
    out = tmp_path / "grades"

    done, rows = kit.grade(template, subs, out, "--max-size", "8", "--gradescope")

    exercises = set(kit.SOLUTIONS)
    expected_unreadable = {"malformed": "not valid notebook JSON", "essay": "not valid notebook JSON",
                           "scan": "not valid notebook JSON", "empty": "empty", "old": "too old",
                           "other": "does not belong to assignment hw_grader", "nofile": "holds no file",
                           "huge": "clear the outputs"}
    for student, phrase in expected_unreadable.items():
        assert set(rows[student]) == exercises, student
        for row in rows[student].values():
            assert row["status"] == "unreadable" and float(row["points"]) == 0, (student, row)
            assert phrase in row["message"], (student, row["message"])
    for student in ("big", "folder", "oldjupyter"):
        assert {r["status"] for r in rows[student].values()} == {"passed"}, (student, rows[student])
    assert rows["nomomentum"]["momentum"]["status"] == "missing"
    assert rows["nomomentum"]["gd"]["status"] == rows["nomomentum"]["norm"]["status"] == "passed"
    assert rows["markers"]["gd"]["status"] == "tampered" and "markers" in rows["markers"]["gd"]["message"]
    assert rows["markers"]["momentum"]["status"] == "passed"
    assert rows["syntax"]["gd"]["status"] == "error" and "SyntaxError" in rows["syntax"]["gd"]["message"]
    assert rows["syntax"]["norm"]["status"] == "passed"
    assert "14 submissions" in done.stdout and "unreadable 8" in done.stdout, done.stdout

    # Feedback and Gradescope files exist for every student and never quote the hidden check.
    hidden = kit.template_notebook().cells
    hidden_source = next(c.source for c in hidden if c.id == "momentum-hidden")
    for student in rows:
        feedback = (out / "feedback" / f"{student}.md").read_text()
        assert asg.BEGIN_HIDDEN not in feedback and "case_rng" not in feedback
        assert all(line not in feedback for line in hidden_source.splitlines() if len(line) > 20)
        results = json.loads((out / "gradescope" / student / "results.json").read_text())
        assert results["score"] == pytest.approx(sum(float(r["points"]) for r in rows[student].values()))
        assert [t["name"] for t in results["tests"]] == list(kit.SOLUTIONS)
    assert not list(out.rglob("*.tmp")), "half-written files left behind"


@pytest.mark.slow
def test_resume_skips_graded_submissions_unless_forced(tmp_path):
    template = kit.write_template(tmp_path)
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    kit.write_submission(subs, "ada", kit.submission(template, kit.SOLUTIONS))
    kit.write_submission(subs, "bob", kit.submission(template, {"gd": kit.SOLUTIONS["gd"]}))

    kit.grade(template, subs, out)
    first = {s: kit.record(out, s)["seed"] for s in ("ada", "bob")}

    done, rows = kit.grade(template, subs, out)  # nothing changed: nothing regraded
    assert "0 graded now, 2 already graded" in done.stdout
    assert {s: kit.record(out, s)["seed"] for s in first} == first
    assert float(rows["ada"]["momentum"]["points"]) == 3 and float(rows["bob"]["gd"]["points"]) == 1

    # bob resubmits, and an interrupted run left ada's record half-written: both are graded again.
    kit.write_submission(subs, "bob", kit.submission(template, kit.SOLUTIONS))
    (out / "records" / "ada.json").write_text('{"rows": [')
    done, rows = kit.grade(template, subs, out)
    assert "2 graded now, 0 already graded" in done.stdout
    assert float(rows["bob"]["momentum"]["points"]) == 3 and float(rows["ada"]["norm"]["points"]) == 1

    second = {s: kit.record(out, s)["seed"] for s in first}
    done, rows = kit.grade(template, subs, out, "--force")
    assert "2 graded now" in done.stdout
    assert all(kit.record(out, s)["seed"] != second[s] for s in second)  # fresh seeds: really regraded


def _orphaned_kernels():
    """Student kernels (their own uids) whose launcher is gone (reparented to init): leaked by a
    killed worker."""
    import subprocess

    from course_lib.grading.kernel import UID_BASE, UID_RANGE

    ps = subprocess.run(["ps", "-eo", "uid,ppid,cmd"], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines()[1:] if UID_BASE <= int(line.split()[0]) < UID_BASE + UID_RANGE
            and line.split()[1] == "1" and "ipykernel_launcher" in line]


@pytest.mark.slow
def test_interrupted_run_loses_nothing(tmp_path):
    """Ctrl-C in the middle of a run: finished records stay, nothing is half-written, and the next
    run grades only what was left."""
    import signal
    import sys
    import time

    template = kit.write_template(tmp_path)
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    kit.write_submission(subs, "a_quick", kit.submission(template, kit.SOLUTIONS))
    stuck = {**kit.SOLUTIONS, "gd": "while True:\n    pass"}
    kit.write_submission(subs, "b_stuck", kit.submission(template, stuck))
    command = [sys.executable, "-m", "course_lib.grading", "grade", str(template), str(subs),
               "--out", str(out), "--workers", "1", "--timeout", "6"]  # the resume's limit: else all regrade
    run = kit.start_interruptible(command)
    deadline = time.monotonic() + 120
    while not (out / "records" / "a_quick.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # b_stuck is now looping in its kernel, 5 s from its timeout
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=60)
    assert run.returncode != 0
    assert kit.record(out, "a_quick")["rows"][0]["status"] == "passed"
    assert not (out / "records" / "b_stuck.json").exists()
    assert not list(out.rglob("*.tmp"))
    time.sleep(1.0)
    assert not _orphaned_kernels(), "a killed worker left its kernel running"

    done, rows = kit.grade(template, subs, out, timeout=6)
    assert "1 graded now, 1 already graded" in done.stdout
    assert rows["b_stuck"]["gd"]["status"] == "timeout" and rows["b_stuck"]["norm"]["status"] == "passed"


ODD_NAMES = {  # file name -> the id the gradebook shows
    "a" * 240 + ".ipynb": "a" * 240,
    os.fsdecode(b"caf\xe9-latin1.ipynb"): "caf\\xe9-latin1",
    "new\nline.ipynb": "new\\nline",
    "tab\tand\rreturn.ipynb": "tab\\tand\\rreturn",
    "back\\slash.ipynb": "back\\\\slash",
    "Zoë Ünïcode.ipynb": "Zoë Ünïcode",
    'comma, "quote"; rm -rf.ipynb': 'comma, "quote"; rm -rf',
    "_underscore.ipynb": "_underscore",
    ".dotfile.ipynb": ".dotfile",
    "-dash.ipynb": "-dash",
}


@pytest.mark.slow
def test_every_odd_name_gets_its_rows_and_an_old_output_folder_is_not_a_student(tmp_path):
    """Names that crashed whole runs before (too long for a temporary file, not UTF-8, a newline):
    each gets full marks under its escaped id, in one complete gradebook, also when re-run; an earlier
    --out inside the submissions folder is grader output, not a student."""
    template = kit.write_template(tmp_path)
    subs = tmp_path / "submissions"
    subs.mkdir()
    right = kit.submission(template, kit.SOLUTIONS)
    for name in ODD_NAMES:
        nbformat.write(right, os.path.join(subs, name))
    kit.grade(template, subs, subs / "GRADES")  # an instructor's first run, writing inside the folder
    out = tmp_path / "grades"

    done, rows = kit.grade(template, subs, out)

    assert set(rows) == set(ODD_NAMES.values()), sorted(set(rows) ^ set(ODD_NAMES.values()))
    for student, exercises in rows.items():
        assert set(exercises) == set(kit.SOLUTIONS), student
        assert all(r["status"] == "passed" for r in exercises.values()), (student, exercises)
        stem = file_stem(student)
        assert len(stem) < 100 and (out / "records" / f"{stem}.json").exists()
        assert (out / "feedback" / f"{stem}.md").exists()
    assert f"{len(ODD_NAMES)} submissions" in done.stdout
    again, rows_again = kit.grade(template, subs, out)  # a re-run resumes instead of crashing
    assert f"0 graded now, {len(ODD_NAMES)} already graded" in again.stdout and rows_again == rows


def _template_with(folder, source, after="gd-check"):
    """The test template with one more instructor cell (``source``) after cell ``after``."""
    notebook = kit.template_notebook()
    index = next(i for i, c in enumerate(notebook.cells) if c.get("id") == after) + 1
    notebook.cells.insert(index, nbformat.v4.new_code_cell(source, id="instructor-extra"))
    path = Path(folder) / "hw_grader.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow
def test_a_failing_instructor_cell_is_retried_then_listed_for_regrading(tmp_path):
    template = _template_with(tmp_path, "raise RuntimeError('dataset missing')")
    subs = tmp_path / "submissions"
    kit.write_submission(subs, "ada", kit.submission(template, kit.SOLUTIONS))
    out = tmp_path / "grades"

    done, rows = kit.grade(template, subs, out)

    assert rows["ada"]["gd"]["status"] == "passed"  # decided before the failing cell
    for exercise in ("momentum", "norm"):
        row = rows["ada"][exercise]
        assert row["status"] == "crashed" and float(row["points"]) == 0
        assert "instructor cell 'instructor-extra' failed: RuntimeError: dataset missing" in row["message"]
        assert "your code" not in row["message"]
    record = kit.record(out, "ada")
    assert record["attempts"] == 2 and "instructor-extra" in record["regrade"]
    assert "to regrade (the grader failed, not the student): ada (instructor cell 'instructor-extra'" \
        in done.stdout


def test_an_instructor_cell_that_fails_once_costs_nothing(tmp_path, monkeypatch):
    """A transient failure (the machine, not the student): the retry in a fresh kernel grades it."""
    from course_lib.grading import grade

    template = kit.write_template(tmp_path)
    path = kit.write_submission(tmp_path / "subs", "ada", kit.submission(template, kit.SOLUTIONS))
    real, failures = grade.NotebookGrader._run_cell, []

    def flaky(self, cell):
        if cell.id == "setup" and not failures:
            failures.append(cell.id)
            raise grade.InstructorCellFailed(cell.id, "OSError: [Errno 11] Resource temporarily unavailable")
        return real(self, cell)

    monkeypatch.setattr(grade.NotebookGrader, "_run_cell", flaky)
    record = grade.grade_submission(template, path, timeout=30, memory=2**30)
    assert failures == ["setup"] and record["attempts"] == 2 and "regrade" not in record
    assert [row["status"] for row in record["rows"]] == ["passed"] * 3


def test_the_output_folder_cannot_be_the_submissions_folder(tmp_path):
    import subprocess
    import sys

    template = kit.write_template(tmp_path)
    kit.write_submission(tmp_path / "subs", "ada", kit.submission(template, kit.SOLUTIONS))
    done = subprocess.run([sys.executable, "-m", "course_lib.grading", "grade", str(template),
                           str(tmp_path / "subs"), "--out", str(tmp_path / "subs")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "is the submissions folder" in done.stderr
    assert not (tmp_path / "subs" / "records").exists()
