"""The static lecture companion (scripts/build_site.py, `make html`): built once here, then read.

Checks that every lecture notebook has a page, in lecture order; that every figure the executed
notebook produced is on its page (as a data URI or a file that exists); that no page shows an error;
that math and saved widget state are there; that no page shows a `$` or raw TeX outside its math
(what a reader sees when MyST does not parse a formula); and that no page loads anything from the
internet (MathJax and the widget manager are vendored). One browser check opens an explorer's page
with the network blocked and sees the sliders and the math render.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")

pytestmark = pytest.mark.slow

# What a formula that MyST failed to parse leaves in a page's text: a dollar sign, a TeX command
# (\\frac, \\lambda), a braced super- or subscript (^{, _{), or MathJax's \\( \\[ delimiters.
RAW_TEX = re.compile(r"\$|\\[A-Za-z]+|\\[()\[\]]|[\^_]\{")
# Elements whose text a reader does not see as prose: MathJax's input and output, scripts, and code
# (a code cell may rightly print "$x_1$" or a LaTeX label).
NOT_PROSE = "script, style, noscript, template, .math, mjx-container, pre, code, .cell_input"


def raw_tex_in_visible_text(html):
    """Every piece of raw TeX in a page's visible text, each with some context (empty = clean)."""
    soup = BeautifulSoup(html, "html.parser")
    body = soup.body or soup  # a redirect page has no <body>
    for element in body.select(NOT_PROSE):
        element.decompose()
    text = " ".join(body.get_text(" ").split())
    return [text[max(0, m.start() - 40):m.end() + 40] for m in RAW_TEX.finditer(text)]


def test_raw_tex_check_finds_unparsed_math_and_passes_rendered_math():
    rendered = ('<body><p>a bowl <span class="math notranslate nohighlight">\\(\\lambda_{\\max}\\)</span></p>'
                '<div class="math notranslate nohighlight">\\[\\frac{1}{2}\\]</div>'
                '<pre>plt.xlabel("$x_1$")</pre><script>var a = "$";</script></body>')
    assert raw_tex_in_visible_text(rendered) == []
    # What MyST makes of $$ directly under a line of text: emphasis and stray dollars.
    for garbled in ('<body><p>a bowl\n$<em>H</em> \\lambda_i$</p></body>', "<body><p>costs 5 $</p></body>",
                    "<body><p>x^{2} grows</p></body>", "<body><h2>Rate \\(\\kappa\\)</h2></body>"):
        assert raw_tex_in_visible_text(garbled), garbled


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_site.py"), "--out", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"site build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return out


def page(site, stem):
    html = (site / "_build" / "html" / f"{stem}.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser")


def local_file(site, src):
    """The file a relative URL of a page points to, or None for a URL that leaves the site."""
    url = urlparse(src)
    if url.scheme or url.netloc:
        return None
    return site / "_build" / "html" / unquote(url.path)


def code_source(path):
    return "".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def test_every_notebook_has_a_page_listed_in_lecture_order(site):
    for path in NOTEBOOKS:
        assert (site / "_build" / "html" / f"{path.stem}.html").exists(), f"no page for {path.name}"
    navigation = page(site, NOTEBOOKS[0].stem).select("nav.bd-docs-nav a.reference.internal")
    # On the landing page its own entry links to "#".
    listed = [Path(urlparse(a["href"]).path).stem or NOTEBOOKS[0].stem for a in navigation]
    assert listed == [p.stem for p in NOTEBOOKS], "table of contents not in lecture order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_page_shows_every_figure_and_no_error(site, path):
    executed = nbformat.read(site / "book" / path.name, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = sum(any(t in o.get("data", {}) for t in IMAGE_TYPES) for o in outputs)
    if "Explorer(" in code_source(path):
        assert figures >= 1, f"{path.name} has an explorer but no static companion figure"

    soup = page(site, path.stem)
    main = soup.select_one("main")
    images = main.select("img[src]")  # an animation's <img> gets its frames from script, not src
    assert len(images) >= figures, f"{path.name}: {figures} figures executed, {len(images)} on the page"
    for img in images:
        src = img["src"]
        assert src.startswith("data:image/") or local_file(site, src).is_file(), f"{path.name}: broken {src}"
    text = main.get_text()
    assert "Traceback (most recent call last)" not in text
    assert not main.select(".output.traceback, .output.error"), f"{path.name}: the page shows an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_page_loads_math_and_widgets_from_the_site_itself(site, path):
    soup = page(site, path.stem)
    scripts = [s["src"] for s in soup.select("script[src]")]
    styles = [s["href"] for s in soup.select("link[rel=stylesheet][href]")]
    external = [u for u in scripts + styles if local_file(site, u) is None]
    assert external == [], f"{path.name} loads from the network: {external}"
    missing = [u for u in scripts + styles if not local_file(site, u).is_file()]
    assert missing == [], f"{path.name} refers to files the site lacks: {missing}"

    markdown = "".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    if "$" in markdown:
        assert soup.select(".math"), f"{path.name}: no math on the page"
        assert any(u.startswith("_static/vendor/mathjax/") for u in scripts)
    if "Explorer(" in code_source(path):
        assert soup.select('script[type="application/vnd.jupyter.widget-state+json"]')
        assert soup.select('script[type="application/vnd.jupyter.widget-view+json"]')
        assert any(u.startswith("_static/vendor/html-manager/embed-amd.js") for u in scripts)
        assert any(u.startswith("_static/vendor/require.js") for u in scripts)


@pytest.mark.browser
def test_explorer_page_renders_offline_in_chromium(site):
    from browser.lab_harness import CHROMIUM, CHROMIUM_ARGS, require_chromium
    from playwright.sync_api import sync_playwright

    require_chromium()
    explorers = [p for p in NOTEBOOKS if "Explorer(" in code_source(p)]
    if not explorers:
        pytest.skip("no lecture notebook with an explorer yet")
    html = site / "_build" / "html" / f"{explorers[0].stem}.html"
    left_the_site, failed = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page()

            def offline(route):
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    left_the_site.append(route.request.url)
                    route.abort()

            view.route("**/*", offline)
            view.on("requestfailed", lambda request: failed.append(request.url))
            view.goto(html.as_uri())
            view.wait_for_selector(".widget-slider .noUi-handle", timeout=60_000)
            view.wait_for_selector("img.widget-image", timeout=60_000)
            view.wait_for_selector("mjx-container", timeout=60_000)
            view.wait_for_load_state("networkidle")
        finally:
            browser.close()
    assert left_the_site == []
    assert [u for u in failed if u.startswith("file://")] == []


def test_no_page_shows_a_dollar_or_raw_tex_outside_its_math(site):
    pages = sorted((site / "_build" / "html").glob("*.html"))
    assert len(pages) > len(NOTEBOOKS)
    garbled = {p.name: hits for p in pages
               if (hits := raw_tex_in_visible_text(p.read_text(encoding="utf-8")))}
    assert garbled == {}, "math MyST did not parse, as a reader sees it:\n" + "\n".join(
        f"{name} ({len(hits)}): {hits[:3]}" for name, hits in garbled.items())
