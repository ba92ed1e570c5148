"""Grade a class: ``python -m course_lib.grading grade TEMPLATE.ipynb SUBMISSIONS/ --out GRADES/``.

Finds the submissions (``find_submissions``), grades each in its own worker process (forked from
this one) with ``grade.grade_submission``, keeps one record per student (``records/``, the source
of truth: a re-run grades only what changed) and writes the outputs from the records
(``report.py``). Nothing is lost: every entry of the submissions folder gets its rows, even when
its worker fails.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import stat
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.grading import kernel, names, report, review
from course_lib.grading.assignment import ANSWER, AuthoringError, grading_metadata, load_assignment
from course_lib.grading.grade import (
    HARD_LINK,
    SYMLINK,
    file_sha256,
    grade_submission,
    hidden_paths,
    pick_submission,
    preload_check_imports,
    read_student_file,
    several_files_note,
)
from course_lib.grading.markers import find_regions, stub
from course_lib.grading.splice import MAX_BYTES, Unreadable

JUNK = {".ipynb_checkpoints", ".DS_Store", "__MACOSX", "Thumbs.db", "desktop.ini", ".git"}  # not students


@dataclass
class Found:
    """One entry of the submissions folder: the file to grade, why it cannot be graded (``problem``)
    and a remark for its rows (``note``: an ambiguous student id)."""

    path: Path
    problem: str | None = None
    note: str | None = None
    links: int = 1  # hard links to the file, all checked to be inside the submissions folder


def find_submissions(folder: Path, notebook_name="", exclude=()) -> dict[str, Found]:
    """Student id -> Found, for every entry of ``folder``: ``alice.ipynb`` or ``alice/<a notebook>``
    (preferably one named ``notebook_name``; any other file too, so a wrong upload still gets its
    rows). Ids are printable (``names.student_id``). Symbolic links are never followed: a link, or a
    folder holding one, gets rows saying so. Entries whose names give the same id (``coll.ipynb`` and
    ``coll/``) are each graded under their own name, with a note. Entries in ``exclude`` and grader
    output folders (holding ``names.OUTPUT_MARKER``) are not submissions."""
    excluded = {os.path.realpath(p) for p in exclude}
    claims = {}
    for entry in sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name)):
        is_dir = entry.is_dir(follow_symlinks=False)
        if entry.name in JUNK or (not entry.is_symlink() and os.path.realpath(entry.path) in excluded):
            continue
        if is_dir and os.path.isfile(os.path.join(entry.path, names.OUTPUT_MARKER)) \
                and not os.path.islink(os.path.join(entry.path, names.OUTPUT_MARKER)):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            found = Found(path, SYMLINK)
        elif is_dir:
            found = _folder_submission(path, notebook_name)
        elif entry.is_file(follow_symlinks=False):
            found = Found(path)
        else:
            found = Found(path, "not a regular file (a pipe, socket or device): not graded")
        stem = entry.name if is_dir else os.path.splitext(entry.name)[0] or entry.name
        student = names.student_id(stem)  # José in NFC and in NFD: one claim, two entries
        claims.setdefault(names.same_id(student), []).append((student, entry.name + "/" * is_dir, found))
    result = {}
    for entries in claims.values():
        if len(entries) == 1:
            result[entries[0][0]] = entries[0][2]
            continue
        listing = ", ".join(names.student_id(name) for _, name, _ in entries)
        for student, name, found in entries:
            ambiguous = (f"ambiguous student id '{student}': {listing} all stand for it; each is graded "
                         "under its own name")
            found.note = "; ".join(filter(None, [found.note, ambiguous]))
            own = names.student_id(name)
            while own in result or own in claims:  # never drop a submission, however odd the names
                own += "#"
            result[own] = found
    _check_hard_links(folder, result)
    return result


def _check_hard_links(folder, found):
    """A file with other hard links is graded only when all of them are inside the submissions
    folder (two students' identical files, say: each graded, with a note); a link to a file outside
    it would make the grader read that file for a student."""
    inside = {}
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            info = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
                inside.setdefault((info.st_dev, info.st_ino), []).append(os.path.join(dirpath, name))
    for submission in found.values():
        try:
            info = os.lstat(submission.path)
        except OSError:
            continue
        if submission.problem or not stat.S_ISREG(info.st_mode) or info.st_nlink == 1:
            continue
        links = inside.get((info.st_dev, info.st_ino), [])
        if len(links) < info.st_nlink:
            submission.problem = HARD_LINK
            continue
        submission.links = info.st_nlink
        others = ", ".join(names.student_id(os.path.relpath(p, folder)) for p in links
                           if os.path.abspath(p) != os.path.abspath(submission.path))
        note = f"the same file as {others} (hard links)"
        submission.note = "; ".join(filter(None, [submission.note, note]))


def _folder_submission(folder: Path, notebook_name) -> Found:
    """The notebook to grade in a student's folder; the folder itself when it holds no file."""
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):  # never follows links
        dirnames[:] = [d for d in dirnames if d not in JUNK]
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            if path.is_symlink():
                return Found(path, f"{SYMLINK} ({names.student_id(str(path.relative_to(folder)))})")
        files += [Path(dirpath, n) for n in filenames if not n.startswith(".") and n not in JUNK
                  and Path(dirpath, n).is_file()]
    chosen, others = pick_submission(sorted(files), notebook_name)
    if chosen is None:
        return Found(folder, "the submission folder holds no file")
    return Found(chosen, note=several_files_note(chosen, others, folder.parent) if others else None)


def _worker(job):
    """One submission in its own process (forked: the imports are already done)."""
    os.setsid()  # its own process group, so an overdue worker can be killed with everything it started
    try:
        record = grade_submission(job["template"], job["submission"], timeout=job["timeout"],
                                  memory=job["memory"], hide=job["hide"], max_bytes=job["max_bytes"],
                                  problem=job["problem"], uid_base=job["uid_base"], links=job["links"])
        report.write_record(job["record"], dict(record, student=job["student"], note=job["note"],
                                                limits=job["limits"]))
    except BaseException:
        report.write_atomic(job["record"] + ".error", traceback.format_exc())
        raise


def _launch(job):
    methods = multiprocessing.get_all_start_methods()
    process = multiprocessing.get_context("fork" if "fork" in methods else "spawn").Process(
        target=_worker, args=(job,), daemon=False)
    process.start()
    return process


def cli(args) -> int:
    from tqdm import tqdm

    template_path, folder, out = Path(args.template), Path(args.submissions), Path(args.out)
    if _is_released_exercise(template_path):
        print(f"error: template: {template_path} is the released exercise (its answers are the stubs "
              f"students start from); pass the solution notebook, e.g. solutions/{template_path.name}",
              file=sys.stderr)
        return 2
    try:
        template = load_assignment(template_path)
    except AuthoringError as exc:
        print(f"error: template: {exc}", file=sys.stderr)
        return 2
    unknown_formats = [name for name in args.formats or () if name not in report.FORMATS]
    if unknown_formats:
        print(f"error: --format {', '.join(unknown_formats)}: unknown; choose from "
              f"{', '.join(report.FORMATS)}", file=sys.stderr)
        return 2
    if args.canvas_roster and not Path(args.canvas_roster).is_file():
        print(f"error: --canvas-roster {args.canvas_roster}: no such file", file=sys.stderr)
        return 2
    if not folder.is_dir():
        print(f"error: submissions: {folder} is not a folder", file=sys.stderr)
        return 2
    for name, value in (("--workers", args.workers), ("--timeout", args.timeout), ("--memory", args.memory)):
        if not value > 0:
            print(f"error: {name} must be positive, got {value}", file=sys.stderr)
            return 2
    if os.path.realpath(out) == os.path.realpath(folder):  # its files would be taken for students
        print(f"error: --out {out} is the submissions folder; choose another folder", file=sys.stderr)
        return 2
    records_dir = out / "records"
    report.make_folder(records_dir)
    report.write_atomic(out / names.OUTPUT_MARKER, "written by `python -m course_lib.grading grade`: this "
                        "folder is grader output, never graded as a student's submission\n")
    submissions = find_submissions(folder, template_path.name, exclude=[out, template_path])
    try:  # a bad CSV is refused before anything is graded
        remembered = review.read_remembered(out, template)
    except review.ManualScoreError as exc:
        print(f"error: {exc} (the scores kept from earlier runs: correct or delete that row)",
              file=sys.stderr)
        return 2
    try:
        manual = {**remembered, **review.read_manual(args.manual or (), template, submissions)}
    except review.ManualScoreError as exc:
        print(f"error: --manual {exc}", file=sys.stderr)
        return 2
    asked = {s: names.find_id(s, submissions) for s in map(str.strip, (args.only or "").split(",")) if s}
    unknown = [s for s, student in asked.items() if student is None]
    if unknown:
        print(f"error: --only: no submission for {', '.join(sorted(unknown))} in {folder}", file=sys.stderr)
        return 2
    only = set(asked.values())
    template_sha = file_sha256(template_path)
    hide = hidden_paths(template_path, folder, out)
    pending, skipped = deque(), 0
    limits = {"timeout": args.timeout, "memory_mb": args.memory, "max_size_mb": args.max_size}
    uid_base = getattr(args, "uid_base", None) or kernel.UID_BASE
    kernel.warm_up()
    preload_check_imports(template)
    for student, found in submissions.items():
        record_path = records_dir / f"{names.file_stem(student)}.json"
        record = report.load_record(record_path)
        if only and student not in only:  # not asked for: its record (if any) stays in the gradebook
            skipped += 1
            continue
        if (not args.force and not only and record and record.get("template_sha256") == template_sha
                and record.get("limits") == limits and record.get("note") == found.note
                and not found.problem and record.get("sha256") == _sha256_of_submission(found)):
            skipped += 1
            continue
        job = {"template": str(template_path.resolve()), "submission": os.path.abspath(found.path),
               "student": student, "record": str(record_path.absolute()), "timeout": args.timeout,
               "memory": int(args.memory * 2**20), "hide": hide, "max_bytes": int(args.max_size * 2**20),
               "problem": found.problem, "note": found.note, "uid_base": uid_base, "links": found.links,
               "limits": limits}
        pending.append(job)
    # A worker that overruns this (it should not: every kernel wait has a timeout) is killed.
    code_cells = sum(c.cell_type == "code" for c in template.notebook.cells)
    hard_limit = args.timeout * (2 * code_cells + 4) + 120
    started = time.monotonic()
    running = {}
    with tqdm(total=len(pending), desc=f"grading {template.name}", unit="submission",
              disable=args.quiet) as bar:
        try:
            while pending or running:
                while pending and len(running) < args.workers:
                    job = pending.popleft()
                    Path(job["record"] + ".error").unlink(missing_ok=True)
                    running[job["student"]] = (_launch(job), time.monotonic(), job)
                _name_the_wait(bar, running)
                # Until a worker ends (noticed at once, so the next one starts at once) or 0.5 s pass.
                multiprocessing.connection.wait([p.sentinel for p, _, _ in running.values()], 0.5)
                for student, (process, t0, job) in list(running.items()):
                    overdue = time.monotonic() - t0 > hard_limit
                    if process.is_alive() and not overdue:
                        continue
                    if overdue:
                        os.killpg(process.pid, signal.SIGKILL)
                    process.join()
                    if process.exitcode != 0:  # the worker itself failed: the submission still gets rows
                        error = Path(job["record"] + ".error")
                        reason = ("took too long" if overdue else "failed: " + (
                            error.read_text()[-1500:] if error.exists() else f"exit code {process.exitcode}"))
                        report.write_record(job["record"], report.grader_failure(template, job, reason))
                    del running[student]
                    bar.update()
        finally:  # interrupted: stop the workers; their submissions are graded on the next run
            for process, _, _ in running.values():
                if process.is_alive():
                    os.killpg(process.pid, signal.SIGKILL)
    results = report.load_results(template, records_dir, submissions, canvas_roster=args.canvas_roster,
                                  canvas_column=args.canvas_column)
    formats = [*report.DEFAULT_FORMATS, *(args.formats or ())]  # --format adds: the defaults stay current
    try:
        results = review.apply_manual(results, manual)
        report.write_reports(results, [*formats, *(["gradescope"] if args.gradescope else [])])
        review.write_remembered(results)
    except ValueError as exc:  # a roster that is not a Canvas export, a score for an answer not pending
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(report.summary(results, graded=len(submissions) - skipped, skipped=skipped,
                             seconds=time.monotonic() - started))
        print("\n".join(_isolation_report(records_dir, submissions, uid_base)))
    return 0


def _sha256_of_submission(found):
    try:
        return hashlib.sha256(read_student_file(found.path, links=found.links)).hexdigest()
    except Unreadable:
        return None


def _isolation_report(records_dir, submissions, uid_base):
    """The end of the summary: which protections were off, what student code left behind (checked
    on the whole machine for the student uid range), and the students the instructor must regrade."""
    off, mode = kernel.protections_off(), kernel.sandbox_mode()
    why = {"uid": "root, but namespaces are not permitted here", "off": "not run as root"}.get(mode)
    lines = [f"isolation: {mode} mode ({why}); protections OFF: {'; '.join(off)}" if off else
             f"isolation: on (namespaces, uids {uid_base}.., read-only mounts, capped tmpfs)"]
    records = [report.load_record(records_dir / f"{names.file_stem(student)}.json") or {}
               for student in submissions]
    if mode != "off":
        leftovers = [item for record in records for item in record.get("leftovers") or []]
        leftovers += kernel.unclaimed_leftovers(uid_base)
        lines.append("leftovers of student code: " + ("none (no process, file or IPC object)" if not leftovers
                                                      else f"{len(leftovers)}: " + "; ".join(leftovers[:20])))
    regrade = [f"{student} ({record['regrade']})"
               for student, record in zip(submissions, records, strict=True) if record.get("regrade")]
    lines.append("to regrade (the grader failed, not the student): " + ("; ".join(regrade) or "none"))
    return lines


WAIT_NAMED_AFTER = 10.0  # seconds a submission runs before the progress bar names it


def _name_the_wait(bar, running):
    """Show on the progress bar the submission that has been running longest, once it runs long."""
    if not running:
        return
    student, (_, started, _) = min(running.items(), key=lambda item: item[1][1])
    waited = time.monotonic() - started
    text = f"waiting on {student} ({waited:.0f} s)" if waited >= WAIT_NAMED_AFTER else ""
    if text != (getattr(bar, "postfix", None) or ""):
        bar.set_postfix_str(text)


def _is_released_exercise(path) -> bool:
    """Every answer in the notebook is the stub ``release`` writes: the students' starting point.
    Read before validation, which a released exercise may fail (its hidden checks are gone)."""
    try:
        cells = nbformat.read(path, as_version=4).cells
        regions = [(region.text.strip(), meta.get("hint")) for cell in cells
                   if (meta := grading_metadata(cell)) and meta.get("kind") == ANSWER
                   for region in find_regions(cell.source)]
    except Exception:  # unreadable or malformed: load_assignment says what is wrong
        return False
    return bool(regions) and all(text == stub(hint) for text, hint in regions)


HELP = """\
Grade every submission in SUBMISSIONS against TEMPLATE (the solution notebook, never the released
exercise) and write the results to OUT.

outputs (OUT/):
  records/<student>.json   everything known about one submission; the source of all other files
  gradebook.csv            one row per student and exercise: points, max_points, status, message
  scores.csv               one row per student, a column per exercise and the total
  feedback/<student>.md    what each student gets back: points, messages and hints
  summary.md, histogram.png  class size, mean/median/min/max, pass rate and most common failure
  canvas.csv               with --format canvas: a Canvas gradebook import (see --canvas-roster)
  gradescope/<student>/results.json  with --format gradescope
  manual_scores.csv        every written answer scored by hand so far (--manual): kept by later
                           runs until the answer changes; edit it or delete a row to change that
  Files are readable by the group (mode 0640, folders 0750) so they can be shared with TAs.
  A student folder with several notebooks is graded from the one named like the template (else
  the first); the summary lists it under "To check by hand".

statuses (one per student and exercise):
  passed     every check passed          failed     a check's assertion failed (partial credit)
  error      the student's code raised   timeout    a cell ran longer than --timeout
  crashed    the kernel died             missing    no answer cell for the exercise
  tampered   solution markers edited     forbidden  the answer uses what the exercise forbids
  unreadable not a notebook of this assignment (empty, another file, too large)
  pending    a written answer not scored yet (no points, not zero): see `review` and --manual
  graded     a written answer scored by hand below full marks (full marks: passed)

resume: a re-run grades only new or changed submissions (and all of them if the template,
--timeout, --memory or --max-size changed); --force regrades everyone, --only ID[,ID...]
regrades some. Ctrl-C stops at once and loses nothing already graded.
"""


def add_arguments(parser):
    parser.add_argument("template", help="the solution notebook (solutions/NN_topic.ipynb)")
    parser.add_argument("submissions", help="folder of submissions: <student>.ipynb or <student>/<notebook>")
    parser.add_argument("--out", required=True, help="folder for gradebook.csv, feedback and records")
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)),
                        help="submissions graded in parallel (default: number of CPUs)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    parser.add_argument("--memory", type=float, default=2048, help="kernel memory limit in MB (default 2048)")
    parser.add_argument("--max-size", type=float, default=MAX_BYTES / 2**20,
                        help="largest submission file in MB (default 100)")
    parser.add_argument("--force", action="store_true", help="regrade submissions that were already graded")
    parser.add_argument("--only", metavar="ID[,ID...]",
                        help="regrade only these students; the gradebook keeps everyone else")
    parser.add_argument("--format", dest="formats", action="append", metavar="NAME",
                        help="an output to write besides csv, scores, feedback and summary, which are "
                             "always written (repeatable): canvas, gradescope")
    parser.add_argument("--canvas-roster", metavar="CSV",
                        help="your Canvas gradebook export: maps student ids (SIS Login ID, SIS User ID, "
                             "ID or name) to Canvas rows for --format canvas")
    parser.add_argument("--canvas-column", metavar="NAME",
                        help="the Canvas assignment column, e.g. 'Homework 7 (123456)' (default: the roster "
                             "column named after the template, else the template's name)")
    parser.add_argument("--gradescope", action="store_true", help="same as --format gradescope (added)")
    parser.add_argument("--manual", action="append", metavar="CSV",
                        help="scores of written answers, filled in from `review` (repeatable): merged into "
                             "every output and kept in OUT/manual_scores.csv for later runs; answers "
                             "without a score stay pending")
    parser.add_argument("--uid-base", type=int, metavar="UID",
                        help=f"as root: student kernels run as UID, UID+1, ... (one per running kernel; "
                             f"default {kernel.UID_BASE}); these uids must have no account and no processes")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.set_defaults(cli=cli)
