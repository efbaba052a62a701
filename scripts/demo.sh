#!/usr/bin/env bash
# Sets up a virtual environment with tflite-metadata and runs the demo on the bundled sample model.
#
#   bash scripts/demo.sh [demo options...]
#
# Needs only Python 3.9 or newer (set PYTHON to choose one) and access to PyPI for `flatbuffers`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
venv=.venvs/demo
if [ ! -x "$venv/bin/tflite-metadata" ]; then
  "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check .
else
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps .
fi
exec "$venv/bin/tflite-metadata" demo "$@"
