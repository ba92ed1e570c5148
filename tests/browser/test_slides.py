"""`make slides` (scripts/build_slides.py): a lecture's reveal.js deck works in the lecture hall offline.

One deck is built (the lecture with the most slideshow metadata, so the author's slides are what is
tested) and opened from file:// in chromium with every other request blocked: nothing is asked of
the network, reveal.js starts, the arrow key advances to the next slide, math is typeset by the
vendored MathJax and a figure is there. (It uses the session's chromium from conftest.py: playwright's
sync API runs once per process.)
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup
from lab_harness import REPO

pytestmark = pytest.mark.browser


def most_slides():
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))[1:]  # lectures, not the map
    return max(notebooks, key=lambda p: sum("slideshow" in c.metadata for c in nbformat.read(p, 4).cells))


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    notebook = most_slides()
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_slides.py"), str(notebook),
                             "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"slides build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return out / f"{notebook.stem}.slides.html"


def test_deck_refers_only_to_files_next_to_it(deck):
    soup = BeautifulSoup(deck.read_text(encoding="utf-8"), "html.parser")
    urls = [s["src"] for s in soup.select("script[src]")] + [s["href"] for s in soup.select("link[href]")]
    assert urls, "the deck loads no scripts or styles at all"
    remote = [u for u in urls if "://" in u or u.startswith("//")]
    assert remote == []
    missing = [u for u in urls if not (deck.parent / u.split("?")[0]).is_file()]
    assert missing == []


def test_deck_opens_offline_advances_and_shows_math_and_a_figure(deck, browser):
    blocked, failed = [], []
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        view = context.new_page()
        view.set_default_timeout(60_000)

        def offline(route):
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        view.route("**/*", offline)
        view.on("requestfailed", lambda request: failed.append(request.url))
        view.goto(deck.as_uri())
        view.wait_for_selector(".reveal.ready", state="attached")
        slides = view.eval_on_selector_all(".reveal .slides > section", "sections => sections.length")
        first = view.evaluate("() => location.hash")
        view.keyboard.press("ArrowRight")
        view.wait_for_function("first => location.hash !== first", arg=first)
        view.wait_for_selector(".MathJax_CHTML", state="attached")
        figures = view.eval_on_selector_all(".reveal section img", "images => images.length")
    finally:
        context.close()
    assert slides > 1
    assert figures >= 1
    assert blocked == [] and failed == []
