"""`make slides` (scripts/build_slides.py): every lecture's reveal.js deck works in the lecture hall offline.

All decks are built once (as `make slides` does) and each is opened from file:// in chromium with every
other request blocked: nothing is asked of the network, reveal.js starts, the space bar walks through
every slide and subslide to the end, math is typeset by the vendored MathJax, figures are there, and no
slide is taller than the deck's page. (It uses the session's chromium from conftest.py:
playwright's sync API runs once per process.)
"""

from __future__ import annotations

import re
import subprocess
import sys

import nbformat
import pytest
from bs4 import BeautifulSoup
from lab_harness import REPO

pytestmark = pytest.mark.browser


NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_slides.py"), "--out", str(out)],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"slides build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return out


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def deck(request, decks):
    return decks / f"{request.param.stem}.slides.html"


def has_math(deck):
    notebook = REPO / "notebooks" / deck.name.replace(".slides.html", ".ipynb")
    return any("$" in c.source for c in nbformat.read(notebook, 4).cells if c.cell_type == "markdown")


IDLE = "() => !window.MathJax || !MathJax.Hub || MathJax.Hub.queue.pending === 0"


def page_height(deck):
    """The height reveal.js scales every slide to (Reveal.initialize's height); taller content is cut off."""
    return int(re.search(r"\bheight:\s*(\d+),", deck.read_text(encoding="utf-8")).group(1))


def walk(view):
    """Press space until the deck stops moving; the height in pixels of every slide seen, by (h, v)."""
    heights, here = {}, None
    for _ in range(1000):
        # the history hash is #/h, #/h/v or #/h/v/fragment (fragments take presses too)
        parts = [int(p) for p in view.evaluate("() => location.hash").strip("#/").split("/") if p]
        slide = (*parts, 0, 0)[:2]
        heights[slide] = max(heights.get(slide, 0), view.eval_on_selector(
            ".reveal .slides section.present:not(.stack)", "s => s.scrollHeight"))
        if parts == here:
            break
        here = parts
        view.keyboard.press("Space")
        view.wait_for_timeout(150)
        view.wait_for_function(IDLE)  # heights are measured on typeset math
    return heights


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
        slides = view.eval_on_selector_all(".reveal .slides section:not(.stack)", "s => s.length")
        if has_math(deck):
            view.wait_for_selector(".MathJax_CHTML", state="attached")
        view.wait_for_function(IDLE)
        heights = walk(view)
        figures = view.eval_on_selector_all(".reveal section img", "images => images.length")
    finally:
        context.close()
    assert slides > 1
    assert len(heights) == slides, f"walked {len(heights)} of {slides} slides"
    overfull = {where: height for where, height in heights.items() if height > page_height(deck)}
    assert overfull == {}, f"slides taller than the page ({page_height(deck)} px), by (h, v): {overfull}"
    assert figures >= 1
    assert blocked == [] and failed == []
