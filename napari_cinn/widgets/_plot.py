"""A matplotlib figure embedded in Qt, with the standard toolbar (zoom, pan, save PNG).

Shared by the Spectra, Latent space and Compare docks. The figure follows napari's dark theme
closely enough to be readable; screenshots and PNG exports keep the same look.
"""

from __future__ import annotations

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


class PlotCanvas(QWidget):
    """A ``Figure`` on a Qt canvas with a navigation toolbar above it.

    Attributes: ``figure``, ``canvas`` (FigureCanvasQTAgg), ``toolbar``.
    """

    def __init__(self, parent: QWidget | None = None, *, figsize=(4.0, 3.0), toolbar: bool = True):
        super().__init__(parent)
        self.figure = Figure(figsize=figsize, facecolor=BACKGROUND, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.toolbar = NavigationToolbar2QT(self.canvas, self) if toolbar else None
        if self.toolbar is not None:
            layout.addWidget(self.toolbar)
        layout.addWidget(self.canvas)

    def draw(self) -> None:
        """Redraw now (synchronous; used where timing or screenshots need the final image)."""
        self.canvas.draw()

    def draw_idle(self) -> None:
        self.canvas.draw_idle()
