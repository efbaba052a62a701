"""Tests of the image segmenter task (tflite_metadata.tasks.image_segmenter).

* the writer and ``SegmentationMaskMd``: behaviour, errors, and what tflite-support
  got wrong (a second output refused, tensorflow #62971; the caller's objects modified);
* golden: tflite-support's expected JSON for DeepLab v3 (/work/shared/testdata, read in
  place; skipped when absent), and identical buffers to tflite-support's;
* differential: for a few hundred random cases (normalization, tensor types, names,
  stats, labels with locales), tflite-support 0.4.4 and ours, run by the same code,
  give identical metadata buffers and ``get_metadata_json()``;
* the consumer rules of ``check``, on crafted tensors and metadata (measured with the
  real consumers in tests/test_segmenter_consumers.py);
* the command line: ``write image-segmenter``, ``show``, ``check``.
"""

from __future__ import annotations

import functools
import json
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
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY, Problem, check, infer_task
from tflite_metadata.cli import main
from tflite_metadata.errors import ConsumerCompatibilityWarning, MetadataValidationError
from tflite_metadata.format import codec
from tflite_metadata.metadata_writers import image_segmenter as compat_segmenter
from tflite_metadata.metadata_writers import metadata_info as info
from tflite_metadata.metadata_writers import writer_utils as compat_utils
from tflite_metadata.tasks import TASKS, image_segmenter, load_task
from tflite_metadata.tasks.rules import Checker, ModelFacts, Tensor

SEGMENTER_DATA = "tflite-support/image_segmenter"
BOTH = (TASK_LIBRARY, MEDIAPIPE)
RGB = fb.ColorSpaceType.RGB
GRAYSCALE = fb.ColorSpaceType.GRAYSCALE
UINT8, FLOAT32, INT8, INT32 = 3, 0, 9, 2
CLASSES = 5
MASKS = (1, 4, 4, CLASSES)


# -- helpers ----------------------------------------------------------------------------------


def reference() -> Any:
    """tflite-support 0.4.4's writer modules; skip without them, fail under CI."""
    try:
        from tflite_support import metadata_schema_py_generated as ref_fb
        from tflite_support.metadata_writers import image_segmenter as ref_segmenter
        from tflite_support.metadata_writers import metadata_info, writer_utils
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")

    class Reference:
        fb = ref_fb
        info = metadata_info
        segmenter = ref_segmenter
        utils = writer_utils

    return Reference


class Ours:
    """Our modules under tflite-support's names, for code written once for both."""

    fb = fb
    info = info
    segmenter = compat_segmenter
    utils = compat_utils


@functools.cache
def build(**kwargs: Any) -> bytes:
    """A one-output image model without metadata from the project's builder.

    Its output is ``[1, classes]``, not masks: the writer reads only the tensors'
    names and types; the rules are tested on crafted shapes (:func:`check_facts`).
    """
    from tflite_metadata import _model_builder as builder

    kwargs.setdefault("height", 4)
    kwargs.setdefault("width", 4)
    kwargs.setdefault("classes", CLASSES)
    return bytes(builder.build_image_classifier(**kwargs))


@functools.cache
def build_outputs(count: int = 2) -> bytes:
    """An image model with ``count`` outputs (``scores_0`` …), the last of CLASSES values."""
    from tflite_metadata import _model_builder as builder

    return bytes(
        builder.build_audio_classifier(
            input_shape=[1, 4, 4, 3], heads=(1,) * (count - 1) + (CLASSES,), input_name="image"
        )
    )


def labels(count: int = CLASSES) -> list[str]:
    return [f"class {i}" for i in range(count)]


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def populate_quietly(metadata_writer: Any) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        return bytes(metadata_writer.populate())


def decoded(metadata_writer: Any) -> Any:
    return codec.decode(metadata_writer._metadata_buffer)


def outputs_of(metadata_writer: Any) -> Any:
    return decoded(metadata_writer).subgraphMetadata[0].outputTensorMetadata


# -- the drop-in modules ------------------------------------------------------------------------


def test_compat_module_reexports_the_writer() -> None:
    assert compat_segmenter.MetadataWriter is image_segmenter.ImageSegmenterWriter
    assert info.SegmentationMaskMd is image_segmenter.SegmentationMaskMd
    assert "SegmentationMaskMd" in info.__all__
    import tflite_metadata.metadata_writers as package

    assert package.image_segmenter is compat_segmenter
    assert "image_segmenter" in package.__all__


def test_the_task_is_registered_before_the_image_classifier() -> None:
    task = load_task("image-segmenter")
    assert task.writer is image_segmenter.ImageSegmenterWriter
    assert task.requires_metadata is False
    names = list(TASKS)
    assert names.index("image-segmenter") < names.index("image-classifier")


@pytest.mark.reference
def test_constants_are_tflite_supports() -> None:
    ref = reference().segmenter
    assert image_segmenter.MODEL_DESCRIPTION == ref._MODEL_DESCRIPTION
    assert image_segmenter.INPUT_NAME == ref._INPUT_NAME
    assert image_segmenter.INPUT_DESCRIPTION == ref._INPUT_DESCRIPTION
    assert image_segmenter.OUTPUT_NAME == ref._OUTPUT_NAME
    assert image_segmenter.OUTPUT_DESCRIPTION == ref._OUTPUT_DESCRIPTION


# -- the writer ---------------------------------------------------------------------------------


def test_create_for_inference() -> None:
    metadata_writer = compat_segmenter.MetadataWriter.create_for_inference(
        build(), [127.5], [127.5], [info.LabelFileMd(labels=labels())]
    )
    metadata = decoded(metadata_writer)
    assert metadata.name == b"ImageSegmenter"
    image = metadata.subgraphMetadata[0].inputTensorMetadata[0]
    assert image.name == b"image" and image.content.contentProperties.colorSpace == RGB
    assert image.stats.min == [-1.0] and image.stats.max == [1.0]
    (masks,) = outputs_of(metadata_writer)
    assert masks.name == b"segmentation_masks"
    assert masks.content.contentPropertiesType == fb.ContentProperties.ImageProperties
    assert masks.content.contentProperties.colorSpace == GRAYSCALE
    assert (masks.content.range.min, masks.content.range.max) == (1, 2)
    assert masks.stats.min is None and masks.stats.max is None
    (label_file,) = masks.associatedFiles
    assert label_file.name == b"labels.txt"
    assert label_file.type == fb.AssociatedFileType.TENSOR_AXIS_LABELS
    populated = populate_quietly(metadata_writer)
    # The builder's output is [1, classes], not masks: the one problem is that (MediaPipe
    # reads it as a 1x5 image of one class, but makes 5 confidence masks and fails).
    assert [(p.code, p.consumers) for p in check(populated)] == [("output-shape", BOTH)]
    assert infer_task(codec.decode(compat_utils_metadata(populated))) is load_task(
        "image-segmenter"
    )


def compat_utils_metadata(model: bytes) -> bytes:
    from tflite_metadata.model.reader import ModelView

    buffer = ModelView(model).metadata_buffer()
    assert buffer is not None
    return bytes(buffer)


def test_create_for_inference_reads_paths(tmp_path: Path) -> None:
    path = tmp_path / "labelmap.txt"
    path.write_text("".join(f"{label}\n" for label in labels()))
    metadata_writer = compat_segmenter.MetadataWriter.create_for_inference(
        build(input_type="uint8"), [127.5], [127.5], [str(path)]
    )
    image = decoded(metadata_writer).subgraphMetadata[0].inputTensorMetadata[0]
    assert image.stats.min == [0.0] and image.stats.max == [255.0]
    populated = populate_quietly(metadata_writer)
    from tflite_metadata.metadata import MetadataDisplayer

    displayer = MetadataDisplayer.with_model_buffer(populated)
    assert displayer.get_associated_file_buffer("labelmap.txt") == path.read_bytes()


def test_create_for_inference_errors() -> None:
    with pytest.raises(MetadataValidationError, match="single path"):
        compat_segmenter.MetadataWriter.create_for_inference(
            build(), [127.5], [127.5], "labels.txt"
        )
    with pytest.raises(MetadataValidationError, match="norm_std"):
        compat_segmenter.MetadataWriter.create_for_inference(build(), [127.5], [0.0], [])
    with pytest.raises(MetadataValidationError, match="finite"):
        compat_segmenter.MetadataWriter.create_for_inference(build(), [float("nan")], [1.0], [])
    with pytest.raises(MetadataValidationError, match="has 3 outputs"):
        compat_segmenter.MetadataWriter.create_for_inference(build_outputs(3), [1.0], [1.0], [])


def test_a_second_output_is_a_feature_output_as_mediapipe_writes_it() -> None:
    model = build_outputs(2)
    metadata_writer = compat_segmenter.MetadataWriter.create_for_inference(
        model, [127.5], [127.5], [info.LabelFileMd(labels=labels())]
    )
    quality, masks = outputs_of(metadata_writer)
    assert quality.name == b"quality score"
    assert quality.description == b"The quality score of matting result."
    assert quality.content.contentPropertiesType == fb.ContentProperties.FeatureProperties
    assert quality.associatedFiles is None
    assert masks.name == b"segmentation_masks"
    assert masks.content.contentProperties.colorSpace == GRAYSCALE
    assert [f.name for f in masks.associatedFiles] == [b"labels.txt"]
    populated = populate_quietly(metadata_writer)
    # MediaPipe takes it; the Task Library takes one output only.
    assert [(p.code, p.consumers) for p in check(populated)] == [
        ("output-count", (TASK_LIBRARY,)),
        ("output-shape", BOTH),  # the builder's [1, classes], not masks
        ("output-count", (TASK_LIBRARY,)),
    ]


def test_the_masks_tensor_may_be_named() -> None:
    model = build_outputs(2)
    masks_md = info.SegmentationMaskMd(
        "segmentation_masks", label_files=[info.LabelFileMd(labels=["a"])]
    )
    masks_md.tensor_name = "scores_0"
    feature = info.TensorMd("score", "A score.")
    metadata_writer = compat_segmenter.MetadataWriter.create_from_metadata_info(
        model, output_md=masks_md, feature_output_md=feature
    )
    masks, score = outputs_of(metadata_writer)
    assert masks.name == b"segmentation_masks" and score.name == b"score"
    masks_md.tensor_name = "nope"
    with pytest.raises(MetadataValidationError, match="'scores_0', 'scores_1'"):
        compat_segmenter.MetadataWriter.create_from_metadata_info(model, output_md=masks_md)


@pytest.mark.reference
def test_reference_refuses_a_second_output() -> None:
    """tensorflow #62971: tflite-support writes one description for two outputs."""
    ref = reference()
    model = build_outputs(2)
    metadata_writer = ref.segmenter.MetadataWriter.create_for_inference(
        bytearray(model), [127.5], [127.5], []
    )
    with pytest.raises(ValueError, match="number of output tensors"):
        metadata_writer.populate()


def test_create_from_metadata_info_keeps_the_callers_objects() -> None:
    output_md = info.TensorMd("masks", "d")
    assert output_md.associated_files is None
    label_file = info.LabelFileMd(labels=labels())
    other = info.TensorMd("m", associated_files=[label_file])
    files_before = list(other.associated_files or [])
    compat_segmenter.MetadataWriter.create_from_metadata_info(build(), output_md=output_md)
    compat_segmenter.MetadataWriter.create_from_metadata_info(build(), output_md=other)
    assert output_md.associated_files is None
    assert other.associated_files == files_before
    assert other.content_type == fb.ContentProperties.FeatureProperties
    assert label_file.file_type == fb.AssociatedFileType.TENSOR_AXIS_LABELS


@pytest.mark.reference
def test_reference_modifies_where_we_do_not() -> None:
    ref = reference()
    output_md = ref.info.TensorMd("masks", "d")
    ref.segmenter.MetadataWriter.create_from_metadata_info(bytearray(build()), output_md=output_md)
    assert output_md.associated_files == []


@pytest.mark.reference
def test_reference_a_classification_description_as_masks(tmp_path: Path) -> None:
    """Any TensorMd subclass: its own create_metadata() (its process units) under the masks."""
    path = tmp_path / "calibration.txt"
    path.write_text("1.0,2.0,0.5")
    results = []
    for m in (Ours, reference()):
        calibration = m.info.ScoreCalibrationMd(1, 0.5, str(path))
        output_md = m.info.ClassificationTensorMd("masks", "d", [], FLOAT32, calibration)
        metadata_writer = m.segmenter.MetadataWriter.create_from_metadata_info(
            bytearray(build()), output_md=output_md
        )
        results.append(bytes(metadata_writer._metadata_buffer))
    assert results[0] == results[1]
    masks = codec.decode(results[0]).subgraphMetadata[0].outputTensorMetadata[0]
    assert masks.processUnits[0].optionsType == fb.ProcessUnitOptions.ScoreCalibrationOptions
    assert masks.content.contentProperties.colorSpace == GRAYSCALE


def test_segmentation_mask_md() -> None:
    masks = info.SegmentationMaskMd(
        "segmentation_masks", label_files=[info.LabelFileMd(labels=["a"])]
    ).create_metadata()
    assert masks.name == "segmentation_masks"
    assert info.SegmentationMaskMd().create_metadata().name is None  # MediaPipe's default
    assert masks.content.contentProperties.colorSpace == GRAYSCALE
    assert (masks.content.range.min, masks.content.range.max) == (1, 2)


# -- golden: tflite-support's expected JSON ------------------------------------------------------


def _golden_writer(m: Any) -> Any:
    model = read_testdata(f"{SEGMENTER_DATA}/deeplabv3.tflite")
    return m.segmenter.MetadataWriter.create_for_inference(
        bytearray(model), [127.5], [127.5], [shared_path(f"{SEGMENTER_DATA}/labelmap.txt")]
    )


def test_golden_create_for_inference() -> None:
    expected = read_testdata(f"{SEGMENTER_DATA}/deeplabv3.json").decode()
    metadata_writer = _golden_writer(Ours)
    assert metadata_writer.get_metadata_json() == expected
    assert check(metadata_writer.populate()) == []


def test_golden_default() -> None:
    model = read_testdata(f"{SEGMENTER_DATA}/deeplabv3.tflite")
    expected = read_testdata(f"{SEGMENTER_DATA}/deeplabv3_default.json").decode()
    metadata_writer = compat_segmenter.MetadataWriter.create_from_metadata_info(model)
    assert metadata_writer.get_metadata_json() == expected


@pytest.mark.reference
def test_reference_golden_buffers() -> None:
    ref = reference()
    ours, theirs = _golden_writer(Ours), _golden_writer(ref)
    assert bytes(ours._metadata_buffer) == bytes(theirs._metadata_buffer)
    assert ours.get_populated_metadata_json() == theirs.get_populated_metadata_json()
    model = read_testdata(f"{SEGMENTER_DATA}/deeplabv3.tflite")
    default_ours = compat_segmenter.MetadataWriter.create_from_metadata_info(model)
    default_theirs = ref.segmenter.MetadataWriter.create_from_metadata_info(bytearray(model))
    assert bytes(default_ours._metadata_buffer) == bytes(default_theirs._metadata_buffer)


# -- differential: random cases against tflite-support 0.4.4 -------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_OPTIONAL_TEXT = st.none() | _TEXT
_MEAN = st.integers(-300, 300) | st.floats(-1e4, 1e4, allow_nan=False)
_STD = st.integers(1, 300) | st.floats(1e-3, 1e4, allow_nan=False) | st.integers(-300, -1)
_LOCALES = st.sampled_from([None, "en", "fr", "zh-Hans", "pt_BR"])
_STATS = st.none() | st.lists(st.floats(-1e3, 1e3, allow_nan=False), max_size=3)


@st.composite
def _cases(draw: Any) -> dict[str, Any]:
    length = draw(st.sampled_from([1, 1, 3, 3, 2]))
    normalization = draw(st.sampled_from(["both"] * 5 + ["mismatch", "neither", "empty"]))
    mean = draw(st.lists(_MEAN, min_size=length, max_size=length))
    std_length = length
    if normalization == "mismatch":
        std_length = draw(st.integers(1, 4).filter(lambda n: n != length))
    std = draw(st.lists(_STD, min_size=std_length, max_size=std_length))
    if normalization == "neither":
        mean = std = None
    if normalization == "empty":
        mean, std = [], []
    return {
        "model": {
            "channels": draw(st.sampled_from([1, 3, 3, 4])),
            "classes": draw(st.integers(1, 8)),
            "input_type": draw(st.sampled_from(["uint8", "float32", "float32", "int8"])),
            "output_type": draw(st.sampled_from(["uint8", "float32", "int8"])),
        },
        "path": draw(st.sampled_from(["inference", "inference", "info", "info", "default"])),
        "mean": mean,
        "std": std,
        "color_space": draw(st.sampled_from([0, 1, 2])),
        "general": draw(st.none() | st.tuples(*[_OPTIONAL_TEXT] * 5)),
        "names": draw(st.tuples(_OPTIONAL_TEXT, _OPTIONAL_TEXT, _OPTIONAL_TEXT, _OPTIONAL_TEXT)),
        "stats": draw(st.tuples(_STATS, _STATS)),
        "tensor_name": draw(st.booleans()),
        "labels": draw(
            st.lists(
                st.tuples(_LOCALES, st.lists(_TEXT.filter(lambda t: "\n" not in t), max_size=4)),
                max_size=3,
            )
        ),
        "output_md": draw(st.sampled_from(["none", "files", "empty"])),
        "input_md": draw(st.booleans()),
    }


def _random_writer(m: Any, model: bytes, case: dict[str, Any], folder: Path) -> Any:
    """The writer a case describes, built with module set ``m`` (ours or tflite-support's)."""
    label_files = []
    for index, (locale, lines) in enumerate(case["labels"]):
        path = folder / f"labels_{index}.txt"
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        label_files.append((str(path), locale))
    buffer = bytearray(model)
    if case["path"] == "default":
        return m.segmenter.MetadataWriter.create_from_metadata_info(buffer)
    if case["path"] == "inference":
        return m.segmenter.MetadataWriter.create_for_inference(
            buffer, case["mean"], case["std"], [path for path, _ in label_files]
        )
    general = None if case["general"] is None else m.info.GeneralMd(*case["general"])
    input_name, input_description, output_name, output_description = case["names"]
    input_md = None
    if case["input_md"]:
        input_md = m.info.InputImageTensorMd(
            input_name,
            input_description,
            case["mean"],
            case["std"],
            case["color_space"],
            m.utils.get_input_tensor_types(buffer)[0],
        )
    output_md = None
    if case["output_md"] != "none":
        minimum, maximum = case["stats"]
        files = [m.info.LabelFileMd(path, locale) for path, locale in label_files]
        output_md = m.info.TensorMd(
            output_name,
            output_description,
            minimum,
            maximum,
            associated_files=files if case["output_md"] == "files" else None,
            tensor_name="scores" if case["tensor_name"] else None,
        )
    return m.segmenter.MetadataWriter.create_from_metadata_info(
        buffer, general, input_md, output_md
    )


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
    mismatch = bool(case["mean"] and case["std"]) and len(case["mean"]) != len(case["std"])
    if mismatch and (case["path"] == "inference" or (case["path"] == "info" and case["input_md"])):
        assert ours[0] == "error" and "expected to be the same dim" in ours[1]


def test_the_random_cases_reach_what_they_should() -> None:
    """The differential test's strategy covers what it should (it can fail)."""
    seen: dict[str, set[Any]] = {k: set() for k in ("path", "input", "output", "output_md")}
    localized = stats = named = 0

    @settings(max_examples=250, derandomize=True, deadline=None, database=None)
    @given(case=_cases())
    def collect(case: dict[str, Any]) -> None:
        nonlocal localized, stats, named
        seen["path"].add(case["path"])
        seen["input"].add(case["model"]["input_type"])
        seen["output"].add(case["model"]["output_type"])
        seen["output_md"].add(case["output_md"])
        localized += any(locale for locale, _ in case["labels"])
        stats += case["path"] == "info" and any(v for v in case["stats"])
        named += case["path"] == "info" and case["tensor_name"]

    collect()
    assert seen["path"] == {"inference", "info", "default"}
    assert seen["input"] == {"uint8", "float32", "int8"}
    assert seen["output"] == {"uint8", "float32", "int8"}
    assert seen["output_md"] == {"none", "files", "empty"}
    assert localized > 50 and stats > 10 and named > 10


# -- check: crafted tensors and metadata --------------------------------------------------------


def _metadata(
    *,
    outputs: int = 1,
    input_type: int = FLOAT32,
    change: Optional[Callable[[Any], None]] = None,
) -> bytes:
    """Image segmenter metadata (no files), after ``change(model_metadata)``."""
    image = info.InputImageTensorMd(
        "image", None, [127.5], [127.5], RGB, input_type
    ).create_metadata()
    subgraph = fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = [info.TensorMd("quality").create_metadata()] * (outputs - 1) + [
        info.SegmentationMaskMd().create_metadata()
    ]
    model_metadata = fb.ModelMetadataT()
    model_metadata.name = "test"
    model_metadata.subgraphMetadata = [subgraph]
    if change is not None:
        change(model_metadata)
    return bytes(codec.encode(model_metadata))


def check_facts(
    *,
    input_type: int = FLOAT32,
    shape: tuple[int, ...] = (1, 4, 4, 3),
    outputs: Optional[list[tuple[int, tuple[int, ...]]]] = None,
    metadata: Optional[bytes] = None,
    subgraphs: int = 1,
    task: Optional[str] = "image-segmenter",
) -> list[tuple[str, tuple[str, ...]]]:
    """``check`` on a model that exists only as the facts the rules read."""
    if outputs is None:
        outputs = [(FLOAT32, MASKS)]
    facts = ModelFacts(
        subgraph_count=subgraphs,
        inputs=[Tensor(0, "input", input_type, shape)],
        outputs=[Tensor(i, f"output_{i}", t, s) for i, (t, s) in enumerate(outputs)],
        metadata=metadata,
        zip_tail=None,
    )
    problems = check_module._run(Checker(facts), None if task is None else load_task(task))
    return [(p.code, p.consumers) for p in problems]


def test_facts_well_formed() -> None:
    assert check_facts(metadata=_metadata()) == []
    assert check_facts(metadata=_metadata(), task=None) == []  # inferred
    assert check_facts(outputs=[(UINT8, (1, 257, 257, 256))], metadata=_metadata()) == []
    # A UINT8 model needs no metadata (its labels are then numbers).
    assert check_facts(input_type=UINT8) == []
    assert check_facts(input_type=FLOAT32) == [("normalization", BOTH)]


TL = (TASK_LIBRARY,)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"outputs": [(FLOAT32, (1, 4, 4, 257))]}, [("output-shape", TL)]),
        ({"outputs": [(FLOAT32, (2, 4, 4, 5))]}, [("output-shape", TL)]),
        ({"outputs": [(FLOAT32, (4, 4, 5))]}, [("output-shape", TL)]),
        ({"outputs": [(FLOAT32, (4, 4))]}, [("output-shape", BOTH)]),
        ({"outputs": [(FLOAT32, (16, 1))]}, [("output-shape", TL)]),
        ({"outputs": [(FLOAT32, (1, 1, 4, 4, 5))]}, [("output-shape", BOTH)]),
        ({"outputs": [(FLOAT32, (20,))]}, [("output-shape", BOTH)]),
        ({"outputs": [(INT8, MASKS)]}, [("output-type", TL)]),
        ({"outputs": [(INT32, MASKS)]}, [("output-type", BOTH)]),
        ({"outputs": []}, [("output-count", BOTH)]),
        (
            {"outputs": [(FLOAT32, (1, 1)), (FLOAT32, MASKS)]},
            [("output-count", TL)],
        ),
        (
            {"outputs": [(FLOAT32, (1, 1))] * 2 + [(FLOAT32, MASKS)]},
            [("output-count", BOTH)],
        ),
        ({"shape": (1, 4, 4, 4)}, [("input-channels", BOTH)]),
        (
            {"shape": (1, 4, 4, 4), "input_type": FLOAT32},
            [("input-channels", TL), ("normalization", BOTH)],
        ),
        (
            {"outputs": [(FLOAT32, (1, 1)), (UINT8, MASKS)]},
            [("output-count", TL), ("output-type", (MEDIAPIPE,))],
        ),
        ({"outputs": [(UINT8, (1, 1)), (UINT8, MASKS)]}, [("output-count", TL)]),
        ({"outputs": [(UINT8, (1, 1)), (FLOAT32, MASKS)]}, [("output-count", TL)]),
        ({"shape": (1, 4, 4, 1)}, [("input-channels", BOTH)]),
        ({"shape": (1, 4, 4)}, [("input-shape", BOTH)]),
        ({"input_type": INT32}, [("input-type", BOTH)]),
        ({"subgraphs": 2}, [("subgraph-count", (MEDIAPIPE,))]),
    ],
)
def test_model_rules(kwargs: dict[str, Any], expected: list[tuple[str, tuple[str, ...]]]) -> None:
    """The model's rules alone: a UINT8 model without metadata is otherwise accepted."""
    kwargs.setdefault("input_type", UINT8)
    assert check_facts(**kwargs) == expected


def _two_output_metadata(model_metadata: Any) -> None:
    outputs = model_metadata.subgraphMetadata[0].outputTensorMetadata
    outputs.insert(0, info.TensorMd("quality").create_metadata())


def _grayscale_input(model_metadata: Any) -> None:
    content = model_metadata.subgraphMetadata[0].inputTensorMetadata[0].content
    content.contentProperties.colorSpace = GRAYSCALE


def test_metadata_rules() -> None:
    # The Task Library reads exactly one output description; MediaPipe the last.
    assert check_facts(metadata=_metadata(change=_two_output_metadata)) == [("output-count", TL)]
    assert check_facts(metadata=_metadata(change=_grayscale_input)) == [("color-space", BOTH)]


def test_label_rules_on_populated_models() -> None:
    def populated(*files: Any) -> bytes:
        metadata_writer = compat_segmenter.MetadataWriter.create_for_inference(
            build(input_type="uint8"), None, None, list(files)
        )
        return populate_quietly(metadata_writer)

    def problems(model: bytes) -> list[tuple[str, tuple[str, ...]]]:
        # Without the builder's [1, classes] output-shape problem.
        return [
            (p.code, p.consumers)
            for p in check(model, task="image-segmenter")
            if p.code != "output-shape"
        ]

    # Any number of labels: neither consumer counts them against the classes.
    assert problems(populated(info.LabelFileMd(labels=labels(2)))) == []
    assert problems(populated(info.LabelFileMd(labels=labels(300)))) == []
    assert problems(populated(info.LabelFileMd(content=b""))) == [("label-empty", BOTH)]
    names = info.LabelFileMd("labels_en.txt", "en", labels=labels(3))
    assert problems(populated(info.LabelFileMd(labels=labels(5)), names)) == [("label-count", TL)]
    french = info.LabelFileMd("labels_fr.txt", "fr", labels=labels(3))
    assert problems(populated(info.LabelFileMd(labels=labels(5)), french)) == []
    same = info.LabelFileMd("labels_en.txt", "en", labels=labels(5))
    assert problems(populated(info.LabelFileMd(labels=labels(5)), same)) == []


def test_the_image_classifier_keeps_counting_its_labels() -> None:
    """The class count is the task's: a classifier's labels still count."""
    from tflite_metadata.metadata_writers import image_classifier as compat_image

    metadata_writer = compat_image.MetadataWriter.create_for_inference(
        build(input_type="uint8"), None, None, [info.LabelFileMd(labels=labels(2))]
    )
    assert [p.code for p in check(populate_quietly(metadata_writer))] == ["label-count"]


def test_recognizes() -> None:
    segmenter = load_task("image-segmenter")
    metadata = codec.decode(_metadata())
    assert segmenter.recognizes(metadata)
    assert infer_task(metadata) is segmenter
    assert infer_task(codec.decode(_metadata(outputs=2))) is segmenter
    assert not load_task("image-classifier").recognizes(metadata)
    # An image classifier is not a segmenter.
    classifier = fb.ModelMetadataT()
    subgraph = fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [info.InputImageTensorMd("image").create_metadata()]
    subgraph.outputTensorMetadata = [info.ClassificationTensorMd("p").create_metadata()]
    classifier.subgraphMetadata = [subgraph]
    assert not segmenter.recognizes(classifier)
    assert infer_task(classifier) is load_task("image-classifier")
    # An RGB image output is not a mask.
    rgb = codec.decode(_metadata())
    rgb.subgraphMetadata[0].outputTensorMetadata[0].content.contentProperties.colorSpace = RGB
    assert not segmenter.recognizes(rgb)
    assert not segmenter.recognizes(fb.ModelMetadataT())


# -- the command line ---------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_write_show_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = Path(shared_path(f"{SEGMENTER_DATA}/deeplabv3.tflite"))
    labelmap = shared_path(f"{SEGMENTER_DATA}/labelmap.txt")
    out = tmp_path / "out.tflite"
    status, stdout, err = run(
        capsys, "write", "image-segmenter", model, "-o", out,
        "--mean", "127.5", "--std", "127.5", "--labels", labelmap,
    )  # fmt: skip
    assert status == 0, err
    assert stdout.startswith(f"wrote {out} (") and stdout.endswith(", with labelmap.txt\n")
    # Byte for byte what the Python API writes.
    expected = compat_segmenter.MetadataWriter.create_for_inference(
        model.read_bytes(), [127.5], [127.5], [labelmap]
    ).populate()
    assert out.read_bytes() == expected
    status, stdout, _ = run(capsys, "show", out)
    assert status == 0
    lines = stdout.splitlines()
    assert lines[0] == "model: ImageSegmenter"
    assert (
        "output 0: segmentation_masks (tensor 'ResizeBilinear_3', FLOAT32 [1, 257, 257, 21]): "
        "21 masks of 257x257 (GRAYSCALE images over dimensions 1 to 2)"
    ) in lines
    assert stdout.count("dimensions 1 to 2") == 1  # the range once, with the masks
    assert "  labels labelmap.txt: 21 labels: background, aeroplane, bicycle, bird, boat, ..." in (
        lines
    )
    status, stdout, _ = run(capsys, "check", out)
    assert (status, stdout) == (0, f"{out}: no problems found (Task Library, MediaPipe)\n")
    status, stdout, _ = run(capsys, "show", "--json", out)
    from tflite_metadata.metadata import MetadataDisplayer

    assert stdout == MetadataDisplayer.with_model_file(out).get_metadata_json()


def test_cli_spec_and_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build_outputs(2))
    (tmp_path / "labels.txt").write_text("a\nb\n")
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "name": "Selfie",
                "input": {"mean": [127.5], "std": [127.5]},
                "output": {
                    "name": "masks",
                    "labels": ["labels.txt", {"name": "labels_en.txt", "locale": "en",
                                              "labels": ["A", "B"]}],
                },
            }
        )
    )  # fmt: skip
    out = tmp_path / "out.tflite"
    # Two outputs: the Task Library refuses it, MediaPipe takes it; written with --no-check.
    status, _, err = run(
        capsys, "write", "image-segmenter", model, "-o", out, "--spec", spec, "--no-check"
    )
    assert status == 0, err
    assert "[output-count]" in err
    status, stdout, _ = run(capsys, "show", out)
    assert "output 0: quality score (tensor 'scores_0', FLOAT32 [1, 1])" in stdout
    assert "output 1: masks (tensor 'scores_1', FLOAT32 [1, 5])" in stdout
    assert "  labels labels_en.txt (en): 2 labels: A, B" in stdout
    # Options override the spec; --masks-tensor picks the masks.
    status, _, err = run(
        capsys, "write", "image-segmenter", model, "-o", out, "--spec", spec, "--no-check",
        "--masks-tensor", "scores_0", "--output-name", "the masks",
    )  # fmt: skip
    assert status == 0, err
    status, stdout, _ = run(capsys, "show", out)
    assert "output 0: the masks (tensor 'scores_0', FLOAT32 [1, 1])" in stdout
    status, _, err = run(
        capsys, "write", "image-segmenter", model, "-o", out, "--spec", spec,
        "--labels", tmp_path / "labels.txt",
    )  # fmt: skip
    assert status == 2 and "given twice" in err
    status, _, err = run(capsys, "write", "image-segmenter", model, "-o", out, "--locale", "en")
    assert status == 2 and "--locale gives the locale of the --labels before it" in err
    spec.write_text(json.dumps({"outputs": []}))
    status, _, err = run(capsys, "write", "image-segmenter", model, "-o", out, "--spec", spec)
    assert status == 1 and "unknown key 'outputs'" in err


# -- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-1e999"])
@pytest.mark.parametrize("which", ["mean", "std"])
def test_normalization_not_finite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, which: str, value: str
) -> None:
    """NaN and infinities, from Python, options and a spec: a clear error, nothing written."""
    number = float(value)
    mean, std = ([number], [127.5]) if which == "mean" else ([127.5], [number])
    with pytest.raises(MetadataValidationError, match=f"norm_{which}\\[0\\] should be a finite"):
        compat_segmenter.MetadataWriter.create_for_inference(build(), mean, std, [])
    model = tmp_path / "model.tflite"
    model.write_bytes(build())
    out = tmp_path / "out.tflite"
    options = ["--mean", "127.5", "--std", "127.5"]
    options[1 if which == "mean" else 3] = value
    status, _, err = run(capsys, "write", "image-segmenter", model, "-o", out, *options)
    assert status in (1, 2) and "internal error" not in err and err.count("\n") == 1
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"input": {"mean": mean, "std": std}}))
    status, _, err = run(capsys, "write", "image-segmenter", model, "-o", out, "--spec", spec)
    assert status in (1, 2) and "finite" in err and "internal error" not in err
    assert not out.exists()


def test_junk_and_hostile_label_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tflite_metadata.errors import AssociatedFileError

    model = tmp_path / "model.tflite"
    model.write_bytes(build(input_type="uint8"))
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(AssociatedFileError, match="is not valid UTF-8"):
        compat_segmenter.MetadataWriter.create_for_inference(
            model.read_bytes(), None, None, [junk]
        ).populate()
    out = tmp_path / "out.tflite"
    status, _, err = run(capsys, "write", "image-segmenter", model, "-o", out, "--labels", junk)
    assert status == 1 and "not valid UTF-8" in err and not out.exists()
    # A label that would rewrite the terminal is shown escaped.
    hostile = info.LabelFileMd(labels=["\x1b[31mred", "\u202eevil"])
    out.write_bytes(
        populate_quietly(
            compat_segmenter.MetadataWriter.create_for_inference(
                model.read_bytes(), None, None, [hostile]
            )
        )
    )
    status, stdout, _ = run(capsys, "show", out)
    assert status == 0 and "\x1b" not in stdout and "\u202e" not in stdout
    assert "\\x1b[31mred, \\u202eevil" in stdout


def test_a_model_of_three_outputs_on_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build_outputs(3))
    out = tmp_path / "out.tflite"
    status, _, err = run(capsys, "write", "image-segmenter", model, "-o", out, "--no-check")
    assert status == 1 and "has 3 outputs ('scores_0', 'scores_1', 'scores_2')" in err
    assert not out.exists()
