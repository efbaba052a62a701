"""Tests of the object detector task (tflite_metadata.tasks.object_detector).

* the writer: defaults, each description on the output it describes (the
  caller's tensor names, then the shapes, then tflite-support's order), a clear
  error for a model that is not a four-output detector, no dangling group or
  unrecorded file, the caller's objects unchanged;
* golden: tflite-support's expected JSON for SSD MobileNet v1, with and without
  score calibration (/work/shared/testdata, read in place; skipped when absent);
* differential: for a few hundred random detectors whose outputs follow SSD's
  tensor order (where tflite-support is right), tflite-support 0.4.4 and ours
  give identical metadata buffers and ``get_metadata_json()``;
* the consumer rules of ``check``, on crafted tensors and metadata;
* the command line: ``write object-detector``, ``show``, ``check``.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import consumer_env
from differential import writer_outcome
from shared_data import read_testdata, shared_path
from tflite_metadata import check as check_module
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY, Problem, check
from tflite_metadata.cli import main
from tflite_metadata.errors import ConsumerCompatibilityWarning, MetadataValidationError
from tflite_metadata.format import codec
from tflite_metadata.metadata_writers import metadata_info as info
from tflite_metadata.metadata_writers import object_detector as compat_detector
from tflite_metadata.metadata_writers import writer_utils as compat_utils
from tflite_metadata.tasks import load_task, object_detector
from tflite_metadata.tasks.rules import Checker, ModelFacts, Tensor

DATA = "tflite-support/object_detector"
BOTH = (TASK_LIBRARY, MEDIAPIPE)
UINT8, FLOAT32, INT8, INT32 = 3, 0, 9, 2
INVERSE_LOGISTIC = fb.ScoreTransformationType.INVERSE_LOGISTIC
ROLES = ("location", "category", "score", "number of detections")
#: SSD's outputs, N = 10, in the post-processing op's order.
SSD_SHAPES = ((1, 10, 4), (1, 10), (1, 10), (1,))


# -- helpers ----------------------------------------------------------------------------------


def reference() -> Any:
    """tflite-support 0.4.4's writer modules; skip without them, fail under CI."""
    try:
        from tflite_support import metadata_schema_py_generated as ref_fb
        from tflite_support.metadata_writers import metadata_info, writer_utils
        from tflite_support.metadata_writers import object_detector as ref_detector
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")

    class Reference:
        fb = ref_fb
        info = metadata_info
        detector = ref_detector
        utils = writer_utils

    return Reference


class Ours:
    """Our modules under tflite-support's names, for code written once for both."""

    fb = fb
    info = info
    detector = compat_detector
    utils = compat_utils


@functools.cache
def build(
    shapes: tuple[tuple[int, ...], ...] = SSD_SHAPES,
    order: tuple[int, ...] = (0, 1, 2, 3),
    names: tuple[str, ...] = ("boxes", "classes", "scores", "count"),
    output_type: str = "float32",
    input_type: str = "uint8",
) -> bytes:
    """A detector-shaped model: outputs created in ``names`` order, listed in ``order``."""
    from tflite_metadata import _model_builder as builder

    return bytes(
        builder.build_detector_outputs(
            outputs=[(n, s, output_type) for n, s in zip(names, shapes)],
            order=order,
            input_type=input_type,
        )
    )


def decoded(metadata_writer: Any) -> Any:
    return codec.decode(metadata_writer._metadata_buffer)


def text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def output_names(metadata_writer: Any) -> list[str]:
    outputs = decoded(metadata_writer).subgraphMetadata[0].outputTensorMetadata
    return [text(m.name) for m in outputs]


def group_names(metadata_writer: Any) -> list[str]:
    groups = decoded(metadata_writer).subgraphMetadata[0].outputTensorGroups
    assert len(groups) == 1 and text(groups[0].name) == "detection_result"
    return [text(name) for name in groups[0].tensorNames]


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def populate_quietly(metadata_writer: Any) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        return bytes(metadata_writer.populate())


# -- the drop-in modules ------------------------------------------------------------------------


def test_compat_module_reexports_the_writer() -> None:
    assert compat_detector.MetadataWriter is object_detector.ObjectDetectorWriter
    import tflite_metadata.metadata_writers as package

    assert package.object_detector is compat_detector
    assert "object_detector" in package.__all__
    assert "CategoryTensorMd" in info.__all__


def test_the_task_is_registered_before_the_image_classifier() -> None:
    from tflite_metadata.tasks import TASKS

    names = list(TASKS)
    assert names.index("object-detector") < names.index("image-classifier")
    task = load_task("object-detector")
    assert task.writer is object_detector.ObjectDetectorWriter
    assert task.checks_output_files and task.requires_metadata


# -- the writer ---------------------------------------------------------------------------------


def test_defaults() -> None:
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(build())
    metadata = decoded(metadata_writer)
    assert text(metadata.name) == "ObjectDetector"
    subgraph = metadata.subgraphMetadata[0]
    image = subgraph.inputTensorMetadata[0]
    assert text(image.name) == "image"
    assert image.content.contentProperties.colorSpace == fb.ColorSpaceType.RGB
    assert output_names(metadata_writer) == list(ROLES)
    assert group_names(metadata_writer) == ["location", "category", "score"]
    location, category, score, number = subgraph.outputTensorMetadata
    box = location.content.contentProperties
    assert location.content.contentPropertiesType == fb.ContentProperties.BoundingBoxProperties
    assert list(box.index) == [1, 0, 3, 2]
    assert box.type == fb.BoundingBoxType.BOUNDARIES
    assert box.coordinateType == fb.CoordinateType.RATIO
    for metadata_item in (location, category, score):
        assert (metadata_item.content.range.min, metadata_item.content.range.max) == (2, 2)
    assert number.content.range is None
    assert metadata_writer._associated_files == []


def test_create_for_inference_with_labels_and_calibration(tmp_path: Path) -> None:
    labels = tmp_path / "labelmap.txt"
    labels.write_text("person\nbicycle\n")
    calibration_path = tmp_path / "calibration.csv"
    calibration_path.write_text("1.0,2.0,0.5\n1.0,2.0,0.5")
    calibration = info.ScoreCalibrationMd(INVERSE_LOGISTIC, 0.2, str(calibration_path))
    metadata_writer = compat_detector.MetadataWriter.create_for_inference(
        build(), [127.5], [127.5], [str(labels)], calibration
    )
    subgraph = decoded(metadata_writer).subgraphMetadata[0]
    category, score = subgraph.outputTensorMetadata[1:3]
    assert [(text(f.name), f.type) for f in category.associatedFiles] == [
        ("labelmap.txt", fb.AssociatedFileType.TENSOR_VALUE_LABELS)
    ]
    assert [(text(f.name), f.type) for f in score.associatedFiles] == [
        ("calibration.csv", fb.AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION)
    ]
    assert score.processUnits[0].options.scoreTransformation == INVERSE_LOGISTIC
    populated = populate_quietly(metadata_writer)
    assert check(populated) == []
    assert '"min_parser_version": "1.2.0"' in metadata_writer.get_populated_metadata_json()


def test_create_for_inference_errors() -> None:
    with pytest.raises(MetadataValidationError, match="single path"):
        compat_detector.MetadataWriter.create_for_inference(build(), [127.5], [127.5], "x.txt")
    with pytest.raises(MetadataValidationError, match="expected to be the same dim"):
        compat_detector.MetadataWriter.create_for_inference(build(), [1, 2], [1], [])
    with pytest.raises(MetadataValidationError, match="norm_std\\[0\\] is 0"):
        compat_detector.MetadataWriter.create_for_inference(build(), [1], [0], [])


# Each description on the output it describes.

TF2_ORDER = (2, 0, 3, 1)  # tensor indices: score, location, count, category


def _tf2_model(shapes: bool = True) -> bytes:
    """Outputs created score, location, count, category (a TF2 export's tensor order)."""
    ssd = dict(zip(ROLES, SSD_SHAPES))
    roles = ("score", "location", "number of detections", "category")
    return build(
        shapes=tuple(ssd[r] if shapes else () for r in roles),
        names=("Identity", "Identity_1", "Identity_2", "Identity_3"),
    )


def test_shapes_decide_where_tflite_support_goes_by_tensor_index() -> None:
    """[1, N, 4] is the location, [1] the count; the two [1, N] keep the index order."""
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(_tf2_model())
    # Outputs: score (index 1), location (2), count (3), category (4): the shapes place the
    # location and the count; score and category are [1, N], left in tensor index order.
    assert output_names(metadata_writer) == ["category", "location", "number of detections",
                                             "score"]  # fmt: skip


def test_tensor_names_decide_first() -> None:
    model = _tf2_model()
    outputs = [
        info.TensorMd("location", "l", tensor_name="Identity_1"),
        info.CategoryTensorMd("category", "c"),
        info.ClassificationTensorMd("score", "s", tensor_name="Identity"),
        info.TensorMd("number of detections", "n"),
    ]
    outputs[1].tensor_name = "Identity_3"
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(
        model, None, None, *outputs
    )
    assert output_names(metadata_writer) == ["score", "location", "number of detections",
                                             "category"]  # fmt: skip


def test_without_shapes_tflite_supports_order() -> None:
    """The shared SSD's outputs have no static shape: the tensor index order decides."""
    model = build(shapes=((), (), (), ()), order=(3, 1, 0, 2))
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(model)
    assert output_names(metadata_writer) == ["number of detections", "category", "location",
                                             "score"]  # fmt: skip


def test_ambiguous_shapes_are_not_used() -> None:
    """Two [1] outputs: neither is taken for the count by its shape.

    The roles left go in tensor order, each to the first output that may be it:
    the [1, 10] output to the categories, the other [1] to the scores.
    """
    model = build(shapes=((1, 10, 4), (1,), (1, 10), (1,)), order=(3, 2, 1, 0))
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(model)
    assert output_names(metadata_writer) == ["number of detections", "category", "score",
                                             "location"]  # fmt: skip


def test_the_order_skips_outputs_whose_shape_cannot_be_the_role() -> None:
    """No [1, N, 4] output: the locations go to the output without a shape, not to a [1, N]."""
    model = build(shapes=((1, 5), (), (1, 5), (1,)))
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(model)
    assert output_names(metadata_writer) == ["category", "location", "score",
                                             "number of detections"]  # fmt: skip


@pytest.mark.parametrize(
    ("tensor_name", "fragment"),
    [("missing", "is not an output of the model"), ("boxes", "is given to two descriptions")],
)
def test_tensor_name_errors(tensor_name: str, fragment: str) -> None:
    location = info.TensorMd("location", tensor_name="boxes")
    number = info.TensorMd("number of detections", tensor_name=tensor_name)
    with pytest.raises(MetadataValidationError, match=fragment):
        compat_detector.MetadataWriter.create_from_metadata_info(
            build(), output_location_md=location, output_number_md=number
        )


@pytest.mark.parametrize("count", [1, 2, 6])
def test_a_model_that_is_not_a_four_output_detector(count: int) -> None:
    shapes = ((1, 10, 4), (1, 10), (1, 10), (1,), (1, 5), (1, 6))[:count]
    model = build(
        shapes=shapes, order=tuple(range(count)), names=tuple(f"t{i}" for i in range(6))[:count]
    )
    with pytest.raises(MetadataValidationError) as error:
        compat_detector.MetadataWriter.create_for_inference(model, [127.5], [127.5], [])
    message = str(error.value)
    assert "has 4 outputs" in message and f"but the model has {count}: 't0' [1, 10, 4]" in message


@pytest.mark.reference
@pytest.mark.parametrize("count", [1, 6])
def test_reference_is_wrong_for_other_output_counts(count: int, tmp_path: Path) -> None:
    """tflite-support writes a dangling group for one output and raises KeyError for six."""
    ref = reference()
    labels = tmp_path / "labels.txt"
    labels.write_text("a\n")
    shapes = ((1, 10, 4), (1, 10), (1, 10), (1,), (1, 5), (1, 6))[:count]
    model = build(
        shapes=shapes, order=tuple(range(count)), names=tuple(f"t{i}" for i in range(6))[:count]
    )
    if count == 6:
        with pytest.raises(KeyError):
            ref.detector.MetadataWriter.create_for_inference(model, [127.5], [127.5], [str(labels)])
        return
    theirs = ref.detector.MetadataWriter.create_for_inference(
        model, [127.5], [127.5], [str(labels)]
    )
    metadata = json.loads(theirs.get_metadata_json())["subgraph_metadata"][0]
    assert [m["name"] for m in metadata["output_tensor_metadata"]] == ["location"]
    assert metadata["output_tensor_groups"][0]["tensor_names"] == ["location", "category", "score"]
    assert "labels.txt" not in theirs.get_metadata_json()  # packed, but not recorded


@pytest.mark.reference
def test_reference_puts_descriptions_on_the_wrong_outputs() -> None:
    ref = reference()
    model = _tf2_model()
    theirs = ref.detector.MetadataWriter.create_from_metadata_info(model)
    ours = compat_detector.MetadataWriter.create_from_metadata_info(model)
    names = [m["name"] for m in json.loads(theirs.get_metadata_json())["subgraph_metadata"][0][
        "output_tensor_metadata"]]  # fmt: skip
    # Output 1 is [1, 10, 4] (tensor 'Identity_1'), but tflite-support calls it 'category'.
    assert names == ["location", "category", "score", "number of detections"]
    assert output_names(ours) == ["category", "location", "number of detections", "score"]


def test_unnamed_descriptions_take_their_tensors_names() -> None:
    """A description without a name takes its tensor's name, in the group too: never dangling."""
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(
        build(), output_location_md=info.TensorMd(), output_score_md=info.TensorMd(None, "s")
    )
    assert output_names(metadata_writer) == ["boxes", "category", "scores",
                                             "number of detections"]  # fmt: skip
    assert group_names(metadata_writer) == ["boxes", "category", "scores"]


@pytest.mark.reference
def test_reference_cannot_write_an_unnamed_description() -> None:
    ref = reference()
    with pytest.raises(TypeError, match="non-string passed to CreateString"):
        ref.detector.MetadataWriter.create_from_metadata_info(
            build(), output_location_md=ref.info.TensorMd()
        )


def test_the_callers_objects_are_not_modified(tmp_path: Path) -> None:
    labels_path = tmp_path / "labels.txt"
    labels_path.write_text("a\nb\n")
    label_files = [info.LabelFileMd(str(labels_path))]
    category = info.CategoryTensorMd("category", "c", label_files)
    assert label_files[0].file_type == fb.AssociatedFileType.TENSOR_AXIS_LABELS
    calibration_path = tmp_path / "calibration.txt"
    calibration_path.write_text("1,1,0\n1,1,0")
    score_labels: list[Any] = []
    score = info.ClassificationTensorMd(
        "score", "s", score_labels, score_calibration_md=info.ScoreCalibrationMd(
            0, 0.0, str(calibration_path))
    )  # fmt: skip
    assert score_labels == []
    location = info.TensorMd()
    before = [dict(vars(md)) for md in (location, category)]
    category_files = list(category.associated_files or [])
    metadata_writer = compat_detector.MetadataWriter.create_from_metadata_info(
        build(), output_location_md=location, output_category_md=category, output_score_md=score
    )
    assert [vars(md) for md in (location, category)] == before
    assert category.associated_files == category_files
    assert [f.file_type for f in category_files] == [fb.AssociatedFileType.TENSOR_VALUE_LABELS]
    packed = [os.path.basename(os.fspath(f.file_path)) for f in metadata_writer._associated_files]
    assert packed == ["labels.txt", "calibration.txt"]


def test_every_recorded_file_is_packed(tmp_path: Path) -> None:
    labels_path = tmp_path / "labelmap.txt"
    labels_path.write_text("a\nb\n")
    metadata_writer = compat_detector.MetadataWriter.create_for_inference(
        build(), [127.5], [127.5], [str(labels_path), info.LabelFileMd(str(labels_path), "fr")]
    )
    populated = populate_quietly(metadata_writer)
    assert codes(check(populated)) == []


# -- golden: tflite-support's expected JSON ------------------------------------------------------


def _golden_writer(m: Any, calibrated: bool) -> Any:
    model = read_testdata(f"{DATA}/ssd_mobilenet_v1.tflite")
    calibration = None
    if calibrated:
        calibration = m.info.ScoreCalibrationMd(
            INVERSE_LOGISTIC, 0.2, shared_path(f"{DATA}/score_calibration.csv")
        )
    return m.detector.MetadataWriter.create_for_inference(
        model, [127.5], [127.5], [shared_path(f"{DATA}/labelmap.txt")], calibration
    )


def test_golden() -> None:
    expected = read_testdata(f"{DATA}/ssd_mobilenet_v1.json").decode()
    assert _golden_writer(Ours, False).get_metadata_json() == expected


def test_golden_score_calibration() -> None:
    expected = read_testdata(f"{DATA}/coco_ssd_mobilenet_v1_score_calibration.json").decode()
    assert _golden_writer(Ours, True).get_metadata_json() == expected


def test_golden_models_pass_check() -> None:
    for calibrated in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConsumerCompatibilityWarning)
            populated = _golden_writer(Ours, calibrated).populate()
        assert check(populated) == []
        assert check_module.infer_task(
            codec.decode(__import__("tflite_metadata.model.reader").model.reader.ModelView(
                populated).metadata_buffer())
        ).name == "object-detector"  # fmt: skip


@pytest.mark.reference
@pytest.mark.parametrize("calibrated", [False, True])
def test_reference_golden_buffers(calibrated: bool) -> None:
    ref = reference()
    ours, theirs = _golden_writer(Ours, calibrated), _golden_writer(ref, calibrated)
    assert bytes(ours._metadata_buffer) == bytes(theirs._metadata_buffer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        assert ours.get_populated_metadata_json() == theirs.get_populated_metadata_json()


# -- differential: random cases against tflite-support 0.4.4 -------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_OPTIONAL_TEXT = st.none() | _TEXT
_MEAN = st.integers(-300, 300) | st.floats(-1e4, 1e4, allow_nan=False)
_STD = st.integers(1, 300) | st.floats(1e-3, 1e4, allow_nan=False)
_LOCALES = st.sampled_from([None, "en", "fr", "zh-Hans", "pt_BR"])
_CALIBRATION_ROW = st.none() | st.lists(
    st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=3
).flatmap(lambda rest: st.floats(0, 1e3).map(lambda scale: [scale, *rest]))


@st.composite
def _cases(draw: Any) -> dict[str, Any]:
    boxes = draw(st.integers(1, 20))
    static = draw(st.sampled_from(["shapes", "shapes", "none", "location only"]))
    shapes: list[tuple[int, ...]] = [(1, boxes, 4), (1, boxes), (1, boxes), (1,)]
    if static == "none":
        shapes = [(), (), (), ()]
    elif static == "location only":
        shapes = [(1, boxes, 4), (), (), ()]
    length = draw(st.sampled_from([1, 1, 3]))
    normalization = draw(st.sampled_from(["both"] * 5 + ["mismatch", "neither"]))
    mean = draw(st.lists(_MEAN, min_size=length, max_size=length))
    std_length = length if normalization != "mismatch" else 4 - length
    std = draw(st.lists(_STD, min_size=std_length, max_size=std_length))
    if normalization == "neither":
        mean = std = None
    return {
        "model": {
            "shapes": tuple(shapes),
            "order": tuple(draw(st.permutations(range(4)))),
            "names": tuple(draw(st.lists(_TEXT, min_size=4, max_size=4, unique=True))),
            "input_type": draw(st.sampled_from(["uint8", "float32", "int8"])),
            "output_type": draw(st.sampled_from(["float32", "float32", "uint8"])),
        },
        "path": draw(st.sampled_from(["inference", "inference", "info", "info", "default"])),
        "mean": mean,
        "std": std,
        "color_space": draw(st.sampled_from([0, 1, 2])),
        "general": draw(st.none() | st.tuples(*[_OPTIONAL_TEXT] * 5)),
        "names": draw(st.lists(_TEXT, min_size=10, max_size=10)),
        "given": draw(st.lists(st.booleans(), min_size=4, max_size=4)),
        "tensor_names": draw(st.booleans()),
        "score_kind": draw(st.sampled_from(["classification", "tensor"])),
        "labels": draw(
            st.lists(
                st.tuples(_LOCALES, st.lists(_TEXT.filter(lambda t: "\n" not in t), max_size=4)),
                max_size=3,
            )
        ),
        "calibration": draw(
            st.none()
            | st.tuples(
                st.sampled_from([0, 1, 2]),
                st.floats(-1, 1, allow_nan=False) | st.integers(0, 1),
                st.lists(_CALIBRATION_ROW, min_size=1, max_size=6),
            )
        ),
    }


def _write_files(case: dict[str, Any], folder: Path) -> tuple[list[tuple[str, Any]], Any]:
    label_files = []
    for index, (locale, lines) in enumerate(case["labels"]):
        path = folder / f"labels_{index}.txt"
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        label_files.append((str(path), locale))
    calibration = None
    if case["calibration"] is not None:
        transformation, default_score, rows = case["calibration"]
        path = folder / "calibration.txt"
        path.write_text(
            "\n".join("" if row is None else ",".join(repr(v) for v in row) for row in rows)
        )
        calibration = (transformation, default_score, str(path))
    return label_files, calibration


def _random_writer(m: Any, model: bytes, case: dict[str, Any], folder: Path) -> Any:
    """The writer a case describes, built with module set ``m`` (ours or tflite-support's)."""
    label_files, calibration_args = _write_files(case, folder)
    calibration = None if calibration_args is None else m.info.ScoreCalibrationMd(*calibration_args)
    writer = m.detector.MetadataWriter
    if case["path"] == "default":
        return writer.create_from_metadata_info(model)
    if case["path"] == "inference":
        return writer.create_for_inference(
            model, case["mean"], case["std"], [path for path, _ in label_files], calibration
        )
    names = case["names"]
    general = None if case["general"] is None else m.info.GeneralMd(*case["general"])
    input_md = m.info.InputImageTensorMd(
        names[0], names[1], case["mean"], case["std"], case["color_space"],
        m.utils.get_input_tensor_types(model)[0],
    )  # fmt: skip
    # The tensor each role is (the model's outputs are created in SSD's order).
    tensors = list(case["model"]["names"])
    tensor_names = tensors if case["tensor_names"] else [None] * 4
    location = m.info.TensorMd(names[2], names[3], tensor_name=tensor_names[0])
    category = m.info.CategoryTensorMd(
        names[4], names[5], [m.info.LabelFileMd(path, locale) for path, locale in label_files]
    )
    category.tensor_name = tensor_names[1]
    if case["score_kind"] == "classification":
        score = m.info.ClassificationTensorMd(
            names[6], names[7], None, None, calibration, tensor_name=tensor_names[2]
        )
    else:
        score = m.info.TensorMd(names[6], names[7], tensor_name=tensor_names[2])
    number = m.info.TensorMd(names[8], names[9], tensor_name=tensor_names[3])
    outputs = [
        md if given else None
        for md, given in zip((location, category, score, number), case["given"])
    ]
    return writer.create_from_metadata_info(model, general, input_md, *outputs)


@pytest.mark.reference
@settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=_cases())
def test_reference_random_cases(case: dict[str, Any]) -> None:
    ref = reference()
    model = build(**case["model"])
    theirs = writer_outcome(lambda folder: _random_writer(ref, model, case, folder))
    ours = writer_outcome(lambda folder: _random_writer(Ours, model, case, folder))
    assert ours == theirs
    mismatch = case["mean"] is not None and len(case["mean"]) != len(case["std"])
    if mismatch and case["path"] != "default":
        assert ours[0] == "error" and "expected to be the same dim" in ours[1]


def test_the_random_cases_reach_what_they_should() -> None:
    """The differential test's strategy covers the cases it should (it can fail)."""
    seen: dict[str, set[Any]] = {k: set() for k in ("path", "static", "order", "score")}
    calibrated = labelled = named = 0

    @settings(max_examples=250, derandomize=True, deadline=None, database=None)
    @given(case=_cases())
    def collect(case: dict[str, Any]) -> None:
        nonlocal calibrated, labelled, named
        seen["path"].add(case["path"])
        seen["static"].add(tuple(len(s) for s in case["model"]["shapes"]))
        seen["order"].add(case["model"]["order"])
        seen["score"].add(case["score_kind"])
        calibrated += case["calibration"] is not None and case["path"] != "default"
        labelled += bool(case["labels"]) and case["path"] != "default"
        named += case["tensor_names"] and case["path"] == "info"

    collect()
    assert seen["path"] == {"inference", "info", "default"}
    assert seen["static"] == {(3, 2, 2, 1), (0, 0, 0, 0), (3, 0, 0, 0)}
    assert len(seen["order"]) > 12
    assert seen["score"] == {"classification", "tensor"}
    assert calibrated > 50 and labelled > 50 and named > 20


# -- check: crafted tensors and metadata --------------------------------------------------------


def _metadata(change: Optional[Callable[[Any], None]] = None, **kwargs: Any) -> bytes:
    """The metadata ``create_for_inference`` writes for ``build(**kwargs)``, after ``change``."""
    metadata = decoded(
        compat_detector.MetadataWriter.create_for_inference(build(**kwargs), [127.5], [127.5], [])
    )
    if change is not None:
        change(metadata)
    return bytes(codec.encode(metadata))


def check_facts(
    *,
    outputs: Optional[list[tuple[int, tuple[int, ...]]]] = None,
    metadata: Optional[bytes] = None,
    input_type: int = UINT8,
    input_shape: tuple[int, ...] = (1, 8, 8, 3),
    subgraphs: int = 1,
    task: Optional[str] = "object-detector",
) -> list[Problem]:
    """``check`` on a model that exists only as the facts the rules read."""
    if outputs is None:
        outputs = [(FLOAT32, shape) for shape in SSD_SHAPES]
    facts = ModelFacts(
        subgraph_count=subgraphs,
        inputs=[Tensor(0, "image", input_type, input_shape)],
        outputs=[Tensor(i, f"out_{i}", t, s) for i, (t, s) in enumerate(outputs)],
        metadata=_metadata() if metadata is None else metadata,
        zip_tail=None,
    )
    return check_module._run(Checker(facts), None if task is None else load_task(task))


def _outputs(metadata: Any) -> Any:
    return metadata.subgraphMetadata[0].outputTensorMetadata


def _box(metadata: Any) -> Any:
    return _outputs(metadata)[0].content.contentProperties


def test_a_well_formed_detector_and_inference() -> None:
    assert check_facts() == []
    assert check_facts(task=None) == []
    assert check_facts(outputs=[(FLOAT32, ())] * 4) == []


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"subgraphs": 2}, [("subgraph-count", (MEDIAPIPE,))]),
        ({"input_type": INT8}, [("input-type", BOTH)]),
        ({"input_shape": (1, 8, 8, 1)}, [("input-channels", BOTH)]),
        ({"outputs": [(FLOAT32, s) for s in SSD_SHAPES[:3]]}, [("output-count", BOTH)]),
        (
            {"outputs": [(UINT8, s) for s in SSD_SHAPES]},
            [("output-type", (TASK_LIBRARY,))] * 4,
        ),
        (
            {"outputs": [(INT32, SSD_SHAPES[0])] + [(FLOAT32, s) for s in SSD_SHAPES[1:]]},
            [("output-type", BOTH)],
        ),
        (
            {"outputs": [(UINT8, SSD_SHAPES[0])] + [(FLOAT32, s) for s in SSD_SHAPES[1:]]},
            [("output-type", (TASK_LIBRARY,)), ("output-type", (MEDIAPIPE,))],
        ),
        (
            {"outputs": [(FLOAT32, (1, 10, 5))] + [(FLOAT32, s) for s in SSD_SHAPES[1:]]},
            [("output-shape", BOTH)],
        ),
        (
            {"outputs": [(FLOAT32, (1, 10))] + [(FLOAT32, s) for s in SSD_SHAPES[1:]]},
            [("output-shape", BOTH)],
        ),
        (
            {"outputs": [(FLOAT32, s) for s in SSD_SHAPES[:3]] + [(FLOAT32, (2,))]},
            [("output-shape", BOTH)],
        ),
        (
            {"outputs": [(FLOAT32, s) for s in (SSD_SHAPES[0], (1, 10), (1, 11), (1,))]},
            [("output-shape", (MEDIAPIPE,))],
        ),
        (
            {"outputs": [(FLOAT32, s) for s in (SSD_SHAPES[0], (1, 9), (1, 10), (1,))]},
            [("output-shape", BOTH)],
        ),
    ],
)
def test_model_rules(kwargs: dict[str, Any], expected: list[tuple[str, tuple[str, ...]]]) -> None:
    problems = check_facts(**kwargs)
    assert [(p.code, p.consumers) for p in problems] == expected


def _set_box(attribute: str, value: Any) -> Callable[[Any], None]:
    return lambda metadata: setattr(_box(metadata), attribute, value)


def _feature_location(metadata: Any) -> None:
    _outputs(metadata)[0].content.contentPropertiesType = fb.ContentProperties.FeatureProperties
    _outputs(metadata)[0].content.contentProperties = fb.FeaturePropertiesT()


def _no_content(metadata: Any) -> None:
    _outputs(metadata)[0].content = None


def _three_outputs(metadata: Any) -> None:
    del _outputs(metadata)[3]


def _renamed_location(metadata: Any) -> None:
    """Without the name 'location', the consumers take output 0 for it (here the count)."""
    outputs = _outputs(metadata)
    outputs[0].name = "boxes"
    outputs.insert(0, outputs.pop())


def _calibration(transformation: int = 0) -> Callable[[Any], None]:
    def change(metadata: Any) -> None:
        unit = fb.ProcessUnitT()
        unit.optionsType = fb.ProcessUnitOptions.ScoreCalibrationOptions
        unit.options = fb.ScoreCalibrationOptionsT()
        unit.options.scoreTransformation = transformation
        _outputs(metadata)[2].processUnits = [unit]

    return change


def _score_elsewhere(metadata: Any) -> None:
    _calibration()(metadata)
    outputs = _outputs(metadata)
    outputs[2], outputs[3] = outputs[3], outputs[2]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set_box("type", fb.BoundingBoxType.CENTER), [("bounding-box", BOTH)]),
        (_set_box("coordinateType", fb.CoordinateType.PIXEL), [("bounding-box", BOTH)]),
        (_set_box("index", [0, 1, 2]), [("bounding-box", BOTH)]),
        (_set_box("index", None), []),
        (_feature_location, [("bounding-box", BOTH)]),
        (_no_content, [("bounding-box", BOTH)]),
        (_three_outputs, [("output-count", BOTH)]),
        (_renamed_location, [("bounding-box", BOTH)]),
        (_calibration(), [("calibration-file", BOTH)]),
        (_calibration(7), [("calibration-transformation", BOTH), ("calibration-file", BOTH)]),
        (_score_elsewhere, [("calibration-ignored", (TASK_LIBRARY,)), ("calibration-file", BOTH)]),
    ],
)
def test_metadata_rules(
    change: Callable[[Any], None], expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    # Without static shapes: the metadata's rules alone.
    problems = check_facts(metadata=_metadata(change), outputs=[(FLOAT32, ())] * 4)
    assert [(p.code, p.consumers) for p in problems] == expected


def test_problem_messages_say_what_was_found() -> None:
    [problem] = check_facts(metadata=_metadata(_set_box("type", fb.BoundingBoxType.CENTER)))
    assert "type CENTER; the consumers take BOUNDARIES only" in problem.message
    [problem] = check_facts(metadata=_metadata(_feature_location))
    assert "content properties FeatureProperties" in problem.message
    [problem] = check_facts(
        outputs=[(FLOAT32, (1, 10, 5))] + [(FLOAT32, s) for s in SSD_SHAPES[1:]]
    )
    assert "[1, 10, 5]" in problem.message and "4 coordinates" in problem.message


def test_recognizes() -> None:
    task = load_task("object-detector")
    assert task.recognizes(codec.decode(_metadata()))
    assert not task.recognizes(codec.decode(_metadata(_feature_location)))
    # The image classifier does not take a detector for itself.
    assert not load_task("image-classifier").recognizes(codec.decode(_metadata()))


def test_populated_label_map_and_calibration_counts(tmp_path: Path) -> None:
    labels = tmp_path / "labelmap.txt"
    labels.write_text("a\nb\nc\n")
    calibration_path = tmp_path / "calibration.csv"
    calibration_path.write_text("1,1,0\n1,1,0")
    calibration = info.ScoreCalibrationMd(0, 0.0, str(calibration_path))
    metadata_writer = compat_detector.MetadataWriter.create_for_inference(
        build(), [127.5], [127.5], [str(labels)], calibration
    )
    with pytest.warns(ConsumerCompatibilityWarning, match="2 entries for 3 labels"):
        populated = metadata_writer.populate()
    # Fewer lines than labels: MediaPipe fails on a class without one, when it detects.
    [problem] = check(populated)
    assert (problem.code, problem.consumers) == ("calibration-count", BOTH)
    calibration_path.write_text("1,1,0\n1,1,0\n1,1,0\n1,1,0")
    calibration = info.ScoreCalibrationMd(0, 0.0, str(calibration_path))
    metadata_writer = compat_detector.MetadataWriter.create_for_inference(
        build(), [127.5], [127.5], [str(labels)], calibration
    )
    [problem] = check(populate_quietly(metadata_writer))
    assert (problem.code, problem.consumers) == ("calibration-count", (TASK_LIBRARY,))
    assert "4 entries for 3 labels" in problem.message
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    metadata_writer = compat_detector.MetadataWriter.create_for_inference(
        build(), [127.5], [127.5], [str(empty)]
    )
    assert codes(check(populate_quietly(metadata_writer))) == ["label-empty"]


# -- the command line ---------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    status = main([os.fspath(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_write_show_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(_tf2_model())
    labels = tmp_path / "labelmap.txt"
    labels.write_text("person\nbicycle\n")
    calibration = tmp_path / "calibration.csv"
    calibration.write_text("1,1,0\n1,1,0")
    out = tmp_path / "out.tflite"
    tensors = ["--score-tensor", "Identity", "--category-tensor", "Identity_3"]
    status, stdout, err = run(
        capsys, "write", "object-detector", model, "-o", out, "--mean", "127.5", "--std",
        "127.5", "--labels", labels, *tensors,
    )  # fmt: skip
    assert status == 0, err
    category = info.CategoryTensorMd(
        "category", "The categories of the detected boxes.", [info.LabelFileMd(str(labels))]
    )
    category.tensor_name = "Identity_3"
    expected = compat_detector.MetadataWriter.create_from_metadata_info(
        model.read_bytes(),
        input_md=info.InputImageTensorMd(
            "image", "Input image to be detected.", [127.5], [127.5], fb.ColorSpaceType.RGB, UINT8
        ),
        output_category_md=category,
        output_score_md=info.ClassificationTensorMd(
            "score", "The scores of the detected boxes.", tensor_name="Identity"
        ),
    )
    from tflite_metadata.metadata import MetadataDisplayer

    written = MetadataDisplayer.with_model_file(out).get_metadata_json()
    assert written == expected.get_populated_metadata_json()
    assert output_names(expected) == ["score", "location", "number of detections", "category"]
    status, stdout, _ = run(capsys, "show", out)
    assert status == 0
    assert "output 1: location (tensor 'Identity_1', FLOAT32 [1, 10, 4])" in stdout
    assert "boxes [top, left, bottom, right] as BOUNDARIES, RATIO coordinates" in stdout
    assert "tensor group detection_result: location, category, score" in stdout
    status, stdout, _ = run(capsys, "check", out)
    assert (status, stdout) == (0, f"{out}: no problems found (Task Library, MediaPipe)\n")
    # A calibration on the score, here output 0: the Task Library reads it from output 2.
    status, stdout, err = run(
        capsys, "write", "object-detector", model, "-o", tmp_path / "calibrated.tflite",
        "--mean", "127.5", "--std", "127.5", "--labels", labels, *tensors,
        "--score-calibration", calibration, "--score-transformation", "INVERSE_LOGISTIC",
    )  # fmt: skip
    assert status == 1 and "[calibration-ignored]" in stdout + err
    assert not (tmp_path / "calibrated.tflite").exists()


def test_cli_spec(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build())
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "name": "Boxes", "input": {"mean": [0], "std": [255]},
        "outputs": {"category": {"labels": [{"name": "labels.txt", "labels": ["a", "b"]}]},
                    "number": {"description": "how many"}},
    }))  # fmt: skip
    out = tmp_path / "out.tflite"
    status, _, err = run(capsys, "write", "object-detector", model, "-o", out, "--spec", spec)
    assert status == 0, err
    metadata = json.loads(
        __import__("tflite_metadata.metadata").metadata.MetadataDisplayer.with_model_file(
            out).get_metadata_json())  # fmt: skip
    assert metadata["name"] == "Boxes"
    outputs = metadata["subgraph_metadata"][0]["output_tensor_metadata"]
    assert outputs[3]["description"] == "how many"
    assert outputs[1]["associated_files"][0]["name"] == "labels.txt"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--default-score", "0.2"], "give its file with --score-calibration"),
        (["--locale", "fr"], "give the label file"),
        (["--location-tensor", "nope"], "is not an output of the model"),
    ],
)
def test_cli_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], fragment: str
) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build())
    status, _, err = run(
        capsys, "write", "object-detector", model, "-o", tmp_path / "out.tflite", *argv
    )
    assert status != 0 and fragment in err


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, stdout, _ = run(capsys, "write", "object-detector", "--help")
    assert status == 0
    for fragment in ("--mean", "--labels", "--score-tensor", '"location"'):
        assert fragment in stdout
