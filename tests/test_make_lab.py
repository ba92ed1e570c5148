"""The README's first command: `make lab` serves the whole repository (lecture notebooks and
homework) and opens the course map."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(),
                    reason="make lab reuses .venv, which `make test` creates; run the suite through make")
def test_make_lab_serves_the_course_map(tmp_path):
    port, token = free_port(), "course-test-token"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 "
            f"--IdentityProvider.token={token}")
    lab = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        api = f"http://127.0.0.1:{port}/api/contents"
        deadline = time.monotonic() + 90
        while True:
            assert lab.poll() is None, f"make lab exited with {lab.returncode}"
            try:
                urllib.request.urlopen(f"{api}?token={token}&content=0", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
                time.sleep(0.5)
        # the root is the repository, not notebooks/: students reach their exercises too
        for path in ("notebooks/00_index.ipynb", "exercises/07_adam.ipynb"):
            with urllib.request.urlopen(f"{api}/{path}?token={token}&content=0", timeout=10) as response:
                assert response.status == 200
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
