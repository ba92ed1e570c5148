"""Batch grader: ``python -m course_lib.grading grade TEMPLATE.ipynb SUBMISSIONS/ --out GRADES/``.

Each submission is graded in its own worker process (forked from this one) with its own sandboxed
kernel (``kernel.py``). Only the answer regions of a submission are used, spliced into the pristine
template (``splice.py``). Instructor cells run in the kernel; check cells
run here, in the worker, with every name they do not define resolved to a proxy of the student's
object in the kernel, so the comparison with the reference never happens where student code runs.

A kernel that hangs or dies costs only the exercise that was running: the kernel is restarted, the
notebook replayed without the offending answer, and grading goes on. Every submission ends with one
row per exercise in ``gradebook.csv`` whatever happened; see ``report.py`` for the outputs.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import errno
import hashlib
import io
import multiprocessing
import os
import secrets
import signal
import stat
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grading import assignment as asg
from course_lib.grading import checks, names, report, review, wire
from course_lib.grading import kernel as kernels
from course_lib.grading.forbidden import ALWAYS_FORBIDDEN
from course_lib.grading.kernel import KernelLost, KernelTimeout, StudentKernel
from course_lib.grading.splice import MAX_BYTES, Unreadable, read_submission, splice

STATUSES = ("passed", "failed", "error", "timeout", "crashed", "missing", "tampered", "forbidden",
            "unreadable")
ZERO = {"missing", "tampered", "forbidden", "unreadable"}  # no points at all, checks not run
MAX_MESSAGE = 4000  # characters of one message in the gradebook
PENDING_MESSAGE = "written answer: waiting for a person's score"


@dataclass
class Outcome:
    """One exercise of one submission; the first problem found sets the status.

    Every check call adds its own line ``[earned/points points] ...`` (``record``); a problem that
    stops the checks (``fail``) is charged the points of the checks that did not run, so the points
    in the messages always add up to the row's points and max_points."""

    exercise: str
    max_points: float
    points: float = 0.0
    status: str | None = None
    messages: list = field(default_factory=list)
    decided: bool = False  # nothing more to run for this exercise
    checked: float = 0.0  # points of the check calls that ran (earned or not)
    student_errors: list = field(default_factory=list)  # (type name, message) of exceptions in checks
    answer: str | None = None  # a written exercise's text: "pending" until a person scores it (review.py)
    _scored: list = field(default_factory=list)  # indices of messages that carry their own points
    _charged: list = field(default_factory=list)  # indices of fail() messages

    def fail(self, status, message, final=False):
        self.status = self.status or status
        self._charged.append(len(self.messages))
        # Messages may quote the student's exception text, which can be anything and any size.
        self.messages.append(message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + " ...")
        self.decided = self.decided or final

    def record(self, result):
        """One check call's ``checks.CheckResult`` (its message is never cut: it holds the inputs)."""
        if result.status != "passed":
            self.status = self.status or result.status
        if result.error_type:
            self.student_errors.append((result.error_type, result.title))
        self._scored.append(len(self.messages))
        self.messages.append(result.message())
        self.points += result.earned
        self.checked += result.points

    def row(self):
        if self.status == "pending":  # no points yet, not zero: the score comes from grade --manual
            return {"exercise": self.exercise, "points": None, "max_points": self.max_points,
                    "status": "pending", "message": PENDING_MESSAGE, "answer": self.answer}
        status = self.status or "passed"
        zero = status in ZERO  # then checks that ran before the verdict count for nothing
        messages = {i: m for i, m in enumerate(self.messages) if not (zero and i in self._scored)}
        unscored = self.max_points - (0.0 if zero else self.checked)
        if unscored > 1e-9:
            label = f"[0/{unscored:g} points] "
            charged = [i for i in self._charged if i in messages]
            if charged:  # the cause: the first problem, or the verdict that zeroed the exercise
                cause = charged[-1] if zero else charged[0]
                messages[cause] = label + messages[cause]
            else:
                messages[len(self.messages)] = label + "these checks did not run"
        return {"exercise": self.exercise, "points": 0.0 if zero else round(self.points, 6),
                "max_points": self.max_points, "status": status, "message": "\n".join(messages.values())}


class Remote:
    """A student's object in the kernel. Calling it runs the student's function there."""

    def __init__(self, kernel, path, deadline):
        self._kernel, self._path, self._deadline = kernel, tuple(path), deadline
        self.__name__ = self._path[-1]

    def _remaining(self):
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise KernelTimeout("the checks of this cell ran out of time")
        return remaining

    def __call__(self, *args, **kwargs):
        return self._kernel.request(self._path, args, kwargs, timeout=self._remaining())

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Remote(self._kernel, (*self._path, name), self._deadline)

    def __fetch__(self):
        return self._kernel.request(self._path, timeout=self._remaining())

    def __call_checked__(self, args, kwargs):
        """The call's value and its arguments as they are after the call, both as plain data
        (``checks.call`` compares them with what it sent: the function must not modify them)."""
        return self._kernel.request(self._path, args, kwargs, timeout=self._remaining(), with_arguments=True)

    def __repr__(self):
        return f"<student's {'.'.join(self._path)}>"


class _CheckNamespace(dict):
    """Globals for a check cell: builtins as usual, any other unknown name is the student's object."""

    def __init__(self, kernel, deadline):
        super().__init__(__name__="__main__")
        self._kernel, self._deadline = kernel, deadline

    def __missing__(self, name):
        if hasattr(builtins, name):
            return getattr(builtins, name)
        return Remote(self._kernel, (name,), self._deadline)


class InstructorCellFailed(Exception):
    """A cell of the template failed in the kernel: the grader's problem, never the student's."""

    def __init__(self, cell_id, reason):
        super().__init__(f"instructor cell '{cell_id}' failed: {reason}")
        self.cell_id, self.reason = cell_id, reason


class NotebookGrader:
    """Runs one spliced notebook: instructor and answer cells in the kernel, checks here."""

    def __init__(self, template: asg.Assignment, spliced, kernel: StudentKernel, timeout: float, seed: int):
        self.template, self.kernel, self.timeout, self.seed = template, kernel, timeout, seed
        self.cells = [c for c in spliced.notebook.cells if c.cell_type == "code"]
        self.outcomes = {ex.id: Outcome(ex.id, ex.points) for ex in template.exercises.values()}
        for exercise_id, (status, message) in spliced.verdicts.items():
            self.outcomes[exercise_id].fail(status, message, final=True)
        for exercise_id, notes in spliced.notes.items():
            self.outcomes[exercise_id].messages.extend(notes)
        for exercise_id, text in spliced.written.items():
            self.outcomes[exercise_id] = Outcome(exercise_id, self.outcomes[exercise_id].max_points,
                                                 status="pending", decided=True, answer=text)
        self.skip = set()  # answer cells that hung or crashed the kernel: never run again
        self.restarts = 0

    def run(self):
        """Rows for every exercise. Raises InstructorCellFailed when a cell of the template fails."""
        index = 0
        while index < len(self.cells):
            cell = self.cells[index]
            try:
                self._run_cell(cell)
            except KernelLost as exc:
                if asg.grading_metadata(cell) is None:
                    raise InstructorCellFailed(cell.id, str(exc)) from None
                self._blame(cell, exc)
                if not self._recover(index):
                    break
            index += 1
        return [outcome.row() for outcome in self.outcomes.values()]

    def give_up(self, failure):
        """Rows after an instructor cell failed twice: exercises with cells after it that are not
        decided yet are the grader's crash; those graded before it keep their result."""
        index = next(i for i, c in enumerate(self.cells) if c.id == failure.cell_id)
        later = {m["exercise"] for m in map(asg.grading_metadata, self.cells[index:]) if m}
        for exercise_id, outcome in self.outcomes.items():
            if exercise_id in later and not outcome.decided:
                outcome.fail("crashed", f"instructor cell '{failure.cell_id}' failed: {failure.reason}; "
                                        "this is not your fault and was not graded (listed for regrading)",
                             final=True)
        return [outcome.row() for outcome in self.outcomes.values()]

    def _run_cell(self, cell):
        meta = asg.grading_metadata(cell)
        if meta is None:  # instructor material: it must run (a cell tagged raises-exception may raise)
            error, _ = self.kernel.execute(cell.source, self.timeout)
            if error and "raises-exception" not in cell.metadata.get("tags", []):
                raise InstructorCellFailed(cell.id, f"{error[0]}: {error[1]}"[:500])
            return
        outcome = self.outcomes[meta["exercise"]]
        if meta["kind"] == asg.ANSWER:
            if cell.id in self.skip:
                return
            error, _ = self.kernel.execute(cell.source, self.timeout)
            if error and not outcome.decided:
                outcome.fail("error", f"the answer cell raised {error[0]}: {error[1]}", final=True)
        elif not outcome.decided:
            # The runtime forbidden-use layer watches the student's code while the checks call it.
            exercise = self.template.exercises[meta["exercise"]]
            self.kernel.watch = tuple(dict.fromkeys([*exercise.forbidden, *ALWAYS_FORBIDDEN]))
            self.kernel.forbidden_seen = None
            try:
                self._run_check(cell, meta, outcome)
            finally:
                self.kernel.watch = ()
            if self.kernel.forbidden_seen:
                outcome.status = "forbidden"  # overrides the error the detection raised in the check
                outcome.fail("forbidden", "while the checks ran, your code used what this exercise forbids "
                                          f"({', '.join(exercise.forbidden) or 'course_lib.grading'}): "
                                          f"{self.kernel.forbidden_seen}", final=True)

    def _run_check(self, cell, meta, outcome):
        """Run a check cell here, each check call earning its own points (``checks.collect``).
        An exception that stops the cell charges it the points of the calls that did not run."""
        checks.set_grading_seed(self.seed)
        namespace = _CheckNamespace(self.kernel, time.monotonic() + self.timeout)
        filename = f"<check {cell.id}>"
        hidden = asg.find_regions(cell.source, asg.BEGIN_HIDDEN, asg.END_HIDDEN)
        sink = io.StringIO()
        stopped = None
        with checks.collect(filename) as results:
            try:
                with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                    exec(compile(cell.source, filename, "exec"), namespace)
            except AssertionError as exc:
                stopped = ("failed", str(exc) or f"a check of {outcome.exercise} failed")
            except checks.StudentError as exc:
                outcome.student_errors.append((exc.type_name, exc.message))
                stopped = ("error", f"your code raised {exc}")
            except wire.WireError as exc:
                stopped = ("failed", f"your function's result cannot be graded: {exc}")
            except Exception as exc:  # the check could not even compare (e.g. a result of the wrong kind)
                stopped = ("failed", f"the check could not use your result ({type(exc).__name__}: {exc})")
            finally:  # also when the kernel is lost: the calls that finished keep their points
                for result in results:
                    result.hidden = any(r.begin < (result.line or 0) - 1 < r.end for r in hidden)
                    outcome.record(result)
        if stopped:
            outcome.fail(*stopped)

    def _blame(self, cell, exc):
        meta = asg.grading_metadata(cell)
        timed_out = isinstance(exc, KernelTimeout)
        status = "timeout" if timed_out else "crashed"
        what = (f"did not finish within {self.timeout:g} s (infinite loop?)" if timed_out
                else "made the kernel die (os._exit, a crash, or more memory than allowed)")
        if meta["kind"] == asg.ANSWER:
            self.skip.add(cell.id)
        self.outcomes[meta["exercise"]].fail(status, f"your code {what}", final=True)

    def _recover(self, index):
        """A fresh kernel with the notebook replayed up to ``index``; without answers if that fails."""
        for with_answers in (True, False):
            self.restarts += 1
            if self.restarts > 2 * len(self.outcomes) + 2:
                break
            try:
                self.kernel.restart()
                for cell in self.cells[:index]:
                    meta = asg.grading_metadata(cell)
                    answer = meta is not None and meta["kind"] == asg.ANSWER and cell.id not in self.skip
                    if meta is None or (with_answers and answer):
                        self.kernel.execute(cell.source, self.timeout)
                return True
            except KernelLost:
                continue
        for outcome in self.outcomes.values():
            if not outcome.decided:
                outcome.fail("crashed", "the kernel could not be restarted; this was not graded", final=True)
        return False


def grade_submission(template_path, submission_path, *, timeout=60.0, memory=2 * 2**30, seed=None,
                     hide=(), max_bytes=MAX_BYTES, problem=None, uid_base=kernels.UID_BASE, links=1):
    """Grade one submission; returns its record (plain data). Never raises for bad submissions.

    ``problem``: why the submission cannot be graded at all (a symbolic link...), found when the
    submissions folder was read. A cell of the template that fails in the kernel gets one retry in
    a fresh kernel; if it fails again the record says so (``regrade``) and nothing is blamed on the
    student.
    """
    started = time.monotonic()
    template = asg.load_assignment(template_path)
    seed = secrets.randbelow(2**31) if seed is None else seed
    record = {"file": names.student_id(str(submission_path)), "template_sha256": _sha256(template_path),
              "seed": seed, "sandbox": kernels.sandbox_available()}
    try:
        if problem:
            raise Unreadable(problem)
        data = read_student_file(submission_path, max_bytes, links)
        record["sha256"] = hashlib.sha256(data).hexdigest()
        spliced = splice(template, read_submission(data, max_bytes))
    except Exception as exc:  # Unreadable, or a malformed notebook nobody foresaw: a row, not a crash
        message = str(exc) if isinstance(exc, Unreadable) else f"not a readable notebook ({exc!r})"
        rows = [Outcome(ex.id, ex.points, status="unreadable", messages=[message]).row()
                for ex in template.exercises.values()]
        return dict(record, rows=rows, seconds=time.monotonic() - started)
    restarts, leftovers = 0, []
    for attempt in (1, 2):
        kernel = StudentKernel(Path(template_path).name, data, memory=memory, hide=hide, uid_base=uid_base)
        grader = NotebookGrader(template, copy.deepcopy(spliced), kernel, timeout, seed)
        try:
            kernel.start()
            rows = grader.run()
            break
        except InstructorCellFailed as failure:
            if attempt == 2:
                rows = grader.give_up(failure)
                record["regrade"] = str(failure)
        except KernelLost as exc:
            message = f"the kernel could not be started: {exc}"
            rows = [Outcome(ex.id, ex.points, status="crashed", messages=[message]).row()
                    for ex in template.exercises.values()]
            break
        finally:
            kernel.close()
            restarts += grader.restarts
            leftovers += kernel.leftovers
    return dict(record, rows=rows, restarts=restarts, attempts=attempt, leftovers=leftovers,
                seconds=time.monotonic() - started)


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- the batch ------------------------------------------------------------------------------------

JUNK = {".ipynb_checkpoints", ".DS_Store", "__MACOSX", "Thumbs.db", "desktop.ini", ".git"}  # not students
SYMLINK = "symbolic link: not graded"
HARD_LINK = "a hard link to a file outside the submissions folder: not graded"


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
        claims.setdefault(names.student_id(stem), []).append((entry.name + "/" * is_dir, found))
    result = {}
    for student, entries in claims.items():
        if len(entries) == 1:
            result[student] = entries[0][1]
            continue
        listing = ", ".join(names.student_id(name) for name, _ in entries)
        for name, found in entries:
            found.note = (f"ambiguous student id '{student}': {listing} all stand for it; each is graded "
                          "under its own name")
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
    files.sort()
    named = [p for p in files if p.name == notebook_name]
    notebooks = named or [p for p in files if p.suffix == ".ipynb"] or files
    return Found(notebooks[0]) if notebooks else Found(folder, "the submission folder holds no file")


def read_student_file(path, max_bytes=MAX_BYTES, links=1) -> bytes:
    """A submitted file's bytes, read as nobody's proxy: never through a symbolic link (O_NOFOLLOW),
    never a pipe or a device, never a file with more hard links than ``links`` (the ones found
    inside the submissions folder). Raises Unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise Unreadable(SYMLINK if exc.errno == errno.ELOOP else f"cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("not a regular file (a pipe, socket or device): not graded")
        if info.st_nlink > links:
            raise Unreadable(HARD_LINK)
        return f.read(max_bytes + 1)


def _hidden_paths(template: Path, submissions: Path, out: Path):
    """What student code must not see: templates, answer keys, the repository, other submissions.

    A folder that holds what the kernel needs (Python, course_lib) cannot be hidden and is skipped.
    """
    import course_lib

    needed = [Path(p) for p in kernels.installation()]
    repository = Path(course_lib.__file__).resolve().parents[1]
    template = template.resolve()
    paths = {template, template.parent, submissions.resolve(), out.resolve()}
    paths.update(folder / ".git" for folder in template.parents)
    if (repository / "pyproject.toml").exists():  # a checkout of the course: tests, answer keys, history
        paths.update(repository.iterdir())
    return sorted(str(p) for p in paths
                  if p.exists() and not any(n == p or p in n.parents for n in needed))


def _worker(job):
    """One submission in its own process (forked: the imports are already done)."""
    os.setsid()  # its own process group, so an overdue worker can be killed with everything it started
    try:
        record = grade_submission(job["template"], job["submission"], timeout=job["timeout"],
                                  memory=job["memory"], hide=job["hide"], max_bytes=job["max_bytes"],
                                  problem=job["problem"], uid_base=job["uid_base"], links=job["links"])
        if job["note"]:
            for row in record["rows"]:
                row["message"] = "\n".join(filter(None, [job["note"], row["message"]]))
        report.write_record(job["record"], dict(record, student=job["student"]))
    except BaseException:
        report.write_atomic(job["record"] + ".error", traceback.format_exc())
        raise


def _launch(job):
    methods = multiprocessing.get_all_start_methods()
    process = multiprocessing.get_context("fork" if "fork" in methods else "spawn").Process(
        target=_worker, args=(job,), daemon=False)
    process.start()
    return process


def run(args) -> int:
    from tqdm import tqdm

    template_path, folder, out = Path(args.template), Path(args.submissions), Path(args.out)
    if _is_released_exercise(template_path):
        print(f"error: template: {template_path} is the released exercise (its answers are the stubs "
              f"students start from); pass the solution notebook, e.g. solutions/{template_path.name}",
              file=sys.stderr)
        return 2
    try:
        template = asg.load_assignment(template_path)
    except asg.AuthoringError as exc:
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
    records_dir.mkdir(parents=True, exist_ok=True)
    report.write_atomic(out / names.OUTPUT_MARKER, "written by `python -m course_lib.grading grade`: this "
                        "folder is grader output, never graded as a student's submission\n")
    submissions = find_submissions(folder, template_path.name, exclude=[out, template_path])
    try:  # a bad CSV is refused before anything is graded
        manual = review.read_manual(args.manual or (), template, submissions)
    except review.ManualScoreError as exc:
        print(f"error: --manual {exc}", file=sys.stderr)
        return 2
    only = {s.strip() for s in (args.only or "").split(",") if s.strip()}
    if only - set(submissions):
        print(f"error: --only: no submission for {', '.join(sorted(only - set(submissions)))} in {folder}",
              file=sys.stderr)
        return 2
    template_sha = _sha256(template_path)
    hide = _hidden_paths(template_path, folder, out)
    pending, skipped = deque(), 0
    uid_base = getattr(args, "uid_base", None) or kernels.UID_BASE
    kernels.warm_up()
    for student, found in submissions.items():
        record_path = records_dir / f"{names.file_stem(student)}.json"
        record = report.load_record(record_path)
        if only and student not in only:  # not asked for: its record (if any) stays in the gradebook
            skipped += 1
            continue
        if (not args.force and not only and record and record.get("template_sha256") == template_sha
                and not found.problem and record.get("sha256") == _sha256_of_submission(found)):
            skipped += 1
            continue
        job = {"template": str(template_path.resolve()), "submission": os.path.abspath(found.path),
               "student": student, "record": str(record_path.absolute()), "timeout": args.timeout,
               "memory": int(args.memory * 2**20), "hide": hide, "max_bytes": int(args.max_size * 2**20),
               "problem": found.problem, "note": found.note, "uid_base": uid_base, "links": found.links}
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
                time.sleep(0.05)
        finally:  # interrupted: stop the workers; their submissions are graded on the next run
            for process, _, _ in running.values():
                if process.is_alive():
                    os.killpg(process.pid, signal.SIGKILL)
    results = report.load_results(template, records_dir, submissions, canvas_roster=args.canvas_roster,
                                  canvas_column=args.canvas_column)
    formats = args.formats or report.DEFAULT_FORMATS
    try:
        results = review.apply_manual(results, manual)
        report.write_reports(results, [*formats, *(["gradescope"] if args.gradescope else [])])
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
    off, mode = kernels.protections_off(), kernels.sandbox_mode()
    why = {"uid": "root, but namespaces are not permitted here", "off": "not run as root"}.get(mode)
    lines = [f"isolation: {mode} mode ({why}); protections OFF: {'; '.join(off)}" if off else
             f"isolation: on (namespaces, uids {uid_base}.., read-only mounts, capped tmpfs)"]
    records = [report.load_record(records_dir / f"{names.file_stem(student)}.json") or {}
               for student in submissions]
    if mode != "off":
        leftovers = [item for record in records for item in record.get("leftovers") or []]
        leftovers += kernels.unclaimed_leftovers(uid_base)
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
    import nbformat

    from course_lib.grading.release import stub

    try:
        cells = nbformat.read(path, as_version=4).cells
        regions = [(region.text.strip(), meta.get("hint")) for cell in cells
                   if (meta := asg.grading_metadata(cell)) and meta.get("kind") == asg.ANSWER
                   for region in asg.find_regions(cell.source)]
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
  Files are readable by the group (mode 0644) so they can be shared.

statuses (one per student and exercise):
  passed     every check passed          failed     a check's assertion failed (partial credit)
  error      the student's code raised   timeout    a cell ran longer than --timeout
  crashed    the kernel died             missing    no answer cell for the exercise
  tampered   solution markers edited     forbidden  the answer uses what the exercise forbids
  unreadable not a notebook of this assignment (empty, another file, too large)
  pending    a written answer not scored yet (no points, not zero): see `review` and --manual
  graded     a written answer scored by hand below full marks (full marks: passed)

resume: a re-run grades only new or changed submissions (and all of them if the template
changed); --force regrades everyone, --only ID[,ID...] regrades some. Ctrl-C stops at once and
loses nothing already graded.
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
                        help="an output to write (repeatable): csv, scores, feedback, summary, canvas, "
                             "gradescope; default: csv, scores, feedback and summary")
    parser.add_argument("--canvas-roster", metavar="CSV",
                        help="your Canvas gradebook export: maps student ids (SIS Login ID, SIS User ID, "
                             "ID or name) to Canvas rows for --format canvas")
    parser.add_argument("--canvas-column", metavar="NAME",
                        help="the Canvas assignment column, e.g. 'Homework 7 (123456)' (default: the roster "
                             "column named after the template, else the template's name)")
    parser.add_argument("--gradescope", action="store_true", help="same as --format gradescope (added)")
    parser.add_argument("--manual", action="append", metavar="CSV",
                        help="scores of written answers, filled in from `review` (repeatable): merged into "
                             "every output; answers without a score stay pending")
    parser.add_argument("--uid-base", type=int, metavar="UID",
                        help=f"as root: student kernels run as UID, UID+1, ... (one per running kernel; "
                             f"default {kernels.UID_BASE}); these uids must have no account and no processes")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.set_defaults(run=run)

