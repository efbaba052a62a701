"""Classification heads, shared by every classifier task: scores, labels, calibration.

:class:`ClassificationTensorMd` describes one classification output (its label
files, one per locale, and its score calibration); :class:`ScoreCalibrationMd`
the calibration, whose parameters may be given in memory::

    ScoreCalibrationMd(
        ScoreTransformationType.LOG, 0.2, parameters=[[1.0, 2.0, 3.0], None, [1.0, 2.0, 3.0, 0.5]]
    )                                                       # "score_calibration.txt"

Calibration files are checked, whether they come from disk or from memory: they
must hold empty lines or 3 or 4 finite numbers per line with a non-negative
scale. A calibration file on disk is read whole to be checked, so it must be a
regular file of at most :data:`~tflite_metadata.tasks.rules.MAX_EXAMINED_FILE_SIZE`
(64 MiB; a real one holds a short line per class, a few kilobytes); anything
else is refused at once, with a message naming the file. Constructors,
defaults, results and messages are tflite-support 0.4.4's.
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Optional, TypeVar, Union, cast

from ..errors import AssociatedFileError, MetadataValidationError, UsageError
from ..fileio import InputFile, PathLike
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.flatc_module import api as _fb
from ..format.model_schema import TensorType, tensor_type_name
from .base import (
    UINT8_MAX,
    UINT8_MIN,
    AssociatedFileMd,
    AssociatedFileSource,
    FileContent,
    GeneralMd,
    LabelFileMd,
    MetadataWriter,
    ModelSource,
    TensorMd,
    ValueRangeMd,
    check_path,
    content_bytes,
    decode_utf8,
    enum_value,
    file_basename,
    is_finite_real,
    plain_file_name,
)
from .rules import (
    BOTH,
    MAX_EXAMINED_FILE_SIZE,
    MEDIAPIPE,
    TASK_LIBRARY,
    Checker,
    Code,
    plural,
    quoted,
    shape_text,
    size_text,
)
from .spec import Spec, command_line_path, json_type, resolve
from .writer_utils import get_output_tensor_names, get_output_tensor_types

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
    text = decode_utf8(data, "Score calibration file", where)
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


def _read_calibration_file(file_path: PathLike) -> bytes:
    """A calibration file's bytes: a regular file, at most :data:`MAX_EXAMINED_FILE_SIZE`.

    Raises:
        MissingFileError: the file does not exist.
        AssociatedFileError: it is not a regular file (a folder, a device, a
            FIFO …), it is too large to be checked in memory, or it cannot be read.
    """
    with InputFile.open(file_path, AssociatedFileError) as file:
        if file.size > MAX_EXAMINED_FILE_SIZE:
            raise AssociatedFileError(
                f"Score calibration file '{os.fspath(file_path)}' is {size_text(file.size)}, "
                f"more than the limit of {size_text(MAX_EXAMINED_FILE_SIZE)} for a calibration "
                "file, which is read whole to be checked (it holds a short line per class)."
            )
        return file.read()


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
            if not is_finite_real(value):
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
        AssociatedFileError: ``file_path`` is not a regular file (a folder, a
            device, a FIFO …), or is larger than
            :data:`~tflite_metadata.tasks.rules.MAX_EXAMINED_FILE_SIZE` (64 MiB).

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
        self._score_transformation_type = enum_value(
            "ScoreTransformationType", score_transformation_type, "score_transformation_type"
        )
        if not is_finite_real(default_score):
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
        check_path(file_path, "ScoreCalibrationMd")
        self._file_path: PathLike = file_path
        where = os.fspath(file_path)
        if parameters is not None:
            data = _format_calibration(parameters)
        elif content is not None:
            data = content_bytes(content, f"ScoreCalibrationMd '{where}'")
        else:
            data = _read_calibration_file(file_path)
        if not file_basename(file_path):
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


class ScoreThresholdingMd:
    """A container for score thresholding metadata information (MediaPipe's).

    Args:
        global_score_threshold: the recommended threshold below which results
            are low-confidence and should be filtered out.

    Raises:
        MetadataValidationError: the threshold is not a finite number.
    """

    def __init__(self, global_score_threshold: float) -> None:
        if not is_finite_real(global_score_threshold):
            raise MetadataValidationError(
                "global_score_threshold should be a finite number, but got "
                f"{global_score_threshold!r}."
            )
        self._global_score_threshold = global_score_threshold

    @property
    def global_score_threshold(self) -> float:
        """The threshold."""
        return self._global_score_threshold

    def create_metadata(self) -> Any:
        """Create the score thresholding process unit.

        Returns:
            A ``ProcessUnitT`` holding ``ScoreThresholdingOptions``.
        """
        score_thresholding = _fb.ProcessUnitT()
        score_thresholding.optionsType = _fb.ProcessUnitOptions.ScoreThresholdingOptions
        options = _fb.ScoreThresholdingOptionsT()
        options.globalScoreThreshold = self._global_score_threshold
        score_thresholding.options = options
        return score_thresholding


class ClassificationTensorMd(TensorMd):
    """A container for the classification tensor metadata information.

    The tensor type decides the stats, as in tflite-support: ``UINT8`` gives
    min 0 and max 255, ``FLOAT32`` gives min 0.0 and max 1.0, any other type
    (or None) gives none. The label files come first among the associated
    files, then the score calibration file. ``label_files`` itself is not modified.

    Attributes:
        score_calibration_md: the :class:`ScoreCalibrationMd`, if any.
        score_thresholding_md: the :class:`ScoreThresholdingMd`, if any (MediaPipe's
            addition; its process unit follows the calibration's).
        (and those of :class:`TensorMd`)

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        label_files: the :class:`LabelFileMd` of the tensor (one per locale).
        tensor_type: the TFLite ``TensorType`` of the tensor.
        score_calibration_md: the score calibration, if any.
        tensor_name: name of the corresponding tensor in the model (see :class:`TensorMd`).
        score_thresholding_md: the score thresholding, if any (MediaPipe's).
        content_range_md: the content's :class:`ValueRangeMd`, if any (MediaPipe's).
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
        score_thresholding_md: Optional[ScoreThresholdingMd] = None,
        content_range_md: Optional[ValueRangeMd] = None,
    ) -> None:
        self.score_calibration_md = score_calibration_md
        self.score_thresholding_md = score_thresholding_md
        min_values: Optional[list[float]]
        max_values: Optional[list[float]]
        if tensor_type is None or isinstance(tensor_type, bool):
            min_values = max_values = None
        elif tensor_type == TensorType.UINT8:
            min_values, max_values = [UINT8_MIN], [UINT8_MAX]
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
            content_range_md,
        )

    def create_metadata(self) -> Any:
        """Create the classification tensor metadata.

        Returns:
            A ``TensorMetadataT``; with a score calibration and a score
            thresholding, their process units too, in this order.
        """
        tensor_metadata = super().create_metadata()
        units = []
        if self.score_calibration_md:
            units.append(self.score_calibration_md.create_metadata())
        thresholding_md = getattr(self, "score_thresholding_md", None)
        if thresholding_md:
            units.append(thresholding_md.create_metadata())
        if units:
            tensor_metadata.processUnits = units
        return tensor_metadata


class CategoryTensorMd(TensorMd):
    """A container for the category tensor metadata information.

    Its label files are of type ``TENSOR_VALUE_LABELS``. The :class:`LabelFileMd`
    objects passed in are copied, not modified (tflite-support changed their type).

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        label_files: the :class:`LabelFileMd` of the tensor.
        content_range_md: the content's :class:`ValueRangeMd`, if any (MediaPipe's).
    """

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        label_files: Optional[list[LabelFileMd]] = None,
        content_range_md: Optional[ValueRangeMd] = None,
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
        super().__init__(
            name=name,
            description=description,
            associated_files=value_label_files,
            content_range_md=content_range_md,
        )


# -- the writer every classifier shares ----------------------------------------------------------


_Writer = TypeVar("_Writer", bound="ClassifierWriter")


class ClassifierWriter(MetadataWriter):
    """A writer for a classifier: one input, one or more classification heads.

    The task modules' writers derive from it (``AudioClassifierWriter`` …) and
    set its defaults: the model's name and description, the head's, and the
    input's description (:meth:`default_input_md`).
    """

    #: The defaults of tflite-support's writer of the task.
    MODEL_NAME: str = ""
    MODEL_DESCRIPTION: str = ""
    OUTPUT_NAME: str = "probability"
    OUTPUT_DESCRIPTION: str = ""

    @classmethod
    def default_input_md(cls) -> TensorMd:
        """The input's description when none is given."""
        raise NotImplementedError  # pragma: no cover - every task writer overrides it

    @classmethod
    def input_associated_files(cls, input_md: TensorMd) -> list[AssociatedFileSource]:
        """The files the input's description records, packed after the heads' (none here)."""
        return []

    @classmethod
    def create_from_metadata_info(  # type: ignore[override]
        cls: type[_Writer],
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[TensorMd] = None,
        output_md: Optional[ClassificationTensorMd] = None,
    ) -> _Writer:
        """Create a writer for a single-head classifier.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: the task's).
            input_md: the input tensor (default: :meth:`default_input_md`).
            output_md: the classification tensor (default: ``"probability"``, no stats).

        Returns:
            A writer of this class, whose associated files are those of ``output_md``.

        Raises:
            As :meth:`create_from_metadata_info_for_multihead`.
        """
        if output_md is None:
            output_md = ClassificationTensorMd(
                name=cls.OUTPUT_NAME, description=cls.OUTPUT_DESCRIPTION
            )
        return cls.create_from_metadata_info_for_multihead(
            model_buffer, general_md, input_md, [output_md]
        )

    @classmethod
    def create_from_metadata_info_for_multihead(
        cls: type[_Writer],
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[TensorMd] = None,
        output_md_list: Optional[list[ClassificationTensorMd]] = None,
    ) -> _Writer:
        """Create a writer for a classifier with one or more heads.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: the task's).
            input_md: the input tensor (default: :meth:`default_input_md`).
            output_md_list: one description per output tensor. Without
                ``tensor_name`` they follow the model's output order; with it they
                may come in any order. Default: empty metadata named after the tensors.

        Returns:
            A writer of this class, whose associated files are those of every head.

        Raises:
            MetadataValidationError: the ``tensor_name`` values do not match the
                model's outputs, or a description holds an invalid value.
            ModelFormatError: the model cannot be read.
        """
        if general_md is None:
            general_md = GeneralMd(name=cls.MODEL_NAME, description=cls.MODEL_DESCRIPTION)
        if input_md is None:
            input_md = cls.default_input_md()
        associated_files: list[AssociatedFileSource] = []
        for md in output_md_list or []:
            associated_files.extend(getattr(md, "associated_files", None) or [])
        associated_files.extend(cls.input_associated_files(input_md))
        writer = super().create_from_metadata_info(
            model_buffer=model_buffer,
            general_md=general_md,
            input_md=[input_md],
            output_md=list(output_md_list) if output_md_list is not None else None,
            associated_files=associated_files,
        )
        return cast(_Writer, writer)

    @classmethod
    def for_inference(
        cls: type[_Writer],
        model: BufferLike,
        input_md: TensorMd,
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
        score_calibration_md: Optional[ScoreCalibrationMd],
    ) -> _Writer:
        """The writer of ``create_for_inference``: ``input_md`` and one head on output 0.

        The head is the task's default (``"probability"``), with the label files
        (paths or :class:`LabelFileMd`), the calibration, and stats that follow the
        output's tensor type (``UINT8``: 0..255, ``FLOAT32``: 0.0..1.0, other: none).

        Raises:
            MetadataValidationError: ``label_file_paths`` is a single path, or the
                model has no output.
        """
        if isinstance(label_file_paths, (str, os.PathLike)):
            raise MetadataValidationError(
                "label_file_paths should be a list of label files, but got a single path; "
                "wrap it in a list."
            )
        label_files = [
            source if isinstance(source, LabelFileMd) else LabelFileMd(file_path=source)
            for source in label_file_paths or []
        ]
        output_types = get_output_tensor_types(model)
        if not output_types:
            raise MetadataValidationError(
                "The model has no output tensor to classify with (expected at least one)."
            )
        output_md = ClassificationTensorMd(
            name=cls.OUTPUT_NAME,
            description=cls.OUTPUT_DESCRIPTION,
            label_files=label_files,
            tensor_type=output_types[0],
            score_calibration_md=score_calibration_md,
        )
        return cls.create_from_metadata_info(model, input_md=input_md, output_md=output_md)


# -- the consumers' rules on classification heads ----------------------------------------------


def check_output_tensors(
    checker: Checker, *, mixed_quantization_refused_by_task_library: bool = False
) -> None:
    """The output tensors' types and shapes, as the classifiers' post-processors read them.

    Args:
        checker: the model.
        mixed_quantization_refused_by_task_library: whether the task's Task
            Library classifier also refuses outputs of which some only are
            quantized (UINT8), as its image classifier does; MediaPipe always
            does (it counts BOOL outputs as quantized too).
    """
    outputs = checker.model.outputs
    quantized = 0
    uint8_outputs = 0
    for tensor in outputs:
        where = f"output {tensor.index}"
        if tensor.type not in (TensorType.FLOAT32, TensorType.UINT8):
            consumers = (TASK_LIBRARY,) if tensor.type == TensorType.BOOL else BOTH
            checker.add(
                Code.OUTPUT_TYPE,
                where,
                f"tensor {quoted(tensor.name)} has type "
                f"{tensor_type_name(tensor.type)}; classifiers need FLOAT32 or UINT8",
                consumers,
            )
        if tensor.type in (TensorType.UINT8, TensorType.BOOL):
            quantized += 1
        if tensor.type == TensorType.UINT8:
            uint8_outputs += 1
        shape = tensor.shape
        if len(shape) == 4 and shape[0] == 1 and shape[1] == 1 and shape[2] == 1:
            continue
        if len(shape) != 2 or shape[0] != 1:
            checker.add(
                Code.OUTPUT_SHAPE,
                where,
                f"shape {shape_text(shape)}; the Task Library needs [1, classes] "
                "(or [1, 1, 1, classes])",
                (TASK_LIBRARY,),
            )
    refusing = []
    if mixed_quantization_refused_by_task_library and 0 < uint8_outputs < len(outputs):
        refusing.append(TASK_LIBRARY)
    if 0 < quantized < len(outputs):
        refusing.append(MEDIAPIPE)
    if refusing:
        shown = uint8_outputs if refusing == [TASK_LIBRARY] else quantized
        checker.add(
            Code.OUTPUT_TYPE,
            "model",
            f"{shown} of {len(outputs)} outputs are quantized; "
            f"{' and '.join(refusing)} {'need' if len(refusing) > 1 else 'needs'} "
            "all or none of them quantized",
            tuple(refusing),
        )


def check_output_metadata(checker: Checker, *, names_required: bool = True) -> None:
    """The heads' metadata: one per output, each named (MediaPipe names heads after it).

    Args:
        checker: the model, with its metadata.
        names_required: whether an output's metadata without a name is a problem
            (for MediaPipe). MediaPipe's image classifier was measured to accept
            it (mediapipe 1.2.2), so the image task passes False.
    """
    outputs = checker.tensor_metadata("output")
    if outputs is None:
        return
    if len(outputs) != len(checker.model.outputs):
        checker.add(
            Code.OUTPUT_COUNT,
            "metadata",
            f"describes {plural(len(outputs), 'output tensor')}, the model has "
            f"{len(checker.model.outputs)}",
        )
    if not names_required:
        return
    for tensor, tensor_metadata in zip(checker.model.outputs, outputs):
        if tensor_metadata.name is None:
            checker.add(
                Code.OUTPUT_NAME,
                f"output {tensor.index}",
                "tensor metadata has no name; MediaPipe needs one for each output (head name)",
                (MEDIAPIPE,),
            )


# -- heads on the command line and in spec files -----------------------------------------------

#: Score transformations by name, as the schema declares them.
TRANSFORMATIONS = dict(schema.ENUMS["ScoreTransformationType"].values)

#: The keys of one head (an item of a spec's ``outputs``), of a label file, of a calibration.
HEAD_KEYS = frozenset(
    ("name", "description", "tensor_name", "labels", "score_calibration", "score_threshold")
)
_LABEL_KEYS = frozenset(("file", "labels", "name", "locale"))
_CALIBRATION_KEYS = frozenset(("file", "parameters", "name", "transformation", "default_score"))

#: The spec file's ``outputs``, for ``write KIND --help``.
HEADS_SPEC_HELP = """\
    "outputs": [
      {"tensor_name": "scores", "name": "probability", "description": "...",
       "labels": ["labels.txt",
                  {"file": "labels_fr.txt", "locale": "fr"},
                  {"name": "labels_de.txt", "locale": "de", "labels": ["Sprache", "Musik"]}],
       "score_calibration": {"file": "calibration.txt", "transformation": "LOG",
                             "default_score": 0.2},
       "score_threshold": 0.3}
    ]
  }
A calibration may give "parameters": [[scale, slope, offset(, min_score)] or null, ...]
instead of "file" (and then "name", default score_calibration.txt). "score_threshold" is
the score below which results are dropped (MediaPipe's score thresholding).
"""


def transformation_value(value: Any, where: str, spec: Spec) -> int:
    if isinstance(value, str):
        key = value.strip().upper()
        if key in TRANSFORMATIONS:
            return int(TRANSFORMATIONS[key])
    elif (
        isinstance(value, int) and not isinstance(value, bool) and value in TRANSFORMATIONS.values()
    ):
        return value
    choices = ", ".join(TRANSFORMATIONS)
    spec.fail(where, f"expected one of {choices}, found {value!r}")


def label_file_md(entry: Any, where: str, spec: Spec, base: Path | None) -> Any:
    if isinstance(entry, str):
        return LabelFileMd(resolve(base, entry))
    table = spec.table(entry, where, _LABEL_KEYS)
    file = spec.text(table, "file", where)
    locale = spec.text(table, "locale", where)
    name = spec.text(table, "name", where)
    if ("labels" in table) == (file is not None):
        spec.fail(where, "give either 'file' (a label file) or 'labels' (a list of labels)")
    if file is not None:
        if name is not None:
            spec.fail(where, "'name' goes with 'labels'; a label file keeps its own name")
        return LabelFileMd(resolve(base, file), locale)
    if name is not None:
        plain_file_name(name, f"{spec.source}: {where}.name")
    labels = spec.items(table, "labels", where)
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            spec.fail(f"{where}.labels[{index}]", f"expected a string, found {json_type(label)}")
    return LabelFileMd(name, locale, labels=labels)


def calibration_md(entry: Any, where: str, spec: Spec, base: Path | None) -> Any:
    table = spec.table(entry, where, _CALIBRATION_KEYS)
    file = spec.text(table, "file", where)
    name = spec.text(table, "name", where)
    transformation = transformation_value(
        table.get("transformation", "IDENTITY"), f"{where}.transformation", spec
    )
    default_score = spec.number(table, "default_score", where)
    default_score = 0.0 if default_score is None else default_score
    if ("parameters" in table) == (file is not None):
        spec.fail(
            where, "give either 'file' (a calibration file) or 'parameters' (rows of numbers)"
        )
    if file is not None:
        if name is not None:
            spec.fail(where, "'name' goes with 'parameters'; a calibration file keeps its own name")
        return ScoreCalibrationMd(transformation, default_score, resolve(base, file))
    if name is not None:
        plain_file_name(name, f"{spec.source}: {where}.name")
    parameters = spec.items(table, "parameters", where)
    return ScoreCalibrationMd(transformation, default_score, name, parameters=parameters)


def score_thresholding_md(
    table: dict[str, Any], where: str, spec: Spec
) -> Optional[ScoreThresholdingMd]:
    """A head's ``score_threshold`` in a spec (MediaPipe's score thresholding), if given."""
    threshold = spec.number(table, "score_threshold", where)
    if threshold is None:
        return None
    if not math.isfinite(threshold):
        spec.fail(f"{where}.score_threshold", f"expected a finite number, found {threshold}")
    return ScoreThresholdingMd(threshold)


#: ``--score-threshold``'s help, for every task that takes it.
SCORE_THRESHOLD_HELP = "score thresholding: results scored below X are dropped (MediaPipe)"


class HeadOption(argparse.Action):
    """An option describing the current classification head (``--head`` starts a new one)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        self.field = kwargs.pop("field")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: Optional[str] = None,
    ) -> None:
        heads: Optional[list[dict[str, Any]]] = getattr(namespace, self.dest, None)
        if heads is None:
            heads = []
            setattr(namespace, self.dest, heads)
        if self.field == "head":
            heads.append({} if values is None else {"tensor_name": values})
            return
        if not heads:
            heads.append({})
        head = heads[-1]
        number = len(heads) - 1
        if self.field == "labels":
            head.setdefault("labels", []).append({"file": values})
        elif self.field == "locale":
            labels = head.get("labels")
            if not labels:
                parser.error(f"{option_string} gives the locale of the --labels before it")
            if "locale" in labels[-1]:
                parser.error(f"{option_string} given twice for --labels {labels[-1]['file']}")
            labels[-1]["locale"] = values
        elif self.field in ("file", "transformation", "default_score"):
            calibration = head.setdefault("score_calibration", {})
            if self.field in calibration:
                parser.error(
                    f"{option_string} given twice for head {number}; start another head with --head"
                )
            calibration[self.field] = values
        else:
            if self.field in head:
                parser.error(
                    f"{option_string} given twice for head {number}; start another head with --head"
                )
            head[self.field] = values


def score_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, found {text!r}")
    return value


def transformation_argument(text: str) -> str:
    key = text.strip().upper()
    if key not in TRANSFORMATIONS:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(TRANSFORMATIONS)}, found {text!r}"
        )
    return key


def heads_from_spec(
    model: BufferLike,
    spec: Spec,
    document: dict[str, Any],
    base: Optional[Path],
    name: Optional[str],
    description: Optional[str],
) -> list[ClassificationTensorMd]:
    """One :class:`ClassificationTensorMd` per output of ``model``, from a spec's ``outputs``.

    Args:
        model: the model.
        spec: validates the document.
        document: the spec's top table.
        base: the folder paths in the spec are relative to (None: the working folder).
        name: the head's name when the model has one output and the spec gives
            none (several outputs keep their tensor names, so that MediaPipe's
            head names stay distinct).
        description: likewise, the head's description.

    Raises:
        MetadataValidationError: the spec does not describe one head per output,
            or holds an invalid value.
    """
    output_names = get_output_tensor_names(model)
    output_types = get_output_tensor_types(model)
    heads = [
        spec.table(head, f"outputs[{index}]", HEAD_KEYS)
        for index, head in enumerate(spec.items(document, "outputs", "spec"))
    ]
    if not heads:
        heads = [{} for _ in output_names]
    if len(heads) != len(output_names):
        described = (
            "1 classification head is"
            if len(heads) == 1
            else f"{len(heads)} classification heads are"
        )
        raise MetadataValidationError(
            f"the model has {len(output_names)} outputs ({', '.join(map(repr, output_names))}) "
            f"but {described} described; describe one per output "
            "(--head, or 'outputs' in a spec file)"
        )
    single = len(output_names) == 1
    output_mds = []
    for index, table in enumerate(heads):
        where = f"outputs[{index}]"
        tensor_name = spec.text(table, "tensor_name", where)
        if tensor_name is None:
            position = index
        elif tensor_name in output_names:
            position = output_names.index(tensor_name)
        else:
            spec.fail(
                f"{where}.tensor_name",
                f"the model has no output named {tensor_name!r}; its outputs are "
                f"{', '.join(map(repr, output_names))}",
            )
        labels = [
            label_file_md(entry, f"{where}.labels[{i}]", spec, base)
            for i, entry in enumerate(spec.items(table, "labels", where))
        ]
        calibration = None
        if table.get("score_calibration") is not None:
            calibration = calibration_md(
                table["score_calibration"], f"{where}.score_calibration", spec, base
            )
        thresholding = score_thresholding_md(table, where, spec)
        output_mds.append(
            ClassificationTensorMd(
                name=spec.text_or(table, "name", where, name if single else None),
                description=spec.text_or(
                    table, "description", where, description if single else None
                ),
                label_files=labels,
                tensor_type=output_types[position],
                score_calibration_md=calibration,
                tensor_name=tensor_name,
                score_thresholding_md=thresholding,
            )
        )
    return output_mds


def add_head_arguments(parser: argparse.ArgumentParser, default_name: str) -> None:
    """The options of ``write KIND`` that describe classification heads (``--head`` …)."""
    group = parser.add_argument_group(
        "classification heads",
        "Each option applies to the current head; --head starts a new one.",
    )
    head_options: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
        (
            ("--head",),
            "head",
            {
                "nargs": "?",
                "metavar": "TENSOR",
                "help": "start the next head; TENSOR names its output tensor in the model",
            },
        ),
        (
            ("--labels",),
            "labels",
            {"metavar": "FILE", "help": "a label file, one label a line (repeatable)"},
        ),
        (("--locale",), "locale", {"metavar": "LOCALE", "help": "the locale of the last --labels"}),
        (("--score-calibration",), "file", {"metavar": "FILE", "help": "score calibration file"}),
        (
            ("--score-transformation",),
            "transformation",
            {
                "type": transformation_argument,
                "metavar": "|".join(TRANSFORMATIONS),
                "help": "applied before calibration (default: IDENTITY)",
            },
        ),
        (
            ("--default-score",),
            "default_score",
            {"type": score_argument, "metavar": "X", "help": "default: 0.0"},
        ),
        (
            ("--score-threshold",),
            "score_threshold",
            {
                "type": score_argument,
                "metavar": "X",
                "help": SCORE_THRESHOLD_HELP,
            },
        ),
        (("--output-name",), "name", {"metavar": "TEXT", "help": f"default: {default_name}"}),
        (("--output-description",), "description", {"metavar": "TEXT"}),
    ]
    for flags, field, options in head_options:
        group.add_argument(*flags, dest="heads", action=HeadOption, field=field, **options)
    parser.set_defaults(heads=None)


class _LabelFileOption(argparse.Action):
    """``--labels FILE`` adds a label file; ``--locale`` gives the locale of the last one."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: Optional[str] = None,
    ) -> None:
        labels: Optional[list[dict[str, Any]]] = getattr(namespace, "labels", None)
        if labels is None:
            labels = []
            namespace.labels = labels
        if option_string == "--labels":
            labels.append({"file": values})
            return
        if not labels:
            parser.error(f"{option_string} gives the locale of the --labels before it")
        if "locale" in labels[-1]:
            parser.error(f"{option_string} given twice for --labels {labels[-1]['file']}")
        labels[-1]["locale"] = values


def add_label_file_arguments(group: Any, help_text: str) -> None:
    """``--labels FILE`` (repeatable) and ``--locale LOCALE`` of the last, for one output.

    ``args.labels`` is then a list of ``{"file": …, "locale": …}`` tables, as a
    spec's (see :func:`label_files_in_spec`). Classification heads have their own
    (:func:`add_head_arguments`), where ``--head`` starts another head.
    """
    group.add_argument("--labels", action=_LabelFileOption, metavar="FILE", help=help_text)
    group.add_argument(
        "--locale",
        action=_LabelFileOption,
        metavar="LOCALE",
        help="the locale of the last --labels",
    )


def label_files_in_spec(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``--labels``/``--locale`` tables, as a spec's ``labels`` (paths made absolute)."""
    return [{**entry, "file": command_line_path(entry["file"])} for entry in labels]


def merge_head_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """Put the heads given with ``--head``/``--labels``/… into a spec document."""
    heads = args.heads or []
    for number, head in enumerate(heads):
        calibration = head.get("score_calibration")
        if calibration is not None and "file" not in calibration:
            raise UsageError(
                f"head {number}: --score-transformation and --default-score describe a "
                "score calibration; give its file with --score-calibration"
            )
    for head in heads:
        for label in head.get("labels", []):
            label["file"] = command_line_path(label["file"])
        if calibration_file := head.get("score_calibration", {}).get("file"):
            head["score_calibration"]["file"] = command_line_path(calibration_file)
    if heads:
        if document.get("outputs"):
            raise UsageError(
                "the classification heads are described twice: in the spec's 'outputs' and "
                "with --head/--labels/--score-calibration options; use one or the other"
            )
        document["outputs"] = heads
