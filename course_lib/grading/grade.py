"""Grade one submission: ``grade_submission(template, submission) -> record`` (plain data).

Only the answer regions of a submission are used, spliced into the pristine template
(``splice.py``). Instructor and answer cells run in the student's sandboxed kernel (``kernel.py``);
check cells run here, with every name they do not define resolved to a proxy (``Remote``) of the
student's object in the kernel, so the comparison with the reference never happens where student
code runs. A kernel that hangs or dies costs only the exercise that was running: the kernel is
restarted, the notebook replayed without the offending answer, and grading goes on. Every
submission ends with one row per exercise whatever happened. ``batch.py`` grades a class with this.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import errno
import hashlib
import io
import os
import secrets
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grading import checks, names, wire
from course_lib.grading.assignment import ANSWER, CHECK, Assignment, grading_metadata, load_assignment
from course_lib.grading.forbidden import ALWAYS_FORBIDDEN
from course_lib.grading.kernel import (
    UID_BASE,
    KernelLost,
    KernelTimeout,
    StudentKernel,
    installation,
    sandbox_available,
)
from course_lib.grading.markers import BEGIN_HIDDEN, END_HIDDEN, find_regions
from course_lib.grading.splice import MAX_BYTES, Unreadable, read_submission, splice

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

    def __init__(self, template: Assignment, spliced, kernel: StudentKernel, timeout: float, seed: int):
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

    def grade(self):
        """Rows for every exercise. Raises InstructorCellFailed when a cell of the template fails."""
        index = 0
        while index < len(self.cells):
            cell = self.cells[index]
            try:
                self._run_cell(cell)
            except KernelLost as exc:
                if grading_metadata(cell) is None:
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
        later = {m["exercise"] for m in map(grading_metadata, self.cells[index:]) if m}
        for exercise_id, outcome in self.outcomes.items():
            if exercise_id in later and not outcome.decided:
                outcome.fail("crashed", f"instructor cell '{failure.cell_id}' failed: {failure.reason}; "
                                        "this is not your fault and was not graded (listed for regrading)",
                             final=True)
        return [outcome.row() for outcome in self.outcomes.values()]

    def _run_cell(self, cell):
        meta = grading_metadata(cell)
        if meta is None:  # instructor material: it must run (a cell tagged raises-exception may raise)
            error, _ = self.kernel.execute(cell.source, self.timeout)
            if error and "raises-exception" not in cell.metadata.get("tags", []):
                raise InstructorCellFailed(cell.id, f"{error[0]}: {error[1]}"[:500])
            return
        outcome = self.outcomes[meta["exercise"]]
        if meta["kind"] == ANSWER:
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
        hidden = find_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
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
        meta = grading_metadata(cell)
        timed_out = isinstance(exc, KernelTimeout)
        status = "timeout" if timed_out else "crashed"
        what = (f"did not finish within {self.timeout:g} s (infinite loop?)" if timed_out
                else "made the kernel die (os._exit, a crash, or more memory than allowed)")
        if meta["kind"] == ANSWER:
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
                    meta = grading_metadata(cell)
                    answer = meta is not None and meta["kind"] == ANSWER and cell.id not in self.skip
                    if meta is None or (with_answers and answer):
                        self.kernel.execute(cell.source, self.timeout)
                return True
            except KernelLost:
                continue
        for outcome in self.outcomes.values():
            if not outcome.decided:
                outcome.fail("crashed", "the kernel could not be restarted; this was not graded", final=True)
        return False


def preload_check_imports(template: Assignment):
    """Import, in this process, the modules the template's check cells import (instructor code).

    ``batch`` calls it before it forks a worker per submission, so each worker starts with them
    imported: otherwise every submission pays for the first import again (``references`` pulls in
    scipy.optimize, 0.3 s, as long as the rest of a short homework's grading)."""
    import importlib

    for cell in template.notebook.cells:
        if (grading_metadata(cell) or {}).get("kind") != CHECK:
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for module in modules:
                with contextlib.suppress(ImportError):  # ``from m import name``: name is not a module
                    importlib.import_module(module)


def grade_submission(template_path, submission_path, *, timeout=60.0, memory=2 * 2**30, seed=None,
                     hide=(), max_bytes=MAX_BYTES, problem=None, uid_base=UID_BASE, links=1):
    """Grade one submission; returns its record (plain data). Never raises for bad submissions.

    ``problem``: why the submission cannot be graded at all (a symbolic link...), found when the
    submissions folder was read. A cell of the template that fails in the kernel gets one retry in
    a fresh kernel; if it fails again the record says so (``regrade``) and nothing is blamed on the
    student.
    """
    started = time.monotonic()
    template = load_assignment(template_path)
    seed = secrets.randbelow(2**31) if seed is None else seed
    record = {"file": names.student_id(str(submission_path)), "template_sha256": file_sha256(template_path),
              "seed": seed, "sandbox": sandbox_available()}
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
            rows = grader.grade()
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


def file_sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def pick_submission(files, notebook_name):
    """The file to grade among a student's ``files`` (sorted): the one named like the assignment,
    else the first notebook, else the first file; and the other notebooks, which could have been
    it: the grader names them so that a person checks the choice (other files, a PDF say, are not)."""
    named = [p for p in files if Path(p).name == notebook_name]
    notebooks = [p for p in files if Path(p).suffix == ".ipynb"]
    chosen = (named or notebooks or files or [None])[0]
    return chosen, [p for p in notebooks if p != chosen]


def several_files_note(chosen, others, root) -> str:
    """What the rows and the summary say when a student handed in several notebooks."""
    def shown(path):
        return names.student_id(str(Path(path).relative_to(root)))

    return (f"{len(others) + 1} notebooks handed in: graded {shown(chosen)}; not graded: "
            f"{', '.join(map(shown, others))}. If another one is meant, keep only it and grade again")


SYMLINK = "symbolic link: not graded"
HARD_LINK = "a hard link to a file outside the submissions folder: not graded"


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


def hidden_paths(template: Path, submissions: Path, out: Path):
    """What student code must not see: templates, answer keys, the repository, other submissions.

    A folder that holds what the kernel needs (Python, course_lib) cannot be hidden and is skipped.
    """
    import course_lib

    needed = [Path(p) for p in installation()]
    repository = Path(course_lib.__file__).resolve().parents[1]
    template = template.resolve()
    paths = {template, template.parent, submissions.resolve(), out.resolve()}
    paths.update(folder / ".git" for folder in template.parents)
    if (repository / "pyproject.toml").exists():  # a checkout of the course: tests, answer keys, history
        paths.update(repository.iterdir())
    return sorted(str(p) for p in paths
                  if p.exists() and not any(n == p or p in n.parents for n in needed))
