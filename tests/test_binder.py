"""Notebooks work in a clone where course_lib is NOT installed (a JupyterHub fed by nbgitpuller).

nbgitpuller only copies the repository; nobody runs ``pip install -e .``. The committed relative
symlinks ``notebooks/course_lib``, ``solutions/course_lib`` and ``exercises/course_lib`` point at the
package, and a kernel's working directory (the notebook's folder) is on its ``sys.path``.

The proof runs the course map in a copy of the repository with a kernel that sees the virtualenv's
third-party packages but not its editable install: ``python -S`` skips the ``site`` module, so the
``.pth`` hook of the editable install never runs, and ``PYTHONPATH`` adds site-packages back without
processing ``.pth`` files. A control checks that this kernel setup really cannot import course_lib
from elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
SITE_PACKAGES = sysconfig.get_paths()["purelib"]
WITHOUT_INSTALL = {"PYTHONPATH": SITE_PACKAGES, "PYTHONNOUSERSITE": "1"}


@pytest.mark.parametrize("folder", ["notebooks", "solutions", "exercises"])
def test_course_lib_is_linked_from_each_notebook_folder(folder):
    link = REPO / folder / "course_lib"
    assert link.is_symlink() and os.readlink(link) == "../course_lib"
    assert (link / "__init__.py").resolve() == (REPO / "course_lib" / "__init__.py").resolve()


def test_control_without_install_course_lib_is_not_importable(tmp_path):
    result = subprocess.run([sys.executable, "-S", "-c", "import numpy, ipykernel, course_lib"], cwd=tmp_path,
                            env=dict(os.environ, **WITHOUT_INSTALL), capture_output=True, text=True)
    assert result.returncode == 1
    assert "No module named 'course_lib'" in result.stderr


@pytest.mark.slow
def test_index_notebook_runs_in_a_clone_without_install(tmp_path):
    clone = tmp_path / "clone"
    for name in ("course_lib", "notebooks"):
        shutil.copytree(REPO / name, clone / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    kernels = tmp_path / "kernels"
    (kernels / "no-install").mkdir(parents=True)
    (kernels / "no-install" / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-S", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "env": {**WITHOUT_INSTALL, "MPLBACKEND": "Agg"},
        "display_name": "course without install", "language": "python"}))

    notebook = nbformat.read(clone / "notebooks" / "00_index.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import sys, course_lib\nprint(course_lib.__file__)\nprint(sys.flags.no_site)", id="where-from"))
    manager = KernelManager(kernel_name="no-install",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    try:
        NotebookClient(notebook, km=manager, timeout=120,
                       resources={"metadata": {"path": str(clone / "notebooks")}}).execute()
    finally:  # nbclient leaves a kernel it was handed running
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)

    where, no_site = notebook.cells[-1].outputs[0]["text"].split()
    assert no_site == "1"
    assert Path(where) == clone / "notebooks" / "course_lib" / "__init__.py"


def test_readme_launch_links_open_the_course_map():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    binder = urlparse(re.search(r"https://mybinder\.org/v2/gh/[^)\s]+", readme).group(0))
    owner, name = binder.path.split("/")[3:5]
    assert (REPO / parse_qs(binder.query)["urlpath"][0].removeprefix("lab/tree/")).is_file()

    puller = urlparse(re.search(r"https://\S+/hub/user-redirect/git-pull\?\S+", readme).group(0))
    query = parse_qs(puller.query)
    assert query["repo"] == [f"https://github.com/{owner}/{name}"]
    # nbgitpuller clones into a folder named after the repository
    assert (REPO / query["urlpath"][0].removeprefix(f"lab/tree/{name}/")).is_file()
