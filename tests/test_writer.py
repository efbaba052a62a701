"""Tests of tflite_metadata.tasks.base, .audio_classifier and tflite_metadata.tasks.writer_utils.

Unit tests of every writer path and message; golden tests against
tflite-support's own expected JSON (/work/shared/testdata); differential tests:
for every writer path, the metadata buffer and ``get_metadata_json()`` must be
identical to tflite-support 0.4.4's, on the project's built models and on the
shared test models.
"""

from __future__ import annotations

import array
import os
import re
from pathlib import Path
from typing import Any, Callable

import pytest

import consumer_env
from shared_data import TESTDATA, read_testdata
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata.errors import (
    AssociatedFileError,
    MetadataError,
    MetadataValidationError,
    MissingFileError,
    OutputWriteError,
)
from tflite_metadata.format import codec
from tflite_metadata.metadata_writers import audio_classifier as compat_audio
from tflite_metadata.metadata_writers import metadata_info as compat_info
from tflite_metadata.metadata_writers import metadata_info as info
from tflite_metadata.metadata_writers import metadata_writer as compat_writer
from tflite_metadata.metadata_writers import writer_utils as compat_utils
from tflite_metadata.tasks import audio_classifier, base, writer_utils

LOG = fb.ScoreTransformationType.LOG


# -- the reference --------------------------------------


def reference() -> Any:
    """tflite-support 0.4.4's writer modules; skip without them, fail under CI."""
    try:
        from tensorflow_lite_support.metadata.python.metadata_writers import metadata_writer
        from tflite_support import metadata_schema_py_generated as ref_fb
        from tflite_support.metadata_writers import audio_classifier, metadata_info, writer_utils
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")

    class Reference:
        fb = ref_fb
        info = metadata_info
        audio = audio_classifier
        base = metadata_writer
        utils = writer_utils

    return Reference


# -- models ---------------------------------------------------------------------------------

SHARED_MODELS = [
    "tflite-support/yamnet_wavin_quantized_mel_relu6.tflite",
    "tflite-support/model_without_metadata.tflite",
    "tflite-support/yamnet_audio_classifier_with_metadata.tflite",
    "generated/small_audio.tflite",
    "generated/small_audio_offset.tflite",
    "generated/two_heads_small.tflite",
]


def build(**kwargs: Any) -> bytes:
    """A model from the project's model builder (skips until it exists)."""
    from tflite_metadata import _model_builder as model_builder

    return bytes(model_builder.build_audio_classifier(**kwargs))


# Built models: one per output type that decides the stats, and a two-head model.
BUILT_MODELS: dict[str, dict[str, Any]] = {
    "built-float32": {},
    "built-uint8": {"output_type": "uint8"},
    "built-int8": {"output_type": "int8"},
    "built-two-heads": {"heads": [5, 10]},
}


def load_model(name: str) -> bytes:
    if name in BUILT_MODELS:
        return build(**BUILT_MODELS[name])
    return read_testdata(name)


ALL_MODELS = SHARED_MODELS + list(BUILT_MODELS)


@pytest.fixture(params=ALL_MODELS)
def any_model(request: pytest.FixtureRequest) -> bytes:
    return load_model(request.param)


@pytest.fixture
def small_model() -> bytes:
    return read_testdata("generated/small_audio.tflite")


@pytest.fixture
def two_heads() -> bytes:
    return read_testdata("generated/two_heads_small.tflite")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Label and calibration files, in a folder of their own."""
    paths = {
        "labels": tmp_path / "labels.txt",
        "labels_fr": tmp_path / "labels_fr.txt",
        "calibration": tmp_path / "score_calibration.txt",
        "calibration2": tmp_path / "calibration_head2.txt",
    }
    paths["labels"].write_text("a\nb\nc\n")
    paths["labels_fr"].write_text("à\nbé\nc\n")
    paths["calibration"].write_bytes(b"1.0,2.0,3.0,4.0")
    paths["calibration2"].write_bytes(b"0.5,1.0,0.0\n\n1.0,2.0,3.0")
    return paths


def decoded(metadata_writer: base.MetadataWriter) -> Any:
    return codec.decode(metadata_writer._metadata_buffer)


# -- compat surface -----------------------------------------------------------------------


def test_compat_modules_reexport_the_core() -> None:
    assert compat_audio.MetadataWriter is audio_classifier.AudioClassifierWriter
    assert compat_writer.MetadataWriter is base.MetadataWriter
    assert issubclass(compat_audio.MetadataWriter, compat_writer.MetadataWriter)
    for name in compat_utils.__all__:
        assert getattr(compat_utils, name) is getattr(writer_utils, name)
    assert compat_info.LabelFileMd is info.LabelFileMd


def test_compat_package_imports_its_modules() -> None:
    import tflite_metadata.metadata_writers as package

    assert package.audio_classifier is compat_audio
    assert package.metadata_info is compat_info
    assert package.writer_utils is compat_utils


def test_schema_py_generated_tensor_type_is_the_model_formats() -> None:
    from tflite_metadata import schema_py_generated
    from tflite_metadata.format import model_schema as model_format

    for member in model_format.TensorType:
        assert getattr(schema_py_generated.TensorType, member.name) == member


@pytest.mark.reference
def test_schema_py_generated_has_every_reference_tensor_type() -> None:
    from tensorflow_lite_support.metadata import schema_py_generated as theirs

    from tflite_metadata import schema_py_generated as ours

    reference()
    for name, value in vars(theirs.TensorType).items():
        if not name.startswith("_"):
            assert getattr(ours.TensorType, name) == value, name


# -- writer_utils ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "size"),
    [
        (None, 0),
        ([], 0),
        ((), 0),
        ([15600], 15600),
        ([1, 15600], 15600),
        ((2, 3, 4), 24),
        ([2, 0, 3], 0),
        (array.array("i", [1, 521]), 521),
        ([-1, 5], -5),
    ],
)
def test_compute_flat_size(shape: Any, size: int) -> None:
    assert writer_utils.compute_flat_size(shape) == size


def test_compute_flat_size_rejects_non_integers() -> None:
    with pytest.raises(MetadataValidationError, match="dimensions should be integers"):
        writer_utils.compute_flat_size(["a", 2])


def test_tensor_queries(small_model: bytes) -> None:
    assert writer_utils.get_input_tensor_names(small_model) == ["serving_default_waveform:0"]
    assert writer_utils.get_output_tensor_names(small_model) == ["StatefulPartitionedCall_1:0"]
    types = writer_utils.get_input_tensor_types(small_model) + writer_utils.get_output_tensor_types(
        small_model
    )
    assert types == [0, 0] and all(type(t) is int for t in types)
    assert writer_utils.get_input_tensor_shapes(small_model) == [(1, 15600)]
    assert writer_utils.get_output_tensor_shapes(small_model) == [(1, 10)]
    shape = writer_utils.get_input_tensor_shape(small_model, 0)
    assert isinstance(shape, array.array) and list(shape) == [1, 15600]
    assert list(writer_utils.get_output_tensor_shape(small_model, 0)) == [1, 10]
    assert writer_utils.compute_flat_size(shape) == 15600


def test_tensor_queries_accept_every_buffer_type(small_model: bytes) -> None:
    for buffer in (bytes(small_model), bytearray(small_model), memoryview(small_model)):
        assert writer_utils.get_output_tensor_names(buffer) == ["StatefulPartitionedCall_1:0"]


@pytest.mark.parametrize("index", [1, -1, "0"])
def test_tensor_shape_index_errors(small_model: bytes, index: Any) -> None:
    with pytest.raises(MetadataValidationError, match=r"input tensor index should be in \[0, 1\)"):
        writer_utils.get_input_tensor_shape(small_model, index)


def test_tensor_queries_on_garbage_raise_the_family() -> None:
    for garbage in (b"", b"\x00" * 3, b"\xff" * 64, b"\x10\x00\x00\x00TFL3" + b"\xff" * 40):
        with pytest.raises(MetadataError):
            writer_utils.get_input_tensor_names(garbage)


@pytest.mark.reference
def test_tensor_queries_match_reference(any_model: bytes) -> None:
    ref = reference()
    assert writer_utils.get_input_tensor_names(any_model) == ref.utils.get_input_tensor_names(
        any_model
    )
    assert writer_utils.get_output_tensor_names(any_model) == ref.utils.get_output_tensor_names(
        any_model
    )
    assert writer_utils.get_input_tensor_types(any_model) == ref.utils.get_input_tensor_types(
        any_model
    )
    assert writer_utils.get_output_tensor_types(any_model) == ref.utils.get_output_tensor_types(
        any_model
    )
    assert list(writer_utils.get_input_tensor_shape(any_model, 0)) == list(
        ref.utils.get_input_tensor_shape(any_model, 0)
    )


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\r\nb\xc3\xa9\n")
    assert writer_utils.load_file(path) == b"a\r\nb\xc3\xa9\n"
    assert writer_utils.load_file(str(path), "rb") == b"a\r\nb\xc3\xa9\n"
    assert writer_utils.load_file(path, "r") == "a\nbé\n"


def test_load_file_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="does not exist"):
        writer_utils.load_file(tmp_path / "missing")
    with pytest.raises(MetadataValidationError, match="mode should be 'rb'"):
        writer_utils.load_file(tmp_path, "wb")
    with pytest.raises(AssociatedFileError, match="cannot read file"):
        writer_utils.load_file(tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff")
    with pytest.raises(AssociatedFileError, match=r"not valid UTF-8 \(line 2\)"):
        writer_utils.load_file(bad, "r")


def test_save_file_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "model.tflite"
    target.write_bytes(b"old")
    writer_utils.save_file(b"new bytes", target)
    assert target.read_bytes() == b"new bytes"
    writer_utils.save_file(bytearray(b"x"), str(target), "wb")
    assert target.read_bytes() == b"x"
    writer_utils.save_file("text é", target, "w")
    assert target.read_bytes() == "text é".encode()
    assert os.listdir(tmp_path) == ["model.tflite"]  # no temporary file left


def test_save_file_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputWriteError, match="cannot write"):
        writer_utils.save_file(b"x", tmp_path / "missing-folder" / "f.bin")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("data", "mode", "message"),
    [
        (b"x", "ab", "mode should be 'wb'"),
        ("x", "wb", "mode 'wb' needs bytes, but got a str"),
        (3, "wb", "expected bytes, bytearray or memoryview, but got int"),
        (b"x", "w", "text mode 'w' needs a str, but got bytes"),
    ],
)
def test_save_file_errors(tmp_path: Path, data: Any, mode: str, message: str) -> None:
    with pytest.raises(MetadataValidationError, match=re.escape(message)):
        writer_utils.save_file(data, tmp_path / "f", mode)
    assert os.listdir(tmp_path) == []


def test_get_tokenizer_associated_files() -> None:
    def file(name: str) -> Any:
        associated = fb.AssociatedFileT()
        associated.name = name
        return associated

    bert = fb.BertTokenizerOptionsT()
    bert.vocabFile = [file("vocab.txt")]
    sentence_piece = fb.SentencePieceTokenizerOptionsT()
    sentence_piece.vocabFile = [file("v.txt")]
    sentence_piece.sentencePieceModel = [file("sp.model")]
    assert writer_utils.get_tokenizer_associated_files(None) == []
    assert writer_utils.get_tokenizer_associated_files(bert) == ["vocab.txt"]
    assert writer_utils.get_tokenizer_associated_files(sentence_piece) == ["v.txt", "sp.model"]
    assert writer_utils.get_tokenizer_associated_files(fb.RegexTokenizerOptionsT()) == []
    assert writer_utils.get_tokenizer_associated_files(fb.NormalizationOptionsT()) == []


# -- MetadataWriter: construction -----------------------------------------------------------


def test_writer_init_keeps_its_arguments() -> None:
    sources: list[Any] = ["a/labels.txt", info.LabelFileMd(labels=["x"])]
    metadata_writer = base.MetadataWriter(b"model", b"metadata", sources)
    sources.append("other.txt")
    assert metadata_writer._model_buffer == b"model"
    assert metadata_writer._metadata_buffer == b"metadata"
    assert len(metadata_writer._associated_files) == 2
    assert metadata_writer._populated_model_buffer is None
    assert base.MetadataWriter(bytearray(b"m"))._associated_files == []


def test_writer_init_reads_a_model_path(tmp_path: Path) -> None:
    path = tmp_path / "m.tflite"
    path.write_bytes(b"model bytes")
    assert base.MetadataWriter(path)._model_buffer == b"model bytes"
    with pytest.raises(MissingFileError):
        base.MetadataWriter(tmp_path / "missing.tflite")


@pytest.mark.parametrize(
    ("model", "files", "message"),
    [
        (None, None, "model_buffer cannot be empty."),
        (b"", None, "model_buffer cannot be empty."),
        (
            3,
            None,
            "model_buffer should be the model's bytes (bytes, bytearray or memoryview) or "
            "its path, but got int.",
        ),
        (
            b"m",
            [3],
            "associated_files should hold file paths or AssociatedFileMd, but got int (3).",
        ),
    ],
)
def test_writer_init_errors(model: Any, files: Any, message: str) -> None:
    with pytest.raises(MetadataValidationError, match=re.escape(message)):
        base.MetadataWriter(model, None, files)


# -- MetadataWriter.create_from_metadata ---------------------------------------------------


def test_create_from_metadata_defaults(two_heads: bytes) -> None:
    metadata_writer = base.MetadataWriter.create_from_metadata(two_heads)
    assert type(metadata_writer) is base.MetadataWriter
    metadata = decoded(metadata_writer)
    subgraph = metadata.subgraphMetadata[0]
    assert [t.name for t in subgraph.inputTensorMetadata] == [b"serving_default_waveform:0"]
    assert [t.name for t in subgraph.outputTensorMetadata] == [
        b"StatefulPartitionedCall_1:1",
        b"StatefulPartitionedCall_1:0",
    ]
    assert metadata.name is None and subgraph.inputProcessUnits is None
    assert metadata_writer._associated_files == []


def test_create_from_metadata_does_not_modify_its_arguments(small_model: bytes) -> None:
    model_metadata = fb.ModelMetadataT()
    model_metadata.name = "m"
    input_metadata = [fb.TensorMetadataT()]
    output_metadata = [fb.TensorMetadataT()]
    output_metadata[0].name = "scores"
    unit = info.ScoreCalibrationMd(LOG, 0.1, parameters=[]).create_metadata()
    inputs, outputs = list(input_metadata), list(output_metadata)
    metadata_writer = base.MetadataWriter.create_from_metadata(
        small_model, model_metadata, inputs, outputs, None, [unit], [unit]
    )
    assert model_metadata.subgraphMetadata is None
    assert input_metadata[0].name is None and inputs == input_metadata
    assert outputs == output_metadata
    metadata = decoded(metadata_writer)
    subgraph = metadata.subgraphMetadata[0]
    assert metadata.name == b"m"
    assert subgraph.inputTensorMetadata[0].name == b"serving_default_waveform:0"
    assert subgraph.outputTensorMetadata[0].name == b"scores"
    assert subgraph.inputProcessUnits[0].options.defaultScore == pytest.approx(0.1)
    assert len(subgraph.outputProcessUnits) == 1


def test_create_from_metadata_encode_error(small_model: bytes) -> None:
    model_metadata = fb.ModelMetadataT()
    model_metadata.name = 5
    with pytest.raises(MetadataValidationError, match="cannot encode ModelMetadataT"):
        base.MetadataWriter.create_from_metadata(small_model, model_metadata)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"input_metadata": [None]},
            "input_metadata[0] should be a TensorMetadataT, but got NoneType.",
        ),
        (
            {"output_metadata": ["x"]},
            "output_metadata[0] should be a TensorMetadataT, but got str.",
        ),
        ({"model_metadata": 3}, "model_metadata[0] should be a ModelMetadataT, but got int."),
    ],
)
def test_create_from_metadata_wrong_objects(
    small_model: bytes, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(MetadataValidationError, match=re.escape(message)):
        base.MetadataWriter.create_from_metadata(small_model, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"general_md": "g"}, "general_md[0] should be a GeneralMd, but got str."),
        ({"input_md": [None]}, "input_md[0] should be a TensorMd, but got NoneType."),
        ({"output_md": [info.TensorMd(), 1]}, "output_md[1] should be a TensorMd, but got int."),
    ],
)
def test_create_from_metadata_info_wrong_objects(
    small_model: bytes, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(MetadataValidationError, match=re.escape(message)):
        base.MetadataWriter.create_from_metadata_info(small_model, **kwargs)


# -- MetadataWriter.create_from_metadata_info ----------------------------------------------


def test_create_from_metadata_info_orders_by_tensor_name(two_heads: bytes) -> None:
    first = info.TensorMd(name="head for :0", tensor_name="StatefulPartitionedCall_1:0")
    second = info.TensorMd(name="head for :1", tensor_name="StatefulPartitionedCall_1:1")
    output_md = [first, second]
    metadata_writer = base.MetadataWriter.create_from_metadata_info(two_heads, output_md=output_md)
    outputs = decoded(metadata_writer).subgraphMetadata[0].outputTensorMetadata
    assert [t.name for t in outputs] == [b"head for :1", b"head for :0"]
    assert output_md == [first, second]


def test_create_from_metadata_info_keeps_order_without_tensor_names(two_heads: bytes) -> None:
    metadata_writer = base.MetadataWriter.create_from_metadata_info(
        two_heads, info.GeneralMd("g"), [info.TensorMd()], [info.TensorMd("x"), info.TensorMd()]
    )
    metadata = decoded(metadata_writer)
    outputs = metadata.subgraphMetadata[0].outputTensorMetadata
    assert [t.name for t in outputs] == [b"x", b"StatefulPartitionedCall_1:0"]
    assert metadata.name == b"g"


def test_create_from_metadata_info_name_mismatch(two_heads: bytes) -> None:
    output_md = [
        info.TensorMd(tensor_name="a"),
        info.TensorMd(tensor_name="StatefulPartitionedCall_1:0"),
    ]
    with pytest.raises(MetadataValidationError) as error:
        base.MetadataWriter.create_from_metadata_info(two_heads, output_md=output_md)
    assert str(error.value) == (
        "The tensor names from arguments (['a', 'StatefulPartitionedCall_1:0']) do not match "
        "the tensor names read from the model (['StatefulPartitionedCall_1:1', "
        "'StatefulPartitionedCall_1:0'])."
    )


def test_create_from_metadata_info_some_names_missing(two_heads: bytes) -> None:
    output_md = [
        info.TensorMd(),
        info.TensorMd(tensor_name="StatefulPartitionedCall_1:1"),
        info.TensorMd(tensor_name="StatefulPartitionedCall_1:0"),
    ]
    with pytest.raises(MetadataValidationError, match=r"the items at \[0\] have none"):
        base.MetadataWriter.create_from_metadata_info(two_heads, output_md=output_md)


# -- MetadataWriter.populate and JSON ------------------------------------------------------


def test_populate_without_metadata(small_model: bytes) -> None:
    with pytest.raises(MetadataValidationError, match=r"^The metadata to be populated is empty\.$"):
        base.MetadataWriter(small_model).populate()


def test_get_metadata_json_without_metadata() -> None:
    with pytest.raises(MetadataValidationError, match="no metadata buffer"):
        base.MetadataWriter(b"model").get_metadata_json()


def test_populate_packs_files_from_paths_and_memory(
    small_model: bytes, files: dict[str, Path]
) -> None:
    from tflite_metadata.archive.associated_files import find_zip

    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model,
        16000,
        1,
        [files["labels"], info.LabelFileMd("fr.txt", "fr", labels=["x"])],
        info.ScoreCalibrationMd(LOG, 0.2, parameters=[[1, 2, 3]] * 3),
    )
    populated = metadata_writer.populate()
    assert type(populated) is bytes  # as tflite-support, which reads it back from a file
    assert metadata_writer.populate() is populated  # computed once
    tail = find_zip(populated)
    assert tail is not None
    assert sorted(tail.names()) == ["fr.txt", "labels.txt", "score_calibration.txt"]
    assert tail.read("fr.txt") == b"x\n"
    assert tail.read("labels.txt") == files["labels"].read_bytes()
    assert tail.read("score_calibration.txt") == b"1.0,2.0,3.0\n1.0,2.0,3.0\n1.0,2.0,3.0"


def test_populate_missing_label_file(small_model: bytes, tmp_path: Path) -> None:
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model, 16000, 1, [tmp_path / "missing.txt"]
    )
    with pytest.raises(MissingFileError, match=r"missing\.txt', does not exist"):
        metadata_writer.populate()


def test_populate_non_utf8_label_file(small_model: bytes, tmp_path: Path) -> None:
    bad = tmp_path / "labels.txt"
    bad.write_bytes(b"ok\nnot \xff ok\n")
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model, 16000, 1, [bad]
    )
    with pytest.raises(
        AssociatedFileError, match=r"labels.txt' is not valid UTF-8: line 2, column 5"
    ):
        metadata_writer.populate()


def test_populate_same_name_different_content(small_model: bytes, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "labels.txt").write_text("x\n")
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model, 16000, 1, [tmp_path / "a" / "labels.txt", info.LabelFileMd(labels=["y"])]
    )
    with pytest.raises(AssociatedFileError, match=r"File, 'labels\.txt', is given twice"):
        metadata_writer.populate()


def test_populate_same_file_twice_is_fine(two_heads: bytes, files: dict[str, Path]) -> None:
    heads = [
        info.ClassificationTensorMd("h1", label_files=[info.LabelFileMd(files["labels"])]),
        info.ClassificationTensorMd("h2", label_files=[info.LabelFileMd(files["labels"])]),
    ]
    metadata_writer = (
        audio_classifier.AudioClassifierWriter.create_from_metadata_info_for_multihead(
            two_heads, output_md_list=heads
        )
    )
    assert len(metadata_writer.populate()) > len(two_heads)


def test_populate_leaves_the_model_untouched(small_model: bytes, files: dict[str, Path]) -> None:
    model = bytearray(small_model)
    audio_classifier.AudioClassifierWriter.create_for_inference(
        model, 16000, 1, [files["labels"]]
    ).populate()
    assert model == small_model


def test_populate_warns_about_what_consumers_refuse(small_model: bytes) -> None:
    from tflite_metadata.errors import ConsumerCompatibilityWarning

    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model, 16000, 1, [info.LabelFileMd(labels=["a", "b", "c"])]
    )
    with pytest.warns(ConsumerCompatibilityWarning, match="labels") as caught:
        populated = metadata_writer.populate()
    assert caught[0].filename == __file__  # points at the caller's line
    assert len(populated) > len(small_model)  # written all the same, as tflite-support


def test_populate_does_not_warn_for_a_good_model(small_model: bytes) -> None:
    import warnings

    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model,
        16000,
        1,
        [info.LabelFileMd(labels=list("abcdefghij"))],
        info.ScoreCalibrationMd(LOG, 0.2, parameters=[[1.0, 2.0, 3.0]] * 10),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metadata_writer.populate()


def test_get_populated_metadata_json(small_model: bytes, files: dict[str, Path]) -> None:
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model, 16000, 1, [files["labels"]]
    )
    populated_json = metadata_writer.get_populated_metadata_json()
    assert '"min_parser_version": "1.3.0"' in populated_json
    assert '"min_parser_version"' not in metadata_writer.get_metadata_json()


# -- AudioClassifierWriter -------------------------------------------------------------------


@pytest.mark.parametrize("argument", ["sample_rate", "channels"])
@pytest.mark.parametrize("value", [0, -1, -16000])
def test_create_for_inference_positivity(small_model: bytes, argument: str, value: int) -> None:
    kwargs = {"sample_rate": 16000, "channels": 1, argument: value}
    with pytest.raises(MetadataValidationError) as error:
        audio_classifier.AudioClassifierWriter.create_for_inference(
            small_model, label_file_paths=[], **kwargs
        )
    assert str(error.value) == f"{argument} should be positive, but got {value}."


@pytest.mark.parametrize("value", ["16000", None, True, [1]])
def test_create_for_inference_non_numbers(value: Any) -> None:
    with pytest.raises(MetadataValidationError, match="sample_rate should be a positive integer"):
        audio_classifier.AudioClassifierWriter.create_for_inference(b"model", value, 1, [])


def test_create_for_inference_single_path_is_refused(small_model: bytes) -> None:
    with pytest.raises(MetadataValidationError, match="got a single path; wrap it in a list"):
        audio_classifier.AudioClassifierWriter.create_for_inference(
            small_model, 16000, 1, "labels.txt"
        )


def test_create_for_inference_metadata(small_model: bytes, files: dict[str, Path]) -> None:
    label_paths = [str(files["labels"])]
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model, 16000, 2, label_paths, info.ScoreCalibrationMd(LOG, 0.2, files["calibration"])
    )
    assert type(metadata_writer) is audio_classifier.AudioClassifierWriter
    assert label_paths == [str(files["labels"])]
    metadata = decoded(metadata_writer)
    assert metadata.name == b"AudioClassifier"
    assert metadata.description == (
        b"Identify the most prominent type in the audio clip from a known set of categories."
    )
    (subgraph,) = metadata.subgraphMetadata
    (audio,) = subgraph.inputTensorMetadata
    assert (audio.name, audio.description) == (b"audio_clip", b"Input audio clip to be classified.")
    assert audio.content.contentPropertiesType == fb.ContentProperties.AudioProperties
    assert (
        audio.content.contentProperties.sampleRate,
        audio.content.contentProperties.channels,
    ) == (
        16000,
        2,
    )
    (output,) = subgraph.outputTensorMetadata
    assert (output.name, output.description) == (
        b"probability",
        b"Scores of the labels respectively.",
    )
    assert (output.stats.min, output.stats.max) == ([0.0], [1.0])
    assert [f.name for f in output.associatedFiles] == [b"labels.txt", b"score_calibration.txt"]
    assert output.processUnits[0].options.scoreTransformation == LOG
    sources = metadata_writer._associated_files
    assert [base._associated_file_name(s) for s in sources] == [
        "labels.txt",
        "score_calibration.txt",
    ]


@pytest.mark.parametrize(
    ("model", "low", "high"),
    [("built-uint8", [0.0], [255.0]), ("built-float32", [0.0], [1.0]), ("built-int8", None, None)],
)
def test_create_for_inference_stats_follow_output_type(model: str, low: Any, high: Any) -> None:
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        load_model(model), 8000, 1, []
    )
    output = decoded(metadata_writer).subgraphMetadata[0].outputTensorMetadata[0]
    assert (output.stats.min, output.stats.max) == (low, high)
    assert output.associatedFiles is None


def test_create_from_metadata_info_defaults(small_model: bytes) -> None:
    metadata_writer = audio_classifier.AudioClassifierWriter.create_from_metadata_info(small_model)
    assert type(metadata_writer) is audio_classifier.AudioClassifierWriter
    subgraph = decoded(metadata_writer).subgraphMetadata[0]
    audio = subgraph.inputTensorMetadata[0]
    assert audio.content.contentProperties.sampleRate == 0
    output = subgraph.outputTensorMetadata[0]
    assert output.name == b"probability"
    # The default output has no tensor type, hence no stats.
    assert output.stats.max is None
    assert metadata_writer._associated_files == []


def test_multihead_defaults(two_heads: bytes) -> None:
    metadata_writer = (
        audio_classifier.AudioClassifierWriter.create_from_metadata_info_for_multihead(two_heads)
    )
    subgraph = decoded(metadata_writer).subgraphMetadata[0]
    assert [t.name for t in subgraph.outputTensorMetadata] == [
        b"StatefulPartitionedCall_1:1",
        b"StatefulPartitionedCall_1:0",
    ]
    assert subgraph.outputTensorMetadata[0].content is None


def test_multihead_reorders_and_keeps_caller_lists(
    two_heads: bytes, files: dict[str, Path]
) -> None:
    head_10 = info.ClassificationTensorMd(
        "head10",
        label_files=[info.LabelFileMd(labels=list("abcdefghij"))],
        tensor_name="StatefulPartitionedCall_1:0",
    )
    labels_5 = [info.LabelFileMd("five.txt", labels=list("abcde"))]
    head_5 = info.ClassificationTensorMd(
        "head5",
        label_files=labels_5,
        score_calibration_md=info.ScoreCalibrationMd(LOG, 0.5, files["calibration2"]),
        tensor_name="StatefulPartitionedCall_1:1",
    )
    heads = [head_10, head_5]
    metadata_writer = (
        audio_classifier.AudioClassifierWriter.create_from_metadata_info_for_multihead(
            two_heads, output_md_list=heads
        )
    )
    assert heads == [head_10, head_5] and len(labels_5) == 1
    outputs = decoded(metadata_writer).subgraphMetadata[0].outputTensorMetadata
    assert [t.name for t in outputs] == [b"head5", b"head10"]
    # Associated files in the order of the list given, as tflite-support.
    assert [base._associated_file_name(s) for s in metadata_writer._associated_files] == [
        "labels.txt",
        "five.txt",
        "calibration_head2.txt",
    ]


def test_multihead_name_mismatch(two_heads: bytes) -> None:
    heads = [info.ClassificationTensorMd(tensor_name="Identity")]
    with pytest.raises(
        MetadataValidationError, match=r"^The tensor names from arguments \(\['Identity'\]\)"
    ):
        audio_classifier.AudioClassifierWriter.create_from_metadata_info_for_multihead(
            two_heads, output_md_list=heads
        )


def test_create_for_inference_bad_model() -> None:
    with pytest.raises(MetadataError):
        audio_classifier.AudioClassifierWriter.create_for_inference(b"\x00" * 64, 16000, 1, [])


# -- golden: tflite-support's expected JSON ---------------------------------------------------


def test_golden_create_for_inference(tmp_path: Path) -> None:
    model = read_testdata("tflite-support/yamnet_wavin_quantized_mel_relu6.tflite")
    expected = read_testdata("tflite-support/yamnet_wavin_quantized_mel_relu6.json").decode()
    calibration = tmp_path / "score_calibration.txt"
    calibration.write_bytes(b"1.0,2.0,3.0,4.0")
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        model,
        2,
        1,
        [str(TESTDATA / "tflite-support/yamnet_521_labels.txt")],
        info.ScoreCalibrationMd(LOG, 0.2, calibration),
    )
    assert metadata_writer.get_metadata_json() == expected


def test_golden_default() -> None:
    model = read_testdata("tflite-support/yamnet_wavin_quantized_mel_relu6.tflite")
    expected = read_testdata(
        "tflite-support/yamnet_wavin_quantized_mel_relu6_default.json"
    ).decode()
    metadata_writer = audio_classifier.AudioClassifierWriter.create_from_metadata_info(model)
    assert metadata_writer.get_metadata_json() == expected


# -- differential: every writer path against tflite-support 0.4.4 ------------------------------

# A path builds a writer with either implementation: path(module_set, model, files).
WriterPath = Callable[[Any, bytes, dict[str, Path]], Any]


class Ours:
    """Our modules under tflite-support's names, for paths written once for both."""

    fb = fb
    info = info
    audio = compat_audio
    base = compat_writer


def _inference_without_calibration(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    return m.audio.MetadataWriter.create_for_inference(model, 16000, 1, [str(f["labels"])])


def _inference_with_calibration(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    calibration = m.info.ScoreCalibrationMd(LOG, 0.2, str(f["calibration"]))
    return m.audio.MetadataWriter.create_for_inference(
        model, 44100, 2, [str(f["labels"]), str(f["labels_fr"])], calibration
    )


def _inference_no_labels(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    return m.audio.MetadataWriter.create_for_inference(model, 1, 1, [])


def _info_default(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    return m.audio.MetadataWriter.create_from_metadata_info(model)


def _info_custom(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    general = m.info.GeneralMd("My classifier", "v2", "Classifies.", "Someone", "Apache-2.0")
    audio = m.info.InputAudioTensorMd("waveform", "16 kHz mono.", 16000, 1)
    output_type = writer_utils.get_output_tensor_types(model)[0]
    output = m.info.ClassificationTensorMd(
        "scores",
        "Class scores.",
        [m.info.LabelFileMd(str(f["labels"]), "en"), m.info.LabelFileMd(str(f["labels_fr"]), "fr")],
        output_type,
        m.info.ScoreCalibrationMd(
            fb.ScoreTransformationType.INVERSE_LOGISTIC, 0.0, str(f["calibration2"])
        ),
    )
    return m.audio.MetadataWriter.create_from_metadata_info(model, general, audio, output)


def _multihead_default(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    return m.audio.MetadataWriter.create_from_metadata_info_for_multihead(model)


def _multihead_reordered(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    names = writer_utils.get_output_tensor_names(model)
    heads = [
        m.info.ClassificationTensorMd(
            f"head{i}",
            label_files=[
                m.info.LabelFileMd(str(f["labels"]), "en"),
                m.info.LabelFileMd(f"cn_{i}.txt", "cn"),
            ],
            tensor_type=3 if i else 0,
            score_calibration_md=m.info.ScoreCalibrationMd(LOG, 0.1 * i, str(f["calibration"])),
            tensor_name=name,
        )
        for i, name in enumerate(names)
    ]
    general = m.info.GeneralMd(name="AudioClassifier")
    audio = m.info.InputAudioTensorMd(name="audio_clip", sample_rate=2, channels=1)
    return m.audio.MetadataWriter.create_from_metadata_info_for_multihead(
        model, general, audio, list(reversed(heads))
    )


def _raw_objects(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    model_metadata = m.fb.ModelMetadataT()
    model_metadata.name = "raw"
    model_metadata.version = "1"
    inputs = []
    for _ in writer_utils.get_input_tensor_names(model):
        tensor = m.fb.TensorMetadataT()
        tensor.dimensionNames = ["batch", "samples"]
        inputs.append(tensor)
    outputs = []
    for i, _ in enumerate(writer_utils.get_output_tensor_names(model)):
        tensor = m.fb.TensorMetadataT()
        tensor.name = f"out{i}" if i else None
        stats = m.fb.StatsT()
        stats.max, stats.min = [1.0], [0.0]
        tensor.stats = stats
        outputs.append(tensor)
    unit = m.fb.ProcessUnitT()
    unit.optionsType = m.fb.ProcessUnitOptions.ScoreThresholdingOptions
    unit.options = m.fb.ScoreThresholdingOptionsT()
    unit.options.globalScoreThreshold = 0.5
    return m.base.MetadataWriter.create_from_metadata(
        model, model_metadata, inputs, outputs, [str(f["labels"])], None, [unit]
    )


def _base_from_info(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    inputs = [
        m.info.TensorMd("in", "Input.", [-1.0], [1.0])
        for _ in writer_utils.get_input_tensor_names(model)
    ]
    outputs = [
        m.info.CategoryTensorMd("cat", "Categories.", [m.info.LabelFileMd(str(f["labels"]))])
        for _ in writer_utils.get_output_tensor_names(model)
    ]
    return m.base.MetadataWriter.create_from_metadata_info(
        model, m.info.GeneralMd("base"), inputs, outputs, [str(f["labels"])]
    )


def _base_empty(m: Any, model: bytes, f: dict[str, Path]) -> Any:
    return m.base.MetadataWriter.create_from_metadata(model)


WRITER_PATHS: dict[str, WriterPath] = {
    "create_for_inference": _inference_without_calibration,
    "create_for_inference+calibration+locales": _inference_with_calibration,
    "create_for_inference-no-labels": _inference_no_labels,
    "create_from_metadata_info-default": _info_default,
    "create_from_metadata_info-custom": _info_custom,
    "multihead-default": _multihead_default,
    "multihead-reordered": _multihead_reordered,
    "create_from_metadata-raw-objects": _raw_objects,
    "base-create_from_metadata_info": _base_from_info,
    "base-create_from_metadata-empty": _base_empty,
}


@pytest.fixture(params=list(WRITER_PATHS))
def writer_path(request: pytest.FixtureRequest) -> WriterPath:
    return WRITER_PATHS[request.param]


@pytest.mark.reference
def test_reference_metadata_buffer(
    any_model: bytes, writer_path: WriterPath, files: dict[str, Path]
) -> None:
    ref = reference()
    ours = writer_path(Ours, any_model, files)
    theirs = writer_path(ref, any_model, files)
    assert bytes(ours._metadata_buffer) == bytes(theirs._metadata_buffer)


@pytest.mark.reference
def test_reference_metadata_json(
    any_model: bytes, writer_path: WriterPath, files: dict[str, Path]
) -> None:
    ref = reference()
    ours = writer_path(Ours, any_model, files)
    theirs = writer_path(ref, any_model, files)
    assert ours.get_metadata_json() == theirs.get_metadata_json()


@pytest.mark.reference
def test_reference_writer_with_our_metadata_buffer(small_model: bytes) -> None:
    """The base class constructed directly, with a buffer and files, as tflite-support's."""
    ref = reference()
    buffer = audio_classifier.AudioClassifierWriter.create_for_inference(
        small_model, 8000, 1, []
    )._metadata_buffer
    ours = compat_writer.MetadataWriter(small_model, buffer, ["labels.txt"])
    theirs = ref.base.MetadataWriter(small_model, bytearray(buffer), ["labels.txt"])
    assert ours.get_metadata_json() == theirs.get_metadata_json()


@pytest.mark.reference
@pytest.mark.parametrize("argument", ["sample_rate", "channels"])
@pytest.mark.parametrize("value", [0, -1])
def test_reference_positivity_messages(small_model: bytes, argument: str, value: int) -> None:
    ref = reference()
    kwargs = {"sample_rate": 16000, "channels": 1, argument: value, "label_file_paths": []}
    with pytest.raises(ValueError) as theirs:
        ref.audio.MetadataWriter.create_for_inference(small_model, **kwargs)
    with pytest.raises(MetadataValidationError) as ours:
        compat_audio.MetadataWriter.create_for_inference(small_model, **kwargs)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.reference
def test_reference_name_mismatch_message(two_heads: bytes) -> None:
    ref = reference()

    def run(m: Any) -> str:
        heads = [m.info.ClassificationTensorMd(tensor_name=n) for n in ("x", "y")]
        with pytest.raises(ValueError) as error:
            m.audio.MetadataWriter.create_from_metadata_info_for_multihead(
                two_heads, output_md_list=heads
            )
        return str(error.value)

    assert run(Ours) == run(ref)


@pytest.mark.reference
def test_reference_populated_json(files: dict[str, Path]) -> None:
    ref = reference()
    model = read_testdata("tflite-support/model_without_metadata.tflite")
    ours = _inference_with_calibration(Ours, model, files)
    theirs = _inference_with_calibration(ref, model, files)
    assert ours.get_populated_metadata_json() == theirs.get_populated_metadata_json()
    # tflite-support's populate() reads its result back from a file: bytes.
    assert type(ours.populate()) is type(theirs.populate()) is bytes


@pytest.mark.reference
def test_reference_does_not_mutate_where_tflite_support_did(files: dict[str, Path]) -> None:
    """tflite-support appended the calibration file to the caller's label list."""
    ref = reference()
    for m, mutated in ((ref, True), (Ours, False)):
        labels = [m.info.LabelFileMd("labels.txt")]
        calibration = m.info.ScoreCalibrationMd(LOG, 0.2, str(files["calibration"]))
        m.info.ClassificationTensorMd(label_files=labels, score_calibration_md=calibration)
        assert (len(labels) == 2) is mutated
