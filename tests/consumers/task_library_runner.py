"""Classify audio with tflite-support's Task Library ``AudioClassifier``.

Run with the reference environment's Python (it has tflite-support 0.4.4):

    python task_library_runner.py REQUEST.json

The request names ``models`` and a raw little-endian float32 ``audio`` file;
the answer is one JSON line on stdout, after a marker: for each model either its
classifications (every
head, every category, in the library's order) or the error it raised. Running in
a child process keeps a crash of the native library from taking pytest down.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from tflite_support.task import audio, core, processor


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
    heads = []
    for head in result.classifications:
        heads.append(
            {
                "index": head.head_index,
                "name": head.head_name,
                "categories": [
                    [c.index, c.category_name, c.display_name, float(c.score)]
                    for c in head.categories
                ],
            }
        )
    return {
        "sample_rate": fmt.sample_rate,
        "channels": fmt.channels,
        "buffer_size": size,
        "heads": heads,
    }


# Native code may print to stdout too; the answer is the line after this marker.
MARKER = "@@tflite-metadata-result@@"


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.loads(handle.read())
    samples = np.fromfile(request["audio"], dtype="<f4")
    print(MARKER + json.dumps({path: classify(path, samples) for path in request["models"]}))


if __name__ == "__main__":
    main()
