"""Helpers for tests about notebooks as git stores them (tests/test_lecture_notebooks.py,
tests/test_git_filter.py): shared here so no test module imports another."""

from __future__ import annotations

import subprocess

import nbformat


def committed(path):
    """The notebook as git stores it: the index (what is or will be committed), not the working copy
    (where JupyterLab saves a run's outputs; the nbstripout filter of .gitattributes strips them on
    the way in). Outside a git checkout, or for a file not yet added, the file itself."""
    stored = subprocess.run(["git", "show", f":./{path.name}"], cwd=path.parent, capture_output=True)
    if stored.returncode != 0:
        return nbformat.read(path, as_version=nbformat.NO_CONVERT)
    return nbformat.reads(stored.stdout.decode("utf-8"), as_version=nbformat.NO_CONVERT)


def assert_stored_clean(path):
    """The stored notebook is valid nbformat >= 4.5 with unique cell ids and no outputs or counts."""
    nb = committed(path)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) >= (4, 5), "cell ids need nbformat 4.5"
    ids = [cell.get("id") for cell in nb.cells]
    assert all(ids), "every cell needs an id"
    assert len(ids) == len(set(ids)), f"duplicate cell ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {cell.id} was committed with outputs"
            assert cell.execution_count is None, f"cell {cell.id} has an execution count"
