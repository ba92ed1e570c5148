"""A student's kernel as the grader sees it: run code, call the student's functions, notice death.

``StudentKernel`` starts ipykernel through ``sandbox.py`` (see there for what the sandbox hides),
talks to it with jupyter_client and polls the process every ``POLL`` seconds, so a kernel that dies
is noticed at once rather than at the timeout. Values come back only as ``wire`` data in the shell
reply to a request (the value of a user expression), tagged with a fresh random nonce per request.
IOPub is never subscribed: whatever the kernel prints, look-alike results or gigabytes of text,
never reaches the grader.
"""

from __future__ import annotations

import ast
import json
import os
import pwd
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from course_lib.grading import wire
from course_lib.grading.checks import StudentError

MAX_FILE = 64 * 2**20  # largest file the kernel may write (RLIMIT_FSIZE)
MAX_PROCESSES = 1024  # processes and threads of the student's user, all sandboxes together
POLL = 0.2  # seconds between liveness checks while waiting for the kernel
MAX_MESSAGE = 2 * wire.MAX_BYTES  # a reply larger than this (a hostile kernel) is dropped by zmq
ENV_ALLOWED = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS")

# Runs inside the student's kernel as a user expression with its own globals (_nonce, _path, _args),
# so it leaves no names behind; its value, a JSON string, comes back in the execute reply. It imports
# the check module as a check cell would under nbval, so sys.modules looks the same in both modes.
# The exception is dropped before encoding so a memory bomb's frames are freed first.
_REMOTE = """
import json
from IPython import get_ipython
from course_lib.grading import checks, wire
_error = _text = None
try:
    _ns = get_ipython().user_ns
    if _path[0] not in _ns:
        raise NameError(f"name {_path[0]!r} is not defined")
    _obj = _ns[_path[0]]
    for _attr in _path[1:]:
        _obj = getattr(_obj, _attr)
    if _args is not None:
        _a, _kw = wire.loads(_args)
        _obj = _obj(*_a, **_kw)
    _text, _obj = wire.dumps(_obj), None
except BaseException as _exc:
    _obj = _a = _kw = None
    _error = [type(_exc).__name__, str(_exc)[:2000]]
_result = json.dumps({"nonce": _nonce, "error": _error, "value": _text})
"""


class KernelLost(BaseException):
    """The kernel must be restarted. A BaseException, so that no ``except Exception`` in a check
    cell can swallow it."""


class KernelTimeout(KernelLost):
    """The kernel did not finish within the time allowed."""


class KernelDied(KernelLost):
    """The kernel process ended (crash, os._exit, memory limit)."""


def sandbox_available() -> bool:
    """Full isolation needs root (to switch user and mount) and util-linux's ``unshare``."""
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare") is not None


def _student_account():
    try:
        user = pwd.getpwnam("nobody")
        return user.pw_uid, user.pw_gid
    except KeyError:
        return 65534, 65534


def installation():
    """What the kernel needs to read: Python, the environment and the course_lib package."""
    import course_lib

    return [os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, Path(course_lib.__file__).parent)]


def _set_parent_death_signal():
    """Runs in the launched child: die with the grader instead of outliving it."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class StudentKernel:
    """One kernel for one submission. ``hide``: paths the student must not read (templates, submissions)."""

    def __init__(self, notebook_name: str, notebook_bytes: bytes, *, memory: int, hide=(),
                 tmp_size="256m", startup_timeout=60.0):
        self.notebook_name, self.notebook_bytes = notebook_name, notebook_bytes
        self.memory, self.hide, self.tmp_size = memory, [str(p) for p in hide], tmp_size
        self.startup_timeout = startup_timeout
        self.sandboxed = sandbox_available()
        self.proc = self.client = self._staging = None
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        # Unsent messages to a dead kernel are dropped: with zmq's default infinite linger, closing
        # (or garbage-collecting) this context would wait for that kernel forever.
        self.context.setsockopt(zmq.LINGER, 0)

    # -- life cycle -------------------------------------------------------------------------------
    def start(self, attempts=3):
        """Start the kernel. Its ports are picked free but bound only later by the kernel, so another
        process can take one in between; that start is retried with new ports, never blamed on the
        student."""
        for attempt in range(attempts):
            try:
                return self._launch()
            except KernelDied as exc:
                if "Address already in use" not in str(exc) or attempt == attempts - 1:
                    raise
                self.stop()

    def _launch(self):
        # Staging: root-only files the launcher reads before it covers /tmp.
        self._staging = Path(tempfile.mkdtemp())
        conn = self._staging / "connection.json"
        write_connection_file(str(conn), ip="127.0.0.1", key=secrets.token_hex(16).encode())
        (self._staging / "notebook").write_bytes(self.notebook_bytes)
        uid, gid = _student_account() if self.sandboxed else (-1, -1)
        scratch = self._staging / "scratch"
        scratch.mkdir()
        config = {
            "sandbox": self.sandboxed, "uid": uid, "gid": gid, "memory": int(self.memory),
            "hide": self.hide, "expose": installation(), "tmp_size": self.tmp_size, "python": sys.executable,
            "max_file": MAX_FILE, "max_processes": MAX_PROCESSES,
            "notebook": str(self._staging / "notebook"), "notebook_name": self.notebook_name,
            "connection": str(conn), "scratch": str(scratch),
            "env": {k: os.environ[k] for k in ENV_ALLOWED if k in os.environ},
        }
        (self._staging / "config.json").write_text(json.dumps(config))
        launcher = [sys.executable, "-I", str(Path(__file__).with_name("sandbox.py")),
                    str(self._staging / "config.json")]
        if self.sandboxed:
            launcher = ["unshare", "--mount", "--pid", "--fork", "--mount-proc", "--kill-child", *launcher]
        # stderr to a file (size-limited in the sandbox), not a pipe nobody reads, which would block
        # a kernel that writes a lot; its tail explains a failed start.
        with open(self._staging / "stderr", "wb") as stderr:
            self.proc = subprocess.Popen(launcher, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=stderr, start_new_session=True,
                                         preexec_fn=_set_parent_death_signal)
        self.client = BlockingKernelClient(connection_file=str(conn), context=self.context)
        self.client.load_connection_file()
        self.client.start_channels(iopub=False, stdin=False, hb=False)
        # Ready when it answers kernel_info; a launcher that failed is noticed at once.
        deadline = time.monotonic() + self.startup_timeout
        while True:
            msg_id = self.client.kernel_info()
            try:
                self._reply(msg_id, min(1.0, deadline - time.monotonic()))
                break
            except KernelTimeout:
                if time.monotonic() > deadline:
                    raise KernelTimeout("the kernel did not start in time") from None
            except KernelDied:
                err = (self._staging / "stderr").read_bytes()[-1500:].decode(errors="replace")
                raise KernelDied(f"the kernel did not start: {err.strip()}") from None
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Kill the kernel and everything it started (SIGKILL: student code gets no say)."""
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.proc is not None:
            for pid in self._children(self.proc.pid):  # the namespace's init: killing it ends the sandbox
                _kill(pid)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.stop()
        self.context.term()

    @staticmethod
    def _children(pid):
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    # -- running code -----------------------------------------------------------------------------
    def execute(self, code: str, timeout: float, expression=None):
        """Run code; returns (ename, evalue) of its error or None, and the text/plain value of
        ``expression`` evaluated afterwards (or None).

        Only the shell channel is read: printed output is never even received, so a student who
        prints gigabytes costs the grader nothing. Raises KernelTimeout or KernelDied (then the
        kernel must be restarted).
        """
        msg_id = self.client.execute(code, store_history=False, allow_stdin=False,
                                     user_expressions={"r": expression} if expression else None)
        reply = self._reply(msg_id, timeout)
        content = reply["content"]
        error = None
        if content.get("status") == "error":
            error = (content.get("ename", "Error"), content.get("evalue", ""))
        value = (content.get("user_expressions") or {}).get("r") or {}
        return error, value.get("data", {}).get("text/plain")

    def _reply(self, msg_id, timeout):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelTimeout(f"took longer than {timeout:g} s")
            try:
                reply = self.client.get_shell_msg(timeout=min(POLL, remaining))
            except queue.Empty:
                if not self.alive():
                    raise KernelDied("the kernel died") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def request(self, path, args=None, kwargs=None, timeout=30.0):
        """Read ``path`` (a name and attributes) in the kernel, calling it with args if given."""
        payload = None if args is None else wire.dumps((list(args), dict(kwargs or {})))
        nonce = secrets.token_hex(16)
        names = {"_nonce": nonce, "_path": list(path), "_args": payload}
        expression = f"(lambda g: exec({_REMOTE!r}, g) or g['_result'])({names!r})"
        _, text = self.execute("", timeout, expression)
        try:
            result = json.loads(ast.literal_eval(text))
            if result["nonce"] != nonce:
                raise ValueError("wrong nonce")
        except Exception:
            raise StudentError("GradingError", "the kernel returned no value (was it changed?)") from None
        if result["error"]:
            raise StudentError(*result["error"])
        return wire.loads(result["value"])


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
