"""Tests of the image classifier task (tflite_metadata.tasks.image_classifier).

* the writer and ``InputImageTensorMd``: behaviour, errors, and what tflite-support
  got wrong (a std of 0, NaN, the caller's objects modified);
* golden: tflite-support's expected JSON for MobileNet v2 (/work/shared/testdata,
  read in place; skipped when absent);
* differential: for a few hundred random cases (normalization, channel counts, tensor
  types, labels with locales, calibration), tflite-support 0.4.4 and ours, run by the
  same code, give identical metadata buffers and ``get_metadata_json()``;
* the consumer rules of ``check``, on crafted tensors and metadata (the rules' table
  is measured in tests/test_image_consumers.py) and on populated models;
* the command line: ``write image-classifier``, ``show``, ``check``.
"""

from __future__ import annotations

import functools
import json
import math
import os
import warnings
from collections.abc import Sequence
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
from tflite_metadata.errors import (
    ConsumerCompatibilityWarning,
    MetadataError,
    MetadataValidationError,
)
from tflite_metadata.format import codec
from tflite_metadata.metadata_writers import image_classifier as compat_image
from tflite_metadata.metadata_writers import metadata_info as info
from tflite_metadata.metadata_writers import writer_utils as compat_utils
from tflite_metadata.tasks import image_classifier, load_task, writer_utils
from tflite_metadata.tasks.rules import Checker, ModelFacts, Tensor

IMAGE_DATA = "tflite-support/image_classifier"
BOTH = (TASK_LIBRARY, MEDIAPIPE)
LOG = fb.ScoreTransformationType.LOG
RGB = fb.ColorSpaceType.RGB
GRAYSCALE = fb.ColorSpaceType.GRAYSCALE
UINT8, FLOAT32, INT8, BOOL, FLOAT16 = 3, 0, 9, 6, 1
CLASSES = 5


# -- helpers ----------------------------------------------------------------------------------


def reference() -> Any:
    """tflite-support 0.4.4's writer modules; skip without them, fail under CI."""
    try:
        from tflite_support import metadata_schema_py_generated as ref_fb
        from tflite_support.metadata_writers import image_classifier as ref_image
        from tflite_support.metadata_writers import metadata_info, writer_utils
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")

    class Reference:
        fb = ref_fb
        info = metadata_info
        image = ref_image
        utils = writer_utils

    return Reference


class Ours:
    """Our modules under tflite-support's names, for code written once for both."""

    fb = fb
    info = info
    image = compat_image
    utils = compat_utils


@functools.cache
def build(**kwargs: Any) -> bytes:
    """An image classifier without metadata from the project's model builder."""
    from tflite_metadata import _model_builder as builder

    kwargs.setdefault("height", 4)
    kwargs.setdefault("width", 4)
    kwargs.setdefault("classes", CLASSES)
    return bytes(builder.build_image_classifier(**kwargs))


def build_two_heads(heads: tuple[int, ...] = (3, 4), output_type: str = "float32") -> bytes:
    from tflite_metadata import _model_builder as builder

    return bytes(
        builder.build_audio_classifier(
            input_shape=[1, 4, 4, 3], heads=heads, output_type=output_type, input_name="image"
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


def input_metadata(metadata_writer: Any) -> Any:
    return decoded(metadata_writer).subgraphMetadata[0].inputTensorMetadata[0]


# -- the drop-in modules ------------------------------------------------------------------------


def test_compat_module_reexports_the_writer_and_constants() -> None:
    assert compat_image.MetadataWriter is image_classifier.ImageClassifierWriter
    assert info.InputImageTensorMd is image_classifier.InputImageTensorMd
    assert compat_image.MODEL_DESCRIPTION == (
        "Identify the most prominent object in the image from a known set of categories."
    )
    assert compat_image.INPUT_NAME == "image"
    assert compat_image.INPUT_DESCRIPTION == "Input image to be classified."
    assert compat_image.OUTPUT_NAME == "probability"
    assert compat_image.OUTPUT_DESCRIPTION == "Probabilities of the labels respectively."
    import tflite_metadata.metadata_writers as package

    assert package.image_classifier is compat_image
    assert "image_classifier" in package.__all__
    assert "InputImageTensorMd" in info.__all__


@pytest.mark.reference
def test_constants_are_tflite_supports() -> None:
    ref = reference()
    for name in compat_image.__all__:
        if name != "MetadataWriter":
            assert getattr(compat_image, name) == getattr(ref.image, name), name


def test_the_task_is_registered() -> None:
    task = load_task("image-classifier")
    assert task.writer is image_classifier.ImageClassifierWriter
    assert task.requires_metadata is False
    assert load_task("audio-classifier").requires_metadata is True


# -- InputImageTensorMd -------------------------------------------------------------------------


def test_input_image_tensor_md_defaults() -> None:
    md = info.InputImageTensorMd()
    assert (md.name, md.description, md.norm_mean, md.norm_std) == (None, None, None, None)
    assert md.color_space_type == fb.ColorSpaceType.UNKNOWN
    assert md.min_values is None and md.max_values is None
    metadata = md.create_metadata()
    assert metadata.content.contentPropertiesType == fb.ContentProperties.ImageProperties
    assert metadata.content.contentProperties.colorSpace == fb.ColorSpaceType.UNKNOWN
    assert metadata.processUnits is None
    assert metadata.stats.min is None and metadata.stats.max is None


@pytest.mark.parametrize(
    ("tensor_type", "mean", "std", "low", "high"),
    [
        (UINT8, [127.5], [127.5], [0], [255]),
        (UINT8, None, None, [0], [255]),
        (FLOAT32, [127.5], [127.5], [-1.0], [1.0]),
        (FLOAT32, [0, 127.5, 255], [255, 127.5, 1], [0.0, -1.0, -255.0], [1.0, 1.0, 0.0]),
        (FLOAT32, [127.5], None, None, None),
        (FLOAT32, [], [], None, None),
        (FLOAT32, [10.0], [-2.0], [5.0], [-122.5]),  # a negative std: min above max, as theirs
        (INT8, [127.5], [127.5], None, None),
        (None, [127.5], [127.5], None, None),
        (True, [127.5], [127.5], None, None),  # a bool is not a tensor type
    ],
)
def test_input_image_tensor_md_stats(
    tensor_type: Any, mean: Any, std: Any, low: Any, high: Any
) -> None:
    md = info.InputImageTensorMd(norm_mean=mean, norm_std=std, tensor_type=tensor_type)
    assert md.min_values == low
    assert md.max_values == high


def test_input_image_tensor_md_normalization_needs_mean_and_std() -> None:
    both = info.InputImageTensorMd(norm_mean=[1, 2, 3], norm_std=[4, 5, 6], color_space_type=RGB)
    metadata = both.create_metadata()
    (unit,) = metadata.processUnits
    assert unit.optionsType == fb.ProcessUnitOptions.NormalizationOptions
    assert (unit.options.mean, unit.options.std) == ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert metadata.content.contentProperties.colorSpace == RGB
    for mean, std in (([1.0], None), (None, [1.0]), ([], [1.0]), ([1.0], [])):
        md = info.InputImageTensorMd(norm_mean=mean, norm_std=std)
        assert md.create_metadata().processUnits is None


def test_input_image_tensor_md_copies_the_callers_lists() -> None:
    mean, std = [127.5], [127.5]
    md = info.InputImageTensorMd(norm_mean=mean, norm_std=std, tensor_type=FLOAT32)
    mean.append(1.0)
    std[0] = 0.0
    assert (md.norm_mean, md.norm_std) == ([127.5], [127.5])
    unit = md.create_metadata().processUnits[0]
    assert (unit.options.mean, unit.options.std) == ([127.5], [127.5])
    assert (mean, std) == ([127.5, 1.0], [0.0])


def test_input_image_tensor_md_takes_tuples_and_other_iterables() -> None:
    import array

    md = info.InputImageTensorMd(
        norm_mean=(127.5,), norm_std=array.array("d", [127.5]), tensor_type=FLOAT32
    )
    assert (md.norm_mean, md.norm_std, md.min_values) == ([127.5], [127.5], [-1.0])


def test_length_mismatch_is_tflite_supports_message() -> None:
    with pytest.raises(MetadataValidationError) as error:
        info.InputImageTensorMd(norm_mean=[1.0, 2.0, 3.0], norm_std=[1.0])
    assert str(error.value) == (
        "norm_mean and norm_std are expected to be the same dim. But got 3 and 1"
    )


@pytest.mark.parametrize("tensor_type", [FLOAT32, UINT8, None])
@pytest.mark.parametrize("std", [[0.0], [0], [-0.0], [1.0, 0.0, 1.0], [1e-46]])
def test_a_std_of_zero_is_an_error(tensor_type: Any, std: list[float]) -> None:
    mean = [127.5] * len(std)
    with pytest.raises(MetadataValidationError, match=r"norm_std\[\d\] is 0") as error:
        info.InputImageTensorMd(norm_mean=mean, norm_std=std, tensor_type=tensor_type)
    assert "divides by zero" in str(error.value)
    if std == [1e-46]:
        assert "0 as a float32" in str(error.value)


@pytest.mark.parametrize(
    ("argument", "value", "fragment"),
    [
        ("norm_mean", [float("nan")], "norm_mean[0] should be a finite number, but got nan"),
        ("norm_std", [1.0, float("inf")], "norm_std[1] should be a finite number, but got inf"),
        ("norm_mean", [-float("inf")], "should be a finite number"),
        ("norm_mean", [10**400], "should be a finite number"),
        ("norm_std", [1e39], "norm_std[0] is 1e+39, beyond the range of a float32"),
        ("norm_mean", ["127.5"], "norm_mean[0] should be a number, but got '127.5' (str)"),
        ("norm_std", [True], "norm_std[0] should be a number, but got True (bool)"),
        ("norm_mean", [None], "should be a number, but got None"),
        ("norm_mean", 127.5, "got the single number 127.5; wrap it in a list"),
        ("norm_std", "127.5", "should be a list of numbers"),
        ("norm_std", {"r": 1.0}, "should be a list of numbers"),
    ],
)
def test_invalid_normalization_values(argument: str, value: Any, fragment: str) -> None:
    kwargs: dict[str, Any] = {"norm_mean": [127.5], "norm_std": [127.5], argument: value}
    with pytest.raises(MetadataValidationError) as error:
        info.InputImageTensorMd(tensor_type=FLOAT32, **kwargs)
    assert fragment in str(error.value)


def test_stats_beyond_float32_are_an_error() -> None:
    # 1e-40 is a float32 (a denormal), but 255 / 1e-40 is not.
    with pytest.raises(MetadataValidationError, match=r"stats .* beyond the range of a float32"):
        info.InputImageTensorMd(norm_mean=[0.0], norm_std=[1e-40], tensor_type=FLOAT32)
    # Without stats (UINT8), the same values are stored as they are.
    md = info.InputImageTensorMd(norm_mean=[0.0], norm_std=[1e-40], tensor_type=UINT8)
    assert md.create_metadata().processUnits[0].options.std == [1e-40]


@pytest.mark.parametrize("value", [3, -1, None, "RGB", 1.0, True])
def test_invalid_color_space(value: Any) -> None:
    with pytest.raises(MetadataValidationError, match="color_space_type should be one of"):
        info.InputImageTensorMd(color_space_type=value)


def test_create_metadata_checks_attributes_set_afterwards() -> None:
    md = info.InputImageTensorMd(norm_mean=[127.5], norm_std=[127.5])
    md.norm_std = [0.0]
    with pytest.raises(MetadataValidationError, match="is 0"):
        md.create_metadata()
    md.norm_std = [127.5]
    md.color_space_type = 7
    with pytest.raises(MetadataValidationError, match="color_space_type"):
        md.create_metadata()


@pytest.mark.reference
def test_reference_length_mismatch_message() -> None:
    ref = reference()
    with pytest.raises(ValueError) as theirs:
        ref.info.InputImageTensorMd(norm_mean=[1.0, 2.0], norm_std=[1.0])
    with pytest.raises(MetadataValidationError) as ours:
        info.InputImageTensorMd(norm_mean=[1.0, 2.0], norm_std=[1.0])
    assert str(ours.value) == str(theirs.value)


@pytest.mark.reference
def test_reference_divides_by_zero_where_we_refuse() -> None:
    """What the differences are: tflite-support divides by zero, or writes a std of 0."""
    ref = reference()
    with pytest.raises(ZeroDivisionError):
        ref.info.InputImageTensorMd(norm_mean=[127.5], norm_std=[0.0], tensor_type=FLOAT32)
    ref.info.InputImageTensorMd(norm_mean=[127.5], norm_std=[0.0], tensor_type=UINT8)
    ref.info.InputImageTensorMd(norm_mean=[float("nan")], norm_std=[1.0], tensor_type=FLOAT32)
    for tensor_type in (FLOAT32, UINT8):
        with pytest.raises(MetadataValidationError):
            info.InputImageTensorMd(norm_mean=[127.5], norm_std=[0.0], tensor_type=tensor_type)
    with pytest.raises(MetadataValidationError):
        info.InputImageTensorMd(norm_mean=[float("nan")], norm_std=[1.0], tensor_type=FLOAT32)


# -- the writer ---------------------------------------------------------------------------------


def test_create_for_inference_float32() -> None:
    model = build()
    metadata_writer = compat_image.MetadataWriter.create_for_inference(
        model, [127.5], [127.5], [info.LabelFileMd(labels=labels())]
    )
    metadata = decoded(metadata_writer)
    assert metadata.name == b"ImageClassifier"
    assert metadata.description == compat_image.MODEL_DESCRIPTION.encode()
    image = metadata.subgraphMetadata[0].inputTensorMetadata[0]
    assert (image.name, image.description) == (b"image", b"Input image to be classified.")
    assert image.content.contentProperties.colorSpace == RGB
    assert (image.stats.min, image.stats.max) == ([-1.0], [1.0])
    assert image.processUnits[0].options.mean == [127.5]
    output = metadata.subgraphMetadata[0].outputTensorMetadata[0]
    assert output.name == b"probability"
    assert (output.stats.min, output.stats.max) == ([0.0], [1.0])
    assert [f.name for f in output.associatedFiles] == [b"labels.txt"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConsumerCompatibilityWarning)
        populated = metadata_writer.populate()
    assert check(populated) == []
    assert infer_task(codec.decode(_metadata_of(populated))) is load_task("image-classifier")


def _metadata_of(model: bytes) -> bytes:
    from tflite_metadata.model.reader import ModelView

    buffer = ModelView(model).metadata_buffer()
    assert buffer is not None
    return bytes(buffer)


def test_create_for_inference_uint8_with_calibration_and_locales() -> None:
    model = build(input_type="uint8", output_type="uint8")
    calibration = info.ScoreCalibrationMd(LOG, 0.2, parameters=[[1.0, 2.0, 0.5]] * CLASSES)
    metadata_writer = compat_image.MetadataWriter.create_for_inference(
        model,
        [127.5, 127.5, 127.5],
        [127.5, 127.5, 127.5],
        [
            info.LabelFileMd(labels=labels()),
            info.LabelFileMd("labels_fr.txt", "fr", labels=[f"classe {i}" for i in range(5)]),
        ],
        calibration,
    )
    image = input_metadata(metadata_writer)
    assert (image.stats.min, image.stats.max) == ([0.0], [255.0])
    output = decoded(metadata_writer).subgraphMetadata[0].outputTensorMetadata[0]
    assert (output.stats.min, output.stats.max) == ([0.0], [255.0])
    assert [f.name for f in output.associatedFiles] == [
        b"labels.txt",
        b"labels_fr.txt",
        b"score_calibration.txt",
    ]
    assert output.processUnits[0].options.scoreTransformation == LOG
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConsumerCompatibilityWarning)
        assert check(metadata_writer.populate()) == []


def test_create_for_inference_reads_paths(tmp_path: Path) -> None:
    label_file = tmp_path / "my_labels.txt"
    label_file.write_text("".join(f"{label}\n" for label in labels()))
    metadata_writer = compat_image.MetadataWriter.create_for_inference(
        build(), [0.0], [255.0], [label_file]
    )
    populated = metadata_writer.populate()
    from tflite_metadata.metadata import MetadataDisplayer

    displayer = MetadataDisplayer.with_model_buffer(populated)
    assert displayer.get_associated_file_buffer("my_labels.txt") == label_file.read_bytes()
    assert input_metadata(metadata_writer).stats.max == [1.0]


def test_create_for_inference_takes_a_model_path(tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(build())
    from_path = compat_image.MetadataWriter.create_for_inference(path, [127.5], [127.5], [])
    from_bytes = compat_image.MetadataWriter.create_for_inference(build(), [127.5], [127.5], [])
    assert from_path.get_metadata_json() == from_bytes.get_metadata_json()


def test_create_for_inference_errors() -> None:
    with pytest.raises(MetadataValidationError, match="single path; wrap it in a list"):
        compat_image.MetadataWriter.create_for_inference(build(), [1.0], [1.0], "labels.txt")
    with pytest.raises(MetadataValidationError, match="norm_std"):
        compat_image.MetadataWriter.create_for_inference(build(), [1.0], [0.0], [])
    with pytest.raises(MetadataError):
        compat_image.MetadataWriter.create_for_inference(b"\x00" * 64, [1.0], [1.0], [])
    with pytest.raises(MetadataValidationError, match="cannot be empty"):
        compat_image.MetadataWriter.create_for_inference(b"", [1.0], [1.0], [])


def test_a_float_model_without_normalization_is_written_with_a_warning() -> None:
    metadata_writer = compat_image.MetadataWriter.create_for_inference(
        build(), None, None, [info.LabelFileMd(labels=labels())]
    )
    assert input_metadata(metadata_writer).processUnits is None
    with pytest.warns(
        ConsumerCompatibilityWarning, match=r"NormalizationOptions.*\[normalization\]"
    ):
        metadata_writer.populate()


def test_create_from_metadata_info_defaults() -> None:
    metadata_writer = compat_image.MetadataWriter.create_from_metadata_info(build())
    metadata = decoded(metadata_writer)
    image = metadata.subgraphMetadata[0].inputTensorMetadata[0]
    assert image.content.contentProperties.colorSpace == RGB
    assert image.processUnits is None
    assert (image.stats.min, image.stats.max) == (None, None)
    output = metadata.subgraphMetadata[0].outputTensorMetadata[0]
    assert (output.name, output.description) == (
        b"probability",
        compat_image.OUTPUT_DESCRIPTION.encode(),
    )
    assert output.associatedFiles is None


def test_create_from_metadata_info_keeps_the_callers_objects() -> None:
    """tflite-support set ``output_md.associated_files = []`` when it was None."""
    output_md = info.ClassificationTensorMd(name="scores")
    output_md.associated_files = None
    label_list = [info.LabelFileMd(labels=labels())]
    calibration = info.ScoreCalibrationMd(LOG, 0.2, parameters=[[1.0, 2.0, 0.5]] * CLASSES)
    with_files = info.ClassificationTensorMd(
        label_files=label_list, tensor_type=FLOAT32, score_calibration_md=calibration
    )
    input_md = info.InputImageTensorMd(norm_mean=[127.5], norm_std=[127.5])
    compat_image.MetadataWriter.create_from_metadata_info(build(), None, input_md, output_md)
    assert output_md.associated_files is None
    compat_image.MetadataWriter.create_from_metadata_info(build(), None, input_md, with_files)
    assert len(label_list) == 1
    assert input_md.name is None and input_md.norm_mean == [127.5]


@pytest.mark.reference
def test_reference_modifies_where_we_do_not() -> None:
    ref = reference()
    for m, modified in ((ref, True), (Ours, False)):
        output_md = m.info.ClassificationTensorMd(name="scores")
        output_md.associated_files = None
        m.image.MetadataWriter.create_from_metadata_info(build(), output_md=output_md)
        assert (output_md.associated_files == []) is modified


def test_multihead() -> None:
    model = build_two_heads()
    names = writer_utils.get_output_tensor_names(model)
    heads = [
        info.ClassificationTensorMd(
            f"head {i}",
            label_files=[info.LabelFileMd(f"labels_{i}.txt", labels=labels(classes))],
            tensor_type=FLOAT32,
            tensor_name=name,
        )
        for i, (name, classes) in enumerate(zip(names, (3, 4)))
    ]
    input_md = info.InputImageTensorMd(
        norm_mean=[127.5], norm_std=[127.5], color_space_type=RGB, tensor_type=FLOAT32
    )
    metadata_writer = (
        image_classifier.ImageClassifierWriter.create_from_metadata_info_for_multihead(
            model, None, input_md, list(reversed(heads))
        )
    )
    outputs = decoded(metadata_writer).subgraphMetadata[0].outputTensorMetadata
    assert [o.name for o in outputs] == [b"head 0", b"head 1"]
    populated = populate_quietly(metadata_writer)
    # Two outputs: not inferred as an image classifier, but the writer's task checks it.
    assert infer_task(codec.decode(_metadata_of(populated))) is None
    assert check(populated, task="image-classifier") == []
    default = image_classifier.ImageClassifierWriter.create_from_metadata_info_for_multihead(model)
    default_outputs = decoded(default).subgraphMetadata[0].outputTensorMetadata
    assert [o.name.decode() for o in default_outputs] == names


# -- golden: tflite-support's expected JSON ------------------------------------------------------


def _golden_writer(m: Any) -> Any:
    model = read_testdata(f"{IMAGE_DATA}/mobilenet_v2_1.0_224_quant.tflite")
    calibration = m.info.ScoreCalibrationMd(
        LOG, 0.2, shared_path(f"{IMAGE_DATA}/score_calibration.txt")
    )
    return m.image.MetadataWriter.create_for_inference(
        model, [127.5], [127.5], [shared_path(f"{IMAGE_DATA}/labels.txt")], calibration
    )


def test_golden_create_for_inference() -> None:
    expected = read_testdata(f"{IMAGE_DATA}/mobilenet_v2_1.0_224_quant.json").decode()
    assert _golden_writer(Ours).get_metadata_json() == expected


def test_golden_float_model() -> None:
    """The float MobileNet is not carried; its metadata depends only on its tensor types."""
    expected = read_testdata(f"{IMAGE_DATA}/mobilenet_v2_1.0_224.json").decode()
    calibration = info.ScoreCalibrationMd(
        LOG, 0.2, shared_path(f"{IMAGE_DATA}/score_calibration.txt")
    )
    metadata_writer = compat_image.MetadataWriter.create_for_inference(
        build(height=2, width=2, classes=1001),
        [127.5],
        [127.5],
        [shared_path(f"{IMAGE_DATA}/labels.txt")],
        calibration,
    )
    assert metadata_writer.get_metadata_json() == expected


def test_golden_default() -> None:
    model = read_testdata(f"{IMAGE_DATA}/mobilenet_v2_1.0_224_quant.tflite")
    expected = read_testdata(f"{IMAGE_DATA}/mobilenet_v2_1.0_224_default.json").decode()
    metadata_writer = compat_image.MetadataWriter.create_from_metadata_info(model)
    assert metadata_writer.get_metadata_json() == expected


def test_golden_model_checks_its_calibration() -> None:
    """The shared calibration file has 511 rows for 1001 classes: populate warns, check says so."""
    with pytest.warns(ConsumerCompatibilityWarning, match="511 entries for 1001 classes"):
        populated = _golden_writer(Ours).populate()
    assert codes(check(populated)) == ["calibration-count"]


@pytest.mark.reference
def test_reference_golden_buffers() -> None:
    ref = reference()
    ours, theirs = _golden_writer(Ours), _golden_writer(ref)
    assert bytes(ours._metadata_buffer) == bytes(theirs._metadata_buffer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        assert ours.get_populated_metadata_json() == theirs.get_populated_metadata_json()


# -- differential: random cases against tflite-support 0.4.4 -------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_OPTIONAL_TEXT = st.none() | _TEXT
_MEAN = st.integers(-300, 300) | st.floats(-1e4, 1e4, allow_nan=False)
_STD = (
    st.integers(1, 300)
    | st.integers(-300, -1)
    | st.floats(1e-3, 1e4, allow_nan=False)
    | st.floats(-1e4, -1e-3, allow_nan=False)
)
_LOCALES = st.sampled_from([None, "en", "fr", "zh-Hans", "pt_BR", "de-CH", "ja"])
_CALIBRATION_ROW = st.none() | st.lists(
    st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=3
).flatmap(lambda rest: st.floats(0, 1e3).map(lambda scale: [scale, *rest]))


@st.composite
def _cases(draw: Any) -> dict[str, Any]:
    channels = draw(st.integers(1, 4))
    length = draw(st.sampled_from([1, 1, 3, 3, channels, 2, 4]))
    # How the normalization is given: mostly both, as many values of each.
    normalization = draw(
        st.sampled_from(
            ["both"] * 4
            + ["mismatch", "mean only", "std only", "neither", "empty", "empty mean", "empty std"]
        )
    )
    std_length = length
    if normalization == "mismatch":
        std_length = draw(st.integers(1, 4).filter(lambda n: n != length))
    mean = draw(st.lists(_MEAN, min_size=length, max_size=length))
    std = draw(st.lists(_STD, min_size=std_length, max_size=std_length))
    if normalization in ("std only", "neither"):
        mean = None
    if normalization in ("mean only", "neither"):
        std = None
    if normalization in ("empty", "empty mean"):
        mean = []
    if normalization in ("empty", "empty std"):
        std = []
    classes = draw(st.integers(1, 12))
    return {
        "model": {
            "height": draw(st.integers(1, 6)),
            "width": draw(st.integers(1, 6)),
            "channels": channels,
            "classes": classes,
            "input_type": draw(
                st.sampled_from(["uint8", "float32", "uint8", "float32", "int8", "int16"])
            ),
            "output_type": draw(st.sampled_from(["uint8", "float32", "int8", "int16"])),
        },
        "path": draw(st.sampled_from(["inference", "inference", "info", "info", "default"])),
        "normalization": normalization,
        "mean": mean,
        "std": std,
        "color_space": draw(st.sampled_from([0, 1, 2])),
        "input_type_given": draw(st.sampled_from(["model", "model", "none", "uint8", "float32"])),
        "general": draw(st.none() | st.tuples(*[_OPTIONAL_TEXT] * 5)),
        "names": draw(st.tuples(_OPTIONAL_TEXT, _OPTIONAL_TEXT, _OPTIONAL_TEXT, _OPTIONAL_TEXT)),
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
                st.lists(_CALIBRATION_ROW, min_size=1, max_size=classes + 1),
            )
        ),
        "output_md": draw(st.booleans()),
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
    if case["path"] == "default":
        return m.image.MetadataWriter.create_from_metadata_info(model)
    if case["path"] == "inference":
        return m.image.MetadataWriter.create_for_inference(
            model, case["mean"], case["std"], [path for path, _ in label_files], calibration
        )
    given = case["input_type_given"]
    input_type = {
        "model": m.utils.get_input_tensor_types(model)[0],
        "none": None,
        "uint8": UINT8,
        "float32": FLOAT32,
    }[given]
    general = None if case["general"] is None else m.info.GeneralMd(*case["general"])
    input_name, input_description, output_name, output_description = case["names"]
    input_md = m.info.InputImageTensorMd(
        input_name, input_description, case["mean"], case["std"], case["color_space"], input_type
    )
    output_md = None
    if case["output_md"]:
        output_md = m.info.ClassificationTensorMd(
            output_name,
            output_description,
            [m.info.LabelFileMd(path, locale) for path, locale in label_files],
            m.utils.get_output_tensor_types(model)[0],
            calibration,
        )
    return m.image.MetadataWriter.create_from_metadata_info(model, general, input_md, output_md)


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
    if case["normalization"] == "mismatch" and case["path"] != "default":
        assert ours[0] == "error" and "expected to be the same dim" in ours[1]


def test_the_random_cases_reach_what_they_should() -> None:
    """The differential test's strategy covers the cases the brief names (it can fail)."""
    seen: dict[str, set[Any]] = {k: set() for k in ("path", "input", "output", "channels")}
    lengths = set()
    calibrated = localized = 0
    normalizations: set[str] = set()

    @settings(max_examples=250, derandomize=True, deadline=None, database=None)
    @given(case=_cases())
    def collect(case: dict[str, Any]) -> None:
        nonlocal calibrated, localized
        normalizations.add(case["normalization"])
        seen["path"].add(case["path"])
        seen["input"].add(case["model"]["input_type"])
        seen["output"].add(case["model"]["output_type"])
        seen["channels"].add(case["model"]["channels"])
        if case["mean"] is not None:
            lengths.add(len(case["mean"]))
        calibrated += case["calibration"] is not None
        localized += any(locale for locale, _ in case["labels"])

    collect()
    assert seen["path"] == {"inference", "info", "default"}
    assert {"uint8", "float32", "int8", "int16"} <= seen["input"]
    assert seen["output"] == {"uint8", "float32", "int8", "int16"}
    assert seen["channels"] == {1, 2, 3, 4}
    assert {0, 1, 2, 3, 4} <= lengths
    assert normalizations == {
        "both",
        "mismatch",
        "mean only",
        "std only",
        "neither",
        "empty",
        "empty mean",
        "empty std",
    }
    assert calibrated > 50 and localized > 50


# -- check: crafted tensors and metadata --------------------------------------------------------


def _metadata(
    *,
    tensor_type: Optional[int] = FLOAT32,
    mean: Optional[Sequence[float]] = (127.5,),
    std: Optional[Sequence[float]] = (127.5,),
    color_space: int = RGB,
    outputs: int = 1,
    change: Optional[Callable[[Any], None]] = None,
) -> bytes:
    """Image classifier metadata (no files), after ``change(model_metadata)``."""
    image = info.InputImageTensorMd(
        "image",
        None,
        None if mean is None else list(mean),
        None if std is None else list(std),
        color_space,
        tensor_type,
    ).create_metadata()
    subgraph = fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = [
        info.ClassificationTensorMd(f"head {i}").create_metadata() for i in range(outputs)
    ]
    model_metadata = fb.ModelMetadataT()
    model_metadata.name = "test"
    model_metadata.subgraphMetadata = [subgraph]
    if change is not None:
        change(model_metadata)
    return bytes(codec.encode(model_metadata))


def _image(model_metadata: Any) -> Any:
    return model_metadata.subgraphMetadata[0].inputTensorMetadata[0]


def _normalization(model_metadata: Any) -> Any:
    return _image(model_metadata).processUnits[0].options


def check_facts(
    *,
    input_type: int = FLOAT32,
    shape: tuple[int, ...] = (1, 4, 4, 3),
    inputs: int = 1,
    outputs: Optional[list[tuple[int, tuple[int, ...]]]] = None,
    metadata: Optional[bytes] = None,
    subgraphs: int = 1,
    task: Optional[str] = "image-classifier",
) -> list[Problem]:
    """``check`` on a model that exists only as the facts the rules read."""
    if outputs is None:
        outputs = [(FLOAT32, (1, CLASSES))]
    facts = ModelFacts(
        subgraph_count=subgraphs,
        inputs=[Tensor(i, f"input_{i}", input_type, shape) for i in range(inputs)],
        outputs=[Tensor(i, f"scores_{i}", t, s) for i, (t, s) in enumerate(outputs)],
        metadata=metadata,
        zip_tail=None,
    )
    return check_module._run(Checker(facts), None if task is None else load_task(task))


def test_facts_well_formed() -> None:
    assert check_facts(metadata=_metadata()) == []
    assert check_facts(input_type=UINT8, metadata=_metadata(tensor_type=UINT8)) == []
    assert check_facts(input_type=UINT8, metadata=_metadata(mean=None, std=None)) == []
    assert check_facts(metadata=_metadata(), outputs=[(UINT8, (1, 1, 1, 5))]) == []
    # Inferred: the metadata describes an image classifier.
    assert check_facts(metadata=_metadata(), task=None) == []
    assert codes(check_facts(metadata=_metadata(color_space=GRAYSCALE), task=None)) == [
        "color-space"
    ]


def test_a_model_without_metadata() -> None:
    assert check_facts(input_type=UINT8) == []
    problems = check_facts(input_type=FLOAT32)
    assert codes(problems) == ["normalization"]
    assert problems[0].consumers == BOTH
    assert "FLOAT32 and the model has no metadata" in problems[0].message
    # Without a task, nothing says it is an image classifier: the common rule.
    assert codes(check_facts(input_type=UINT8, task=None)) == ["no-metadata"]


def test_metadata_without_subgraph_metadata() -> None:
    def no_subgraphs(model_metadata: Any) -> None:
        model_metadata.subgraphMetadata = None

    def empty_subgraphs(model_metadata: Any) -> None:
        model_metadata.subgraphMetadata = []

    assert check_facts(input_type=UINT8, metadata=_metadata(change=no_subgraphs)) == []
    assert codes(check_facts(input_type=FLOAT32, metadata=_metadata(change=no_subgraphs))) == [
        "normalization"
    ]
    # Present but empty: read out of bounds.
    assert codes(check_facts(input_type=UINT8, metadata=_metadata(change=empty_subgraphs))) == [
        "subgraph-metadata"
    ]
    # A malformed buffer is that, not a missing normalization.
    assert codes(check_facts(metadata=b"\x08\x00\x00\x00X001" + bytes(8))) == ["metadata-malformed"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"subgraphs": 2}, [("subgraph-count", (MEDIAPIPE,))]),
        ({"inputs": 2}, [("input-count", BOTH)]),
        ({"input_type": INT8}, [("input-type", BOTH)]),
        ({"input_type": FLOAT16}, [("input-type", BOTH)]),
        ({"shape": (1, 4, 3)}, [("input-shape", BOTH)]),
        ({"shape": (1, 1, 4, 4, 3)}, [("input-shape", BOTH)]),
        ({"shape": (2, 4, 4, 3)}, [("input-shape", BOTH)]),
        ({"shape": (1, 0, 4, 3)}, [("input-shape", BOTH)]),
        ({"shape": (1, 4, 0, 3)}, [("input-shape", BOTH)]),
        ({"shape": (1, 4, 4, 1)}, [("input-channels", BOTH)]),
        ({"shape": (1, 4, 4, 4)}, [("input-channels", BOTH)]),
        # 4x4x4 values are not a multiple of 3 normalization values (MediaPipe's check).
        (
            {"shape": (1, 4, 4, 4), "metadata": _metadata(mean=[1.0] * 3, std=[2.0] * 3)},
            [("input-channels", BOTH), ("normalization", BOTH)],
        ),
        ({"outputs": [(INT8, (1, 5))]}, [("output-type", BOTH)]),
        ({"outputs": [(BOOL, (1, 5))]}, [("output-type", (TASK_LIBRARY,))]),
        ({"outputs": [(FLOAT32, (5,))]}, [("output-shape", (TASK_LIBRARY,))]),
        ({"outputs": [(FLOAT32, (2, 5))]}, [("output-shape", (TASK_LIBRARY,))]),
        ({"outputs": [(FLOAT32, (1, 5, 1, 1))]}, [("output-shape", (TASK_LIBRARY,))]),
        (
            {"outputs": [(UINT8, (1, 5)), (FLOAT32, (1, 5))]},
            [("output-type", BOTH), ("output-count", BOTH)],
        ),
        (
            {"outputs": [(BOOL, (1, 5)), (FLOAT32, (1, 5))]},
            [
                ("output-type", (TASK_LIBRARY,)),
                ("output-type", (MEDIAPIPE,)),
                ("output-count", BOTH),
            ],
        ),
    ],
)
def test_model_rules(kwargs: dict[str, Any], expected: list[tuple[str, tuple[str, ...]]]) -> None:
    kwargs.setdefault("metadata", _metadata())
    problems = check_facts(**kwargs)
    assert [(p.code, p.consumers) for p in problems] == expected


def test_mixed_quantization_message() -> None:
    (problem,) = [
        p
        for p in check_facts(
            metadata=_metadata(outputs=2), outputs=[(UINT8, (1, 5)), (FLOAT32, (1, 5))]
        )
    ]
    assert problem.message == (
        "1 of 2 outputs are quantized; Task Library and MediaPipe need all or none of them "
        "quantized"
    )


def _set(path: str, value: Any) -> Callable[[Any], None]:
    """A change that sets ``path`` (``image.x.y`` or ``normalization.x``) to ``value``."""

    def change(model_metadata: Any) -> None:
        root, *attributes = path.split(".")
        target = _image(model_metadata) if root == "image" else _normalization(model_metadata)
        for attribute in attributes[:-1]:
            target = getattr(target, attribute)
        setattr(target, attributes[-1], value)

    return change


def _feature_properties(model_metadata: Any) -> None:
    content = _image(model_metadata).content
    content.contentPropertiesType = fb.ContentProperties.FeatureProperties
    content.contentProperties = fb.FeaturePropertiesT()


def _two_normalizations(model_metadata: Any) -> None:
    units = _image(model_metadata).processUnits
    units.append(units[0])


def _no_input_metadata(model_metadata: Any) -> None:
    model_metadata.subgraphMetadata[0].inputTensorMetadata = []


def _two_input_metadata(model_metadata: Any) -> None:
    inputs = model_metadata.subgraphMetadata[0].inputTensorMetadata
    inputs.append(inputs[0])


def _no_output_metadata(model_metadata: Any) -> None:
    model_metadata.subgraphMetadata[0].outputTensorMetadata = []


def _unnamed_output(model_metadata: Any) -> None:
    model_metadata.subgraphMetadata[0].outputTensorMetadata[0].name = None


def _no_options(model_metadata: Any) -> None:
    _image(model_metadata).processUnits[0].options = None


def _parser_version(version: str) -> Callable[[Any], None]:
    def change(model_metadata: Any) -> None:
        model_metadata.minParserVersion = version

    return change


@pytest.mark.parametrize(
    ("input_type", "metadata", "expected"),
    [
        # ImageProperties and its color space.
        (FLOAT32, _metadata(change=_feature_properties), [("image-properties", BOTH)]),
        (FLOAT32, _metadata(change=_set("image.content", None)), []),
        (FLOAT32, _metadata(change=_set("image.content.contentProperties", None)), []),
        (FLOAT32, _metadata(color_space=GRAYSCALE), [("color-space", BOTH)]),
        (UINT8, _metadata(color_space=fb.ColorSpaceType.UNKNOWN), [("color-space", BOTH)]),
        # How many input tensor metadata.
        (FLOAT32, _metadata(change=_no_input_metadata), [("input-count", BOTH)]),
        (FLOAT32, _metadata(change=_two_input_metadata), [("input-count", (TASK_LIBRARY,))]),
        # NormalizationOptions: needed for FLOAT32 only; checked whenever present.
        (FLOAT32, _metadata(mean=None, std=None), [("normalization", BOTH)]),
        (UINT8, _metadata(mean=None, std=None), []),
        (FLOAT32, _metadata(change=_two_normalizations), [("process-units", BOTH)]),
        (FLOAT32, _metadata(change=_set("normalization.mean", None)), [("normalization", BOTH)]),
        (UINT8, _metadata(change=_set("normalization.std", None)), [("normalization", BOTH)]),
        (UINT8, _metadata(change=_no_options), [("normalization", BOTH)]),
        (
            UINT8,
            _metadata(change=_set("normalization.std", [1.0, 2.0, 3.0])),
            [("normalization", BOTH)],
        ),
        (UINT8, _metadata(mean=[1.0, 2.0], std=[1.0, 2.0]), [("normalization", BOTH)]),
        (UINT8, _metadata(mean=[1.0] * 4, std=[1.0] * 4), [("normalization", BOTH)]),
        (FLOAT32, _metadata(change=_set("normalization.mean", [])), [("normalization", BOTH)]),
        (UINT8, _metadata(mean=[1.0, 2.0, 3.0], std=[4.0, 5.0, 6.0]), []),
        (FLOAT32, _metadata(mean=[127.5] * 3, std=[127.5] * 3), []),
        (
            FLOAT32,
            _metadata(mean=[123.7, 116.3, 103.5], std=[58.4, 57.1, 57.4]),
            [("normalization", (MEDIAPIPE,))],
        ),
        # A std of 0 (below FLT_EPSILON): MediaPipe at load, the Task Library at classify.
        (FLOAT32, _metadata(change=_set("normalization.std", [0.0])), [("normalization", BOTH)]),
        (FLOAT32, _metadata(change=_set("normalization.std", [1e-8])), [("normalization", BOTH)]),
        (FLOAT32, _metadata(change=_set("normalization.std", [1e-6])), []),
        (
            FLOAT32,
            _metadata(mean=[1.0] * 3, std=[1.0] * 3, change=_set("normalization.std", [1, 0, 1])),
            [("normalization", (MEDIAPIPE,)), ("normalization", (TASK_LIBRARY,))],
        ),
        (
            FLOAT32,
            _metadata(mean=[1.0] * 3, std=[1.0] * 3, change=_set("normalization.std", [0.0] * 3)),
            [("normalization", BOTH)],
        ),
        (UINT8, _metadata(change=_set("normalization.std", [0.0])), []),
        # Output metadata: as many as outputs; names are optional for images.
        (FLOAT32, _metadata(change=_no_output_metadata), [("output-count", BOTH)]),
        (FLOAT32, _metadata(outputs=2), [("output-count", BOTH)]),
        (FLOAT32, _metadata(change=_unnamed_output), []),
        # min_parser_version: MediaPipe parses up to 1.5.0.
        (FLOAT32, _metadata(change=_parser_version("99.0.0")), [("parser-version", (MEDIAPIPE,))]),
        (FLOAT32, _metadata(change=_parser_version("1.10")), [("parser-version", (MEDIAPIPE,))]),
        (FLOAT32, _metadata(change=_parser_version("1.5.0")), []),
        (FLOAT32, _metadata(change=_parser_version("1.4.1")), []),
    ],
)
def test_metadata_rules(
    input_type: int, metadata: bytes, expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    problems = check_facts(input_type=input_type, metadata=metadata)
    assert [(p.code, p.consumers) for p in problems] == expected


def test_problem_messages_say_what_was_found() -> None:
    def message(**kwargs: Any) -> str:
        (problem,) = check_facts(**kwargs)
        return str(problem)

    assert message(metadata=_metadata(color_space=fb.ColorSpaceType.UNKNOWN)) == (
        "input 0: ImageProperties has color space UNKNOWN (the schema's default, when none "
        "is set); the consumers take RGB images only"
    )
    assert message(metadata=_metadata(mean=[1.0, 2.0], std=[1.0, 2.0])) == (
        "input 0: NormalizationOptions has 2 mean and std values; expected 1 (for every "
        "channel) or 3 (one per RGB channel)"
    )
    assert "mean [123.7, 116.3, 103.5], std [58.4, 57.1, 57.4]" in message(
        metadata=_metadata(mean=[123.7, 116.3, 103.5], std=[58.4, 57.1, 57.4])
    )
    assert message(metadata=_metadata(), shape=(1, 4, 4, 1)) == (
        "input 0: shape [1, 4, 4, 1] has 1 channel; expected 3 (RGB)"
    )
    assert message(metadata=_metadata(), input_type=INT8) == (
        "input 0: tensor 'input_0' has type INT8; image classifiers need UINT8 or FLOAT32"
    )
    assert message(metadata=_metadata(change=_feature_properties)) == (
        "input 0: metadata has content properties FeatureProperties; expected "
        "ImageProperties (or none)"
    )


def test_recognizes() -> None:
    recognizes = load_task("image-classifier").recognizes
    assert recognizes(codec.decode(_metadata()))
    assert not recognizes(codec.decode(_metadata(outputs=2)))
    assert not recognizes(codec.decode(_metadata(change=_feature_properties)))
    assert not recognizes(codec.decode(_metadata(change=_no_input_metadata)))

    def image_output(model_metadata: Any) -> None:
        output = model_metadata.subgraphMetadata[0].outputTensorMetadata[0]
        output.content.contentPropertiesType = fb.ContentProperties.ImageProperties
        output.content.contentProperties = fb.ImagePropertiesT()

    assert not recognizes(codec.decode(_metadata(change=image_output)))
    bare = fb.ModelMetadataT()
    assert not recognizes(bare)
    # The audio task is still inferred for audio metadata.
    audio = fb.ModelMetadataT()
    subgraph = fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [info.InputAudioTensorMd("a", None, 16000, 1).create_metadata()]
    subgraph.outputTensorMetadata = [info.ClassificationTensorMd("p").create_metadata()]
    audio.subgraphMetadata = [subgraph]
    assert infer_task(audio) is load_task("audio-classifier")
    assert not recognizes(audio)


# -- check: populated models (files) ------------------------------------------------------------


def _populated(
    model: bytes,
    *,
    label_bytes: Optional[bytes] = None,
    calibration: Optional[bytes] = None,
    with_labels: bool = True,
) -> bytes:
    """``model`` with image classifier metadata; files packed as given, unchecked."""
    classes = writer_utils.get_output_tensor_shapes(model)[0][-1]
    if label_bytes is None:
        label_bytes = "".join(f"{label}\n" for label in labels(classes)).encode()
    label_files = [info.LabelFileMd("labels.txt", content=label_bytes)] if with_labels else []
    files: list[Any] = list(label_files)
    calibration_md = None
    if calibration is not None:
        calibration_md = info.ScoreCalibrationMd(
            LOG, 0.2, "calibration.txt", parameters=[[1, 1, 0]]
        )
        files.append(
            info.AssociatedFileMd(
                "calibration.txt",
                file_type=fb.AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION,
                content=calibration,
            )
        )
    output_md = info.ClassificationTensorMd(
        "probability",
        label_files=label_files,
        tensor_type=writer_utils.get_output_tensor_types(model)[0],
        score_calibration_md=calibration_md,
    )
    input_md = info.InputImageTensorMd(
        "image", None, [127.5], [127.5], RGB, writer_utils.get_input_tensor_types(model)[0]
    )
    from tflite_metadata.tasks import base

    metadata_writer = base.MetadataWriter.create_from_metadata_info(
        model, info.GeneralMd("test"), [input_md], [output_md], files
    )
    return populate_quietly(metadata_writer)


def test_populated_model_rules() -> None:
    model = build()
    rows = b"\n".join([b"1.0,2.0,0.5"] * CLASSES)
    assert check(_populated(model, calibration=rows)) == []
    problems = check(_populated(model, label_bytes=b"a\nb\n"))
    assert [(p.code, p.consumers) for p in problems] == [("label-count", BOTH)]
    problems = check(
        _populated(model, label_bytes=b"".join(b"x\n" for _ in range(CLASSES)) + b"\n")
    )
    assert [(p.code, p.consumers) for p in problems] == [("label-count", (TASK_LIBRARY,))]
    problems = check(_populated(model, label_bytes=b""))
    assert codes(problems) == ["label-empty"]
    problems = check(_populated(model, calibration=rows + b"\n"))
    assert [(p.code, p.consumers) for p in problems] == [("calibration-count", BOTH)]
    # A negative scale: both image classifiers refuse it (the audio Task Library does not).
    negative = rows.replace(b"1.0,2.0,0.5", b"-1.0,2.0,0.5", 1)
    problems = check(_populated(model, calibration=negative))
    assert [(p.code, p.consumers) for p in problems] == [("calibration-line", BOTH)]
    problems = check(_populated(model, calibration=rows, with_labels=False))
    assert [(p.code, p.consumers) for p in problems] == [
        ("calibration-without-labels", (TASK_LIBRARY,))
    ]


# -- the command line ---------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    status = main([os.fspath(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def float_model(tmp_path: Path) -> Path:
    path = tmp_path / "model.tflite"
    path.write_bytes(build(height=8, width=6))
    return path


@pytest.fixture
def label_path(tmp_path: Path) -> Path:
    path = tmp_path / "labels.txt"
    path.write_text("".join(f"{label}\n" for label in labels()))
    return path


def test_cli_write_show_check(
    capsys: pytest.CaptureFixture[str], float_model: Path, label_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.tflite"
    status, stdout, err = run(
        capsys, "write", "image-classifier", float_model, "-o", out,
        "--mean", "127.5", "--std", "127.5", "--labels", label_path,
    )  # fmt: skip
    assert status == 0, err
    assert stdout.startswith(f"wrote {out} (") and stdout.endswith(", with labels.txt\n")
    expected = compat_image.MetadataWriter.create_for_inference(
        float_model.read_bytes(), [127.5], [127.5], [label_path]
    )
    from tflite_metadata.metadata import MetadataDisplayer

    written = MetadataDisplayer.with_model_file(out).get_metadata_json()
    assert written == expected.get_populated_metadata_json()
    status, stdout, _ = run(capsys, "show", out)
    assert status == 0
    lines = stdout.splitlines()
    assert lines[0] == "model: ImageClassifier"
    assert (
        "input 0: image (tensor 'image', FLOAT32 [1, 8, 6, 3]): 8x6, 3 channels, RGB image; "
        "normalization mean [127.5], std [127.5]"
    ) in lines
    assert "output 0: probability (tensor 'scores', FLOAT32 [1, 5])" in lines
    status, stdout, _ = run(capsys, "check", out)
    assert (status, stdout) == (0, f"{out}: no problems found (Task Library, MediaPipe)\n")


@pytest.mark.parametrize(
    "options",
    [
        ["--mean", "1", "2", "3", "--std", "4", "5", "6"],
        ["--mean", "1", "--mean", "2", "--mean", "3", "--std", "4", "5", "--std", "6"],
    ],
)
def test_cli_per_channel_values(
    capsys: pytest.CaptureFixture[str], float_model: Path, tmp_path: Path, options: list[str]
) -> None:
    out = tmp_path / "out.tflite"
    # MediaPipe refuses per-channel normalization: written with --no-check, then checked.
    status, _, err = run(
        capsys, "write", "image-classifier", float_model, "-o", out, "--no-check", *options
    )
    assert status == 0, err
    assert "MediaPipe needs the same mean and std for every channel" in err
    status, stdout, _ = run(capsys, "show", out)
    assert "normalization mean [1, 2, 3], std [4, 5, 6]" in stdout
    status, stdout, _ = run(capsys, "check", "--json", out)
    assert status == 1
    assert [(p["code"], p["consumers"]) for p in json.loads(stdout)] == [
        ("normalization", ["MediaPipe"])
    ]


def test_cli_color_space(
    capsys: pytest.CaptureFixture[str], float_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.tflite"
    argv = ["write", "image-classifier", float_model, "-o", out, "--mean", "0", "--std", "255"]
    status, _, err = run(capsys, *argv, "--color-space", "grayscale")
    assert status == 1
    assert "problem: input 0: ImageProperties has color space GRAYSCALE" in err
    assert "[color-space]" in err and not out.exists()
    status, _, _ = run(capsys, *argv, "--color-space", "GRAYSCALE", "--no-check")
    assert status == 0
    _, stdout, _ = run(capsys, "show", out)
    assert "8x6, 3 channels, GRAYSCALE image" in stdout
    status, _, err = run(capsys, *argv, "--color-space", "CMYK")
    assert status == 2 and "expected one of UNKNOWN, RGB, GRAYSCALE" in err


def test_cli_float_model_without_normalization_is_refused(
    capsys: pytest.CaptureFixture[str], float_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.tflite"
    status, _, err = run(capsys, "write", "image-classifier", float_model, "-o", out)
    assert status == 1
    assert "has no NormalizationOptions" in err and "[normalization]" in err
    assert not out.exists()


def test_cli_uint8_model_needs_no_normalization(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, label_path: Path
) -> None:
    model = tmp_path / "uint8.tflite"
    model.write_bytes(build(input_type="uint8", output_type="uint8"))
    status, _, _ = run(capsys, "check", model)
    assert status == 1  # no metadata, no task: the common rule
    status, stdout, _ = run(capsys, "check", "--task", "image-classifier", model)
    assert status == 0, stdout
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "image-classifier", model, "-o", out, "--labels", label_path
    )
    assert status == 0, err
    _, stdout, _ = run(capsys, "show", out)
    assert (
        "input 0: image (tensor 'image', UINT8 [1, 4, 4, 3]): 4x4, 3 channels, RGB image\n"
        in stdout
    )


@pytest.mark.parametrize(
    ("options", "status", "fragment"),
    [
        (["--mean", "127.5"], 2, "needs both a mean and a std"),
        (["--std", "127.5"], 2, "needs both a mean and a std"),
        (["--mean", "127.5", "--std", "0"], 1, "norm_std[0] is 0"),
        (["--mean", "nan", "--std", "1"], 2, "expected a finite number"),
        (["--mean", "x", "--std", "1"], 2, "expected a number, found 'x'"),
        (["--mean", "1", "2", "--std", "1"], 1, "expected to be the same dim. But got 2 and 1"),
    ],
)
def test_cli_normalization_errors(
    capsys: pytest.CaptureFixture[str],
    float_model: Path,
    tmp_path: Path,
    options: list[str],
    status: int,
    fragment: str,
) -> None:
    out = tmp_path / "out.tflite"
    result, stdout, err = run(capsys, "write", "image-classifier", float_model, "-o", out, *options)
    assert (result, stdout) == (status, "")
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert fragment in err
    assert not out.exists()


def test_cli_spec(capsys: pytest.CaptureFixture[str], float_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    (folder / "labels.txt").write_text("".join(f"{label}\n" for label in labels()))
    spec = folder / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "name": "Things",
                "input": {
                    "name": "picture",
                    "description": "A picture.",
                    "mean": 127.5,
                    "std": [127.5],
                    "color_space": "rgb",
                },
                "outputs": [
                    {
                        "labels": [
                            "labels.txt",
                            {"labels": labels(), "name": "fr.txt", "locale": "fr"},
                        ],
                        "score_calibration": {
                            "parameters": [[1.0, 2.0, 0.5]] * CLASSES,
                            "transformation": "LOG",
                            "default_score": 0.2,
                        },
                    }
                ],
            }
        )
    )
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "image-classifier", float_model, "-o", out, "--spec", spec
    )
    assert status == 0, err
    expected = compat_image.MetadataWriter.create_from_metadata_info(
        float_model.read_bytes(),
        info.GeneralMd("Things", description=compat_image.MODEL_DESCRIPTION),
        info.InputImageTensorMd("picture", "A picture.", [127.5], [127.5], RGB, FLOAT32),
        info.ClassificationTensorMd(
            "probability",
            compat_image.OUTPUT_DESCRIPTION,
            [
                info.LabelFileMd(str(folder / "labels.txt")),
                info.LabelFileMd("fr.txt", "fr", labels=labels()),
            ],
            FLOAT32,
            info.ScoreCalibrationMd(LOG, 0.2, parameters=[[1.0, 2.0, 0.5]] * CLASSES),
        ),
    )
    from tflite_metadata.metadata import MetadataDisplayer

    written = MetadataDisplayer.with_model_file(out).get_metadata_json()
    assert written == expected.get_populated_metadata_json()
    # Options override the spec.
    status, _, err = run(
        capsys, "write", "image-classifier", float_model, "-o", out, "--spec", spec,
        "--mean", "0", "--std", "255", "--input-name", "photo",
    )  # fmt: skip
    assert status == 0, err
    _, stdout, _ = run(capsys, "show", out)
    assert "input 0: photo (tensor 'image'" in stdout
    assert "normalization mean [0], std [255]" in stdout


@pytest.mark.parametrize(
    ("input_table", "fragment"),
    [
        ({"mean": [], "std": [1.0]}, "input.mean: expected a number or a non-empty array"),
        ({"mean": ["1"], "std": [1.0]}, "input.mean[0]: expected a number, found a string"),
        ({"mean": 1.0, "std": True}, "input.std: expected a number, found a boolean"),
        ({"mean": 1.0, "std": 1.0, "color_space": "CMYK"}, "input.color_space: expected one of"),
        ({"mean": 1.0, "std": 1.0, "color_space": 1}, "input.color_space: expected one of"),
        ({"mean": 1.0, "std": 1.0, "sample_rate": 1}, "input: unknown key 'sample_rate'"),
    ],
)
def test_cli_spec_errors(
    capsys: pytest.CaptureFixture[str],
    float_model: Path,
    tmp_path: Path,
    input_table: dict[str, Any],
    fragment: str,
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"input": input_table}))
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "image-classifier", float_model, "-o", out, "--spec", spec
    )
    assert status == 1
    assert fragment in err, err
    assert not out.exists()


def test_cli_two_heads(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "two.tflite"
    model.write_bytes(build_two_heads())
    names = writer_utils.get_output_tensor_names(model.read_bytes())
    label_files = []
    for index, classes in enumerate((3, 4)):
        path = tmp_path / f"labels_{index}.txt"
        path.write_text("".join(f"{label}\n" for label in labels(classes)))
        label_files.append(path)
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "image-classifier", model, "-o", out, "--mean", "127.5", "--std", "127.5",
        "--head", names[1], "--labels", label_files[1],
        "--head", names[0], "--labels", label_files[0],
    )  # fmt: skip
    assert status == 0, err
    status, stdout, _ = run(capsys, "check", "--task", "image-classifier", out)
    assert status == 0, stdout


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, stdout, _ = run(capsys, "write", "--help")
    assert status == 0 and "image-classifier" in stdout
    status, stdout, _ = run(capsys, "write", "image-classifier", "--help")
    assert status == 0
    for fragment in ("--mean", "--std", "--color-space", "--labels", '"mean": [127.5]'):
        assert fragment in stdout
    status, _, err = run(capsys, "check", "--task", "bogus", "model.tflite")
    assert status == 2 and "'audio-classifier', " in err and "'image-classifier'" in err
    assert "'object-detector'" in err and "'image-segmenter'" in err


def test_cli_check_the_shared_model(capsys: pytest.CaptureFixture[str]) -> None:
    """MobileNet v2 quant has no metadata: both image classifiers load it (uint8)."""
    model = shared_path(f"{IMAGE_DATA}/mobilenet_v2_1.0_224_quant.tflite")
    status, stdout, _ = run(capsys, "check", "--task", "image-classifier", model)
    assert status == 0, stdout
    status, stdout, _ = run(capsys, "check", model)
    assert status == 1 and "[no-metadata]" in stdout


def test_stats_of_random_values_are_tflite_supports_arithmetic() -> None:
    """(0 - mean) / std in doubles, stored as float32 (not computed in float32)."""
    mean, std = [0.1, 0.2, 0.3], [0.7, 0.11, 0.13]
    md = info.InputImageTensorMd(norm_mean=mean, norm_std=std, tensor_type=FLOAT32)
    assert md.min_values == [(0.0 - m) / s for m, s in zip(mean, std)]
    assert md.max_values == [(255.0 - m) / s for m, s in zip(mean, std)]
    assert all(math.isfinite(v) for v in md.min_values + md.max_values)
