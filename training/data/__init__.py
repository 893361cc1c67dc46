"""Training data: read the sim folder (labelled) and the real folder (unlabelled), split by subject,
and sample batches of spectra (HSI) or image crops (PAT), in memory bounded by a setting.

- :mod:`.sources` — listing files, lazy reading, :class:`Subject` / :class:`DomainData`
- :mod:`.sampling` — capped per-file/per-class pixel samples and the rotating :class:`EpochPool`
- :mod:`.datasets` — seeded, resumable batches; the DDP-aware :class:`EpochSampler`
- :mod:`.manifest` — the data manifest and the SHA-256 cache
- :mod:`.module` — :func:`prepare` and the Lightning :class:`SpectralDataModule`

Shapes: spectra ``(n, bands)``; images ``(n, bands, crop, crop)``.
"""

from .datasets import (
    CropBatches,
    EpochSampler,
    SpectraBatches,
    crop_row0,
    fixed_validation,
    labelled_spectra,
    training_arrays,
)
from .manifest import HashCache, file_sha256, manifest
from .module import (
    SpectralDataModule,
    TrainingData,
    from_arrays,
    prepare,
    prepare_config,
    split_subjects,
)
from .sampling import EpochPool, Sampling, sample_file
from .sources import (
    DOMAINS,
    EXTENSIONS,
    DataError,
    DomainData,
    Subject,
    list_files,
    load_domain,
)

__all__ = [
    "DOMAINS",
    "EXTENSIONS",
    "CropBatches",
    "DataError",
    "DomainData",
    "EpochPool",
    "EpochSampler",
    "HashCache",
    "Sampling",
    "SpectraBatches",
    "SpectralDataModule",
    "Subject",
    "TrainingData",
    "crop_row0",
    "file_sha256",
    "fixed_validation",
    "from_arrays",
    "labelled_spectra",
    "list_files",
    "load_domain",
    "manifest",
    "prepare",
    "prepare_config",
    "sample_file",
    "split_subjects",
    "training_arrays",
]
