"""Typed descriptions of model metadata: the core of ``metadata_writers.metadata_info``.

Each class holds what one part of the metadata says (the model, a tensor, an
associated file, a score calibration) and turns it into object-API values
(``ModelMetadataT``, ``TensorMetadataT`` …) with :meth:`create_metadata`. The
constructors, attributes, defaults, results and error messages are those of
tflite-support 0.4.4's ``metadata_info``, so code written for it runs unchanged.

Beyond tflite-support, label files and score calibration parameters can be
given in memory instead of as files::

    LabelFileMd(labels=["speech", "music"])                 # named "labels.txt"
    LabelFileMd("labels_fr.txt", locale="fr", labels=["parole", "musique"])
    LabelFileMd("labels.txt", content=b"speech\\nmusic\\n")  # raw bytes
    ScoreCalibrationMd(
        ScoreTransformationType.LOG, 0.2, parameters=[[1.0, 2.0, 3.0], None, [1.0, 2.0, 3.0, 0.5]]
    )                                                       # "score_calibration.txt"
    AssociatedFileMd("vocab.txt", "Vocabulary.", content=b"...")

When values are given in memory, ``file_path`` is only the name the file gets in
the model (its basename is used, as for a path). Nothing is written to disk.

Label and calibration files are checked, whether they come from disk or from
memory: label files must be UTF-8, calibration files must hold empty lines or 3
or 4 finite numbers per line with a non-negative scale. Failures are
:class:`~tflite_metadata.errors.MetadataError` subclasses (hence ``ValueError``)
that name the file and the line.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import numbers
import os
from collections.abc import Iterable, Sequence
from typing import Any, Optional, Union

from .. import metadata_schema_py_generated as _fb
from ..errors import AssociatedFileError, MetadataValidationError
from ..fileio import PathLike, read_file
from ..format import metadata_schema as schema
from ..format.model_schema import TensorType

__all__ = [
    "AssociatedFileMd",
    "CategoryTensorMd",
    "ClassificationTensorMd",
    "FileContent",
    "GeneralMd",
    "InputAudioTensorMd",
    "LabelFileMd",
    "ScoreCalibrationMd",
    "TensorMd",
]

#: In-memory file content: any bytes-like object.
FileContent = Union[bytes, bytearray, memoryview]

# Stats that tflite-support writes for classification outputs, by tensor type.
_MIN_UINT8 = 0
_MAX_UINT8 = 255

_UINT32_MAX = 2**32 - 1


# -- helpers --------------------------------------------------------------------


def _as_bytes(content: Any, what: str) -> bytes:
    """``content`` as bytes, or a validation error naming ``what``."""
    if isinstance(content, str):
        raise MetadataValidationError(
            f"{what}: content must be bytes, found str; encode it first "
            "(for example content.encode('utf-8'))"
        )
    try:
        return bytes(memoryview(content))
    except TypeError:
        raise MetadataValidationError(
            f"{what}: content must be bytes, bytearray or memoryview, "
            f"found {type(content).__name__}"
        ) from None


def _check_path(file_path: Any, what: str) -> None:
    if not isinstance(file_path, (str, os.PathLike)):
        raise MetadataValidationError(
            f"{what}: file_path must be a str or os.PathLike, found {type(file_path).__name__}"
        )


def _basename(file_path: PathLike) -> str:
    return os.path.basename(os.fspath(file_path))


def _read_path(file_path: PathLike) -> bytes:
    """Read a file named by the caller; missing files raise ``MissingFileError``."""
    return read_file(file_path, error=AssociatedFileError)


def _line_of(data: bytes, position: int) -> int:
    """1-based line number of byte ``position`` (lines end at ``\\n``)."""
    return data.count(b"\n", 0, position) + 1


def _decode_utf8(data: bytes, kind: str, where: str) -> str:
    """Decode ``data`` as UTF-8, naming the file and line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise AssociatedFileError(
            f"{kind} '{where}' is not valid UTF-8: line {line}, column {column} "
            f"has byte 0x{data[exc.start]:02x}. Save the file as UTF-8."
        ) from None


def _finite_real(value: Any) -> bool:
    """Whether ``value`` is a real number (not a bool) that a float holds, finite."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (OverflowError, ValueError, TypeError):  # an int beyond 1.8e308, odd Real types
        return False


def _enum_value(enum: str, value: Any, argument: str) -> int:
    """Check that ``value`` is a value of the schema enum ``enum``."""
    decl = schema.ENUMS[enum]
    if (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and decl.name_of(int(value)) is not None
    ):
        return int(value)
    choices = ", ".join(f"{name} ({number})" for name, number in decl.values)
    raise MetadataValidationError(
        f"{argument} should be one of {enum}'s values: {choices}; but got {value!r}."
    )


# -- general ----------------------------------------------------------------------


class GeneralMd:
    """A container for common metadata information of a model.

    Attributes:
        name: name of the model.
        version: version of the model.
        description: description of what the model does.
        author: author of the model.
        licenses: licenses of the model.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        version: Optional[str] = None,
        description: Optional[str] = None,
        author: Optional[str] = None,
        licenses: Optional[str] = None,
    ) -> None:
        self.name = name
        self.version = version
        self.description = description
        self.author = author
        self.licenses = licenses

    def create_metadata(self) -> Any:
        """Create the model metadata from the general model information.

        Returns:
            A ``ModelMetadataT`` holding name, version, description, author and license.
        """
        model_metadata = _fb.ModelMetadataT()
        model_metadata.name = self.name
        model_metadata.version = self.version
        model_metadata.description = self.description
        model_metadata.author = self.author
        model_metadata.license = self.licenses
        return model_metadata


# -- associated files -------------------------------------------------------------


class AssociatedFileMd:
    """A container for common associated file metadata information.

    The file is either on disk at ``file_path`` (read when the model is
    populated), or given in memory as ``content``, in which case ``file_path``
    only names it.

    Attributes:
        file_path: path to the associated file, or its name when ``content`` is given.
        description: description of the associated file.
        file_type: the ``AssociatedFileType`` of the file.
        locale: locale of the associated file (e.g. ``"en"``).
        content: the file's bytes when given in memory, else None.

    Args:
        file_path: as the attribute.
        description: as the attribute.
        file_type: as the attribute.
        locale: as the attribute.
        content: (keyword only) the file's bytes, instead of reading ``file_path``.

    Raises:
        MetadataValidationError: ``file_path`` is not a path, or ``content`` is
            given but is not bytes-like or ``file_path`` names no file.
    """

    def __init__(
        self,
        file_path: PathLike,
        description: Optional[str] = None,
        file_type: Optional[int] = _fb.AssociatedFileType.UNKNOWN,
        locale: Optional[str] = None,
        *,
        content: Optional[FileContent] = None,
    ) -> None:
        _check_path(file_path, type(self).__name__)
        self.file_path = file_path
        self.description = description
        self.file_type = file_type
        self.locale = locale
        self.content: Optional[bytes] = None
        if content is not None:
            self.content = _as_bytes(content, f"{type(self).__name__} '{os.fspath(file_path)}'")
            if not _basename(file_path):
                raise MetadataValidationError(
                    f"{type(self).__name__}: a file given as content needs a file name, "
                    f"but file_path is {os.fspath(file_path)!r}"
                )

    @property
    def name(self) -> str:
        """The name the file has in the model: the basename of ``file_path``."""
        return _basename(self.file_path)

    def read(self) -> bytes:
        """The bytes to pack into the model.

        Returns:
            ``content`` when given, else the contents of ``file_path``.

        Raises:
            MissingFileError: the file does not exist (also a ``FileNotFoundError``).
            AssociatedFileError: the file cannot be read, or its content is invalid.
        """
        if self.content is not None:
            return self.content
        return _read_path(self.file_path)

    def create_metadata(self) -> Any:
        """Create the associated file metadata.

        Returns:
            An ``AssociatedFileT`` named after the basename of ``file_path``.
        """
        file_metadata = _fb.AssociatedFileT()
        file_metadata.name = self.name
        file_metadata.description = self.description
        file_metadata.type = self.file_type
        file_metadata.locale = self.locale
        return file_metadata


def _labels_text(labels: Iterable[str], what: str) -> bytes:
    """Label file bytes: one label a line, each line ending in ``\\n``."""
    if isinstance(labels, (str, bytes)):
        raise MetadataValidationError(
            f"{what}: labels must be a list of strings, found a single {type(labels).__name__}"
        )
    lines = []
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            raise MetadataValidationError(
                f"{what}: label {index} must be a str, found {type(label).__name__} ({label!r})"
            )
        if "\n" in label or "\r" in label:
            raise MetadataValidationError(
                f"{what}: label {index} ({label!r}) contains a line break; a label file holds "
                "one label a line"
            )
        try:
            lines.append((label + "\n").encode("utf-8"))
        except UnicodeEncodeError as exc:  # a lone surrogate, from a bad decode upstream
            raise MetadataValidationError(
                f"{what}: label {index} ({label!r}) cannot be written as UTF-8: "
                f"{exc.reason} at character {exc.start}"
            ) from None
    return b"".join(lines)


class LabelFileMd(AssociatedFileMd):
    """A container for label file metadata information.

    The labels come from the file at ``file_path``, or from memory: a list of
    ``labels`` (written one a line, UTF-8, each line ending in a newline), or
    the raw ``content`` of a label file. In memory, ``file_path`` names the file
    in the model and defaults to ``"labels.txt"``.

    Label files must be UTF-8. In-memory labels are checked here; a file on
    disk is checked when it is read (see :meth:`read`).

    Args:
        file_path: path of the label file, or its name for in-memory labels.
        locale: locale of the label file (e.g. ``"en"``).
        labels: (keyword only) the labels, in class order.
        content: (keyword only) the bytes of a label file.

    Raises:
        MetadataValidationError: no source or two sources are given, a label is
            not a string or holds a line break.
        AssociatedFileError: ``content`` is not UTF-8 (the message names the line).

    Example::

        LabelFileMd("labels_en.txt", locale="en", labels=["speech", "music"])
    """

    _LABEL_FILE_DESCRIPTION = "Labels for categories that the model can recognize."
    _FILE_TYPE = _fb.AssociatedFileType.TENSOR_AXIS_LABELS
    #: The name of in-memory labels given without a ``file_path``.
    DEFAULT_NAME = "labels.txt"

    def __init__(
        self,
        file_path: Optional[PathLike] = None,
        locale: Optional[str] = None,
        *,
        labels: Optional[Iterable[str]] = None,
        content: Optional[FileContent] = None,
    ) -> None:
        if labels is not None and content is not None:
            raise MetadataValidationError("LabelFileMd: give labels or content, not both")
        in_memory = labels is not None or content is not None
        if file_path is None:
            if not in_memory:
                raise MetadataValidationError(
                    "LabelFileMd needs a label file: give file_path, labels or content"
                )
            file_path = self.DEFAULT_NAME
        if labels is not None:
            content = _labels_text(labels, f"LabelFileMd '{os.fspath(file_path)}'")
        super().__init__(
            file_path, self._LABEL_FILE_DESCRIPTION, self._FILE_TYPE, locale, content=content
        )
        if self.content is not None:
            _decode_utf8(self.content, "Label file", os.fspath(self.file_path))

    def read(self) -> bytes:
        """The label file's bytes, checked to be UTF-8.

        Raises:
            MissingFileError: the file does not exist.
            AssociatedFileError: the file cannot be read or is not UTF-8 (the
                message names the file and the line).
        """
        data = super().read()
        _decode_utf8(data, "Label file", os.fspath(self.file_path))
        return data

    def read_labels(self) -> list[str]:
        """The labels, one per line (a final newline does not start another label).

        Raises:
            As :meth:`read`.
        """
        text = self.read().decode("utf-8")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines


# -- score calibration ------------------------------------------------------------

#: One row of score calibration parameters: ``(scale, slope, offset)`` or
#: ``(scale, slope, offset, min_score)``; None (or empty) for a class without calibration.
CalibrationRow = Optional[Sequence[float]]


def _finite_number(token: str) -> Optional[float]:
    """``token`` as a finite float, or None."""
    # Python's float() also takes "1_000"; the C++ parsers of the consumers do not.
    if "_" in token:
        return None
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _calibration_value(token: str, where: str, line: int, position: int) -> float:
    """One calibration parameter, which must be a finite decimal number."""
    value = _finite_number(token)
    if value is None:
        raise AssociatedFileError(
            f"Score calibration file '{where}', line {line}: parameter {position} should be a "
            f"finite number, but got {token!r}."
        )
    return value


def _parse_calibration(data: bytes, where: str) -> list[Optional[tuple[float, ...]]]:
    """Check a score calibration file and return its rows (None for empty lines)."""
    text = _decode_utf8(data, "Score calibration file", where)
    rows: list[Optional[tuple[float, ...]]] = []
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=",")
    try:
        for row in reader:
            if not row:
                rows.append(None)
                continue
            # These two checks and their messages are tflite-support's.
            if len(row) not in (3, 4):
                raise AssociatedFileError(
                    "Expected empty lines or 3 or 4 parameters per line in score calibration "
                    f"file, but got {len(row)}."
                )
            line = reader.line_num
            scale = _calibration_value(row[0], where, line, 1)
            if scale < 0:
                raise AssociatedFileError(
                    f"Expected scale to be a non-negative value, but got {scale}."
                )
            values = [scale]
            values += [
                _calibration_value(token, where, line, i + 2) for i, token in enumerate(row[1:])
            ]
            rows.append(tuple(values))
    except csv.Error as exc:
        raise AssociatedFileError(
            f"Score calibration file '{where}', line {reader.line_num}: {exc}"
        ) from None
    return rows


def _format_calibration(parameters: Iterable[CalibrationRow]) -> bytes:
    """Calibration file bytes for in-memory rows.

    Lines are joined by ``\\n`` with no final newline: the Task Library and
    MediaPipe split the file on ``\\n`` and count a trailing newline as one more
    (empty) row, which then no longer matches the number of labels.
    """
    if isinstance(parameters, (str, bytes)):
        raise MetadataValidationError(
            "ScoreCalibrationMd: parameters must be a list of rows of numbers, "
            f"found {type(parameters).__name__}"
        )
    lines = []
    for index, row in enumerate(parameters):
        where = f"ScoreCalibrationMd parameters, row {index}"
        if row is None:
            lines.append("")
            continue
        if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
            raise MetadataValidationError(
                f"{where}: expected a sequence of 3 or 4 numbers or None, "
                f"found {type(row).__name__} ({row!r})"
            )
        values = list(row)
        if values and len(values) not in (3, 4):
            raise MetadataValidationError(
                "Expected empty lines or 3 or 4 parameters per line in score calibration "
                f"file, but got {len(values)}."
            )
        for position, value in enumerate(values):
            if not _finite_real(value):
                raise MetadataValidationError(
                    f"{where}: parameter {position + 1} should be a finite number, "
                    f"but got {value!r}."
                )
        if values and float(values[0]) < 0:
            raise MetadataValidationError(
                f"Expected scale to be a non-negative value, but got {float(values[0])}."
            )
        lines.append(",".join(repr(float(value)) for value in values))
    return "\n".join(lines).encode("utf-8")


class ScoreCalibrationMd:
    """A container for score calibration metadata information.

    The parameters come from the file at ``file_path`` (read and checked here,
    as tflite-support does), or from memory: ``parameters``, one row per class
    (``[scale, slope, offset]``, ``[scale, slope, offset, min_score]``, or None /
    ``[]`` for a class without calibration), or the raw ``content`` of a
    calibration file. In memory, ``file_path`` names the file in the model and
    defaults to ``"score_calibration.txt"``.

    Args:
        score_transformation_type: the ``ScoreTransformationType`` applied to
            the uncalibrated score before calibration.
        default_score: the calibrated score used below ``min_score`` or for a
            class without parameters.
        file_path: path of the calibration file, or its name for in-memory parameters.
        parameters: (keyword only) the calibration rows.
        content: (keyword only) the bytes of a calibration file.

    Raises:
        ValueError: (an :class:`~tflite_metadata.errors.AssociatedFileError` or
            :class:`~tflite_metadata.errors.MetadataValidationError`) the
            parameters are malformed: a line that is neither empty nor 3 or 4
            values, or a negative scale (tflite-support's messages); a value that
            is not a finite number, or a file that is not UTF-8 (the message
            names the file and the line).
        MissingFileError: ``file_path`` does not exist (also a ``FileNotFoundError``).

    Example::

        ScoreCalibrationMd(ScoreTransformationType.LOG, 0.2, parameters=[[1.0, 2.0, 3.0]] * 3)
    """

    _SCORE_CALIBRATION_FILE_DESCRIPTION = (
        "Contains sigmoid-based score calibration parameters. The main purposes of score "
        "calibration is to make scores across classes comparable, so that a common "
        "threshold can be used for all output classes."
    )
    _FILE_TYPE = _fb.AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION
    #: The name of in-memory parameters given without a ``file_path``.
    DEFAULT_NAME = "score_calibration.txt"

    def __init__(
        self,
        score_transformation_type: int,
        default_score: float,
        file_path: Optional[PathLike] = None,
        *,
        parameters: Optional[Iterable[CalibrationRow]] = None,
        content: Optional[FileContent] = None,
    ) -> None:
        if parameters is not None and content is not None:
            raise MetadataValidationError(
                "ScoreCalibrationMd: give parameters or content, not both"
            )
        self._score_transformation_type = _enum_value(
            "ScoreTransformationType", score_transformation_type, "score_transformation_type"
        )
        if not _finite_real(default_score):
            raise MetadataValidationError(
                f"default_score should be a finite number, but got {default_score!r}."
            )
        self._default_score: float = default_score
        if file_path is None:
            if parameters is None and content is None:
                raise MetadataValidationError(
                    "ScoreCalibrationMd needs calibration parameters: give file_path, "
                    "parameters or content"
                )
            file_path = self.DEFAULT_NAME
        _check_path(file_path, "ScoreCalibrationMd")
        self._file_path: PathLike = file_path
        where = os.fspath(file_path)
        if parameters is not None:
            data = _format_calibration(parameters)
        elif content is not None:
            data = _as_bytes(content, f"ScoreCalibrationMd '{where}'")
        else:
            data = _read_path(file_path)
        if not _basename(file_path):
            raise MetadataValidationError(
                f"ScoreCalibrationMd: the calibration file needs a name, but file_path is {where!r}"
            )
        self._parameters: list[Optional[tuple[float, ...]]] = _parse_calibration(data, where)
        # Kept so that the bytes packed are the bytes checked.
        self._content: bytes = data

    @property
    def score_transformation_type(self) -> int:
        """The ``ScoreTransformationType`` value."""
        return self._score_transformation_type

    @property
    def default_score(self) -> float:
        """The default calibrated score."""
        return self._default_score

    @property
    def file_path(self) -> PathLike:
        """The calibration file's path, or its name when given in memory."""
        return self._file_path

    @property
    def parameters(self) -> list[Optional[tuple[float, ...]]]:
        """The rows of the calibration file, None for an empty line."""
        return list(self._parameters)

    @property
    def content(self) -> bytes:
        """The calibration file's bytes, as they will be packed."""
        return self._content

    def create_metadata(self) -> Any:
        """Create the score calibration process unit.

        Returns:
            A ``ProcessUnitT`` holding ``ScoreCalibrationOptions``.
        """
        score_calibration = _fb.ProcessUnitT()
        score_calibration.optionsType = _fb.ProcessUnitOptions.ScoreCalibrationOptions
        options = _fb.ScoreCalibrationOptionsT()
        options.scoreTransformation = self._score_transformation_type
        options.defaultScore = self._default_score
        score_calibration.options = options
        return score_calibration

    def create_score_calibration_file_md(self) -> AssociatedFileMd:
        """The associated file that carries the calibration parameters.

        Returns:
            An :class:`AssociatedFileMd` of type ``TENSOR_AXIS_SCORE_CALIBRATION``
            holding the checked bytes.
        """
        return AssociatedFileMd(
            self._file_path,
            self._SCORE_CALIBRATION_FILE_DESCRIPTION,
            self._FILE_TYPE,
            content=self._content,
        )


# -- tensors ----------------------------------------------------------------------

_CONTENT_PROPERTIES_CLASSES = {
    _fb.ContentProperties.FeatureProperties: "FeaturePropertiesT",
    _fb.ContentProperties.ImageProperties: "ImagePropertiesT",
    _fb.ContentProperties.BoundingBoxProperties: "BoundingBoxPropertiesT",
    _fb.ContentProperties.AudioProperties: "AudioPropertiesT",
}


class TensorMd:
    """A container for common tensor metadata information.

    Attributes:
        name: name of the tensor metadata (shown to users).
        description: description of what the tensor is.
        min_values: per-channel minimum value of the tensor.
        max_values: per-channel maximum value of the tensor.
        content_type: the ``ContentProperties`` type of the tensor.
        associated_files: :class:`AssociatedFileMd` of the tensor.
        tensor_name: name of the corresponding tensor in the TFLite model; when
            set, it decides which model tensor this metadata describes, whatever
            the order of the list it is given in.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        min_values: Optional[list[float]] = None,
        max_values: Optional[list[float]] = None,
        content_type: int = _fb.ContentProperties.FeatureProperties,
        associated_files: Optional[list[AssociatedFileMd]] = None,
        tensor_name: Optional[str] = None,
    ) -> None:
        self.name = name
        self.description = description
        self.min_values = min_values
        self.max_values = max_values
        self.content_type = content_type
        self.associated_files = associated_files
        self.tensor_name = tensor_name

    def create_metadata(self) -> Any:
        """Create the tensor metadata.

        Returns:
            A ``TensorMetadataT`` with name, description, stats (always present,
            possibly empty), content and associated files.
        """
        tensor_metadata = _fb.TensorMetadataT()
        tensor_metadata.name = self.name
        tensor_metadata.description = self.description

        stats = _fb.StatsT()
        stats.max = None if self.max_values is None else list(self.max_values)
        stats.min = None if self.min_values is None else list(self.min_values)
        tensor_metadata.stats = stats

        content = _fb.ContentT()
        class_name = _CONTENT_PROPERTIES_CLASSES.get(self.content_type)
        if class_name is not None:
            content.contentProperties = getattr(_fb, class_name)()
        content.contentPropertiesType = self.content_type
        tensor_metadata.content = content

        if self.associated_files:
            tensor_metadata.associatedFiles = [f.create_metadata() for f in self.associated_files]
        return tensor_metadata


def _check_audio_count(value: Any, argument: str) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise MetadataValidationError(
            f"{argument} should be an integer, but got {value!r} ({type(value).__name__})."
        )
    number = int(value)
    # The message of tflite-support.
    if number < 0:
        raise MetadataValidationError(f"{argument} should be non-negative, but got {value}.")
    if number > _UINT32_MAX:
        raise MetadataValidationError(
            f"{argument} should be at most {_UINT32_MAX} (a uint32), but got {value}."
        )


class InputAudioTensorMd(TensorMd):
    """A container for the input audio tensor metadata information.

    Attributes:
        sample_rate: the sample rate in Hz when the audio was captured.
        channels: the channel count of the audio.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        sample_rate: int = 0,
        channels: int = 0,
    ) -> None:
        super().__init__(name, description, content_type=_fb.ContentProperties.AudioProperties)
        self.sample_rate = sample_rate
        self.channels = channels

    def create_metadata(self) -> Any:
        """Create the input audio tensor metadata.

        Returns:
            A ``TensorMetadataT`` with ``AudioProperties``.

        Raises:
            MetadataValidationError: ``sample_rate`` or ``channels`` is negative
                (tflite-support's message), not an integer or above 2**32 - 1.
        """
        _check_audio_count(self.sample_rate, "sample_rate")
        _check_audio_count(self.channels, "channels")
        tensor_metadata = super().create_metadata()
        properties = tensor_metadata.content.contentProperties
        properties.sampleRate = int(self.sample_rate)
        properties.channels = int(self.channels)
        return tensor_metadata


class ClassificationTensorMd(TensorMd):
    """A container for the classification tensor metadata information.

    The tensor type decides the stats, as in tflite-support: ``UINT8`` gives
    min 0 and max 255, ``FLOAT32`` gives min 0.0 and max 1.0, any other type
    (or None) gives none. The label files come first among the associated
    files, then the score calibration file. ``label_files`` itself is not modified.

    Attributes:
        score_calibration_md: the :class:`ScoreCalibrationMd`, if any.
        (and those of :class:`TensorMd`)

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        label_files: the :class:`LabelFileMd` of the tensor (one per locale).
        tensor_type: the TFLite ``TensorType`` of the tensor.
        score_calibration_md: the score calibration, if any.
        tensor_name: name of the corresponding tensor in the model (see :class:`TensorMd`).
    """

    _MIN_FLOAT = 0.0
    _MAX_FLOAT = 1.0

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        label_files: Optional[list[LabelFileMd]] = None,
        tensor_type: Optional[int] = None,
        score_calibration_md: Optional[ScoreCalibrationMd] = None,
        tensor_name: Optional[str] = None,
    ) -> None:
        self.score_calibration_md = score_calibration_md
        min_values: Optional[list[float]]
        max_values: Optional[list[float]]
        if tensor_type is None or isinstance(tensor_type, bool):
            min_values = max_values = None
        elif tensor_type == TensorType.UINT8:
            min_values, max_values = [_MIN_UINT8], [_MAX_UINT8]
        elif tensor_type == TensorType.FLOAT32:
            min_values, max_values = [self._MIN_FLOAT], [self._MAX_FLOAT]
        else:
            # The Task Library only reads classification scores of these two types.
            min_values = max_values = None
        # A new list: tflite-support appended to the caller's list.
        associated_files: list[AssociatedFileMd] = list(label_files or [])
        if score_calibration_md:
            associated_files.append(score_calibration_md.create_score_calibration_file_md())
        super().__init__(
            name,
            description,
            min_values,
            max_values,
            _fb.ContentProperties.FeatureProperties,
            associated_files,
            tensor_name,
        )

    def create_metadata(self) -> Any:
        """Create the classification tensor metadata.

        Returns:
            A ``TensorMetadataT``; with a score calibration, its process unit too.
        """
        tensor_metadata = super().create_metadata()
        if self.score_calibration_md:
            tensor_metadata.processUnits = [self.score_calibration_md.create_metadata()]
        return tensor_metadata


class CategoryTensorMd(TensorMd):
    """A container for the category tensor metadata information.

    Its label files are of type ``TENSOR_VALUE_LABELS``. The :class:`LabelFileMd`
    objects passed in are copied, not modified (tflite-support changed their type).

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        label_files: the :class:`LabelFileMd` of the tensor.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        label_files: Optional[list[LabelFileMd]] = None,
    ) -> None:
        value_label_files: Optional[list[AssociatedFileMd]] = None
        if label_files:
            value_label_files = []
            for label_file in label_files:
                value_label_file = copy.copy(label_file)
                value_label_file.file_type = _fb.AssociatedFileType.TENSOR_VALUE_LABELS
                value_label_files.append(value_label_file)
        elif label_files is not None:
            value_label_files = []
        super().__init__(name=name, description=description, associated_files=value_label_files)
