"""The ideal sim→real transfer of the HSI benchmark, as a ``fit()`` file for the harness.

A ceiling for every method (``docs/latent_space.md``, "How far can a transfer go?"): each
sampled simulated spectrum is replaced by the same pixel of the same subject rendered through
the generator's real-like camera (``cinn-train simulate hsi --domain sim --camera real``), one
folder per realisation. Only possible on a synthetic benchmark, and not part of the package::

    for k in 0 1 2; do cinn-train simulate hsi --subjects 16 --domain sim --seed 1 \\
        --camera real --camera-seed $k --out data/hsi/oracle_d$k; done
    cinn-train evaluate --sim data/hsi/sim --real $E --classifiers rf lda --samples 3 \\
        --method docs/experiments/oracle.py \\
        --option renders=data/hsi/oracle_d0,data/hsi/oracle_d1,data/hsi/oracle_d2 --out reports/oracle
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from napari_cinn_training.evaluate import EvaluationError
from napari_cinn_training.evaluate.data import load_folder
from napari_cinn_training.evaluate.transfers import realisation_seed


def _pixels(folder: Path) -> dict[str, np.ndarray]:
    """Subject number → its spectra ``(y·x, bands)`` for every cube in ``folder``."""
    images = load_folder(folder, "oracle.py", labelled=False)  # clear errors, as the harness's
    return {im.path.stem.rsplit("_", 1)[-1]: im.data.reshape(len(im.data), -1).T for im in images}


class Oracle:
    """``sample(x, seed)``: realisation ``k`` = render ``k``; ``x`` itself: render 0."""

    stochastic = True

    def __init__(self, sim: Path, renders: list[Path]) -> None:
        spectra = _pixels(sim)
        self.index = {
            row.tobytes(): (subject, i) for subject, s in spectra.items() for i, row in enumerate(s)
        }
        self.renders = [_pixels(r) for r in renders]

    def _render(self, x: np.ndarray, k: int) -> np.ndarray:
        rows = np.ascontiguousarray(x, np.float32)
        try:
            where = [self.index[row.tobytes()] for row in rows]
        except KeyError:
            msg = "oracle.py: a sampled spectrum is not a pixel of --option sim"
            raise EvaluationError(msg) from None
        return np.stack([self.renders[k][s][i] for s, i in where])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._render(x, 0)

    def sample(self, x: np.ndarray, seed: int) -> np.ndarray:
        """Realisation ``k`` (the harness's ``realisation_seed(k)``) is render ``k``."""
        for k in range(len(self.renders)):
            if realisation_seed(k) == seed:
                return self._render(x, k)
        raise EvaluationError(f"oracle.py: --samples needs more than {len(self.renders)} renders")


def fit(
    sim_spectra: np.ndarray,
    real_spectra: np.ndarray,
    *,
    sim: str = "data/hsi/sim",
    renders: str = "",
) -> Oracle:
    """The ideal transfer: each sim pixel as rendered by the real camera (nothing is fitted)."""
    if not renders:
        raise EvaluationError(
            "oracle.py: pass --option renders=DIR0,DIR1,... (one per realisation)"
        )
    return Oracle(Path(sim), [Path(r) for r in renders.split(",")])
