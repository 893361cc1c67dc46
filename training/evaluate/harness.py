"""The evaluation harness: downstream classifiers and transfer-quality metrics for one method.

For every seed the real subjects are split (subject level) into a training half (unlabelled data
for the transfer method, labelled data for the real-trained upper bound) and a test half. Three
classifiers per family are trained on labelled pixels of (a) sim, (b) sim transferred by the
method, (c) real-train, and scored on real-test. Spectra are normalised per pixel (L2 by default)
before classifiers and metrics, as the cINN does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from napari_cinn.core.metrics import c2st_auc, frechet_distance, mmd2, per_wavelength_difference
from napari_cinn.core.spectra import describe_grid, same_grid
from napari_cinn_training.evaluate.classifiers import CLASSIFIERS, make_classifier, score
from napari_cinn_training.evaluate.data import (
    EvaluationError,
    LabelledImage,
    check_pair,
    folder_list,
    load_folder,
    load_folders,
)
from napari_cinn_training.evaluate.methods import Method, resolve_method
from napari_cinn_training.evaluate.sampling import features, sample_pixels
from napari_cinn_training.evaluate.transfers import transfer_draws

C2ST_N = 600  # spectra per set for the classifier two-sample tests
#: per-seed figures that are aggregated as mean and std in metrics.json
SCALARS = (
    "bacc_sim",
    "bacc_transfer",
    "bacc_real",
    "gap_closed",
    "f1_sim",
    "f1_transfer",
    "f1_real",
    "auroc_sim",
    "auroc_transfer",
    "auroc_real",
)
TRANSFER_SCALARS = (
    "c2st_auc",
    "c2st_auc_sim_real",
    "c2st_auc_sim_transfer",
    "c2st_auc_real_real",
    "mmd",
    "mmd_sim_real",
    "frechet",
    "frechet_sim_real",
    "wavelength_diff",
    "wavelength_diff_sim",
)


def _one_seed(
    seed,
    sim,
    real,
    classes,
    method,
    per_image,
    norm,
    classifiers,
    test_fraction,
    cache,
    log,
    c2st_classifier,
    fit_pixels,
    samples=0,
    fit_images=None,
):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    n_test = int(np.clip(round(len(real) * test_fraction), 1, len(real) - 1))
    test = [real[i] for i in order[:n_test]]
    train = [real[i] for i in order[n_test:]]
    s_sim = sample_pixels(sim, rng, per_image, classes)
    s_train = sample_pixels(train, rng, per_image, classes)
    s_test = sample_pixels(test, rng, per_image, classes)
    fit_sim = sample_pixels(sim, rng, fit_pixels or per_image, None).spectra
    fit_real = sample_pixels(fit_images or train, rng, fit_pixels or per_image, None).spectra
    t0 = time.perf_counter()
    info: dict = {}
    draws = transfer_draws(method, sim, s_sim, fit_sim, fit_real, cache, info, samples)
    transferred = np.asarray(draws[0], np.float32)  # metrics, figures: one realisation
    fitted = ""
    if method.fit is not None:
        info.update(n_fit_sim=len(fit_sim), n_fit_real=len(fit_real))
        fitted = "; " + ", ".join(f"{k} {_short(v)}" for k, v in info.items())
    log(
        f"  seed {seed}: transfer {time.perf_counter() - t0:.1f} s "
        f"({len(draws)} realisation(s){fitted}); "
        f"{len(train)} real-train / {len(test)} real-test subjects"
    )
    x_sim, v_sim = features(s_sim.spectra, norm)
    x_tr, v_tr = features(transferred, norm)
    x_rtrain, v_rtrain = features(s_train.spectra, norm)
    x_test, v_test = features(s_test.spectra, norm)
    y_sim, y_tr = s_sim.labels[v_sim], s_sim.labels[v_tr]
    y_rtrain, y_test = s_train.labels[v_rtrain], s_test.labels[v_test]
    if x_tr.shape[0] < 0.5 * x_sim.shape[0]:
        raise EvaluationError(
            f"method {method.name} returned invalid (NaN/zero) spectra for "
            f"{x_sim.shape[0] - x_tr.shape[0]} of {x_sim.shape[0]} pixels"
        )
    x_aug, y_aug = x_tr, y_tr  # the transfer classifier trains on every realisation
    if len(draws) > 1:
        feats = [features(d, norm) for d in draws]
        x_aug = np.concatenate([f[0] for f in feats])
        y_aug = np.concatenate([s_sim.labels[f[1]] for f in feats])
    result: dict[str, dict[str, float]] = {}
    for kind in classifiers:
        scores = {}
        for name, x, y in (
            ("sim", x_sim, y_sim),
            ("transfer", x_aug, y_aug),
            ("real", x_rtrain, y_rtrain),
        ):
            clf = make_classifier(kind, seed).fit(x, y)
            for key, value in score(clf, x_test, y_test, classes).items():
                scores[f"{key}_{name}"] = value
        span = scores["bacc_real"] - scores["bacc_sim"]
        scores["gap_closed"] = (
            (scores["bacc_transfer"] - scores["bacc_sim"]) / span
            if abs(span) > 0.01
            else float("nan")
        )
        result[kind] = scores
    classes_t, diff_t = per_wavelength_difference(x_tr, x_test, y_tr, y_test)
    _, diff_s = per_wavelength_difference(x_sim, x_test, y_sim, y_test)
    t0 = time.perf_counter()
    transfer = {
        "c2st_auc": c2st_auc(x_tr, x_test, seed=seed, max_n=C2ST_N, classifier=c2st_classifier),
        "c2st_auc_sim_real": c2st_auc(
            x_sim, x_test, seed=seed, max_n=C2ST_N, classifier=c2st_classifier
        ),
        "c2st_auc_sim_transfer": c2st_auc(
            x_sim, x_tr, seed=seed, max_n=C2ST_N, classifier=c2st_classifier
        ),
        # the floor: real subjects against other real subjects, what real data itself reaches
        "c2st_auc_real_real": c2st_auc(
            x_rtrain, x_test, seed=seed, max_n=C2ST_N, classifier=c2st_classifier
        ),
        "mmd": mmd2(x_tr, x_test, seed=seed, max_n=1500),
        "mmd_sim_real": mmd2(x_sim, x_test, seed=seed, max_n=1500),
        "frechet": frechet_distance(x_tr, x_test, seed=seed),
        "frechet_sim_real": frechet_distance(x_sim, x_test, seed=seed),
        "wavelength_diff": float(diff_t.mean()),
        "wavelength_diff_sim": float(diff_s.mean()),
        "realisations": len(draws),
    }
    if "fit_seconds" in info:
        transfer["fit_seconds"] = float(info["fit_seconds"])
    if method.model is not None:
        from napari_cinn_training.evaluate.latent import latent_health_of

        if method.model.modality == "hsi":
            pair = (s_sim.spectra, s_test.spectra)
        else:  # image models encode whole images
            pair = ([im.data for im in sim], [im.data for im in test])
        health, latent_arrays = latent_health_of(method.model, *pair)
        transfer.update(health)
    log(f"  seed {seed}: metrics {time.perf_counter() - t0:.1f} s")
    arrays = {
        "sim": (x_sim, y_sim),
        "transfer": (x_tr, y_tr),
        "real": (x_test, y_test),
        "diff_sim": diff_s,
        "diff_transfer": diff_t,
        "diff_classes": classes_t,
    }
    if method.model is not None:
        arrays["latent_std"] = latent_arrays
    return result, transfer, arrays


def _short(v) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def _stats(values: list[float]) -> dict:
    v = np.asarray(values, dtype=np.float64)
    ok = v[np.isfinite(v)]
    return {
        "mean": float(ok.mean()) if ok.size else None,
        "std": float(ok.std()) if ok.size else None,
        "values": [None if not np.isfinite(x) else float(x) for x in v],
    }


def evaluate(
    sim_dir: Path | str,
    real_dir: Path | str | Sequence[Path | str],
    method: str | Method = "none",
    *,
    seeds: Sequence[int] = (0, 1, 2),
    pixels_per_image: int = 200,
    norm: str = "l2",
    classifiers: Sequence[str] = CLASSIFIERS,
    test_fraction: float = 0.5,
    device: str = "auto",
    log: Callable[[str], None] = lambda s: None,
    c2st_classifier: str = "rf",
    options: Mapping[str, Any] | None = None,
    fit_pixels: int | None = None,
    samples: int = 0,
    fit_real: Path | str | None = None,
):
    """Score a transfer method; returns ``(metrics dict, arrays of the first seed for figures)``.

    ``options`` go to the method's ``fit`` (see :func:`~.methods.resolve_method`); ``fit_pixels``
    is the number of pixels per image (default ``pixels_per_image``) of the unlabelled sim and
    real-train spectra that ``fit`` gets. ``fit_real``: a folder of real images (masks not read)
    that fitted baselines fit on instead of each split's real-train half, e.g. the real training
    folder of the model they are compared with, so that both see the same data. ``real_dir`` may
    be several folders: their subjects are pooled (in the order given), so that one evaluation
    runs on more subjects than any one folder holds.
    """
    sim = load_folder(sim_dir, "sim")
    real_dirs = folder_list(real_dir)
    real = load_folders(real_dirs, "real")
    fit_images = None if fit_real is None else load_folder(fit_real, "fit-real", labelled=False)
    return evaluate_images(
        sim,
        real,
        method,
        seeds=seeds,
        pixels_per_image=pixels_per_image,
        norm=norm,
        classifiers=classifiers,
        test_fraction=test_fraction,
        device=device,
        log=log,
        sources=(str(sim_dir), ", ".join(str(d) for d in real_dirs)),
        c2st_classifier=c2st_classifier,
        options=options,
        fit_pixels=fit_pixels,
        samples=samples,
        fit_real=fit_images,
        fit_real_source=None if fit_real is None else str(fit_real),
    )


def evaluate_images(
    sim: Sequence[LabelledImage],
    real: Sequence[LabelledImage],
    method: str | Method = "none",
    *,
    seeds: Sequence[int] = (0, 1, 2),
    pixels_per_image: int = 200,
    norm: str = "l2",
    classifiers: Sequence[str] = CLASSIFIERS,
    test_fraction: float = 0.5,
    device: str = "auto",
    log: Callable[[str], None] = lambda s: None,
    sources: tuple[str, str] = ("(in memory)", "(in memory)"),
    c2st_classifier: str = "rf",
    options: Mapping[str, Any] | None = None,
    fit_pixels: int | None = None,
    samples: int = 0,
    fit_real: Sequence[LabelledImage] | None = None,
    fit_real_source: str | None = None,
):
    """:func:`evaluate` on images already in memory (one :class:`LabelledImage` per subject)."""
    classes = check_pair(sim, real)
    if fit_real is not None and not same_grid(fit_real[0].wavelengths, sim[0].wavelengths):
        raise EvaluationError(
            f"fit-real {fit_real[0].path} has {describe_grid(fit_real[0].wavelengths)}, "
            f"sim {sim[0].path} has {describe_grid(sim[0].wavelengths)}"
        )
    for kind in classifiers:
        make_classifier(kind, 0)
    if isinstance(method, str):
        m = resolve_method(method, device, options)
    elif options:
        raise EvaluationError("pass options with a method name, or bind them into the Method")
    else:
        m = method
    log(
        f"method {m.name}: {len(sim)} sim and {len(real)} real subjects, classes {classes.tolist()}"
    )
    if fit_real is not None and m.fit is None:
        log(f"  note: method {m.name} is not fitted here; the fit-real images are not used")
    per_clf: dict[str, dict[str, list[float]]] = {k: {} for k in classifiers}
    per_transfer: dict[str, list[float]] = {}
    figure_arrays = None
    cache: dict = {}
    for seed in seeds:
        result, transfer, arrays = _one_seed(
            seed,
            sim,
            real,
            classes,
            m,
            pixels_per_image,
            norm,
            classifiers,
            test_fraction,
            cache,
            log,
            c2st_classifier,
            fit_pixels,
            samples,
            fit_real,
        )
        figure_arrays = figure_arrays or arrays
        for kind, scores in result.items():
            for key, value in scores.items():
                per_clf[kind].setdefault(key, []).append(value)
        for key, value in transfer.items():
            per_transfer.setdefault(key, []).append(value)
    names = sim[0].label_names or real[0].label_names
    headline = classifiers[0]
    metrics: dict = {
        "method": m.name,
        "method_description": m.description,
        "sim": sources[0],
        "real": sources[1],
        "seeds": list(seeds),
        "n_sim_subjects": len(sim),
        "n_real_subjects": len(real),
        "pixels_per_image": pixels_per_image,
        "fit_pixels_per_image": fit_pixels or pixels_per_image,
        "method_options": m.options,
        "norm": norm,
        "classes": {int(c): names.get(int(c), str(c)) for c in classes},
        "headline_classifier": headline,
        "c2st_classifier": c2st_classifier,
        "realisations": per_transfer.pop("realisations", [1])[0],
    }
    if m.fit is not None:  # what the fitted method's real side was fitted on
        metrics["fit_real"] = (
            "real-train half of each split" if fit_real is None else fit_real_source or "(given)"
        )
    for key in SCALARS:
        if key in per_clf[headline]:
            metrics[key] = _stats(per_clf[headline][key])
    for key, values in per_transfer.items():
        metrics[key] = _stats(values)
    metrics["by_classifier"] = {
        k: {key: _stats(v) for key, v in d.items()} for k, d in per_clf.items()
    }
    figure_arrays["wavelengths"] = np.asarray(sim[0].wavelengths, dtype=np.float64)
    return metrics, figure_arrays
