"""Optimal-transport mapping of spectra (POT ``ot.da``): a sim→real baseline.

Spectra are scaled to unit norm (``l2`` by default, like the cINN), mapped, and given back their
own norm, so the map changes spectral shape, not brightness. Three maps:

- ``linear`` (default): the Gaussian (Monge) map between the two domains' means and covariances,
  ``ot.da.LinearTransport`` — closed form, any number of spectra;
- ``sinkhorn``: entropic OT plan on a subsample (``n_samples`` per domain, regularisation relative
  to the median squared distance), barycentric map, new spectra moved like their nearest fitted
  neighbour (POT's out-of-sample rule);
- ``emd``: the same with the exact plan.

``cinn-train evaluate --method ot`` (linear), ``ot-sinkhorn`` and ``ot-emd`` use :func:`fit`,
:func:`fit_sinkhorn` and :func:`fit_emd` (the evaluation registry's ``fit(sim_spectra,
real_spectra, **options) -> transform`` contract; ``--option n_samples=10000`` sets the subsample).
Cost of the plans: ``n_samples``² doubles of memory (10 000: 0.8 GB) and, for ``emd``, a network
simplex that grows faster than quadratically.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

KINDS = ("linear", "sinkhorn", "emd")


def _unit(x: np.ndarray, norm: str) -> tuple[np.ndarray, np.ndarray]:
    if norm == "none":
        return x, np.ones((len(x), 1))
    r = (
        np.abs(x).sum(1, keepdims=True)
        if norm == "l1"
        else np.linalg.norm(x, axis=1, keepdims=True)
    )
    r = np.where(r > 0, r, 1.0)
    return x / r, r


def _clean(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"OT needs (n, bands) {name} spectra, got shape {x.shape}")
    x = x[np.isfinite(x).all(1) & (np.abs(x).sum(1) > 0)]
    if len(x) < 2:
        raise ValueError(f"OT needs at least 2 usable {name} spectra")
    return x


def fit_map(
    sim_spectra: np.ndarray,
    real_spectra: np.ndarray,
    kind: str = "linear",
    n_samples: int = 5000,
    reg: float = 0.05,
    norm: str = "l2",
    seed: int = 0,
) -> Callable[[np.ndarray], np.ndarray]:
    """Fit an OT map on ``(n, bands)`` sim and ``(m, bands)`` real spectra.

    Returns ``transform((k, bands)) -> (k, bands)`` float32; invalid input rows give NaN.
    """
    import ot

    if kind not in KINDS:
        raise ValueError(f"unknown OT kind {kind!r}; use one of {KINDS}")
    sim, real = _clean(sim_spectra, "sim"), _clean(real_spectra, "real")
    if sim.shape[1] != real.shape[1]:
        raise ValueError(f"sim has {sim.shape[1]} bands, real {real.shape[1]}")
    rng = np.random.default_rng(seed)
    us, _ = _unit(sim, norm)
    ut, _ = _unit(real, norm)
    if kind == "linear":
        mapping = ot.da.LinearTransport(reg=1e-6)
        mapping.fit(Xs=us, Xt=ut)
        a, b = np.asarray(mapping.A_), np.asarray(mapping.B_)

        def move(u: np.ndarray) -> np.ndarray:
            return u @ a + b
    else:
        xs = us[rng.choice(len(us), min(n_samples, len(us)), replace=False)]
        xt = ut[rng.choice(len(ut), min(n_samples, len(ut)), replace=False)]
        if (
            kind == "sinkhorn"
        ):  # matrix scaling: POT's default log-domain solver is many times slower
            cost = ot.dist(xs[:500], xt[:500])
            mapping = ot.da.SinkhornTransport(
                reg_e=reg * float(np.median(cost)),
                method="sinkhorn",
                max_iter=2000,
                tol=1e-7,
                out_of_sample_map="ferradans",
            )
        else:
            mapping = ot.da.EMDTransport(max_iter=10**8)  # POT's 1e5 stops short at 5 k
        mapping.fit(Xs=xs, Xt=xt)

        def move(u: np.ndarray) -> np.ndarray:
            # barycentric map of the plan; a new spectrum moves like its nearest fitted one
            return np.asarray(mapping.transform(Xs=u, batch_size=4096))

    def transform(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        valid = np.isfinite(x).all(1) & (np.abs(np.nan_to_num(x)).sum(1) > 0)
        out = np.full(x.shape, np.nan)
        u, r = _unit(x[valid], norm)
        out[valid] = move(u) * r
        return out.astype(np.float32)

    return transform


def fit(
    sim_spectra: np.ndarray,
    real_spectra: np.ndarray,
    *,
    kind: str = "linear",
    n_samples: int = 5000,
    reg: float = 0.05,
    seed: int = 0,
) -> Callable[[np.ndarray], np.ndarray]:
    """Optimal-transport map (POT ``ot.da``) of unit-norm spectra: the Gaussian (linear) map by
    default; ``kind`` "sinkhorn" or "emd" as :func:`fit_sinkhorn` / :func:`fit_emd`."""
    return fit_map(sim_spectra, real_spectra, kind=kind, n_samples=n_samples, reg=reg, seed=seed)


def fit_sinkhorn(
    sim_spectra: np.ndarray,
    real_spectra: np.ndarray,
    *,
    n_samples: int = 5000,
    reg: float = 0.05,
    seed: int = 0,
) -> Callable[[np.ndarray], np.ndarray]:
    """Entropic OT (POT ``ot.da.SinkhornTransport``) of unit-norm spectra, barycentric map."""
    return fit_map(sim_spectra, real_spectra, "sinkhorn", n_samples=n_samples, reg=reg, seed=seed)


def fit_emd(
    sim_spectra: np.ndarray,
    real_spectra: np.ndarray,
    *,
    n_samples: int = 5000,
    seed: int = 0,
) -> Callable[[np.ndarray], np.ndarray]:
    """Exact OT (POT ``ot.da.EMDTransport``) of unit-norm spectra, barycentric map."""
    return fit_map(sim_spectra, real_spectra, "emd", n_samples=n_samples, seed=seed)
