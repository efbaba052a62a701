"""The real image segmenters run what we populate exactly as what tflite-support populates.

Against the consumers themselves (each in a child process of its own environment,
see ``consumer_env``), on DeepLab v3 and ``segmentation_input_rotation0.jpg`` from
the shared test data (skipped without it, a failure under CI):

* **The migration.** The same writer code runs with ``tflite_support``'s modules and
  with ``tflite_metadata``'s. The Task Library ``ImageSegmenter`` (tflite-support
  0.4.4) and MediaPipe's ``ImageSegmenter`` must give identical category masks
  (SHA-256 of every pixel) and labels for both models, and LiteRT must compute from
  ours exactly the outputs of the original model.
* **The rules.** Variants the consumers refuse or accept, one change each: each
  consumer must load and segment the image as measured (``VARIANTS``), and
  ``check(model, task="image-segmenter")`` must name a consumer in a problem exactly
  when it refuses the model.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

import pytest

import consumer_env
from test_image_consumers import edited, image_input, set_normalization
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY, check

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "tflite-support"
DEEPLAB = TESTDATA / "image_segmenter" / "deeplabv3.tflite"
LABELMAP = TESTDATA / "image_segmenter" / "labelmap.txt"
IMAGE = TESTDATA / "images" / "segmentation_input_rotation0.jpg"
CONSUMERS = (TASK_LIBRARY, MEDIAPIPE)

pytestmark = pytest.mark.consumers


def shared_data() -> None:
    for path in (DEEPLAB, LABELMAP, IMAGE):
        consumer_env.require(path.is_file(), f"the shared test data {path.name}")


def pythons() -> tuple[str, str]:
    reference = consumer_env.reference_python()
    mediapipe = consumer_env.mediapipe_python()
    consumer_env.require(reference is not None, "the tflite-support 0.4.4 environment")
    consumer_env.require(mediapipe is not None, "the MediaPipe environment")
    assert reference is not None and mediapipe is not None
    return reference, mediapipe


def segment(models: Sequence[Path], tmp: Path) -> dict[str, dict[str, Any]]:
    """Each consumer's answer for each model: ``{consumer: {path: answer}}``."""
    reference, mediapipe = pythons()
    request = {"task": "segment", "models": [str(m) for m in models], "images": [str(IMAGE)]}
    return {
        TASK_LIBRARY: consumer_env.run_runner(reference, "task_library_runner.py", request, tmp),
        MEDIAPIPE: consumer_env.run_runner(mediapipe, "mediapipe_runner.py", request, tmp),
    }


def label_lines() -> list[str]:
    return LABELMAP.read_text().splitlines()


def ours_populated(labels: Sequence[Any], mean: Sequence[float] = (127.5,)) -> bytes:
    from tflite_metadata.metadata_writers import image_segmenter

    writer = image_segmenter.MetadataWriter.create_for_inference(
        DEEPLAB.read_bytes(), list(mean), [127.5], list(labels)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(writer.populate())


# -- the migration -------------------------------------------------------------------------------


def test_masks_are_identical_for_ours_and_tflite_supports(tmp_path: Path) -> None:
    shared_data()
    _, mediapipe = pythons()
    try:
        from tflite_support.metadata_writers import image_segmenter as ref_segmenter
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    model = DEEPLAB.read_bytes()
    theirs = ref_segmenter.MetadataWriter.create_for_inference(
        bytearray(model), [127.5], [127.5], [str(LABELMAP)]
    ).populate()
    ours = ours_populated([str(LABELMAP)])
    assert check(ours) == []
    paths = {"ours": tmp_path / "ours.tflite", "theirs": tmp_path / "theirs.tflite"}
    paths["ours"].write_bytes(ours)
    paths["theirs"].write_bytes(bytes(theirs))
    answers = segment(list(paths.values()), tmp_path)
    for consumer, answer in answers.items():
        ours_answer, theirs_answer = answer[str(paths["ours"])], answer[str(paths["theirs"])]
        assert "error" not in ours_answer, (consumer, ours_answer)
        assert ours_answer == theirs_answer, consumer
        (image,) = ours_answer["images"]
        # A real segmentation: background and more than one class.
        assert sum(1 for count in image["histogram"] if count) >= 2, consumer
    # Both consumers see the same mask and the same labels.
    task_library = answers[TASK_LIBRARY][str(paths["ours"])]
    mediapipe_answer = answers[MEDIAPIPE][str(paths["ours"])]
    assert task_library["images"][0]["mask_sha256"] == mediapipe_answer["images"][0]["mask_sha256"]
    assert [label[1] for label in task_library["images"][0]["labels"]] == label_lines()
    assert mediapipe_answer["labels"] == label_lines()
    assert mediapipe_answer["images"][0]["confidence_masks"] == 21

    # LiteRT: ours computes exactly what the original model computes.
    count = 257 * 257 * 3
    values = [((i * 37 + (i // 97) * 11) % 256 - 128) / 128 for i in range(count)]
    inputs = tmp_path / "input.f32"
    inputs.write_bytes(struct.pack(f"<{count}f", *values))
    request = {"models": [str(DEEPLAB), str(paths["ours"])], "inputs": str(inputs)}
    litert = consumer_env.run_runner(mediapipe, "litert_runner.py", request, tmp_path)
    original, populated = litert[str(DEEPLAB)], litert[str(paths["ours"])]
    assert "error" not in original and original == populated


# -- the rules -----------------------------------------------------------------------------------


def _grayscale(metadata: Any) -> None:
    image_input(metadata).content.contentProperties.colorSpace = 2  # GRAYSCALE


def _no_labels(folder: Path) -> bytes:
    return ours_populated([])


def _labels(lines: list[str], *extra: tuple[str, str, list[str]]) -> Callable[[Path], bytes]:
    def make(folder: Path) -> bytes:
        from tflite_metadata.metadata_writers.metadata_info import LabelFileMd

        files = [LabelFileMd("labelmap.txt", labels=lines)]
        files += [LabelFileMd(name, locale, labels=more) for name, locale, more in extra]
        return ours_populated(files)

    return make


def _edited(change: Callable[[Any], None]) -> Callable[[Path], bytes]:
    return lambda folder: edited(ours_populated([str(LABELMAP)]), change)


def _empty_labels(folder: Path) -> bytes:
    from tflite_metadata.metadata_writers.metadata_info import LabelFileMd

    return ours_populated([LabelFileMd("labelmap.txt", content=b"")])


#: (name, model maker, the consumers that refuse it), as measured with tflite-support
#: 0.4.4 and mediapipe 1.2.2; ``check`` must name exactly these consumers.
VARIANTS: list[tuple[str, Callable[[Path], bytes], tuple[str, ...]]] = [
    ("21 labels", lambda folder: ours_populated([str(LABELMAP)]), ()),
    ("no label file", _no_labels, ()),
    # Neither consumer counts a segmenter's labels against its classes.
    ("5 labels for 21 classes", lambda folder: _labels(label_lines()[:5])(folder), ()),
    ("30 labels for 21 classes", lambda folder: _labels(label_lines() + ["x"] * 9)(folder), ()),
    ("an empty label file", _empty_labels, CONSUMERS),
    (
        "display names (en) of another length",
        lambda folder: _labels(label_lines(), ("labels_en.txt", "en", ["a", "b"]))(folder),
        (TASK_LIBRARY,),
    ),
    (
        "display names (en) of the same length",
        lambda folder: _labels(
            label_lines(), ("labels_en.txt", "en", [x.upper() for x in label_lines()])
        )(folder),
        (),
    ),
    (
        "labels (fr) of another length",
        lambda folder: _labels(label_lines(), ("labels_fr.txt", "fr", ["a"]))(folder),
        (),
    ),
    ("no metadata (FLOAT32 input)", lambda folder: DEEPLAB.read_bytes(), CONSUMERS),
    ("GRAYSCALE input", _edited(_grayscale), CONSUMERS),
    ("std of 0", _edited(set_normalization([127.5], [0.0])), CONSUMERS),
    (
        "per-channel normalization",
        _edited(set_normalization([127.5, 127.0, 126.5], [127.5, 127.5, 127.5])),
        (MEDIAPIPE,),
    ),
]


def _refusing(answer: dict[str, Any]) -> bool:
    return "error" in answer


def test_the_consumers_refuse_exactly_what_check_reports(tmp_path: Path) -> None:
    shared_data()
    paths = []
    for index, (_, make, _) in enumerate(VARIANTS):
        folder = tmp_path / f"variant_{index}"
        folder.mkdir()
        path = folder / "model.tflite"
        path.write_bytes(make(folder))
        paths.append(path)
    answers = segment(paths, tmp_path)
    report = []
    for (name, _, expected), path in zip(VARIANTS, paths):
        refused = tuple(c for c in CONSUMERS if _refusing(answers[c][str(path)]))
        named = tuple(
            c for c in CONSUMERS if any(c in p.consumers for p in check(path, "image-segmenter"))
        )
        report.append((name, refused, named))
        errors = {c: answers[c][str(path)].get("error") for c in CONSUMERS}
        assert refused == expected, (name, errors)
        assert named == expected, (name, [str(p) for p in check(path, "image-segmenter")])
    assert len(report) == len(VARIANTS)


def test_deeplab_without_metadata() -> None:
    """DeepLab v3 itself: its FLOAT32 input needs the normalization only metadata gives."""
    shared_data()
    problems = check(DEEPLAB, task="image-segmenter")
    assert [(p.code, p.consumers) for p in problems] == [("normalization", CONSUMERS)]
    # Without a task, nothing says it is a segmenter: the common rule.
    assert [(p.code, p.consumers) for p in check(DEEPLAB)] == [("no-metadata", CONSUMERS)]
