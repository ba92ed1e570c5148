"""What the batch grader writes, all atomically (a temporary file renamed into place), mode 0640.

``records/<student>.json`` holds everything known about one submission (rows, hashes, seed,
timing); every other file is an *output format* regenerated from the records, so an interrupted
run loses nothing. A format is one function registered with ``@output_format(name)`` that takes a
``Results`` (typed ``Record``s and ``Row``s) and writes its files; ``grade --format NAME`` picks
formats besides ``DEFAULT_FORMATS``, which are always written (repeatable):

* ``csv``: ``gradebook.csv``, one row per (student, exercise): points, max_points, status, message.
* ``scores``: ``scores.csv``, one row per student, one column per exercise, the total.
* ``feedback``: ``feedback/<student>.md``: points and messages per exercise (never check source).
* ``summary``: ``summary.md`` (also printed) and ``histogram.png``: class size, mean/median/min/max,
  pass rate and most common failure per exercise.
* ``canvas``: ``canvas.csv`` in Canvas's gradebook import format, from the instructor's export.
* ``gradescope``: ``gradescope/<student>/results.json`` in Gradescope's autograder format (and
  ``results.json`` when there is a single submission, as on Gradescope).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import statistics
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from course_lib.grading.names import file_stem, same_id

FIELDS = ("student", "exercise", "points", "max_points", "status", "message")
MODE = 0o640  # gradebooks and feedback are shared with TAs (the group), never with other users
DIR_MODE = 0o750  # the folders the grader makes, whatever the umask
CANVAS_LEADING = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"  # the second row of a Canvas export


class Status(StrEnum):
    """The verdict on one exercise of one submission."""

    PASSED = "passed"  # every check passed
    FAILED = "failed"  # a check's assertion failed (each passing check cell keeps its points)
    ERROR = "error"  # the student's code raised
    TIMEOUT = "timeout"  # a cell ran longer than the limit
    CRASHED = "crashed"  # the kernel died
    MISSING = "missing"  # no answer cell for this exercise
    TAMPERED = "tampered"  # the solution markers were edited
    FORBIDDEN = "forbidden"  # the answer uses what the exercise forbids
    UNREADABLE = "unreadable"  # not a notebook of this assignment
    PENDING = "pending"  # a written answer no person has scored yet: no points, not zero
    GRADED = "graded"  # a written answer a person scored below full marks (full marks: passed)


@dataclass(frozen=True)
class Row:
    """One exercise of one submission. ``points`` is None while a written answer is ``pending``;
    ``answer`` is the text of a written answer (None for code)."""

    exercise: str
    points: float | None
    max_points: float
    status: Status
    message: str = ""
    answer: str | None = None

    @classmethod
    def from_json(cls, data):
        points = None if data["points"] is None else float(data["points"])
        return cls(data["exercise"], points, float(data["max_points"]), Status(data["status"]),
                   data.get("message") or "", data.get("answer"))

    def shown_points(self) -> str:
        """The points as people read them: ``pending`` until a written answer is scored."""
        return Status.PENDING.value if self.points is None else f"{self.points:g}"


@dataclass
class Record:
    """One graded submission, as read from ``records/<student>.json``."""

    student: str
    rows: list[Row]
    seconds: float | None = None
    sandbox: bool | None = None
    data: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, student, data):
        rows = [Row.from_json(r) for r in data["rows"]]
        return cls(student, rows, data.get("seconds"), data.get("sandbox"), data)

    @property
    def score(self) -> float:
        """The points scored so far (pending written answers add nothing yet)."""
        return sum(row.points for row in self.rows if row.points is not None)

    @property
    def pending(self) -> float:
        """The points of written answers still waiting for a person's score."""
        return sum(row.max_points for row in self.rows if row.points is None)

    def shown_score(self) -> str:
        return f"{self.score:g}" + (f" (+ {self.pending:g} pending)" if self.pending else "")

    def statuses(self) -> set[Status]:
        return {row.status for row in self.rows}

    @property
    def note(self) -> str:
        """A remark on the submission for a person to check (several notebooks handed in, say)."""
        return self.data.get("note") or ""


@dataclass
class Results:
    """What every output format is given: the template, the records by student and the options."""

    template: object  # assignment.Assignment
    records: dict[str, Record]
    out: Path
    canvas_roster: Path | None = None
    canvas_column: str | None = None
    notes: list[str] = field(default_factory=list)  # warnings a format wants the instructor to see
    manual: dict = field(default_factory=dict)  # (student, exercise) -> (points, comment, answer) by hand

    @property
    def exercises(self) -> list[str]:
        return list(self.template.exercises)


FORMATS: dict = {}
DEFAULT_FORMATS = ("csv", "scores", "feedback", "summary")


def output_format(name):
    """Register ``function(results)`` as the output format ``name`` (``grade --format name``)."""
    def register(function):
        FORMATS[name] = function
        return function
    return register


# -- files ----------------------------------------------------------------------------------------

def count(n, noun) -> str:
    """``1 student``, ``2 students``."""
    return f"{n:g} {noun}{'' if n == 1 else 's'}"


def make_folder(path):
    """``path`` and its missing parents, each made group-readable (mode 0750) whatever the umask."""
    path = Path(path)
    if not path.is_dir():
        make_folder(path.parent)
        path.mkdir(exist_ok=True)
        path.chmod(DIR_MODE)


def write_atomic(path, text: str | bytes):
    path = Path(path)
    make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, MODE)  # mkstemp makes 0600 files
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_record(path, record):
    write_atomic(path, json.dumps(record, indent=1))


def load_record(path):
    """A finished record, or None (absent or unreadable: then the submission is graded again)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("rows"), list) else None


def grader_failure(template, job, reason):
    """The record of a submission whose worker process failed: rows for every exercise anyway."""
    rows = [{"exercise": ex.id, "points": 0.0, "max_points": ex.points, "status": "crashed",
             "message": f"grading this submission {reason}"} for ex in template.exercises.values()]
    return {"student": job["student"], "file": job["submission"], "rows": rows, "sha256": None,
            "note": job["note"]}


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# -- formats --------------------------------------------------------------------------------------

@output_format("csv")
def write_gradebook(results):
    rows = [(student, row.exercise, "" if row.points is None else row.points, row.max_points,
             row.status.value, "\n".join(filter(None, [record.note, row.message])))
            for student, record in sorted(results.records.items()) for row in record.rows]
    write_atomic(results.out / "gradebook.csv", _csv(FIELDS, rows))


@output_format("scores")
def write_scores(results):
    exercises = results.exercises
    rows = []
    for student, record in sorted(results.records.items()):
        points = {row.exercise: row.shown_points() for row in record.rows}
        rows.append([student, *(points.get(e, "0") for e in exercises), f"{record.score:g}"])
    maximum = ["max_points", *(f"{results.template.exercises[e].points:g}" for e in exercises),
               f"{results.template.points:g}"]
    write_atomic(results.out / "scores.csv", _csv(["student", *exercises, "total"], [maximum, *rows]))


@output_format("feedback")
def write_feedback(results):
    for student, record in results.records.items():
        text = feedback(results.template, student, record)
        write_atomic(results.out / "feedback" / f"{file_stem(student)}.md", text)


def _fenced(text):
    """Student-controlled text (their exception messages) shown verbatim, whatever it contains."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def feedback(template, student, record: Record) -> str:
    lines = [f"# {template.name}: feedback for {student}", "",
             f"**Score: {record.shown_score()} / {template.points:g}**", ""]
    if record.note:
        lines += [f"Note: {record.note}", ""]
    lines += ["| exercise | points | status |", "|---|---|---|"]
    lines += [f"| {row.exercise} | {row.shown_points()} / {row.max_points:g} | {row.status} |"
              for row in record.rows]
    for row in record.rows:
        lines += ["", f"## {row.exercise}: {row.shown_points()} / {row.max_points:g} ({row.status})"]
        hint = template.exercises[row.exercise].hint if row.exercise in template.exercises else ""
        if row.message:
            lines += ["", _fenced(row.message)]
        # no maths hint where the maths is not what went wrong (a PDF, edited markers, a forbidden use)
        if row.status not in (Status.PASSED, Status.UNREADABLE, Status.PENDING, Status.TAMPERED,
                              Status.FORBIDDEN) and hint:
            lines += ["", f"Hint: {hint}"]
    return "\n".join(lines) + "\n"


# Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/):
# a check that failed inside a hidden region keeps its details until grades are published.
HIDDEN_LABEL = "(hidden check)"
CHECK_LINE = re.compile(r"^\[([\d.]+)/([\d.]+) points\]")


def _check_blocks(message):
    """A row's message cut into one block per check call (each starts with ``[a/b points]``)."""
    blocks = []
    for line in message.splitlines():
        if CHECK_LINE.match(line) or not blocks:
            blocks.append([line])
        else:
            blocks[-1].append(line)
    return ["\n".join(block) for block in blocks]


def _failed_hidden(block):
    first = block.splitlines()[0]
    match = CHECK_LINE.match(first)
    return HIDDEN_LABEL in first and match is not None and float(match.group(1)) < float(match.group(2))


def gradescope_results(template, record: Record) -> dict:
    """One visible test per exercise (its score, status and the messages of its visible checks);
    a failed hidden check shows only its title there, its details go to a test of 0 points that
    students see once grades are published."""
    tests = []
    for row in record.rows:
        blocks = _check_blocks(row.message) if row.message else []
        hidden = [b for b in blocks if _failed_hidden(b)]
        shown = [b.splitlines()[0] + " (details when grades are published)" if b in hidden else b
                 for b in blocks]
        test = {"name": row.exercise, "score": row.points, "max_score": row.max_points,
                "status": "passed" if row.status == Status.PASSED else "failed",
                "output": f"**{row.status}**" + "".join(f"\n\n{_fenced(b)}" for b in shown),
                "output_format": "md", "visibility": "visible"}
        if row.points is None:  # pending: no score yet rather than 0 (the top-level score counts)
            del test["score"], test["status"]
            test["output"] += "\n\nYour answer, as the grader read it:\n\n" + _fenced(row.answer or "")
        tests.append(test)
        if hidden:
            tests.append({"name": f"{row.exercise}: hidden checks", "score": 0.0, "max_score": 0.0,
                          "status": "failed", "output": "\n\n".join(_fenced(b) for b in hidden),
                          "output_format": "md", "visibility": "after_published"})
    output = f"**{template.name}: {record.score:g} / {template.points:g} points**"
    if record.pending:
        output += (f" so far: written answers worth {count(record.pending, 'point')} are scored by a person "
                   "later")
    if record.note:
        output += f"\n\nNote:\n\n{_fenced(record.note)}"
    return {"score": record.score, "output": output, "output_format": "md", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


@output_format("gradescope")
def write_gradescope(results):
    for student, record in results.records.items():
        text = json.dumps(gradescope_results(results.template, record), indent=1)
        write_atomic(results.out / "gradescope" / file_stem(student) / "results.json", text)
        if len(results.records) == 1:
            write_atomic(results.out / "results.json", text)


def read_canvas_roster(path):
    """A Canvas gradebook export: (leading columns, header, student rows, 'Points Possible' row or
    None). The leading columns are the student columns up to ``Section`` (Canvas adds ``Integration
    ID`` and others on some sites); the assignments follow them."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    header = [cell.strip() for cell in table[0]] if table else []
    if header[:2] != ["Student", "ID"] or "Section" not in header:
        raise ValueError(f"{path}: not a Canvas gradebook export (its columns must start with Student, ID "
                         "and run to Section, as in Canvas's gradebook export)")
    leading = header.index("Section") + 1
    rows = [r for r in table[1:] if any(cell.strip() for cell in r)]
    possible = next((r for r in rows if r and r[0].strip() == POINTS_POSSIBLE), None)
    return leading, header, [r for r in rows if r is not possible], possible


def _canvas_column(results, assignments):
    """The assignment's column: --canvas-column, else a roster column named after the template
    (``07_adam (12345)``), else the template's name (Canvas then creates the assignment: a note
    says so when a roster was given)."""
    wanted = results.canvas_column or results.template.name
    for name in assignments:
        if name == wanted or name.startswith(f"{wanted} ("):
            return name
    if results.canvas_roster:
        results.notes.append(f"canvas.csv: the roster has no column {wanted!r}, so importing canvas.csv "
                             "creates a new assignment of that name; to fill an existing one, pass "
                             "--canvas-column with its name as the roster's header writes it")
    return wanted


# Canvas's "Download Submissions" names each file
# ``lastfirst[_LATE]_<Canvas user ID>_<submission ID>_<file name>``.
CANVAS_DOWNLOAD = re.compile(r"^[^_]+_(?:LATE_|late_)?(\d+)_\d+_")


def _roster_keys(student):
    """The ids a student may have in the roster (compared in NFC): the id itself, and the Canvas
    user ID of a name from Canvas's bulk download."""
    match = CANVAS_DOWNLOAD.match(student)
    return [same_id(student), match.group(1)] if match else [same_id(student)]


@output_format("canvas")
def write_canvas(results):
    """``canvas.csv``: the roster's leading columns and one assignment column with each total.
    A student is matched to a roster row by SIS Login ID, SIS User ID, ID or name, or by the Canvas
    user ID in a file name from Canvas's bulk download (``lovelaceada_1001_5551_07_adam.ipynb``).
    A roster student with several submissions gets no score: a note asks the instructor to choose."""
    if results.canvas_roster:
        leading, header, roster, _ = read_canvas_roster(results.canvas_roster)
    else:
        leading, header = len(CANVAS_LEADING), list(CANVAS_LEADING)
        roster = [[s, "", "", s, ""] for s in sorted(results.records)]
    column = _canvas_column(results, header[leading:])
    keys = [header.index(k) for k in ("SIS Login ID", "SIS User ID", "ID", "Student")
            if k in header[:leading]]
    by_key = {}
    for row in roster:
        for k in keys:
            if k < len(row) and row[k].strip():
                by_key.setdefault(same_id(row[k].strip()), row)
    row_of = {s: next((by_key[k] for k in _roster_keys(s) if k in by_key), None) for s in results.records}
    shared = Counter(id(row) for row in row_of.values() if row is not None)
    twice = sorted(s for s, row in row_of.items() if row is not None and shared[id(row)] > 1)
    if twice:
        results.notes.append(f"canvas.csv: these submissions are one roster student each, score left blank "
                             f"(choose one, keep it and grade again): {', '.join(twice)}")
    matched = {id(row_of[s]): record.score for s, record in results.records.items()
               if row_of[s] is not None and not record.pending and shared[id(row_of[s])] == 1}
    unmatched = sorted(s for s in results.records if row_of[s] is None)
    if unmatched:
        results.notes.append(f"canvas.csv: not in the Canvas roster, left out: {', '.join(unmatched)}")
    waiting = sorted(s for s, record in results.records.items() if record.pending)
    if waiting:
        results.notes.append(f"canvas.csv: written answers pending, score left blank: {', '.join(waiting)}")
    lines = [[POINTS_POSSIBLE, *[""] * (leading - 1), f"{results.template.points:g}"]]
    lines += [[*row[:leading], *[""] * (leading - len(row[:leading])),
               f"{matched[id(row)]:g}" if id(row) in matched else ""] for row in roster]
    write_atomic(results.out / "canvas.csv", _csv([*header[:leading], column], lines))


@output_format("summary")
def write_summary(results):
    write_atomic(results.out / "summary.md", summary(results))
    scores = [record.score for record in results.records.values()]
    if scores:
        write_atomic(results.out / "histogram.png", histogram(scores, results.template))


def histogram(scores, template) -> bytes:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.2), dpi=100)
    axes = figure.subplots()
    top = max(template.points, max(scores), 1)
    # One bar per whole point (per half point when a score has one), centred on it; 20 equal bars
    # when that would make more than 40.
    step = 0.5 if any(score % 1 for score in scores) else 1.0
    bars = int(top / step) + 1
    bins = ([(k - 0.5) * step for k in range(bars + 1)] if bars <= 40
            else [top * k / 20 for k in range(21)])
    axes.hist(scores, bins=bins, color="#0072B2", edgecolor="white")
    axes.set(xlabel=f"score (out of {template.points:g})", ylabel="students",
             title=f"{template.name}: {count(len(scores), 'student')}")
    axes.yaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _failure_line(message):
    """The first line of the message's first part that is not a passed check."""
    def passed(block):
        match = CHECK_LINE.match(block)
        return match is not None and float(match.group(1)) >= float(match.group(2))

    blocks = [b for b in _check_blocks(message.strip()) if b and not passed(b)]
    line = blocks[0].splitlines()[0] if blocks else ""
    return line if len(line) <= 120 else line[:117] + "..."


def _by_count(counter):
    """(item, count) by count, most first; ties in the items' order, so a run prints the same."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def summary(results, graded=None, skipped=None, seconds=None) -> str:
    """The item analysis: class size, score statistics, students per status, and per exercise the
    pass rate and the most common failure message (first line). Counts are students."""
    template, records = results.template, results.records
    scores = [record.score for record in records.values()]
    total = template.points
    run = ""
    if graded is not None:
        run = f" ({graded} graded now, {skipped} already graded) in {seconds:.1f} s"
    lines = [f"# {template.name}: {count(len(records), 'submission')}{run}", ""]
    if scores:
        mean = statistics.fmean(scores)
        lines.append(f"score out of {total:g}: mean {mean:.2f} ({100 * mean / total if total else 0:.0f} %), "
                     f"median {statistics.median(scores):g}, min {min(scores):g}, max {max(scores):g}")
        waiting = sum(record.pending > 0 for record in records.values())
        if waiting:
            lines.append(f"these scores leave out written answers still pending for "
                         f"{count(waiting, 'student')} (scored by a person with review and --manual)")
    times = [r.seconds for r in records.values() if r.seconds]
    if times:
        lines.append(f"time per submission: mean {statistics.fmean(times):.1f} s, max {max(times):.1f} s")
    if any(r.sandbox is False for r in records.values()):
        lines.append("warning: not run as root, so student code ran as the grader's user and could read "
                     "what it can (templates, other submissions)")
    students = Counter(status for r in records.values() for status in r.statuses() if status != Status.PASSED)
    lines.append("students with an exercise not passed, by status: "
                 + (", ".join(f"{status} {n}" for status, n in _by_count(students)) or "none"))
    lines += ["", "| exercise | passed | most common failure | students |", "|---|---|---|---|"]
    for exercise in results.exercises:
        rows = [row for r in records.values() for row in r.rows if row.exercise == exercise]
        passed = sum(row.status == Status.PASSED for row in rows)
        failures = Counter(f"{row.status}: {_failure_line(row.message)}".rstrip(": ").replace("|", "\\|")
                           for row in rows if row.status != Status.PASSED)
        common, students_failing = _by_count(failures)[0] if failures else ("", 0)
        lines.append(f"| {exercise} | {passed}/{len(rows)} | {common} | {students_failing or ''} |")
    if scores:
        lines += ["", "![score histogram](histogram.png)"]
    check = [f"- {student}: {record.note}" for student, record in sorted(records.items()) if record.note]
    if check:
        lines += ["", f"To check by hand ({count(len(check), 'student')}):", *check]
    lines += [f"note: {note}" for note in results.notes]
    return "\n".join(lines) + "\n"


def load_results(template, records_dir, students, **options) -> Results:
    """The records of ``students`` (those with a finished record) as a ``Results``."""
    records = {}
    for student in students:
        data = load_record(Path(records_dir) / f"{file_stem(student)}.json")
        if data is not None:
            records[student] = Record.from_json(student, data)
    return Results(template, records, Path(records_dir).parent, **options)


def write_reports(results, formats=DEFAULT_FORMATS):
    for name in dict.fromkeys(formats):
        FORMATS[name](results)
