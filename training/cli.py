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
    "transfer": (
        "napari_cinn_training.batch_transfer",
        "transfer folders of spectral files with a model file (headless, resumable)",
    ),
    "import-udt": (
        "napari_cinn_training.import_udt",
        "convert a UDT-cINN (paper code) HSI checkpoint into a model file",
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
    return int(import_module(args._module).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
