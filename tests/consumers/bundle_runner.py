"""Write ``.task`` bundles with MediaPipe's own function, and load bundles with MediaPipe Tasks.

Run with the MediaPipe environment's Python:

    python bundle_runner.py REQUEST.json

The request holds ``create``, a list of ``{"models": [[name, path], ...], "output":
path, "time": seconds}``: each is written by MediaPipe's
``model_asset_bundle_utils.create_model_asset_bundle`` with the clock fixed at
``time`` (the bundle records the time of writing, in local time), and ``load``,
a list of ``{"path": bundle, "task": "hand" | "gesture"}``: each bundle is given
to ``HandLandmarker`` or ``GestureRecognizer``, in a child process of its own
(a forked copy of this one, so that MediaPipe loads once), because MediaPipe's
bundle reader crashes on some hostile bundles. A load's answer is
``{"error": "Type: message"}``, ``{"created": true}``, or ``{"signal": N}`` when
the child died from signal N. With ``"interface": true``, the answer's
``interface`` holds the names and signatures of MediaPipe's
``model_asset_bundle_utils`` (as ``mp_writer_cases.interface`` gives them).

``model_asset_bundle_utils`` imports without the ``_pywrap_metadata_version``
extension that the published wheel lacks (it needs only :mod:`zipfile`).
"""

from __future__ import annotations

import json
import mmap
import os
import select
import signal
import sys
import time
from typing import Any

MARKER = "@@tflite-metadata-result@@"
#: Models of this size or more are given to MediaPipe's writer as a mapping of their file.
LARGE = 64 << 20
#: Seconds one load may take before its child is killed.
LOAD_TIMEOUT = 120


def create(job: dict[str, Any]) -> dict[str, Any]:
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    models: dict[str, Any] = {}
    mappings = []
    for name, path in job["models"]:
        with open(path, "rb") as stream:
            if os.fstat(stream.fileno()).st_size < LARGE:
                models[name] = stream.read()
            else:  # zipfile takes any buffer: a mapping spares gigabytes of memory
                mappings.append(mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ))
                models[name] = memoryview(mappings[-1])
    fixed = float(job["time"])
    real_time = time.time
    time.time = lambda: fixed  # zipfile dates each entry with time.localtime(time.time())
    try:
        model_asset_bundle_utils.create_model_asset_bundle(models, job["output"])
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        time.time = real_time
        for model in models.values():
            if isinstance(model, memoryview):
                model.release()
        for mapping in mappings:
            mapping.close()
    return {"written": True}


def load_in_this_process(path: str, task: str) -> dict[str, Any]:
    from mediapipe.tasks import python as mp_tasks
    from mediapipe.tasks.python import vision

    base = mp_tasks.BaseOptions(model_asset_path=path)
    try:
        if task == "gesture":
            vision.GestureRecognizer.create_from_options(
                vision.GestureRecognizerOptions(base_options=base)
            ).close()
        else:
            vision.HandLandmarker.create_from_options(
                vision.HandLandmarkerOptions(base_options=base)
            ).close()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"created": True}


def load(job: dict[str, Any]) -> dict[str, Any]:
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        try:
            answer = load_in_this_process(job["path"], job.get("task", "hand"))
        except BaseException as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write_end, json.dumps(answer).encode())
        os._exit(0)
    os.close(write_end)
    chunks = []
    deadline = time.monotonic() + LOAD_TIMEOUT
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([read_end], [], [], remaining)[0]:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            os.close(read_end)
            return {"timeout": LOAD_TIMEOUT}
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    if not chunks:
        return {"exit": os.WEXITSTATUS(status)}
    return json.loads(b"".join(chunks))  # type: ignore[no-any-return]


def main() -> None:
    with open(sys.argv[1]) as stream:
        request = json.load(stream)
    created = [create(job) for job in request.get("create", [])]
    if request.get("load"):
        # Load MediaPipe once, before forking.
        from mediapipe.tasks.python import vision  # noqa: F401
    loaded = [load(job) for job in request.get("load", [])]
    answer: dict[str, Any] = {"create": created, "load": loaded}
    if request.get("interface"):
        from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils
        from mp_writer_cases import interface

        answer["interface"] = interface(model_asset_bundle_utils)
    print(MARKER + json.dumps(answer))


if __name__ == "__main__":
    main()
