"""What the batch grader writes, all atomically (a temporary file renamed into place):

* ``records/<student>.json``: everything known about one submission (rows, hashes, seed, timing);
  the other files are regenerated from these, so an interrupted run loses nothing.
* ``gradebook.csv``: one row per (student, exercise): points, max_points, status, message.
* ``feedback/<student>.md``: points and messages per exercise (messages never quote check source).
* with ``--gradescope``: ``gradescope/<student>/results.json`` (and ``results.json`` when the folder
  held a single submission, which is how Gradescope runs an autograder).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

FIELDS = ("student", "exercise", "points", "max_points", "status", "message")


def write_atomic(path, text: str):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
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
    return {"student": job["student"], "file": job["submission"], "rows": rows, "sha256": None}


def _score(record):
    return sum(row["points"] for row in record["rows"])


def gradebook(records) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, FIELDS, lineterminator="\n")
    writer.writeheader()
    for student, record in sorted(records.items()):
        for row in record["rows"]:
            writer.writerow({"student": student, **{k: row[k] for k in FIELDS[1:]}})
    return out.getvalue()


def _fenced(text):
    """Student-controlled text (their exception messages) shown verbatim, whatever it contains."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def feedback(template, student, record) -> str:
    lines = [f"# {template.name}: feedback for {student}", "",
             f"**Score: {_score(record):g} / {template.points:g}**", "",
             "| exercise | points | status |", "|---|---|---|"]
    lines += [f"| {row['exercise']} | {row['points']:g} / {row['max_points']:g} | {row['status']} |"
              for row in record["rows"]]
    for row in record["rows"]:
        lines += ["", f"## {row['exercise']}: {row['points']:g} / {row['max_points']:g} ({row['status']})"]
        hint = template.exercises[row["exercise"]].hint if row["exercise"] in template.exercises else ""
        if row["message"]:
            lines += ["", _fenced(row["message"])]
        if row["status"] != "passed" and hint:
            lines += ["", f"Hint: {hint}"]
    return "\n".join(lines) + "\n"


def gradescope(record) -> str:
    tests = [{"name": row["exercise"], "score": row["points"], "max_score": row["max_points"],
              "status": "passed" if row["status"] == "passed" else "failed",
              "output": f"{row['status']}: {row['message']}" if row["message"] else row["status"]}
             for row in record["rows"]]
    return json.dumps({"score": _score(record), "tests": tests}, indent=1)


def write_reports(template, records, out, gradescope_files=False):
    out = Path(out)
    records = {student: record for student, record in records.items() if record is not None}
    write_atomic(out / "gradebook.csv", gradebook(records))
    for student, record in records.items():
        write_atomic(out / "feedback" / f"{student}.md", feedback(template, student, record))
        if gradescope_files:
            write_atomic(out / "gradescope" / student / "results.json", gradescope(record))
    if gradescope_files and len(records) == 1:
        write_atomic(out / "results.json", gradescope(next(iter(records.values()))))


def summary(template, records, graded, skipped, seconds) -> str:
    records = [r for r in records.values() if r is not None]
    total = template.points
    mean = sum(_score(r) for r in records) / len(records) if records else 0.0
    causes = Counter(row["status"] for r in records for row in r["rows"] if row["status"] != "passed")
    times = [r["seconds"] for r in records if r.get("seconds")]
    lines = [f"{template.name}: {len(records)} submissions ({graded} graded now, {skipped} already graded) "
             f"in {seconds:.1f} s",
             f"mean score {mean:.2f} / {total:g} ({100 * mean / total if total else 0:.0f} %)"]
    if times:
        lines.append(f"per submission: mean {sum(times) / len(times):.1f} s, max {max(times):.1f} s")
    if any(r.get("sandbox") is False for r in records):
        lines.append("warning: not run as root, so student code ran as the grader's user and could read "
                     "what it can (templates, other submissions)")
    lines.append("exercises not passed: " + (", ".join(f"{status} {n}" for status, n in causes.most_common())
                                             or "none"))
    return "\n".join(lines)
