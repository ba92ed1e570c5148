"""Build the static lecture companion: ``python scripts/build_site.py`` (what ``make html`` runs).

1. Stage: copy notebooks/ to <out>/book (course_lib linked to this repository's) with
   docs/site/_config.yml and a _toc.yml listing the lecture notebooks in file-name order
   (= lecture order; 00_index is the landing page), so notebooks added later appear without
   editing anything. With ``--repository`` (the student edition, see ``course_lib.grading
   publish``; its notebooks are in notebooks/ too) every page gets launch buttons: Binder, and a
   JupyterHub through nbgitpuller with ``--jupyterhub``.
2. Execute every notebook in a fresh kernel with nbclient, saving widget state; a cell error fails
   the build (Jupyter Book itself only renders). A figure cell's ``metadata["alt"]`` (the
   notebooks' alt text) goes onto every image it shows: its PNGs, an animation's frames and an
   explorer's image (docs/site/a11y.js sets that one when the widget renders, with the other
   accessibility fixes the theme and ipywidgets need).
3. Vendor require.js, @jupyter-widgets/html-manager and MathJax from npm (pinned versions, installed
   once into build/npm) into the book's static files: pages then render saved sliders and math
   without internet. The sliders show their saved state; moving them needs a kernel, which is why
   each explorer has a static companion figure.
4. ``jupyter-book build`` (Jupyter Book 1; version 2 fetches its theme online).

The result is <out>/_build/html/index.html (default out: build/site).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
NPM_PREFIX = REPO / "build" / "npm"
NPM_PACKAGES = {"requirejs": "2.3.8", "@jupyter-widgets/html-manager": "1.0.15", "mathjax": "3.2.2",
                "axe-core": "4.14.1"}  # axe-core: the pages' accessibility test
CELL_TIMEOUT = 300
# matplotlib's animation player (Animation.to_jshtml) links FontAwesome 4 from a CDN for its button
# icons; the site's theme ships FontAwesome itself, so pages can do without the network.
ANIMATION_CDN_LINK = re.compile(r'<link rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/[^"]*">\s*')
IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
# The animation player's frame slider comes without a label.
UNLABELLED_RANGE = re.compile(r'<input(?=[^>]*type="range")(?![^>]*aria-label)')
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Small dense problems run many times slower with two BLAS threads on a shared two-core machine.
os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def lecture_notebooks():
    return sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def web_url(text, what):
    """``text`` if it is an http(s) URL with a host, else exit with a message naming ``what``."""
    url = urlparse(text)
    if url.scheme not in ("http", "https") or not url.netloc or any(c.isspace() for c in text):
        sys.exit(f"build_site: {what} must be an http(s) URL, got {text!r}")
    return text.rstrip("/")


def launch_config(repository, branch, binderhub, jupyterhub):
    """Jupyter Book settings for launch buttons that open each page's notebook from ``repository``."""
    if repository is None:
        if jupyterhub:
            sys.exit("build_site: --jupyterhub needs --repository (the repository nbgitpuller clones)")
        return {}
    repository = web_url(repository, "--repository").removesuffix(".git")
    if len(urlparse(repository).path.strip("/").split("/")) != 2:
        sys.exit(f"build_site: --repository must be https://HOST/OWNER/NAME, got {repository!r}")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", branch):  # it goes into URL paths unescaped
        sys.exit(f"build_site: --branch {branch!r}: use letters, digits, '.', '_' or '-'")
    buttons = {"notebook_interface": "jupyterlab"}
    if binderhub:
        buttons["binderhub_url"] = web_url(binderhub, "--binderhub")
    if jupyterhub:
        buttons["jupyterhub_url"] = web_url(jupyterhub, "--jupyterhub")
    return {"repository": {"url": repository, "branch": branch, "path_to_book": "notebooks"},
            "launch_buttons": buttons}


def stage(notebooks, book, launch=None):
    shutil.copytree(REPO / "notebooks", book, ignore=shutil.ignore_patterns(
        "*.ipynb", "course_lib", "__pycache__", ".ipynb_checkpoints"))
    for path in notebooks:
        shutil.copy(path, book / path.name)
    config = (REPO / "docs" / "site" / "_config.yml").read_text()
    if launch:
        import yaml  # Jupyter Book's own dependency

        config += "\n# Launch buttons (build_site.py options)\n" + yaml.safe_dump(launch, sort_keys=False)
    (book / "_config.yml").write_text(config)
    shutil.copytree(REPO / "docs" / "site" / "_templates", book / "_templates")  # theme overrides
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
                fragment = ANIMATION_CDN_LINK.sub("", output.data["text/html"])
                output.data["text/html"] = UNLABELLED_RANGE.sub('<input aria-label="frame"', fragment)
        if cell.metadata.get("alt"):
            add_alt_text(cell)
    nbformat.write(notebook, path)
    print(f"  executed {path.name} in {time.perf_counter() - start:.1f} s", flush=True)


def add_alt_text(cell):
    """Put the cell's alt text on every image its outputs show (myst-nb, HTML, explorer widget)."""
    alt = cell.metadata["alt"]
    cell.metadata.setdefault("mystnb", {}).setdefault("image", {})["alt"] = alt
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/html" in data:
            data["text/html"] = IMG_WITHOUT_ALT.sub(f'<img alt="{html.escape(alt)}"', data["text/html"])
        if WIDGET_VIEW in data:  # docs/site/a11y.js puts it on the rendered image
            data[WIDGET_VIEW]["alt"] = alt


def npm_install(prefix=NPM_PREFIX, packages=None):
    """Install the pinned packages (default: the site's) into ``prefix`` unless already there."""

    def installed(name):
        package = prefix / "node_modules" / name / "package.json"
        return package.exists() and json.loads(package.read_text())["version"]

    packages = NPM_PACKAGES if packages is None else packages
    missing = [f"{name}@{version}" for name, version in packages.items() if installed(name) != version]
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
    copy_widget_manager(modules, target / "html-manager", book / "_extra")  # _extra: the site root
    shutil.copy(REPO / "docs" / "site" / "a11y.js", target / "a11y.js")


def copy_widget_manager(modules, js_folder, page_folder):
    """embed-amd.js (the base, controls and output widgets) into ``js_folder``; it asks for its icon
    fonts at <page>/@jupyter-widgets/html-manager/dist/, so they go under ``page_folder``."""
    dist = modules / "@jupyter-widgets" / "html-manager" / "dist"
    js_folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(dist / "embed-amd.js", js_folder / "embed-amd.js")
    shutil.copytree(dist, page_folder / "@jupyter-widgets" / "html-manager" / "dist", dirs_exist_ok=True,
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
    launch = parser.add_argument_group(
        "launch buttons", "open each page's notebook with a kernel; defaults from the environment variables "
        "COURSE_REPOSITORY, COURSE_BRANCH, COURSE_BINDERHUB, COURSE_JUPYTERHUB")
    launch.add_argument("--repository", default=os.environ.get("COURSE_REPOSITORY") or None,
                        help="the student edition's repository, https://github.com/OWNER/NAME "
                        "(no buttons without it)")
    launch.add_argument("--branch", default=os.environ.get("COURSE_BRANCH") or "main")
    launch.add_argument("--binderhub", default=os.environ.get("COURSE_BINDERHUB", "https://mybinder.org"),
                        help="a BinderHub (default https://mybinder.org; empty: no Binder button)")
    launch.add_argument("--jupyterhub", default=os.environ.get("COURSE_JUPYTERHUB") or None,
                        help="a JupyterHub with nbgitpuller, e.g. https://hub.example.edu")
    args = parser.parse_args(argv)
    buttons = launch_config(args.repository, args.branch, args.binderhub, args.jupyterhub)
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
    stage(notebooks, book, buttons)
    vendor(npm_install(), book)
    for path in notebooks:
        execute(book / path.name)
    build(book, out)
    print(f"site: {out / '_build' / 'html' / 'index.html'}")


if __name__ == "__main__":
    main()
