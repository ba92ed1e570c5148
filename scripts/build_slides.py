"""One reveal.js deck per lecture for the lecture hall: ``python scripts/build_slides.py`` (``make slides``).

1. Execute each lecture notebook in a fresh kernel, widget state saved (as the static site does:
   scripts/build_site.py), so decks carry their figures and the explorers' static companions.
2. Convert it with nbconvert's slides exporter. Each cell's ``metadata.slideshow.slide_type``
   (slide, subslide, fragment, skip, notes) shapes the deck; cells without it join the slide above.
   A notebook with no slideshow metadata at all gets a slide per markdown heading.
3. Vendor reveal.js (with its speaker-notes plugin), MathJax 2 (the API nbconvert's reveal template
   calls), require.js, jQuery and the widget manager from npm (pinned versions, installed once into
   build/npm-slides) next to the decks, and point the exporter at them (``reveal_url_prefix`` and
   friends): a deck opens from ``file://`` without any network request.

Output: build/slides/NN_topic.slides.html (plus build/slides/vendor/).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_site  # noqa: E402  (scripts/ is not a package)

REPO = build_site.REPO
NPM_PREFIX = REPO / "build" / "npm-slides"
NPM_PACKAGES = {"reveal.js": "5.2.1", "mathjax": "2.7.9", "requirejs": "2.3.8", "jquery": "3.7.1",
                "@jupyter-widgets/html-manager": "1.0.15"}
TEMPLATE = Path(__file__).resolve().parent / "slides_offline.html.j2"
VENDOR = "vendor"  # relative to the decks: URLs in every deck start with it
FIGURE_ONLY = "slides-figure-only"  # tag given at build time to figure cells: no code above the figure


def vendor(modules, out):
    """Copy what a deck loads into out/vendor; the widget manager's fonts where it asks for them."""
    target = out / VENDOR
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for part in ("dist", "plugin"):
        shutil.copytree(modules / "reveal.js" / part, target / "reveal.js" / part)
    # MathJax 2 with its TeX fonts only (48 MB with every font family and format, 20 without).
    shutil.copytree(modules / "mathjax", target / "mathjax", ignore=shutil.ignore_patterns(
        "unpacked", "docs", "test", "*.md", "png", "eot", "otf", "svg", "Asana-Math", "Gyre-*",
        "Latin-Modern", "Neo-Euler", "STIX-Web"))
    shutil.copy(modules / "requirejs" / "require.js", target / "require.js")
    shutil.copy(modules / "jquery" / "dist" / "jquery.min.js", target / "jquery.min.js")
    build_site.copy_widget_manager(modules, target / "html-manager", out)
    # In a deck the widget manager asks for its icon fonts at <deck folder>/@jupyter-widgets/<file>.
    fonts = out / "@jupyter-widgets"
    for font in (modules / "@jupyter-widgets" / "html-manager" / "dist").iterdir():
        if font.suffix in (".woff2", ".woff", ".ttf", ".eot", ".svg"):
            shutil.copy(font, fonts / font.name)


def exporter():
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    return SlidesExporter(
        config=Config({"TagRemovePreprocessor": {"remove_input_tags": [FIGURE_ONLY]}}),
        template_file=str(TEMPLATE),
        reveal_url_prefix=f"{VENDOR}/reveal.js",
        reveal_width="1280", reveal_height="960",  # room for a figure and its caption; scaled to the screen
        reveal_theme="white",  # its fonts ship with reveal.js (nbconvert's default, simple, loads Google's)
        mathjax_url=f"{VENDOR}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        require_js_url=f"{VENDOR}/require.js",
        jquery_url=f"{VENDOR}/jquery.min.js",
        widget_renderer_url=f"{VENDOR}/html-manager/embed-amd.js",
    )


def with_default_slides(notebook):
    """A notebook without any slideshow metadata gets a new slide at each markdown heading."""
    if any("slideshow" in cell.metadata for cell in notebook.cells):
        return notebook
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            cell.metadata["slideshow"] = {"slide_type": "slide"}
    return notebook


def figures_without_code(notebook):
    """A figure cell (a code cell with alt text, metadata "alt") shows its figure without the plotting
    code, which would fill the slide; the notebook itself keeps showing both."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "alt" in cell.metadata:
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), FIGURE_ONLY]
    return notebook


def convert(executed, out):
    import nbformat

    notebook = figures_without_code(with_default_slides(nbformat.read(executed, as_version=4)))
    body, _ = exporter().from_notebook_node(notebook)
    deck = out / f"{executed.stem}.slides.html"
    deck.write_text(body, encoding="utf-8")
    return deck


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build one offline reveal.js deck per lecture.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="a subset (default: every notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "slides",
                        help="output folder (default: build/slides)")
    args = parser.parse_args(argv)
    notebooks = sorted(p.resolve() for p in args.notebooks or build_site.lecture_notebooks())
    if not notebooks:
        sys.exit("build_slides: no notebooks/NN_*.ipynb to build")
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        sys.exit(f"build_slides: no such notebook: {', '.join(missing)}")
    out = args.out.resolve()
    work = out / "executed"
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(REPO / "notebooks", work, ignore=shutil.ignore_patterns(  # data files, if any
        "*.ipynb", "course_lib", "__pycache__", ".ipynb_checkpoints"))
    (work / "course_lib").symlink_to(REPO / "course_lib", target_is_directory=True)
    vendor(build_site.npm_install(NPM_PREFIX, NPM_PACKAGES), out)
    for path in notebooks:
        shutil.copy(path, work / path.name)
        build_site.execute(work / path.name)
        print(f"  deck {convert(work / path.name, out).relative_to(out)}", flush=True)
    print(f"slides: {out}")


if __name__ == "__main__":
    main()
