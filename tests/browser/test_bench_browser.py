"""`make bench`'s browser section (benchmarks/browser.py) runs and measures: one explorer, one deck.

Speed itself is not asserted (that is the benchmark's report); these check that the measurement
gives a time for every key press on both the explorer and its interact version, and a time to the
first slide of a deck, so the section cannot quietly measure nothing. The session's JupyterLab and
chromium are used (playwright's sync API runs once per process).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from lab_harness import REPO

from benchmarks import browser as bench

pytestmark = pytest.mark.browser


def test_key_press_to_image_is_timed_on_the_explorer_and_its_interact_version(page, lab):
    [result] = bench.measure_notebook(page, lab, bench.FIXTURE, presses=2)
    assert result["slider"] == "frequency"
    for kind in ("explorer", "interact"):
        assert len(result[kind]) == 2, result
        for changed, shown in result[kind]:
            assert 0 < changed <= shown < bench.KEY_TIMEOUT_MS, result
    rows, verdicts = bench._explorer_rows([result])
    assert rows[0][0] == "explorer_fixture (frequency)" and len(verdicts) == 1


def test_time_to_first_slide_is_measured(browser, tmp_path):
    notebook = REPO / "notebooks" / "00_index.ipynb"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_slides.py"), str(notebook), "--out",
                    str(tmp_path)], check=True, capture_output=True, timeout=900)
    milliseconds = bench.first_slide_ms(browser, tmp_path / "00_index.slides.html")
    assert 0 < milliseconds < 120_000
