"""A student's kernel as the grader sees it: run code, call the student's functions, notice death.

``StudentKernel`` starts ipykernel through ``sandbox.py`` (see there for what the sandbox hides),
as a uid of its own (``UidClaim``: no two running kernels share one), talks to it with jupyter_client
over Unix sockets (the ``ipc`` transport) and polls the process every ``POLL`` seconds, so a kernel
that dies is noticed at once rather than at the timeout. Values come back only as ``wire`` data in the shell
reply to a request (the value of a user expression), tagged with a fresh random nonce per request.
IOPub is never subscribed: whatever the kernel prints, look-alike results or gigabytes of text,
never reaches the grader.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import pwd
import queue
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zmq
from jupyter_client import BlockingKernelClient

from course_lib.grading import sandbox, wire
from course_lib.grading.wire import StudentError

MAX_FILE = 64 * 2**20  # largest file the kernel may write (RLIMIT_FSIZE)
MAX_PROCESSES = 256  # processes and threads of one kernel's uid, i.e. of one submission (RLIMIT_NPROC)
UID_BASE = 2_000_000  # student kernels run as UID_BASE, UID_BASE + 1, ...: one uid per running kernel
UID_RANGE = 1024  # uids UID_BASE .. UID_BASE + UID_RANGE - 1 must have no passwd entry and no processes
POLL = 0.2  # seconds between liveness checks while waiting for the kernel
MAX_MESSAGE = 2 * wire.MAX_BYTES  # a reply larger than this (a hostile kernel) is dropped by zmq
CHANNELS = ("shell", "iopub", "stdin", "control", "hb")
NAMESPACES = ("--mount", "--pid", "--net", "--ipc", "--uts")
# What of course_lib.grading a student's kernel can read: the check module (a check cell imports it
# under nbval, and the grader's request code below imports it in the kernel) and what it imports. The
# rest of the package is the grader's, and some of it computes the answers (``references``): in the
# kernel's mount namespace the package folder holds these files alone (``sandbox._only``), and the
# Gradescope bundle makes the others unreadable for the student's uid (``gradescope.lock``).
KERNEL_MODULES = ("checks", "forbidden", "wire")
ENV_ALLOWED = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS")

# Runs inside the student's kernel as a user expression with its own globals (_nonce, _path, _args,
# _watch), so it leaves no names behind; its value, a JSON string, comes back in the execute reply. It
# imports the check module as a check cell would under nbval, so sys.modules looks the same in both
# modes. The exception is dropped before encoding so a memory bomb's frames are freed first.
#
# The runtime forbidden-use layer: while the student's function runs, a profile hook (sys.setprofile,
# and threading.setprofile for threads it starts) looks at every function entered: a Python function
# whose module (__name__ of its globals) or file belongs to a forbidden module, or a C function of a
# forbidden module, is a forbidden use. So is touching the hook (sys.setprofile/getprofile,
# threading.setprofile, gc object walks that would find it) or finding it replaced afterwards.
_REMOTE = """
import json, sys, threading
from IPython import get_ipython
from course_lib.grading import checks, wire
_error = _text = _forbidden = _after = None
_own = sys._getframe(0).f_code
_names, _files = tuple(_watch[0]), tuple(_watch[1])
_dotted = tuple(n + "." for n in _names)
import gc
_tamper = {id(f): f"{m.__name__}.{f.__name__}" for m, f in ((sys, sys.setprofile), (sys, sys.getprofile),
           (gc, gc.get_objects), (gc, gc.get_referrers), (gc, gc.get_referents))}
_seen = []
def _hook(frame, event, arg):
    if frame.f_code is _own or _seen:
        return
    if event == "call":
        name, file = frame.f_globals.get("__name__"), frame.f_code.co_filename
        if isinstance(name, str) and (name in _names or name.startswith(_dotted)):
            _seen.append(f"ran code of {name}")
        elif isinstance(file, str) and file.startswith(_files):
            _seen.append(f"ran code from {file}")
        elif frame.f_code in _guards:
            _seen.append("changed the grader's watch on running code")
    elif event == "c_call":
        name = getattr(arg, "__module__", None)
        if id(arg) in _tamper:
            _seen.append(f"called {_tamper[id(arg)]} while being graded")
        elif isinstance(name, str) and (name in _names or name.startswith(_dotted)):
            _seen.append(f"called {name}.{getattr(arg, '__name__', '?')}")
_guards = {threading.setprofile.__code__}
try:
    _ns = get_ipython().user_ns
    if _path[0] not in _ns:
        raise NameError(f"name {_path[0]!r} is not defined")
    _obj = _ns[_path[0]]
    for _attr in _path[1:]:
        _obj = getattr(_obj, _attr)
    if _args is not None:
        _a, _kw = wire.loads(_args)
        if _names or _files:
            threading.setprofile(_hook)
            sys.setprofile(_hook)
        try:
            _obj = _obj(*_a, **_kw)
        finally:
            if _names or _files:
                if sys.getprofile() is not _hook or threading._profile_hook is not _hook:
                    _seen.append("removed or replaced the grader's watch on running code")
                sys.setprofile(None)
                threading.setprofile(None)
        if _with_args:  # the arguments as the call left them (None: they hold something not data)
            try:
                _after = wire.dumps([_a, _kw])
            except Exception:
                _after = None
    _text, _obj = wire.dumps(_obj), None
except BaseException as _exc:
    _obj = _a = _kw = None
    _error = [type(_exc).__name__, str(_exc)[:2000]]
if _seen:
    _forbidden, _text = _seen[0], None
_result = json.dumps({"nonce": _nonce, "error": _error, "value": _text, "forbidden": _forbidden,
                      "args": _after})
"""


class KernelLost(BaseException):
    """The kernel must be restarted. A BaseException, so that no ``except Exception`` in a check
    cell can swallow it."""


class KernelTimeout(KernelLost):
    """The kernel did not finish within the time allowed."""


class KernelDied(KernelLost):
    """The kernel process ended (crash, os._exit, memory limit)."""


MODES = ("full", "uid", "off")
PROTECTIONS = {"namespaces": "own mount, process, network (loopback only), IPC and host-name namespaces",
               "uid": "a uid of its own per kernel (process limit per submission)",
               "files": "instructor files hidden, every other mount read-only",
               "tmpfs": "writable places fresh and capped in total (tmpfs)"}


@functools.cache
def sandbox_mode() -> str:
    """``full`` (root, and ``unshare`` with our namespaces works), ``uid`` (root without namespaces,
    as in a Docker container without CAP_SYS_ADMIN: the kernel still gets its own uid and limits) or
    ``off`` (not root: the kernel runs as the grader's user). ``COURSE_SANDBOX=<mode>`` forces one."""
    forced = os.environ.get("COURSE_SANDBOX", "").strip().lower()
    if forced in MODES:
        return forced
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        return "off"
    probe = ["unshare", *NAMESPACES, "--fork", "--mount-proc", "true"]
    try:
        works = bool(shutil.which("unshare")) and subprocess.run(probe, capture_output=True,
                                                                 timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        works = False
    return "full" if works else "uid"


def sandbox_available() -> bool:
    """Full isolation: root, util-linux's ``unshare`` and the kernel's permission to use namespaces."""
    return sandbox_mode() == "full"


def protections_off() -> list[str]:
    """The protections this grader cannot apply here (empty in ``full`` mode)."""
    on = {"full": set(PROTECTIONS), "uid": {"uid"}, "off": set()}[sandbox_mode()]
    return [text for key, text in PROTECTIONS.items() if key not in on]


def _claim_name(uid):
    return f"\0course-grader-uid-{uid}".encode()


def _uid_free(uid) -> bool:
    try:
        pwd.getpwuid(uid)
        return False
    except KeyError:
        return not processes_of({uid})


class UidClaim:
    """One uid from ``base`` upward, held for this process alone while it is in use.

    The claim is an abstract Unix socket bound to a name made from the uid (in the grader's network
    namespace): concurrent workers, and concurrent grading runs, never get the same uid, and a
    claim ends with the process that held it, leaving no file behind.
    """

    def __init__(self, base=UID_BASE):
        for uid in range(base, base + UID_RANGE):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(_claim_name(uid))
            except OSError:
                sock.close()
                continue
            if _uid_free(uid):
                self.uid, self._socket = uid, sock
                return
            sock.close()
        raise RuntimeError(f"no free student uid in {base}..{base + UID_RANGE - 1} "
                           "(each needs no passwd entry and no running process)")

    def release(self):
        self._socket.close()


def _unclaimed(base) -> set[int]:
    """The uids of the range that no kernel holds now."""
    free = set()
    for uid in range(base, base + UID_RANGE):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(_claim_name(uid))
            free.add(uid)
        except OSError:
            pass
        finally:
            sock.close()
    return free


def unclaimed_leftovers(base=UID_BASE) -> list[str]:
    """What student code left behind: processes, System V IPC objects and files owned by a uid of the
    range that no kernel holds now. Empty after a clean run."""
    # Claims are probed again on every look: a kernel another run starts meanwhile claims its uid
    # before it starts a process, so it is never taken for a leftover.
    deadline = time.monotonic() + 30  # a killed kernel's namespace takes a moment to go (longer under load)
    while (left := processes_of(free := _unclaimed(base))) and time.monotonic() < deadline:
        time.sleep(0.1)
    found = [f"process {pid} (uid {uid})" for pid, uid in left.items()]
    for kind in ("shm", "msg", "sem"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        column = lines[0].split().index("uid") if lines else 0
        found += [f"System V {kind} {line.split()[1]}" for line in lines[1:]
                  if int(line.split()[column]) in free]
    # A student's file can only be in a folder it could write to: world-writable ones (or its own).
    folders = sandbox.world_writable()
    while folders:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid in free:
                found.append(f"file {entry.path}")
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & 0o002:
                folders.append(entry.path)
    return found


def processes_of(uids) -> dict[int, int]:
    """pid -> real uid, for the processes (and threads' leaders) running as one of ``uids``."""
    found = {}
    if not uids:
        return found
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                uid = entry.stat(follow_symlinks=False).st_uid
            except OSError:
                continue
            if uid in uids:
                found[int(entry.name)] = uid
    return found


def installation():
    """What the kernel needs to read: Python, the environment and the course_lib package (of which
    ``course_lib/grading`` only ``KERNEL_MODULES``: ``grading_folder``)."""
    import course_lib

    return [os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, Path(course_lib.__file__).parent)]


def grading_folder() -> str:
    """Where ``course_lib.grading`` lives (the folder whose other modules the kernel must not read)."""
    return os.path.realpath(os.path.dirname(sandbox.__file__))


def kernel_files() -> list[str]:
    """File names in ``grading_folder`` the kernel may read (their compiled copies come along)."""
    return ["__init__.py", *(f"{name}.py" for name in KERNEL_MODULES)]


@functools.cache
def _world_writable():
    return sandbox.world_writable()


def warm_up():
    """Probe the sandbox mode and scan for world-writable folders once, in the grader's process
    before it forks its workers, instead of once per worker."""
    if sandbox_mode() == "full":
        _world_writable()


@functools.cache
def module_files(names) -> tuple[str, ...]:
    """Where the source of the modules ``names`` lives, found without importing them (only top-level
    packages are looked up), so the runtime layer can recognise their code however it is loaded."""
    files = []
    for name in names:
        top, *rest = name.split(".")
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin:
            continue
        if spec.submodule_search_locations:
            base = os.path.join(list(spec.submodule_search_locations)[0], *rest)
            files += [base + os.sep, base + ".py"] if rest else [base + os.sep]
        elif not rest:
            files.append(spec.origin)
    return tuple(os.path.realpath(f) + (os.sep if f.endswith(os.sep) else "") for f in files)


def _set_parent_death_signal():
    """Runs in the launched child: die with the grader instead of outliving it."""
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class StudentKernel:
    """One kernel for one submission. ``hide``: paths the student must not read (templates, submissions).

    ``watch``: the dotted module names whose code must not run while the student's function runs
    for a check (set by the grader per check cell; empty: no runtime watch). ``forbidden_seen``: the
    first forbidden use the runtime layer reported, or None.
    """

    def __init__(self, notebook_name: str, notebook_bytes: bytes, *, memory: int, hide=(),
                 tmp_size="256m", startup_timeout=60.0, uid_base=UID_BASE):
        self.notebook_name, self.notebook_bytes = notebook_name, notebook_bytes
        self.memory, self.hide, self.tmp_size = memory, [str(p) for p in hide], tmp_size
        self.startup_timeout = startup_timeout
        self.mode = sandbox_mode()
        self.sandboxed = self.mode == "full"
        self.claim = UidClaim(uid_base) if self.mode != "off" else None
        self.uid = self.claim.uid if self.claim else None
        self.watch, self.forbidden_seen, self.leftovers = (), None, []
        self.proc = self.client = self._staging = None
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        # Unsent messages to a dead kernel are dropped: with zmq's default infinite linger, closing
        # (or garbage-collecting) this context would wait for that kernel forever.
        self.context.setsockopt(zmq.LINGER, 0)

    # -- life cycle -------------------------------------------------------------------------------
    def start(self):
        """Start the kernel and wait until it answers."""
        # Staging: root-only files the launcher reads before it covers /tmp.
        self._staging = Path(tempfile.mkdtemp())
        names = {k: secrets.token_hex(8) for k in ("workdir", "home", "sockets", "connection")}
        key = secrets.token_hex(16)
        connection = {"transport": "ipc", "ip": "", "key": key, "signature_scheme": "hmac-sha256",
                      **{f"{channel}_port": n for n, channel in enumerate(CHANNELS, 1)}}
        (self._staging / "connection.json").write_text(json.dumps(connection))
        (self._staging / "notebook").write_bytes(self.notebook_bytes)
        scratch, stage = self._staging / "scratch", self._staging / "stage"
        scratch.mkdir()
        stage.mkdir()
        config = {
            "sandbox": self.sandboxed, "drop": self.uid is not None, "uid": self.uid or -1,
            "gid": self.uid or -1,
            "memory": int(self.memory),
            "hide": self.hide, "expose": installation(), "tmp_size": self.tmp_size, "python": sys.executable,
            "only": {"folder": grading_folder(), "files": kernel_files()},
            "writable": _world_writable() if self.sandboxed else [], "stage": str(stage),
            "max_file": MAX_FILE, "max_processes": MAX_PROCESSES, "names": names,
            "notebook": str(self._staging / "notebook"), "notebook_name": self.notebook_name,
            "connection": str(self._staging / "connection.json"), "scratch": str(scratch),
            "env": {k: os.environ[k] for k in ENV_ALLOWED if k in os.environ},
        }
        (self._staging / "config.json").write_text(json.dumps(config))
        for private in ("config.json", "connection.json", "notebook"):
            (self._staging / private).chmod(0o600)
        if self.uid is not None and not self.sandboxed:  # its own uid, no mounts: it must reach scratch
            self._staging.chmod(0o711)
            blocked = [p for p in installation() if sandbox.blocking_ancestor(p)]
            if blocked:
                raise KernelDied(f"the kernel cannot run as its own uid: {blocked[0]} is inside "
                                 f"{sandbox.blocking_ancestor(blocked[0])}, which others may not enter "
                                 "(install the course where everyone can read it, or run with namespaces)")
        launcher = [sys.executable, "-I", sandbox.__file__, str(self._staging / "config.json")]
        if self.sandboxed:
            launcher = ["unshare", *NAMESPACES, "--fork", "--mount-proc", "--kill-child", *launcher]
        # stderr to a file (size-limited in the sandbox), not a pipe nobody reads, which would block
        # a kernel that writes a lot; its tail explains a failed start.
        with open(self._staging / "stderr", "wb") as stderr:
            self.proc = subprocess.Popen(launcher, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=stderr, start_new_session=True,
                                         preexec_fn=_set_parent_death_signal)
        # The kernel's sockets are in its own /tmp, reached here through its launcher's root folder.
        root = f"/proc/{self.proc.pid}/root/tmp" if self.sandboxed else str(scratch)
        self.client = BlockingKernelClient(context=self.context)
        self.client.load_connection_info(dict(connection, ip=os.path.join(root, names["sockets"], "kernel")))
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

    def stop(self, wait=True):
        """Kill the kernel and everything it started (SIGKILL: student code gets no say).

        With ``wait``, also make sure nothing runs as its uid any more (what remains is killed and
        noted in ``leftovers``): a restarted kernel reuses the uid and its process limit. A dying
        namespace takes a second or so to go; a closed kernel's uid is not claimed again until it has
        (``UidClaim`` skips uids with processes), so ``close`` need not wait.
        """
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
        if self.uid is not None:
            deadline = time.monotonic() + (5 if wait else 0)
            while True:
                left = processes_of({self.uid})
                for pid in left:
                    _kill(pid)
                if not left or time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            if wait:
                self.leftovers += [f"process {pid} outlived its kernel" for pid in processes_of({self.uid})]
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def restart(self):
        self.stop()
        return self.start()

    def close(self, wait=False):
        self.stop(wait)
        self.context.term()
        if self.claim is not None:
            self.claim.release()
            self.claim = None

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
        # stop_on_error=False: after an error ipykernel otherwise aborts the requests that reach it
        # in the next moments, and a student's next answer cell would silently not run. A request
        # aborted all the same never ran, so it is sent again.
        deadline = time.monotonic() + timeout
        while True:
            msg_id = self.client.execute(code, store_history=False, allow_stdin=False, stop_on_error=False,
                                         user_expressions={"r": expression} if expression else None)
            content = self._reply(msg_id, deadline - time.monotonic(), timeout)["content"]
            if content.get("status") != "aborted":
                break
        error = None
        if content.get("status") == "error":
            error = (content.get("ename", "Error"), content.get("evalue", ""))
        value = (content.get("user_expressions") or {}).get("r") or {}
        return error, value.get("data", {}).get("text/plain")

    def _reply(self, msg_id, remaining, timeout=None):
        """The shell reply to ``msg_id`` within ``remaining`` seconds (``timeout``: the limit to name)."""
        timeout = remaining if timeout is None else timeout
        deadline = time.monotonic() + remaining
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

    def request(self, path, args=None, kwargs=None, timeout=30.0, with_arguments=False):
        """Read ``path`` (a name and attributes) in the kernel, calling it with args if given.

        ``with_arguments``: return ``(value, after)``, ``after`` being the ``[args, kwargs]`` as the
        call left them (None when they no longer hold plain data), so a check can see mutation.

        A call runs under the runtime forbidden-use watch when ``self.watch`` names modules; a use
        it sees raises ``StudentError("ForbiddenUse", ...)`` and is kept in ``forbidden_seen``.
        """
        payload = None if args is None else wire.dumps((list(args), dict(kwargs or {})))
        nonce = secrets.token_hex(16)
        watch = [list(self.watch), list(module_files(tuple(self.watch)))]
        names = {"_nonce": nonce, "_path": list(path), "_args": payload, "_watch": watch,
                 "_with_args": bool(with_arguments and args is not None)}
        expression = f"(lambda g: exec({_REMOTE!r}, g) or g['_result'])({names!r})"
        _, text = self.execute("", timeout, expression)
        try:
            result = json.loads(ast.literal_eval(text))
            if result["nonce"] != nonce:
                raise ValueError("wrong nonce")
        except Exception:
            raise StudentError("GradingError", "the kernel returned no value (was it changed?)") from None
        if result.get("forbidden"):
            self.forbidden_seen = self.forbidden_seen or result["forbidden"]
            raise StudentError("ForbiddenUse", result["forbidden"])
        if result["error"]:
            raise StudentError(*result["error"])
        value = wire.loads(result["value"])
        if with_arguments:
            return value, None if result["args"] is None else wire.loads(result["args"])
        return value


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
