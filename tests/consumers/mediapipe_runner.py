"""Classify audio with MediaPipe's ``AudioClassifier``.

Run with the MediaPipe environment's Python:

    python mediapipe_runner.py REQUEST.json

The request names ``models``, a raw little-endian float32 ``audio`` file and its
``sample_rate``; the answer is one JSON line on stdout, after a marker: for each model either the
classification results (every head, every category) or the error it raised.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from mediapipe.tasks import python as mp_tasks
from mediapipe.tasks.python import audio as mp_audio
from mediapipe.tasks.python.components.containers import audio_data as mp_audio_data


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
    out = []
    for result in results:
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
        out.append({"timestamp_ms": result.timestamp_ms, "heads": heads})
    return {"results": out}


# Native code may print to stdout too; the answer is the line after this marker.
MARKER = "@@tflite-metadata-result@@"


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.loads(handle.read())
    samples = np.fromfile(request["audio"], dtype="<f4")
    rate = int(request["sample_rate"])
    print(MARKER + json.dumps({path: classify(path, samples, rate) for path in request["models"]}))


if __name__ == "__main__":
    main()
