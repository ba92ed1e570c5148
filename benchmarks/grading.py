"""Section 5: the batch grader's overhead and its speed-up with 2 workers.

Submissions are copies of one solution notebook. Baseline: plain nbclient execution of the
spliced notebook the grader runs (built with the grader's own ``splice``).
Overhead = grader wall time per submission with 1 worker / plain execution time.
Speed-up = wall time with 1 worker / with 2 workers, on the same submissions.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.notebooks import execute
from benchmarks.timing import ROOT, Spread, section

TITLE = "5. Grading"
OVERHEAD_TARGET, SPEEDUP_TARGET = 1.3, 1.5  # the isolation issue: overhead ≤ 1.3×, 2 workers ≥ 1.5× one


def _grader_problem():
    """Why the grader cannot be benchmarked, or None when ``grade`` is available."""
    completed = subprocess.run([sys.executable, "-m", "course_lib.grading", "grade", "--help"], cwd=ROOT,
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        return f"`python -m course_lib.grading grade --help` fails: {completed.stderr.strip()[-300:]}"
    if not sorted((ROOT / "solutions").glob("*.ipynb")):
        return "no solution notebooks in solutions/"
    return None


def _cpu_ticks():
    """(busy, total) jiffies of the whole machine, from /proc/stat (None where it does not exist)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _grade(template, submissions, out, workers):
    """(seconds, gradebook rows, cores kept busy on average, or None)."""
    ticks = _cpu_ticks()
    start = time.perf_counter()
    command = [sys.executable, "-m", "course_lib.grading", "grade", str(template), str(submissions),
               "--out", str(out), "--workers", str(workers)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = _cpu_ticks()
    busy = None if ticks is None else (after[0] - ticks[0]) / (after[1] - ticks[1]) * os.cpu_count()
    if completed.returncode != 0:
        raise RuntimeError(f"grading failed ({completed.returncode}): {completed.stderr[-1000:]}")
    with open(out / "gradebook.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return seconds, rows, busy


def not_available(reason):
    return section(TITLE, f"Not available: {reason}. The code path (`benchmarks/grading.py`) "
                   "runs as soon as the grader works.")


def run(quick=False, repeats=3, notebook_seconds=None):
    """Grade copies of the fastest solution notebook (by section 3's times when given)."""
    reason = _grader_problem()
    if reason:
        return not_available(reason)
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    if notebook_seconds:
        solutions.sort(key=lambda p: notebook_seconds.get(f"solutions/{p.name}", float("inf")))
    template = solutions[0]
    chosen = "fastest solution notebook in section 3" if notebook_seconds else "first solution notebook"
    count, repeats = (1, 1) if quick else (40, repeats)
    from course_lib.grading.assignment import load_assignment
    from course_lib.grading.splice import read_submission, splice

    spliced = splice(load_assignment(template), read_submission(template.read_bytes())).notebook
    plain = Spread([execute(spliced, template.parent)[0] for _ in range(repeats)])
    with tempfile.TemporaryDirectory() as tmp:
        submissions = Path(tmp) / "submissions"
        submissions.mkdir()
        for k in range(count):
            shutil.copy(template, submissions / f"student{k:02d}.ipynb")
        one, rows, busy = _grade(template, submissions, Path(tmp) / "grades1", workers=1)
        # Quick mode skips the parallel run: one submission cannot show a speed-up.
        two, rows2, _ = (None, [], None) if quick else _grade(template, submissions, Path(tmp) / "grades2",
                                                              workers=2)
    statuses = sorted({r.get("status", "?") for r in rows + rows2})
    overhead = Spread([one / count / p for p in plain.values])
    table = [
        ["plain nbclient run of the spliced notebook (s)", plain.seconds()],
        [f"grader, 1 worker, {count} submission(s) (s per submission)", f"{one / count:.2f}"],
        ["overhead per submission (1 worker / plain)", overhead.ratio()],
    ]
    verdicts = [(f"overhead ≤ {OVERHEAD_TARGET}×", overhead.median <= OVERHEAD_TARGET, overhead.ratio())]
    if two is not None:
        speedup = one / two
        table += [[f"grader, 2 workers, {count} submissions (s per submission)", f"{two / count:.2f}"],
                  ["speed-up of 2 workers over 1", f"{speedup:.2f}×"]]
        if busy:
            # One worker already overlaps its kernel with the grader's own process, so two workers
            # can at best use the cores it leaves idle: the speed-up is capped near cores / busy.
            table += [["cores kept busy by 1 worker (whole machine, /proc/stat)", f"{busy:.2f}"],
                      ["speed-up ceiling on this machine (cores / busy cores)",
                       f"{os.cpu_count() / busy:.2f}×"]]
        verdicts.append((f"2 workers ≥ {SPEEDUP_TARGET}× faster than 1", speedup >= SPEEDUP_TARGET,
                         f"{speedup:.2f}×"))
    table.append(["gradebook statuses", ", ".join(statuses)])
    text = (
        f"Template `solutions/{template.name}` (the {chosen}); {count} submission(s), "
        f"each a copy of it. Plain run: the spliced notebook (the grader's `splice` of a submission into the "
        f"template) run by nbclient in a fresh kernel, {repeats} run(s) (median (min–max)); the "
        "overhead ratio divides the 1-worker time per submission by each plain run. The speed-up compares "
        "one 1-worker and one 2-worker run of all submissions, back to back (each takes minutes, so they are "
        "not repeated; other load on the machine moves it). The grader runs as "
        "`python -m course_lib.grading grade TEMPLATE SUBMISSIONS --out DIR --workers N`."
    )
    return section(TITLE, text, ["quantity", "value"], table, verdicts)
