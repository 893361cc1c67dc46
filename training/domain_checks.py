"""Checks of the two training domains once their files are read (used by ``cinn-train fit``).

The simulated and the real folder must be different data (the same path, or the same file in
both, would train a transfer from a domain to itself without a word), and a class-conditioned
model needs labelled simulated data. Each problem is a ``DataError`` sentence (exit code 2).
"""

from __future__ import annotations

from pathlib import Path


def check_domains(cfg, data) -> None:
    """The two domains are different data, and the simulated one is labelled (HSI)."""
    from .data import DataError

    sim, real = Path(cfg.data.sim).resolve(), Path(cfg.data.real).resolve()
    if sim == real:
        raise DataError(f"data.sim and data.real are the same path ({cfg.data.sim!r})")
    hashes = {
        d: {
            e["sha256"]: e["file"]
            for e in (data.manifest.get(d) if isinstance(data.manifest.get(d), list) else [])
            if isinstance(e, dict) and "sha256" in e
        }
        for d in ("sim", "real")
    }
    both = sorted(set(hashes["sim"]) & set(hashes["real"]))
    if both:
        raise DataError(
            f"{len(both)} file(s) are in both domains (e.g. {hashes['sim'][both[0]]} and "
            f"{hashes['real'][both[0]]}): data.real must be other data than data.sim"
        )
    subjects = getattr(data.train.get("sim"), "subjects", [])

    def labelled(s) -> bool:  # file subjects say so; in-memory ones hold their labels
        return bool(getattr(s, "has_labels", False)) or getattr(s, "labels", None) is not None

    if cfg.modality == "hsi" and subjects and not any(labelled(s) for s in subjects):
        if int(cfg.model.get("n_classes", 0) or 0) > 0:
            raise DataError(
                f"model.n_classes={cfg.model['n_classes']} needs labelled simulated data, but no "
                f"file in {cfg.data.sim!r} has labels (<stem>_labels.npy or a labels array)"
            )
        print(
            f"[cinn-train] warning: no simulated file in {cfg.data.sim!r} has labels; training "
            "works without them, but evaluation of downstream accuracy needs them",
            flush=True,
        )
