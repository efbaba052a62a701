"""Tests of the descriptions in tflite_metadata.tasks (metadata_writers.metadata_info).

Three kinds: unit tests of every class, method and message; tests of the
in-memory extensions (labels, calibration parameters, raw content); and
differential tests against tflite-support 0.4.4's metadata_info, comparing the
packed metadata byte for byte and the error messages text for text.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import flatbuffers
import pytest

import consumer_env
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata.errors import (
    AssociatedFileError,
    MetadataError,
    MetadataValidationError,
    MissingFileError,
)
from tflite_metadata.format import codec
from tflite_metadata.format.model_schema import TensorType
from tflite_metadata.metadata_writers import metadata_info as compat_info
from tflite_metadata.metadata_writers import metadata_info as info

LOG = fb.ScoreTransformationType.LOG
LABEL_DESCRIPTION = "Labels for categories that the model can recognize."
CALIBRATION_DESCRIPTION = (
    "Contains sigmoid-based score calibration parameters. The main purposes of score "
    "calibration is to make scores across classes comparable, so that a common threshold "
    "can be used for all output classes."
)


# -- the reference (tflite-support 0.4.4, in-process) ---------------------------------


def reference_info() -> Any:
    """tflite-support's metadata_info; skip without it, fail under CI."""
    try:
        from tflite_support.metadata_writers import metadata_info
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    return metadata_info


def reference_pack(obj: Any) -> bytes:
    builder = flatbuffers.Builder(0)
    builder.Finish(obj.Pack(builder), b"M001")
    return bytes(builder.Output())


def in_model(tensor_metadata: Any, module: Any) -> Any:
    """A ModelMetadataT holding one input tensor metadata (module: ours or tflite-support's)."""
    subgraph = module.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [tensor_metadata]
    model = module.ModelMetadataT()
    model.subgraphMetadata = [subgraph]
    return model


def assert_same_tensor(ours: Any, theirs: Any) -> None:
    from tflite_support import metadata_schema_py_generated as ref_fb

    assert codec.encode(in_model(ours, fb)) == reference_pack(in_model(theirs, ref_fb))


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def calibration_file(tmp_path: Path) -> Path:
    path = tmp_path / "score_calibration.txt"
    path.write_bytes(b"1.0,2.0,3.0,4.0")
    return path


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- compat surface ---------------------------------------------------------------------


def test_compat_module_reexports_the_core() -> None:
    for name in compat_info.__all__:
        assert getattr(compat_info, name) is getattr(info, name)


def test_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        info.LabelFileMd()


# -- GeneralMd --------------------------------------------------------------------------


def test_general_md_defaults_are_none() -> None:
    md = info.GeneralMd()
    assert (md.name, md.version, md.description, md.author, md.licenses) == (None,) * 5
    metadata = md.create_metadata()
    assert isinstance(metadata, fb.ModelMetadataT)
    assert metadata.name is None and metadata.license is None


def test_general_md_create_metadata() -> None:
    md = info.GeneralMd("model", "v1", "A ML model.", "TensorFlow", "Apache")
    metadata = md.create_metadata()
    assert (metadata.name, metadata.version, metadata.description) == ("model", "v1", "A ML model.")
    assert (metadata.author, metadata.license) == ("TensorFlow", "Apache")
    assert metadata.subgraphMetadata is None


# -- AssociatedFileMd -------------------------------------------------------------------


def test_associated_file_md_defaults() -> None:
    md = info.AssociatedFileMd("dir/label.txt")
    assert md.file_type == fb.AssociatedFileType.UNKNOWN
    assert md.description is None and md.locale is None and md.content is None
    assert md.name == "label.txt"


def test_associated_file_md_create_metadata_uses_basename() -> None:
    md = info.AssociatedFileMd(
        "a/b/label.txt", "The label file.", fb.AssociatedFileType.TENSOR_AXIS_LABELS, "en"
    )
    metadata = md.create_metadata()
    assert isinstance(metadata, fb.AssociatedFileT)
    assert (metadata.name, metadata.description, metadata.locale) == (
        "label.txt",
        "The label file.",
        "en",
    )
    assert metadata.type == fb.AssociatedFileType.TENSOR_AXIS_LABELS


def test_associated_file_md_accepts_pathlike(tmp_path: Path) -> None:
    path = write(tmp_path, "vocab.txt", b"a\nb\n")
    md = info.AssociatedFileMd(path)
    assert md.create_metadata().name == "vocab.txt"
    assert md.read() == b"a\nb\n"


def test_associated_file_md_in_memory() -> None:
    md = info.AssociatedFileMd("vocab.txt", "Vocabulary.", content=bytearray(b"xyz"))
    assert md.content == b"xyz" and isinstance(md.content, bytes)
    assert md.read() == b"xyz"
    assert md.create_metadata().name == "vocab.txt"


def test_associated_file_md_missing_file_is_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    md = info.AssociatedFileMd(missing)
    with pytest.raises(MissingFileError) as error:
        md.read()
    assert isinstance(error.value, FileNotFoundError)
    assert isinstance(error.value, ValueError)
    assert str(error.value) == f"File, '{missing}', does not exist."


def test_associated_file_md_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(AssociatedFileError, match="cannot read file"):
        info.AssociatedFileMd(tmp_path).read()  # a folder


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"file_path": None}, "file_path must be a str or os.PathLike, found NoneType"),
        ({"file_path": 3}, "file_path must be a str or os.PathLike, found int"),
        ({"file_path": "a.txt", "content": "text"}, "content must be bytes, found str"),
        ({"file_path": "a.txt", "content": 5}, "content must be bytes, bytearray or memoryview"),
        ({"file_path": "dir/", "content": b"x"}, "needs a file name"),
    ],
)
def test_associated_file_md_rejects(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(MetadataValidationError, match=message):
        info.AssociatedFileMd(**kwargs)


# -- LabelFileMd ------------------------------------------------------------------------


def test_label_file_md_from_path() -> None:
    md = info.LabelFileMd("labels/en.txt", "en")
    assert md.description == LABEL_DESCRIPTION
    assert md.file_type == fb.AssociatedFileType.TENSOR_AXIS_LABELS
    assert (md.file_path, md.locale, md.content) == ("labels/en.txt", "en", None)
    metadata = md.create_metadata()
    assert (metadata.name, metadata.locale) == ("en.txt", "en")


def test_label_file_md_from_labels() -> None:
    md = info.LabelFileMd(labels=["speech", "müsic", ""])
    assert md.name == "labels.txt"
    assert md.content == "speech\nmüsic\n\n".encode()
    assert md.read_labels() == ["speech", "müsic", ""]
    assert md.create_metadata().name == "labels.txt"


def test_label_file_md_labels_with_name_and_locale() -> None:
    md = info.LabelFileMd("labels_fr.txt", locale="fr", labels=("parole", "musique"))
    assert (md.name, md.locale) == ("labels_fr.txt", "fr")
    assert md.read() == b"parole\nmusique\n"


def test_label_file_md_from_labels_does_not_keep_the_callers_list() -> None:
    labels = ["a", "b"]
    md = info.LabelFileMd(labels=labels)
    labels.append("c")
    assert md.read_labels() == ["a", "b"]


def test_label_file_md_from_content() -> None:
    md = info.LabelFileMd("my.txt", content=memoryview(b"a\nb"))
    assert md.read() == b"a\nb"
    assert md.read_labels() == ["a", "b"]


def test_label_file_md_reads_and_checks_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "labels.txt", "é\nb\n".encode())
    md = info.LabelFileMd(path)
    assert md.read_labels() == ["é", "b"]


def test_label_file_md_rejects_non_utf8_file_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "labels.txt", b"speech\nmusic\ncaf\xe9\n")
    md = info.LabelFileMd(path)  # not read yet: the file may be created later
    with pytest.raises(AssociatedFileError) as error:
        md.read()
    assert str(error.value) == (
        f"Label file '{path}' is not valid UTF-8: line 3, column 4 has byte 0xe9. "
        "Save the file as UTF-8."
    )


def test_label_file_md_rejects_non_utf8_content_at_once() -> None:
    with pytest.raises(AssociatedFileError, match=r"'l.txt' is not valid UTF-8: line 1, column 1"):
        info.LabelFileMd("l.txt", content=b"\xff\n")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "LabelFileMd needs a label file: give file_path, labels or content"),
        ({"labels": ["a"], "content": b"a"}, "give labels or content, not both"),
        ({"labels": "ab"}, "labels must be a list of strings, found a single str"),
        ({"labels": ["a", 3]}, "label 1 must be a str, found int"),
        ({"labels": ["a", "b\nc"]}, r"label 1 \('b\\nc'\) contains a line break"),
        ({"labels": ["a\r"]}, "label 0 .* contains a line break"),
    ],
)
def test_label_file_md_rejects(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(MetadataValidationError, match=message):
        info.LabelFileMd(**kwargs)


def test_label_file_md_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        info.LabelFileMd(tmp_path / "missing.txt").read()


# -- ScoreCalibrationMd -----------------------------------------------------------------


def test_score_calibration_md_from_file(calibration_file: Path) -> None:
    md = info.ScoreCalibrationMd(LOG, 0.2, calibration_file)
    assert md.score_transformation_type == LOG and md.default_score == 0.2
    assert md.file_path == calibration_file
    assert md.parameters == [(1.0, 2.0, 3.0, 4.0)]
    assert md.content == b"1.0,2.0,3.0,4.0"
    # tflite-support's private attributes, which some callers read.
    assert md._score_transformation_type == LOG
    assert md._default_score == 0.2
    assert md._file_path == calibration_file


def test_score_calibration_md_create_metadata(calibration_file: Path) -> None:
    unit = info.ScoreCalibrationMd(LOG, 0.2, calibration_file).create_metadata()
    assert isinstance(unit, fb.ProcessUnitT)
    assert unit.optionsType == fb.ProcessUnitOptions.ScoreCalibrationOptions
    assert isinstance(unit.options, fb.ScoreCalibrationOptionsT)
    assert unit.options.scoreTransformation == LOG
    assert unit.options.defaultScore == 0.2


def test_score_calibration_file_md(calibration_file: Path) -> None:
    file_md = info.ScoreCalibrationMd(LOG, 0.2, calibration_file).create_score_calibration_file_md()
    assert type(file_md) is info.AssociatedFileMd
    assert file_md.file_path == calibration_file
    assert file_md.description == CALIBRATION_DESCRIPTION
    assert file_md.file_type == fb.AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION
    assert file_md.locale is None
    # The bytes checked are the bytes packed, even if the file changes afterwards.
    calibration_file.write_bytes(b"garbage")
    assert file_md.read() == b"1.0,2.0,3.0,4.0"


def test_score_calibration_empty_lines_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "c.txt", b"1,2,3\r\n\r\n0,-1.5,2e-3,0.25\r\n")
    md = info.ScoreCalibrationMd(LOG, 0.5, path)
    assert md.parameters == [(1.0, 2.0, 3.0), None, (0.0, -1.5, 0.002, 0.25)]


def test_score_calibration_empty_file_is_allowed(tmp_path: Path) -> None:
    assert info.ScoreCalibrationMd(LOG, 0.5, write(tmp_path, "c.txt", b"")).parameters == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # tflite-support's messages, kept word for word.
        (
            b"1,2\n",
            "Expected empty lines or 3 or 4 parameters per line in score calibration file, "
            "but got 2.",
        ),
        (
            b"1,2,3\n1,2,3,4,5\n",
            "Expected empty lines or 3 or 4 parameters per line in score calibration file, "
            "but got 5.",
        ),
        (b"1,2,3\n-1,2,3\n", "Expected scale to be a non-negative value, but got -1.0."),
        # Ours: the file and the line.
        (
            b"1,2,3\n1,x,3\n",
            "Score calibration file '{path}', line 2: parameter 2 should be a "
            "finite number, but got 'x'.",
        ),
        (
            b"abc,2,3\n",
            "Score calibration file '{path}', line 1: parameter 1 should be a "
            "finite number, but got 'abc'.",
        ),
        (
            b"\n\n1,2,nan\n",
            "Score calibration file '{path}', line 3: parameter 3 should be a "
            "finite number, but got 'nan'.",
        ),
        (
            b"inf,2,3\n",
            "Score calibration file '{path}', line 1: parameter 1 should be a "
            "finite number, but got 'inf'.",
        ),
        (
            b"1,2,3,-Infinity\n",
            "Score calibration file '{path}', line 1: parameter 4 should be "
            "a finite number, but got '-Infinity'.",
        ),
        (
            b"1_0,2,3\n",
            "Score calibration file '{path}', line 1: parameter 1 should be a "
            "finite number, but got '1_0'.",
        ),
        (
            b"1,2,3,\n",
            "Score calibration file '{path}', line 1: parameter 4 should be a "
            "finite number, but got ''.",
        ),
        (
            b"1,2,3\n1,2,\xff\n",
            "Score calibration file '{path}' is not valid UTF-8: line 2, "
            "column 5 has byte 0xff. Save the file as UTF-8.",
        ),
    ],
)
def test_score_calibration_file_errors(tmp_path: Path, data: bytes, message: str) -> None:
    path = write(tmp_path, "calibration.txt", data)
    with pytest.raises(AssociatedFileError) as error:
        info.ScoreCalibrationMd(LOG, 0.2, path)
    assert str(error.value) == message.format(path=path)
    # In memory, the same content gives the same error (named after the file name).
    with pytest.raises(AssociatedFileError) as error:
        info.ScoreCalibrationMd(LOG, 0.2, "calibration.txt", content=data)
    assert str(error.value) == message.format(path="calibration.txt")


def test_score_calibration_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    with pytest.raises(FileNotFoundError) as error:
        info.ScoreCalibrationMd(LOG, 0.2, missing)
    assert isinstance(error.value, MissingFileError)


def test_score_calibration_from_parameters() -> None:
    md = info.ScoreCalibrationMd(LOG, 0.2, parameters=[[1, 2, 3], None, [], (0.5, 1e-7, 3.0, 4.0)])
    assert md.file_path == "score_calibration.txt"
    # No final newline: consumers would count it as one more row.
    assert md.content == b"1.0,2.0,3.0\n\n\n0.5,1e-07,3.0,4.0"
    assert md.parameters == [(1.0, 2.0, 3.0), None, None, (0.5, 1e-07, 3.0, 4.0)]
    file_md = md.create_score_calibration_file_md()
    assert file_md.name == "score_calibration.txt"
    assert file_md.read() == md.content


def test_score_calibration_parameters_round_trip_exactly() -> None:
    rows = [[0.1, 1 / 3, 2.5e-12, 0.9999999]]
    md = info.ScoreCalibrationMd(LOG, 0.0, "head1.txt", parameters=rows)
    assert md.parameters == [tuple(rows[0])]
    assert md.create_score_calibration_file_md().name == "head1.txt"


def test_score_calibration_from_content() -> None:
    md = info.ScoreCalibrationMd(0, 0.5, "c.txt", content=b"1,2,3\n")
    assert md.content == b"1,2,3\n" and md.parameters == [(1.0, 2.0, 3.0)]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            [[1, 2]],
            "Expected empty lines or 3 or 4 parameters per line in score calibration file, "
            "but got 2.",
        ),
        ([[-2, 1, 1]], "Expected scale to be a non-negative value, but got -2.0."),
        (
            [[1, 1, 1], [1, math.nan, 1]],
            "row 1: parameter 2 should be a finite number, but got nan.",
        ),
        ([[1, 1, math.inf]], "row 0: parameter 3 should be a finite number, but got inf."),
        ([[1, True, 1]], "row 0: parameter 2 should be a finite number, but got True."),
        ([[1, "2", 1]], "row 0: parameter 2 should be a finite number, but got '2'."),
        ([[1, 2, 3], "1,2,3"], "row 1: expected a sequence of 3 or 4 numbers or None"),
        ([5], "row 0: expected a sequence of 3 or 4 numbers or None, found int"),
        ("1,2,3", "parameters must be a list of rows of numbers, found str"),
    ],
)
def test_score_calibration_parameter_errors(parameters: Any, message: str) -> None:
    with pytest.raises(MetadataValidationError, match=re.escape(message)):
        info.ScoreCalibrationMd(LOG, 0.2, parameters=parameters)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((LOG, 0.2), {}, "needs calibration parameters: give file_path, parameters or content"),
        ((LOG, 0.2), {"parameters": [], "content": b""}, "give parameters or content, not both"),
        (
            (7, 0.2),
            {"parameters": []},
            r"score_transformation_type should be one of "
            r"ScoreTransformationType's values: IDENTITY \(0\), LOG \(1\), INVERSE_LOGISTIC \(2\); "
            r"but got 7.",
        ),
        ((None, 0.2), {"parameters": []}, "score_transformation_type should be one of"),
        (
            (LOG, "0.2"),
            {"parameters": []},
            "default_score should be a finite number, but got '0.2'.",
        ),
        ((LOG, math.nan), {"parameters": []}, "default_score should be a finite number"),
        ((LOG, 0.2, "dir/"), {"parameters": []}, "the calibration file needs a name"),
    ],
)
def test_score_calibration_argument_errors(args: Any, kwargs: Any, message: str) -> None:
    with pytest.raises(MetadataValidationError, match=message):
        info.ScoreCalibrationMd(*args, **kwargs)


# -- TensorMd ---------------------------------------------------------------------------


def test_tensor_md_defaults() -> None:
    md = info.TensorMd()
    assert md.content_type == fb.ContentProperties.FeatureProperties
    assert md.min_values is None and md.max_values is None
    assert md.associated_files is None and md.tensor_name is None
    metadata = md.create_metadata()
    assert isinstance(metadata, fb.TensorMetadataT)
    # Stats and content are always present, as in tflite-support.
    assert isinstance(metadata.stats, fb.StatsT)
    assert metadata.stats.max is None and metadata.stats.min is None
    assert isinstance(metadata.content.contentProperties, fb.FeaturePropertiesT)
    assert metadata.associatedFiles is None


@pytest.mark.parametrize(
    ("content_type", "cls"),
    [
        (fb.ContentProperties.FeatureProperties, "FeaturePropertiesT"),
        (fb.ContentProperties.ImageProperties, "ImagePropertiesT"),
        (fb.ContentProperties.BoundingBoxProperties, "BoundingBoxPropertiesT"),
        (fb.ContentProperties.AudioProperties, "AudioPropertiesT"),
        (fb.ContentProperties.NONE, None),
    ],
)
def test_tensor_md_content_types(content_type: int, cls: str | None) -> None:
    metadata = info.TensorMd(content_type=content_type).create_metadata()
    assert metadata.content.contentPropertiesType == content_type
    if cls is None:
        assert metadata.content.contentProperties is None
    else:
        assert type(metadata.content.contentProperties) is getattr(fb, cls)


def test_tensor_md_create_metadata() -> None:
    files = [info.AssociatedFileMd("labels.txt", locale="en"), info.AssociatedFileMd("cn.txt")]
    md = info.TensorMd(
        "input", "The input tensor.", [0], [1], associated_files=files, tensor_name="x"
    )
    metadata = md.create_metadata()
    assert (metadata.name, metadata.description) == ("input", "The input tensor.")
    assert (metadata.stats.min, metadata.stats.max) == ([0], [1])
    assert [f.name for f in metadata.associatedFiles] == ["labels.txt", "cn.txt"]
    # The metadata does not share the description's lists.
    metadata.stats.min.append(5)
    assert md.min_values == [0]


# -- InputAudioTensorMd -----------------------------------------------------------------


def test_input_audio_tensor_md() -> None:
    md = info.InputAudioTensorMd("audio_clip", "Input audio.", 16000, 2)
    assert (md.sample_rate, md.channels) == (16000, 2)
    assert md.content_type == fb.ContentProperties.AudioProperties
    metadata = md.create_metadata()
    properties = metadata.content.contentProperties
    assert isinstance(properties, fb.AudioPropertiesT)
    assert (properties.sampleRate, properties.channels) == (16000, 2)
    assert metadata.stats.max is None


def test_input_audio_tensor_md_defaults_to_zero() -> None:
    properties = info.InputAudioTensorMd().create_metadata().content.contentProperties
    assert (properties.sampleRate, properties.channels) == (0, 0)


@pytest.mark.parametrize(
    ("sample_rate", "channels", "message"),
    [
        (-1, 1, "sample_rate should be non-negative, but got -1."),
        (1, -2, "channels should be non-negative, but got -2."),
        (16000.0, 1, r"sample_rate should be an integer, but got 16000.0 \(float\)."),
        (1, True, r"channels should be an integer, but got True \(bool\)."),
        (2**32, 1, r"sample_rate should be at most 4294967295 \(a uint32\), but got 4294967296."),
    ],
)
def test_input_audio_tensor_md_errors(sample_rate: Any, channels: Any, message: str) -> None:
    md = info.InputAudioTensorMd(sample_rate=sample_rate, channels=channels)
    with pytest.raises(MetadataValidationError, match=message):
        md.create_metadata()


# -- ClassificationTensorMd -------------------------------------------------------------


@pytest.mark.parametrize(
    ("tensor_type", "low", "high"),
    [
        (TensorType.UINT8, [0], [255]),
        (int(TensorType.UINT8), [0], [255]),
        (TensorType.FLOAT32, [0.0], [1.0]),
        (TensorType.INT16, None, None),
        (TensorType.INT8, None, None),
        (None, None, None),
    ],
)
def test_classification_stats_follow_tensor_type(tensor_type: Any, low: Any, high: Any) -> None:
    md = info.ClassificationTensorMd(tensor_type=tensor_type)
    assert (md.min_values, md.max_values) == (low, high)
    metadata = md.create_metadata()
    assert (metadata.stats.min, metadata.stats.max) == (low, high)


def test_classification_tensor_md(calibration_file: Path) -> None:
    labels = [info.LabelFileMd("en.txt", "en"), info.LabelFileMd("cn.txt", "cn")]
    calibration = info.ScoreCalibrationMd(LOG, 0.2, calibration_file)
    md = info.ClassificationTensorMd(
        "probability", "Scores.", labels, TensorType.FLOAT32, calibration, "Identity"
    )
    assert md.score_calibration_md is calibration and md.tensor_name == "Identity"
    assert md.content_type == fb.ContentProperties.FeatureProperties
    assert [f.name for f in md.associated_files] == ["en.txt", "cn.txt", "score_calibration.txt"]
    # The caller's list is not modified (tflite-support appended to it).
    assert len(labels) == 2
    metadata = md.create_metadata()
    assert [f.type for f in metadata.associatedFiles] == [2, 2, 4]
    assert len(metadata.processUnits) == 1
    assert metadata.processUnits[0].options.defaultScore == 0.2


def test_classification_tensor_md_without_files() -> None:
    md = info.ClassificationTensorMd("p")
    assert md.associated_files == []
    metadata = md.create_metadata()
    assert metadata.associatedFiles is None and metadata.processUnits is None


# -- CategoryTensorMd -------------------------------------------------------------------


def test_category_tensor_md_copies_label_files() -> None:
    labels = [info.LabelFileMd("en.txt", "en"), info.LabelFileMd(labels=["a"])]
    md = info.CategoryTensorMd("category", "The category tensor.", labels)
    assert [f.file_type for f in md.associated_files] == [
        fb.AssociatedFileType.TENSOR_VALUE_LABELS
    ] * 2
    # tflite-support changed the caller's objects; these stay label files.
    assert [f.file_type for f in labels] == [fb.AssociatedFileType.TENSOR_AXIS_LABELS] * 2
    assert md.associated_files[1].read() == b"a\n"
    metadata = md.create_metadata()
    assert [f.type for f in metadata.associatedFiles] == [3, 3]
    assert metadata.stats.max is None


def test_category_tensor_md_without_labels() -> None:
    assert info.CategoryTensorMd().associated_files is None
    assert info.CategoryTensorMd(label_files=[]).associated_files == []


# -- differential: tflite-support 0.4.4 -------------------------------------------------


@pytest.mark.reference
def test_reference_general_md() -> None:
    ref = reference_info()
    args = ("model", "v1", "A ML model.", "TensorFlow", "Apache")
    assert codec.encode(info.GeneralMd(*args).create_metadata()) == reference_pack(
        ref.GeneralMd(*args).create_metadata()
    )
    assert codec.encode(info.GeneralMd().create_metadata()) == reference_pack(
        ref.GeneralMd().create_metadata()
    )


@pytest.mark.reference
@pytest.mark.parametrize("content_type", [0, 1, 2, 3, 4])
def test_reference_tensor_md(content_type: int) -> None:
    ref = reference_info()

    def make(module: Any) -> Any:
        files = [
            module.AssociatedFileMd("a/labels.txt", locale="en"),
            module.AssociatedFileMd("labels_cn.txt", "Chinese.", 2, "cn"),
        ]
        return module.TensorMd("input", "The input tensor.", [0], [1], content_type, files)

    assert_same_tensor(make(info).create_metadata(), make(ref).create_metadata())


@pytest.mark.reference
@pytest.mark.parametrize("tensor_type", [0, 3, 7, 9, None])
@pytest.mark.parametrize("calibrated", [False, True])
def test_reference_classification_tensor_md(
    calibration_file: Path, tensor_type: Any, calibrated: bool
) -> None:
    ref = reference_info()

    def make(module: Any) -> Any:
        calibration = (
            module.ScoreCalibrationMd(LOG, 0.2, str(calibration_file)) if calibrated else None
        )
        labels = [module.LabelFileMd("labels.txt", "en"), module.LabelFileMd("x/cn.txt", "cn")]
        return module.ClassificationTensorMd(
            "probability", "Scores.", labels, tensor_type, calibration, "Identity"
        )

    assert_same_tensor(make(info).create_metadata(), make(ref).create_metadata())


@pytest.mark.reference
def test_reference_in_memory_equals_file_based(tmp_path: Path) -> None:
    ref = reference_info()
    path = write(tmp_path, "score_calibration.txt", b"1.0,2.0,3.0\n\n0.5,1e-07,3.0,4.0")
    theirs = ref.ClassificationTensorMd(
        "p",
        label_files=[ref.LabelFileMd("labels.txt")],
        tensor_type=3,
        score_calibration_md=ref.ScoreCalibrationMd(LOG, 0.2, str(path)),
    ).create_metadata()
    md = info.ClassificationTensorMd(
        "p",
        label_files=[info.LabelFileMd(labels=["a", "b", "c"])],
        tensor_type=3,
        score_calibration_md=info.ScoreCalibrationMd(
            LOG, 0.2, parameters=[[1, 2, 3], None, [0.5, 1e-7, 3, 4]]
        ),
    )
    assert_same_tensor(md.create_metadata(), theirs)
    assert md.associated_files[1].read() == path.read_bytes()


@pytest.mark.reference
def test_reference_audio_and_category(tmp_path: Path) -> None:
    ref = reference_info()
    assert_same_tensor(
        info.InputAudioTensorMd("audio_clip", "Audio.", 44100, 2).create_metadata(),
        ref.InputAudioTensorMd("audio_clip", "Audio.", 44100, 2).create_metadata(),
    )
    assert_same_tensor(
        info.CategoryTensorMd("c", "d", [info.LabelFileMd("l.txt", "en")]).create_metadata(),
        ref.CategoryTensorMd("c", "d", [ref.LabelFileMd("l.txt", "en")]).create_metadata(),
    )


@pytest.mark.reference
@pytest.mark.parametrize(
    "data",
    [b"1,2\n", b"1,2,3\n\n1,2,3,4,5", b"0.5,1,1\n-0.25,2,3\n", b"1,2,3\n-7,x,y\n"],
)
def test_reference_calibration_messages(tmp_path: Path, data: bytes) -> None:
    ref = reference_info()
    path = str(write(tmp_path, "c.txt", data))
    with pytest.raises(ValueError) as theirs:
        ref.ScoreCalibrationMd(LOG, 0.2, path)
    with pytest.raises(MetadataError) as ours:
        info.ScoreCalibrationMd(LOG, 0.2, path)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.reference
@pytest.mark.parametrize(("sample_rate", "channels"), [(-1, 1), (1, -1), (-5, -5)])
def test_reference_audio_messages(sample_rate: int, channels: int) -> None:
    ref = reference_info()
    with pytest.raises(ValueError) as theirs:
        ref.InputAudioTensorMd(sample_rate=sample_rate, channels=channels).create_metadata()
    with pytest.raises(MetadataValidationError) as ours:
        info.InputAudioTensorMd(sample_rate=sample_rate, channels=channels).create_metadata()
    assert str(ours.value) == str(theirs.value)


@pytest.mark.reference
def test_reference_attributes_match() -> None:
    ref = reference_info()
    pairs = [
        (info.GeneralMd("n"), ref.GeneralMd("n")),
        (
            info.AssociatedFileMd("a/f.txt", "d", 1, "en"),
            ref.AssociatedFileMd("a/f.txt", "d", 1, "en"),
        ),
        (info.LabelFileMd("l.txt", "fr"), ref.LabelFileMd("l.txt", "fr")),
        (
            info.TensorMd("t", "d", [1], [2], 2, None, "x"),
            ref.TensorMd("t", "d", [1], [2], 2, None, "x"),
        ),
        (info.InputAudioTensorMd("a", "b", 3, 4), ref.InputAudioTensorMd("a", "b", 3, 4)),
        (
            info.ClassificationTensorMd("c", tensor_type=3),
            ref.ClassificationTensorMd("c", tensor_type=3),
        ),
    ]
    for ours, theirs in pairs:
        for name, value in vars(theirs).items():
            assert getattr(ours, name) == value, (type(ours).__name__, name)
    assert info.LabelFileMd._LABEL_FILE_DESCRIPTION == ref.LabelFileMd._LABEL_FILE_DESCRIPTION
    assert (
        info.ScoreCalibrationMd._SCORE_CALIBRATION_FILE_DESCRIPTION
        == ref.ScoreCalibrationMd._SCORE_CALIBRATION_FILE_DESCRIPTION
    )
