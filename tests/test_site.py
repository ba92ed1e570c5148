"""The static lecture companion (scripts/build_site.py, `make html`): built once here, then read.

Checks that every lecture notebook has a page, in lecture order; that every figure the executed
notebook produced is on its page (as a data URI or a file that exists); that no page shows an error;
that math and saved widget state are there; that no page shows a `$` or raw TeX outside its math
(what a reader sees when MyST does not parse a formula); and that no page loads anything from the
internet (MathJax and the widget manager are vendored). Every page's launch buttons open its own
notebook on Binder and on a JupyterHub (nbgitpuller); every image has alt text; headings go down one
level at a time. In chromium, with the network blocked: an explorer's sliders and the math render,
and axe-core finds no serious or critical accessibility violation on any page.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import nbformat
import pytest
from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

pytestmark = pytest.mark.slow

# What a formula that MyST failed to parse leaves in a page's text: a dollar sign, a TeX command
# (\frac, \lambda), a braced super- or subscript (^{, _{), or MathJax's \( \[ delimiters.
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


# The student edition the launch buttons open (a branch other than main, a hub URL with a slash).
LAUNCH = {"--repository": "https://github.com/course-org/optim-dl-student.git", "--branch": "spring-2027",
          "--jupyterhub": "https://hub.example.edu/"}


def build_site_module():
    spec = importlib.util.spec_from_file_location("build_site", REPO / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    launch = [part for option in LAUNCH.items() for part in option]
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_site.py"), "--out", str(out),
                             *launch], cwd=REPO, capture_output=True, text=True, timeout=1800)
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


def shows_explorer(site, path):
    """Whether the executed notebook displays a widget (an explorer) anywhere."""
    executed = nbformat.read(site / "book" / path.name, as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    return any(WIDGET_VIEW in o.get("data", {}) for o in outputs)


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
    if shows_explorer(site, path):
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
    if shows_explorer(site, path):
        assert soup.select('script[type="application/vnd.jupyter.widget-state+json"]')
        assert soup.select('script[type="application/vnd.jupyter.widget-view+json"]')
        assert any(u.startswith("_static/vendor/html-manager/embed-amd.js") for u in scripts)
        assert any(u.startswith("_static/vendor/require.js") for u in scripts)


@pytest.mark.browser
def test_explorer_page_renders_offline_in_chromium(site):
    from browser.lab_harness import CHROMIUM, CHROMIUM_ARGS, require_chromium
    from playwright.sync_api import sync_playwright

    require_chromium()
    explorers = [p for p in NOTEBOOKS if shows_explorer(site, p)]
    assert explorers, "no lecture page shows an explorer"
    html = site / "_build" / "html" / f"{explorers[0].stem}.html"
    failed = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page()
            view.on("requestfailed", lambda request: failed.append(request.url))
            left_the_site = open_offline(view, html)
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


@pytest.mark.parametrize("options, message", [
    (["--repository", "github.com/org/course"], "must be an http(s) URL"),
    (["--repository", "https://github.com/org"], "https://HOST/OWNER/NAME"),
    (["--repository", "https://github.com/org/course", "--branch", "spring 2027"], "--branch"),
    (["--repository", "https://github.com/org/course", "--binderhub", "mybinder.org"], "--binderhub"),
    (["--jupyterhub", "https://hub.example.edu"], "needs --repository"),
])
def test_launch_options_are_checked_before_building(options, message, tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_site.py"), "--out",
                             str(tmp_path / "site"), *options], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and message in result.stderr
    assert not (tmp_path / "site").exists()


def launch_links(soup):
    """{button text: URL} of a page's launch buttons."""
    return {a.get_text(" ", strip=True): a["href"] for a in soup.select("a[href]")
            if a.get_text(strip=True) in ("Binder", "JupyterHub")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_launch_buttons_open_this_pages_notebook(site, path):
    links = launch_links(page(site, path.stem))
    assert set(links) == {"Binder", "JupyterHub"}, f"{path.name}: launch buttons {links}"
    in_repository = f"notebooks/{path.name}"
    assert (REPO / in_repository).is_file()

    binder = urlparse(links["Binder"])
    assert (binder.scheme, binder.netloc) == ("https", "mybinder.org")
    assert binder.path == "/v2/gh/course-org/optim-dl-student/spring-2027"
    assert parse_qs(binder.query, strict_parsing=True) == {"urlpath": [f"lab/tree/{in_repository}"]}

    hub = urlparse(links["JupyterHub"])
    assert (hub.scheme, hub.netloc, hub.path) == ("https", "hub.example.edu", "/hub/user-redirect/git-pull")
    # nbgitpuller clones into a folder named after the repository, then opens urlpath.
    assert parse_qs(hub.query, strict_parsing=True) == {
        "repo": ["https://github.com/course-org/optim-dl-student"], "branch": ["spring-2027"],
        "urlpath": [f"lab/tree/optim-dl-student/{in_repository}"]}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_image_has_the_alt_text_of_its_cell(site, path):
    article = page(site, path.stem).select_one("article")
    missing = [img.get("src", "")[:60] for img in article.select("img") if not img.get("alt", "").strip()]
    assert missing == [], f"{path.name}: images without alt text: {missing}"
    shown = {img["alt"] for img in article.select("img")}
    for cell in nbformat.read(site / "book" / path.name, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        alt = cell.metadata.get("alt")
        if alt and any(o.get("data", {}).keys() & set(IMAGE_TYPES) for o in cell.outputs):
            assert alt in shown, f"{path.name}: cell {cell.id}'s alt text is not on its image"
        views = [o.data[WIDGET_VIEW] for o in cell.outputs if WIDGET_VIEW in o.get("data", {})]
        assert all(view.get("alt") == alt for view in views if alt), f"{path.name}: {cell.id}'s explorer"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_headings_go_down_one_level_at_a_time(site, path):
    article = page(site, path.stem).select_one("article")
    levels = [int(h.name[1]) for h in article.select("h1, h2, h3, h4, h5, h6")]
    assert levels[:1] == [1] and levels.count(1) == 1, f"{path.name}: one h1 first, got {levels}"
    jumps = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
    assert jumps == [], f"{path.name}: heading levels skipped: {jumps}"


def open_offline(view, html):
    """Load a page from file:// with every other request blocked; returns the blocked URLs."""
    blocked = []

    def offline(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    view.route("**/*", offline)
    view.goto(html.as_uri())
    return blocked


# axe-core's audit of the page as it is now, reduced to one line per serious or critical rule broken.
SERIOUS_VIOLATIONS = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.nodes.length}x ${v.nodes[0].target.join(" ")}`)"""


def test_icon_buttons_are_named_by_their_label_alone_before_any_script_runs(site):
    """The audit below reads a page after its scripts ran; a screen reader (or an audit on a slow
    machine, as seen in CI) can read it before: the colour-mode button's icons must already be
    hidden then, not titled "Light", "Dark", "System Settings" against the name "Color mode"."""
    for html in sorted((site / "_build" / "html").glob("*.html")):
        for button in page(site, html.stem).select(".theme-switch-button"):
            icons = button.find_all("i")
            assert icons and all(i.get("aria-hidden") == "true" and not i.get("title") for i in icons), \
                f"{html.name}: {button}"


@pytest.mark.browser
def test_every_page_passes_the_accessibility_audit(site):
    from browser.lab_harness import CHROMIUM, CHROMIUM_ARGS, require_chromium
    from playwright.sync_api import sync_playwright

    require_chromium()
    axe = (build_site_module().NPM_PREFIX / "node_modules" / "axe-core" / "axe.min.js").read_text()
    pages = [p for p in sorted((site / "_build" / "html").glob("*.html"))
             if "<body" in p.read_text(encoding="utf-8")]  # not the landing redirect
    found, unnamed_images = {}, {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page(viewport={"width": 1400, "height": 1000})
            view.set_default_timeout(60_000)
            for html in pages:
                assert open_offline(view, html) == []
                if view.query_selector(f'script[type="{WIDGET_VIEW}"]'):
                    view.wait_for_selector("img.widget-image[alt]", state="attached")
                if view.query_selector(".math"):
                    view.wait_for_selector("mjx-container", state="attached")
                view.add_script_tag(content=axe)
                violations = view.evaluate(SERIOUS_VIOLATIONS)
                if violations:
                    found[html.name] = violations
                unnamed = view.eval_on_selector_all(
                    "img", "images => images.filter(i => !i.alt.trim()).map(i => i.outerHTML.slice(0, 100))")
                if unnamed:
                    unnamed_images[html.name] = unnamed
        finally:
            browser.close()
    assert found == {}, "\n".join(f"{name}: {v}" for name, v in found.items())
    assert unnamed_images == {}
