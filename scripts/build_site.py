"""Build the static lecture companion: ``python scripts/build_site.py`` (what ``make html`` runs).

1. Stage: copy notebooks/ to <out>/book (course_lib linked to this repository's) with
   docs/site/_config.yml and a _toc.yml listing the lecture notebooks in file-name order
   (= lecture order; 00_index is the landing page), so notebooks added later appear without
   editing anything.
2. Execute every notebook in a fresh kernel with nbclient, saving widget state; a cell error fails
   the build (Jupyter Book itself only renders).
3. Vendor require.js, @jupyter-widgets/html-manager and MathJax from npm (pinned versions, installed
   once into build/npm) into the book's static files: pages then render saved sliders and math
   without internet. The sliders show their saved state; moving them needs a kernel, which is why
   each explorer has a static companion figure.
4. ``jupyter-book build`` (Jupyter Book 1; version 2 fetches its theme online).

The result is <out>/_build/html/index.html (default out: build/site).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NPM_PREFIX = REPO / "build" / "npm"
NPM_PACKAGES = {"requirejs": "2.3.8", "@jupyter-widgets/html-manager": "1.0.15", "mathjax": "3.2.2"}
CELL_TIMEOUT = 300
# matplotlib's animation player (Animation.to_jshtml) links FontAwesome 4 from a CDN for its button
# icons; the site's theme ships FontAwesome itself, so pages can do without the network.
ANIMATION_CDN_LINK = re.compile(r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/[^"]*">\s*')

# Small dense problems run many times slower with two BLAS threads on a shared two-core machine.
os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def lecture_notebooks():
    return sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def stage(notebooks, book):
    shutil.copytree(REPO / "notebooks", book, ignore=shutil.ignore_patterns(
        "*.ipynb", "course_lib", "__pycache__", ".ipynb_checkpoints"))
    for path in notebooks:
        shutil.copy(path, book / path.name)
    shutil.copy(REPO / "docs" / "site" / "_config.yml", book / "_config.yml")
    # Kernels start in the book folder: this repository's course_lib, whatever is installed.
    (book / "course_lib").symlink_to(REPO / "course_lib", target_is_directory=True)
    root, *chapters = [p.stem for p in notebooks]
    toc = ["format: jb-book", f"root: {root}", "chapters:"] + [f"  - file: {stem}" for stem in chapters]
    (book / "_toc.yml").write_text("\n".join(toc) + "\n")


def execute(path):
    """Run a staged notebook top to bottom in a fresh kernel (cwd = its folder), outputs saved in place."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as error:
        sys.exit(f"build_site: notebooks/{path.name} failed, no site built:\n{error}")
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text/html" in output.get("data", {}):
                output.data["text/html"] = ANIMATION_CDN_LINK.sub("", output.data["text/html"])
    nbformat.write(notebook, path)
    print(f"  executed {path.name} in {time.perf_counter() - start:.1f} s", flush=True)


def npm_install(prefix=NPM_PREFIX):
    """Install the pinned packages into ``prefix`` unless they are already there."""

    def installed(name):
        package = prefix / "node_modules" / name / "package.json"
        return package.exists() and json.loads(package.read_text())["version"]

    missing = [f"{name}@{version}" for name, version in NPM_PACKAGES.items() if installed(name) != version]
    if missing:
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("build_site: npm is needed to vendor the widget manager and MathJax")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                        "--loglevel=error", *missing], check=True)
    return prefix / "node_modules"


def vendor(modules, book):
    """Copy the JavaScript into the book; docs/site/_config.yml points Sphinx and myst-nb at it."""
    target = book / "_vendor" / "vendor"  # html_static_path _vendor: served as _static/vendor
    target.mkdir(parents=True)
    shutil.copy(modules / "requirejs" / "require.js", target / "require.js")
    shutil.copytree(modules / "mathjax" / "es5", target / "mathjax")
    # embed-amd.js bundles the base, controls and output widgets. It asks for its icon fonts at
    # <page>/@jupyter-widgets/html-manager/dist/, so they go to the site root (html_extra_path).
    dist = modules / "@jupyter-widgets" / "html-manager" / "dist"
    (target / "html-manager").mkdir()
    shutil.copy(dist / "embed-amd.js", target / "html-manager" / "embed-amd.js")
    shutil.copytree(dist, book / "_extra" / "@jupyter-widgets" / "html-manager" / "dist",
                    ignore=lambda _, names: [n for n in names if n.endswith((".js", ".map", ".txt"))])


def build(book, out):
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    subprocess.run([jupyter_book, "build", str(book), "--path-output", str(out), "--builder", "html"],
                   check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the static lecture companion.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="a subset for a quick preview (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "site",
                        help="output folder, emptied first (default: build/site)")
    args = parser.parse_args(argv)
    notebooks = sorted(args.notebooks) if args.notebooks else lecture_notebooks()
    if not notebooks:
        sys.exit("build_site: no notebooks/NN_*.ipynb to build")
    out = args.out.resolve()
    book = out / "book"
    if out.exists():
        if any(out.iterdir()) and not (book / "_toc.yml").exists():
            sys.exit(f"build_site: {out} is not empty and holds no previous site build; not emptying it")
        shutil.rmtree(out)
    print(f"staging {len(notebooks)} notebooks in {book}", flush=True)
    stage(notebooks, book)
    vendor(npm_install(), book)
    for path in notebooks:
        execute(book / path.name)
    build(book, out)
    print(f"site: {out / '_build' / 'html' / 'index.html'}")


if __name__ == "__main__":
    main()
