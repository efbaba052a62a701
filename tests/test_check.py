"""Tests of tflite_metadata.check: the rules the consumers apply when they load a model.

Each rule is exercised on a model made by the project's model builder and
written by the project's writer (or, for what the writer refuses to write,
altered afterwards), and must report exactly its problem, with the numbers
expected and found. A differential test runs the real consumers (Task Library,
MediaPipe) on the same models: they must refuse exactly the models ``check``
says they refuse.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile
from pathlib import Path
from typing import Any, Optional

import pytest

import consumer_env
from tflite_metadata import check as check_module
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata.archive.associated_files import find_zip
from tflite_metadata.check import (
    MEDIAPIPE,
    TASK_LIBRARY,
    Code,
    Problem,
    calibration_entry_count,
    check,
    label_counts,
    printable,
    warn_for_problems,
)
from tflite_metadata.errors import (
    ConsumerCompatibilityWarning,
    MissingFileError,
    ModelFormatError,
)
from tflite_metadata.format import codec
from tflite_metadata.metadata_writers import metadata_info as info
from tflite_metadata.tasks import audio_classifier, base, writer_utils

LOG = fb.ScoreTransformationType.LOG
BOTH = (TASK_LIBRARY, MEDIAPIPE)
CLASSES = 7


# -- models -------------------------------------------------------------------------------


def build(**kwargs: Any) -> bytes:
    """A model without metadata from the project's model builder."""
    from tflite_metadata import _model_builder as builder

    kwargs.setdefault("heads", [CLASSES])
    return bytes(builder.build_audio_classifier(**kwargs))


def classes_of(model: bytes, output: int = 0) -> int:
    shape = writer_utils.get_output_tensor_shapes(model)[output]
    count = 1
    for dim in shape:
        count *= dim
    return count


def label_text(count: int) -> bytes:
    return "".join(f"class {i}\n" for i in range(count)).encode()


def calibration_text(count: int) -> bytes:
    return "\n".join("1.0,2.0,0.5" for _ in range(count)).encode()


def write(
    model: bytes,
    *,
    sample_rate: int = 16000,
    channels: int = 1,
    labels: Optional[bytes] = None,
    extra_labels: tuple[tuple[str, str, bytes], ...] = (),
    calibration: Optional[bytes] = None,
    pack_labels: bool = True,
) -> bytes:
    """``model`` with audio classifier metadata, written by the project's writer.

    ``labels`` and ``calibration`` are packed exactly as given, bypassing the
    writer's own validation, so that files the consumers refuse can be made.
    """
    classes = classes_of(model)
    if labels is None:
        labels = label_text(classes)
    label_files = [info.LabelFileMd("labels.txt", content=labels)] if pack_labels else []
    label_files += [
        info.LabelFileMd(name, locale, content=data) for name, locale, data in extra_labels
    ]
    calibration_md = None
    files: list[Any] = list(label_files)
    if calibration is not None:
        # Recorded with valid parameters; packed with the bytes under test.
        calibration_md = info.ScoreCalibrationMd(
            LOG, 0.2, "calibration.txt", parameters=[[1.0, 2.0, 0.5]]
        )
        files.append(
            info.AssociatedFileMd(
                "calibration.txt",
                file_type=fb.AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION,
                content=calibration,
            )
        )
    output_md = info.ClassificationTensorMd(
        name="probability",
        label_files=label_files,
        tensor_type=writer_utils.get_output_tensor_types(model)[0],
        score_calibration_md=calibration_md,
    )
    input_md = info.InputAudioTensorMd("audio_clip", None, sample_rate, channels)
    metadata_writer = base.MetadataWriter.create_from_metadata_info(
        model, info.GeneralMd(name="test"), [input_md], [output_md], associated_files=files
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        return bytes(metadata_writer.populate())


def write_objects(model: bytes, change: Any) -> bytes:
    """``model`` with metadata made through the object API, after ``change(output_md)``."""
    classes = classes_of(model)
    label_md = info.LabelFileMd("labels.txt", content=label_text(classes))
    calibration_md = info.ScoreCalibrationMd(LOG, 0.2, parameters=[[1.0, 2.0, 0.5]] * classes)
    output_md = info.ClassificationTensorMd(
        name="probability",
        label_files=[label_md],
        tensor_type=writer_utils.get_output_tensor_types(model)[0],
        score_calibration_md=calibration_md,
    ).create_metadata()
    change(output_md)
    input_md = info.InputAudioTensorMd("audio_clip", None, 16000, 1).create_metadata()
    metadata_writer = base.MetadataWriter.create_from_metadata(
        model,
        info.GeneralMd(name="test").create_metadata(),
        [input_md],
        [output_md],
        associated_files=[label_md, calibration_md.create_score_calibration_file_md()],
    )
    with warnings.catch_warnings():
        # Consumer problems are what the tests look for; an unrecorded file is on purpose.
        warnings.simplefilter("ignore")
        return bytes(metadata_writer.populate())


def rezip(model: bytes, compression: int = zipfile.ZIP_STORED, rename: Any = None) -> bytes:
    """``model`` with its associated files re-packed (compressed, renamed …)."""
    tail = find_zip(model)
    assert tail is not None
    files = {name: tail.read(name) for name in tail.names()}
    stream = io.BytesIO(model[: tail.start])
    stream.seek(0, io.SEEK_END)
    # Appending to a non-zip writes a fresh archive after it, offsets from the file start.
    with zipfile.ZipFile(stream, "a", compression=compression) as archive:
        for name, content in files.items():
            archive.writestr(rename(name) if rename else name, content)
    return stream.getvalue()


def lying_local_header(model: bytes, offset: int, fmt: str, *values: int) -> bytes:
    """``model`` whose first packed file's local header disagrees with the central directory."""
    tail = find_zip(model)
    assert tail is not None
    patched = bytearray(model)
    struct.pack_into(fmt, patched, tail.entries[0].header_offset + offset, *values)
    return bytes(patched)


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


@pytest.fixture(scope="module")
def model() -> bytes:
    return build()


@pytest.fixture(scope="module")
def classes(model: bytes) -> int:
    return classes_of(model)


@pytest.fixture(scope="module")
def good(model: bytes) -> bytes:
    return write(model, calibration=calibration_text(classes_of(model)))


# -- a model the consumers accept ---------------------------------------------------------------


def test_a_well_formed_model_has_no_problems(good: bytes) -> None:
    assert check(good) == []


def test_the_writers_default_output_has_no_problems(model: bytes, classes: int) -> None:
    labels = [f"class {i}" for i in range(classes)]
    metadata_writer = audio_classifier.AudioClassifierWriter.create_for_inference(
        model,
        16000,
        1,
        [info.LabelFileMd(labels=labels), info.LabelFileMd("fr.txt", "fr", labels=labels)],
        info.ScoreCalibrationMd(
            LOG,
            0.2,
            parameters=[[1.0, 2.0, 0.5], None] * (classes // 2)
            + [[1.0, 2.0, 0.5, 0.1]] * (classes % 2),
        ),
    )
    assert check(bytes(metadata_writer.populate())) == []


def test_check_accepts_bytes_bytearray_memoryview_and_paths(good: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.tflite"
    path.write_bytes(good)
    bad = write(build(), labels=label_text(3))
    bad_path = tmp_path / "bad.tflite"
    bad_path.write_bytes(bad)
    expected = check(bad)
    assert expected
    assert check(bytearray(bad)) == expected
    assert check(memoryview(bad)) == expected
    assert check(bad_path) == expected
    assert check(str(bad_path)) == expected
    assert check(path) == []


def test_a_junk_model_is_an_error_not_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError):
        check(b"this is not a model at all")
    with pytest.raises(MissingFileError):
        check(tmp_path / "missing.tflite")


# -- metadata -------------------------------------------------------------------------------------


def test_no_metadata(model: bytes) -> None:
    problems = check(model)
    assert codes(problems) == ["no-metadata"]
    assert problems[0].location == "model"
    assert problems[0].consumers == BOTH


def test_metadata_with_a_wrong_identifier(good: bytes) -> None:
    from tflite_metadata.model.reader import ModelView

    metadata = bytes(ModelView(good).metadata_buffer())
    at = good.find(metadata)
    assert at > 0
    broken = bytearray(good)
    broken[at + 4 : at + 8] = b"X001"
    problems = check(bytes(broken))
    assert codes(problems) == ["metadata-malformed"]
    assert "expected b'M001'" in problems[0].message


def dangle(model: bytes, kind: str = "output", position: int = 0, index: int = 999) -> bytes:
    """``model`` with its subgraph's input or output ``position`` naming tensor ``index``."""
    from tflite_metadata.format.model_schema import SubGraphField
    from tflite_metadata.model.reader import ModelView

    data = bytearray(model)
    field = SubGraphField.INPUTS if kind == "input" else SubGraphField.OUTPUTS
    vector = ModelView(data)._subgraph(0).vector(field, 4, kind)
    assert vector is not None
    struct.pack_into("<i", data, vector.start + 4 * position, index)
    return bytes(data)


def with_parser_version(populated: bytes, version: str) -> bytes:
    """``populated`` with its metadata's ``min_parser_version`` (5 characters) replaced."""
    from tflite_metadata.model.reader import ModelView

    metadata = ModelView(populated).metadata_buffer()
    assert metadata is not None
    current = codec.decode(bytes(metadata)).minParserVersion
    assert len(current) == len(version) and populated.count(current) == 1
    return populated.replace(current, version.encode())


@pytest.mark.parametrize(
    ("version", "refused"), [("1.6.0", True), ("2.0.0", True), ("1.5.0", False), ("1.0.1", False)]
)
def test_a_metadata_parser_version_newer_than_mediapipe_s(
    model: bytes, version: str, refused: bool
) -> None:
    """The rule is task-generic: here on an audio classifier (image: test_image_classifier)."""
    problems = check(with_parser_version(write(model), version))
    assert [(p.code, p.consumers) for p in problems] == (
        [("parser-version", (MEDIAPIPE,))] if refused else []
    )
    if refused:
        assert problems[0].message == (
            f"min_parser_version is '{version}'; MediaPipe parses metadata up to version 1.5.0"
        )


def test_an_input_or_output_naming_a_tensor_the_subgraph_does_not_have(good: bytes) -> None:
    from tflite_metadata.format.model_schema import SubGraphField
    from tflite_metadata.model.reader import ModelView

    tensors = ModelView(good)._subgraph(0).vector(SubGraphField.TENSORS, 4, "tensors")
    assert tensors is not None
    count = len(tensors)
    problems = check(dangle(dangle(good, "input", index=-1), "output", index=count))
    # The task's rules, which read the tensors, are not applied; the files' still are.
    assert [(p.code, p.location, p.message, p.consumers) for p in problems] == [
        (
            "tensor-index",
            "input 0",
            f"is tensor -1, but subgraph 0 has {count} tensors "
            "(the TFLite interpreter refuses to load the model)",
            BOTH,
        ),
        (
            "tensor-index",
            "output 0",
            f"is tensor {count}, but subgraph 0 has {count} tensors "
            "(the TFLite interpreter refuses to load the model)",
            BOTH,
        ),
    ]
    tail = find_zip(good)
    assert tail is not None
    stripped = dangle(good[: tail.start])
    assert codes(check(stripped)) == ["tensor-index", "file-missing", "file-missing"]
    # The last tensor is a tensor: no tensor-index (its shape is the output-shape rule's).
    assert "tensor-index" not in codes(check(dangle(good, "output", index=count - 1)))


# -- the input -------------------------------------------------------------------------------------


def test_sample_rate_zero(model: bytes) -> None:
    problems = check(write(model, sample_rate=0))
    assert codes(problems) == ["sample-rate"]
    assert str(problems[0]) == (
        "input 0: sample rate is 0; expected a positive number of samples per second"
    )


def test_channels_zero(model: bytes) -> None:
    problems = check(write(model, channels=0))
    assert codes(problems) == ["channels"]
    assert str(problems[0]) == "input 0: channel count is 0; expected a positive number"


def test_input_size_not_a_multiple_of_the_channels(model: bytes) -> None:
    shape = writer_utils.get_input_tensor_shapes(model)[0]
    size = 1
    for dim in shape:
        size *= dim
    channels = next(n for n in range(3, 100) if size % n)
    problems = check(write(model, channels=channels))
    assert codes(problems) == ["input-channels"]
    assert f"holds {size} samples, not a multiple of {channels} channels" in problems[0].message


def test_input_that_is_not_float32() -> None:
    try:
        model = build(input_type="int16")
    except TypeError:
        pytest.skip("the model builder cannot make an int16 input")
    problems = check(write(model))
    assert "input-type" in codes(problems)
    problem = problems[codes(problems).index("input-type")]
    assert "has type INT16; audio classifiers need FLOAT32" in problem.message


def test_input_with_three_dimensions() -> None:
    try:
        model = build(input_shape=[1, 1, 16000])
    except TypeError:
        pytest.skip("the model builder cannot make a 3-D input")
    problems = check(write(model))
    assert codes(problems) == ["input-shape"]
    assert problems[0].message == "shape [1, 1, 16000] has 3 dimensions; expected 1 or 2"
    assert problems[0].consumers == (MEDIAPIPE,)


# -- the outputs -----------------------------------------------------------------------------------


def test_output_that_is_neither_float32_nor_uint8() -> None:
    model = build(output_type="int8")
    problems = check(write(model))
    assert codes(problems) == ["output-type"]
    assert "has type INT8; classifiers need FLOAT32 or UINT8" in problems[0].message


def test_uint8_output_is_accepted() -> None:
    assert check(write(build(output_type="uint8"))) == []


def test_two_heads(tmp_path: Path) -> None:
    model = build(heads=[5, 10])
    counts = [classes_of(model, 0), classes_of(model, 1)]
    heads = [
        info.ClassificationTensorMd(
            name=f"head {i}",
            label_files=[info.LabelFileMd(f"labels{i}.txt", content=label_text(counts[1 - i]))],
            tensor_type=fb_type,
        )
        for i, fb_type in enumerate(writer_utils.get_output_tensor_types(model))
    ]
    metadata_writer = (
        audio_classifier.AudioClassifierWriter.create_from_metadata_info_for_multihead(
            model, None, info.InputAudioTensorMd("audio", None, 16000, 1), heads
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        populated = bytes(metadata_writer.populate())
    problems = check(populated)
    assert [(p.code, p.location) for p in problems] == [
        ("label-count", "output 0"),
        ("label-count", "output 1"),
    ]
    assert f"has {counts[1]} labels for {counts[0]} classes" in problems[0].message
    assert f"has {counts[0]} labels for {counts[1]} classes" in problems[1].message


# -- label files -----------------------------------------------------------------------------------


def test_label_count_differs_from_the_classes(model: bytes, classes: int) -> None:
    problems = check(write(model, labels=label_text(3)))
    assert codes(problems) == ["label-count"]
    assert (
        str(problems[0]) == f"output 0: label file 'labels.txt' has 3 labels for {classes} classes"
    )
    assert problems[0].consumers == BOTH


def test_a_final_newline_ends_the_last_label(model: bytes, classes: int) -> None:
    without_final_newline = label_text(classes)[:-1]
    assert check(write(model, labels=without_final_newline)) == []
    assert check(write(model, labels=label_text(classes))) == []


def test_a_blank_last_line_is_a_label_for_the_task_library_only(model: bytes, classes: int) -> None:
    problems = check(write(model, labels=label_text(classes) + b"\n"))
    assert codes(problems) == ["label-count"]
    assert problems[0].consumers == (TASK_LIBRARY,)
    assert (
        f"has {classes + 1} labels for the Task Library and {classes} for MediaPipe"
        in problems[0].message
    )


def test_every_label_file_is_checked(model: bytes, classes: int) -> None:
    problems = check(write(model, extra_labels=(("labels_fr.txt", "fr", label_text(classes - 1)),)))
    assert codes(problems) == ["label-count"]
    assert f"'labels_fr.txt' has {classes - 1} labels for {classes} classes" in problems[0].message


def test_an_empty_label_file(model: bytes) -> None:
    problems = check(write(model, labels=b""))
    assert codes(problems) == ["label-empty"]


def test_label_counts() -> None:
    assert label_counts(b"a\nb\nc") == (3, 3)
    assert label_counts(b"a\nb\nc\n") == (3, 3)
    assert label_counts(b"a\nb\nc\n\n") == (4, 3)
    assert label_counts(b"a\r\nb\r\nc\r\n") == (3, 3)
    assert label_counts(b"a\rb\rc\r") == (1, 3)
    assert label_counts(b"\n") == (1, 0)
    assert label_counts(b"") == (0, 0)


# -- score calibration ----------------------------------------------------------------------------


def test_a_trailing_newline_is_one_more_calibration_entry(model: bytes, classes: int) -> None:
    problems = check(write(model, calibration=calibration_text(classes) + b"\n"))
    assert codes(problems) == ["calibration-count"]
    assert str(problems[0]) == (
        f"output 0: score calibration file 'calibration.txt' has {classes + 1} entries for "
        f"{classes} classes; the consumers split it on '\\n', so its trailing newline counts "
        "as one more, empty entry: remove it"
    )


def test_calibration_count_differs(model: bytes, classes: int) -> None:
    problems = check(write(model, calibration=calibration_text(2)))
    assert codes(problems) == ["calibration-count"]
    assert f"has 2 entries for {classes} classes" in problems[0].message
    assert "trailing newline" not in problems[0].message


def test_empty_calibration_lines_are_accepted(model: bytes, classes: int) -> None:
    lines = ["1.0,2.0,0.5", "", "1.0,2.0,0.5,0.25"] + ["", "+1e0 , -2.5E-1,0.5"] * classes
    assert check(write(model, calibration="\n".join(lines[:classes]).encode())) == []


@pytest.mark.parametrize(
    ("line", "message", "consumers"),
    [
        (
            "1.0,2.0",
            "expected an empty line or 3 or 4 comma-separated numbers (scale, slope, "
            "offset[, min_score]), found 2 values: '1.0,2.0'",
            BOTH,
        ),
        ("1.0,2.0,3.0,4.0,5.0", "found 5 values", BOTH),
        ("1.0,abc,3.0", "parameter 2 should be a number, found 'abc'", BOTH),
        ("1.0,2.0,", "parameter 3 should be a number, found ''", BOTH),
        ("1_0,2.0,3.0", "parameter 1 should be a number, found '1_0'", BOTH),
        ("-1.0,2.0,3.0", "the scale (parameter 1) should be non-negative, found -1", (MEDIAPIPE,)),
        (" ", "found 1 value", BOTH),
    ],
)
def test_malformed_calibration_lines(
    model: bytes, classes: int, line: str, message: str, consumers: tuple[str, ...]
) -> None:
    lines = ["1.0,2.0,0.5"] * classes
    lines[1] = line
    problems = check(write(model, calibration="\n".join(lines).encode()))
    assert codes(problems) == ["calibration-line"]
    assert problems[0].message.startswith("score calibration file 'calibration.txt', line 2: ")
    assert message in problems[0].message
    assert problems[0].consumers == consumers


def test_many_malformed_calibration_lines_are_summarized(model: bytes, classes: int) -> None:
    problems = check(write(model, calibration="\n".join(["x,y,z"] * classes).encode()))
    assert codes(problems) == ["calibration-line"] * 4
    assert problems[-1].message == (
        f"score calibration file 'calibration.txt': {classes - 3} more malformed lines"
    )


def test_calibration_without_labels(model: bytes, classes: int) -> None:
    problems = check(write(model, calibration=calibration_text(classes), pack_labels=False))
    assert codes(problems) == ["calibration-without-labels"]
    assert problems[0].consumers == (TASK_LIBRARY,)


def test_calibration_process_unit_without_its_file(model: bytes) -> None:
    def drop_calibration_file(output: Any) -> None:
        output.associatedFiles = [
            f
            for f in output.associatedFiles
            if f.type != fb.AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION
        ]

    problems = check(write_objects(model, drop_calibration_file))
    assert codes(problems) == ["calibration-file"]


def test_unknown_score_transformation(model: bytes) -> None:
    def unknown(output: Any) -> None:
        output.processUnits[0].options.scoreTransformation = 7

    problems = check(write_objects(model, unknown))
    assert codes(problems) == ["calibration-transformation"]
    assert "score transformation is 7" in problems[0].message


def test_two_score_calibration_process_units(model: bytes) -> None:
    def twice(output: Any) -> None:
        output.processUnits = output.processUnits * 2

    problems = check(write_objects(model, twice))
    assert codes(problems) == ["process-units"]
    assert problems[0].message == "has 2 score calibration process units; expected at most 1"


def test_calibration_entry_count() -> None:
    assert calibration_entry_count(b"1,2,3") == 1
    assert calibration_entry_count(b"1,2,3\n") == 2
    assert calibration_entry_count(b"1,2,3\n\n1,2,3") == 3


# -- associated files ------------------------------------------------------------------------------


def test_recorded_files_that_are_not_packed(good: bytes) -> None:
    tail = find_zip(good)
    assert tail is not None
    problems = check(good[: tail.start])
    assert [(p.code, p.location) for p in problems] == [
        ("file-missing", "file labels.txt"),
        ("file-missing", "file calibration.txt"),
    ]
    assert problems[0].message == "is recorded in the metadata but not packed in the model"


def test_compressed_files(good: bytes) -> None:
    problems = check(rezip(good, zipfile.ZIP_DEFLATED))
    assert [(p.code, p.location) for p in problems] == [
        ("file-compressed", "file labels.txt"),
        ("file-compressed", "file calibration.txt"),
    ]
    assert "zip method 8" in problems[0].message
    assert check(rezip(good)) == []


# -- text, warnings --------------------------------------------------------------------------------


def test_names_from_the_model_are_escaped(model: bytes, classes: int) -> None:
    name = "evil\x1b[31m\u202e\n.txt"
    # The writer refuses to pack a name with control characters: put them in afterwards,
    # in the metadata and the zip alike (same length, so every offset stays right).
    stand_in = "evilXXXXXXXXX.txt"
    assert len(stand_in.encode()) == len(name.encode())
    populated = write(model, extra_labels=((stand_in, "fr", label_text(1)),))
    assert populated.count(stand_in.encode()) == 3
    populated = populated.replace(stand_in.encode(), name.encode())
    problems = check(populated)
    assert len(problems) == 1
    # The zip reader does not accept such a name as a packed file: it is reported missing.
    assert problems[0].code == "file-missing"
    assert problems[0].location == "file evil\\x1b[31m\\u202e\\n.txt"
    assert all(ch.isprintable() for ch in str(problems[0]))


def test_printable() -> None:
    assert printable("plain é ü 中文") == "plain é ü 中文"
    assert printable("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert printable("\x00\x07\x1b\x7f\x85") == "\\x00\\x07\\x1b\\x7f\\x85"
    assert printable("\u2028\u2029\u202e\u2066") == "\\u2028\\u2029\\u202e\\u2066"
    assert printable(b"ok\xff") == "ok\\xff"
    assert printable(None) == ""


def test_warn_for_problems_emits_consumer_compatibility_warnings(model: bytes) -> None:
    problems = check(write(model, labels=label_text(3)))
    with pytest.warns(ConsumerCompatibilityWarning) as record:
        warn_for_problems(problems)
    assert issubclass(ConsumerCompatibilityWarning, UserWarning)
    assert len(record) == 1
    text = str(record[0].message)
    assert text.startswith("output 0: label file 'labels.txt' has 3 labels for ")
    assert text.endswith("(Task Library and MediaPipe would refuse the model) [label-count]")
    assert record[0].filename == __file__


def test_problem_is_a_small_frozen_value() -> None:
    problem = Problem("label-count", "output 0", "3 labels for 7 classes")
    assert str(problem) == "output 0: 3 labels for 7 classes"
    assert problem == Problem("label-count", "output 0", "3 labels for 7 classes", BOTH)
    with pytest.raises(AttributeError):
        problem.code = "x"  # type: ignore[misc]
    assert check_module.__all__


# -- against the real consumers -------------------------------------------------------------------


def _run_consumer(consumer: str, paths: list[str], tmp_path: Path) -> dict[str, bool]:
    """For each model path: whether ``consumer`` loads it and classifies a second of silence."""
    if consumer == TASK_LIBRARY:
        python, runner = consumer_env.reference_python(), "task_library_runner.py"
    else:
        python, runner = consumer_env.mediapipe_python(), "mediapipe_runner.py"
    consumer_env.require(python is not None, consumer)
    assert python is not None
    audio = tmp_path / "silence.f32"
    audio.write_bytes(struct.pack("<32000f", *([0.0] * 32000)))
    # One process per model for MediaPipe: after two failed graph runs in one
    # process, its next classifier never returns (measured with the runner).
    batches = [paths] if consumer == TASK_LIBRARY else [[path] for path in paths]
    loaded = {}
    for batch in batches:
        request = {"models": batch, "audio": str(audio), "sample_rate": 16000}
        answer = consumer_env.run_runner(python, runner, request, tmp_path)
        loaded.update({path: "error" not in answer[path] for path in batch})
    return loaded


@pytest.mark.consumers
def test_check_agrees_with_the_consumers(model: bytes, classes: int, tmp_path: Path) -> None:
    calibration = calibration_text(classes)
    bad_scale = calibration.replace(b"1.0,2.0,0.5", b"-1.0,2.0,0.5", 1)
    models = {
        "good": write(model, calibration=calibration),
        "label_count": write(model, labels=label_text(classes - 1)),
        "label_blank_last_line": write(model, labels=label_text(classes) + b"\n"),
        "calibration_trailing_newline": write(model, calibration=calibration + b"\n"),
        "calibration_short_line": write(
            model, calibration=calibration.replace(b"1.0,2.0,0.5", b"1.0,2.0", 1)
        ),
        "calibration_negative_scale": write(model, calibration=bad_scale),
        "sample_rate_zero": write(model, sample_rate=0),
        "compressed": rezip(write(model), zipfile.ZIP_DEFLATED),
        "no_metadata": model,
        "tensor_index": dangle(write(model, calibration=calibration)),
        "parser_version_too_new": with_parser_version(write(model), "1.6.0"),
        "parser_version_current": with_parser_version(write(model), "1.5.0"),
        # minizip refuses these: "Unable to read (associated) file in zip archive."
        "local_header_crc": lying_local_header(write(model), 14, "<I", 0xDEADBEEF),
        "local_header_sizes": lying_local_header(write(model), 18, "<II", 1 << 30, 1 << 30),
        "local_header_method": lying_local_header(write(model), 8, "<H", 8),
    }
    paths = {}
    for name, data in models.items():
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(data)
        paths[name] = str(path)
    # MediaPipe does not refuse a sample rate of 0: classification never returns
    # (measured: no answer after 600 s). check() reports it for both consumers.
    # MediaPipe crashes on a dangling tensor index (see the next test).
    runs = {
        TASK_LIBRARY: list(paths),
        MEDIAPIPE: [name for name in paths if name not in ("sample_rate_zero", "tensor_index")],
    }
    for consumer, names in runs.items():
        loaded = _run_consumer(consumer, [paths[name] for name in names], tmp_path)
        for name in names:
            refused_by_check = any(consumer in p.consumers for p in check(models[name]))
            assert loaded[paths[name]] != refused_by_check, (
                f"{name}: {consumer} {'loads' if loaded[paths[name]] else 'refuses'} it, "
                f"check() says {'refused' if refused_by_check else 'accepted'}"
            )


@pytest.mark.consumers
def test_mediapipe_crashes_on_a_dangling_tensor_index(model: bytes, tmp_path: Path) -> None:
    """MediaPipe does not refuse such a model with an error: its process dies (SIGSEGV)."""
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, MEDIAPIPE)
    assert python is not None
    path = tmp_path / "tensor_index.tflite"
    path.write_bytes(dangle(write(model, calibration=calibration_text(classes_of(model)))))
    audio = tmp_path / "silence.f32"
    audio.write_bytes(struct.pack("<16000f", *([0.0] * 16000)))
    request = {"models": [str(path)], "audio": str(audio), "sample_rate": 16000}
    with pytest.raises(AssertionError, match=r"gave no answer \(exit -?[1-9]"):
        consumer_env.run_runner(python, "mediapipe_runner.py", request, tmp_path)
    assert codes(check(path.read_bytes())) == ["tensor-index"]


# -- the README's table of problem codes ------------------------------------------------------


def readme_codes() -> list[str]:
    """The codes in the first column of the README's table of ``check`` problems."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### check\n", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    codes = []
    for row in rows:
        first_cell = row.split("|")[1]
        codes.extend(re.findall(r"`([a-z0-9-]+)`", first_cell))
    return codes


def test_the_readme_lists_every_problem_code_once() -> None:
    codes = readme_codes()
    assert len(codes) == len(set(codes)), "a code is listed twice"
    assert sorted(codes) == sorted(code.value for code in Code)
