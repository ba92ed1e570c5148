"""Written answers, scored by a person against the rubric of the solution notebook.

The grader records a written exercise as ``pending`` (no points, not zero) with the student's text
in the record. Then::

    python -m course_lib.grading review TEMPLATE GRADES/

writes, for each written exercise, ``GRADES/review/<exercise>.html`` (the question, the rubric, the
model answer and every student's answer side by side) and ``GRADES/review/<exercise>.csv`` with
one row per answer to fill in (``student, exercise, points, comment``; a re-run keeps what was
filled in and adds new students; its last column, ``answer``, is a fingerprint of the answer
that was on the page). Grading again with ``--manual GRADES/review/<exercise>.csv``
(repeatable) merges the scores and comments into every output: gradebook, scores, feedback,
Gradescope, Canvas. An answer without a score stays ``pending``. A bad CSV is refused with the file
and line named: unknown student or exercise, points not a number, negative or over the maximum, a
row given twice, a comment without points, a score for an answer that changed since the review
(a resubmission: review it again).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import html
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from course_lib.grading import names, report
from course_lib.grading.assignment import AuthoringError, load_assignment
from course_lib.grading.markers import (
    BEGIN_RUBRIC,
    BEGIN_SOLUTION,
    END_RUBRIC,
    END_SOLUTION,
    find_regions,
    remove_regions,
)
from course_lib.grading.report import Status

COLUMNS = ("student", "exercise", "points", "comment", "answer")  # the last two may be absent
REQUIRED = COLUMNS[:3]


def fingerprint(text) -> str:
    """A short hash of an answer, so a score cannot silently move to a resubmitted answer."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class ManualScoreError(ValueError):
    """A manual-scores CSV that cannot be used; the message names the file and the row."""


@dataclass(frozen=True)
class Score:
    """A person's score for one written answer, and where it was read (``file, row N``)."""

    points: float
    comment: str
    where: str
    answer: str = ""  # the fingerprint of the answer that was scored ("" if the CSV has none)
    remembered: bool = False  # read from GRADES/manual_scores.csv, where earlier runs kept it


REMEMBERED = "manual_scores.csv"  # in the --out folder: every score a person gave, kept across runs


# -- reading the instructor's CSVs ------------------------------------------------------------------

def read_manual(paths, template, students) -> dict[tuple[str, str], Score]:
    """(student, exercise) -> Score from the filled-in review CSVs. Rows with blank points are
    answers not scored yet. Raises ManualScoreError naming the file and row of the first problem."""
    written = {e.id: e for e in template.exercises.values() if e.written}
    scores = {}
    for path in paths:
        for where, row in _rows(Path(path)):
            student, exercise = row["student"], row["exercise"]
            points, comment = row["points"].strip(), (row.get("comment") or "").strip()
            if not points and not comment:
                continue  # not scored yet (a student whose submission has gone since, say)
            if names.find_id(student, students) is None:
                raise ManualScoreError(f"{where}: unknown student {student!r} (no submission has that id)")
            student = names.find_id(student, students)  # as the file name spells it (NFD on a Mac)
            if exercise not in template.exercises:
                raise ManualScoreError(f"{where}: unknown exercise {exercise!r}; the written exercises of "
                                       f"{template.name} are {', '.join(written) or 'none'}")
            if exercise not in written:
                raise ManualScoreError(f"{where}: {exercise!r} is not a written exercise "
                                       "(its checks score it)")
            if (student, exercise) in scores:
                raise ManualScoreError(f"{where}: {student}, {exercise} is scored twice (first in "
                                       f"{scores[student, exercise].where})")
            if not points:
                if comment:
                    raise ManualScoreError(f"{where}: a comment but no points (give the points, or clear "
                                           "the comment to leave the answer pending)")
                continue
            points = _points(points, written[exercise].points, where)
            scores[student, exercise] = Score(points, comment, where, (row.get("answer") or "").strip())
    return scores


def read_remembered(out, template) -> dict[tuple[str, str], Score]:
    """Every score a person gave in earlier runs (``OUT/manual_scores.csv``), so that grading again
    without ``--manual`` keeps them. Each applies while its answer is the one scored; rows for
    students absent from this run are kept for the next. Points over an exercise's maximum (the
    template changed) are refused like a bad CSV."""
    path = Path(out) / REMEMBERED
    if not path.exists():
        return {}
    written = {e.id: e for e in template.exercises.values() if e.written}
    scores = {}
    for where, row in _rows(path):
        student, exercise, points = row["student"], row["exercise"], row["points"].strip()
        if points:
            maximum = written[exercise].points if exercise in written else math.inf
            comment, answer = (row.get("comment") or "").strip(), (row.get("answer") or "").strip()
            scores[student, exercise] = Score(_points(points, maximum, where), comment, where, answer,
                                              remembered=True)
    return scores


def write_remembered(results: report.Results):
    """``OUT/manual_scores.csv``: every score given by hand, with the fingerprint of the answer it is
    for. Edit it, or delete a row, to change what is kept."""
    table = [(student, exercise, f"{points:g}", comment, answer)
             for (student, exercise), (points, comment, answer) in sorted(results.manual.items())]
    if table or (results.out / REMEMBERED).exists():
        report.write_atomic(results.out / REMEMBERED, report._csv(COLUMNS, table))


def _rows(path):
    """(``file, row N``, row dict) for each non-blank row of a CSV with the review columns."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ManualScoreError(f"{path}: no column {', '.join(missing)} (the header must be "
                                       f"{','.join(COLUMNS)})")
            rows = []
            for row in reader:
                where = f"{path}, line {reader.line_num}"
                if None in row or any(value is None for value in row.values()):
                    raise ManualScoreError(f"{where}: expected the columns {','.join(reader.fieldnames)}")
                if any(value.strip() for value in row.values()):
                    rows.append((where, row))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ManualScoreError(f"{path}: cannot be read as a UTF-8 CSV file ({exc})") from None


def _points(text, maximum, where) -> float:
    try:
        points = float(text)
    except ValueError:
        points = math.nan
    if not math.isfinite(points):
        raise ManualScoreError(f"{where}: points {text!r} is not a number")
    if not 0 <= points <= maximum:
        raise ManualScoreError(f"{where}: points {text} outside 0..{maximum:g} (the exercise's points)")
    return points


# -- merging into the results ---------------------------------------------------------------------

SCORABLE = (Status.PENDING, Status.MISSING)  # a missing answer: the person may have found it elsewhere


def apply_manual(results: report.Results, scores) -> report.Results:
    """``results`` with each scored written answer's row holding its points (``passed`` at full
    marks, else ``graded``) and the comment, and ``results.manual`` holding the scores applied;
    answers without a score stay ``pending`` (a note says how many). A score for an answer that is
    neither pending nor missing (unreadable, say), or for an answer that changed since it was
    reviewed, is an error; a remembered score in that case is held back (kept, not applied) with a
    note. ``results.manual`` also keeps the remembered scores of students not graded this time."""
    records, manual, held = {}, {}, []
    for student, record in results.records.items():
        rows = []
        for row in record.rows:
            score = scores.get((student, row.exercise))
            problem = None
            if score is not None and row.status not in SCORABLE:
                problem = (f"{score.where}: {student} has no answer to score for {row.exercise} "
                           f"(it is {row.status}: {row.message.splitlines()[0] if row.message else ''})")
            elif score is not None and score.answer and score.answer != fingerprint(row.answer or ""):
                problem = (f"{score.where}: {student}'s answer to {row.exercise} changed since "
                           "it was reviewed (resubmitted?): run review again and score it anew")
            if problem and score.remembered:
                held.append(f"{student} {row.exercise}")
                manual[student, row.exercise] = (score.points, score.comment, score.answer)
                score = None
            elif problem:
                raise ManualScoreError(problem)
            if score is not None:
                manual[student, row.exercise] = (score.points, score.comment, fingerprint(row.answer or ""))
                status = Status.PASSED if score.points >= row.max_points else Status.GRADED
                label = f"[{score.points:g}/{row.max_points:g} points] scored by hand"
                message = "\n".join(filter(None, [label, score.comment]))
                row = dataclasses.replace(row, points=score.points, status=status, message=message)
            rows.append(row)
        records[student] = dataclasses.replace(record, rows=rows)
    waiting = sum(row.status == Status.PENDING for r in records.values() for row in r.rows)
    notes = list(results.notes)
    if held:
        notes.append(f"scores given by hand earlier, not applied as the answer is not the one scored "
                     f"(changed, or unreadable now): {', '.join(held)}; they apply again to the same "
                     "answer; to score a new answer, run review")
    if waiting:
        verb = "is" if waiting == 1 else "are"
        notes.append(f"{report.count(waiting, 'written answer')} {verb} pending (no points yet): `python -m "
                     f"course_lib.grading review {results.template.path} {results.out}` writes the pages "
                     "and CSVs to score them; then grade again with --manual FILE.csv")
    for key, score in scores.items():  # kept for students and exercises not graded in this run
        if score.remembered and key not in manual and (key[0] not in records or not any(
                row.exercise == key[1] for row in records[key[0]].rows)):
            manual[key] = (score.points, score.comment, score.answer)
    return dataclasses.replace(results, records=records, notes=notes, manual=manual)


# -- the review pages -------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; line-height: 1.45; color: #111; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; margin: 0; }
.rubric { background: #fff8e1; border: 2px solid #b58900; padding: .75rem 1rem; border-radius: 6px; }
.answers { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
.answer { border: 1px solid #777; border-radius: 6px; padding: .75rem 1rem; }
.answer h3 { margin: 0 0 .5rem; font-size: 1rem; }
.words { color: #444; font-size: .85rem; }
"""


def _question(template, exercise) -> str:
    """The written cell's text outside the answer and rubric regions: the question."""
    source = template.cell(exercise.written_cell).source
    source = remove_regions(source, BEGIN_RUBRIC, END_RUBRIC)
    return remove_regions(source, BEGIN_SOLUTION, END_SOLUTION).strip()


def page(template, exercise, answers, unanswered, csv_name) -> str:
    """One exercise's review page: question, rubric, model answer, then every answer as a card.
    All text is escaped: students' answers are shown exactly as written, never as markup."""
    def pre(text):
        return f"<pre>{html.escape(text)}</pre>"

    model = find_regions(template.cell(exercise.written_cell).source)[0].text.strip()
    title = f"{template.name}: {exercise.id} ({exercise.points:g} points, {len(answers)} answers)"
    cards = [f'<article class="answer" id="{html.escape(f"student-{student}", quote=True)}">'
             f"<h3>{html.escape(student)}</h3>{pre(text)}"
             f'<p class="words">{len(text.split())} words</p></article>'
             for student, text in sorted(answers.items())]
    parts = [
        "<!doctype html>", '<html lang="en">', '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style>", f"<h1>{html.escape(title)}</h1>",
        "<h2>Question</h2>", pre(_question(template, exercise)),
        '<section class="rubric"><h2>Rubric</h2>', pre(exercise.rubric), "</section>",
        "<details><summary>Model answer</summary>", pre(model), "</details>",
        f"<p>Score each answer in <code>{html.escape(csv_name)}</code> (points 0 to {exercise.points:g}, "
        "a comment the student will read), then grade again with "
        f"<code>--manual {html.escape(csv_name)}</code>. An answer left blank there stays pending.</p>",
        "<h2>Answers</h2>", '<section class="answers">', *cards, "</section>",
    ]
    if unanswered:
        parts += ["<h2>No answer to score (0 points; a row added to the CSV scores a missing one "
                  "found elsewhere)</h2>", "<ul>"]
        parts += [f"<li>{html.escape(student)}: {html.escape(status)}</li>"
                  for student, status in sorted(unanswered.items())]
        parts.append("</ul>")
    return "\n".join(parts) + "\n"


def load_records(grades: Path) -> dict[str, report.Record]:
    """Every finished record in ``GRADES/records``, by student id."""
    records = {}
    for path in sorted((grades / "records").glob("*.json")):
        data = report.load_record(path)
        if data is not None:
            student = data.get("student") or path.stem
            records[student] = report.Record.from_json(student, data)
    return records


def _kept(path, exercise, answers):
    """What an earlier review CSV holds for answers that are unchanged: student -> (points, comment).
    Also the students whose answer changed since (their score is dropped: score them anew)."""
    if not path.exists():
        return {}, []
    kept, changed = {}, []
    for _, row in _rows(path):
        student, seen = row["student"], (row.get("answer") or "").strip()
        if row["exercise"] != exercise:
            continue
        if student not in answers or seen and seen != fingerprint(answers[student]):
            changed += [student] if row["points"].strip() else []
            continue
        kept[student] = (row["points"], row.get("comment") or "")
    return kept, changed


def review(template, grades: Path, out: Path) -> list[str]:
    """Write the page and the CSV of every written exercise; returns lines for the instructor."""
    records = load_records(grades)
    lines = []
    for exercise in (e for e in template.exercises.values() if e.written):
        answers, unanswered = {}, {}
        for student, record in records.items():
            row = next((r for r in record.rows if r.exercise == exercise.id), None)
            if row is not None and row.status == Status.PENDING:
                answers[student] = row.answer or ""
            elif row is not None:
                unanswered[student] = f"{row.status}: {row.message.splitlines()[0] if row.message else ''}"
        csv_path = out / f"{exercise.id}.csv"
        kept, changed = _kept(csv_path, exercise.id, answers)
        table = [(s, exercise.id, *kept.get(s, ("", "")), fingerprint(answers[s])) for s in sorted(answers)]
        report.write_atomic(csv_path, report._csv(COLUMNS, table))
        report.write_atomic(out / f"{exercise.id}.html",
                            page(template, exercise, answers, unanswered, str(csv_path)))
        scored = sum(bool(points.strip()) for _, _, points, _, _ in table)
        lines.append(f"{exercise.id}: {len(answers)} answers ({scored} scored), {len(unanswered)} without "
                     f"an answer: {out / exercise.id}.html, {csv_path}")
        if changed:
            lines.append(f"  answers changed since they were scored, score them anew: {', '.join(changed)}")
    return lines or [f"{template.name} has no written exercise: nothing to review"]


def cli(args) -> int:
    grades = Path(args.grades)
    try:
        template = load_assignment(args.template)
    except AuthoringError as exc:
        print(f"error: template: {exc}", file=sys.stderr)
        return 2
    if not (grades / "records").is_dir():
        print(f"error: {grades} holds no records/ folder: grade first (python -m course_lib.grading "
              f"grade {args.template} SUBMISSIONS --out {grades})", file=sys.stderr)
        return 2
    try:
        lines = review(template, grades, Path(args.out) if args.out else grades / "review")
    except ManualScoreError as exc:  # an earlier CSV that cannot be read back
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def add_arguments(parser):
    parser.add_argument("template", help="the solution notebook (its written cells hold the rubrics)")
    parser.add_argument("grades", help="the --out folder of `grade` (its records/ hold the answers)")
    parser.add_argument("--out", help="where the pages and CSVs go (default: GRADES/review)")
    parser.set_defaults(cli=cli)
