"""The import rules of DESIGN.md hold: ``lint-imports`` keeps every contract in ``.importlinter``
(core imports no Qt/napari/Lightning, training never imports the docks, the docks' logic is
Qt-free, plugin layers, no import cycles inside ``napari_cinn`` or ``napari_cinn_training``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"


def lint(config: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    return subprocess.run(
        [exe, "--config", str(config), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_import_contract_is_kept():
    proc = lint(CONFIG)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout
