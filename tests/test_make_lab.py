"""The README's first command: `make lab` serves the whole repository (lecture notebooks and
homework) and opens the course map."""

from pathlib import Path

import pytest
from lab_kit import make_lab

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(),
                    reason="make lab reuses .venv, which `make test` creates; run the suite through make")
def test_make_lab_serves_the_course_map(tmp_path):
    with make_lab(ROOT, tmp_path, timeout=90) as get:
        # the root is the repository, not notebooks/: students reach their exercises too
        for path in ("notebooks/00_index.ipynb", "exercises/07_adam.ipynb"):
            with get(path) as response:
                assert response.status == 200
