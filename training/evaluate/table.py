"""``cinn-train table``: pool evaluation reports (e.g. several training seeds) into one Markdown table.

Each argument is ``LABEL=PATTERN`` or a report folder; every folder matched by a pattern holds a
``metrics.json`` from ``cinn-train evaluate``. Folders under one label are pooled: the table gives
mean ± std over all their per-seed values (training seeds × evaluation seeds) and, for the gap
closed, the std of the per-folder means (the spread between training runs). Besides the headline
classifier's gap closed there is one column per other classifier family of the reports, and the
fit time per evaluation seed of methods fitted inside the evaluation. Example::

    cinn-train table none=reports/pat_none "cINN=reports/pat_cinn_s*" "UNIT=reports/pat_unit_s*"
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

import numpy as np

from napari_cinn_training.evaluate.data import EvaluationError

#: (metrics.json key, column title)
COLUMNS = (
    ("bacc_transfer", "bacc transferred"),
    ("gap_closed", "gap closed"),
    ("c2st_auc", "C2ST AUC (transferred vs real)"),
    ("mmd", "MMD²"),
)


def _expand(spec: str) -> tuple[str, list[Path]]:
    label, sep, pattern = spec.partition("=")
    if not sep:
        label, pattern = Path(spec).name, spec
    folders = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_dir())
    if not folders:
        raise EvaluationError(f"{pattern!r} matches no report folder")
    missing = [str(f) for f in folders if not (f / "metrics.json").is_file()]
    if missing:
        raise EvaluationError(
            f"no metrics.json in {', '.join(missing)} (run cinn-train evaluate first)"
        )
    return label, folders


def pool(folders: list[Path]) -> dict:
    """Pooled figures of several reports: ``{key: {"mean", "std", "n"}}`` plus ``runs``."""
    reports = [json.loads((f / "metrics.json").read_text()) for f in folders]
    out: dict = {"runs": len(reports), "seeds": len(reports[0]["seeds"])}
    for key in (
        "bacc_sim",
        "bacc_real",
        "c2st_auc_real_real",
        *(k for k, _ in COLUMNS),
        "fit_seconds",
    ):
        per_run = [[v for v in r.get(key, {}).get("values", []) if v is not None] for r in reports]
        values = [v for run in per_run for v in run]
        if not values:
            continue
        out[key] = _pooled(per_run)
    headline = reports[0].get("headline_classifier")
    for kind in reports[0].get("by_classifier", {}):
        if kind == headline:
            continue
        per_run = [
            [v for v in r["by_classifier"].get(kind, {}).get("gap_closed", {}).get("values", [])]
            for r in reports
        ]
        per_run = [[v for v in run if v is not None] for run in per_run]
        out[f"gap_closed:{kind}"] = _pooled(per_run) if any(per_run) else None
    return out


def _pooled(per_run: list[list[float]]) -> dict:
    values = [v for run in per_run for v in run]
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "n": len(values),
        "run_means": [float(np.mean(run)) for run in per_run if run],
    }


def _cell(stat: dict | None, spread: bool = False) -> str:
    if not stat:
        return "n/a"
    text = f"{stat['mean']:.3f} ± {stat['std']:.3f}"
    if spread and len(stat["run_means"]) > 1:
        text += f" (runs {np.std(stat['run_means']):.3f})"
    return text


def markdown_table(rows: list[tuple[str, dict]]) -> str:
    """One row per label; ``n`` = reports × evaluation seeds."""
    extra = sorted({k for _, stats in rows for k in stats if k.startswith("gap_closed:")})
    columns = [*COLUMNS, *((k, f"gap closed ({k.split(':')[1]})") for k in extra)]
    if any("fit_seconds" in stats for _, stats in rows):
        columns.append(("fit_seconds", "fit s / seed"))
    head = ["method", "n", *(title for _, title in columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, stats in rows:
        n = f"{stats['runs']} × {stats['seeds']}"
        cells = [_cell(stats.get(key), spread=key.startswith("gap_closed")) for key, _ in columns]
        lines.append("| " + " | ".join([label, n, *cells]) + " |")
    ref = rows[0][1]
    if "bacc_sim" in ref and "bacc_real" in ref:
        lines += [
            "",
            f"bacc sim {_cell(ref['bacc_sim'])}, bacc real {_cell(ref['bacc_real'])} "
            f"(first row's reports); mean ± std over all seeds, '(runs …)' = std of the "
            "per-report means.",
        ]
    if "c2st_auc_real_real" in ref:  # the same subject splits for every method: one floor
        lines.append(
            f"C2ST AUC of real subjects against other real subjects (the floor): "
            f"{_cell(ref['c2st_auc_real_real'])}."
        )
    return "\n".join(lines)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0].split(": ", 1)[1]
    parser.add_argument(
        "reports",
        nargs="+",
        metavar="LABEL=PATTERN",
        help="report folders of cinn-train evaluate; LABEL=glob pools several",
    )
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def run(args: argparse.Namespace) -> int:
    try:
        rows = [(label, pool(folders)) for label, folders in map(_expand, args.reports)]
    except (EvaluationError, json.JSONDecodeError, KeyError) as err:
        print(f"cinn-train table: {err}", file=sys.stderr)
        return 1
    text = markdown_table(rows)
    if args.out:
        from napari_cinn.core.files import atomic_targets

        try:
            with atomic_targets(args.out, overwrite=args.overwrite) as (tmp,):
                tmp.write_text(text + "\n")
        except FileExistsError as err:
            print(f"cinn-train table: {err}", file=sys.stderr)
            return 1
    print(text)
    return 0
