"""Interactive explorers: sliders that update one persistent figure in place.

Why not ``ipywidgets.interact`` with a fresh plot per change: a full redraw recomputes contours and
rebuilds every artist (the course measured it at about twice the cost), and the output area
flickers. An ``Explorer`` draws the figure once; on each slider change the notebook's ``update``
function changes artists in place (``set_data``), the figure is rendered to PNG, and an
``ipywidgets.Image`` swaps its bytes. A text readout shows the numbers behind the picture.
Each update's kernel time is kept in ``explorer.update_seconds`` (benchmarks read it).

Rendering blits, as matplotlib's animation recipe does, but learns by itself what moves: after the
first render, artists that an update made stale (``set_data``, ``set_text``) become *animated*.
Each axes keeps a cached layer of its static artists; an update composites the layers, draws only
the animated artists on top, and redraws an axes' layer only when its limits, scales or artists
change. Tick labels and contours dominate a render, so most slider moves skip them.
"""

from __future__ import annotations

import html
import io
import time
import weakref

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.spines import Spine
from PIL import Image

from course_lib.plots import EXPLORER_CSS_DPI, EXPLORER_PIXEL_RATIO


def slider(description, value, lo, hi, step=None, log=False, readout_format=None):
    """A continuous-update-off slider (one redraw per release or key press, not per pixel).

    With ``log=True``, ``lo``, ``hi`` and ``step`` are base-10 exponents (ipywidgets'
    ``FloatLogSlider`` convention) while ``value`` is the actual value.
    """
    common = dict(description=description, continuous_update=False,
                  style={"description_width": "initial"}, layout=widgets.Layout(width="320px"))
    if log:
        return widgets.FloatLogSlider(value=value, min=lo, max=hi, step=step or 0.05, base=10,
                                      readout_format=readout_format or ".3g", **common)
    if isinstance(value, int) and isinstance(step, int):
        return widgets.IntSlider(value=value, min=lo, max=hi, step=step, **common)
    return widgets.FloatSlider(value=value, min=lo, max=hi, step=step or (hi - lo) / 100,
                               readout_format=readout_format or ".3g", **common)


def choice_slider(description, options, value):
    """A continuous-update-off slider over a fixed list of values (say batch sizes 1, 2, 4, ..., N)."""
    return widgets.SelectionSlider(description=description, options=list(options), value=value,
                                   continuous_update=False, style={"description_width": "initial"},
                                   layout=widgets.Layout(width="320px"))


class _NamedImage(widgets.Image):
    """An Image whose ``tooltip`` becomes the ``title`` of its ``<img>``.

    ipywidgets 8's view writes the title only when the model's ``description`` is empty, and an
    Image has no description at all: the view then fails. An empty one lets the title through.
    """

    description = traitlets.Unicode("").tag(sync=True)


class Explorer:
    """Sliders + one persistent figure + a readout.

    ``update(**values)`` receives the slider values by name, changes the figure's artists and
    returns the readout text (HTML allowed). Use ``explorer.figure`` to draw the initial picture;
    ``alt`` describes it for readers who cannot see it.
    """

    def __init__(self, sliders, update, figsize=(10, 4), ncols=1, nrows=1, alt=None, **subplot_kw):
        self.sliders = dict(sliders)
        self.update_function = update
        # Drawn with EXPLORER_PIXEL_RATIO device pixels per CSS pixel and shown at CSS size: sharp on
        # 2x (HiDPI) screens, at about four times the pixels of a 1x render.
        dpi = EXPLORER_CSS_DPI * EXPLORER_PIXEL_RATIO
        self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(self.figure)  # a pixel buffer to blit into, whatever backend pyplot uses
        self.axes = self.figure.subplots(nrows, ncols, squeeze=False, **subplot_kw).ravel()
        css_width = f"{figsize[0] * EXPLORER_CSS_DPI}px"
        self.alt = alt or ""
        # What the picture shows, for screen readers: the image's title (its accessible name; an Image
        # widget has no alt) and text placed off-screen beside the image.
        self.image = _NamedImage(format="png", layout=widgets.Layout(width=css_width),
                                 tooltip=self.alt or None)
        self.description = widgets.HTML(
            f'<span style="position:absolute;left:-10000px">{html.escape(self.alt)}</span>')
        self.readout = widgets.HTML()
        self.update_seconds = []
        self._base = None  # pixels of the figure's own artists (background, suptitle)
        self._layers = {}  # axes -> (state key, RGB, alpha) of its static artists drawn alone
        self._seen = {}  # axes -> its artists at the last render
        for s in self.sliders.values():
            s.observe(self._on_change, names="value")

    @property
    def values(self):
        return {name: s.value for name, s in self.sliders.items()}

    def _on_change(self, _change=None):
        self.refresh()

    def refresh(self):
        """Run the update with the current slider values and render (timed)."""
        start = time.perf_counter()
        text = self.update_function(**self.values)
        self.image.value = self.render()
        self.readout.value = text or ""
        self.update_seconds.append(time.perf_counter() - start)

    def render(self):
        """The figure as PNG bytes, redrawing only what changed since the last render."""
        first = self._base is None
        if not first:
            self._animate_changed_artists()  # changes the layer keys of the axes that hold them
        if first or self._figure_changed():
            self._draw_base(layout=first)
        self._draw_layers([ax for ax in self.axes if first or self._layers[ax][0] != self._key(ax)])
        canvas = self.figure.canvas
        np.copyto(np.asarray(canvas.buffer_rgba()), self._composite)
        for ax in self.axes:
            # in a full draw's order (by zorder, then as added)
            animated = [a for a in ax.get_children() if a.get_animated()]
            for artist in sorted(animated, key=lambda a: a.get_zorder()):
                ax.draw_artist(artist)
            self._seen[ax] = weakref.WeakSet(ax.get_children())
        buffer = io.BytesIO()
        # Fast zlib level: the PNG is shown once, and level 6 costs more than the drawing.
        Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _draw_base(self, layout):
        """The figure's own layer (background, suptitle) alone; the first time, lay the figure out."""
        canvas = self.figure.canvas
        if layout:
            canvas.draw()  # lays the figure out; the first layout is then kept, because re-running
            self.figure.set_layout_engine("none")  # the constrained-layout solver doubled updates
        renderer = canvas.get_renderer()
        renderer.clear()
        for artist in sorted(self._figure_artists(), key=lambda a: a.get_zorder()):
            artist.draw(renderer)
        self._base = np.asarray(canvas.buffer_rgba())[..., :3].astype(np.float32)
        self._composite = None

    def _draw_layers(self, axes):
        """Redraw the static layer of each given axes alone, then composite the layers over the base:
        axes never paint over each other's cached pixels. When nothing changed, nothing is done."""
        if len(axes) == 0 and self._composite is not None:
            return
        renderer = self.figure.canvas.get_renderer()
        for ax in axes:
            renderer.clear()
            ax.draw(renderer)
            layer = np.asarray(self.figure.canvas.buffer_rgba()).astype(np.float32)
            self._layers[ax] = (self._key(ax), layer[..., :3], layer[..., 3:] / 255)
        composite = self._base.copy()
        for ax in self.axes:
            _, rgb, alpha = self._layers[ax]
            composite += alpha * (rgb - composite)  # "over" onto an opaque background
        self._composite = np.concatenate(
            [composite.round().astype(np.uint8), np.full(composite.shape[:2] + (1,), 255, np.uint8)], axis=-1)

    def _figure_artists(self):
        return [a for a in self.figure.get_children() if a not in self.axes]

    def _figure_changed(self):
        return any(a.stale for a in self._figure_artists() if a is not self.figure.patch)

    def _animate_changed_artists(self):
        """Artists that an update changed are drawn on top of the cached layers from now on. An
        artist added since the last render (a contour set swapped in) stays in its axes' static
        layer, which its arrival makes redraw: drawn on top, it would cover what lies above it."""
        changed = [a for ax in self.axes for a in ax.get_children()
                   if a.stale and not a.get_animated() and a is not ax.patch and a in self._seen[ax]
                   and not isinstance(a, Axis | Spine)]
        for artist in changed:
            artist.set_animated(True)
        return bool(changed)

    @staticmethod
    def _key(ax):
        """What a cached layer depends on: limits, scales and the set of static artists."""
        static = tuple(id(a) for a in ax.get_children() if not a.get_animated())
        return tuple(ax.viewLim.bounds), ax.get_xscale(), ax.get_yscale(), static

    def set(self, **values):
        """Move sliders programmatically (as a user would); each change triggers one update."""
        for name, value in values.items():
            self.sliders[name].value = value

    def widget(self):
        self.refresh()
        controls = widgets.HBox(list(self.sliders.values()), layout=widgets.Layout(flex_flow="row wrap"))
        return widgets.VBox([controls, self.readout, self.description, self.image])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())
