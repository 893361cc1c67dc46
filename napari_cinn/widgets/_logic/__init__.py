"""Qt-free logic of the docks: layers in, layer-data tuples, numbers and messages out.

One module per dock (``transfer``, ``spectra``, ``latent``, ``compare``) plus what they share
(``models``: model files and their fit to a layer; ``regions``: pixels and ROIs of layers). Nothing
here imports Qt (an import-linter contract checks it); napari layers come in as arguments, and tests
call these functions with plain ``napari.layers`` objects and no viewer window. The dock widgets
in ``napari_cinn.widgets`` are thin Qt shells over them.
"""
