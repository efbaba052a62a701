"""Checking a model against the rules its consumers apply when they load it.

tflite-support's writers accept metadata that the consumers then refuse: a
label file with one label too many, a score calibration file whose trailing
newline counts as one more entry, a sample rate of 0 … The consumer only says
so on the device, at load time. :func:`check` applies the same rules ahead of
time and returns every problem it finds, each with the value expected and the
value found.

The rules are those of the two audio classifiers that read this metadata,
taken from their sources:

* the TFLite Task Library ``AudioClassifier`` of tflite-support 0.4.4
  (``audio_preprocessor.cc``, ``classification_postprocessor.cc``,
  ``classification_head.cc``, ``label_map_item.cc``, ``score_calibration.cc``,
  ``metadata_extractor.cc``);
* MediaPipe's ``AudioClassifier`` (``audio_classifier_graph.cc``,
  ``audio_tensor_specs.cc``, ``classification_postprocessing_graph.cc``,
  ``score_calibration_utils.cc``, ``score_calibration_calculator.cc``,
  ``label_map_util.cc``, ``tensors_to_classification_calculator.cc``).

Example::

    from tflite_metadata.check import check

    for problem in check("model.tflite"):
        print(problem)        # output 0: label file 'labels.txt' has 3 labels for 7 classes

The Python writers keep tflite-support's permissive behaviour; they call
:func:`warn_for_problems` to report the same problems as
:class:`~tflite_metadata.errors.ConsumerCompatibilityWarning`.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from .archive.associated_files import ZipTail, find_zip
from .errors import AssociatedFileError, ConsumerCompatibilityWarning, MetadataError
from .fileio import PathLike, map_file
from .format import codec
from .format import metadata_schema as schema
from .format.flatbuf import BufferLike
from .format.model_schema import tensor_type_name
from .model.reader import TensorInfo

__all__ = [
    "MEDIAPIPE",
    "TASK_LIBRARY",
    "ModelSource",
    "Problem",
    "calibration_entry_count",
    "check",
    "label_counts",
    "printable",
    "warn_for_problems",
]

#: A model to check: its bytes or the path of its file.
ModelSource = Union[bytes, bytearray, memoryview, PathLike]

#: The consumers whose rules are checked, as named in messages.
TASK_LIBRARY = "Task Library"
MEDIAPIPE = "MediaPipe"
_BOTH = (TASK_LIBRARY, MEDIAPIPE)

# TFLite TensorType values (schema.fbs); only those the rules name.
_FLOAT32 = 0
_FLOAT16 = 1
_UINT8 = 3
_BOOL = 6

# AssociatedFileType and ProcessUnitOptions values of the metadata schema.
_TENSOR_AXIS_LABELS = 2
_TENSOR_AXIS_SCORE_CALIBRATION = 4
_SCORE_CALIBRATION_OPTIONS = 2
_SCORE_THRESHOLDING_OPTIONS = 3
_AUDIO_PROPERTIES = 4

#: The most malformed calibration lines reported per file; the rest are counted.
_MAX_LINE_PROBLEMS = 3


@dataclass(frozen=True)
class Problem:
    """One reason a consumer would refuse the model.

    Attributes:
        code: a stable identifier of the rule, e.g. ``"label-count"``.
        location: where the problem is: ``"model"``, ``"metadata"``,
            ``"input 0"``, ``"output 1"``, ``"file labels.txt"`` …
        message: what was expected and what was found, e.g. ``"label file
            'labels.txt' has 3 labels for 7 classes"``. Names read from the
            model are escaped (see :func:`printable`).
        consumers: the consumers that refuse the model for this reason.
    """

    code: str
    location: str
    message: str
    consumers: tuple[str, ...] = _BOTH

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


# -- text helpers -----------------------------------------------------------------------

# Characters that would change how the terminal shows what follows: bidirectional
# overrides and isolates, and the invisible direction marks.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str | bytes | None) -> str:
    """``text`` safe to print on one terminal line: control characters escaped.

    Bytes are decoded as UTF-8; invalid bytes become ``\\xNN``. Control
    characters (C0, DEL, C1), line and paragraph separators and bidirectional
    controls become ``\\n``, ``\\xNN`` or ``\\uNNNN`` escapes, so a name read from a
    model can neither break a line nor recolour or reorder the terminal.

    Args:
        text: a string, UTF-8 bytes, or None (printed as ``""``).

    Returns:
        The escaped text.
    """
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", errors="backslashreplace")
    out = []
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
            continue
        code = ord(char)
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _quoted(name: str | bytes | None) -> str:
    return f"'{printable(name)}'"


#: Dimensions a message shows of a shape; a hostile model may claim thousands.
_SHAPE_DIMENSIONS_SHOWN = 8


def _shape_text(shape: Sequence[int]) -> str:
    if len(shape) <= _SHAPE_DIMENSIONS_SHOWN:
        return "[" + ", ".join(str(d) for d in shape) + "]"
    shown = ", ".join(str(d) for d in shape[:_SHAPE_DIMENSIONS_SHOWN])
    return f"[{shown}, … ({len(shape)} dimensions)]"


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"{count} {noun}"
    if noun.endswith("y"):
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}es" if noun.endswith("s") else f"{count} {noun}s"


# -- counting as the consumers count -------------------------------------------------------

_MEDIAPIPE_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def label_counts(data: bytes) -> tuple[int, int]:
    """The number of labels in a label file, as the Task Library and MediaPipe count them.

    The Task Library splits on ``\\n`` and drops one empty last line (the
    final newline); carriage returns stay in the labels. MediaPipe reads lines
    ending in ``\\n``, ``\\r\\n`` or ``\\r`` and also drops one empty last line. The
    two differ for files ending in blank lines or using ``\\r`` alone.

    Args:
        data: the label file's bytes.

    Returns:
        ``(task_library_count, mediapipe_count)``.
    """
    task_library = data.split(b"\n")
    if task_library[-1] == b"":
        task_library.pop()
    mediapipe = _MEDIAPIPE_LINE_BREAK.split(data)
    # A final line break ends the last line; it does not start another one.
    if mediapipe and mediapipe[-1] == b"":
        mediapipe.pop()
    if mediapipe and mediapipe[-1] == b"":
        mediapipe.pop()
    return len(task_library), len(mediapipe)


def calibration_entry_count(data: bytes) -> int:
    """The number of entries of a score calibration file, as both consumers count them.

    Both split the file on ``\\n`` and keep every piece: a trailing newline is
    one more, empty, entry.
    """
    return data.count(b"\n") + 1


# absl::SimpleAtof: ASCII whitespace around, an optional "+", then what
# absl::from_chars accepts in general format (decimal, inf, infinity, nan).
_FLOAT = re.compile(
    r"[ \t\n\v\f\r]*\+?(-?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|(?i:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)))[ \t\n\v\f\r]*"
)


def _parse_consumer_float(token: str) -> float | None:
    """``token`` as the consumers parse a calibration parameter, or None if they refuse it."""
    match = _FLOAT.fullmatch(token)
    if match is None:
        return None
    try:
        return float(match.group(1))
    except ValueError:  # pragma: no cover - the pattern only admits float syntax
        return None


def _calibration_line_problem(line: bytes) -> tuple[str, tuple[str, ...]] | None:
    """Why the consumers refuse one calibration line, or None if it is accepted."""
    if not line:
        return None
    text = line.decode("utf-8", errors="replace")
    tokens = text.split(",")
    shown = printable(text if len(text) <= 60 else text[:57] + "...")
    if len(tokens) not in (3, 4):
        return (
            "expected an empty line or 3 or 4 comma-separated numbers "
            f"(scale, slope, offset[, min_score]), found {_plural(len(tokens), 'value')}: "
            f"'{shown}'",
            _BOTH,
        )
    values = []
    for position, token in enumerate(tokens, start=1):
        value = _parse_consumer_float(token)
        if value is None:
            return (
                f"parameter {position} should be a number, found '{printable(token)}'",
                _BOTH,
            )
        values.append(value)
    if values[0] < 0:
        return (
            f"the scale (parameter 1) should be non-negative, found {values[0]:g}",
            (MEDIAPIPE,),
        )
    return None


# -- reading the model ---------------------------------------------------------------------


@dataclass
class _Tensor:
    index: int
    name: str
    type: int
    shape: tuple[int, ...]


@dataclass
class _Model:
    """What the rules need from a model, read once."""

    subgraph_count: int
    inputs: list[_Tensor]
    outputs: list[_Tensor]
    metadata: bytes | None
    zip_tail: ZipTail | AssociatedFileError | None


def _read_model(data: BufferLike) -> _Model:
    from .model.populate import open_model

    view = open_model(data)

    def tensors(infos: Iterable[TensorInfo]) -> list[_Tensor]:
        # Numbered by position among the inputs (outputs), as the consumers number heads.
        return [_Tensor(position, t.name, t.type, t.shape) for position, t in enumerate(infos)]

    subgraph_count = view.subgraph_count
    inputs = tensors(view.inputs(0))
    outputs = tensors(view.outputs(0))
    metadata = view.metadata_buffer()
    zip_tail: ZipTail | AssociatedFileError | None
    try:
        zip_tail = find_zip(data)
    except AssociatedFileError as exc:
        zip_tail = exc
    return _Model(
        subgraph_count,
        inputs,
        outputs,
        None if metadata is None else bytes(metadata),
        zip_tail,
    )


# -- the rules -------------------------------------------------------------------------------


class _Checker:
    def __init__(self, model: _Model) -> None:
        self.model = model
        self.problems: list[Problem] = []
        self._packed: dict[str, Any] | None = None

    def add(
        self, code: str, location: str, message: str, consumers: tuple[str, ...] = _BOTH
    ) -> None:
        self.problems.append(Problem(code, location, message, consumers))

    # -- associated files

    def packed_names(self) -> set[str]:
        tail = self.model.zip_tail
        if tail is None or isinstance(tail, Exception):
            return set()
        return set(tail.names())

    def read_packed(self, name: str) -> bytes | None:
        tail = self.model.zip_tail
        if tail is None or isinstance(tail, Exception) or name not in self.packed_names():
            return None
        try:
            return bytes(tail.read(name))
        except MetadataError:
            return None

    def check_zip(self) -> None:
        tail = self.model.zip_tail
        if isinstance(tail, Exception):
            self.add(
                "zip-malformed",
                "associated files",
                f"the zip of associated files cannot be read: {printable(str(tail))}",
            )
            return
        if tail is None:
            return
        for name, method in _compression_methods(tail):
            if method != 0:
                self.add(
                    "file-compressed",
                    f"file {printable(name)}",
                    f"is stored compressed (zip method {method}); the consumers read only "
                    "stored (uncompressed, method 0) entries",
                )

    # -- model

    def run(self) -> list[Problem]:
        model = self.model
        if model.subgraph_count != 1:
            self.add(
                "subgraph-count",
                "model",
                f"has {_plural(model.subgraph_count, 'subgraph')}; audio classifiers "
                "need exactly 1",
                (MEDIAPIPE,),
            )
        if len(model.inputs) != 1:
            self.add(
                "input-count",
                "model",
                f"has {_plural(len(model.inputs), 'input')}; audio classifiers need exactly 1",
            )
        if model.inputs:
            self.check_input_tensor(model.inputs[0])
        self.check_output_tensors()
        self.check_zip()
        metadata = self.decode_metadata()
        if metadata is not None:
            self.check_metadata(metadata)
        return self.problems

    def check_input_tensor(self, tensor: _Tensor) -> None:
        where = f"input {tensor.index}"
        if tensor.type != _FLOAT32:
            consumers = (TASK_LIBRARY,) if tensor.type == _FLOAT16 else _BOTH
            self.add(
                "input-type",
                where,
                f"tensor {_quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; "
                "audio classifiers need FLOAT32",
                consumers,
            )
        shape = tensor.shape
        if len(shape) == 0:
            self.add(
                "input-shape",
                where,
                "shape [] holds no audio samples; expected a 1-D or 2-D shape such as [1, 15600]",
                (MEDIAPIPE,),
            )
        elif len(shape) > 2:
            self.add(
                "input-shape",
                where,
                f"shape {_shape_text(shape)} has {len(shape)} dimensions; expected 1 or 2",
                (MEDIAPIPE,),
            )
        # One problem for all the bad dimensions: one each would make the report
        # grow with the square of a hostile shape's length.
        bad = [(axis, size) for axis, size in enumerate(shape) if size < 1]
        if bad:
            axis, size = bad[0]
            more = f" (and {_plural(len(bad) - 1, 'other dimension')} below 1)" if bad[1:] else ""
            self.add(
                "input-shape",
                where,
                f"dimension {axis} of shape {_shape_text(shape)} is {size}{more}; "
                "every dimension should be at least 1",
            )

    def check_output_tensors(self) -> None:
        outputs = self.model.outputs
        quantized = 0
        for tensor in outputs:
            where = f"output {tensor.index}"
            if tensor.type not in (_FLOAT32, _UINT8):
                consumers = (TASK_LIBRARY,) if tensor.type == _BOOL else _BOTH
                self.add(
                    "output-type",
                    where,
                    f"tensor {_quoted(tensor.name)} has type "
                    f"{tensor_type_name(tensor.type)}; classifiers need FLOAT32 or UINT8",
                    consumers,
                )
            if tensor.type in (_UINT8, _BOOL):
                quantized += 1
            shape = tensor.shape
            if len(shape) == 4 and shape[0] == 1 and shape[1] == 1 and shape[2] == 1:
                continue
            if len(shape) != 2 or shape[0] != 1:
                self.add(
                    "output-shape",
                    where,
                    f"shape {_shape_text(shape)}; the Task Library needs [1, classes] "
                    "(or [1, 1, 1, classes])",
                    (TASK_LIBRARY,),
                )
        if 0 < quantized < len(outputs):
            self.add(
                "output-type",
                "model",
                f"{quantized} of {len(outputs)} outputs are quantized; MediaPipe needs "
                "all or none of them quantized",
                (MEDIAPIPE,),
            )

    # -- metadata

    def decode_metadata(self) -> Any:
        buffer = self.model.metadata
        if buffer is None or not buffer:
            self.add(
                "no-metadata",
                "model",
                f"has no metadata ({schema.METADATA_FIELD_NAME}); audio classifiers read "
                "the sample rate and channels from it",
            )
            return None
        identifier = buffer[4:8]
        if identifier != schema.FILE_IDENTIFIER:
            self.add(
                "metadata-malformed",
                "metadata",
                f"identifier is {printable(repr(identifier))}, expected {schema.FILE_IDENTIFIER!r}",
            )
            return None
        try:
            return codec.decode(buffer)
        except MetadataError as exc:
            self.add("metadata-malformed", "metadata", printable(str(exc)))
            return None

    def check_metadata(self, metadata: Any) -> None:
        subgraphs = metadata.subgraphMetadata or []
        if not subgraphs:
            self.add(
                "subgraph-metadata",
                "metadata",
                "has no subgraph metadata; expected 1, describing the model's tensors",
            )
            self.check_recorded_files(metadata)
            return
        subgraph = subgraphs[0]
        inputs = subgraph.inputTensorMetadata
        if inputs is None or len(inputs) != 1:
            found = 0 if inputs is None else len(inputs)
            self.add(
                "input-count",
                "metadata",
                f"describes {_plural(found, 'input tensor')}; audio classifiers need exactly 1",
                (TASK_LIBRARY,),
            )
        if inputs and self.model.inputs:
            self.check_audio_properties(inputs[0], self.model.inputs[0])
        outputs = subgraph.outputTensorMetadata
        if outputs is not None:
            if len(outputs) != len(self.model.outputs):
                self.add(
                    "output-count",
                    "metadata",
                    f"describes {_plural(len(outputs), 'output tensor')}, the model has "
                    f"{len(self.model.outputs)}",
                )
            for tensor, tensor_metadata in zip(self.model.outputs, outputs):
                self.check_output_metadata(tensor, tensor_metadata)
        self.check_recorded_files(metadata)

    def check_audio_properties(self, tensor_metadata: Any, tensor: _Tensor) -> None:
        where = f"input {tensor.index}"
        content = tensor_metadata.content
        properties = None if content is None else content.contentProperties
        kind = None if content is None else content.contentPropertiesType
        if properties is None or kind != _AUDIO_PROPERTIES:
            found = "none"
            if content is not None and kind:
                found = schema.UNIONS["ContentProperties"].member(int(kind)) or str(kind)
            self.add(
                "audio-properties",
                where,
                f"metadata has content properties {found}; expected AudioProperties "
                "(sample rate and channels)",
            )
            return
        sample_rate = int(properties.sampleRate or 0)
        channels = int(properties.channels or 0)
        if sample_rate <= 0:
            self.add(
                "sample-rate",
                where,
                f"sample rate is {sample_rate}; expected a positive number of samples per second",
            )
        if channels <= 0:
            self.add(
                "channels",
                where,
                f"channel count is {channels}; expected a positive number",
            )
            return
        if not tensor.shape or any(d < 1 for d in tensor.shape):
            return
        size = math.prod(tensor.shape)
        if size % channels:
            self.add(
                "input-channels",
                where,
                f"shape {_shape_text(tensor.shape)} holds {size} samples, not a multiple "
                f"of {_plural(channels, 'channel')}",
            )

    def check_output_metadata(self, tensor: _Tensor, tensor_metadata: Any) -> None:
        where = f"output {tensor.index}"
        if tensor_metadata.name is None:
            self.add(
                "output-name",
                where,
                "tensor metadata has no name; MediaPipe needs one for each output (head name)",
                (MEDIAPIPE,),
            )
        units = tensor_metadata.processUnits or []
        for kind, label in (
            (_SCORE_CALIBRATION_OPTIONS, "score calibration"),
            (_SCORE_THRESHOLDING_OPTIONS, "score thresholding"),
        ):
            count = sum(1 for unit in units if unit.optionsType == kind)
            if count > 1:
                self.add(
                    "process-units",
                    where,
                    f"has {count} {label} process units; expected at most 1",
                )
        classes = math.prod(tensor.shape) if tensor.shape else 1
        files = tensor_metadata.associatedFiles or []
        label_files = [f for f in files if f.type == _TENSOR_AXIS_LABELS and f.name is not None]
        for file in label_files:
            self.check_label_file(where, file, classes)
        calibration = next((u for u in units if u.optionsType == _SCORE_CALIBRATION_OPTIONS), None)
        if calibration is not None:
            self.check_calibration(where, calibration, files, bool(label_files), classes)

    def check_label_file(self, where: str, file: Any, classes: int) -> None:
        name = _name(file.name)
        data = self.read_packed(name)
        if data is None:
            return  # reported by check_recorded_files
        if not data:
            self.add("label-empty", where, f"label file {_quoted(name)} is empty")
            return
        task_library, mediapipe = label_counts(data)
        if task_library == mediapipe:
            if task_library != classes:
                self.add(
                    "label-count",
                    where,
                    f"label file {_quoted(name)} has {_plural(task_library, 'label')} for "
                    f"{_plural(classes, 'class')}" + _label_hint(data, task_library, classes),
                )
            return
        refusing = tuple(
            consumer
            for consumer, count in ((TASK_LIBRARY, task_library), (MEDIAPIPE, mediapipe))
            if count != classes
        )
        if refusing:
            self.add(
                "label-count",
                where,
                f"label file {_quoted(name)} has {task_library} labels for the Task Library "
                f"and {mediapipe} for MediaPipe, for {_plural(classes, 'class')} "
                "(blank last lines or carriage returns count differently)",
                refusing,
            )

    def check_calibration(
        self, where: str, unit: Any, files: list[Any], has_labels: bool, classes: int
    ) -> None:
        options = unit.options
        transformation = int(getattr(options, "scoreTransformation", 0) or 0)
        if schema.ENUMS["ScoreTransformationType"].name_of(transformation) is None:
            self.add(
                "calibration-transformation",
                where,
                f"score transformation is {transformation}; expected IDENTITY (0), LOG (1) "
                "or INVERSE_LOGISTIC (2)",
            )
        if not has_labels:
            self.add(
                "calibration-without-labels",
                where,
                "has a score calibration but no label file (TENSOR_AXIS_LABELS); the Task "
                "Library needs labels to apply it",
                (TASK_LIBRARY,),
            )
        file = next(
            (f for f in files if f.type == _TENSOR_AXIS_SCORE_CALIBRATION and f.name is not None),
            None,
        )
        if file is None:
            self.add(
                "calibration-file",
                where,
                "has a score calibration process unit but no associated file of type "
                "TENSOR_AXIS_SCORE_CALIBRATION holding its parameters",
            )
            return
        name = _name(file.name)
        data = self.read_packed(name)
        if data is None:
            return  # reported by check_recorded_files
        if not data:
            self.add("calibration-empty", where, f"score calibration file {_quoted(name)} is empty")
            return
        entries = calibration_entry_count(data)
        if entries != classes:
            hint = ""
            if data.endswith(b"\n") and entries == classes + 1:
                hint = (
                    "; the consumers split it on '\\n', so its trailing newline counts as "
                    "one more, empty entry: remove it"
                )
            self.add(
                "calibration-count",
                where,
                f"score calibration file {_quoted(name)} has {_plural(entries, 'entry')} for "
                f"{_plural(classes, 'class')}{hint}",
            )
        bad_lines = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            problem = _calibration_line_problem(line)
            if problem is not None:
                bad_lines.append((number, problem))
        for number, (message, consumers) in bad_lines[:_MAX_LINE_PROBLEMS]:
            self.add(
                "calibration-line",
                where,
                f"score calibration file {_quoted(name)}, line {number}: {message}",
                consumers,
            )
        if len(bad_lines) > _MAX_LINE_PROBLEMS:
            more = len(bad_lines) - _MAX_LINE_PROBLEMS
            self.add(
                "calibration-line",
                where,
                f"score calibration file {_quoted(name)}: {_plural(more, 'more malformed line')}",
            )

    def check_recorded_files(self, metadata: Any) -> None:
        from .model.populate import recorded_file_names

        try:
            names = recorded_file_names(metadata)
        except MetadataError as exc:
            self.add("metadata-malformed", "metadata", printable(str(exc)))
            return
        packed = self.packed_names()
        reported: set[str] = set()
        for name in names:
            if not name or name in packed or name in reported:
                continue
            reported.add(name)
            self.add(
                "file-missing",
                f"file {printable(name)}",
                "is recorded in the metadata but not packed in the model",
            )


def _name(value: str | bytes | None) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="surrogateescape")
    return str(value)


def _label_hint(data: bytes, labels: int, classes: int) -> str:
    if labels == classes + 1 and data.endswith(b"\n\n"):
        return "; the file ends in a blank line, which counts as one more label"
    return ""


def _compression_methods(tail: Any) -> list[tuple[str, int]]:
    """``(name, zip compression method)`` of each packed entry."""
    methods = getattr(tail, "compression_methods", None)
    if callable(methods):
        return [(str(name), int(method)) for name, method in methods()]
    entries = getattr(tail, "entries", None)
    if callable(entries):
        entries = entries()
    result = []
    for entry in entries or []:
        method = getattr(entry, "method", getattr(entry, "compress_type", 0))
        result.append((str(entry.name), int(method)))
    return result


# -- entry points ------------------------------------------------------------------------------


def check(model: ModelSource) -> list[Problem]:
    """Every reason the audio classifiers of the Task Library or MediaPipe would refuse ``model``.

    Args:
        model: the model's bytes (``bytes``, ``bytearray``, ``memoryview``) or
            the path of its file (mapped, not read).

    Returns:
        The problems found, in a stable order (model, inputs, outputs,
        associated files); empty when both consumers would accept the model.

    Raises:
        ModelFormatError: ``model`` is not a readable TFLite model.
        MissingFileError: the path does not exist.
        MetadataError: (another subclass) the file cannot be read.

    Example::

        problems = check(populated_model)
        if problems:
            print("\\n".join(str(p) for p in problems))
    """
    if isinstance(model, (str, os.PathLike)):
        with map_file(model) as data:
            return _Checker(_read_model(data)).run()
    try:
        view = memoryview(model)
    except TypeError:
        from .errors import MetadataValidationError

        raise MetadataValidationError(
            "model should be the model's bytes (bytes, bytearray or memoryview) or its path, "
            f"but got {type(model).__name__}."
        ) from None
    return _Checker(_read_model(view)).run()


def warn_for_problems(problems: Iterable[Problem], stacklevel: int = 2) -> None:
    """Emit one :class:`~tflite_metadata.errors.ConsumerCompatibilityWarning` per problem.

    For the Python writers, which keep tflite-support's permissive behaviour:
    they produce the model, and say why a consumer would refuse it.

    Args:
        problems: what :func:`check` returned.
        stacklevel: which line the warnings point at: 1 is the line that calls
            this function, 2 (the default, for a writer method) the line that
            called that method.
    """
    for problem in problems:
        refused_by = " and ".join(problem.consumers)
        warnings.warn(
            ConsumerCompatibilityWarning(
                f"{problem} ({refused_by} would refuse the model) [{problem.code}]"
            ),
            stacklevel=stacklevel + 1,
        )
