"""Section 7: what a person waits for in the browser, measured in JupyterLab and in the slide decks.

**Slider to image.** Each lecture notebook that builds an explorer runs in a real JupyterLab (the
browser tests' harness, tests/browser/lab_harness.py: Debian chromium driven by playwright, a
temporary copy of the course, BLAS pinned to one thread in the kernel). A cell appended to the
notebook puts, next to every explorer, an ``ipywidgets.interactive`` version of the same plot (what
``interact`` builds): the same sliders, and on each change the notebook's own update function, then
the whole figure created again from a copy of the explorer's figure and shown as a new inline PNG
(laid out, ``bbox_inches="tight"``). Both are driven alike: focus the slider handle, press ArrowRight
(ArrowLeft at the end of the range), and in the page a keydown listener and a MutationObserver time
the key press, the change of the image (the explorer's ``src``, a new ``<img>`` in interact's output),
and the image on screen (decoded, then two animation frames, i.e. painted). Median over N presses.

**Deck to first slide.** Each deck in build/slides (``make slides``; built here if missing) is
opened from ``file://`` with every other request blocked; the time from navigation start until
reveal.js is ready and the first slide has a size on the page.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import os
import pickle
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from benchmarks.timing import ROOT, Spread, _git_commit, section

TITLE = "7. In the browser: slider to image, deck to first slide"
TARGET_RATIO, TARGET_MS = 0.5, 150
PRESSES, QUICK_PRESSES = 7, 2
DECK_LOADS = 3
KEY_TIMEOUT_MS = 60_000
BUILDS_EXPLORER = re.compile(r"\bExplorer\(|\bexplorers\.(?!draw_)\w+\(")
FIXTURE = "fixtures/explorer_fixture.ipynb"  # the browser tests' one-slider explorer (quick mode)
SLIDES = ROOT / "build" / "slides"

# --- in the kernel -------------------------------------------------------------------------------

_CLONED = ("options", "min", "max", "step", "base", "readout_format", "description", "continuous_update")


def _clone(control):
    """A new slider like ``control``, at its current value."""
    kwargs = {name: getattr(control, name) for name in _CLONED if control.has_trait(name)}
    return type(control)(value=control.value, **kwargs)


def full_redraw(explorer, **values):
    """What inline ``interact`` shows for ``explorer``'s plot at ``values``: a new figure, in full.

    The notebook's update function changes the explorer's figure; a copy of it (a pickle round trip
    creates every artist again) is laid out and displayed as a new PNG. Artists the explorer draws on
    top of its cached layers are animated, which a plain draw skips: the copy draws them normally.
    """
    from IPython.display import display

    explorer.update_function(**values)
    figure = pickle.loads(pickle.dumps(explorer.figure))
    for artist in figure.findobj(lambda a: a.get_animated()):
        artist.set_animated(False)
    figure.set_layout_engine("constrained")
    display(figure)


def _redraw_function(explorer):
    """``full_redraw`` for ``explorer``, with the sliders' names as parameters (``interact`` reads them)."""

    def redraw(**values):
        full_redraw(explorer, **values)

    redraw.__signature__ = inspect.Signature(
        [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in explorer.sliders])
    return redraw


def show_interact_versions():
    """Run in the notebook's kernel: tag every live Explorer's image ``bench-explorer-<i>`` and
    display an ``ipywidgets.interactive`` version of each, tagged ``bench-interact-<i>``."""
    import ipywidgets as widgets
    from IPython import get_ipython
    from IPython.display import display

    from course_lib.widgets import Explorer

    get_ipython().run_line_magic("matplotlib", "inline")  # what `make lab` kernels use
    # type(), not isinstance: isinstance on a dead weakref.proxy raises ReferenceError
    explorers = [o for o in gc.get_objects() if issubclass(type(o), Explorer) and o.update_seconds]
    versions = []
    for i, explorer in enumerate(explorers):
        explorer.image.add_class(f"bench-explorer-{i}")
        sliders = {name: _clone(control) for name, control in explorer.sliders.items()}
        version = widgets.interactive(_redraw_function(explorer), **sliders)
        version.add_class(f"bench-interact-{i}")
        versions.append(version)
    print(f"bench: {len(explorers)} explorer(s)")
    display(widgets.VBox(versions))


# --- in the page ---------------------------------------------------------------------------------

# Arm one measurement: resolves with {key, changed, shown} (ms since navigation) after the next key
# press on `handle` changes the image of `target` (an img: its src; else: a new img inside target).
ARM = """([handle, target, timeout]) => {
    window.__bench = new Promise((resolve, reject) => {
        let key = null;
        handle.addEventListener("keydown", () => { key = performance.now(); }, {capture: true, once: true});
        const isImage = target.tagName === "IMG";
        const image = () => isImage ? target : target.querySelector(".jp-OutputArea-output img");
        const before = isImage ? target.src : image();
        const shown = (img, changed) => img.decode().catch(() => null).then(() =>
            requestAnimationFrame(() => requestAnimationFrame(() =>
                resolve({key, changed, shown: performance.now()}))));
        const observer = new MutationObserver(() => {
            const img = image();
            if (img && key !== null && (isImage ? img.src : img) !== before) {
                observer.disconnect();
                shown(img, performance.now());
            }
        });
        observer.observe(target, isImage ? {attributes: true, attributeFilter: ["src"]}
                                         : {childList: true, subtree: true});
        setTimeout(() => { observer.disconnect(); reject(new Error("no new image")); }, timeout);
    });
}"""

# In every document: the moment reveal.js is ready and the first slide has a size.
FIRST_SLIDE = """(() => {
    const check = () => {
        const slide = document.querySelector(".reveal.ready .slides section.present");
        if (slide && slide.getBoundingClientRect().height > 0) window.__firstSlide = performance.now();
        else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
})();"""


def _lab_harness():
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import lab_harness

    return lab_harness


@contextlib.contextmanager
def _browser():
    from playwright.sync_api import sync_playwright

    harness = _lab_harness()
    if not harness.CHROMIUM.exists():
        raise RuntimeError(f"needs Debian's chromium at {harness.CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(harness.CHROMIUM),
                                             args=harness.CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def _lab():
    """A JupyterLab on a temporary copy of the course; kernels with one BLAS thread."""
    harness = _lab_harness()
    pinned = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    saved = {name: os.environ.get(name) for name in pinned}
    os.environ.update(pinned)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            server = harness.start_lab(Path(tmp), f"bench-{secrets.token_hex(4)}")
            try:
                yield server
            finally:
                harness.stop_lab(server)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def explorer_notebooks():
    return [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
            if BUILDS_EXPLORER.search("".join(c.source for c in nbformat.read(p, 4).cells
                                              if c.cell_type == "code"))]


def _append_and_run(page, code):
    """Add a code cell after the last one (the active cell after Run All), put ``code`` in it, run it."""
    page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-InputPrompt").click()
    page.locator(".jp-NotebookPanel-toolbar jp-button[data-command='notebook:insert-cell-below']").click()
    page.locator(".jp-Notebook .jp-Cell").last.locator(".cm-content").click()
    page.keyboard.insert_text(code)  # no key events: no auto-closed brackets
    page.keyboard.press("Control+Enter")  # run in place (Shift+Enter would add another cell)
    output = page.locator(".jp-Notebook .jp-Cell").last.locator(".jp-OutputArea-output").first
    output.wait_for(timeout=120_000)
    text = output.inner_text()
    if "bench: " not in text:
        raise RuntimeError(f"the benchmark's cell failed: {text[-1000:]}")
    return text


def _press(page, handle, target):
    """One timed key press; (key to image changed, key to image on screen) in ms."""
    harness = _lab_harness()
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    page.evaluate(ARM, [handle.element_handle(), target.element_handle(), KEY_TIMEOUT_MS])
    harness.nudge(handle)
    times = page.evaluate("() => window.__bench")
    return times["changed"] - times["key"], times["shown"] - times["key"]


def measure_notebook(page, lab, notebook, presses):
    """Per explorer of ``notebook``: the key-to-screen times of it and of its interact version."""
    harness = _lab_harness()
    harness.open_notebook(page, lab, notebook)
    harness.run_all(page)
    text = _append_and_run(page, f"import sys; sys.path.append({str(ROOT)!r}); from benchmarks.browser "
                                 "import show_interact_versions; show_interact_versions()")
    results = []
    count = int(re.search(r"bench: (\d+)", text).group(1))
    for i in range(count):
        explorer_image = page.locator(f"img.bench-explorer-{i}")
        explorer_image.wait_for(state="attached")
        explorer = page.locator(f".widget-vbox:has(> img.bench-explorer-{i})")
        version = page.locator(f".bench-interact-{i}")
        version.locator(".jp-OutputArea-output img").first.wait_for(state="attached")
        label = explorer.locator(".widget-slider .widget-label").first.inner_text().strip()
        result = {"notebook": Path(notebook).stem, "slider": label, "explorer": [], "interact": []}
        for kind, handle, target in (
                ("explorer", explorer.locator(".noUi-handle").first, explorer_image),
                ("interact", version.locator(".noUi-handle").first, version.locator(".widget-output").first)):
            target.scroll_into_view_if_needed()
            for _ in range(presses):
                result[kind].append(_press(page, handle, target))
        results.append(result)
    lab.shutdown_kernels()
    return results


def measure_explorers(notebooks, presses):
    with _lab() as lab, _browser() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(300_000)
        results = []
        for notebook in notebooks:
            try:
                results += measure_notebook(page, lab, notebook, presses)
            except Exception as error:  # noqa: BLE001 - one notebook's failure must not hide the rest
                results.append({"notebook": Path(notebook).stem, "error": f"{type(error).__name__}: {error}"})
        context.close()
    return results


def first_slide_ms(browser, deck):
    """Milliseconds from navigation start until ``deck``, opened offline from file://, shows a slide."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                   else route.abort())
        page.add_init_script(FIRST_SLIDE)
        page.goto(deck.as_uri())
        page.wait_for_function("() => window.__firstSlide !== undefined", timeout=120_000)
        return page.evaluate("() => window.__firstSlide")
    finally:
        context.close()


def deck_times(decks, loads=DECK_LOADS):
    """Per deck, ``loads`` times to the first slide (ms)."""
    with _browser() as browser:
        return {deck.name: [first_slide_ms(browser, deck) for _ in range(loads)] for deck in decks}


def _decks(quick):
    decks = sorted(SLIDES.glob("*.slides.html"))
    if not decks and not quick:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_slides.py")], cwd=ROOT,
                       check=True, capture_output=True, timeout=1800)
        decks = sorted(SLIDES.glob("*.slides.html"))
    return decks[:1] if quick else decks


def _explorer_rows(results):
    rows, verdicts = [], []
    for result in results:
        if "error" in result:
            rows.append([result["notebook"], "—", "—", "—", "—", "—", f"**measurement failed**: "
                         f"{result['error'][:200]}"])
            continue
        changed = Spread([1e-3 * c for c, _ in result["explorer"]])
        shown = Spread([1e-3 * s for _, s in result["explorer"]])
        naive = Spread([1e-3 * s for _, s in result["interact"]])
        ratio = Spread([s / n for (_, s), (_, n) in zip(result["explorer"], result["interact"], strict=True)])
        ok = ratio.median <= TARGET_RATIO and 1e3 * shown.median <= TARGET_MS
        name = f"{result['notebook']} ({result['slider']})"
        rows.append([name, str(len(shown.values)), changed.ms(), shown.ms(), naive.ms(), ratio.ratio(),
                     "yes" if ok else "**no**"])
        verdicts.append((f"{name}: key press to image on screen ≤ {TARGET_RATIO}× interact and "
                         f"≤ {TARGET_MS} ms", ok, f"{ratio.ratio()}, {shown.ms()} ms"))
    return rows, verdicts


def run(quick=False, presses=None):
    presses = presses or (QUICK_PRESSES if quick else PRESSES)
    notebooks = [FIXTURE] if quick else explorer_notebooks()
    results = measure_explorers(notebooks, presses)
    rows, verdicts = _explorer_rows(results)
    decks = _decks(quick)
    deck_rows = [[name, Spread([1e-3 * t for t in times]).ms()] for name, times in deck_times(decks).items()]
    text = (
        f"Measured in JupyterLab in chromium (headless, software rendering), {presses} key presses per "
        "explorer on its first slider, the same on an `ipywidgets.interactive` version of the same plot "
        "(the notebook's update, then the whole figure again as a new inline PNG) in the same page; "
        f"ms: median (min–max) over presses. Target: ≤ {TARGET_RATIO}× interact and ≤ {TARGET_MS} ms. "
        f"Decks: build/slides opened from file:// ({DECK_LOADS} loads each, every non-file request "
        "blocked), navigation start to the first slide shown. "
        f"{'Quick mode: the browser tests fixture explorer and one deck only. ' if quick else ''}"
        f"Load average when this section ended: {' / '.join(f'{v:.2f}' for v in os.getloadavg())}."
    )
    header = ["explorer (slider)", "presses", "key → new image (ms)", "key → on screen (ms)",
              "interact: key → on screen (ms)", "explorer / interact", "target met"]
    extra = [("Time to first slide (ms, from navigation start)", ["deck", "first slide (ms)"], deck_rows)] \
        if deck_rows else []
    if not decks:
        text += " No deck in build/slides (run `make slides`)."
    return section(TITLE, text, header, rows, verdicts, extra)


def main(argv=None):
    """``python -m benchmarks.browser [--quick]``: this section alone, as markdown on stdout."""
    import argparse

    from benchmarks.__main__ import render_section

    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser", description=main.__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    start, started = time.perf_counter(), time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    result = run(args.quick)
    result["seconds"] = time.perf_counter() - start
    # The report's Machine table belongs to the last full run; say when and where this one ran.
    result["text"] += (f" Run on its own (`python -m benchmarks.browser`) at commit {_git_commit()}, "
                       f"{started} UTC.")
    print(render_section(result))


if __name__ == "__main__":
    main()
