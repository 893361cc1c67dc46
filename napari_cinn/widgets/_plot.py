"""A matplotlib figure embedded in Qt, with the standard toolbar (zoom, pan, save PNG).

Shared by the Spectra, Latent space and Compare docks. The figure follows napari's dark theme.

Fast updates: artists registered with :meth:`PlotCanvas.add_animated` are left out of the full
redraw and drawn on top of a cached background by :meth:`PlotCanvas.blit` (a few ms instead of a
full redraw). Saving a PNG from the toolbar includes them.
"""

from __future__ import annotations

import time

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg, NavigationToolbar2QT
from matplotlib.figure import Figure
from qtpy.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

FOREGROUND = "#d6d6d6"
BACKGROUND = "#262930"  # napari dark theme background

#: colours cycled over layers (colour-blind safe, Okabe–Ito)
PALETTE = ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#0072B2", "#ffffff")


def style_axes(ax) -> None:
    """Dark background, light text and ticks on ``ax``."""
    ax.set_facecolor(BACKGROUND)
    for spine in ax.spines.values():
        spine.set_color(FOREGROUND)
    ax.tick_params(colors=FOREGROUND, which="both", labelsize=8)
    ax.xaxis.label.set_color(FOREGROUND)
    ax.yaxis.label.set_color(FOREGROUND)
    ax.title.set_color(FOREGROUND)


def style_legend(legend) -> None:
    if legend is None:
        return
    legend.get_frame().set_facecolor(BACKGROUND)
    legend.get_frame().set_edgecolor(FOREGROUND)
    for text in legend.get_texts():
        text.set_color(FOREGROUND)
    title = legend.get_title()
    if title is not None:
        title.set_color(FOREGROUND)


def header_legend(
    figure, handles, *, left: float, ncol: int = 2, fontsize: float = 7, title: str | None = None
):
    """A figure legend in a strip above the axes (it never covers the data).

    ``left`` is the axes' left edge (figure fraction) so the legend lines up with them. Returns
    ``(legend, height_px)``: reserve ``height_px`` at the top with :meth:`PlotCanvas.set_header`.
    """
    rows = -(-len(handles) // ncol) if handles else 0
    if not rows and title is None:
        return None, 0.0
    legend = figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(left, 1.0),
        ncol=ncol,
        fontsize=fontsize,
        frameon=False,
        title=title,
        title_fontsize=fontsize,
        alignment="left",
        borderaxespad=0.2,
        handlelength=1.8,
        columnspacing=1.2,
        labelspacing=0.35,
        borderpad=0.2,
    )
    style_legend(legend)
    font_px = fontsize * figure.dpi / 72
    height = font_px * (1.35 * (rows + (title is not None)) + 1.0)
    return legend, height


class _Canvas(FigureCanvasQTAgg):
    """The Qt canvas; records when it last painted (what the user sees changed)."""

    painted_at = 0.0

    def paintEvent(self, event):
        super().paintEvent(event)
        self.painted_at = time.perf_counter()


class PlotCanvas(QWidget):
    """A ``Figure`` on a Qt canvas with a navigation toolbar above it.

    Attributes: ``figure``, ``canvas`` (FigureCanvasQTAgg), ``toolbar``; ``last_update``
    (``time.perf_counter()`` when the canvas last painted on screen).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        figsize=(4.0, 3.0),
        toolbar: bool = True,
        layout: str | None = None,
    ):
        """``layout``: matplotlib layout engine (None: fixed margins, fastest redraw; "constrained"
        re-solves the layout on every draw, which costs about half of a redraw)."""
        super().__init__(parent)
        # wants vertical space: napari then adds no stretch under the dock and the plot fills it
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.figure = Figure(figsize=figsize, facecolor=BACKGROUND, layout=layout)
        self.canvas = _Canvas(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(220)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.toolbar = NavigationToolbar2QT(self.canvas, self) if toolbar else None
        if self.toolbar is not None:
            box.addWidget(self.toolbar)
        box.addWidget(self.canvas)
        self._animated: list = []
        self._background = None
        self._header = (0.0, 0.95)
        self.canvas.mpl_connect("draw_event", self._on_draw)
        self.canvas.mpl_connect("resize_event", lambda _: self._apply_header())
        self._savefig = self.figure.savefig
        self.figure.savefig = self._savefig_with_animated  # toolbar "save" uses figure.savefig

    # -- full redraws
    def draw(self) -> None:
        """Redraw now (synchronous; used where timing or screenshots need the final image)."""
        self.canvas.draw()

    def draw_idle(self) -> None:
        self._background = None
        self.canvas.draw_idle()

    # -- layout
    def set_header(self, height_px: float, top: float = 0.95) -> None:
        """Keep ``height_px`` pixels free above the axes (for a :func:`header_legend`), also after
        the dock is resized; ``top`` is the axes' top (figure fraction) when there is no header."""
        self._header = (float(height_px), float(top))
        self._apply_header()

    def _apply_header(self) -> None:
        height_px, top = self._header
        fig_px = self.figure.get_size_inches()[1] * self.figure.dpi
        if height_px > 0 and fig_px > 0:
            top = min(top, max(0.5, 1.0 - height_px / fig_px))
        if abs(self.figure.subplotpars.top - top) > 1e-4:
            self.figure.subplots_adjust(top=top)
            self._background = None

    # -- blitting
    def add_animated(self, artist) -> None:
        artist.set_animated(True)
        self._animated.append(artist)

    def remove_animated(self, artist) -> None:
        if artist in self._animated:
            self._animated.remove(artist)

    def blit(self) -> None:
        """Show changed animated artists over the cached background (full redraw if none yet)."""
        if self._background is None:
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self._background)
        self._draw_animated()
        axes = {a.axes for a in self._animated if a.axes is not None}
        bbox = next(iter(axes)).bbox if len(axes) == 1 else self.figure.bbox
        self.canvas.blit(bbox)

    def _draw_animated(self) -> None:
        for artist in self._animated:
            if artist.figure is self.figure and artist.get_visible():
                self.figure.draw_artist(artist)

    def _on_draw(self, event) -> None:
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_animated()

    @property
    def last_update(self) -> float:
        return self.canvas.painted_at

    def _savefig_with_animated(self, *args, **kwargs):
        live = [a for a in self._animated if a.figure is self.figure]
        for a in live:
            a.set_animated(False)
        try:
            return self._savefig(*args, **kwargs)
        finally:
            for a in live:
                a.set_animated(True)
            self.draw_idle()
