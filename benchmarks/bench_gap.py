"""Is the synthetic sim→real gap real? Downstream accuracy sim-trained vs real-trained, C2ST, speed.

Default benchmark (seeded): HSI 20 sim + 20 real-like subjects of 64×64 px (10 organ classes),
PAT 30 + 30 forearm images of 128×128 px (artery vs vein on vessel pixels). Real subjects are split
by subject into train/test halves per seed (3 seeds); random forests on L2-normalised spectra,
trained on sim or on real-train, scored on real-test. Then the throughput of the HSI generator
on 1 million spectra. Prints a table; the last line is one JSON object.

    python benchmarks/bench_gap.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from napari_cinn_training.evaluate.data import LabelledImage  # noqa: E402
from napari_cinn_training.evaluate.harness import evaluate_images  # noqa: E402
from napari_cinn_training.simulate.hsi import hsi_subject, simulate_spectra  # noqa: E402
from napari_cinn_training.simulate.pat import pat_subject  # noqa: E402


def _images(make, n: int, domain: str, seed: int, size: int) -> list[LabelledImage]:
    out = []
    for i in range(n):
        s = make(i, domain, seed, size=size)
        out.append(
            LabelledImage(Path(f"{domain}_{i:03d}"), s.cube, s.wavelengths, s.labels, s.label_names)
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer subjects and one seed")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    args = parser.parse_args()
    n_hsi, n_pat, seeds = (10, 16, (0,)) if args.quick else (20, 30, (0, 1, 2))
    results: dict[str, float] = {}
    rows = []
    for modality, make, n, size in (
        ("hsi", hsi_subject, n_hsi, 64),
        ("pat", pat_subject, n_pat, 128),
    ):
        t0 = time.perf_counter()
        sim = _images(make, n, "sim", args.seed, size)
        real = _images(make, n, "real", args.seed, size)
        metrics, _ = evaluate_images(
            sim, real, "none", seeds=seeds, classifiers=("rf",), pixels_per_image=200
        )
        elapsed = time.perf_counter() - t0
        for key in (
            "bacc_sim",
            "bacc_real",
            "c2st_auc_sim_real",
            "f1_sim",
            "f1_real",
            "auroc_sim",
            "auroc_real",
            "mmd_sim_real",
        ):
            if key in metrics:
                name = "c2st_auc" if key == "c2st_auc_sim_real" else key.replace("_sim_real", "")
                results[f"{modality}_{name}"] = round(metrics[key]["mean"], 4)
                results[f"{modality}_{name}_std"] = round(metrics[key]["std"], 4)
        gap = results[f"{modality}_bacc_real"] - results[f"{modality}_bacc_sim"]
        results[f"{modality}_gap_points"] = round(100 * gap, 1)
        rows.append(
            (
                modality,
                n,
                results[f"{modality}_bacc_sim"],
                results[f"{modality}_bacc_real"],
                100 * gap,
                results[f"{modality}_c2st_auc"],
                elapsed,
            )
        )
    rng = np.random.default_rng(args.seed)
    simulate_spectra(10_000, "real", rng)  # warm-up (imports, table load)
    t0 = time.perf_counter()
    simulate_spectra(1_000_000, "real", rng)
    t_real = time.perf_counter() - t0
    t0 = time.perf_counter()
    simulate_spectra(1_000_000, "sim", rng)
    t_sim = time.perf_counter() - t0
    results["hsi_1m_seconds_real"] = round(t_real, 2)
    results["hsi_1m_seconds_sim"] = round(t_sim, 2)
    results["hsi_spectra_per_s"] = round(1_000_000 / t_real)
    results["seeds"] = len(seeds)

    print(
        f"{'task':<28}{'subj/dom':>9}{'bacc sim':>10}{'bacc real':>11}{'gap pts':>9}"
        f"{'C2ST':>7}{'time s':>8}"
    )
    tasks = {"hsi": "HSI 10-organ pixels", "pat": "PAT artery vs vein pixels"}
    for modality, n, bs, br, gap, c2, el in rows:
        print(f"{tasks[modality]:<28}{n:>9}{bs:>10.3f}{br:>11.3f}{gap:>9.1f}{c2:>7.3f}{el:>8.1f}")
    print(
        f"HSI generator, 1e6 spectra: real-like {t_real:.2f} s, sim {t_sim:.2f} s "
        f"({results['hsi_spectra_per_s']:,} real-like spectra/s)"
    )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
