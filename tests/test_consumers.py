"""The real consumers run what we populate exactly as they run what tflite-support populates.

For each model, the same writer code runs twice: once with ``tflite_support``'s
modules, once with ``tflite_metadata``'s (the drop-in migration). The Task
Library ``AudioClassifier`` (tflite-support 0.4.4) and MediaPipe's
``AudioClassifier`` must then give identical classifications (every head,
every category, every score) for both models; LiteRT must compute outputs
identical to the original model's from ours.

Models whose weights live outside the FlatBuffer are destroyed by tflite-support;
for those, ours is compared with tflite-support's output for the same weights
stored inline (MediaPipe, LiteRT), and the destruction itself is asserted, so that
this test notices if the reference ever changes.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import pytest

import consumer_env
from shared_data import TESTDATA
from tflite_metadata import _model_builder as model_builder
from tflite_metadata.model.reader import ModelView

SAMPLE_RATE = 16000
SAMPLES = 15600

pytestmark = pytest.mark.consumers


def reference_modules() -> Any:
    try:
        from tflite_support import metadata_schema_py_generated as fb
        from tflite_support.metadata_writers import audio_classifier, metadata_info, writer_utils
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    return audio_classifier, metadata_info, writer_utils, fb


def our_modules() -> Any:
    from tflite_metadata import metadata_schema_py_generated as fb
    from tflite_metadata.metadata_writers import audio_classifier, metadata_info, writer_utils

    return audio_classifier, metadata_info, writer_utils, fb


def populate_with(modules: Any, model: bytes, folder: Path, calibrate: bool) -> bytes:
    """The user's migration example: the same code, given one or the other package."""
    audio_classifier, metadata_info, _, fb = modules
    outputs = ModelView(model).outputs()
    heads = []
    for index, tensor in enumerate(outputs):
        classes = tensor.shape[-1]
        labels = folder / f"labels_{index}.txt"
        labels.write_text("".join(f"class {index}.{c}\n" for c in range(classes)))
        calibration = None
        if calibrate:
            path = folder / f"calibration_{index}.txt"
            lines = [f"{1.0 + c / 10},{0.5 + c / 100},{c / 1000}" for c in range(classes)]
            # A blank line leaves a class uncalibrated (it gets the default score).
            lines[1] = ""
            path.write_text("\n".join(lines))
            calibration = metadata_info.ScoreCalibrationMd(
                fb.ScoreTransformationType.LOG, 0.25, str(path)
            )
        heads.append((str(labels), calibration))
    if len(heads) == 1:
        writer = audio_classifier.MetadataWriter.create_for_inference(
            model, SAMPLE_RATE, 1, [heads[0][0]], heads[0][1]
        )
    else:
        output_md = [
            metadata_info.ClassificationTensorMd(
                label_files=[metadata_info.LabelFileMd(labels)], score_calibration_md=calibration
            )
            for labels, calibration in heads
        ]
        writer = audio_classifier.MetadataWriter.create_from_metadata_info_for_multihead(
            model,
            input_md=metadata_info.InputAudioTensorMd(sample_rate=SAMPLE_RATE, channels=1),
            output_md_list=output_md,
        )
    return bytes(writer.populate())


def audio_file(folder: Path) -> Path:
    """A deterministic 16 kHz clip: a chord with a sweep, exactly one input window long."""
    samples = [
        0.3 * math.sin(2 * math.pi * 440 * t / SAMPLE_RATE)
        + 0.2 * math.sin(2 * math.pi * (200 + t / 20) * t / SAMPLE_RATE)
        for t in range(SAMPLES)
    ]
    path = folder / "clip.f32"
    path.write_bytes(struct.pack(f"<{SAMPLES}f", *samples))
    return path


def speech_file(folder: Path) -> Path | None:
    """speech.wav from the shared test data, as raw float32 (its first window), if present."""
    wav = TESTDATA / "tflite-support" / "speech.wav"
    if not wav.is_file():
        return None
    import wave

    with wave.open(str(wav)) as handle:
        assert handle.getsampwidth() == 2 and handle.getnchannels() == 1
        frames = handle.readframes(SAMPLES)
    values = struct.unpack(f"<{len(frames) // 2}h", frames)
    path = folder / "speech.f32"
    path.write_bytes(struct.pack(f"<{len(values)}f", *(v / 32768 for v in values)))
    return path


BUILT = {
    "float32": {"heads": [7], "seed": 1},
    "two-heads": {"heads": [5, 10], "seed": 2},
    "uint8": {"heads": [6], "output_type": "uint8", "seed": 3},
}
SHARED = ["generated/small_audio.tflite", "generated/two_heads_small.tflite"]


def candidate_models() -> dict[str, bytes]:
    models = {name: bytes(model_builder.build_audio_classifier(**kw)) for name, kw in BUILT.items()}
    for name in SHARED:
        path = TESTDATA / name
        if path.is_file():
            models[name] = path.read_bytes()
    return models


def classify(consumer: str, paths: list[Path], audio: Path, tmp_path: Path) -> dict[str, Any]:
    if consumer == "task_library":
        python, runner = consumer_env.reference_python(), "task_library_runner.py"
    else:
        python, runner = consumer_env.mediapipe_python(), "mediapipe_runner.py"
    consumer_env.require(python is not None, consumer)
    assert python is not None
    answers: dict[str, Any] = {}
    # MediaPipe: one process per model (a failed graph can hang the next one).
    batches = [paths] if consumer == "task_library" else [[p] for p in paths]
    for batch in batches:
        request = {
            "models": [str(p) for p in batch],
            "audio": str(audio),
            "sample_rate": SAMPLE_RATE,
        }
        answers.update(consumer_env.run_runner(python, runner, request, tmp_path))
    return answers


def litert(paths: list[Path], audio: Path, tmp_path: Path) -> dict[str, Any]:
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "LiteRT (ai-edge-litert)")
    assert python is not None
    request = {"models": [str(p) for p in paths], "inputs": str(audio)}
    return consumer_env.run_runner(python, "litert_runner.py", request, tmp_path)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """name -> {"original", "ours", "theirs"} model paths (calibrated and not)."""
    reference = reference_modules()
    ours = our_modules()
    folder = tmp_path_factory.mktemp("consumers")
    paths: dict[str, dict[str, Path]] = {}
    for name, model in candidate_models().items():
        for calibrate in (False, True):
            key = f"{name}{'+calibration' if calibrate else ''}".replace("/", "_")
            work = folder / key
            work.mkdir()
            entry = {"original": work / "original.tflite"}
            entry["original"].write_bytes(model)
            for label, modules in (("ours", ours), ("theirs", reference)):
                entry[label] = work / f"{label}.tflite"
                entry[label].write_bytes(populate_with(modules, model, work, calibrate))
            paths[key] = entry
    return paths


@pytest.mark.parametrize("consumer", ["task_library", "mediapipe"])
def test_consumers_classify_ours_exactly_like_theirs(
    consumer: str, populated: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    clips = [audio_file(tmp_path)]
    speech = speech_file(tmp_path)
    if speech is not None:
        clips.append(speech)
    models = [p for entry in populated.values() for p in (entry["ours"], entry["theirs"])]
    checked = 0
    for clip in clips:
        answers = classify(consumer, models, clip, tmp_path)
        for name, entry in populated.items():
            ours, theirs = answers[str(entry["ours"])], answers[str(entry["theirs"])]
            assert "error" not in ours, f"{name}: {consumer} refused ours: {ours['error']}"
            assert ours == theirs, f"{name}: {consumer} classifies ours differently"
            checked += 1
    assert checked == len(clips) * len(populated)


def test_litert_outputs_are_the_originals(
    populated: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    clip = audio_file(tmp_path)
    models = [p for entry in populated.values() for p in (entry["original"], entry["ours"])]
    answers = litert(models, clip, tmp_path)
    for name, entry in populated.items():
        original, ours = answers[str(entry["original"])], answers[str(entry["ours"])]
        assert "error" not in original, f"{name}: {original}"
        assert ours == original, f"{name}: LiteRT computes other outputs after populate"


def external_models() -> dict[str, tuple[bytes, bytes]]:
    """name -> (external-buffer model, the same weights stored inline)."""
    models = {
        "built": (
            bytes(model_builder.build_audio_classifier(heads=[7], seed=5, external_buffers=True)),
            bytes(model_builder.build_audio_classifier(heads=[7], seed=5)),
        )
    }
    offset, inline = (
        TESTDATA / "generated" / "small_audio_offset.tflite",
        TESTDATA / "generated" / "small_audio.tflite",
    )
    if offset.is_file() and inline.is_file():
        models["small_audio_offset"] = (offset.read_bytes(), inline.read_bytes())
    return models


def test_external_buffer_models_survive(tmp_path: Path) -> None:
    reference = reference_modules()
    ours = our_modules()
    clip = audio_file(tmp_path)
    for name, (external, inline) in external_models().items():
        work = tmp_path / name
        work.mkdir()
        paths = {
            "original": work / "original.tflite",
            "ours": work / "ours.tflite",
            "theirs_inline": work / "theirs_inline.tflite",
        }
        paths["original"].write_bytes(external)
        paths["ours"].write_bytes(populate_with(ours, external, work, calibrate=True))
        paths["theirs_inline"].write_bytes(populate_with(reference, inline, work, calibrate=True))
        # tflite-support drops the external weights (the reason this package exists).
        destroyed = populate_with(reference, external, work, calibrate=True)
        assert len(destroyed) < len(external) // 2, f"{name}: tflite-support kept the weights"

        run = litert([paths["original"], paths["ours"]], clip, tmp_path)
        assert "error" not in run[str(paths["original"])], run
        assert run[str(paths["ours"])] == run[str(paths["original"])], name
        answers = classify("mediapipe", [paths["ours"], paths["theirs_inline"]], clip, tmp_path)
        ours_answer = answers[str(paths["ours"])]
        assert "error" not in ours_answer, f"{name}: MediaPipe: {ours_answer}"
        assert ours_answer == answers[str(paths["theirs_inline"])], f"{name}: MediaPipe"
        # The Task Library's runtime (tflite-support 0.4.4, 2023) predates weights stored
        # outside the FlatBuffer: it cannot build any such model, with or without
        # metadata, and says so. Asserted so that this test notices if that changes.
        answers = classify("task_library", [paths["ours"]], clip, tmp_path)
        assert "is not produced" in answers[str(paths["ours"])].get("error", ""), answers
