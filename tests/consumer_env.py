"""Running the real consumers (Task Library, MediaPipe, LiteRT) from the test suite.

Each consumer runs in a child process of its own environment (tflite-support
pins protobuf<4, MediaPipe needs a newer one), through the scripts in
``tests/consumers/``. ``scripts/test.sh`` creates those environments.

Where an environment is missing the tests skip, except under CI (``CI=true``),
where a missing consumer is a failure: CI must run every consumer check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNNERS = HERE / "consumers"
MARKER = "@@tflite-metadata-result@@"


def in_ci() -> bool:
    """Whether this run is CI, where nothing may be skipped for want of a tool."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, what: str) -> None:
    """Skip the test when ``what`` is unavailable, or fail under CI."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{what} is required in CI but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


def _first_python(candidates: Sequence[str | os.PathLike[str] | None]) -> str | None:
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return None


def mediapipe_python() -> str | None:
    """The Python of the environment with MediaPipe and LiteRT, if there is one."""
    return _first_python(
        [
            os.environ.get("TFLITE_METADATA_MP_PYTHON"),
            ROOT / ".venvs" / "mediapipe" / "bin" / "python",
        ]
    )


def reference_python() -> str | None:
    """The Python of the environment with tflite-support 0.4.4, if there is one."""
    try:
        import tflite_support  # noqa: F401
    except ImportError:
        return _first_python(
            [
                os.environ.get("TFLITE_METADATA_REF_PYTHON"),
                ROOT / ".venvs" / "reference" / "bin" / "python",
            ]
        )
    return sys.executable


def run_runner(
    python: str, script: str, request: dict[str, Any], tmp: Path, timeout: float = 600
) -> dict[str, Any]:
    """Run ``tests/consumers/<script>`` with ``request`` and return its JSON answer.

    The request is written to ``tmp``: runs in parallel need folders of their own.
    """
    request_file = tmp / f"{Path(script).stem}-request.json"
    request_file.write_text(json.dumps(request))
    proc = subprocess.run(
        [python, str(RUNNERS / script), str(request_file)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "GLOG_minloglevel": "3"},
    )
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])  # type: ignore[no-any-return]
    raise AssertionError(
        f"{script} gave no answer (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n"
        f"{proc.stderr[-4000:]}"
    )


_EXTENSION = "tensorflow_lite_support.metadata.cc.python._pywrap_metadata_version"
_extension_path: list[str | None] = []


def metadata_version_extension() -> str | None:
    """The file of tflite-support's ``_pywrap_metadata_version`` extension, if installed.

    MediaPipe's writers need an extension of that name that its wheel lacks;
    ``tests/consumers/mediapipe_writer_runner.py`` loads tflite-support's in its
    place (the same function over the same schema), for the reference run only.
    Found in this environment when it has tflite-support, else in the reference
    environment's (without importing it).
    """
    if not _extension_path:
        _extension_path.append(_find_extension())
    return _extension_path[0]


def _find_extension() -> str | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(_EXTENSION)
    except ImportError:
        spec = None
    if spec is not None and spec.origin and Path(spec.origin).is_file():
        return spec.origin
    python = reference_python()
    if python is None or python == sys.executable:
        return None
    script = (
        "import importlib.util as u; s = u.find_spec(" + repr(_EXTENSION) + "); "
        "print(s.origin if s else '')"
    )
    try:
        proc = subprocess.run(
            [python, "-c", script], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    origin = proc.stdout.strip()
    return origin if origin and Path(origin).is_file() else None


def run_mediapipe_writers(cases: list[dict[str, Any]], tmp: Path) -> list[dict[str, Any]]:
    """Run metadata-writer cases through MediaPipe's own writers (skips when unavailable).

    See ``tests/consumers/mp_writer_cases.py`` for the cases and the outcomes.
    """
    python = mediapipe_python()
    require(python is not None, "the MediaPipe environment")
    extension = metadata_version_extension()
    require(extension is not None, "tflite-support's _pywrap_metadata_version extension")
    assert python is not None
    answer: Any = run_runner(
        python, "mediapipe_writer_runner.py", {"extension": extension, "cases": cases}, tmp
    )
    assert isinstance(answer, list) and len(answer) == len(cases)
    return answer


def mediapipe_writers_interface(modules: list[str], tmp: Path) -> dict[str, Any]:
    """The names and signatures of MediaPipe's metadata modules (``metadata_writers.X`` …)."""
    python = mediapipe_python()
    require(python is not None, "the MediaPipe environment")
    extension = metadata_version_extension()
    require(extension is not None, "tflite-support's _pywrap_metadata_version extension")
    assert python is not None
    request = {"extension": extension, "cases": [], "interface": modules}
    return run_runner(python, "mediapipe_writer_runner.py", request, tmp)
