"""Start `make lab` as a newcomer would and talk to its contents API (shared by the tests of the
course repository and of the student edition)."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def make_lab(folder, tmp_path, timeout=120, **env):
    """Run `make lab` in ``folder`` on a free port; yields ``get(path) -> response`` for the contents
    API (``path`` under the served root) once JupyterLab answers. Stops it, and all it started."""
    port, token = free_port(), "course-test-token"
    args = (f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 "
            f"--IdentityProvider.token={token}")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"), **env)
    lab = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=folder, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def get(path="", content=False):
        url = f"http://127.0.0.1:{port}/api/contents/{path}?token={token}&content={int(content)}"
        return urllib.request.urlopen(url, timeout=10)

    try:
        deadline = time.monotonic() + timeout
        while True:
            assert lab.poll() is None, f"make lab exited with {lab.returncode}"
            try:
                get().close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"JupyterLab did not answer within {timeout} s"
                time.sleep(0.5)
        yield get
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
