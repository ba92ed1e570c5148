"""Interactive explorers: sliders that update one persistent figure in place.

Why not ``ipywidgets.interact`` with a fresh plot per change: a full redraw recomputes contours and
rebuilds every artist (the course measured it at about twice the cost), and the output area
flickers. An ``Explorer`` draws the figure once; on each slider change the notebook's ``update``
function changes artists in place (``set_data``), the figure is rendered to PNG, and an
``ipywidgets.Image`` swaps its bytes. A text readout shows the numbers behind the picture.
Each update's kernel time is kept in ``explorer.update_seconds`` (benchmarks read it).
"""

from __future__ import annotations

import io
import time

import ipywidgets as widgets
from matplotlib.figure import Figure


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


class Explorer:
    """Sliders + one persistent figure + a readout.

    ``update(**values)`` receives the slider values by name, changes the figure's artists and
    returns the readout text (HTML allowed). Use ``explorer.figure`` to draw the initial picture.
    """

    def __init__(self, sliders, update, figsize=(10, 4), ncols=1, nrows=1, dpi=80, **subplot_kw):
        self.sliders = dict(sliders)
        self.update_function = update
        self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        self.axes = self.figure.subplots(nrows, ncols, squeeze=False, **subplot_kw).ravel()
        self.image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        self.update_seconds = []
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
        buffer = io.BytesIO()
        # Fast zlib level: the PNG is shown once, and level 6 costs more than the drawing.
        self.figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        # The layout is computed on the first render and then kept: re-running the constrained
        # layout solver on every slider move doubled the update time.
        self.figure.set_layout_engine("none")
        self.image.value = buffer.getvalue()
        self.readout.value = text or ""
        self.update_seconds.append(time.perf_counter() - start)

    def set(self, **values):
        """Move sliders programmatically (as a user would); each change triggers one update."""
        for name, value in values.items():
            self.sliders[name].value = value

    def widget(self):
        self.refresh()
        controls = widgets.HBox(list(self.sliders.values()), layout=widgets.Layout(flex_flow="row wrap"))
        return widgets.VBox([controls, self.readout, self.image])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget())
