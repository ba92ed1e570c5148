"""The student's kernel as the grader runs it: death noticed at once, timeouts, memory limit,
values back as data (proxies), and the sandbox (run as root, as in CI)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from course_lib.grading import checks
from course_lib.grading.grader import Remote
from course_lib.grading.kernel import (
    KernelDied,
    KernelTimeout,
    StudentKernel,
    installation,
    sandbox_available,
)


@pytest.fixture
def kernel(tmp_path):
    secret = tmp_path / "answer_key.ipynb"
    secret.write_text("### BEGIN HIDDEN TESTS")
    kernel = StudentKernel("07_adam.ipynb", b'{"cells": []}', memory=1024 * 2**20, hide=[str(tmp_path)])
    kernel.secret = secret
    kernel.start()
    yield kernel
    kernel.close()


def test_dead_kernel_is_noticed_within_seconds(kernel):
    started = time.monotonic()
    with pytest.raises(KernelDied):
        kernel.execute("import os; os._exit(3)", timeout=120)
    assert time.monotonic() - started < 5


def test_timeout_then_a_fresh_kernel(kernel):
    kernel.execute("remembered = 1", timeout=30)
    started = time.monotonic()
    with pytest.raises(KernelTimeout):
        kernel.execute("while True: pass", timeout=1.5)
    assert 1.5 <= time.monotonic() - started < 5
    kernel.restart()
    error, _ = kernel.execute("remembered", timeout=30)
    assert error[0] == "NameError"


def test_memory_limit(kernel):
    kernel.execute("def bomb():\n    return bytearray(2 * 2**30)", timeout=30)
    with pytest.raises(checks.StudentError) as info:
        Remote(kernel, ("bomb",), time.monotonic() + 30)()
    assert info.value.type_name == "MemoryError"
    assert kernel.alive()


def test_values_come_back_as_data(kernel):
    kernel.execute("import numpy as np\nvalue = {'a': [1, 2.5]}\n"
                   "def double(x, scale=2):\n    return np.asarray(x) * scale\n"
                   "def opaque():\n    return object()", timeout=30)
    deadline = time.monotonic() + 30
    assert checks.fetch(Remote(kernel, ("value",), deadline)) == {"a": [1, 2.5]}
    got = checks.call(Remote(kernel, ("double",), deadline), np.arange(3.0), scale=3)
    np.testing.assert_array_equal(got, [0.0, 3.0, 6.0])
    with pytest.raises(checks.StudentError, match="WireError"):
        Remote(kernel, ("opaque",), deadline)()
    with pytest.raises(checks.StudentError, match="NameError"):
        Remote(kernel, ("missing",), deadline)()


@pytest.mark.skipif(not sandbox_available(), reason="the sandbox needs root and unshare")
def test_sandbox_hides_everything_but_the_submission(kernel):
    kernel.execute("import os\n"
                   "def look(path):\n"
                   "    try:\n        return open(path).read()\n    except OSError as exc:\n"
                   "        return type(exc).__name__\n"
                   "def where():\n"
                   "    return {'cwd': os.listdir('.'), 'uid': os.getuid(), 'env': ' '.join(os.environ),\n"
                   "            'pids': [p for p in os.listdir('/proc') if p.isdigit()],\n"
                   "            'tmp': os.listdir('/tmp')}",
                   timeout=30)
    deadline = time.monotonic() + 30
    seen = Remote(kernel, ("where",), deadline)()
    assert seen["cwd"] == ["07_adam.ipynb"]
    assert seen["uid"] != 0 and seen["uid"] != os.getuid()
    assert "GRAD" not in seen["env"].upper()
    assert seen["pids"] == ["1"]  # its own PID namespace: no grader, no other student
    # A private /tmp: the working directory, HOME and the kernel's sockets, plus the installation
    # when it lives in /tmp (a CI clone), bound back at its own path.
    installed_in_tmp = {Path(p).relative_to("/tmp").parts[0] for p in installation() if p.startswith("/tmp/")}
    assert len(set(seen["tmp"]) - installed_in_tmp) == 3
    assert "HIDDEN" not in Remote(kernel, ("look",), deadline)(str(kernel.secret))
    assert "HIDDEN" not in Remote(kernel, ("look",), deadline)("/root/.bash_history")


def test_without_sandbox_the_kernel_still_gets_a_clean_directory_and_limits(monkeypatch):
    """The path taken when the grader is not root (a laptop): no namespaces, same protocol."""
    from course_lib.grading import kernel as kernels

    monkeypatch.setattr(kernels, "sandbox_mode", lambda: "off")
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
