"""Training package of napari-cinn: synthetic benchmark, cINN trainer, baselines, evaluation.

It builds on ``napari_cinn.core`` and never imports napari or Qt.
"""
