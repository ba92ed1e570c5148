"""Session fixtures: one JupyterLab server, one chromium, a fresh page (and kernel) per test."""

from __future__ import annotations

import os
import secrets
import signal
import time

import pytest
from lab_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MARKER,
    marked_processes,
    require_chromium,
    start_lab,
    stop_lab,
)


@pytest.fixture(scope="session")
def run_id():
    """Marks this session's processes; torn down last, it kills and reports any left running."""
    run_id = secrets.token_hex(8)
    yield run_id
    deadline = time.monotonic() + 10  # kernels and chromium's helpers may still be exiting
    while (leftovers := marked_processes(run_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not leftovers, f"processes left running after the browser tests: {leftovers}"


@pytest.fixture(scope="session")
def lab(tmp_path_factory, run_id):
    require_chromium()
    server = None
    for _attempt in range(3):  # the free port may be taken between probing and binding
        try:
            server = start_lab(tmp_path_factory.mktemp("lab"), run_id)
            break
        except RuntimeError as error:
            last_error = error
    if server is None:
        raise last_error
    yield server
    stop_lab(server)


@pytest.fixture(scope="session")
def browser(lab, run_id):
    from playwright.sync_api import sync_playwright

    os.environ[MARKER] = run_id  # inherited by playwright's driver, and by chromium from the driver
    try:
        playwright = sync_playwright().start()
    finally:
        del os.environ[MARKER]  # processes other tests start are not ours to account for
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
    lab.shutdown_kernels()  # one notebook's kernel at a time on two shared cores
