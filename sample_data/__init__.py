"""Sample cubes, images and pretrained model files, shipped inside the plugin.

This folder installs as ``napari_cinn.sample_data``; find files with
``importlib.resources.files("napari_cinn.sample_data")`` (see ``napari_cinn/_sample_data.py``).
"""
