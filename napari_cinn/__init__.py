"""napari-cinn: sim→real domain transfer of spectral images with conditional invertible networks.

Importing this package is cheap: torch and Qt are imported only by the modules that need them.
"""

__version__ = "0.1.0"
