"""The Latent space dock's plots: the PCA/KDE view with marginals and lasso (:class:`CloudPlot`)
and the per-dimension std strip of every layer (:class:`HealthPlot`)."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.widgets import LassoSelector

from napari_cinn.core.clouds import ProjectionResult
from napari_cinn.core.latent_health import LatentHealth
from napari_cinn.widgets._plot import FOREGROUND, PALETTE, PlotCanvas, header_legend, style_axes

_LEFT, _TOP = 0.2, 0.95  # axes margins (figure fraction); the legend strip lowers the top


def color(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


class CloudPlot(PlotCanvas):
    """KDE contours over a light scatter per layer, marginal densities on top and right (Fig. 5a),
    clicked-pixel stars, and a lasso calling ``on_lasso(vertices)``."""

    def __init__(self, parent, on_lasso):
        super().__init__(parent, figsize=(4.0, 4.0))
        self.canvas.setMinimumHeight(340)
        gs = self.figure.add_gridspec(
            2, 2, width_ratios=(4, 1), height_ratios=(1, 4), wspace=0.05, hspace=0.05
        )
        self.ax = self.figure.add_subplot(gs[1, 0])
        self.ax_top = self.figure.add_subplot(gs[0, 0], sharex=self.ax)
        self.ax_right = self.figure.add_subplot(gs[1, 1], sharey=self.ax)
        self.figure.subplots_adjust(left=_LEFT, right=0.97, top=_TOP, bottom=0.14)
        self.legend = None
        for a in (self.ax, self.ax_top, self.ax_right):
            style_axes(a)
        self.ax_top.tick_params(labelbottom=False, labelleft=False)
        self.ax_right.tick_params(labelleft=False, labelbottom=False)
        self.lasso = LassoSelector(
            self.ax, on_lasso, useblit=True, props={"color": FOREGROUND, "lw": 1}
        )
        # the selection: small white dots (rings merge into a blob in a dense cloud) and the
        # outline of the lasso that made it
        self.selected = self.ax.scatter([], [], s=3, color="white", alpha=0.5, lw=0)
        self.add_animated(self.selected)
        (self.outline,) = self.ax.plot([], [], color="white", lw=1.0, ls="--")
        self.add_animated(self.outline)
        self.marks: list = []

    def show_selection(self, points: np.ndarray, vertices) -> None:
        verts = np.asarray(vertices, dtype=float).reshape(-1, 2)
        self.selected.set_offsets(points)
        closed = np.vstack([verts, verts[:1]])
        self.outline.set_data(closed[:, 0], closed[:, 1])
        self.blit()

    def set_marks(self, marks: list) -> None:
        """Stars at ``[(k, (x, y))]`` in layer ``k``'s colour (replacing earlier ones)."""
        self._clear_marks()
        for k, (x, y) in marks:
            (m,) = self.ax.plot(
                [x], [y], marker="*", ms=13, color=color(k), markeredgecolor="white", ls="none"
            )
            self.add_animated(m)
            self.marks.append(m)
        self.blit()

    def _clear_marks(self) -> None:
        for m in self.marks:
            self.remove_animated(m)
            m.remove()
        self.marks = []

    def show_result(self, res: ProjectionResult) -> None:
        self._clear_marks()
        keep = {
            id(self.selected),
            id(self.outline),
            *(id(a) for a in getattr(self.lasso, "artists", ())),
        }
        for a in (self.ax, self.ax_top, self.ax_right):
            for artist in [*a.lines, *a.collections]:
                if id(artist) not in keep:
                    artist.remove()
        self.selected.set_offsets(np.zeros((0, 2)))
        self.outline.set_data([], [])
        handles = []
        for k, cloud in enumerate(res.clouds):
            self._draw_cloud(cloud, color(k))
            label = cloud.name + (" (reference)" if cloud.name == res.reference else "")
            handles.append(Line2D([], [], color=color(k), lw=2, label=label))
        x0, x1, y0, y1 = res.extent
        self.ax.set_xlim(x0, x1)
        self.ax.set_ylim(y0, y1)
        self.ax_top.set_ylim(bottom=0)
        self.ax_right.set_xlim(left=0)
        self.ax.set_xlabel(res.pca.axis_label(0))
        self.ax.set_ylabel(res.pca.axis_label(1))
        if self.legend is not None:
            self.legend.remove()
        # legend in a strip above the marginal plot: it never covers contours or points
        noise = " + model noise" if res.source_noise else ""  # once here, not in every label
        title = f"{res.space} space{noise}, PCA of the reference"
        self.legend, height = header_legend(self.figure, handles, left=_LEFT, title=title)
        self.set_header(height, top=_TOP)
        self.draw_idle()

    def _draw_cloud(self, cloud, c: str) -> None:
        p = cloud.points
        if cloud.kde is None:
            self.ax.scatter(p[:, 0], p[:, 1], s=10, color=c, alpha=0.8, lw=0)
            return
        step = max(1, len(p) // 3000)  # light scatter, subsampled for speed
        self.ax.scatter(p[::step, 0], p[::step, 1], s=2, color=c, alpha=0.15, lw=0)
        g = cloud.kde
        self.ax.contour(g.x, g.y, g.density, levels=g.levels, colors=[c], linewidths=1.1)
        self.ax_top.plot(g.x, g.marginal_x, color=c, lw=1.2)
        self.ax_top.fill_between(g.x, g.marginal_x, color=c, alpha=0.2, lw=0)
        self.ax_right.plot(g.marginal_y, g.y, color=c, lw=1.2)
        self.ax_right.fill_betweenx(g.y, g.marginal_y, color=c, alpha=0.2, lw=0)


#: the std strip's colour scale: log2(std) from 1/4 to 4, white at std 1 (N(0, 1))
_STD_NORM = TwoSlopeNorm(vmin=-2.0, vcenter=0.0, vmax=2.0)


class HealthPlot(PlotCanvas):
    """One row per layer, one cell per latent dimension, coloured by that dimension's std
    (log scale, white = 1 as N(0, 1) wants, blue = a thin core, red = too wide)."""

    def __init__(self, parent=None):
        super().__init__(parent, figsize=(4.0, 2.4), toolbar=False)
        self.canvas.setMinimumHeight(180)
        self.ax = self.figure.add_subplot(111)
        self.figure.subplots_adjust(left=0.3, right=0.86, top=0.8, bottom=0.2)
        self.set_header(0.0, top=0.8)  # keep the title's room on resize
        self.cax = self.figure.add_axes((0.89, 0.2, 0.025, 0.6))
        style_axes(self.ax)
        style_axes(self.cax)
        self.image = None
        self.ax.set_title("latent std per dimension", fontsize=8)
        self.ax.set_xticks([])
        self.ax.set_yticks([])

    def show_health(self, rows: list[tuple[str, LatentHealth]]) -> None:
        self.ax.clear()
        self.cax.clear()
        style_axes(self.ax)
        self.ax.set_title("latent std per dimension", fontsize=8)
        if not rows:
            self.image = None
            self.ax.set_xticks([])
            self.ax.set_yticks([])
            self.draw_idle()
            return
        std = np.vstack([h.std for _, h in rows])
        strip = np.log2(np.clip(std, 2.0**-4, 2.0**4))
        self.image = self.ax.imshow(
            strip, aspect="auto", cmap="RdBu_r", norm=_STD_NORM, interpolation="nearest"
        )
        names = [textwrap.fill(name, 16) for name, _ in rows]  # long layer names on two lines
        self.ax.set_yticks(range(len(rows)), names, fontsize=7)
        self.ax.set_xlabel("latent dimension", fontsize=8)
        bar = self.figure.colorbar(self.image, cax=self.cax, ticks=[-2, -1, 0, 1, 2])
        bar.ax.set_yticklabels(["¼", "½", "1", "2", "4"], fontsize=7, color=FOREGROUND)
        bar.ax.set_title("std", fontsize=7, color=FOREGROUND)
        self.draw_idle()
