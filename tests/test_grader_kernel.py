"""The student's kernel as the grader runs it: death noticed at once, timeouts, memory limit,
values back as data (proxies), and the sandbox (run as root, as in CI)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading import checks, kernel
from course_lib.grading.grade import Remote
from course_lib.grading.kernel import (
    KernelDied,
    KernelTimeout,
    StudentKernel,
    installation,
    sandbox_available,
)


@pytest.fixture
def student_kernel(tmp_path):
    secret = tmp_path / "answer_key.ipynb"
    secret.write_text("### BEGIN HIDDEN TESTS")
    student_kernel = StudentKernel("07_adam.ipynb", b'{"cells": []}', memory=1024 * 2**20,
                                   hide=[str(tmp_path)])
    student_kernel.secret = secret
    student_kernel.start()
    yield student_kernel
    student_kernel.close()


def test_dead_kernel_is_noticed_within_seconds(student_kernel):
    started = time.monotonic()
    with pytest.raises(KernelDied):
        student_kernel.execute("import os; os._exit(3)", timeout=120)
    assert time.monotonic() - started < 5


def test_timeout_then_a_fresh_kernel(student_kernel):
    student_kernel.execute("remembered = 1", timeout=30)
    started = time.monotonic()
    with pytest.raises(KernelTimeout):
        student_kernel.execute("while True: pass", timeout=1.5)
    assert 1.5 <= time.monotonic() - started < 5
    student_kernel.restart()
    error, _ = student_kernel.execute("remembered", timeout=30)
    assert error[0] == "NameError"


def test_a_cell_right_after_an_error_still_runs(student_kernel):
    """ipykernel aborts the requests that arrive just after an error unless told not to; a student's
    next answer cell must never be skipped (it was, now and then, under load: a NameError later)."""
    for k in range(30):
        error, _ = student_kernel.execute("1 / 0", timeout=30)
        assert error[0] == "ZeroDivisionError"
        student_kernel.execute(f"defined_{k} = {k}", timeout=30)
        error, value = student_kernel.execute("", timeout=30, expression=f"defined_{k}")
        assert error is None and value == str(k), (k, error, value)


def test_memory_limit(student_kernel):
    student_kernel.execute("def bomb():\n    return bytearray(2 * 2**30)", timeout=30)
    with pytest.raises(checks.StudentError) as info:
        Remote(student_kernel, ("bomb",), time.monotonic() + 30)()
    assert info.value.type_name == "MemoryError"
    assert student_kernel.alive()


def test_values_come_back_as_data(student_kernel):
    student_kernel.execute("import numpy as np\nvalue = {'a': [1, 2.5]}\n"
                   "def double(x, scale=2):\n    return np.asarray(x) * scale\n"
                   "def opaque():\n    return object()", timeout=30)
    deadline = time.monotonic() + 30
    assert checks.fetch(Remote(student_kernel, ("value",), deadline)) == {"a": [1, 2.5]}
    got = checks.call(Remote(student_kernel, ("double",), deadline), np.arange(3.0), scale=3)
    np.testing.assert_array_equal(got, [0.0, 3.0, 6.0])
    with pytest.raises(checks.StudentError, match="WireError"):
        Remote(student_kernel, ("opaque",), deadline)()
    with pytest.raises(checks.StudentError, match="NameError"):
        Remote(student_kernel, ("missing",), deadline)()


@pytest.mark.skipif(not sandbox_available(), reason="the sandbox needs root and unshare")
def test_sandbox_hides_everything_but_the_submission(student_kernel):
    student_kernel.execute("import os\n"
                   "def look(path):\n"
                   "    try:\n        return open(path).read()\n    except OSError as exc:\n"
                   "        return type(exc).__name__\n"
                   "def where():\n"
                   "    return {'cwd': os.listdir('.'), 'uid': os.getuid(), 'env': ' '.join(os.environ),\n"
                   "            'pids': [p for p in os.listdir('/proc') if p.isdigit()],\n"
                   "            'tmp': os.listdir('/tmp')}",
                   timeout=30)
    deadline = time.monotonic() + 30
    seen = Remote(student_kernel, ("where",), deadline)()
    assert seen["cwd"] == ["07_adam.ipynb"]
    assert seen["uid"] != 0 and seen["uid"] != os.getuid()
    assert "GRAD" not in seen["env"].upper()
    assert seen["pids"] == ["1"]  # its own PID namespace: no grader, no other student
    # A private /tmp: the working directory, HOME and the kernel's sockets, plus the installation
    # when it lives in /tmp (a CI clone), bound back at its own path.
    installed_in_tmp = {Path(p).relative_to("/tmp").parts[0] for p in installation() if p.startswith("/tmp/")}
    assert len(set(seen["tmp"]) - installed_in_tmp) == 3
    assert "HIDDEN" not in Remote(student_kernel, ("look",), deadline)(str(student_kernel.secret))
    assert "HIDDEN" not in Remote(student_kernel, ("look",), deadline)("/root/.bash_history")


@pytest.mark.skipif(not sandbox_available(), reason="the sandbox needs root and unshare")
def test_no_other_copy_of_the_course_is_readable():
    """A second clone or a backup of the course elsewhere on the machine (beside this checkout, at
    the top of the file system) is hidden like the grading checkout, not only the checkout itself."""
    import course_lib

    repository = Path(course_lib.__file__).resolve().parents[1]
    decoys = [repository.parent / f"backup-of-the-course-{os.getpid()}",
              Path("/") / f"course-copy-{os.getpid()}"]
    started = StudentKernel("hw.ipynb", b"{}", memory=1024 * 2**20)
    try:
        for decoy in decoys:
            (decoy / "grading").mkdir(parents=True)
            (decoy / "grading" / "references.py").write_text("ANSWER KEY")
            decoy.chmod(0o755)
        started.start()
        started.execute("import os\ndef look(path):\n    try:\n        return open(path).read()\n"
                        "    except OSError as exc:\n        return type(exc).__name__\n", timeout=30)
        for decoy in decoys:
            seen = Remote(started, ("look",), time.monotonic() + 30)(str(decoy / "grading" / "references.py"))
            assert seen == "FileNotFoundError", (decoy, seen)
    finally:
        started.close()
        for decoy in decoys:
            shutil.rmtree(decoy, ignore_errors=True)


def test_without_sandbox_the_kernel_still_gets_a_clean_directory_and_limits(monkeypatch):
    """The path taken when the grader is not root (a laptop): no namespaces, same protocol."""
    monkeypatch.setattr(kernel, "sandbox_mode", lambda: "off")
    plain = StudentKernel("hw.ipynb", b"{}", memory=1024 * 2**20).start()
    try:
        assert not plain.sandboxed
        plain.execute("import os\ndef where():\n    return os.listdir('.')\n"
                      "def bomb():\n    return bytearray(2 * 2**30)", timeout=30)
        deadline = time.monotonic() + 30
        assert Remote(plain, ("where",), deadline)() == ["hw.ipynb"]
        with pytest.raises(checks.StudentError, match="MemoryError"):
            Remote(plain, ("bomb",), deadline)()
        with pytest.raises(KernelDied):
            plain.execute("import os; os._exit(0)", timeout=60)
    finally:
        plain.close()


ROOT_ONLY = pytest.mark.skipif(not sandbox_available(), reason="the sandbox needs root, unshare and "
                               "permission to create namespaces (CI runs as root)")

# What a hostile student would run in their kernel (here without the static scan in the way, to
# test the sandbox itself).
HOSTILE = r'''
import os, socket, threading, glob
def network():
    """Interfaces, and whether anything outside answers."""
    reached = []
    for host, port in [("127.0.0.1", 22), ("10.0.0.1", 80), ("8.8.8.8", 53), ("pypi.org", 443)]:
        try:
            socket.create_connection((host, port), timeout=1).close()
            reached.append(host)
        except OSError:
            pass
    return {"interfaces": [name for _, name in socket.if_nameindex()], "reached": reached}
def unix_sockets():
    """Every Unix socket this kernel can see or guess, and which of them it can connect to."""
    with open("/proc/net/unix") as f:
        paths = [line.split()[-1] for line in f.read().splitlines()[1:] if len(line.split()) > 7]
    guesses = glob.glob("/tmp/*/kernel-*") + glob.glob("/proc/*/root/tmp/*/kernel-*")
    connected = []
    for path in set(paths + guesses):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path.lstrip("@"))
            connected.append(os.path.realpath(path.lstrip("@")))
        except OSError:
            pass
        finally:
            s.close()
    return {"seen": paths, "connected": connected, "uid": os.getuid(), "host": socket.gethostname(),
            "own": sorted(glob.glob("/tmp/*/kernel-*"))}
def threads(n):
    threading.stack_size(256 * 1024)  # small stacks: the process limit, not memory, stops it
    started = 0
    try:
        for _ in range(n):
            threading.Thread(target=threading.Event().wait, daemon=True).start()
            started += 1
    except RuntimeError:
        pass
    return started
def write_everywhere(places, chunk, files=100000):
    """Fill every place with files of `chunk` bytes; bytes written per place."""
    written = {}
    for place in places:
        written[place] = 0
        for i in range(files):
            try:
                with open(os.path.join(place, f"grader-test-fill{i}"), "wb") as f:
                    f.write(b"x" * chunk)
                written[place] += chunk
            except OSError:
                break
    return written
def sysv_shm():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.shmget(0x5EED, 4096, 0o1666)  # IPC_CREAT | 0666: outlives its process unless removed
'''


def _pair():
    """Two kernels running at once, as two workers run them."""
    pair = [StudentKernel("hw.ipynb", b"{}", memory=8 * 2**30) for _ in range(2)]
    for started in pair:
        started.start()
        started.execute(HOSTILE, timeout=60)
    return pair


def _call(student_kernel, name, *args, timeout=120):
    return Remote(student_kernel, (name,), time.monotonic() + timeout)(*args)


@ROOT_ONLY
def test_kernels_have_no_network_and_cannot_reach_each_other():
    first, second = _pair()
    try:
        assert _call(first, "network") == {"interfaces": ["lo"], "reached": []}
        seen, other = _call(first, "unix_sockets"), _call(second, "unix_sockets")
        assert set(seen["connected"]) <= set(seen["own"]), seen  # only its own sockets
        assert not set(other["own"]) & set(seen["seen"] + seen["connected"])
        assert seen["uid"] != other["uid"] and min(seen["uid"], other["uid"]) >= kernel.UID_BASE
        assert seen["host"] == "localhost"
    finally:
        first.close()
        second.close()


@ROOT_ONLY
def test_a_thread_bomb_starves_only_its_own_kernel():
    first, second = _pair()
    try:
        # Its own uid hits RLIMIT_NPROC (the kernel's few processes and threads count too).
        assert kernel.MAX_PROCESSES - 40 < _call(first, "threads", 5000) < kernel.MAX_PROCESSES
        assert _call(second, "threads", 200) == 200  # the classmate's kernel is untouched
    finally:
        first.close(wait=True)
        second.close(wait=True)
    # Checked while the uid was still claimed (afterwards another grading run may use it).
    assert first.leftovers == [] and second.leftovers == [], "threads outlived the kernel"


@ROOT_ONLY
def test_writable_places_are_fresh_capped_and_gone_afterwards():
    from course_lib.grading import sandbox

    student_kernel = StudentKernel("hw.ipynb", b"{}", memory=1024 * 2**20, tmp_size="64m").start()
    places = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", ".", "/var/cache", "/etc", "/usr",
              "/root", "/home", "/opt"]
    try:
        student_kernel.execute(HOSTILE, timeout=60)
        written = _call(student_kernel, "write_everywhere", places, 2**20)
        # One tmpfs for all the writable places: 64 MB in total, not 64 MB each.
        assert 32 * 2**20 <= sum(written.values()) <= 64 * 2**20, written
        assert all(written[p] == 0 for p in places[6:]), written  # everything else is read-only
        student_kernel.restart()
        student_kernel.execute(HOSTILE, timeout=60)
        many = _call(student_kernel, "write_everywhere", ["/run/lock"], 1, 30000)
        assert many["/run/lock"] < 25000  # many small files: the number of files is capped too
        assert _call(student_kernel, "sysv_shm") >= 0  # a System V segment, in its own IPC namespace
        host_shm = Path("/proc/sysvipc/shm").read_text().splitlines()
        assert not [line for line in host_shm[1:] if str(student_kernel.uid) in line.split()], host_shm
    finally:
        student_kernel.close(wait=True)
    # os.walk, not rglob: other tests' temporary folders come and go in /tmp during the walk
    leftovers = [os.path.join(folder, name) for place in sandbox.world_writable()
                 for folder, dirs, files in os.walk(place) for name in dirs + files
                 if name.startswith("grader-test-fill")]
    assert not leftovers, leftovers[:5]
    assert student_kernel.leftovers == []
    assert kernel.unclaimed_leftovers() == []


def test_the_runtime_watch_sees_forbidden_code_and_tampering(student_kernel):
    """Code of a forbidden module reached by a route the static scan does not know, and a student
    who unties the watch, are both caught while the function runs; without a watch all runs."""
    student_kernel.execute("import logging.config, threading\n"
                   "import numpy as np\n"
                   "def sneaky(x):\n"
                   "    step = logging.config._resolve('.'.join(['course_lib', 'optim', 'sgd_step']))\n"
                   "    return step(x, x, {}, learning_rate=0.5)[0]\n"
                   "def untie(x):\n"
                   "    threading._sys.setprofile(None)\n"
                   "    return x\n"
                   "def honest(x):\n"
                   "    return np.sqrt(x) * 2\n", timeout=60)
    student_kernel.watch = ("course_lib.optim",)
    assert _call(student_kernel, "honest", 4.0) == 4.0
    with pytest.raises(checks.StudentError, match="ForbiddenUse.*course_lib.optim"):
        _call(student_kernel, "sneaky", np.ones(2))
    assert student_kernel.forbidden_seen
    with pytest.raises(checks.StudentError, match="ForbiddenUse.*setprofile"):
        _call(student_kernel, "untie", 1.0)
    student_kernel.watch = ()
    np.testing.assert_allclose(_call(student_kernel, "sneaky", np.ones(2)), 0.5 * np.ones(2))


@pytest.mark.parametrize("mode", ["off", "uid"])
def test_the_summary_names_every_protection_that_is_off(tmp_path, monkeypatch, mode):
    from course_lib.grading import batch

    kernel.sandbox_mode.cache_clear()
    monkeypatch.setenv("COURSE_SANDBOX", mode)
    try:
        assert kernel.sandbox_mode() == mode and not kernel.sandbox_available()
        lines = batch._isolation_report(tmp_path, {}, kernel.UID_BASE)
    finally:
        kernel.sandbox_mode.cache_clear()
    off = {"off": set(kernel.PROTECTIONS), "uid": set(kernel.PROTECTIONS) - {"uid"}}[mode]
    assert lines[0].startswith(f"isolation: {mode} mode")
    assert all(kernel.PROTECTIONS[key] in lines[0] for key in off)
    assert all(kernel.PROTECTIONS[key] not in lines[0] for key in set(kernel.PROTECTIONS) - off)
    assert lines[-1] == "to regrade (the grader failed, not the student): none"
