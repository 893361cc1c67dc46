"""Write the report folder: ``metrics.json``, ``report.md`` (tables) and three PNG figures."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from napari_cinn_training.evaluate.figures import difference_violins, mean_spectra, pca_kde

ROWS = (
    ("bacc_sim", "balanced accuracy, trained on sim"),
    ("bacc_transfer", "balanced accuracy, trained on transferred sim"),
    ("bacc_real", "balanced accuracy, trained on real (upper bound)"),
    ("gap_closed", "share of the gap closed"),
    ("f1_sim", "macro-F1, sim"),
    ("f1_transfer", "macro-F1, transferred"),
    ("f1_real", "macro-F1, real"),
    ("auroc_sim", "AUROC, sim"),
    ("auroc_transfer", "AUROC, transferred"),
    ("auroc_real", "AUROC, real"),
    ("c2st_auc", "C2ST AUC transferred vs real (0.5 ideal)"),
    ("c2st_auc_sim_real", "C2ST AUC sim vs real"),
    ("c2st_auc_sim_transfer", "C2ST AUC sim vs transferred (0.5: transfer did nothing)"),
    ("c2st_auc_real_real", "C2ST AUC real vs other real subjects (the floor for transferred)"),
    ("mmd", "MMD² transferred vs real"),
    ("mmd_sim_real", "MMD² sim vs real"),
    ("frechet", "Fréchet distance (PCA of real) transferred vs real"),
    ("frechet_sim_real", "Fréchet distance sim vs real"),
    ("wavelength_diff", "mean per-wavelength abs. difference of medians, transferred vs real"),
    ("wavelength_diff_sim", "mean per-wavelength abs. difference of medians, sim vs real"),
    ("latent_std_sim", "latent health: median per-dim std, sim (as trained: with its noise)"),
    ("latent_std_sim_clean", "latent health: median per-dim std, sim without noise"),
    ("latent_std_real", "latent health: median per-dim std, real"),
    ("latent_w2_sim", "latent health: mean Gaussian W2 to N(0,1), sim"),
    ("latent_w2_real", "latent health: mean Gaussian W2 to N(0,1), real"),
)


def _fmt(stat: dict | None) -> str:
    if not stat or stat.get("mean") is None:
        return "n/a"
    mean, std = stat["mean"], stat["std"]
    digits = 3 if abs(mean) >= 1e-3 or mean == 0 else 6
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def markdown(metrics: dict) -> str:
    """The report's Markdown: headline table and one line per classifier family."""
    lines = [
        f"# Evaluation: method `{metrics['method']}`",
        "",
        f"sim: `{metrics['sim']}` ({metrics['n_sim_subjects']} subjects); real: "
        f"`{metrics['real']}` ({metrics['n_real_subjects']} subjects, split by subject per "
        f"seed); seeds {metrics['seeds']}; {metrics['pixels_per_image']} pixels per image; "
        f"{metrics['norm']}-normalised spectra; classes: "
        + ", ".join(f"{k} {v}" for k, v in metrics["classes"].items())
        + ".",
        "",
    ]
    if "fit_real" in metrics:
        lines += [
            f"The method's fit saw the unlabelled real spectra of: {metrics['fit_real']}.",
            "",
        ]
    lines += [
        f"Headline classifier: `{metrics['headline_classifier']}`. Mean ± std over seeds.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    lines += [f"| {label} | {_fmt(metrics.get(key))} |" for key, label in ROWS if key in metrics]
    lines += [
        "",
        "| classifier | bacc sim | bacc transferred | bacc real | gap closed |",
        "|---|---|---|---|---|",
    ]
    for kind, d in metrics["by_classifier"].items():
        lines.append(
            f"| {kind} | {_fmt(d.get('bacc_sim'))} | {_fmt(d.get('bacc_transfer'))} | "
            f"{_fmt(d.get('bacc_real'))} | {_fmt(d.get('gap_closed'))} |"
        )
    lines += [
        "",
        "![PCA KDE](pca_kde.png)",
        "",
        "![differences](difference_violins.png)",
        "",
        "![mean spectra](mean_spectra.png)",
        "",
    ]
    if "latent_std_real" in metrics:
        lines += ["![latent health](latent_health.png)", ""]
    return "\n".join(lines)


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def write_report(metrics: dict, arrays: dict, out: Path, *, overwrite: bool = False) -> list[Path]:
    """Write the report files into ``out`` (created); refuses to overwrite unless asked."""
    out = Path(out)
    names = [
        "metrics.json",
        "report.md",
        "pca_kde.png",
        "difference_violins.png",
        "mean_spectra.png",
    ]
    if "latent_std" in arrays:
        names.append("latent_health.png")
    taken = [n for n in names if (out / n).exists()]
    if taken and not overwrite:
        raise FileExistsError(f"{out} already holds {', '.join(taken)} (pass --overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    tmp = {n: out / f".tmp-{os.getpid()}-{n}" for n in names}
    try:
        tmp["metrics.json"].write_text(json.dumps(_clean(metrics), indent=1))
        tmp["report.md"].write_text(markdown(metrics))
        wl = arrays["wavelengths"]
        classes = {int(k): v for k, v in metrics["classes"].items()}
        # the paper shows veins for PAT; for many classes, pool them
        focus = next((c for c, n in classes.items() if n == "vein"), None)
        pca_kde(
            arrays,
            tmp["pca_kde.png"],
            metrics["method"],
            focus,
            classes[focus] if focus is not None else "all classes",
        )
        difference_violins(arrays, wl, tmp["difference_violins.png"], metrics["method"])
        mean_spectra(arrays, wl, tmp["mean_spectra.png"], metrics["method"], classes)
        if "latent_std" in arrays:
            from napari_cinn_training.evaluate.latent import latent_strip

            latent_strip(
                arrays["latent_std"],
                tmp["latent_health.png"],
                f"latent health: {metrics['method']}",
            )
        for n in names:
            os.replace(tmp[n], out / n)
    finally:
        for p in tmp.values():
            p.unlink(missing_ok=True)
    return [out / n for n in names]


__all__ = ["markdown", "write_report"]
