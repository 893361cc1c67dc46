"""Report figures in the paper's style (matplotlib, Agg backend; no display needed).

- :func:`pca_kde`: PCA fitted on real spectra, KDE contours of sim / transferred / real in the
  plane of the first two components, marginal densities on top and right (paper Fig. 5a).
- :func:`difference_violins`: |median_real − median_method| per class and wavelength as violins,
  one dot per (class, wavelength), dashed line at the mean (paper Fig. 5b).
- :func:`mean_spectra`: mean ± sd of the normalised spectra per class and dataset.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import gaussian_kde  # noqa: E402

COLOURS = {"sim": "#1f77b4", "transfer": "#d62728", "real": "#2ca02c"}


def _labels(method: str) -> dict[str, str]:
    return {"sim": "simulated", "transfer": f"transferred ({method})", "real": "real"}


def _sub(x: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    if len(x) <= n:
        return x
    return x[np.random.default_rng(seed).choice(len(x), n, replace=False)]


def pca_kde(
    arrays: dict,
    path: Path,
    method: str,
    class_id: int | None = None,
    class_name: str = "all classes",
) -> Path:
    """PCA-KDE figure of one class (or all) with marginals; returns ``path``."""
    sets = {}
    for key in ("sim", "transfer", "real"):
        x, y = arrays[key]
        sets[key] = _sub(x if class_id is None else x[y == class_id], 1500)
    real = sets["real"]
    mean = real.mean(0)
    _, s, vt = np.linalg.svd(real - mean, full_matrices=False)
    explained = s[:2] ** 2 / (s**2).sum()
    proj = {k: (v - mean) @ vt[:2].T for k, v in sets.items()}
    pts = np.concatenate(list(proj.values()))
    lo, hi = np.percentile(pts, 0.5, 0), np.percentile(pts, 99.5, 0)
    pad = (hi - lo) * 0.15
    lo, hi = lo - pad, hi + pad
    gx, gy = np.linspace(lo[0], hi[0], 80), np.linspace(lo[1], hi[1], 80)
    xx, yy = np.meshgrid(gx, gy)
    fig = plt.figure(figsize=(6, 6))
    grid = fig.add_gridspec(
        2, 2, width_ratios=(4, 1), height_ratios=(1, 4), hspace=0.05, wspace=0.05
    )
    ax = fig.add_subplot(grid[1, 0])
    top = fig.add_subplot(grid[0, 0], sharex=ax)
    right = fig.add_subplot(grid[1, 1], sharey=ax)
    names = _labels(method)
    for key, p in proj.items():
        if len(p) < 5 or np.any(p.std(0) < 1e-9 * (np.abs(p).max() + 1e-30)):
            continue
        try:
            gaussian_kde(p.T)
        except np.linalg.LinAlgError:  # degenerate (e.g. collinear) cloud: no density to draw
            continue
        style = "--" if key == "transfer" and method == "none" else "-"
        kde = gaussian_kde(p.T)
        z = kde(np.vstack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
        if np.isfinite(z).all() and z.max() > 0:
            ax.contour(
                xx,
                yy,
                z,
                levels=z.max() * np.array([0.1, 0.4, 0.7]),
                colors=COLOURS[key],
                linestyles=style,
            )
        top.plot(gx, gaussian_kde(p[:, 0])(gx), color=COLOURS[key], ls=style, label=names[key])
        right.plot(gaussian_kde(p[:, 1])(gy), gy, color=COLOURS[key], ls=style)
    ax.set_xlabel(f"PC 1 of real ({explained[0]:.0%} of variance)")
    ax.set_ylabel(f"PC 2 of real ({explained[1]:.0%})")
    corner = fig.add_subplot(grid[0, 1])
    corner.axis("off")
    corner.legend(*top.get_legend_handles_labels(), fontsize=7, loc="center", frameon=False)
    top.set_title(f"PCA fitted on real spectra: {class_name}", fontsize=10)
    for a in (top, right):
        a.tick_params(labelbottom=False, labelleft=False)
        a.set_yticks([]) if a is top else a.set_xticks([])
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def difference_violins(arrays: dict, wavelengths: np.ndarray, path: Path, method: str) -> Path:
    """Violins of |median_real − median_method| over classes × wavelengths; returns ``path``."""
    names = _labels(method)
    data = {"sim": arrays["diff_sim"], "transfer": arrays["diff_transfer"]}
    fig, ax = plt.subplots(figsize=(5, 4))
    for i, (key, d) in enumerate(data.items()):
        vals = d.ravel()
        parts = ax.violinplot(vals, positions=[i], showextrema=False, widths=0.8)
        for body in parts["bodies"]:
            body.set_facecolor(COLOURS[key])
            body.set_alpha(0.35)
        jitter = np.random.default_rng(i).uniform(-0.12, 0.12, vals.size)
        ax.scatter(
            i + jitter, vals, s=3, c=np.tile(wavelengths, d.shape[0]), cmap="viridis", alpha=0.6
        )
        ax.hlines(vals.mean(), i - 0.4, i + 0.4, colors="k", linestyles="--")
    ax.set_xticks([0, 1], [names["sim"], names["transfer"]])
    ax.set_ylabel("|median real − median dataset| (normalised)")
    ax.set_title("Difference to real per class and wavelength", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def mean_spectra(
    arrays: dict, wavelengths: np.ndarray, path: Path, method: str, class_names: dict[int, str]
) -> Path:
    """Mean ± sd normalised spectra per class for sim, transferred and real; returns ``path``."""
    classes = sorted(class_names)
    cols = min(5, len(classes))
    rows = int(np.ceil(len(classes) / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.2 * cols, 2.6 * rows), sharex=True, squeeze=False
    )
    names = _labels(method)
    for ax, c in zip(axes.ravel(), classes, strict=False):
        for key in ("sim", "transfer", "real"):
            x, y = arrays[key]
            sel = x[y == c]
            if not len(sel):
                continue
            m, s = sel.mean(0), sel.std(0)
            ls = "--" if key == "transfer" and method == "none" else "-"
            ax.plot(wavelengths, m, color=COLOURS[key], ls=ls, label=names[key], lw=1.2)
            ax.fill_between(wavelengths, m - s, m + s, color=COLOURS[key], alpha=0.12)
        ax.set_title(class_names[c], fontsize=9)
    for ax in axes.ravel()[len(classes) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("wavelength (nm)")
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.suptitle("Mean ± sd of normalised spectra per class (real: test subjects)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
