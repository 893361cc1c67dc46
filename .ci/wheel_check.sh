#!/usr/bin/env bash
# Install napari-cinn as a napari user does and test that installation: build the wheel, install
# it into a fresh virtual environment (not on top of the CI venv, whose editable install would
# leak the source tree), and run tests/installed/ from a folder outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python -m pip wheel -q --no-deps . -w "$WORK/dist"
python3 -m venv "$WORK/venv"
PY="$WORK/venv/bin/python"
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q torch==2.13.0
"$PY" -m pip install -q "$WORK"/dist/napari_cinn-*.whl PyQt6 pytest pytest-qt pytest-xvfb
mkdir "$WORK/run"
cp tests/installed/test_installed_plugin.py "$WORK/run/"
cd "$WORK/run"
"$PY" -m pytest -q -p no:cacheprovider -W "ignore::DeprecationWarning" test_installed_plugin.py
