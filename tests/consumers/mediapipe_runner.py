"""Classify audio or images with MediaPipe's classifiers.

Run with the MediaPipe environment's Python:

    python mediapipe_runner.py REQUEST.json

The request names ``models`` and its ``task``: ``"audio"`` (the default) with a
raw little-endian float32 ``audio`` file and its ``sample_rate`` for
``AudioClassifier``, or ``"image"`` with ``images`` (paths of image files, JPEG
or PNG) for ``ImageClassifier``, or ``"detect"`` with ``images`` for ``ObjectDetector``
(its detections instead). The answer is one JSON line on stdout, after a
marker: for each model either the classification results (every head, every
category; for images, one result per image) or the error it raised, with the
``stage`` that raised it (``"create"`` or ``"classify"``) for images.
``"segment"`` runs ``ImageSegmenter`` on ``images``: its category mask (a
SHA-256 and a class histogram), the number of confidence masks, its labels.
``"text"`` runs ``TextClassifier`` (regex and BERT models alike) on ``texts``.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

import numpy as np
from mediapipe.tasks import python as mp_tasks
from mediapipe.tasks.python import audio as mp_audio
from mediapipe.tasks.python.components.containers import audio_data as mp_audio_data


def heads_of(result: Any) -> list[dict[str, object]]:
    """Every head of a classification result, every category, exact scores."""
    return [
        {
            "index": head.head_index,
            "name": head.head_name,
            "categories": [
                [c.index, c.category_name, c.display_name, float(c.score)] for c in head.categories
            ],
        }
        for head in result.classifications
    ]


def classify(model_path: str, samples: np.ndarray, sample_rate: int) -> dict[str, object]:
    options = mp_audio.AudioClassifierOptions(
        base_options=mp_tasks.BaseOptions(model_asset_path=model_path),
        running_mode=mp_audio.RunningMode.AUDIO_CLIPS,
    )
    try:
        with mp_audio.AudioClassifier.create_from_options(options) as classifier:
            clip = mp_audio_data.AudioData.create_from_array(samples, sample_rate)
            results = classifier.classify(clip)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    out = [{"timestamp_ms": r.timestamp_ms, "heads": heads_of(r)} for r in results]
    return {"results": out}


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_task(
    create: Callable[[], Any],
    items: list[str],
    key: str,
    stage: str,
    each: Callable[[Any, str], object],
    extra: Callable[[Any], dict[str, object]] | None = None,
) -> dict[str, object]:
    """Create a task, give it each item, close it: ``{key: results}`` (+ ``extra(task)``).

    Or the first error and the ``stage`` that raised it: ``"create"``, ``stage``
    (running) or ``"close"``.
    """
    try:
        task = create()
    except Exception as exc:
        return {"stage": "create", "error": _error(exc)}
    answer: dict[str, object]
    try:
        answer = {key: [each(task, item) for item in items]}
        if extra is not None:
            answer.update(extra(task))
    except Exception as exc:
        answer = {"stage": stage, "error": _error(exc)}
    try:
        task.close()
    except Exception as exc:
        # A graph that failed may fail again when closed: the first error is the answer.
        answer.setdefault("error", _error(exc))
        answer.setdefault("stage", "close")
    return answer


def classify_images(model_path: str, images: list[str]) -> dict[str, object]:
    import mediapipe as mp
    from mediapipe.tasks.python import vision as mp_vision

    # max_results -1 (the default): every category.
    options = mp_vision.ImageClassifierOptions(
        base_options=mp_tasks.BaseOptions(model_asset_path=model_path),
        running_mode=mp_vision.RunningMode.IMAGE,
        max_results=-1,
    )

    def classify_one(classifier: Any, image: str) -> object:
        result = classifier.classify(mp.Image.create_from_file(image))
        return {"timestamp_ms": result.timestamp_ms, "heads": heads_of(result)}

    return run_task(
        lambda: mp_vision.ImageClassifier.create_from_options(options),
        images,
        "images",
        "classify",
        classify_one,
    )


def segment_images(model_path: str, images: list[str]) -> dict[str, object]:
    import hashlib

    import mediapipe as mp
    from mediapipe.tasks.python import vision as mp_vision

    options = mp_vision.ImageSegmenterOptions(
        base_options=mp_tasks.BaseOptions(model_asset_path=model_path),
        running_mode=mp_vision.RunningMode.IMAGE,
        output_category_mask=True,
        output_confidence_masks=True,
    )

    def segment_one(segmenter: Any, image: str) -> object:
        result = segmenter.segment(mp.Image.create_from_file(image))
        mask = np.ascontiguousarray(result.category_mask.numpy_view(), dtype=np.uint8)
        return {
            "shape": list(mask.shape),
            "mask_sha256": hashlib.sha256(mask.tobytes()).hexdigest(),
            "histogram": np.bincount(mask.ravel(), minlength=1).tolist(),
            "confidence_masks": len(result.confidence_masks or []),
            "confidence_sha256": hashlib.sha256(
                b"".join(
                    np.ascontiguousarray(m.numpy_view(), dtype=np.float32).tobytes()
                    for m in result.confidence_masks or []
                )
            ).hexdigest(),
        }

    return run_task(
        lambda: mp_vision.ImageSegmenter.create_from_options(options),
        images,
        "images",
        "segment",
        segment_one,
        lambda segmenter: {"labels": list(segmenter.labels)},
    )


def classify_texts(model_path: str, texts: list[str]) -> dict[str, object]:
    """MediaPipe's ``TextClassifier`` (regex and BERT models alike) on each text."""
    from mediapipe.tasks.python import text as mp_text

    options = mp_text.TextClassifierOptions(
        base_options=mp_tasks.BaseOptions(model_asset_path=model_path), max_results=-1
    )
    return run_task(
        lambda: mp_text.TextClassifier.create_from_options(options),
        texts,
        "texts",
        "classify",
        lambda classifier, sentence: {"heads": heads_of(classifier.classify(sentence))},
    )


def detect_images(model_path: str, images: list[str]) -> dict[str, object]:
    """Every detection of ``ObjectDetector`` (max_results -1): box, categories, exact scores."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision as mp_vision

    options = mp_vision.ObjectDetectorOptions(
        base_options=mp_tasks.BaseOptions(model_asset_path=model_path),
        running_mode=mp_vision.RunningMode.IMAGE,
        max_results=-1,
    )

    def detect_one(detector: Any, image: str) -> object:
        result = detector.detect(mp.Image.create_from_file(image))
        detections = []
        for d in result.detections:
            box = d.bounding_box
            detections.append(
                {
                    "box": [box.origin_x, box.origin_y, box.width, box.height],
                    "categories": [
                        [c.index, c.category_name, c.display_name, float(c.score)]
                        for c in d.categories
                    ],
                }
            )
        return {"detections": detections}

    return run_task(
        lambda: mp_vision.ObjectDetector.create_from_options(options),
        images,
        "images",
        "detect",
        detect_one,
    )


# Native code may print to stdout too; the answer is the line after this marker.
MARKER = "@@tflite-metadata-result@@"


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.loads(handle.read())
    if request.get("task", "audio") == "text":
        answer = {path: classify_texts(path, request["texts"]) for path in request["models"]}
    elif request.get("task", "audio") == "image":
        answer = {path: classify_images(path, request["images"]) for path in request["models"]}
    elif request.get("task") == "detect":
        answer = {path: detect_images(path, request["images"]) for path in request["models"]}
    elif request.get("task") == "segment":
        answer = {path: segment_images(path, request["images"]) for path in request["models"]}
    else:
        samples = np.fromfile(request["audio"], dtype="<f4")
        rate = int(request["sample_rate"])
        answer = {path: classify(path, samples, rate) for path in request["models"]}
    print(MARKER + json.dumps(answer))


if __name__ == "__main__":
    main()
