"""Running a lecture does not dirty git: the set-up's nbstripout filter (.gitattributes, `make git-filter`)
and `make lab`'s post-save hook (course_lib.lab).

In a scratch clone, a notebook is executed and saved in place through Jupyter's own contents manager
with the hook `make lab` configures (outputs, execution counts, the kernel's language details, timing
metadata); with the filter installed `git status` stays clean, staging it adds nothing, and the
stored-notebook test still passes. Without the filter the same run shows up as a change and the
stored-notebook test fails once it is staged; an edit to a cell's source still shows.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from nbclient import NotebookClient
from notebook_kit import assert_stored_clean as stored_test

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/00_index.ipynb"  # the quickest lecture notebook to run

pytestmark = pytest.mark.slow


def git(clone, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=clone,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def clone(tmp_path):
    """A clone of HEAD with this working tree's set-up files (the code under test) committed on top."""
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    for name in (".gitattributes", "Makefile"):
        shutil.copy(REPO / name, clone / name)
    git(clone, "add", ".gitattributes", "Makefile")
    if git(clone, "status", "--porcelain"):
        git(clone, "commit", "--quiet", "-m", "set-up files under test")
    (clone / ".venv").symlink_to(sys.prefix)  # the set-up's environment running this test (nbstripout)
    with open(clone / ".git" / "info" / "exclude", "a") as exclude:
        exclude.write(".venv\n")  # .gitignore's ".venv/" matches the real folder, not a link
    return clone


def lab_post_save_hook():
    """The post-save hook `make lab` gives JupyterLab."""
    command = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True).stdout
    return re.search(r"--ContentsManager\.post_save_hook=(\S+)", command).group(1)


def run_and_save(clone, edit_source=False):
    """Execute a notebook and save it as JupyterLab does (its contents manager, with make lab's hook)."""
    notebook = nbformat.read(clone / NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(clone / "notebooks")}}).execute()
    if edit_source:
        notebook.cells[0].source += "\n\nA note of mine."
    contents = AsyncLargeFileManager(root_dir=str(clone), post_save_hook=lab_post_save_hook())
    asyncio.run(contents.save({"type": "notebook", "format": "json", "content": notebook}, NOTEBOOK))
    saved = nbformat.read(clone / NOTEBOOK, as_version=4)
    assert any(cell.get("outputs") for cell in saved.cells), "the run left no outputs to strip"
    assert "version" in saved.metadata.language_info


def test_a_run_lecture_leaves_git_clean_with_the_filter(clone):
    subprocess.run(["make", "-s", "git-filter"], cwd=clone, check=True, capture_output=True)
    run_and_save(clone)
    assert git(clone, "status", "--porcelain") == ""
    git(clone, "add", NOTEBOOK)
    assert git(clone, "diff", "--cached", "--stat") == ""
    stored_test(clone / NOTEBOOK)
    run_and_save(clone, edit_source=True)  # a reader's own edit is a change git must see
    assert git(clone, "status", "--porcelain").split() == ["M", NOTEBOOK]
    git(clone, "add", NOTEBOOK)
    assert "A note of mine." in git(clone, "diff", "--cached")
    stored_test(clone / NOTEBOOK)


def test_without_the_filter_a_run_shows_and_the_stored_test_fails(clone):
    run_and_save(clone)
    assert git(clone, "status", "--porcelain").split() == ["M", NOTEBOOK]
    git(clone, "add", NOTEBOOK)
    with pytest.raises(AssertionError, match="committed with outputs"):
        stored_test(clone / NOTEBOOK)
