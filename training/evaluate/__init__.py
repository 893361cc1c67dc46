"""Evaluation harness: downstream classifiers, transfer-quality metrics, report folder.

``evaluate(sim_dir, real_dir, method)`` returns ``(metrics, arrays)``; ``write_report`` writes
``metrics.json``, ``report.md`` and the figures. ``cinn-train evaluate`` wraps both.
"""

from napari_cinn_training.evaluate.data import EvaluationError, load_folder
from napari_cinn_training.evaluate.harness import evaluate
from napari_cinn_training.evaluate.methods import METHODS, register, resolve_method
from napari_cinn_training.evaluate.report import write_report

__all__ = [
    "METHODS",
    "EvaluationError",
    "evaluate",
    "load_folder",
    "register",
    "resolve_method",
    "write_report",
]
