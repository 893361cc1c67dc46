"""Domain-transfer baselines. Each module exposes ``fit(sim_spectra, real_spectra) -> transform``.

``sim_spectra`` ``(n, bands)`` and ``real_spectra`` ``(m, bands)`` are unpaired, unlabelled raw
spectra; ``transform`` maps ``(k, bands)`` sim spectra to ``(k, bands)`` real-like spectra. A module
``training/baselines/<name>.py`` with such a ``fit`` is found by ``cinn-train evaluate --method
<name>`` (underscores may be written as hyphens).
"""
