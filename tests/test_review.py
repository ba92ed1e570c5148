"""Written answers: authored with a rubric, released without it, recorded as pending, reviewed side
by side, scored in a CSV and merged by ``grade --manual`` into every output (issue 13, point 3)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import grader_kit as kit
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from course_lib.grading import assignment as asg
from course_lib.grading import report, review
from course_lib.grading.release import WRITTEN_STUB, release_notebook

QUESTION = "**Saddle (2 points, scored by hand).** Why does momentum leave a saddle point faster than GD?"
MODEL = ("Along the escape direction the gradient keeps its sign, so the velocity accumulates it and the\n"
         "effective step grows towards learning_rate / (1 - rho).")
RUBRIC = ("- 1 point: the gradient along the negative-curvature direction keeps its sign, so it accumulates\n"
          "- 1 point: the step grows towards learning_rate / (1 - rho) (or: a geometric series in rho)")
POINTS = {**kit.POINTS, "saddle": 2, "noise": 1.5}


def written_cell(exercise, question, model, rubric, points, **meta):
    source = (f"{question}\n\n{asg.BEGIN_SOLUTION}\n{model}\n{asg.END_SOLUTION}\n\n"
              f"{asg.BEGIN_RUBRIC}\n{rubric}\n{asg.END_RUBRIC}")
    grading = {"kind": "written", "exercise": exercise, "points": points, **meta}
    metadata = {"grading": grading, "tags": ["written"]}
    return new_markdown_cell(source, id=f"{exercise}-written", metadata=metadata)


def template_notebook():
    notebook = kit.template_notebook()
    notebook.cells += [
        written_cell("saddle", QUESTION, MODEL, RUBRIC, 2),
        written_cell("noise", "**Noise (1.5 points).** What sets the noise floor of SGD?",
                     "The variance of the minibatch gradient, which falls like 1/B.",
                     "- 1.5 points: names the gradient variance and its 1/B decay", 1.5),
    ]
    return notebook


@pytest.fixture
def template_path(tmp_path):
    path = tmp_path / "hw_written.ipynb"
    nbformat.write(template_notebook(), path)
    return path


def answered(template_path, code=True, written=None):
    """A student's notebook: the released exercise with all code answers (if ``code``) and the
    written texts ``written`` (exercise -> text) in place of the placeholder."""
    notebook = kit.submission(template_path, kit.SOLUTIONS if code else {})
    for cell in notebook.cells:
        meta = asg.grading_metadata(cell)
        if meta and meta["kind"] == "written" and meta["exercise"] in (written or {}):
            cell.source = asg.replace_regions(cell.source, [written[meta["exercise"]]])
    return notebook


# -- authoring and release ------------------------------------------------------------------------

def test_a_written_exercise_has_its_points_and_rubric_and_no_checks(template_path):
    template = asg.load_assignment(template_path)
    saddle = template.exercises["saddle"]
    assert saddle.written and saddle.points == 2 and saddle.rubric == RUBRIC
    assert saddle.answer_cells == saddle.check_cells == []
    assert not template.exercises["gd"].written
    assert template.points == sum(POINTS.values())


def test_release_keeps_the_question_and_markers_and_drops_model_answer_and_rubric(template_path):
    released = release_notebook(asg.load_assignment(template_path))
    [cell] = [c for c in released.cells if c.id == "saddle-written"]
    assert cell.cell_type == "markdown" and cell.metadata["grading"]["points"] == 2
    assert QUESTION in cell.source
    assert [r.text for r in asg.find_regions(cell.source)] == [WRITTEN_STUB]
    text = nbformat.writes(released)
    for line in (MODEL + "\n" + RUBRIC).splitlines():
        assert line not in text
    assert "RUBRIC" not in text


def _edit(cell_id, change):
    notebook = template_notebook()
    cell = next(c for c in notebook.cells if c.get("id") == cell_id)
    change(notebook, cell)
    return notebook


@pytest.mark.parametrize("change, words", [
    (lambda nb, c: c.update(cell_type="code", outputs=[], execution_count=None), "must be markdown"),
    (lambda nb, c: c.update(source=c.source.replace(RUBRIC, " ")), "holding the rubric"),
    (lambda nb, c: c.update(source=asg.remove_regions(c.source, asg.BEGIN_RUBRIC, asg.END_RUBRIC)),
     "holding the rubric"),
    (lambda nb, c: c.update(source=c.source.replace(MODEL, "")), "holding the model answer"),
    (lambda nb, c: c.update(source=c.source.replace(asg.END_RUBRIC, "")), "never closed"),
    (lambda nb, c: c.update(source=f"Q\n{asg.BEGIN_RUBRIC}\n{asg.BEGIN_SOLUTION}\nmodel\n{asg.END_SOLUTION}\n"
                                   f"rubric\n{asg.END_RUBRIC}"), "overlap"),
    (lambda nb, c: c.metadata["grading"].update(points=0), "points > 0"),
    (lambda nb, c: c.metadata.update(tags=[]), "needs the tag 'written'"),
    (lambda nb, c: c.metadata["grading"].update(exercise="gd"), "already has cells"),
    (lambda nb, c: nb.cells.append(new_markdown_cell(f"{asg.BEGIN_RUBRIC}\nsecret\n{asg.END_RUBRIC}",
                                                     id="loose")), "without metadata.grading"),
    (lambda nb, c: nb.cells.append(new_code_cell(f"# {asg.BEGIN_RUBRIC}\nx = 1", id="loose")),
     "without metadata.grading"),
])
def test_authoring_mistakes_are_named(tmp_path, change, words):
    notebook = _edit("saddle-written", change)
    with pytest.raises(asg.AuthoringError, match=words):
        asg.validate(notebook, tmp_path / "bad.ipynb")


def test_a_rubric_in_a_code_cell_is_refused(tmp_path):
    def change(nb, cell):
        cell.source += f"\n# {asg.BEGIN_RUBRIC}\n# secret\n# {asg.END_RUBRIC}"
    with pytest.raises(asg.AuthoringError, match="rubric belongs in a written cell"):
        asg.validate(_edit("gd-check", change), tmp_path / "bad.ipynb")


# -- the round trip: grade, review, fill in, grade --manual -----------------------------------------

HOSTILE = "<script>alert('x')</script> & **bold** | pipe\n```\nfenced ``` text"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class graded once: ada answers both written questions, bob only the first (the second keeps
    the placeholder), cy writes markup, dee uploads a PDF; then ``review``."""
    folder = tmp_path_factory.mktemp("written")
    template = folder / "hw_written.ipynb"
    nbformat.write(template_notebook(), template)
    submissions = folder / "submissions"
    kit.write_submission(submissions, "ada", answered(template, written={
        "saddle": "The gradient keeps its sign along the escape direction, so velocity builds up.",
        "noise": "Gradient variance over B."}))
    kit.write_submission(submissions, "bob", answered(template, code=False, written={
        "saddle": "Momentum is faster."}))
    kit.write_submission(submissions, "cy", answered(template, written={"saddle": HOSTILE, "noise": "1/B"}))
    (submissions / "dee.pdf").write_bytes(b"%PDF-1.4 not a notebook")
    out = folder / "grades"
    graded, _ = kit.grade(template, submissions, out, "--format", "csv", "--format", "scores", "--format",
                          "feedback", "--format", "gradescope", "--format", "canvas")
    assert "note: 5 written answers are pending (no points yet)" in graded.stdout
    assert "these scores leave out written answers still pending for 3 students" in graded.stdout
    done = cli("review", str(template), str(out))
    assert done.returncode == 0, done.stderr
    return template, submissions, out, done.stdout


def cli(*args):
    return subprocess.run([sys.executable, "-m", "course_lib.grading", *args], capture_output=True, text=True,
                          timeout=600)


def test_written_answers_are_pending_with_the_text_kept_never_zero(graded):
    _, _, out, _ = graded
    book = kit.read_gradebook(out / "gradebook.csv")
    assert book["ada"]["saddle"]["status"] == "pending" and book["ada"]["saddle"]["points"] == ""
    assert book["ada"]["gd"]["status"] == "passed"  # code exercises are graded as before
    assert book["bob"]["noise"]["status"] == "missing" and float(book["bob"]["noise"]["points"]) == 0
    assert book["dee"]["saddle"]["status"] == "unreadable"
    assert kit.record(out, "cy")["rows"][-2]["answer"] == HOSTILE
    scores = {row[0]: row for row in csv.reader((out / "scores.csv").open())}
    assert scores["ada"][-3:-1] == ["pending", "pending"] and scores["ada"][-1] == "5"
    feedback = (out / "feedback" / "ada.md").read_text()
    assert "| saddle | pending / 2 | pending |" in feedback and "5 (+ 3.5 pending) / 8.5" in feedback
    results = json.loads((out / "gradescope" / "ada" / "results.json").read_text())
    tests = {t["name"]: t for t in results["tests"]}
    assert "score" not in tests["saddle"] and tests["saddle"]["max_score"] == 2
    # the student sees on Gradescope what will be scored, and the total says what is still to come
    assert "velocity builds up" in tests["saddle"]["output"]
    assert "Gradient variance" in tests["noise"]["output"]
    assert results["output"].startswith("**hw_written: 5 / 8.5 points** so far: written answers worth "
                                        "3.5 points are scored by a person later")
    canvas = {row[3]: row[-1] for row in csv.reader((out / "canvas.csv").open())}
    assert canvas["ada"] == ""  # not uploaded while an answer is pending


def test_review_writes_one_page_per_question_with_every_answer_and_the_rubric(graded):
    _, _, out, stdout = graded
    page = (out / "review" / "saddle.html").read_text()
    assert "velocity builds up" in page and "Momentum is faster." in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; **bold**" in page
    assert "<script>" not in page
    for line in RUBRIC.splitlines():
        assert review.html.escape(line) in page
    assert "dee: unreadable" in page
    noise = (out / "review" / "noise.html").read_text()
    assert "Gradient variance over B." in noise and "velocity builds up" not in noise
    assert "bob: missing" in noise
    with open(out / "review" / "saddle.csv", newline="") as f:
        rows = list(csv.reader(f))
    answers = {s: kit.record(out, s)["rows"][-2]["answer"] for s in ("ada", "bob", "cy")}
    assert rows == [list(review.COLUMNS), *([s, "saddle", "", "", review.fingerprint(answers[s])]
                                            for s in ("ada", "bob", "cy"))]
    assert "saddle: 3 answers (0 scored), 1 without an answer" in stdout


def fill(path, scores):
    """Write points and comments into a review CSV as a TA would: {student: (points, comment)}."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["points"], row["comment"] = scores.get(row["student"], ("", ""))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, review.COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_manual_scores_reach_gradebook_feedback_gradescope_and_canvas(graded):
    template, submissions, out, _ = graded
    fill(out / "review" / "saddle.csv", {"ada": ("2", "Both points: sign and accumulation."),
                                         "cy": ("0.5", "Half a point: no reason given.")})
    fill(out / "review" / "noise.csv", {"ada": ("1.5", "")})  # cy's noise answer stays pending
    done, book = kit.grade(template, submissions, out, "--manual", str(out / "review" / "saddle.csv"),
                        "--manual", str(out / "review" / "noise.csv"), "--format", "csv", "--format",
                        "scores", "--format", "feedback", "--format", "gradescope", "--format", "canvas")
    assert (book["ada"]["saddle"]["points"], book["ada"]["saddle"]["status"]) == ("2.0", "passed")
    assert "Both points: sign and accumulation." in book["ada"]["saddle"]["message"]
    assert (book["cy"]["saddle"]["points"], book["cy"]["saddle"]["status"]) == ("0.5", "graded")
    assert book["cy"]["noise"]["status"] == "pending" and book["cy"]["noise"]["points"] == ""
    assert book["bob"]["saddle"]["status"] == "pending"
    assert "note: 2 written answers are pending" in done.stdout  # bob's saddle, cy's noise
    scores = {row[0]: row for row in csv.reader((out / "scores.csv").open())}
    assert scores["ada"][-3:] == ["2", "1.5", "8.5"] and scores["cy"][-3:] == ["0.5", "pending", "5.5"]
    feedback = (out / "feedback" / "cy.md").read_text()
    assert "| saddle | 0.5 / 2 | graded |" in feedback and "Half a point: no reason given." in feedback
    assert "5.5 (+ 1.5 pending) / 8.5" in feedback
    results = json.loads((out / "gradescope" / "ada" / "results.json").read_text())
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["saddle"]["score"] == 2 and "Both points" in tests["saddle"]["output"]
    assert results["score"] == 8.5
    canvas = {row[3]: row[-1] for row in csv.reader((out / "canvas.csv").open())}
    assert canvas["ada"] == "8.5" and canvas["cy"] == ""

    # grade again without --manual (a late submission arrived, say): the scores given by hand stay
    late = answered(template, written={"saddle": "Late but right.", "noise": "Variance over B."})
    kit.write_submission(submissions, "eve", late)
    done, book = kit.grade(template, submissions, out, "--format", "canvas")
    assert "1 graded now, 4 already graded" in done.stdout
    assert (book["ada"]["saddle"]["points"], book["cy"]["saddle"]["points"]) == ("2.0", "0.5")
    assert "Both points: sign and accumulation." in book["ada"]["saddle"]["message"]
    assert book["eve"]["saddle"]["status"] == "pending"
    assert {row[3]: row[-1] for row in csv.reader((out / "canvas.csv").open())}["ada"] == "8.5"
    with open(out / review.REMEMBERED, newline="") as f:
        assert [(r["student"], r["exercise"], r["points"]) for r in csv.DictReader(f)] == [
            ("ada", "noise", "1.5"), ("ada", "saddle", "2"), ("cy", "saddle", "0.5")]
    (submissions / "eve.ipynb").unlink()

    # a run that cannot read the answers (a size limit set too low), or without ada's file for a
    # while: the scores given by hand are held, never lost, and apply again to the same answers
    done, book = kit.grade(template, submissions, out, "--max-size", "0.001")
    assert book["ada"]["saddle"]["status"] == "unreadable" and "ada saddle" in done.stdout
    (submissions / "ada.ipynb").rename(out.parent / "ada.ipynb")
    kit.grade(template, submissions, out)
    (out.parent / "ada.ipynb").rename(submissions / "ada.ipynb")
    _, book = kit.grade(template, submissions, out)
    assert (book["ada"]["saddle"]["points"], book["cy"]["saddle"]["points"]) == ("2.0", "0.5")

    # review again: what was filled in stays
    assert cli("review", str(template), str(out)).returncode == 0
    with open(out / "review" / "saddle.csv", newline="") as f:
        kept = {row["student"]: (row["points"], row["comment"]) for row in csv.DictReader(f)}
    assert kept["cy"] == ("0.5", "Half a point: no reason given.") and kept["bob"] == ("", "")

    # cy resubmits another answer: the old score must not move to it
    resubmitted = answered(template, written={"saddle": "Rewritten.", "noise": "1/B"})
    kit.write_submission(submissions, "cy", resubmitted)
    done = cli("grade", str(template), str(submissions), "--out", str(out), "--manual",
               str(out / "review" / "saddle.csv"))
    assert done.returncode == 2, done.stderr
    assert f"{out / 'review' / 'saddle.csv'}, line 4: cy's answer to saddle changed since it was reviewed" \
        in done.stderr
    # without --manual the remembered score is dropped, never moved to the new answer
    done, book = kit.grade(template, submissions, out)
    assert book["cy"]["saddle"]["status"] == "pending" and book["ada"]["saddle"]["points"] == "2.0"
    assert "not applied as the answer is not the one scored (changed, or unreadable now): cy saddle" \
        in done.stdout
    with open(out / review.REMEMBERED, newline="") as f:  # kept: it applies again to the same answer
        kept = [(r["student"], r["exercise"], r["points"]) for r in csv.DictReader(f)]
    assert ("cy", "saddle", "0.5") in kept
    again = cli("review", str(template), str(out))
    assert "answers changed since they were scored, score them anew: cy" in again.stdout
    with open(out / "review" / "saddle.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert (rows["cy"]["points"], rows["cy"]["comment"]) == ("", "") and rows["ada"]["points"] == "2"
    assert "Rewritten." in (out / "review" / "saddle.html").read_text()


def test_a_bad_csv_stops_grade_before_grading_and_names_the_line(graded, tmp_path):
    template, submissions, _, _ = graded
    bad = tmp_path / "bad.csv"
    bad.write_text("student,exercise,points,comment\nada,saddle,2,ok\nzed,saddle,1,who\n")
    done = cli("grade", str(template), str(submissions), "--out", str(tmp_path / "out"), "--manual", str(bad))
    assert done.returncode == 2 and f"{bad}, line 3: unknown student 'zed'" in done.stderr
    assert not (tmp_path / "out" / "gradebook.csv").exists()


# -- bad CSVs -------------------------------------------------------------------------------------

STUDENTS = {"ada", "bob", "cy"}
HEADER = "student,exercise,points,comment\n"


@pytest.mark.parametrize("body, words", [
    ("zed,saddle,1,\n", "line 2: unknown student 'zed'"),
    ("ada,sadle,1,\n", "line 2: unknown exercise 'sadle'; the written exercises of hw_written are "
                       "saddle, noise"),
    ("ada,gd,1,\n", "line 2: 'gd' is not a written exercise"),
    ("ada,saddle,2.5,\n", "line 2: points 2.5 outside 0..2"),
    ("bob,noise,-0.5,\n", "line 2: points -0.5 outside 0..1.5"),
    ("ada,saddle,two,\n", "line 2: points 'two' is not a number"),
    ("ada,saddle,nan,\n", "line 2: points 'nan' is not a number"),
    ("ada,saddle,inf,\n", "line 2: points 'inf' is not a number"),
    ("ada,saddle,1,\nbob,saddle,1,\nada,saddle,2,\n", "line 4: ada, saddle is scored twice (first in "),
    ("ada,saddle,,good work\n", "line 2: a comment but no points"),
    ("ada,saddle,1,ok,extra\n", "line 2: expected the columns"),
    ("ada,saddle\n", "line 2: expected the columns"),
])
def test_bad_rows_are_refused_with_file_and_line(template_path, tmp_path, body, words):
    path = tmp_path / "scores.csv"
    path.write_text(HEADER + body)
    with pytest.raises(review.ManualScoreError) as error:
        review.read_manual([path], asg.load_assignment(template_path), STUDENTS)
    assert str(error.value).startswith(f"{path}") and words in str(error.value), str(error.value)


def test_bad_files_are_refused(template_path, tmp_path):
    template = asg.load_assignment(template_path)
    headerless = tmp_path / "headerless.csv"
    headerless.write_text("ada,saddle,1,ok\n")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "ada,saddle,1,tr\xe8s bien\n".encode("latin-1"))
    for path, words in ((headerless, "no column student, exercise, points"),
                        (latin, "cannot be read as a UTF-8 CSV"),
                        (tmp_path / "absent.csv", "cannot be read")):
        with pytest.raises(review.ManualScoreError, match=words):
            review.read_manual([path], template, STUDENTS)


def test_a_row_repeated_in_another_file_is_refused(template_path, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(HEADER + "ada,saddle,1,\n")
    second.write_text(HEADER + "bob,saddle,2,\nada,saddle,1,\n")
    with pytest.raises(review.ManualScoreError, match=f"{second}, line 3: ada, saddle is scored twice "
                                                       f"\\(first in {first}, line 2\\)"):
        review.read_manual([first, second], asg.load_assignment(template_path), STUDENTS)


def test_good_rows_blank_ones_and_a_spreadsheet_bom_are_read(template_path, tmp_path):
    path = tmp_path / "scores.csv"
    path.write_bytes(("\ufeff" + HEADER + "ada,saddle,2,fine\nbob,saddle,,\n\ncy,noise, 0.75 ,x\n").encode())
    scores = review.read_manual([path], asg.load_assignment(template_path), STUDENTS)
    assert {key: (s.points, s.comment) for key, s in scores.items()} == {
        ("ada", "saddle"): (2.0, "fine"), ("cy", "noise"): (0.75, "x")}


def test_a_name_typed_in_nfc_scores_the_submission_a_mac_named_in_nfd(template_path, tmp_path):
    import unicodedata

    path = tmp_path / "scores.csv"
    path.write_text(HEADER + unicodedata.normalize("NFC", "zoë,saddle,2,fine\n"), encoding="utf-8")
    mac = unicodedata.normalize("NFD", "zoë")
    scores = review.read_manual([path], asg.load_assignment(template_path), {*STUDENTS, mac})
    assert list(scores) == [(mac, "saddle")]


def test_a_score_for_an_unreadable_submission_is_refused_and_a_missing_answer_can_be_scored(template_path,
                                                                                           tmp_path):
    template = asg.load_assignment(template_path)
    rows = {"ada": [{"exercise": "saddle", "points": 0.0, "max_points": 2, "status": "unreadable",
                     "message": "[0/2 points] not valid notebook JSON"}],
            "bob": [{"exercise": "saddle", "points": 0.0, "max_points": 2, "status": "missing",
                     "message": "[0/2 points] no answer was written for saddle"}]}
    results = report.Results(template, {s: report.Record.from_json(s, {"rows": r}) for s, r in rows.items()},
                             tmp_path)
    score = review.Score(1.0, "found in a code comment", "s.csv, line 2")
    with pytest.raises(review.ManualScoreError, match="s.csv, line 2: ada has no answer to score for saddle "
                                                      r"\(it is unreadable: \[0/2 points\] not valid"):
        review.apply_manual(results, {("ada", "saddle"): score})
    # the instructor found bob's answer elsewhere in his notebook: the score counts
    bob = review.apply_manual(results, {("bob", "saddle"): score}).records["bob"].rows[0]
    assert (bob.points, bob.status) == (1.0, report.Status.GRADED)
    assert "found in a code comment" in bob.message


def test_review_without_grading_first_says_so(template_path, tmp_path):
    done = cli("review", str(template_path), str(tmp_path / "nothing"))
    assert done.returncode == 2 and "grade first" in done.stderr


def test_odd_student_ids_and_answers_survive_the_round_trip_in_process(template_path, tmp_path):
    """Ids with commas, quotes, markup and non-ASCII letters, answers with CSV and HTML syntax: the
    page escapes them, the CSV quotes them, and the filled-in CSV maps back to the same students."""
    template = asg.load_assignment(template_path)
    students = ['o"brien, jr', "<b>zoë</b>", "plain"]
    grades = tmp_path / "grades"
    for number, student in enumerate(students):
        rows = [{"exercise": "saddle", "points": None, "max_points": 2, "status": "pending",
                 "message": "", "answer": f'answer {number}: "quoted", <i>x</i>\nsecond line'}]
        report.write_record(grades / "records" / f"s{number}.json", {"student": student, "rows": rows})
    review.review(template, grades, grades / "review")
    page = (grades / "review" / "saddle.html").read_text()
    assert "&lt;b&gt;zoë&lt;/b&gt;" in page and "<b>zoë</b>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    fill(grades / "review" / "saddle.csv", {student: (str(n / 2), f"note for {student}")
                                            for n, student in enumerate(students)})
    scores = review.read_manual([grades / "review" / "saddle.csv"], template, set(students))
    expected = {(student, "saddle"): n / 2 for n, student in enumerate(students)}
    assert {key: score.points for key, score in scores.items()} == expected
    results = report.Results(template, review.load_records(grades), grades)
    merged = review.apply_manual(results, scores).records
    assert [merged[s].rows[0].points for s in students] == [0.0, 0.5, 1.0]
    assert merged['o"brien, jr'].rows[0].message == '[0/2 points] scored by hand\nnote for o"brien, jr'


@pytest.mark.parametrize("cell_type", ["code", "raw"])
def test_a_written_cell_turned_into_another_type_still_counts(template_path, cell_type):
    """Pressing Y (or R) in JupyterLab turns the markdown cell into a code (raw) cell: the text is kept."""
    from course_lib.grading.splice import splice

    notebook = answered(template_path, written={"saddle": "Velocity accumulates the gradient."})
    cell = next(c for c in notebook.cells if c.id == "saddle-written")
    cell.cell_type = cell_type
    result = splice(asg.load_assignment(template_path), notebook)
    assert result.written["saddle"] == "Velocity accumulates the gradient."
    assert result.verdicts["noise"][0] == "missing"  # left as released: nothing to score
