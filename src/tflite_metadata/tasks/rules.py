"""The vocabulary of consumer rules: problems, their codes, and what a rule reads of a model.

The rules themselves live beside their task (:mod:`.audio_classifier`,
:mod:`.image_classifier` …, and the classification heads every classifier shares
in :mod:`.classification`); :mod:`tflite_metadata.check` runs the rules common to
every model, then the task's. A rule reads a model through a :class:`Checker`
(the model's tensors, its decoded metadata, its packed files, read once) and
reports what the consumer would refuse with :meth:`Checker.add`, one
:class:`Problem` with a stable :class:`Code`, the value expected and the value found.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..archive.associated_files import ZipTail, find_zip
from ..errors import AssociatedFileError, MetadataError
from ..format import codec
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..model.populate import file_name
from ..model.reader import TensorInfo, open_model

__all__ = [
    "BOTH",
    "MAX_EXAMINED_FILE_SIZE",
    "MEDIAPIPE",
    "TASK_LIBRARY",
    "Checker",
    "Code",
    "ModelFacts",
    "Problem",
    "Tensor",
    "calibration_entry_count",
    "label_counts",
    "plural",
    "printable",
    "quoted",
    "read_facts",
    "shape_text",
]

#: The consumers whose rules are checked, as named in messages.
TASK_LIBRARY = "Task Library"
MEDIAPIPE = "MediaPipe"
BOTH = (TASK_LIBRARY, MEDIAPIPE)

#: Values of the metadata schema's enums and unions that the rules name.
LABELS_FILE = schema.ENUMS["AssociatedFileType"].value_of("TENSOR_AXIS_LABELS")
CALIBRATION_FILE = schema.ENUMS["AssociatedFileType"].value_of("TENSOR_AXIS_SCORE_CALIBRATION")
SCORE_CALIBRATION_UNIT = schema.UNIONS["ProcessUnitOptions"].type_of("ScoreCalibrationOptions")
SCORE_THRESHOLDING_UNIT = schema.UNIONS["ProcessUnitOptions"].type_of("ScoreThresholdingOptions")
NORMALIZATION_UNIT = schema.UNIONS["ProcessUnitOptions"].type_of("NormalizationOptions")

#: The most malformed calibration lines reported per file; the rest are counted.
_MAX_LINE_PROBLEMS = 3

#: The largest label or score calibration file that is read to be examined: 64 MiB.
#:
#: Real label files hold a line per class, calibration files a short line per
#: class: tens of kilobytes for thousands of classes. A larger packed file is
#: not read into memory: ``check`` reports it as ``file-not-checked`` (a
#: problem, so ``check`` exits with 1 and ``write`` refuses the model unless
#: ``--no-check``: what was not examined cannot be vouched for), and ``show``
#: gives its size instead of its labels. A score calibration file larger than
#: this is refused by :class:`~tflite_metadata.tasks.classification.ScoreCalibrationMd`,
#: which parses it into memory; a label file of any size can still be packed
#: (it is checked to be UTF-8 piece by piece).
MAX_EXAMINED_FILE_SIZE = 64 << 20


def size_text(size: int) -> str:
    """``size`` bytes for a message: ``"67108864 bytes (64 MiB)"``."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift:
            value = size / (1 << shift)
            shown = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
            return f"{size} bytes ({shown} {unit})"
    return plural(size, "byte")


class Code(str, enum.Enum):
    """The stable code of each rule, as printed in ``[brackets]`` and in ``check --json``.

    One enum for every task, so that a code means one thing everywhere; the
    README's table lists them all (a test keeps the two equal).
    """

    # The model and its metadata, whatever the task.
    NO_METADATA = "no-metadata"
    METADATA_MALFORMED = "metadata-malformed"
    SUBGRAPH_METADATA = "subgraph-metadata"
    SUBGRAPH_COUNT = "subgraph-count"
    INPUT_COUNT = "input-count"
    OUTPUT_COUNT = "output-count"
    #: A subgraph input or output naming a tensor the subgraph does not have.
    TENSOR_INDEX = "tensor-index"
    PARSER_VERSION = "parser-version"
    # Associated files.
    FILE_MISSING = "file-missing"
    FILE_COMPRESSED = "file-compressed"
    #: A packed label or calibration file too large to examine
    #: (:data:`MAX_EXAMINED_FILE_SIZE`), or that cannot be read.
    FILE_NOT_CHECKED = "file-not-checked"
    ZIP_MALFORMED = "zip-malformed"
    # Input tensors.
    INPUT_TYPE = "input-type"
    INPUT_SHAPE = "input-shape"
    INPUT_NAME = "input-name"
    # Audio inputs.
    AUDIO_PROPERTIES = "audio-properties"
    SAMPLE_RATE = "sample-rate"
    CHANNELS = "channels"
    INPUT_CHANNELS = "input-channels"
    # Image inputs.
    IMAGE_PROPERTIES = "image-properties"
    COLOR_SPACE = "color-space"
    NORMALIZATION = "normalization"
    # Classification heads.
    OUTPUT_TYPE = "output-type"
    OUTPUT_SHAPE = "output-shape"
    OUTPUT_NAME = "output-name"
    LABEL_COUNT = "label-count"
    LABEL_EMPTY = "label-empty"
    CALIBRATION_COUNT = "calibration-count"
    CALIBRATION_LINE = "calibration-line"
    CALIBRATION_EMPTY = "calibration-empty"
    CALIBRATION_FILE = "calibration-file"
    CALIBRATION_WITHOUT_LABELS = "calibration-without-labels"
    CALIBRATION_TRANSFORMATION = "calibration-transformation"
    #: A calibration a consumer does not read (the detector's, not on output 2).
    CALIBRATION_IGNORED = "calibration-ignored"
    PROCESS_UNITS = "process-units"
    # Text inputs.
    TOKENIZER = "tokenizer"
    VOCABULARY = "vocabulary"
    # Object detectors.
    BOUNDING_BOX = "bounding-box"
    # .task bundles, as MediaPipe's bundle reader reads them (see check.py).
    #: An entry whose declared sizes do not fit its data (MediaPipe crashes).
    ENTRY_SIZE = "entry-size"
    #: Two entries of one name (MediaPipe keeps the last).
    ENTRY_DUPLICATE = "entry-duplicate"
    #: Entries sharing bytes (MediaPipe serves both).
    ENTRY_OVERLAP = "entry-overlap"
    #: An entry whose CRC-32 is wrong (MediaPipe does not check it).
    ENTRY_CRC = "entry-crc"
    #: A local header that disagrees with the central directory (MediaPipe refuses it).
    ENTRY_HEADER = "entry-header"
    #: An encrypted entry (MediaPipe serves its bytes as they are).
    ENTRY_ENCRYPTED = "entry-encrypted"
    #: A symbolic link, folder or special file (MediaPipe serves it as a file).
    ENTRY_LINK = "entry-link"
    #: A model whose data does not start at a multiple of 4 bytes.
    ENTRY_ALIGNMENT = "entry-alignment"
    #: A ``.tflite`` entry that is not a TFLite model.
    ENTRY_MODEL = "entry-model"
    #: An entry name that would be extracted outside its folder, or that is also
    #: the folder of another entry.
    ENTRY_NAME = "entry-name"

    def __str__(self) -> str:
        return self.value

    def __format__(self, format_spec: str) -> str:
        return format(self.value, format_spec)


@dataclass(frozen=True)
class Problem:
    """One reason a consumer would refuse the model.

    Attributes:
        code: the rule's stable :class:`Code` (a ``str``: ``"label-count"`` …).
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
    consumers: tuple[str, ...] = BOTH

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


def quoted(name: str | bytes | None) -> str:
    return f"'{printable(name)}'"


#: Dimensions a message shows of a shape; a hostile model may claim thousands.
_SHAPE_DIMENSIONS_SHOWN = 8


def shape_text(shape: Sequence[int]) -> str:
    if len(shape) <= _SHAPE_DIMENSIONS_SHOWN:
        return "[" + ", ".join(str(d) for d in shape) + "]"
    shown = ", ".join(str(d) for d in shape[:_SHAPE_DIMENSIONS_SHOWN])
    return f"[{shown}, … ({len(shape)} dimensions)]"


def plural(count: int, noun: str) -> str:
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


def _calibration_line_problem(
    line: bytes, negative_scale_refused_by: tuple[str, ...]
) -> tuple[str, tuple[str, ...]] | None:
    """Why the consumers refuse one calibration line, or None if it is accepted."""
    if not line:
        return None
    text = line.decode("utf-8", errors="replace")
    tokens = text.split(",")
    shown = printable(text if len(text) <= 60 else text[:57] + "...")
    if len(tokens) not in (3, 4):
        return (
            "expected an empty line or 3 or 4 comma-separated numbers "
            f"(scale, slope, offset[, min_score]), found {plural(len(tokens), 'value')}: "
            f"'{shown}'",
            BOTH,
        )
    values = []
    for position, token in enumerate(tokens, start=1):
        value = _parse_consumer_float(token)
        if value is None:
            return (
                f"parameter {position} should be a number, found '{printable(token)}'",
                BOTH,
            )
        values.append(value)
    if values[0] < 0:
        return (
            f"the scale (parameter 1) should be non-negative, found {values[0]:g}",
            negative_scale_refused_by,
        )
    return None


# -- reading the model ---------------------------------------------------------------------


@dataclass
class Tensor:
    index: int
    name: str
    type: int
    shape: tuple[int, ...]
    #: The model's ``shape_signature`` (-1 marks a dynamic dimension), None when absent.
    shape_signature: tuple[int, ...] | None = None


@dataclass
class ModelFacts:
    """What the rules need from a model, read once."""

    subgraph_count: int
    inputs: list[Tensor]
    outputs: list[Tensor]
    metadata: bytes | None
    zip_tail: ZipTail | AssociatedFileError | None
    #: Inputs and outputs of subgraph 0 naming a tensor it does not have:
    #: ``(kind, position, tensor index, tensor count)``. When there are any,
    #: ``inputs`` and ``outputs`` are empty (see ``ModelView.dangling_tensor_indices``).
    dangling: list[tuple[str, int, int, int]] = field(default_factory=list)


def read_facts(data: BufferLike) -> ModelFacts:
    """Read what the rules need of the model ``data`` (its first subgraph, metadata, zip).

    Raises:
        ModelFormatError: ``data`` is not a readable TFLite model.
    """
    view = open_model(data)

    def tensors(infos: Iterable[TensorInfo]) -> list[Tensor]:
        # Numbered by position among the inputs (outputs), as the consumers number heads.
        return [
            Tensor(position, t.name, t.type, t.shape, t.shape_signature)
            for position, t in enumerate(infos)
        ]

    subgraph_count = view.subgraph_count
    dangling = view.dangling_tensor_indices(0)
    inputs = [] if dangling else tensors(view.inputs(0))
    outputs = [] if dangling else tensors(view.outputs(0))
    metadata = view.metadata_buffer()
    zip_tail: ZipTail | AssociatedFileError | None
    try:
        zip_tail = find_zip(data)
    except AssociatedFileError as exc:
        zip_tail = exc
    return ModelFacts(
        subgraph_count,
        inputs,
        outputs,
        None if metadata is None else bytes(metadata),
        zip_tail,
        dangling,
    )


# -- the checker -------------------------------------------------------------------------------


class Checker:
    """What the rules read of one model, read once, and the problems they report.

    Attributes:
        model: the model's facts.
        problems: the problems reported so far, in order.
        metadata: the decoded metadata (``ModelMetadataT``), or None when the
            model has none or it cannot be decoded (reported once, as
            ``no-metadata`` or ``metadata-malformed``, by :meth:`decode_metadata`).
        negative_scale_refused_by: the consumers that refuse a score calibration
            line with a negative scale. MediaPipe always does; of the Task
            Library, the image classifier does and the audio classifier does not
            (both measured), so a task's rules set it before the heads' files are
            checked.
    """

    def __init__(self, model: ModelFacts) -> None:
        self.model = model
        self.problems: list[Problem] = []
        self.metadata: Any = None
        self.negative_scale_refused_by: tuple[str, ...] = (MEDIAPIPE,)

    def add(
        self, code: Code, location: str, message: str, consumers: tuple[str, ...] = BOTH
    ) -> None:
        """Report that ``consumers`` refuse the model: ``message`` says what and where."""
        self.problems.append(Problem(code, location, message, consumers))

    @property
    def subgraph_metadata(self) -> Any:
        """The first ``SubGraphMetadataT`` of the metadata, or None."""
        subgraphs = None if self.metadata is None else self.metadata.subgraphMetadata
        return subgraphs[0] if subgraphs else None

    def tensor_metadata(self, kind: str) -> list[Any] | None:
        """The ``inputTensorMetadata`` (``kind="input"``) or ``outputTensorMetadata`` list."""
        subgraph = self.subgraph_metadata
        if subgraph is None:
            return None
        return subgraph.inputTensorMetadata if kind == "input" else subgraph.outputTensorMetadata  # type: ignore[no-any-return]

    def custom_metadata(self, name: str) -> Iterator[Any]:
        """The subgraph's custom metadata called ``name``, each decoded with its schema.

        The schemas are MediaPipe's (:data:`~tflite_metadata.format.custom_metadata.
        CUSTOM_METADATA_SCHEMAS`). Each entry is decoded when it is reached; one
        that cannot be decoded is reported (MediaPipe reads it unverified) and
        comes as None.
        """
        from ..format.codec import codec_for
        from ..format.custom_metadata import CUSTOM_METADATA_SCHEMAS

        subgraph = self.subgraph_metadata
        entries = (None if subgraph is None else subgraph.customMetadata) or []
        for entry in entries:
            if entry.name not in (name, name.encode()):
                continue
            try:
                options = codec_for(CUSTOM_METADATA_SCHEMAS[name]).decode(
                    bytes(entry.data or b""), check_identifier=False
                )
            except MetadataError as exc:
                self.add(
                    Code.METADATA_MALFORMED,
                    f"custom metadata {name}",
                    f"cannot be decoded ({printable(str(exc))}); MediaPipe reads it unverified "
                    "(it may crash or misread it)",
                    (MEDIAPIPE,),
                )
                options = None
            yield options

    # -- associated files

    def packed_names(self) -> set[str]:
        """The names of the files packed in the model's zip."""
        tail = self.model.zip_tail
        if tail is None or isinstance(tail, Exception):
            return set()
        return set(tail.names())

    def read_packed(self, name: str) -> bytes | None:
        """The bytes of the packed file ``name``, or None if it is not packed or unreadable.

        A file larger than :data:`MAX_EXAMINED_FILE_SIZE` is not read (None);
        :meth:`examine_packed` reports why instead.
        """
        tail = self.model.zip_tail
        if tail is None or isinstance(tail, Exception) or name not in self.packed_names():
            return None
        try:
            if tail.entry(name).size > MAX_EXAMINED_FILE_SIZE:
                return None
            return bytes(tail.read(name))
        except MetadataError:
            return None

    def examine_packed(self, where: str, what: str, name: str) -> bytes | None:
        """The bytes of the packed file ``name``, to examine; None if they cannot be.

        A file that is not packed gives None (``file-missing`` reports it). A
        file that is packed but cannot be examined is reported here, as
        ``file-not-checked``, never passed in silence: one larger than
        :data:`MAX_EXAMINED_FILE_SIZE` (not read: its size is known from the zip),
        or one that cannot be read (corrupt, encrypted …).

        Args:
            where: the problem's location (``"output 0"``).
            what: what the file is, for the message (``"label file"``).
            name: the file's name in the zip.
        """
        tail = self.model.zip_tail
        if tail is None or isinstance(tail, Exception) or name not in self.packed_names():
            return None
        consequence = "so the consumers may still refuse the model"
        try:
            size = tail.entry(name).size
            if size > MAX_EXAMINED_FILE_SIZE:
                self.add(
                    Code.FILE_NOT_CHECKED,
                    where,
                    f"{what} {quoted(name)} is {size_text(size)}, more than the "
                    f"{size_text(MAX_EXAMINED_FILE_SIZE)} that are read to check a file: "
                    f"it was not checked, {consequence}",
                )
                return None
            return bytes(tail.read(name))
        except MetadataError as exc:
            self.add(
                Code.FILE_NOT_CHECKED,
                where,
                f"{what} {quoted(name)} cannot be read, so it was not checked "
                f"({printable(str(exc))}); {consequence}",
            )
            return None

    def decode_metadata(self, reason: str) -> Any:
        """Decode the metadata into :attr:`metadata`; report why it cannot be.

        Args:
            reason: what the consumers read from the metadata, for the message
                when there is none (``"how to feed the model"`` …).
        """
        buffer = self.model.metadata
        if buffer is None or not buffer:
            self.add(
                Code.NO_METADATA,
                "model",
                f"has no metadata ({schema.METADATA_FIELD_NAME}); {reason}",
            )
            return None
        identifier = buffer[4:8]
        if identifier != schema.FILE_IDENTIFIER:
            self.add(
                Code.METADATA_MALFORMED,
                "metadata",
                f"identifier is {printable(repr(identifier))}, expected {schema.FILE_IDENTIFIER!r}",
            )
            return None
        try:
            self.metadata = codec.decode(buffer)
        except MetadataError as exc:
            self.add(Code.METADATA_MALFORMED, "metadata", printable(str(exc)))
            return None
        return self.metadata

    def check_head_files(self, where: str, tensor_metadata: Any, classes: int | None) -> None:
        """An output's process units, label files and score calibration against its classes.

        With ``classes`` None (the consumers do not count them), only that its
        label files are not empty.
        """
        if classes is None:
            for file in tensor_metadata.associatedFiles or []:
                if file.type == LABELS_FILE and file.name is not None:
                    self.check_label_file(where, file, None)
            return
        units = tensor_metadata.processUnits or []
        for kind, label in (
            (SCORE_CALIBRATION_UNIT, "score calibration"),
            (SCORE_THRESHOLDING_UNIT, "score thresholding"),
        ):
            count = sum(1 for unit in units if unit.optionsType == kind)
            if count > 1:
                self.add(
                    Code.PROCESS_UNITS,
                    where,
                    f"has {count} {label} process units; expected at most 1",
                )
        files = tensor_metadata.associatedFiles or []
        label_files = [f for f in files if f.type == LABELS_FILE and f.name is not None]
        for file in label_files:
            self.check_label_file(where, file, classes)
        calibration = next((u for u in units if u.optionsType == SCORE_CALIBRATION_UNIT), None)
        if calibration is not None:
            self.check_calibration(where, calibration, files, bool(label_files), classes)

    def check_label_file(self, where: str, file: Any, classes: int | None) -> None:
        name = file_name(file, strict=False)
        data = self.examine_packed(where, "label file", name)
        if data is None:
            return  # reported as file-missing or file-not-checked
        if not data:
            self.add(Code.LABEL_EMPTY, where, f"label file {quoted(name)} is empty")
            return
        if classes is None:
            return
        task_library, mediapipe = label_counts(data)
        if task_library == mediapipe:
            if task_library != classes:
                self.add(
                    Code.LABEL_COUNT,
                    where,
                    f"label file {quoted(name)} has {plural(task_library, 'label')} for "
                    f"{plural(classes, 'class')}" + _label_hint(data, task_library, classes),
                )
            return
        refusing = tuple(
            consumer
            for consumer, count in ((TASK_LIBRARY, task_library), (MEDIAPIPE, mediapipe))
            if count != classes
        )
        if refusing:
            self.add(
                Code.LABEL_COUNT,
                where,
                f"label file {quoted(name)} has {task_library} labels for the Task Library "
                f"and {mediapipe} for MediaPipe, for {plural(classes, 'class')} "
                "(blank last lines or carriage returns count differently)",
                refusing,
            )

    def check_calibration(
        self,
        where: str,
        unit: Any,
        files: list[Any],
        has_labels: bool,
        classes: int,
        *,
        count_refused_by: tuple[str, ...] = BOTH,
        counted: str = "class",
    ) -> None:
        """A score calibration process unit and its file.

        Args:
            where: the problem's location.
            unit: the ``ScoreCalibrationOptions`` process unit.
            files: the tensor's associated files.
            has_labels: whether the tensor has labels (the Task Library needs them).
            classes: the number of entries the file needs; negative: not checked.
            count_refused_by: the consumers that refuse another number of entries.
            counted: what the entries are counted against, for the message.
        """
        options = unit.options
        transformation = int(getattr(options, "scoreTransformation", 0) or 0)
        if schema.ENUMS["ScoreTransformationType"].name_of(transformation) is None:
            self.add(
                Code.CALIBRATION_TRANSFORMATION,
                where,
                f"score transformation is {transformation}; expected IDENTITY (0), LOG (1) "
                "or INVERSE_LOGISTIC (2)",
            )
        if not has_labels:
            self.add(
                Code.CALIBRATION_WITHOUT_LABELS,
                where,
                "has a score calibration but no label file (TENSOR_AXIS_LABELS); the Task "
                "Library needs labels to apply it",
                (TASK_LIBRARY,),
            )
        file = next(
            (f for f in files if f.type == CALIBRATION_FILE and f.name is not None),
            None,
        )
        if file is None:
            self.add(
                Code.CALIBRATION_FILE,
                where,
                "has a score calibration process unit but no associated file of type "
                "TENSOR_AXIS_SCORE_CALIBRATION holding its parameters",
            )
            return
        name = file_name(file, strict=False)
        data = self.examine_packed(where, "score calibration file", name)
        if data is None:
            return  # reported as file-missing or file-not-checked
        if not data:
            self.add(
                Code.CALIBRATION_EMPTY, where, f"score calibration file {quoted(name)} is empty"
            )
            return
        entries = calibration_entry_count(data)
        if classes >= 0 and entries != classes:
            hint = ""
            if data.endswith(b"\n") and entries == classes + 1:
                hint = (
                    "; the consumers split it on '\\n', so its trailing newline counts as "
                    "one more, empty entry: remove it"
                )
            self.add(
                Code.CALIBRATION_COUNT,
                where,
                f"score calibration file {quoted(name)} has {plural(entries, 'entry')} for "
                f"{plural(classes, counted)}{hint}",
                count_refused_by,
            )
        bad_lines = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            problem = _calibration_line_problem(line, self.negative_scale_refused_by)
            if problem is not None:
                bad_lines.append((number, problem))
        for number, (message, consumers) in bad_lines[:_MAX_LINE_PROBLEMS]:
            self.add(
                Code.CALIBRATION_LINE,
                where,
                f"score calibration file {quoted(name)}, line {number}: {message}",
                consumers,
            )
        if len(bad_lines) > _MAX_LINE_PROBLEMS:
            more = len(bad_lines) - _MAX_LINE_PROBLEMS
            self.add(
                Code.CALIBRATION_LINE,
                where,
                f"score calibration file {quoted(name)}: {plural(more, 'more malformed line')}",
            )


def _label_hint(data: bytes, labels: int, classes: int) -> str:
    if labels == classes + 1 and data.endswith(b"\n\n"):
        return "; the file ends in a blank line, which counts as one more label"
    return ""


def compression_methods(tail: Any) -> list[tuple[str, int]]:
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
