"""OT-CFM baseline: a flow-matching velocity field from sim to real spectra (Tong et al., TMLR 2024).

``torchcfm.ExactOptimalTransportConditionalFlowMatcher`` pairs each sim minibatch with a real one
by the exact OT plan (POT ``ot.emd``) and regresses a small MLP ``v(x, t)`` onto the straight-line
velocities ``x_real - x_sim`` at ``x_t = (1 - t) x_sim + t x_real``. A sim spectrum is then moved
by integrating ``dx/dt = v(x, t)`` from ``t = 0`` to ``1`` with fixed-step RK4 (or Euler).

Spectra ``(n, bands)`` (HSI pixels, or PAT pixel spectra) are scaled to unit L2 norm, then
standardised per band with both domains' pooled mean and std; each spectrum gets its own norm
back, so the flow changes spectral shape, not brightness. Training runs on the CPU for
``iterations`` steps (default 7500, about two minutes of one CPU core, the cINN sample model's
budget) or ``seconds`` of wall-clock time, whichever comes first (``--option iterations=N``,
``--budget SECONDS``); an iteration budget gives the same model whatever the machine's load.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from napari_cinn_training.linear_ot import unit_spectra

SOLVERS = ("rk4", "euler")


class VelocityField(nn.Module):
    """MLP ``v(x, t)``: ``(n, bands)`` and ``(n,)`` times → ``(n, bands)`` velocities."""

    def __init__(self, bands: int, hidden: int = 256, layers: int = 3):
        super().__init__()
        sizes = [bands + 1] + [hidden] * layers
        mods: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            mods += [nn.Linear(a, b), nn.SiLU()]
        mods.append(nn.Linear(sizes[-1], bands))
        self.net = nn.Sequential(*mods)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return self.net(torch.cat([x, t.reshape(-1, 1).expand(len(x), 1)], dim=1))


@torch.no_grad()
def integrate(field: nn.Module, x: Tensor, steps: int = 20, solver: str = "rk4") -> Tensor:
    """``x(1)`` of ``dx/dt = field(x, t)`` from ``x(0) = x`` ``(n, bands)``, fixed steps."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; use one of {SOLVERS}")
    h = 1.0 / steps
    for i in range(steps):
        t = torch.full((len(x),), i * h, dtype=x.dtype)
        k1 = field(x, t)
        if solver == "euler":
            x = x + h * k1
            continue
        k2 = field(x + 0.5 * h * k1, t + 0.5 * h)
        k3 = field(x + 0.5 * h * k2, t + 0.5 * h)
        k4 = field(x + h * k3, t + h)
        x = x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def _valid(x: np.ndarray) -> np.ndarray:
    return np.isfinite(x).all(1) & (np.linalg.norm(np.nan_to_num(x), axis=1) > 0)


def _unit(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"OT-CFM needs (n, bands) {name} spectra, got shape {x.shape}")
    x = unit_spectra(x)
    if len(x) < 2:
        raise ValueError(f"OT-CFM needs at least 2 usable {name} spectra")
    return x


def fit(
    sim_spectra: np.ndarray,
    real_spectra: np.ndarray,
    *,
    seconds: float = 0.0,
    iterations: int = 7500,
    batch_size: int = 256,
    hidden: int = 256,
    layers: int = 3,
    lr: float = 1e-3,
    sigma: float = 0.0,
    steps: int = 20,
    solver: str = "rk4",
    seed: int = 0,
) -> Callable[[np.ndarray], np.ndarray]:
    """OT-CFM (torchcfm, exact minibatch OT) flow of unit-norm spectra, RK4-integrated.

    Parameters
    ----------
    sim_spectra, real_spectra : ``(n, bands)``, ``(m, bands)`` unpaired raw spectra
    seconds, iterations : training budget, whichever ends first (``<= 0``: no limit of that kind)
    batch_size : minibatch per domain (the exact OT plan is ``batch_size``²)
    hidden, layers : width and depth of the MLP velocity field
    lr : Adam learning rate (cosine decay to 1 % over ``iterations`` when that is the limit)
    sigma : width of the Gaussian probability path (0: deterministic straight lines)
    steps, solver : fixed-step integration of the flow at transfer time ("rk4" or "euler")
    seed : initialisation, minibatches, OT-plan sampling

    Returns ``transform((k, bands)) -> (k, bands)`` float32; invalid input rows give NaN.
    """
    try:
        from torchcfm import ExactOptimalTransportConditionalFlowMatcher
    except ImportError as err:
        raise ModuleNotFoundError(
            "the ot-cfm baseline needs torchcfm: pip install --no-deps torchcfm==1.0.7 "
            "(its torchdyn dependency is not needed and breaks lightning with the CPU torch)"
        ) from err

    if seconds <= 0 and iterations <= 0:
        raise ValueError("OT-CFM needs a budget: seconds > 0 or iterations > 0")
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; use one of {SOLVERS}")
    us, ur = _unit(sim_spectra, "sim"), _unit(real_spectra, "real")
    if us.shape[1] != ur.shape[1]:
        raise ValueError(f"sim has {us.shape[1]} bands, real {ur.shape[1]}")
    pooled = np.concatenate([us, ur])
    mean, std = pooled.mean(0), pooled.std(0).clip(1e-8)
    xs = torch.as_tensor((us - mean) / std, dtype=torch.float32)
    xr = torch.as_tensor((ur - mean) / std, dtype=torch.float32)

    gen = torch.Generator().manual_seed(seed)
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()  # noqa: NPY002
    torch.manual_seed(seed)  # init and the path's time draws (torchcfm uses the global RNGs)
    np.random.seed(seed)  # noqa: NPY002 - torchcfm's OT-plan sampler draws with np.random
    try:
        field = VelocityField(xs.shape[1], hidden, layers)
        matcher = ExactOptimalTransportConditionalFlowMatcher(sigma=sigma)
        opt = torch.optim.Adam(field.parameters(), lr=lr)
        sched = None
        if iterations > 0:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iterations, eta_min=lr / 100)
        b = min(batch_size, len(xs), len(xr))
        t_start = time.perf_counter()
        t_end = t_start + seconds if seconds > 0 else float("inf")
        it = 0
        field.train()
        while (iterations <= 0 or it < iterations) and time.perf_counter() < t_end:
            x0 = xs[torch.randint(len(xs), (b,), generator=gen)]
            x1 = xr[torch.randint(len(xr), (b,), generator=gen)]
            t, xt, ut = matcher.sample_location_and_conditional_flow(x0, x1)
            loss = ((field(xt, t) - ut) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            it += 1
    finally:
        torch.random.set_rng_state(torch_state)
        np.random.set_state(np_state)  # noqa: NPY002
    field.eval()
    fit_seconds = time.perf_counter() - t_start

    def transform(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if x.ndim != 2 or x.shape[1] != len(mean):
            raise ValueError(f"OT-CFM transform expects (n, {len(mean)}) spectra, got {x.shape}")
        ok = _valid(x)
        out = np.full(x.shape, np.nan, np.float32)
        r = np.linalg.norm(x[ok], axis=1, keepdims=True)
        u = torch.as_tensor((x[ok] / r - mean) / std, dtype=torch.float32)
        moved = np.empty(u.shape)
        for i in range(0, len(u), 8192):
            moved[i : i + 8192] = integrate(field, u[i : i + 8192], steps, solver).numpy()
        out[ok] = ((moved * std + mean) * r).astype(np.float32)
        return out

    transform.info = {  # type: ignore[attr-defined]  # logged by the evaluation harness
        "iterations": it,
        "fit_seconds": round(fit_seconds, 1),
        "n_sim": len(xs),
        "n_real": len(xr),
    }
    return transform
