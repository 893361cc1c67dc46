"""What the experiment scripts share: cube flattening, their folders, and scoring a ``Method``.

Imported by ``spread_baseline.py``, ``latent_spread.py``, ``pat_spread.py`` and
``against_ideal.py`` (run as scripts, so this folder is on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from napari_cinn_training.evaluate.harness import evaluate
from napari_cinn_training.evaluate.methods import Method

HSI_EVAL = ["data/hsi/real_eval", "data/hsi/real_eval2", "data/hsi/real_eval3"]


def flat(cube: np.ndarray) -> np.ndarray:
    """``(bands, y, x)`` → ``(y·x, bands)``."""
    return cube.reshape(len(cube), -1).T


def folder_arguments(p: argparse.ArgumentParser, modality: str = "hsi") -> None:
    """``--sim``, ``--real`` (unlabelled training images), ``--eval`` and ``--out``."""
    p.add_argument("--sim", type=Path, default=Path(f"data/{modality}/sim"))
    p.add_argument("--real", type=Path, default=Path(f"data/{modality}/real"), help="unlabelled")
    default = HSI_EVAL if modality == "hsi" else [f"data/{modality}/real_eval"]
    p.add_argument("--eval", nargs="+", default=default, help="labelled evaluation folders")
    p.add_argument("--out", type=Path, required=True, help="folder for metrics.json")


def score(method: Method, args: argparse.Namespace, samples: int = 3) -> str:
    """Score ``method`` as the tables do (rf and LDA, 3 evaluation seeds), write
    ``args.out/metrics.json`` and return one line of figures."""
    metrics, _ = evaluate(args.sim, args.eval, method, classifiers=("rf", "lda"), samples=samples)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=1, default=float))
    gap = {k: metrics["by_classifier"][k]["gap_closed"] for k in ("rf", "lda")}
    c = metrics["c2st_auc"]
    return ", ".join(
        [f"{k} {g['mean']:.3f} ± {g['std']:.3f}" for k, g in gap.items()]
        + [f"C2ST {c['mean']:.3f} ± {c['std']:.3f}"]
    )
