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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

import consumer_env
import shared_data
from test_image_consumers import edited, image_input, set_normalization
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY, check

TESTDATA = shared_data.TESTDATA / "tflite-support"
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


# -- the rules on the builder's segmenters (no shared data needed) -------------------------------


def _built(labels: int = 4, **options: Any) -> Callable[[Path], bytes]:
    """A builder segmenter with our metadata (mean and std 127.5) and ``labels`` labels."""

    def make(folder: Path) -> bytes:
        from tflite_metadata import _model_builder as model_builder
        from tflite_metadata.metadata_writers import image_segmenter
        from tflite_metadata.metadata_writers.metadata_info import LabelFileMd

        model = bytes(model_builder.build_image_segmenter(**options))
        files = [LabelFileMd("labels.txt", labels=[f"class {i}" for i in range(labels)])]
        writer = image_segmenter.MetadataWriter.create_for_inference(
            model, [127.5], [127.5], files if labels else []
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bytes(writer.populate())

    return make


def _spliced(
    make: Callable[[Path], bytes], change: Callable[[Any], None]
) -> Callable[[Path], bytes]:
    """``make``'s model (without packed files) with its metadata changed, spliced in as it is.

    Not through a populator, which refuses metadata that does not describe every
    output: the consumers' reading of such metadata is what is measured.
    """

    def splice(folder: Path) -> bytes:
        import flatbuffers

        from tflite_metadata import metadata_schema_py_generated as fb
        from tflite_metadata.metadata import get_metadata_buffer
        from tflite_metadata.model.reader import ModelView
        from tflite_metadata.model.splice import plan_splice

        model = make(folder)
        buffer = get_metadata_buffer(model)
        assert buffer is not None
        metadata = fb.ModelMetadataT.InitFromObj(fb.ModelMetadata.GetRootAsModelMetadata(buffer, 0))
        change(metadata)
        builder = flatbuffers.Builder(0)
        builder.Finish(metadata.Pack(builder), b"M001")
        return plan_splice(ModelView(model), bytes(builder.Output()), len(model)).to_bytes(model)

    return splice


def _two_output_descriptions(metadata: Any) -> None:
    outputs = metadata.subgraphMetadata[0].outputTensorMetadata
    outputs.insert(0, outputs[0])


def _two_inputs(folder: Path) -> bytes:
    """Two image inputs, each described as the image: the writer describes one."""
    from tflite_metadata import _model_builder as model_builder
    from tflite_metadata.format import codec
    from tflite_metadata.metadata import get_metadata_buffer
    from tflite_metadata.model.reader import ModelView
    from tflite_metadata.model.splice import plan_splice

    buffer = get_metadata_buffer(_built(labels=0)(folder))
    assert buffer is not None
    metadata = codec.decode(buffer)
    subgraph = metadata.subgraphMetadata[0]
    subgraph.inputTensorMetadata = subgraph.inputTensorMetadata * 2
    model = bytes(model_builder.build_image_segmenter(inputs=2))
    return plan_splice(ModelView(model), codec.encode(metadata), len(model)).to_bytes(model)


def _three_outputs(folder: Path) -> bytes:
    """Two quality outputs, then the masks, each described: the writer takes two outputs only."""
    import copy

    from tflite_metadata import _model_builder as model_builder
    from tflite_metadata.format import codec
    from tflite_metadata.metadata import get_metadata_buffer
    from tflite_metadata.model.reader import ModelView
    from tflite_metadata.model.splice import plan_splice

    described = _built(labels=0, quality_scores=["float32"])(folder)
    buffer = get_metadata_buffer(described)
    assert buffer is not None
    metadata = codec.decode(buffer)
    outputs = metadata.subgraphMetadata[0].outputTensorMetadata
    outputs.insert(0, copy.deepcopy(outputs[0]))
    model = bytes(model_builder.build_image_segmenter(quality_scores=["float32"] * 2))
    return plan_splice(ModelView(model), codec.encode(metadata), len(model)).to_bytes(model)


#: (name, model maker, the consumers that refuse it): measured with tflite-support 0.4.4
#: and mediapipe 1.2.2 on the builder's segmenters (16x16 pixels, 4 classes).
BUILT_VARIANTS: list[tuple[str, Callable[[Path], bytes], tuple[str, ...]]] = [
    ("float32 masks", _built(), ()),
    ("uint8 input", _built(input_type="uint8"), ()),
    ("uint8 masks", _built(output_type="uint8"), ()),
    ("int8 masks", _built(output_type="int8"), (TASK_LIBRARY,)),
    ("int16 masks", _built(output_type="int16"), CONSUMERS),
    ("no labels", _built(labels=0), ()),
    ("a quality score, then the masks", _built(quality_scores=["float32"]), (TASK_LIBRARY,)),
    (
        "a quality score, then uint8 masks",
        _built(quality_scores=["float32"], output_type="uint8"),
        CONSUMERS,
    ),
    (
        "a uint8 quality score, then uint8 masks",
        _built(quality_scores=["uint8"], output_type="uint8"),
        (TASK_LIBRARY,),
    ),
    ("two quality scores, then the masks", _three_outputs, CONSUMERS),
    ("a uint8 quality score", _built(quality_scores=["uint8"]), (TASK_LIBRARY,)),
    ("3-D masks [16, 16, 4]", _built(masks_shape=[16, 16, 4]), (TASK_LIBRARY,)),
    # MediaPipe makes a confidence mask per value of the last dimension: 64 here.
    ("2-D masks [16, 64]", _built(masks_shape=[16, 64]), CONSUMERS),
    ("2-D masks [256, 1] (one class)", _built(classes=1, masks_shape=[256, 1]), (TASK_LIBRARY,)),
    ("5-D masks [1, 1, 16, 16, 4]", _built(masks_shape=[1, 1, 16, 16, 4]), CONSUMERS),
    ("a batch of 2 [2, 8, 16, 4]", _built(masks_shape=[2, 8, 16, 4]), (TASK_LIBRARY,)),
    ("256 classes", _built(labels=256, classes=256, height=4, width=4), ()),
    ("257 classes", _built(labels=257, classes=257, height=4, width=4), (TASK_LIBRARY,)),
    ("a 4-channel input", _built(channels=4), (TASK_LIBRARY,)),
    # MediaPipe's 4-channel preprocessing makes FLOAT32 tensors only.
    ("a 4-channel uint8 input", _built(channels=4, input_type="uint8"), CONSUMERS),
    ("two subgraphs", _built(subgraphs=2), (MEDIAPIPE,)),
    ("two image inputs", _two_inputs, CONSUMERS),
    ("a 1-channel input", _built(channels=1), CONSUMERS),
    (
        "two output descriptions for one output",
        _spliced(_built(labels=0), _two_output_descriptions),
        (TASK_LIBRARY,),
    ),
]


def test_the_consumers_refuse_exactly_what_check_reports_on_built_models(tmp_path: Path) -> None:
    from test_image_consumers import png_bytes

    reference, mediapipe = pythons()
    # RGBA: MediaPipe feeds a 4-channel model from RGBA images only (RGB ones fail).
    image = tmp_path / "pattern.png"
    image.write_bytes(png_bytes(40, 24, alpha=True))
    paths = []
    for index, (_, make, _) in enumerate(BUILT_VARIANTS):
        folder = tmp_path / f"built_{index}"
        folder.mkdir()
        path = folder / "model.tflite"
        path.write_bytes(make(folder))
        paths.append(path)

    def run(python: str, runner: str, models: list[Path], folder: Path) -> dict[str, Any]:
        folder.mkdir()
        request = {"task": "segment", "models": [str(p) for p in models], "images": [str(image)]}
        return consumer_env.run_runner(python, runner, request, folder, timeout=300)

    # MediaPipe one model a process: in one process, a graph that failed may hang the next.
    with ThreadPoolExecutor(3) as pool:
        task_library = pool.submit(
            run, reference, "task_library_runner.py", paths, tmp_path / "task_library"
        )
        each = pool.map(
            lambda item: run(
                mediapipe, "mediapipe_runner.py", [item[1]], tmp_path / f"mp{item[0]}"
            ),
            enumerate(paths),
        )
        answers = {TASK_LIBRARY: task_library.result(), MEDIAPIPE: {}}
        for answer in each:
            answers[MEDIAPIPE].update(answer)
    mismatches = {}
    for (name, _, expected), path in zip(BUILT_VARIANTS, paths):
        refused = tuple(c for c in CONSUMERS if _refusing(answers[c][str(path)]))
        problems = check(path, "image-segmenter")
        named = tuple(c for c in CONSUMERS if any(c in p.consumers for p in problems))
        if refused != expected or named != expected:
            mismatches[name] = {
                "expected": expected,
                "refused": refused,
                "check": [str(p) for p in problems],
                "errors": {c: answers[c][str(path)].get("error") for c in CONSUMERS},
            }
    assert mismatches == {}
    # The accepted models really segment: a mask of the image's size, more than one class.
    accepted = answers[MEDIAPIPE][str(paths[0])]["images"][0]
    assert accepted["shape"] == [24, 40, 1]
    assert sum(1 for count in accepted["histogram"] if count) >= 2
    task_library = answers[TASK_LIBRARY][str(paths[0])]["images"][0]
    assert (task_library["width"], task_library["height"]) == (16, 16)
    assert sum(1 for count in task_library["histogram"] if count) >= 2
