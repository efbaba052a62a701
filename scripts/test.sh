#!/usr/bin/env bash
# Sets up everything the full test suite needs on a fresh machine, then runs it.
#
#   bash scripts/test.sh [pytest args...]
#
# Environments (made once, re-made when this script's requirements change):
#   .venvs/reference  Python 3.11 + tflite-support 0.4.4 (the reference implementation and the
#                     Task Library AudioClassifier; pins protobuf<4) + this package (editable)
#                     + the test tools. The suite runs here.
#   .venvs/mediapipe  Python 3.11 + MediaPipe + LiteRT (needs protobuf>=4, hence separate).
#                     Tests drive it through tests/consumers/*.py in a subprocess.
# tflite-support's native part needs libusb-1.0; on Debian/Ubuntu as root it is installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

PY=${TFLITE_METADATA_TEST_PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY=$cand; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "error: the reference environment needs Python 3.11 (tflite-support 0.4.4 and MediaPipe publish wheels for it); set TFLITE_METADATA_TEST_PYTHON" >&2
  exit 1
fi

if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing libusb-1.0-0 (needed by tflite-support's native part)"
    (apt-get update -qq && apt-get install -y -qq libusb-1.0-0) >/dev/null
  else
    echo "warning: libusb-1.0 is missing; install it (apt-get install libusb-1.0-0) or the reference tests fail" >&2
  fi
fi

# make_env NAME REQUIREMENTS...: a venv under .venvs/NAME holding exactly these requirements.
make_env() {
  local name=$1; shift
  local dir=$root/.venvs/$name
  local stamp; stamp=$(printf '%s\n' "$PY" "$@" | sha256sum | cut -c1-16)
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then return; fi
  echo "== creating .venvs/$name"
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
  echo "$stamp" > "$dir/.stamp"
}

make_env reference "tflite-support==0.4.4" "pytest>=8" "hypothesis>=6.100" "ruff>=0.6" "mypy>=1.10" "build>=1.2"
make_env mediapipe "mediapipe==1.2.2" "ai-edge-litert==2.3.0"
# The package itself is (re)installed every run, editable, so the suite tests this checkout.
.venvs/reference/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . >/dev/null

echo "== ruff"
.venvs/reference/bin/ruff check src tests benchmarks fuzz
.venvs/reference/bin/ruff format --check src tests benchmarks fuzz
echo "== mypy"
.venvs/reference/bin/mypy
echo "== pytest"
export TFLITE_METADATA_MP_PYTHON="$root/.venvs/mediapipe/bin/python"
exec .venvs/reference/bin/python -m pytest "$@"
