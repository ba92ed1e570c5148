"""What an instructor gets from a grading run: scores.csv, canvas.csv, summary.md and histogram,
Gradescope results, the format registry, and the command line around them (--only, --format,
--help, the released exercise passed as template, Ctrl-C, the progress bar)."""

from __future__ import annotations

import csv
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grader_kit as kit
import pytest

from course_lib.grading import assignment, batch, report

EXERCISES = list(kit.SOLUTIONS)  # gd (1 point), momentum (3), norm (1)


def row(exercise, points, status="passed", message=""):
    return {"exercise": exercise, "points": points, "max_points": kit.POINTS[exercise], "status": status,
            "message": message}


def records():
    """A small class: two full marks, one partial (a hidden check failed), one unreadable file."""
    hidden = ("[1/1 points] momentum_step: 3 steps passed\n"
              "[0/2 points] momentum_step is wrong at step 2 of 5 (hidden check)\n"
              "  x: expected [1.0, 2.0]\n  got [1.1, 2.0]\n  Hint: feed the new velocity back")
    data = {
        "ada": [row("gd", 1), row("momentum", 3), row("norm", 1)],
        "bob": [row("gd", 1), row("momentum", 1, "failed", hidden), row("norm", 1)],
        "cy": [row("gd", 0, "error", "[0/1 points] your code raised NotImplementedError: see the lecture"),
               row("momentum", 0, "error", "[0/3 points] your code raised NotImplementedError: x"),
               row("norm", 1)],
        "dee": [row(e, 0, "unreadable", "not valid notebook JSON") for e in EXERCISES],
        "eve": [row("gd", 1), row("momentum", 3), row("norm", 1)],
    }
    return {s: report.Record.from_json(s, {"rows": rows, "seconds": 1.0, "sandbox": True})
            for s, rows in data.items()}


@pytest.fixture
def results(tmp_path):
    template = assignment.load_assignment(kit.write_template(tmp_path))
    return report.Results(template, records(), tmp_path / "grades")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_scores_csv_has_a_row_per_student_a_column_per_exercise_and_the_total(results):
    report.write_reports(results, ["scores"])
    table = read_csv(results.out / "scores.csv")
    assert table[0] == ["student", *EXERCISES, "total"]
    assert table[1] == ["max_points", "1", "3", "1", "5"]
    by_student = {r[0]: r[1:] for r in table[2:]}
    assert list(by_student) == sorted(records())
    assert by_student["bob"] == ["1", "1", "1", "3"]
    assert by_student["dee"] == ["0", "0", "0", "0"]
    for student, record in records().items():
        *points, total = map(float, by_student[student])
        assert total == sum(points) == record.score


def test_summary_counts_students_and_names_the_common_failure(results):
    report.write_reports(results, ["summary"])
    text = (results.out / "summary.md").read_text()
    scores = [r.score for r in records().values()]
    assert f"{len(scores)} submissions" in text
    assert (f"mean {statistics.fmean(scores):.2f}" in text and f"median {statistics.median(scores):g}" in text
            and f"min {min(scores):g}" in text and f"max {max(scores):g}" in text)
    # dee is one unreadable student (three rows), cy one student with errors in two exercises
    assert "unreadable 1" in text and "error 1" in text and "failed 1" in text
    lines = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert "| 2/5 |" in lines["momentum"] and "| 3/5 |" in lines["gd"] and "| 4/5 |" in lines["norm"]
    assert "error: [0/1 points] your code raised NotImplementedError" in lines["gd"]
    # momentum: cy's error and bob's failure, one student each: a tie, broken by the text, so every
    # run prints the same line; the failure's first line is its first check that did not pass
    assert "| error: [0/3 points] your code raised NotImplementedError: x | 1 |" in lines["momentum"]
    assert report._failure_line(records()["bob"].rows[1].message) == \
        "[0/2 points] momentum_step is wrong at step 2 of 5 (hidden check)"
    assert "| unreadable: not valid notebook JSON | 1 |" in lines["norm"]
    png = (results.out / "histogram.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_outputs_are_readable_by_the_group_and_no_one_else_whatever_the_umask(results):
    old = os.umask(0o077)  # a careful instructor's umask: the group still reads, others never
    try:
        report.write_reports(results, [*report.DEFAULT_FORMATS, "gradescope"])
    finally:
        os.umask(old)
    files = [p for p in results.out.rglob("*") if p.is_file()]
    assert {"gradebook.csv", "scores.csv", "summary.md", "histogram.png", "ada.md"} <= {p.name for p in files}
    assert all(p.stat().st_mode & 0o777 == 0o640 for p in files), [oct(p.stat().st_mode) for p in files]
    folders = [results.out, *(p for p in results.out.rglob("*") if p.is_dir())]
    assert all(p.stat().st_mode & 0o777 == 0o750 for p in folders), [oct(p.stat().st_mode) for p in folders]


CANVAS_EXPORT = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 1 (111)", "hw_grader (4242)"],
    ["    Points Possible", "", "", "", "", "10", "5"],
    ["Lovelace, Ada", "1001", "S1", "ada", "Sec A", "9", ""],
    ["Babbage, Bob", "1002", "S2", "bob", "Sec A", "7", ""],
    ["Hopper, Grace", "1003", "S3", "grace", "Sec B", "8", ""],
    ["Cy Young", "1004", "cy", "cy.young", "Sec B", "6", ""],
]


def test_canvas_csv_fills_the_assignment_column_of_the_instructors_export(results, tmp_path):
    roster = tmp_path / "export.csv"
    with open(roster, "w", newline="", encoding="utf-8-sig") as f:  # Canvas writes a BOM
        csv.writer(f).writerows(CANVAS_EXPORT)
    results.canvas_roster = roster
    report.write_reports(results, ["canvas"])
    table = read_csv(results.out / "canvas.csv")
    assert table[0] == [*report.CANVAS_LEADING, "hw_grader (4242)"]  # found by the template's name
    assert table[1][0] == "Points Possible" and table[1][-1] == "5"
    scores = {r[3]: r[-1] for r in table[2:]}
    assert scores == {"ada": "5", "bob": "3", "grace": "", "cy.young": "1"}  # cy matched by SIS User ID
    assert any("dee, eve" in note for note in results.notes)

    results.canvas_column = "Homework 1"
    report.write_reports(results, ["canvas"])
    assert read_csv(results.out / "canvas.csv")[0][-1] == "Homework 1 (111)"
    assert not any("no column" in note for note in results.notes)

    results.canvas_column = "Homework 7"  # no such column: canvas.csv would make a new assignment
    report.write_reports(results, ["canvas"])
    assert read_csv(results.out / "canvas.csv")[0][-1] == "Homework 7"
    assert any("the roster has no column 'Homework 7'" in note for note in results.notes)

    # Canvas's bulk download names files lastfirst_<user ID>_<submission ID>_<name>: matched by user ID
    renamed = {"lovelaceada_1001_5551_hw_grader": "ada", "babbagebob_LATE_1002_5552_hw_grader-1": "bob",
               "hoppergrace_1003_5553_hw_grader": "cy"}
    results.records = {name: records()[student] for name, student in renamed.items()}
    results.notes.clear()
    report.write_reports(results, ["canvas"])
    scores = {r[3]: r[-1] for r in read_csv(results.out / "canvas.csv")[2:]}
    assert scores == {"ada": "5", "bob": "3", "grace": "1", "cy.young": ""}
    assert not any("not in the Canvas roster" in note for note in results.notes)

    # two files of one student (a blank one and a resubmission): no score until the instructor chooses
    results.records["lovelaceada_1001_5560_hw_grader-1"] = records()["cy"]
    results.notes.clear()
    report.write_reports(results, ["canvas"])
    assert {r[3]: r[-1] for r in read_csv(results.out / "canvas.csv")[2:]}["ada"] == ""
    assert any("one roster student each, score left blank" in note and "lovelaceada_1001_5551" in note
               for note in results.notes)

    # an export with Integration ID (some Canvas sites), names compared in NFC (a Mac's file names)
    import unicodedata

    with open(roster, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows([
            ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section", "hw_grader (4242)"],
            ["    Points Possible", "", "", "", "", "", "5"],
            ["Núñez, Zoë", "1009", "S9", unicodedata.normalize("NFC", "zoë"), "INT9", "Sec A", ""]])
    results.records = {unicodedata.normalize("NFD", "zoë"): records()["bob"]}
    results.notes.clear()
    results.canvas_column = None
    report.write_reports(results, ["canvas"])
    table = read_csv(results.out / "canvas.csv")
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section",
                        "hw_grader (4242)"]
    assert table[1] == ["Points Possible", "", "", "", "", "", "5"] and table[2][-1] == "3"
    assert results.notes == []

    roster.write_text("name,score\nada,1\n")
    with pytest.raises(ValueError, match="not a Canvas gradebook export"):
        report.write_reports(results, ["canvas"])


def test_gradescope_hides_hidden_check_details_until_published(results):
    out = report.gradescope_results(results.template, records()["bob"])
    tests = {t["name"]: t for t in out["tests"]}
    assert out["score"] == 3 and [t["name"] for t in out["tests"]] == [
        "gd", "momentum", "momentum: hidden checks", "norm"]
    momentum = tests["momentum"]
    assert momentum["visibility"] == "visible" and momentum["score"] == 1 and momentum["max_score"] == 3
    assert "3 steps passed" in momentum["output"] and "(hidden check)" in momentum["output"]
    assert "expected [1.0, 2.0]" not in momentum["output"]
    assert "feed the new velocity" not in momentum["output"]
    details = tests["momentum: hidden checks"]
    assert details["visibility"] == "after_published" and details["max_score"] == 0
    assert "expected [1.0, 2.0]" in details["output"]


def test_a_new_format_is_one_function(results):
    @report.output_format("names")
    def write_names(results):
        report.write_atomic(results.out / "names.txt", "\n".join(sorted(results.records)))

    try:
        report.write_reports(results, ["names"])
        assert (results.out / "names.txt").read_text().split() == sorted(records())
    finally:
        del report.FORMATS["names"]


class FakeBar:
    postfix = None

    def set_postfix_str(self, text):
        self.postfix = text


def test_progress_bar_names_the_submission_it_waits_on():
    bar, now = FakeBar(), time.monotonic()
    batch._name_the_wait(bar, {"quick": (None, now - 1, None)})
    assert not bar.postfix
    batch._name_the_wait(bar, {"quick": (None, now - 1, None), "slowpoke": (None, now - 42, None)})
    assert bar.postfix.startswith("waiting on slowpoke (4")


# -- the command line -------------------------------------------------------------------------------

def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "course_lib.grading", *args], capture_output=True, text=True,
                          timeout=600, **kwargs)


def test_help_explains_outputs_statuses_and_resume():
    text = cli("grade", "--help").stdout
    for word in ("scores.csv", "summary.md", "canvas.csv", "records/", *report.Status, "resume", "--only",
                 "--force", "--format"):
        assert word in text, word


def test_the_released_exercise_as_template_is_named_as_such(tmp_path):
    template = kit.write_template(tmp_path)
    released = tmp_path / "released" / template.name
    released.parent.mkdir()
    released.write_text(json.dumps(kit.submission(template)))
    (tmp_path / "subs").mkdir()
    done = cli("grade", str(released), str(tmp_path / "subs"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "is the released exercise" in done.stderr and "solution" in done.stderr
    assert not batch._is_released_exercise(template)


@pytest.mark.parametrize("bad, phrase", [(("--only", "nobody"), "no submission for nobody"),
                                         (("--format", "pdf"), "unknown")])
def test_bad_options_get_a_clear_error(tmp_path, bad, phrase):
    template = kit.write_template(tmp_path)
    kit.write_submission(tmp_path / "subs", "ada", kit.submission(template, kit.SOLUTIONS))
    done = cli("grade", str(template), str(tmp_path / "subs"), "--out", str(tmp_path / "out"), *bad)
    assert done.returncode == 2 and phrase in done.stderr


@pytest.mark.slow
def test_only_regrades_the_named_students_and_keeps_the_others(tmp_path):
    template = kit.write_template(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "grades"
    for student in ("ada", "bob", "cy"):
        kit.write_submission(subs, student, kit.submission(template, kit.SOLUTIONS))
    kit.grade(template, subs, out)
    seeds = {s: kit.record(out, s)["seed"] for s in ("ada", "bob", "cy")}
    done, rows = kit.grade(template, subs, out, "--only", "bob,cy")
    assert "2 graded now, 1 already graded" in done.stdout
    assert kit.record(out, "ada")["seed"] == seeds["ada"]
    assert all(kit.record(out, s)["seed"] != seeds[s] for s in ("bob", "cy"))
    assert set(rows) == {"ada", "bob", "cy"}
    assert [r[0] for r in read_csv(out / "scores.csv")[2:]] == ["ada", "bob", "cy"]


@pytest.mark.slow
def test_a_class_as_it_arrives_several_notebooks_other_limits_and_decomposed_names(tmp_path):
    """heidi hands in a blank notebook named like the assignment and her work as *_final.ipynb;
    José's name comes from a Mac (NFD); the instructor adds Canvas, then raises the time limit."""
    import unicodedata

    template = kit.write_template(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "grades"
    kit.write_submission(subs / "heidi", template.stem, kit.submission(template))
    kit.write_submission(subs / "heidi", f"{template.stem}_final", kit.submission(template, kit.SOLUTIONS))
    jose = unicodedata.normalize("NFD", "José")
    kit.write_submission(subs, jose, kit.submission(template, kit.SOLUTIONS))
    umask = os.umask(0)  # the grader's own folders are 0750 whatever the umask (0777 is not for grades)
    try:
        done, rows = kit.grade(template, subs, out, "--format", "canvas")
    finally:
        os.umask(umask)
    assert (out.stat().st_mode & 0o777, (out / "records").stat().st_mode & 0o777) == (0o750, 0o750)
    note = (f"2 notebooks handed in: graded heidi/{template.name}; not graded: "
            f"heidi/{template.stem}_final.ipynb. If another one is meant, keep only it and grade again")
    assert all(row["status"] == "error" and row["message"].startswith(note) for row in rows["heidi"].values())
    summary = (out / "summary.md").read_text()
    assert f"To check by hand (1 student):\n- heidi: {note}" in summary
    assert f"To check by hand (1 student):\n- heidi: {note}" in done.stdout
    assert f"Note: {note}" in (out / "feedback" / "heidi.md").read_text()
    # --format adds Canvas to the default outputs, which stay current
    assert {"gradebook.csv", "scores.csv", "summary.md", "canvas.csv"} <= {p.name for p in out.iterdir()}
    assert [r[0] for r in read_csv(out / "scores.csv")[2:]] == sorted(["heidi", jose])

    done, _ = kit.grade(template, subs, out)
    assert "0 graded now, 2 already graded" in done.stdout  # nothing changed
    done, _ = kit.grade(template, subs, out, timeout=12)
    assert "2 graded now, 0 already graded" in done.stdout  # graded under other limits: again
    assert kit.record(out, "heidi")["limits"]["timeout"] == 12

    (subs / "heidi" / template.name).unlink()  # the instructor keeps the notebook she meant
    done, rows = kit.grade(template, subs, out, "--only", f"heidi,{unicodedata.normalize('NFC', 'José')}",
                           timeout=12)
    assert "2 graded now, 0 already graded" in done.stdout
    assert all(row["status"] == "passed" and not row["message"].startswith("2 notebooks")
               for row in rows["heidi"].values())
    assert "To check by hand" not in (out / "summary.md").read_text()

    # José again, in NFC (another machine's copy): two entries for one student, both graded, flagged
    kit.write_submission(subs, unicodedata.normalize("NFC", "José"), kit.submission(template))
    done, rows = kit.grade(template, subs, out, timeout=12)
    assert len(rows) == 3 and done.stdout.count("ambiguous student id 'Jos") == 2


@pytest.mark.slow
@pytest.mark.parametrize("after", [0.5, 6], ids=["while-starting", "while-grading"])
def test_ctrl_c_ends_with_one_line(tmp_path, after):
    template = kit.write_template(tmp_path)
    subs = tmp_path / "subs"
    stuck = {**kit.SOLUTIONS, "gd": "while True:\n    pass"}
    kit.write_submission(subs, "stuck", kit.submission(template, stuck))
    run = kit.start_interruptible([sys.executable, "-m", "course_lib.grading", "grade", str(template),
                                   str(subs), "--out", str(tmp_path / "out"), "--workers", "1",
                                   "--timeout", "60"])
    time.sleep(after)  # 0.5 s: still importing (a busy machine took 6 s to get past that once)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert "interrupted" in last and "run the same command" in last


def test_workers_start_with_what_the_check_cells_import():
    """``grade`` forks a worker per submission: modules the check cells import are imported before
    the fork, once, not in every worker (``from m import name`` where name is a class is fine)."""
    template = Path(__file__).resolve().parents[1] / "solutions" / "10_capstone.ipynb"
    code = ("import sys\n"
            "from course_lib.grading import grade\n"
            "from course_lib.grading.assignment import load_assignment\n"
            "template = load_assignment(sys.argv[1])\n"
            "wanted = ['course_lib.grading.references', 'course_lib.grading.experiments',\n"
            "          'course_lib.problems']\n"
            "print([m in sys.modules for m in wanted])\n"
            "grade.preload_check_imports(template)\n"
            "print([m in sys.modules for m in wanted])\n")
    done = subprocess.run([sys.executable, "-c", code, str(template)], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split("\n")[:2] == ["[False, False, False]", "[True, True, True]"]
