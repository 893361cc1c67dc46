"""The Spectra dock's plot: curves drawn in place (lines reused), legend strip, λ marker.

Plot speed: matplotlib with the lines kept and only their data replaced; pixel lines are blitted
over a cached background when only they changed (see ``benchmarks/bench_spectra_click.py``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from napari_cinn.widgets._logic.spectra import NM, Curve, view
from napari_cinn.widgets._plot import FOREGROUND, PALETTE, PlotCanvas, header_legend, style_axes

#: line style and legend text per kind of curve
KINDS = {"pixel": ("-", "clicked pixel"), "pin": ("--", "pinned"), "roi": (":", "ROI mean ± std")}
_TOP, _LEFT = 0.96, 0.16  # axes top (figure fraction) while no legend is shown; axes left


class SpectraPlot(PlotCanvas):
    """Spectra against wavelength: ``lines`` and ``fills`` by curve key, ``legend``,
    ``lambda_line`` (the λ slider's wavelength)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ax = self.figure.add_subplot(111)
        self.figure.subplots_adjust(left=_LEFT, right=0.97, top=_TOP, bottom=0.16)
        style_axes(self.ax)
        self.ax.set_xlabel(NM)
        self.ax.set_ylabel("value")
        self.lambda_line = self.ax.axvline(np.nan, color="#888888", ls="--", lw=0.8)
        self.lines: dict[str, Line2D] = {}
        self.fills: dict[str, object] = {}
        self.legend = None
        self._legend_entries: tuple[str, ...] = ()
        self._colors: dict[str, str] = {}

    def color(self, layer: str) -> str:
        if layer not in self._colors:
            self._colors[layer] = PALETTE[len(self._colors) % len(PALETTE)]
        return self._colors[layer]

    def set_axis_labels(self, x_axis: str, l1_view: bool) -> None:
        self.ax.set_xlabel(x_axis)
        self.ax.set_ylabel("value (L1-normalised)" if l1_view else "value")

    def set_lambda(self, x: float | None) -> None:
        if x is not None:
            self.lambda_line.set_xdata([x, x])
            self.draw_idle()

    def show(self, curves: list[Curve], l1_view: bool) -> None:
        """Update the artists in place (new lines only for new curves), then show them: blitted
        when only pixel lines changed and still fit the axes limits, else redrawn when idle."""
        full = self._remove_stale({c.key for c in curves})
        for c in curves:
            full = self._draw_curve(c, view(c, l1_view), full) or full
        entries = self._entries(curves)
        if entries != self._legend_entries:
            self._legend_entries = entries
            self._draw_legend(entries)
            full = True
        full = self._fit_limits(curves, l1_view) or full
        if full:
            self.draw_idle()
        else:
            self.blit()

    # ---- internals
    def _remove_stale(self, keys: set[str]) -> bool:
        full = False
        for key in [k for k in self.lines if k not in keys]:
            line = self.lines.pop(key)
            self.remove_animated(line)
            line.remove()
            full = True
        for key in [k for k in self.fills if k not in keys]:
            self.fills.pop(key).remove()
            full = True
        return full

    def _draw_curve(self, c: Curve, y: np.ndarray, full: bool) -> bool:
        """Draw one curve; True when that needs a full redraw."""
        changed = False
        line = self.lines.get(c.key)
        if line is None:
            (line,) = self.ax.plot(
                c.x, y, KINDS[c.kind][0], color=self.color(c.layer), lw=1.4, label=c.label
            )
            self.lines[c.key] = line
            if c.kind == "pixel":
                self.add_animated(line)
            changed = True
        else:
            line.set_data(c.x, y)
            if line.get_label() != c.label:
                line.set_label(c.label)
        if c.kind == "roi" and (full or changed or c.key not in self.fills):
            old = self.fills.pop(c.key, None)
            if old is not None:
                old.remove()
            self.fills[c.key] = self.ax.fill_between(
                c.x, y - c.std, y + c.std, color=self.color(c.layer), alpha=0.25, lw=0
            )
            changed = True
        return changed

    @staticmethod
    def _entries(curves: list[Curve]) -> tuple[str, ...]:
        """Legend: one entry per layer (its colour), then one per kind of curve shown (style)."""
        layers = tuple(dict.fromkeys(c.layer for c in curves))
        kinds = tuple(k for k in KINDS if any(c.kind == k for c in curves))
        return (*layers, *(f"kind:{k}" for k in kinds))

    def _draw_legend(self, entries: tuple[str, ...]) -> None:
        """A legend strip above the axes, so it never hides spectra however many are plotted."""
        if self.legend is not None:
            self.legend.remove()
        handles = []
        for entry in entries:
            if entry.startswith("kind:"):
                style, text = KINDS[entry[5:]]
                handles.append(Line2D([], [], ls=style, color=FOREGROUND, lw=1.4, label=text))
            else:
                handles.append(Line2D([], [], color=self.color(entry), lw=2.5, label=entry))
        self.legend, height = header_legend(self.figure, handles, left=_LEFT)
        self.set_header(height, top=_TOP)

    def _fit_limits(self, curves: list[Curve], l1_view: bool) -> bool:
        """New axes limits when the data leave the view or fill too little of it; True if set."""
        xs = [c.x for c in curves]
        ys = [view(c, l1_view) for c in curves]
        ys += [view(c, l1_view) + s * c.std for c in curves if c.std is not None for s in (-1, 1)]
        ys = [y[np.isfinite(y)] for y in ys]
        ys = [y for y in ys if y.size]
        if not xs or not ys:
            return False
        x0, x1 = min(float(np.min(x)) for x in xs), max(float(np.max(x)) for x in xs)
        y0, y1 = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
        (vx0, vx1), (vy0, vy1) = self.ax.get_xlim(), self.ax.get_ylim()
        span = max(y1 - y0, 1e-12 * max(abs(y0), abs(y1), 1.0))
        fits = (
            vx0 <= x0
            and x1 <= vx1
            and (x1 - x0) >= 0.8 * (vx1 - vx0)
            and vy0 <= y0
            and y1 <= vy1
            and span >= 0.4 * (vy1 - vy0)
        )
        if fits:
            return False
        xpad = 0.02 * (x1 - x0 or 1.0)
        self.ax.set_xlim(x0 - xpad, x1 + xpad)
        self.ax.set_ylim(y0 - 0.08 * span, y1 + 0.08 * span)
        return True
