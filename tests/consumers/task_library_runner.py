"""Classify audio or images with tflite-support's Task Library classifiers.

Run with the reference environment's Python (it has tflite-support 0.4.4):

    python task_library_runner.py REQUEST.json

The request names ``models`` and its ``task``: ``"text"`` with ``texts`` and ``kind``
(``"nl"``: ``NLClassifier``; ``"bert"``: ``BertNLClassifier``), ``"audio"`` (the default) with a
raw little-endian float32 ``audio`` file for ``AudioClassifier``, ``"image"``
with ``images`` (paths of image files, JPEG or PNG) for ``ImageClassifier``, or
``"segment"`` with ``images`` for ``ImageSegmenter`` (its category mask, as a
SHA-256 and a class histogram, and its colored labels), or ``"detect"`` with
``images`` for ``ObjectDetector`` (its detections instead).
The answer is one JSON line on stdout, after a marker: for each model either its
classifications (every head, every category, in the library's order; for
images, one result per image) or the error it raised, with the ``stage`` that
raised it (``"create"`` or ``"classify"``). Running in a child process keeps a
crash of the native library from taking pytest down.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
from tflite_support.task import audio, core, processor, text, vision


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


def classify(model_path: str, samples: np.ndarray) -> dict[str, object]:
    options = audio.AudioClassifierOptions(
        base_options=core.BaseOptions(file_name=model_path),
        classification_options=processor.ClassificationOptions(max_results=-1),
    )
    try:
        classifier = audio.AudioClassifier.create_from_options(options)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    size = classifier.required_input_buffer_size
    fmt = classifier.required_audio_format
    tensor = audio.TensorAudio(audio_format=fmt, buffer_size=size)
    tensor.load_from_array(samples[:size].reshape(-1, fmt.channels).astype(np.float32))
    result = classifier.classify(tensor)
    return {
        "sample_rate": fmt.sample_rate,
        "channels": fmt.channels,
        "buffer_size": size,
        "heads": heads_of(result),
    }


def classify_images(model_path: str, images: list[str]) -> dict[str, object]:
    options = vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=model_path),
        classification_options=processor.ClassificationOptions(max_results=-1),
    )
    try:
        classifier = vision.ImageClassifier.create_from_options(options)
    except Exception as exc:
        return {"stage": "create", "error": f"{type(exc).__name__}: {exc}"}
    results = []
    try:
        for image in images:
            tensor = vision.TensorImage.create_from_file(image)
            results.append({"heads": heads_of(classifier.classify(tensor))})
    except Exception as exc:
        return {"stage": "classify", "error": f"{type(exc).__name__}: {exc}"}
    return {"images": results}


def segment_images(model_path: str, images: list[str]) -> dict[str, object]:
    import hashlib

    options = vision.ImageSegmenterOptions(base_options=core.BaseOptions(file_name=model_path))
    try:
        segmenter = vision.ImageSegmenter.create_from_options(options)
    except Exception as exc:
        return {"stage": "create", "error": f"{type(exc).__name__}: {exc}"}
    results = []
    try:
        for image in images:
            segmentation = segmenter.segment(vision.TensorImage.create_from_file(image))
            item = segmentation.segmentations[0]
            mask = np.ascontiguousarray(np.asarray(item.category_mask, dtype=np.uint8))
            results.append(
                {
                    "width": item.width,
                    "height": item.height,
                    "mask_sha256": hashlib.sha256(mask.tobytes()).hexdigest(),
                    "histogram": np.bincount(mask.ravel(), minlength=1).tolist(),
                    "labels": [
                        [list(label.color), label.category_name, label.display_name]
                        for label in item.colored_labels
                    ],
                }
            )
    except Exception as exc:
        return {"stage": "segment", "error": f"{type(exc).__name__}: {exc}"}
    return {"images": results}


# Native code may print to stdout too; the answer is the line after this marker.
MARKER = "@@tflite-metadata-result@@"


def classify_texts(model_path: str, kind: str, texts: list[str]) -> dict[str, object]:
    """``NLClassifier`` (kind ``"nl"``) or ``BertNLClassifier`` (``"bert"``) on each text."""
    base = core.BaseOptions(file_name=model_path)
    try:
        if kind == "bert":
            classifier: Any = text.BertNLClassifier.create_from_options(
                text.BertNLClassifierOptions(base_options=base)
            )
        else:
            classifier = text.NLClassifier.create_from_options(
                text.NLClassifierOptions(base_options=base)
            )
    except Exception as exc:
        return {"stage": "create", "error": f"{type(exc).__name__}: {exc}"}
    results = []
    try:
        for sentence in texts:
            results.append({"heads": heads_of(classifier.classify(sentence))})
    except Exception as exc:
        return {"stage": "classify", "error": f"{type(exc).__name__}: {exc}"}
    return {"texts": results}


def detect_images(model_path: str, images: list[str]) -> dict[str, object]:
    """Every detection of ``ObjectDetector`` (max_results -1): box, categories, exact scores."""
    options = vision.ObjectDetectorOptions(
        base_options=core.BaseOptions(file_name=model_path),
        detection_options=processor.DetectionOptions(max_results=-1),
    )
    try:
        detector = vision.ObjectDetector.create_from_options(options)
    except Exception as exc:
        return {"stage": "create", "error": f"{type(exc).__name__}: {exc}"}
    results = []
    try:
        for image in images:
            result = detector.detect(vision.TensorImage.create_from_file(image))
            results.append(
                {
                    "detections": [
                        {
                            "box": [
                                d.bounding_box.origin_x,
                                d.bounding_box.origin_y,
                                d.bounding_box.width,
                                d.bounding_box.height,
                            ],
                            "categories": [
                                [c.index, c.category_name, c.display_name, float(c.score)]
                                for c in d.categories
                            ],
                        }
                        for d in result.detections
                    ]
                }
            )
    except Exception as exc:
        return {"stage": "detect", "error": f"{type(exc).__name__}: {exc}"}
    return {"images": results}


# Native code may print to stdout too; the answer is the line after this marker.
MARKER = "@@tflite-metadata-result@@"


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.loads(handle.read())
    if request.get("task", "audio") == "text":
        answer = {
            path: classify_texts(path, request["kind"], request["texts"])
            for path in request["models"]
        }
    elif request.get("task", "audio") == "image":
        answer = {path: classify_images(path, request["images"]) for path in request["models"]}
    elif request.get("task") == "detect":
        answer = {path: detect_images(path, request["images"]) for path in request["models"]}
    elif request.get("task") == "segment":
        answer = {path: segment_images(path, request["images"]) for path in request["models"]}
    else:
        samples = np.fromfile(request["audio"], dtype="<f4")
        answer = {path: classify(path, samples) for path in request["models"]}
    print(MARKER + json.dumps(answer))


if __name__ == "__main__":
    main()
