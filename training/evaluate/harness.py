"""The evaluation harness: downstream classifiers and transfer-quality metrics for one method.

For every seed the real subjects are split (subject level) into a training half (unlabelled data
for the transfer method, labelled data for the real-trained upper bound) and a test half. Three
classifiers per family are trained on labelled pixels of (a) sim, (b) sim transferred by the
method, (c) real-train, and scored on real-test. Spectra are normalised per pixel (L2 by default)
before classifiers and metrics, as the cINN does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_cinn.core.metrics import c2st_auc, frechet_distance, mmd2, per_wavelength_difference
from napari_cinn.core.spectra import normalize_spectra
from napari_cinn_training.evaluate.data import (
    EvaluationError,
    LabelledImage,
    check_pair,
    load_folder,
)
from napari_cinn_training.evaluate.methods import Method, resolve_method

CLASSIFIERS = ("rf", "lda")
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
    "mmd",
    "mmd_sim_real",
    "frechet",
    "frechet_sim_real",
    "wavelength_diff",
    "wavelength_diff_sim",
)


@dataclass
class Sample:
    """Sampled pixels: raw ``spectra`` ``(n, bands)``, ``labels`` ``(n,)``, image index, flat pixel."""

    spectra: np.ndarray
    labels: np.ndarray
    image: np.ndarray
    pixel: np.ndarray


def sample_pixels(
    images: Sequence[LabelledImage],
    rng: np.random.Generator,
    per_image: int,
    classes: np.ndarray | None,
) -> Sample:
    """Up to ``per_image`` random pixels per image (only labelled ones when ``classes`` given)."""
    parts = []
    for i, img in enumerate(images):
        lab = img.labels.ravel()
        pool = np.flatnonzero(np.isin(lab, classes)) if classes is not None else np.arange(lab.size)
        if pool.size == 0:
            continue
        pick = rng.choice(pool, min(per_image, pool.size), replace=False)
        spectra = img.data.reshape(img.data.shape[0], -1)[:, pick].T
        parts.append((spectra, lab[pick], np.full(pick.size, i), pick))
    if not parts:
        raise EvaluationError("no labelled pixels of the evaluated classes found")
    return Sample(*(np.concatenate(p) for p in zip(*parts, strict=True)))


def _features(spectra: np.ndarray, norm: str) -> tuple[np.ndarray, np.ndarray]:
    x, _, valid = normalize_spectra(spectra, norm)
    return x[valid], valid


def _make_classifier(kind: str, seed: int):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "rf":
        return RandomForestClassifier(
            n_estimators=100, min_samples_leaf=2, n_jobs=1, random_state=seed
        )
    if kind == "lda":  # Gaussian classes with a shared covariance: linear, closed form, fast
        return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    if kind == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500, tol=1e-3))
    raise EvaluationError(f"unknown classifier {kind!r}; use {', '.join(CLASSIFIERS)}")


def _score(clf, x_test, y_test, classes) -> dict[str, float]:
    from sklearn.metrics import balanced_accuracy_score, f1_score, roc_auc_score

    pred = clf.predict(x_test)
    out = {
        "bacc": float(balanced_accuracy_score(y_test, pred)),
        "f1": float(f1_score(y_test, pred, average="macro", labels=classes)),
    }
    if classes.size == 2:
        proba = clf.predict_proba(x_test)
        col = list(clf.classes_).index(classes[1]) if classes[1] in clf.classes_ else None
        out["auroc"] = (
            float(roc_auc_score(y_test == classes[1], proba[:, col])) if col is not None else 0.5
        )
    return out


def _apply(
    method: Method,
    sim: Sequence[LabelledImage],
    sample: Sample,
    fit_sim: np.ndarray,
    fit_real: np.ndarray,
    cache: dict,
    realisation: int | None = None,
) -> np.ndarray:
    """Transferred versions ``(n, bands)`` of the sampled sim spectra.

    ``realisation`` k (stochastic methods) draws realisation k instead of the deterministic one.
    """
    if realisation is not None:
        return _draw(method, sim, sample, cache, realisation)
    if method.fit is not None:
        transform = method.fit(fit_sim, fit_real)
        out = np.asarray(transform(sample.spectra), dtype=np.float32)
    elif method.per_pixel:
        cube, cls = sample.spectra.T[:, :, None], _class_map(method, sample)
        out = np.asarray(method.image_transform(cube, **cls), dtype=np.float32)[:, :, 0].T
    else:  # image-level model: transfer whole images once, then pick the sampled pixels
        out = np.empty_like(sample.spectra, dtype=np.float32)
        for i in np.unique(sample.image):
            if i not in cache:
                cache[i] = np.asarray(method.image_transform(sim[i].data), dtype=np.float32)
            rows = sample.image == i
            out[rows] = cache[i].reshape(cache[i].shape[0], -1)[:, sample.pixel[rows]].T
    if out.shape != sample.spectra.shape:
        raise EvaluationError(
            f"method {method.name} returned shape {out.shape}, expected {sample.spectra.shape}"
        )
    return out


def _class_map(method: Method, sample: Sample) -> dict:
    """``classes=`` for class-conditional models (cINN_DY): sim pixels transfer with their labels."""
    if method.model is None or not getattr(method.model, "n_classes", 0):
        return {}
    return {"classes": np.clip(sample.labels, 0, method.model.n_classes - 1)[:, None]}


def _draw(method: Method, sim, sample: Sample, cache: dict, k: int) -> np.ndarray:
    """Realisation ``k`` of a stochastic method (seeded by ``k`` and the image)."""
    seed = 7919 * (k + 1)
    if method.per_pixel:
        cube, cls = sample.spectra.T[:, :, None], _class_map(method, sample)
        out = method.sample_transform(cube, seed, **cls)
        return np.asarray(out, dtype=np.float32)[:, :, 0].T
    out = np.empty_like(sample.spectra, dtype=np.float32)
    for i in np.unique(sample.image):
        if (i, k) not in cache:
            cache[i, k] = np.asarray(
                method.sample_transform(sim[i].data, seed + int(i)), np.float32
            )
        rows = sample.image == i
        out[rows] = cache[i, k].reshape(cache[i, k].shape[0], -1)[:, sample.pixel[rows]].T
    return out


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
    samples=0,
):
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    n_test = int(np.clip(round(len(real) * test_fraction), 1, len(real) - 1))
    test = [real[i] for i in order[:n_test]]
    train = [real[i] for i in order[n_test:]]
    s_sim = sample_pixels(sim, rng, per_image, classes)
    s_train = sample_pixels(train, rng, per_image, classes)
    s_test = sample_pixels(test, rng, per_image, classes)
    fit_sim = sample_pixels(sim, rng, per_image, None).spectra
    fit_real = sample_pixels(train, rng, per_image, None).spectra
    t0 = time.perf_counter()
    if samples and method.sample_transform is not None:  # K realisations: augmentation
        draws = [_apply(method, sim, s_sim, fit_sim, fit_real, cache, k) for k in range(samples)]
    elif samples and method.fit is not None:  # a fitted baseline may be stochastic too
        transform = method.fit(fit_sim, fit_real)
        if getattr(transform, "stochastic", False):
            draws = [transform.sample(s_sim.spectra, 7919 * (k + 1)) for k in range(samples)]
        else:
            draws = [np.asarray(transform(s_sim.spectra), dtype=np.float32)]
    else:
        draws = [_apply(method, sim, s_sim, fit_sim, fit_real, cache)]
    transferred = np.asarray(draws[0], np.float32)  # metrics, figures: one realisation
    log(
        f"  seed {seed}: transfer {time.perf_counter() - t0:.1f} s ({len(draws)} realisation(s)); "
        f"{len(train)} real-train / {len(test)} real-test subjects"
    )
    x_sim, v_sim = _features(s_sim.spectra, norm)
    x_tr, v_tr = _features(transferred, norm)
    x_rtrain, v_rtrain = _features(s_train.spectra, norm)
    x_test, v_test = _features(s_test.spectra, norm)
    y_sim, y_tr = s_sim.labels[v_sim], s_sim.labels[v_tr]
    y_rtrain, y_test = s_train.labels[v_rtrain], s_test.labels[v_test]
    if x_tr.shape[0] < 0.5 * x_sim.shape[0]:
        raise EvaluationError(
            f"method {method.name} returned invalid (NaN/zero) spectra for "
            f"{x_sim.shape[0] - x_tr.shape[0]} of {x_sim.shape[0]} pixels"
        )
    x_aug, y_aug = x_tr, y_tr  # the transfer classifier trains on every realisation
    if len(draws) > 1:
        feats = [_features(d, norm) for d in draws]
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
            clf = _make_classifier(kind, seed).fit(x, y)
            for key, value in _score(clf, x_test, y_test, classes).items():
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
        "mmd": mmd2(x_tr, x_test, seed=seed, max_n=1500),
        "mmd_sim_real": mmd2(x_sim, x_test, seed=seed, max_n=1500),
        "frechet": frechet_distance(x_tr, x_test, seed=seed),
        "frechet_sim_real": frechet_distance(x_sim, x_test, seed=seed),
        "wavelength_diff": float(diff_t.mean()),
        "wavelength_diff_sim": float(diff_s.mean()),
        "realisations": len(draws),
    }
    if method.model is not None:
        from napari_cinn_training.evaluate.latent import latent_health_of

        health, latent_arrays = latent_health_of(method.model, s_sim.spectra, s_test.spectra)
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
    real_dir: Path | str,
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
    samples: int = 0,
):
    """Score a transfer method; returns ``(metrics dict, arrays of the first seed for figures)``."""
    sim = load_folder(sim_dir, "sim")
    real = load_folder(real_dir, "real")
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
        sources=(str(sim_dir), str(real_dir)),
        c2st_classifier=c2st_classifier,
        samples=samples,
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
    samples: int = 0,
):
    """:func:`evaluate` on images already in memory (one :class:`LabelledImage` per subject)."""
    classes = check_pair(sim, real)
    for kind in classifiers:
        _make_classifier(kind, 0)
    m = resolve_method(method, device) if isinstance(method, str) else method
    log(
        f"method {m.name}: {len(sim)} sim and {len(real)} real subjects, classes {classes.tolist()}"
    )
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
            samples,
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
        "norm": norm,
        "classes": {int(c): names.get(int(c), str(c)) for c in classes},
        "headline_classifier": headline,
        "c2st_classifier": c2st_classifier,
        "realisations": per_transfer.pop("realisations", [1])[0],
    }
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
