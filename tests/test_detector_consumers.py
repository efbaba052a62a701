"""The real object detectors run what we populate exactly as what tflite-support populates.

Against the consumers themselves (each in a child process of its own environment,
see ``consumer_env``): the shared SSD MobileNet v1 (``object_detector/`` of the
shared test data), populated by the same writer code with ``tflite_support``'s
modules and with ``tflite_metadata``'s, with and without the score calibration.
The Task Library ``ObjectDetector`` (tflite-support 0.4.4) and MediaPipe's
``ObjectDetector`` must detect the same boxes, categories and scores (exactly) on
``images/cats_and_dogs.jpg`` with both models, and LiteRT must compute from ours
exactly the outputs of the original model.

And the rules: models whose metadata a consumer refuses (one change each to what
the writer writes); each consumer must refuse exactly when ``check`` names it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

import consumer_env
import shared_data
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY, check
from tflite_metadata.format import codec
from tflite_metadata.model.populate import populate_buffer

TESTDATA = shared_data.TESTDATA / "tflite-support"
SSD = TESTDATA / "object_detector" / "ssd_mobilenet_v1.tflite"
LABELS = TESTDATA / "object_detector" / "labelmap.txt"
CALIBRATION = TESTDATA / "object_detector" / "score_calibration.csv"
IMAGE = TESTDATA / "images" / "cats_and_dogs.jpg"
CONSUMERS = (TASK_LIBRARY, MEDIAPIPE)

pytestmark = pytest.mark.consumers


def _require_data() -> None:
    for path in (SSD, LABELS, CALIBRATION, IMAGE):
        if not path.is_file():
            consumer_env.require(False, f"shared test data {path}")


def _modules(which: str) -> Any:
    if which == "theirs":
        try:
            from tflite_support.metadata_writers import metadata_info, object_detector
        except ImportError:
            consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
        return metadata_info, object_detector
    from tflite_metadata.metadata_writers import metadata_info, object_detector

    return metadata_info, object_detector


def _writer(which: str, calibrated: bool) -> Any:
    info, detector = _modules(which)
    calibration = None
    if calibrated:
        calibration = info.ScoreCalibrationMd(
            fb.ScoreTransformationType.INVERSE_LOGISTIC, 0.2, str(CALIBRATION)
        )
    return detector.MetadataWriter.create_for_inference(
        SSD.read_bytes(), [127.5], [127.5], [str(LABELS)], calibration
    )


def _run(consumer: str, models: list[Path], tmp: Path) -> dict[str, Any]:
    if consumer == TASK_LIBRARY:
        python, runner = consumer_env.reference_python(), "task_library_runner.py"
    else:
        python, runner = consumer_env.mediapipe_python(), "mediapipe_runner.py"
    consumer_env.require(python is not None, consumer)
    assert python is not None
    answers: dict[str, Any] = {}
    # MediaPipe one process per model: after a failed graph, the next may never return.
    batches = [models] if consumer == TASK_LIBRARY else [[m] for m in models]
    for number, batch in enumerate(batches):
        folder = tmp / f"{consumer.replace(' ', '_')}-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        request = {"task": "detect", "models": [str(m) for m in batch], "images": [str(IMAGE)]}
        answers.update(consumer_env.run_runner(python, runner, request, folder, timeout=300))
    return answers


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    _require_data()
    folder = tmp_path_factory.mktemp("detector-consumers")
    entries: dict[str, dict[str, Path]] = {}
    for calibrated in (False, True):
        key = "calibrated" if calibrated else "plain"
        entry = {"original": SSD}
        for which in ("ours", "theirs"):
            path = folder / f"{key}-{which}.tflite"
            path.write_bytes(bytes(_writer(which, calibrated).populate()))
            entry[which] = path
        entries[key] = entry
    return entries


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumers_detect_ours_exactly_like_theirs(
    consumer: str, populated: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    models = [p for entry in populated.values() for p in (entry["ours"], entry["theirs"])]
    answers = _run(consumer, models, tmp_path)
    labels = LABELS.read_text().splitlines()
    for key, entry in populated.items():
        ours, theirs = answers[str(entry["ours"])], answers[str(entry["theirs"])]
        assert "error" not in ours, f"{key}: {consumer} refused ours: {ours}"
        assert ours == theirs, f"{key}: {consumer} detects differently with ours"
        (result,) = ours["images"]
        detections = result["detections"]
        assert detections, f"{key}: {consumer} detected nothing"
        names = {c[1] for d in detections for c in d["categories"]}
        assert {"cat", "dog"} & names, f"{key}: {consumer}: {sorted(names)}"
        # The label map was read from the packed file (MediaPipe gives no index).
        for category in (c for d in detections for c in d["categories"]):
            assert category[1] in labels
            assert category[0] is None or labels[category[0]] == category[1]
    # The calibration changes the scores (it is applied), identically for both.
    plain = answers[str(populated["plain"]["ours"])]["images"][0]["detections"]
    calibrated = answers[str(populated["calibrated"]["ours"])]["images"][0]["detections"]
    assert [c[3] for d in plain for c in d["categories"]] != [
        c[3] for d in calibrated for c in d["categories"]
    ]


def test_litert_outputs_are_the_originals(
    populated: dict[str, dict[str, Path]], tmp_path: Path
) -> None:
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "LiteRT (ai-edge-litert)")
    assert python is not None
    inputs = tmp_path / "inputs.f32"
    import array

    values = array.array("f", [((i * 37) % 256 - 128) / 128 for i in range(300 * 300 * 3)])
    inputs.write_bytes(values.tobytes())
    models = [SSD] + [entry["ours"] for entry in populated.values()]
    request = {"models": [str(m) for m in models], "inputs": str(inputs)}
    answers = consumer_env.run_runner(python, "litert_runner.py", request, tmp_path)
    original = answers[str(SSD)]
    assert "error" not in original, original
    for entry in populated.values():
        assert answers[str(entry["ours"])] == original


# -- the rules: check names exactly the consumers that refuse -------------------------------------


def _edited(
    change: Callable[[Any], None],
    calibrated: bool = False,
    files: Optional[dict[str, bytes]] = None,
) -> bytes:
    """The shared SSD with the writer's metadata after ``change``, with ``files`` packed."""
    metadata_writer = _writer("ours", calibrated)
    metadata = codec.decode(metadata_writer._metadata_buffer)
    change(metadata)
    packed = {LABELS.name: LABELS.read_bytes()}
    if calibrated:
        packed[CALIBRATION.name] = CALIBRATION.read_bytes()
    packed.update(files or {})
    return bytes(populate_buffer(SSD.read_bytes(), codec.encode(metadata), packed))


def _outputs(metadata: Any) -> Any:
    return metadata.subgraphMetadata[0].outputTensorMetadata


def _box_type(metadata: Any) -> None:
    _outputs(metadata)[0].content.contentProperties.type = fb.BoundingBoxType.CENTER


def _pixel(metadata: Any) -> None:
    _outputs(metadata)[0].content.contentProperties.coordinateType = fb.CoordinateType.PIXEL


def _three_indices(metadata: Any) -> None:
    _outputs(metadata)[0].content.contentProperties.index = [1, 0, 3]


def _feature_location(metadata: Any) -> None:
    location = _outputs(metadata)[0]
    location.content.contentPropertiesType = fb.ContentProperties.FeatureProperties
    location.content.contentProperties = fb.FeaturePropertiesT()


def _unchanged(metadata: Any) -> None:
    pass


def _no_box_index(metadata: Any) -> None:
    _outputs(metadata)[0].content.contentProperties.index = None


def _two_calibration_lines(folder: Path) -> bytes:
    return _edited(_unchanged, True, {CALIBRATION.name: b"1.0,1.0,0.0\n1.0,1.0,0.0"})


def _empty_label_map(folder: Path) -> bytes:
    return _edited(_unchanged, files={LABELS.name: b""})


#: Models built whole, for the changes that need other files.
BUILT = {
    "calibration of 2 lines for 90 labels": _two_calibration_lines,
    "empty label map": _empty_label_map,
}

VARIANTS = {
    "unchanged": _unchanged,
    "no box index": _no_box_index,
    "box type CENTER": _box_type,
    "coordinates PIXEL": _pixel,
    "three box indices": _three_indices,
    "location without BoundingBoxProperties": _feature_location,
}


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _require_data()
    folder = tmp_path_factory.mktemp("detector-variants")
    paths = {}
    for number, (name, change) in enumerate(VARIANTS.items()):
        path = folder / f"variant-{number}.tflite"
        path.write_bytes(_edited(change))
        paths[name] = path
    for number, (name, make) in enumerate(BUILT.items()):
        path = folder / f"built-{number}.tflite"
        path.write_bytes(make(folder))
        paths[name] = path
    return paths


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumers_refuse_exactly_when_check_says_so(
    consumer: str, variants: dict[str, Path], tmp_path: Path
) -> None:
    answers = _run(consumer, list(variants.values()), tmp_path)
    verdicts = {}
    for name, path in variants.items():
        answer = answers[str(path)]
        refused = "error" in answer
        named = any(consumer in p.consumers for p in check(path, task="object-detector"))
        verdicts[name] = (refused, named)
    assert all(refused == named for refused, named in verdicts.values()), verdicts
    # The rules were not vacuous: the unchanged model passes, the others are refused.
    assert verdicts["unchanged"] == (False, False)
    assert verdicts["no box index"] == (False, False)
    assert verdicts["box type CENTER"] == (True, True)


def _outputs_reordered() -> bytes:
    """The shared SSD with its score and count outputs swapped in the subgraph's output list."""
    import struct

    from tflite_metadata.model.reader import ModelView

    model = bytearray(SSD.read_bytes())
    indices = [tensor.index for tensor in ModelView(bytes(model)).outputs()]
    vector = struct.pack("<5i", 4, *indices)
    swapped = [indices[0], indices[1], indices[3], indices[2]]
    # The vector appears twice: the subgraph's outputs and the post-processing op's.
    position = -1
    while True:
        position = bytes(model).find(vector, position + 1)
        assert position >= 0, "the subgraph's output vector was not found"
        candidate = bytearray(model)
        candidate[position + 4 : position + 20] = struct.pack("<4i", *swapped)
        if [t.index for t in ModelView(bytes(candidate)).outputs()] == swapped:
            model = candidate
            break
    return bytes(model)


def test_a_calibration_off_output_2_is_ignored_by_the_task_library(tmp_path: Path) -> None:
    """The score on output 3: MediaPipe calibrates it, the Task Library does not (check says so)."""
    _require_data()
    from tflite_metadata.metadata_writers import metadata_info, object_detector

    model = _outputs_reordered()
    paths = {}
    for calibrated in (False, True):
        calibration = None
        if calibrated:
            calibration = metadata_info.ScoreCalibrationMd(
                fb.ScoreTransformationType.INVERSE_LOGISTIC, 0.2, str(CALIBRATION)
            )
        metadata_writer = object_detector.MetadataWriter.create_for_inference(
            model, [127.5], [127.5], [str(LABELS)], calibration
        )
        # Each description on its output (by tensor index: these outputs have no shapes).
        names = [
            m.name
            for m in codec.decode(metadata_writer._metadata_buffer)
            .subgraphMetadata[0]
            .outputTensorMetadata
        ]
        assert names == [b"location", b"category", b"number of detections", b"score"]
        path = tmp_path / f"reordered-{calibrated}.tflite"
        with pytest.warns() if calibrated else _no_warning():
            path.write_bytes(bytes(metadata_writer.populate()))
        paths[calibrated] = path
    [problem] = check(paths[True])
    assert (problem.code, problem.consumers) == ("calibration-ignored", (TASK_LIBRARY,))
    for consumer in CONSUMERS:
        answers = _run(consumer, [paths[False], paths[True]], tmp_path)
        plain, calibrated_answer = answers[str(paths[False])], answers[str(paths[True])]
        assert "error" not in plain and "error" not in calibrated_answer
        if consumer == TASK_LIBRARY:
            assert calibrated_answer == plain  # the calibration is not applied
        else:
            assert calibrated_answer != plain


def _no_warning() -> Any:
    import contextlib
    import warnings

    @contextlib.contextmanager
    def context() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield

    return context()


# -- the output rules on the builder's runnable detectors (no shared data needed) -----------------

#: Three boxes (ymin, xmin, ymax, xmax as ratios), their classes, scores and count.
BOXES = [0.1, 0.1, 0.5, 0.5, 0.2, 0.3, 0.9, 0.8, 0.0, 0.0, 1.0, 1.0]
DETECTOR_VALUES = {"location": BOXES, "category": [0, 1, 2], "score": [0.9, 0.75, 0.6]}


def _runnable(
    types: tuple[str, str, str, str] = ("float32",) * 4,
    shapes: tuple[tuple[int, ...], ...] = ((1, 3, 4), (1, 3), (1, 3), (1,)),
    input_type: str = "uint8",
    channels: int = 3,
    outputs: int = 4,
    described: int = 4,
    subgraphs: int = 1,
    inputs: int = 1,
) -> Callable[[Path], bytes]:
    """A builder detector whose outputs are constants (``DETECTOR_VALUES``), our metadata.

    With ``outputs`` or ``described`` below 4, the model keeps its first ``outputs``
    outputs and the metadata describes the first ``described`` (without the tensor
    group); with ``inputs`` above 1, each input is described as the image: spliced in
    as it is, as the writer and the populator refuse such models.
    """

    def build(count: int, inputs: int = 1) -> bytes:
        from tflite_metadata import _model_builder as model_builder

        names = ("location", "category", "score", "number of detections")
        values = [*DETECTOR_VALUES.values(), [3]]
        # A shape of another size repeats or cuts the values (a fifth coordinate …).
        values = [(v * 2)[: math.prod(shape)] for v, shape in zip(values, shapes)]
        return bytes(
            model_builder.build_detector_outputs(
                outputs=list(zip(names, shapes, types))[:count],
                values=values[:count],
                input_type=input_type,
                channels=channels,
                subgraphs=subgraphs,
                inputs=inputs,
            )
        )

    def make(folder: Path) -> bytes:
        import warnings

        from tflite_metadata.archive.associated_files import build_zip
        from tflite_metadata.metadata_writers import object_detector
        from tflite_metadata.model.reader import ModelView
        from tflite_metadata.model.splice import plan_splice

        labels = folder / "labels.txt"
        labels.write_text("cat\ndog\nbird\n")
        writer = object_detector.MetadataWriter.create_for_inference(
            build(4), [127.5], [127.5], [str(labels)]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            populated = bytes(writer.populate())
        if outputs == described == 4 and inputs == 1:
            return populated
        metadata = codec.decode(writer._metadata_buffer)
        subgraph = metadata.subgraphMetadata[0]
        subgraph.outputTensorMetadata = subgraph.outputTensorMetadata[:described]
        subgraph.outputTensorGroups = None
        subgraph.inputTensorMetadata = subgraph.inputTensorMetadata * inputs
        model = build(outputs, inputs)
        splice = plan_splice(ModelView(model), codec.encode(metadata), len(model))
        packed = build_zip({labels.name: labels.read_bytes()}, splice.output_size)
        return bytes(splice.to_bytes(model, packed))

    return make


F, U = "float32", "uint8"
#: (name, model maker, the consumers that refuse it), measured with tflite-support 0.4.4
#: and mediapipe 1.2.2.
RUNNABLE: list[tuple[str, Callable[[Path], bytes], tuple[str, ...]]] = [
    ("float32 outputs", _runnable(), ()),
    ("uint8 outputs", _runnable((U, U, U, U)), (TASK_LIBRARY,)),
    ("a uint8 category only", _runnable((F, U, F, F)), CONSUMERS),
    ("an int32 category", _runnable((F, "int32", F, F)), CONSUMERS),
    ("location [1, 3, 5]", _runnable(shapes=((1, 3, 5), (1, 3), (1, 3), (1,))), CONSUMERS),
    ("location [3, 4]", _runnable(shapes=((3, 4), (1, 3), (1, 3), (1,))), CONSUMERS),
    ("location [2, 3, 4]", _runnable(shapes=((2, 3, 4), (1, 3), (1, 3), (1,))), CONSUMERS),
    ("category [1, 3, 1]", _runnable(shapes=((1, 3, 4), (1, 3, 1), (1, 3), (1,))), CONSUMERS),
    ("score [3]", _runnable(shapes=((1, 3, 4), (1, 3), (3,), (1,))), CONSUMERS),
    # MediaPipe needs a class and a score per box; the Task Library one per detection
    # (here all 3 boxes): it reads the first ones of longer tensors.
    ("score [1, 4]", _runnable(shapes=((1, 3, 4), (1, 3), (1, 4), (1,))), (MEDIAPIPE,)),
    ("category [1, 2]", _runnable(shapes=((1, 3, 4), (1, 2), (1, 3), (1,))), CONSUMERS),
    ("two subgraphs", _runnable(subgraphs=2), (MEDIAPIPE,)),
    ("two image inputs", _runnable(inputs=2), CONSUMERS),
    ("a float32 input", _runnable(input_type="float32"), ()),
    ("a 4-channel input", _runnable(channels=4), CONSUMERS),
    ("3 outputs, 3 described", _runnable(outputs=3, described=3), CONSUMERS),
    ("4 outputs, 3 described", _runnable(described=3), CONSUMERS),
    ("count [1, 1]", _runnable(shapes=((1, 3, 4), (1, 3), (1, 3), (1, 1))), CONSUMERS),
]


def test_consumers_refuse_exactly_when_check_says_so_on_built_detectors(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from test_image_consumers import png_bytes

    reference, mediapipe = consumer_env.reference_python(), consumer_env.mediapipe_python()
    consumer_env.require(reference is not None, TASK_LIBRARY)
    consumer_env.require(mediapipe is not None, MEDIAPIPE)
    assert reference is not None and mediapipe is not None
    image = tmp_path / "pattern.png"
    image.write_bytes(png_bytes(48, 32))
    paths = []
    for number, (_, make, _) in enumerate(RUNNABLE):
        folder = tmp_path / f"built-{number}"
        folder.mkdir()
        paths.append(folder / "model.tflite")
        paths[-1].write_bytes(make(folder))

    def run(python: str, runner: str, models: list[Path], folder: Path) -> dict[str, Any]:
        folder.mkdir()
        request = {"task": "detect", "models": [str(m) for m in models], "images": [str(image)]}
        return consumer_env.run_runner(python, runner, request, folder, timeout=300)

    # MediaPipe one process per model: after a failed graph, the next may never return.
    with ThreadPoolExecutor(3) as pool:
        task_library = pool.submit(run, reference, "task_library_runner.py", paths, tmp_path / "tl")
        each = pool.map(
            lambda item: run(
                mediapipe, "mediapipe_runner.py", [item[1]], tmp_path / f"mp{item[0]}"
            ),
            enumerate(paths),
        )
        answers: dict[str, dict[str, Any]] = {TASK_LIBRARY: task_library.result(), MEDIAPIPE: {}}
        for answer in each:
            answers[MEDIAPIPE].update(answer)
    mismatches = {}
    for (name, _, expected), path in zip(RUNNABLE, paths):
        refused = tuple(c for c in CONSUMERS if "error" in answers[c][str(path)])
        problems = check(path, task="object-detector")
        named = tuple(c for c in CONSUMERS if any(c in p.consumers for p in problems))
        if refused != expected or named != expected:
            mismatches[name] = {
                "expected": expected,
                "refused": refused,
                "check": [str(p) for p in problems],
                "errors": {c: answers[c][str(path)].get("error", "")[-300:] for c in CONSUMERS},
            }
    assert not mismatches, "\n".join(f"{name}: {m}" for name, m in mismatches.items())
    # The accepted model really detects its three boxes, with their labels.
    for consumer in CONSUMERS:
        (result,) = answers[consumer][str(paths[0])]["images"]
        assert len(result["detections"]) == 3, (consumer, result)
        found = {c[1] for d in result["detections"] for c in d["categories"]}
        assert found == {"cat", "dog", "bird"}, (consumer, result)
