"""Shared helpers for the homework tests: run nbval as a student would and read its per-cell verdicts."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
NOTEBOOKS = sorted(path.stem for path in SOLUTIONS.glob("*.ipynb"))
ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")  # junit XML spells ESC as "#x1B"


def code_cell_ids(path):
    """nbval numbers code cells 0, 1, ... ("Cell N"); the ids of those cells in that order."""
    return [cell.id for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def run_nbval(paths, tmp_path):
    """Run ``pytest --nbval-lax --nbval-current-env`` on notebooks in one subprocess.

    Returns {notebook stem: {cell id: (outcome, message)}} with outcome "passed" or "failed" and
    the failure text without colour codes. Asserts that every code cell was reported.
    """
    report = tmp_path / "nbval.xml"
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "--nbval-lax", "--nbval-current-env",
               f"--junitxml={report}", *map(str, paths)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert completed.returncode in (0, 1), completed.stdout[-3000:] + completed.stderr[-3000:]
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        stem = case.get("classname").rsplit(".", 1)[0].split(".", 1)[1]
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        outcome = "passed" if failure is None else "failed"
        message = "" if failure is None else ANSI.sub("", failure.text or failure.get("message", ""))
        results.setdefault(stem, {})[int(case.get("name").split()[-1])] = (outcome, message)
    by_id = {}
    for path in paths:
        ids = code_cell_ids(path)
        cells = results.get(path.stem, {})
        assert sorted(cells) == list(range(len(ids))), f"{path.name}: nbval reported cells {sorted(cells)}"
        by_id[path.stem] = {ids[index]: verdict for index, verdict in cells.items()}
    return by_id
