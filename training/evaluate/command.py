"""``cinn-train evaluate``: score a transfer method on downstream tasks and write a report.

Example::

    cinn-train evaluate --sim data/hsi_sim --real data/hsi_real --method moment-matching \\
        --out reports/hsi_mm
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sim",
        type=Path,
        required=True,
        help="folder of labelled simulated images (classifier training data)",
    )
    parser.add_argument(
        "--real",
        type=Path,
        nargs="+",
        required=True,
        help="folder(s) of labelled real images, pooled; split by subject into train/test",
    )
    parser.add_argument(
        "--method",
        default="none",
        help="'none', 'moment-matching', 'ot', 'ot-sinkhorn', 'ot-emd', 'ot-cfm', 'unit', another "
        "baseline name, module:function, a .py file with fit(), or a .safetensors model file",
    )
    parser.add_argument(
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option of the method's fit (repeatable; value parsed as YAML), e.g. "
        "n_samples=10000 for ot-emd, iterations=5000 for ot-cfm",
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="training time of methods that train inside the evaluation (unit, ot-cfm), per "
        "seed; same as --option seconds=SECONDS",
    )
    parser.add_argument(
        "--fit-pixels",
        dest="fit_pixels",
        type=int,
        metavar="N",
        help="pixels per image given to a method's fit (unlabelled sim and real-train "
        "spectra; default: --pixels). A baseline fitted on the default 200 sees a fraction of "
        "what a trained model saw: compare with 1250 or more (ot-noise gains 0.03 on HSI)",
    )
    parser.add_argument(
        "--fit-real",
        dest="fit_real",
        type=Path,
        metavar="DIR",
        help="real images (masks not read) that fitted baselines fit on instead of each split's "
        "real-train half: pass the real training folder of the model you compare with, so that "
        "both methods see the same data",
    )
    parser.add_argument("--out", type=Path, required=True, help="report folder")
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="seeds (real subject split, pixel sampling, classifiers)",
    )
    parser.add_argument("--pixels", type=int, default=200, help="pixels sampled per image")
    parser.add_argument(
        "--norm",
        choices=("l2", "l1", "none"),
        default="l2",
        help="per-pixel normalisation before classifiers and metrics",
    )
    parser.add_argument(
        "--classifiers",
        nargs="+",
        default=["rf", "lda"],
        choices=["rf", "lda", "logreg"],
        help="classifier families (first = headline)",
    )
    parser.add_argument(
        "--c2st-classifier",
        choices=("rf", "logreg"),
        default="rf",
        help="classifier of the two-sample tests (logreg: faster, linear only)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=0,
        help="stochastic model files: train the transfer classifier on this many realisations "
        "(0: the deterministic transfer); metrics use the first realisation",
    )
    parser.add_argument("--device", default="auto", help="device for model files")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report")


def parse_options(pairs: list[str], budget: float | None = None) -> dict[str, Any]:
    """``KEY=VALUE`` strings (values parsed as YAML) and ``--budget`` as a dict of fit options."""
    import yaml

    from napari_cinn_training.evaluate import EvaluationError

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise EvaluationError(f"--option {pair!r} must look like KEY=VALUE, e.g. seconds=120")
        try:
            options[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError as err:
            raise EvaluationError(f"--option {pair!r}: cannot parse the value ({err})") from None
    if budget is not None:
        options["seconds"] = budget
    return options


def run(args: argparse.Namespace) -> int:
    from napari_cinn_training.evaluate import EvaluationError, evaluate, write_report
    from napari_cinn_training.evaluate.report import _fmt

    t0 = time.perf_counter()
    try:
        if (args.out / "metrics.json").exists() and not args.overwrite:
            raise FileExistsError(f"{args.out} already holds a report (pass --overwrite)")
        options = parse_options(args.options, args.budget)
        metrics, arrays = evaluate(
            args.sim,
            args.real,
            args.method,
            options=options,
            fit_pixels=args.fit_pixels,
            fit_real=args.fit_real,
            seeds=args.seeds,
            pixels_per_image=args.pixels,
            norm=args.norm,
            classifiers=args.classifiers,
            device=args.device,
            c2st_classifier=args.c2st_classifier,
            samples=args.samples,
            log=lambda s: print(s, file=sys.stderr),
        )
        write_report(metrics, arrays, args.out, overwrite=args.overwrite)
    except (EvaluationError, FileExistsError) as err:
        print(f"cinn-train evaluate: {err}", file=sys.stderr)
        return 1
    print(
        f"method {metrics['method']}: bacc sim {_fmt(metrics['bacc_sim'])}, "
        f"transferred {_fmt(metrics['bacc_transfer'])}, real {_fmt(metrics['bacc_real'])}, "
        f"gap closed {_fmt(metrics['gap_closed'])}, C2ST {_fmt(metrics['c2st_auc'])} "
        f"(real vs real {_fmt(metrics['c2st_auc_real_real'])}), MMD² {_fmt(metrics['mmd'])}"
    )
    print(f"report written to {args.out} in {time.perf_counter() - t0:.0f} s")
    return 0
