"""Opening napari with napari-cinn stays fast: the reader, sample data and the dock's module
import without torch; torch loads only when a transfer runs."""

from __future__ import annotations

import subprocess
import sys


def test_plugin_modules_do_not_import_torch():
    code = (
        "import sys\n"
        "import napari_cinn.io._napari, napari_cinn._sample_data, napari_cinn.widgets.transfer\n"
        "from napari_cinn._sample_data import load_sample\n"
        "from napari_cinn.io._napari import get_reader\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]
