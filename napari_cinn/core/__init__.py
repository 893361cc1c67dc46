"""Qt-free core of napari-cinn: spectra helpers, FrEIA models, the model file and chunked transfer.

Nothing below this package imports Qt, napari or Lightning. Submodules that need torch are imported
lazily, so ``from napari_cinn.core import spectra`` stays cheap.
"""

from importlib import import_module
from typing import Any

_LAZY = {
    "DomainTransferModel": "models",
    "build_model": "models",
    "save_model": "bundle",
    "load_model": "bundle",
    "ModelFileError": "bundle",
    "transfer_image": "transfer",
    "encode_image": "transfer",
    "likelihood_image": "transfer",
    "TransferCancelled": "transfer",
    "resolve_device": "devices",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
