"""A real JupyterLab in a real browser: the harness behind tests/browser (fixtures in conftest.py).

One JupyterLab server per test session, started on 127.0.0.1 with a random port and token, serving a
temporary copy of the course (notebooks/, exercises/, course_lib/ and the fixture notebook) with its
own settings, workspaces, config and data directories, so nothing a developer configured leaks in and
nothing the tests do leaks out. The browser is Debian's chromium driven by playwright; playwright's
own browser download is never used (it fetches a browser from a CDN this machine cannot reach).

Every process the session starts carries a marker in its environment; teardown stops the server's
process group and then kills and reports anything still carrying the marker (kernels run in their
own sessions, chromium under playwright's driver).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "build" / "screenshots"
MARKER = "COURSE_BROWSER_TEST_RUN"
# Generous: two shared cores, and a lecture notebook may take ~30 s on its own.
SERVER_START_SECONDS = 120
RUN_ALL_SECONDS = 300


def require_chromium():
    """Skip (locally) or fail (CI, COURSE_REQUIRE_BROWSER=1) when Debian's chromium is missing."""
    if CHROMIUM.exists():
        return
    reason = f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; COURSE_REQUIRE_BROWSER=1 makes a missing browser a failure")
    pytest.skip(reason)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def marked_processes(run_id):
    """PIDs of live processes whose environment carries this session's marker."""
    needle = f"{MARKER}={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:  # exited meanwhile, or not ours to read
            continue
    return found


def copy_course(root):
    """The parts of the repository a student opens, copied with relative symlinks kept as links."""
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for name in ("course_lib", "notebooks", "exercises"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name, symlinks=True, ignore=ignore)
    (root / "fixtures").mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "explorer_fixture.ipynb", root / "fixtures")


def write_settings(settings_dir):
    """No news popup; every cell rendered (no windowing), so off-screen explorers exist in the DOM."""
    for plugin, values in {
        "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        package, name = plugin.rsplit("/", 1)
        path = settings_dir / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


class LabServer:
    def __init__(self, base, token, root, process, run_id):
        self.base, self.token, self.root, self.process, self.run_id = base, token, root, process, run_id

    def url(self, notebook):
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self):
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")


def start_lab(tmp, run_id):
    root, home = tmp / "root", tmp / "home"
    root.mkdir()
    copy_course(root)
    write_settings(home / "settings")
    token, port = secrets.token_hex(16), free_port()
    env = dict(os.environ, **{
        MARKER: run_id,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "MPLBACKEND": "Agg",
    })
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={home / 'settings'}",
               f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    log = open(tmp / "jupyterlab.log", "wb")  # noqa: SIM115 (closed by the fixture)
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, run_id)
    server.log = log
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            server.api("status")
            return server
        except OSError:
            time.sleep(0.5)
    stop_lab(server)
    raise RuntimeError(f"JupyterLab did not start; log:\n{(tmp / 'jupyterlab.log').read_text()[-3000:]}")


def stop_lab(server):
    if server.process.poll() is None:
        try:
            server.shutdown_kernels()
        except OSError:
            pass
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    server.log.close()


# What a student does in the page, shared by the browser tests.
# Explorer.widget() is VBox[HBox(sliders), HTML readout, HTML alt text (off-screen), Image].
EXPLORER = ".widget-vbox:has(> .widget-hbox .widget-slider):has(> .widget-html):has(> img.widget-image)"


def open_notebook(page, lab, notebook):
    page.goto(lab.url(notebook))
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    # A notebook without a usable kernelspec asks which kernel to start; the default is right.
    try:
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=3_000)
    except PlaywrightTimeout:  # no dialog: the notebook's kernelspec was found
        pass
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")


def run_all(page):
    """Run all cells from the Run menu and wait until every code cell ran or one raised."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .map(p => p.innerText.trim());
            if (prompts.some(p => p.includes('*'))) return false;
            const errors = [...document.querySelectorAll('.jp-OutputArea-output')]
                .some(o => o.innerText.includes('Traceback (most recent call last)'));
            return errors || prompts.every(p => /^\\[\\d+\\]:$/.test(p));
        }""",
        timeout=RUN_ALL_SECONDS * 1000, polling=500)


def snapshot(explorer):
    return {"readout": explorer.locator(":scope > .widget-html").first.inner_text().strip(),
            "src": explorer.locator(":scope > img.widget-image").get_attribute("src")}


def wait_for_change(explorer, before, keys, timeout=60):
    """Poll until every key in ``keys`` differs from ``before``; returns the last snapshot."""
    deadline = time.monotonic() + timeout
    while True:
        now = snapshot(explorer)
        if all(now[k] != before[k] for k in keys) or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def nudge(handle):
    """Move a slider one step with the keyboard, away from whichever end it sits at."""
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    handle.focus()
    handle.press("ArrowLeft" if at_max else "ArrowRight")
