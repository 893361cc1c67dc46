"""Transfer-quality metrics between two sets of spectra (Qt-free, NumPy + scikit-learn).

One implementation shared by ``cinn-train evaluate`` and the Compare dock. Every function takes
spectra as ``(n, bands)`` arrays (rows = samples; compare transferred vs real, or sim vs real) and
subsamples large inputs reproducibly (``max_n`` per set, ``seed``), so the cost does not grow
with the image size. Non-finite rows are dropped.

- :func:`mmd2` — unbiased squared maximum mean discrepancy, Gaussian kernel, median heuristic.
- :func:`c2st_auc` — classifier two-sample test: cross-validated ROC AUC of a classifier telling
  the sets apart (0.5 = indistinguishable, 1 = fully separable).
- :func:`frechet_distance` — Fréchet distance of Gaussians fitted to PCA features of a reference.
- :func:`per_wavelength_difference` — |median(x) − median(ref)| per band (and per class).
"""

from __future__ import annotations

import numpy as np

__all__ = ["c2st_auc", "frechet_distance", "mmd2", "per_wavelength_difference"]


def _prepare(x, name: str, max_n: int | None, rng: np.random.Generator) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be (n, bands) spectra, got shape {a.shape}")
    a = a[np.isfinite(a).all(axis=1)]
    if a.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 finite spectra, got {a.shape[0]}")
    if max_n is not None and a.shape[0] > max_n:
        a = a[rng.choice(a.shape[0], max_n, replace=False)]
    return a


def _pair(x, y, max_n, seed):
    rng = np.random.default_rng(seed)
    a = _prepare(x, "x", max_n, rng)
    b = _prepare(y, "y", max_n, rng)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x has {a.shape[1]} bands but y has {b.shape[1]}")
    return a, b


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0)


def mmd2(x, y, *, bandwidth: float | None = None, max_n: int | None = 2000, seed: int = 0) -> float:
    """Unbiased squared MMD between ``x`` ``(n, bands)`` and ``y`` ``(m, bands)``.

    Gaussian kernel k(a, b) = exp(−‖a − b‖² / (2σ²)); σ is the median pairwise distance of the
    pooled sample (median heuristic) unless ``bandwidth`` is given. About 0 (may be slightly
    negative) for samples of one distribution; grows with the difference between them.
    """
    a, b = _pair(x, y, max_n, seed)
    if bandwidth is None:
        pool = np.concatenate([a, b])
        pool = pool[np.random.default_rng(seed).choice(len(pool), min(len(pool), 1000), False)]
        d = _sq_dists(pool, pool)[np.triu_indices(len(pool), 1)]
        med = np.median(d[d > 0]) if np.any(d > 0) else 1.0
        gamma = 1.0 / (2 * med)  # σ² = median squared pairwise distance
    else:
        if not bandwidth > 0:
            raise ValueError(f"bandwidth must be positive, got {bandwidth}")
        gamma = 1.0 / (2 * bandwidth**2)
    kxx = np.exp(-gamma * _sq_dists(a, a))
    kyy = np.exp(-gamma * _sq_dists(b, b))
    kxy = np.exp(-gamma * _sq_dists(a, b))
    n, m = len(a), len(b)
    return float(
        (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
        + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        - 2 * kxy.mean()
    )


def c2st_auc(
    x, y, *, classifier: str = "rf", folds: int = 5, max_n: int | None = 1000, seed: int = 0
) -> float:
    """Classifier two-sample test: cross-validated ROC AUC for telling ``x`` from ``y``.

    ``classifier``: ``"rf"`` (random forest, 50 trees: catches non-linear differences; default)
    or ``"logreg"`` (standardised logistic regression: fast, linear differences only). Both sets
    are subsampled to the same size (at most ``max_n``) so chance is exactly 0.5.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    a, b = _pair(x, y, max_n, seed)
    k = min(len(a), len(b))
    rng = np.random.default_rng(seed + 1)
    a, b = a[rng.choice(len(a), k, False)], b[rng.choice(len(b), k, False)]
    if k < folds:
        raise ValueError(f"c2st_auc needs at least {folds} spectra per set, got {k}")
    data = np.concatenate([a, b])
    target = np.r_[np.zeros(k), np.ones(k)]
    if classifier == "rf":
        clf = RandomForestClassifier(
            n_estimators=50, min_samples_leaf=2, n_jobs=1, random_state=seed
        )
    elif classifier == "logreg":
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    else:
        raise ValueError(f"unknown classifier {classifier!r}; use 'rf' or 'logreg'")
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    proba = cross_val_predict(clf, data, target, cv=cv, method="predict_proba")[:, 1]
    return float(roc_auc_score(target, proba))


def frechet_distance(
    x, y, *, reference=None, n_components: int = 10, max_n: int | None = 20000, seed: int = 0
) -> float:
    """Fréchet distance between Gaussians fitted to ``x`` and ``y`` in PCA space.

    The PCA (``n_components``, capped by bands and samples) is fitted on ``reference`` (default
    ``y``, i.e. the real data, as in the paper's figures); then
    FD = ‖μx − μy‖² + tr(Σx + Σy − 2 (Σx Σy)^½).
    """
    from scipy import linalg

    a, b = _pair(x, y, max_n, seed)
    ref = (
        b
        if reference is None
        else _prepare(reference, "reference", max_n, np.random.default_rng(seed))
    )
    if ref.shape[1] != a.shape[1]:
        raise ValueError(f"reference has {ref.shape[1]} bands but x has {a.shape[1]}")
    k = int(min(n_components, ref.shape[1], ref.shape[0] - 1))
    mean = ref.mean(0)
    _, _, vt = np.linalg.svd(ref - mean, full_matrices=False)
    pa, pb = (a - mean) @ vt[:k].T, (b - mean) @ vt[:k].T
    mu_a, mu_b = pa.mean(0), pb.mean(0)
    ca, cb = np.atleast_2d(np.cov(pa, rowvar=False)), np.atleast_2d(np.cov(pb, rowvar=False))
    covmean = linalg.sqrtm(ca @ cb)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(max(((mu_a - mu_b) ** 2).sum() + np.trace(ca + cb - 2 * covmean), 0.0))


def per_wavelength_difference(
    x, ref, labels_x=None, labels_ref=None
) -> tuple[np.ndarray, np.ndarray]:
    """Absolute difference of per-band medians, |median(x) − median(ref)|, per class.

    Parameters
    ----------
    x, ref : (n, bands) and (m, bands) spectra (e.g. transferred and real)
    labels_x, labels_ref : optional (n,) and (m,) integer class labels; classes are those present
        in both. Without labels, all spectra form one class.

    Returns
    -------
    classes : (k,) int class ids (``[0]`` without labels)
    diff : (k, bands) float64 absolute median differences (the paper's Fig. 5b violins)
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(ref, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need (n, bands) arrays with equal bands, got {a.shape} and {b.shape}")
    if (labels_x is None) != (labels_ref is None):
        raise ValueError("give labels for both sets or for neither")
    if labels_x is None:
        return np.array([0]), np.abs(np.nanmedian(a, 0) - np.nanmedian(b, 0))[None]
    la, lb = np.asarray(labels_x).ravel(), np.asarray(labels_ref).ravel()
    if la.size != a.shape[0] or lb.size != b.shape[0]:
        raise ValueError("labels must have one entry per spectrum")
    classes = np.intersect1d(la, lb)
    if classes.size == 0:
        raise ValueError("the two sets share no class")
    diff = np.stack(
        [np.abs(np.nanmedian(a[la == c], 0) - np.nanmedian(b[lb == c], 0)) for c in classes]
    )
    return classes, diff
