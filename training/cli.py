"""``cinn-train``: one entry point for every training sub-command.

Each sub-command lives in its own module that exposes ``configure(parser)`` (add its options) and
``run(args) -> int`` (do the work). Modules are imported only when their command runs, so
``cinn-train --help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": (
        "napari_cinn_training.simulate.command",
        "write the synthetic HSI/PAT benchmark to a folder",
    ),
    "fit": ("napari_cinn_training.fit", "train a cINN or a baseline from a YAML config"),
    "export": (
        "napari_cinn_training.export",
        "turn a training checkpoint into a model file for the plugin",
    ),
    "evaluate": (
        "napari_cinn_training.evaluate.command",
        "score a transfer method on downstream tasks",
    ),
    "image-spread": (
        "napari_cinn_training.image_spread",
        "give an HSI model file the whole-image variability its transfers lack",
    ),
    "transfer": (
        "napari_cinn_training.batch_transfer",
        "transfer folders of spectral files with a model file (headless, resumable)",
    ),
    "import-udt": (
        "napari_cinn_training.import_udt",
        "convert a UDT-cINN (paper code) HSI checkpoint into a model file",
    ),
    "track": (
        "napari_cinn_training.evaluate.tracking",
        "check a run's label-free checkpoint criterion against the downstream score",
    ),
    "table": (
        "napari_cinn_training.evaluate.table",
        "pool evaluation reports (e.g. training seeds) into one table",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cinn-train",
        description="Train and evaluate sim→real domain-transfer models for spectral images.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        try:
            import_module(module).configure(p)
        except ModuleNotFoundError as err:  # command not built yet or optional extra missing
            p.set_defaults(_missing=str(err))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "_missing", None):
        print(
            f"cinn-train {args.command}: unavailable ({args._missing}); "
            "install the training extra: pip install 'napari-cinn[train]'",
            file=sys.stderr,
        )
        return 2
    problem = check_arguments(args)
    if problem:
        print(f"cinn-train {args.command}: {problem}", file=sys.stderr)
        return 2
    try:
        return int(import_module(args._module).run(args) or 0)
    except Exception as err:
        if not isinstance(err, usage_errors()):
            raise
        print(f"cinn-train {args.command}: {one_sentence(err)}", file=sys.stderr)
        return 2


#: (command, argument) -> (lowest, highest) for the numeric options of every sub-command; ``fit``'s
#: flags become config keys and are checked with the config (``config_checks.RANGES``)
ARG_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("simulate", "subjects"): (1, 1_000_000),
    ("simulate", "seed"): (0, 2**32 - 1),
    ("simulate", "size"): (8, 16_384),
    ("simulate", "first"): (0, 10**9),
    ("simulate", "camera_seed"): (0, 2**32 - 1),
    ("evaluate", "seeds"): (0, 2**32 - 1),
    ("evaluate", "pixels"): (1, 10**8),
    ("evaluate", "samples"): (0, 10**6),
    ("track", "seeds"): (0, 2**32 - 1),
    ("track", "samples"): (0, 10**6),
    ("import-udt", "mean_sim"): (-1e12, 1e12),
    ("import-udt", "mean_real"): (-1e12, 1e12),
    ("import-udt", "std_sim"): (1e-30, 1e12),
    ("import-udt", "std_real"): (1e-30, 1e12),
}


def check_arguments(args: argparse.Namespace) -> str | None:
    """The first numeric option out of range (or NaN/infinite), as a sentence; None if all fit."""
    import math

    for (command, name), (lo, hi) in ARG_RANGES.items():
        if command != args.command or getattr(args, name, None) is None:
            continue
        value = getattr(args, name)
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                flag = "--" + name.replace("_", "-")
                return f"{flag} {v!r} is out of range; allowed: {lo:g} to {hi:g}"
    return None


def usage_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "bad input" (exit 2 with one sentence), from every layer."""
    from napari_cinn.core.bundle import ModelFileError
    from napari_cinn.io import SpectralFileError

    from .config import ConfigError

    found: list[type[Exception]] = [ConfigError, SpectralFileError, ModelFileError]
    for module, name in (
        ("napari_cinn_training.data", "DataError"),
        ("napari_cinn_training.export", "ExportError"),
        ("napari_cinn_training.checkpoints", "CheckpointError"),
        ("lightning.fabric.utilities.exceptions", "MisconfigurationException"),
    ):
        try:
            found.append(getattr(import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def one_sentence(err: BaseException) -> str:
    """The error's message on one line."""
    return " ".join(str(err).split()) or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
