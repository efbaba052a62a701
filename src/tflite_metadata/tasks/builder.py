"""MediaPipe's metadata builder: describe a model step by step, then populate it.

The core of ``mediapipe.tasks.python.metadata.metadata_writers.metadata_writer``
(re-exported at :mod:`tflite_metadata.mediapipe.metadata_writers.metadata_writer`)::

    writer = MetadataWriter.create(model_buffer)
    model, metadata_json = (
        writer.add_general_info("my model", "what it does")
        .add_image_input(norm_mean=[127.5], norm_std=[127.5])
        .add_classification_output(Labels().add(["cat", "dog"]).add(["chat", "chien"], "fr"))
        .populate()
    )

Same names, signatures and defaults as MediaPipe's, and the same results: the
metadata buffer, its JSON and the packed files. Labels and calibration
parameters are kept in memory and packed from there (MediaPipe writes them to
a temporary folder deleted in ``__del__``, which raised at interpreter exit).
The descriptions are the project's (:mod:`.base`, :mod:`.classification` …), and
populating is :class:`tflite_metadata.tasks.base.MetadataWriter`'s, which also
warns when the Task Library or MediaPipe would refuse the result.

The differences are on purpose (the README lists them):

* a model without tensor descriptions gets one empty ``TensorMetadata`` per
  tensor, each named after its own tensor (MediaPipe shared one object, so every
  tensor got the first one's name);
* the score calibration file has no trailing newline (MediaPipe Tasks counts one
  as a row more, and then refuses a model calibrated with one row per class);
* an ``exported_filename`` must be a plain file name: ``../../x`` or an
  absolute path made MediaPipe write outside its temporary folder;
* two label files of one name with different contents are an error (MediaPipe
  packed the last one written for both);
* ``add_raw_detection_output`` with its default order reads the order from the
  outputs' shapes (MediaPipe always raised).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Sequence
from typing import Any, Optional, Union

from ..errors import MetadataValidationError
from ..fileio import PathLike
from ..format.flatbuf import BufferLike
from ..format.flatc_module import api as _fb
from ..model.reader import ModelView, model_bytes
from .base import (
    AssociatedFileSource,
    CustomMetadataMd,
    GeneralMd,
    LabelFileMd,
    MetadataWriterBase,
    ModelSource,
    TensorGroupMd,
    TensorMd,
    decode_utf8,
    order_tensor_md,
    plain_file_name,
    read_path,
)
from .base import (
    MetadataWriter as _PopulatingWriter,
)
from .classification import ClassificationTensorMd, ScoreCalibrationMd, ScoreThresholdingMd
from .image_input import InputImageTensorMd
from .image_segmenter import SegmentationMaskMd
from .object_detector import (
    DetectionOutputTensorsMd,
    RawDetectionOutputTensorsMd,
    RawDetectionOutputTensorsOrder,
)
from .text import (
    BertTokenizerMd,
    InputTextTensorMd,
    MediaPipeBertInputTensorsMd,
    RegexTokenizerMd,
    SentencePieceTokenizerMd,
)
from .writer_utils import (
    get_input_tensor_names,
    get_input_tensor_types,
    get_output_tensor_names,
    get_output_tensor_types,
)

__all__ = [
    "BertTokenizer",
    "CalibrationParameter",
    "LabelItem",
    "Labels",
    "MetadataWriter",
    "MetadataWriterBase",
    "RegexTokenizer",
    "ScoreCalibration",
    "ScoreThresholding",
    "SentencePieceTokenizer",
]

_INPUT_IMAGE_NAME = "image"
_INPUT_IMAGE_DESCRIPTION = "Input image to be processed."
_INPUT_REGEX_TEXT_NAME = "input_text"
_INPUT_REGEX_TEXT_DESCRIPTION = "Embedding vectors representing the input text to be processed."
_OUTPUT_CLASSIFICATION_NAME = "score"
_OUTPUT_CLASSIFICATION_DESCRIPTION = "Score of the labels respectively."
_OUTPUT_SEGMENTATION_MASKS_NAME = "segmentation_masks"
_OUTPUT_SEGMENTATION_MASKS_DESCRIPTION = "Masks over the target objects with high accuracy."
_DETECTION_GROUP_NAME = "detection_result"
#: The name of the score calibration file the builder packs (MediaPipe's spelling).
_SCORE_CALIBATION_FILENAME = "score_calibration.txt"


# -- the helper values -----------------------------------------------------------------------------


@dataclasses.dataclass
class CalibrationParameter:
    """The score calibration parameters of one class.

    The calibrated score is ``scale / (1 + e^-(slope * g(x) + offset))`` where the
    score is above ``min_score`` (or always, without one); elsewhere, the default score.
    """

    scale: float
    slope: float
    offset: float
    min_score: Optional[float] = None


@dataclasses.dataclass
class LabelItem:
    """The labels of one locale, and the name of the file they are packed in.

    Attributes:
        filename: the name of the packed label file.
        names: the labels, in class order.
        locale: the labels' locale, if any.
    """

    filename: str
    names: list[str]
    locale: Optional[str] = None


@dataclasses.dataclass
class ScoreThresholding:
    """Score thresholding: the threshold below which results are low-confidence."""

    global_score_threshold: float


@dataclasses.dataclass
class RegexTokenizer:
    """A regex tokenizer: its delimiter pattern (RE2) and its vocabulary file's path."""

    delim_regex_pattern: str
    vocab_file_path: str


@dataclasses.dataclass
class BertTokenizer:
    """A BERT (word-piece) tokenizer: its vocabulary file's path."""

    vocab_file_path: str


@dataclasses.dataclass
class SentencePieceTokenizer:
    """A SentencePiece tokenizer: its model file's path and, optionally, a vocabulary's."""

    sentence_piece_model_path: str
    vocab_file_path: Optional[str] = None


def _require(value: Any, expected: str, attributes: tuple[str, ...], argument: str) -> None:
    """Check that ``value`` has ``attributes`` (a helper object of this module, or alike).

    Raises:
        MetadataValidationError: it has not, naming the argument and what was given.
    """
    if not all(hasattr(value, attribute) for attribute in attributes):
        raise MetadataValidationError(
            f"{argument} should be a {expected}, but got {type(value).__name__} ({value!r})."
        )


def _label_names(labels: Any) -> list[str]:
    """``labels`` as a list, checked: strings without line breaks (one label a line).

    Raises:
        MetadataValidationError: not a list of strings, or a label with a line break.
    """
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise MetadataValidationError(
            f"labels should be a list of strings, but got {type(labels).__name__}."
        )
    names = list(labels)
    for index, label in enumerate(names):
        if not isinstance(label, str):
            raise MetadataValidationError(
                f"label {index} should be a str, but got {type(label).__name__} ({label!r})."
            )
        if "\n" in label or "\r" in label:
            raise MetadataValidationError(
                f"label {index} ({label!r}) holds a line break; the label file holds one "
                "label a line."
            )
    return names


class Labels:
    """The labels of a classification tensor, one list per locale.

    The first list added gives the category names; the others their display
    names in a locale::

        labels = Labels().add(["/m/011l78", "/m/031d23"]).add(["cat", "dog"], "en")
    """

    def __init__(self) -> None:
        self._labels: list[LabelItem] = []

    @property
    def labels(self) -> list[LabelItem]:
        """The label lists, in the order added."""
        return self._labels

    def add(
        self,
        labels: list[str],
        locale: Optional[str] = None,
        exported_filename: Optional[str] = None,
    ) -> Labels:
        """Add a list of labels.

        Args:
            labels: the labels, in class order (e.g. ``["apple", "pear"]``).
            locale: their locale, if any.
            exported_filename: the name of the packed file; default ``labels.txt``,
                or ``labels_<locale>.txt`` with a locale.

        Returns:
            This object, for chained calls.

        Raises:
            ValueError: the list is empty (MediaPipe's message).
            MetadataValidationError: a label is not a ``str`` or holds a line
                break; ``exported_filename`` is not a plain file name.
        """
        if not labels:
            raise MetadataValidationError("The list of labels is empty.")
        names = _label_names(labels)
        if not exported_filename:
            exported_filename = "labels"
            if locale:
                exported_filename += f"_{locale}"
            exported_filename += ".txt"
        plain_file_name(exported_filename, "exported_filename")
        self._labels.append(LabelItem(filename=exported_filename, names=names, locale=locale))
        return self

    def add_from_file(
        self,
        label_filepath: PathLike,
        locale: Optional[str] = None,
        exported_filename: Optional[str] = None,
    ) -> Labels:
        """Add the labels of a file, one label a line.

        As MediaPipe, the file's lines (split on line breaks of any kind) are
        the labels, a final empty line included.

        Args:
            label_filepath: the label file (UTF-8).
            locale: the labels' locale, if any.
            exported_filename: as :meth:`add`.

        Returns:
            This object, for chained calls.

        Raises:
            MissingFileError: the file does not exist.
            AssociatedFileError: it cannot be read, or is not UTF-8.
        """
        where = os.fspath(label_filepath)
        text = decode_utf8(read_path(label_filepath), "Label file", where)
        # MediaPipe reads in text mode: \r\n and \r are line breaks too.
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return self.add(lines, locale, exported_filename)


class ScoreCalibration:
    """Score calibration: a transformation, one :class:`CalibrationParameter` per class.

    Args:
        transformation_type: the ``ScoreTransformationType`` applied before calibration.
        parameters: one :class:`CalibrationParameter` per class, or None for a
            class without calibration (it gets ``default_score``).
        default_score: the calibrated score below ``min_score`` or without parameters.
    """

    #: The ``ScoreTransformationType`` values, so that callers need not import the schema.
    transformation_types = _fb.ScoreTransformationType

    def __init__(
        self,
        transformation_type: int,
        parameters: list[Optional[CalibrationParameter]],
        default_score: float = 0,
    ) -> None:
        self.transformation_type = transformation_type
        self.parameters = parameters
        self.default_score = default_score

    @classmethod
    def create_from_file(
        cls,
        transformation_type: int,
        file_path: PathLike,
        default_score: float = 0,
    ) -> ScoreCalibration:
        """Read the parameters from a calibration file.

        Each line holds a class's ``scale,slope,offset`` or
        ``scale,slope,offset,min_score``, or nothing (no calibration for it).

        Args:
            transformation_type: as the constructor.
            file_path: the calibration file (CSV, UTF-8).
            default_score: as the constructor.

        Returns:
            A :class:`ScoreCalibration`.

        Raises:
            ValueError: a line holds other than 0, 3 or 4 values, or a negative
                scale (MediaPipe's messages), or a value that is not a finite number.
            MissingFileError: the file does not exist.
        """
        where = os.fspath(file_path)
        text = decode_utf8(read_path(file_path), "Score calibration file", where)
        parameters: list[Optional[CalibrationParameter]] = []
        reader = csv.reader(io.StringIO(text, newline=None), delimiter=",")
        try:
            for row in reader:
                if not row:
                    parameters.append(None)
                    continue
                if len(row) not in (3, 4):
                    raise MetadataValidationError(
                        "Expected empty lines or 3 or 4 parameters per line in score "
                        f"calibration file, but got {len(row)}."
                    )
                values = [_calibration_number(token, where, reader.line_num) for token in row]
                if values[0] < 0:
                    raise MetadataValidationError(
                        f"Expected scale to be a non-negative value, but got {values[0]}."
                    )
                parameters.append(
                    CalibrationParameter(
                        scale=values[0],
                        slope=values[1],
                        offset=values[2],
                        min_score=None if len(values) == 3 else values[3],
                    )
                )
        except csv.Error as exc:
            raise MetadataValidationError(
                f"Score calibration file '{where}', line {reader.line_num}: {exc}"
            ) from None
        return cls(transformation_type, parameters, default_score)


def _calibration_number(token: str, where: str, line: int) -> float:
    try:
        return float(token)
    except ValueError:
        raise MetadataValidationError(
            f"Score calibration file '{where}', line {line}: {token!r} is not a number."
        ) from None


def _calibration_file(parameters: Sequence[Optional[CalibrationParameter]]) -> bytes:
    """The calibration file of ``parameters``, as MediaPipe formats it, minus its last newline.

    One line per class (the values as ``str`` gives them, comma-separated; an
    empty line for None). MediaPipe ended every line with a newline, the last
    one too; MediaPipe Tasks counts that final newline as one more row.
    """
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Sequence):
        raise MetadataValidationError(
            "ScoreCalibration parameters should be a list of CalibrationParameter or None, "
            f"but got {type(parameters).__name__}."
        )
    lines = []
    for item in parameters:
        if not item:
            lines.append("")
            continue
        values = [getattr(item, field, None) for field in ("scale", "slope", "offset")]
        if any(value is None for value in values):
            raise MetadataValidationError("scale, slope and offset values can not be set to None.")
        min_score = getattr(item, "min_score", None)
        if min_score is not None:
            values.append(min_score)
        lines.append(",".join(f"{value}" for value in values))
    return "\n".join(lines).encode("utf-8")


# -- the builder -----------------------------------------------------------------------------------


class MetadataWriter:
    """The generic metadata writer: add descriptions, then :meth:`populate`.

    Each ``add_*`` method returns the writer, for chained calls. Inputs and
    outputs are described in the model's order, except where a description
    names its tensor (BERT inputs, detector outputs).

    Example::

        model, metadata_json = (
            MetadataWriter.create(model_buffer)
            .add_general_info("model_name", "model description")
            .add_image_input([127.5], [127.5])
            .add_classification_output(Labels().add(["A", "B"]))
            .populate()
        )

    Args:
        model_buffer: the model (bytes, bytearray, memoryview or a path).

    Raises:
        MetadataValidationError: the model argument is empty or of another type.
        MissingFileError: it is a path that does not exist.
    """

    #: The ``ColorSpaceType`` values, for :meth:`add_image_input`.
    color_space_types = _fb.ColorSpaceType

    #: The task whose consumer rules :meth:`populate` checks the result against
    #: (None: the task the metadata describes); the task writers set theirs.
    task: Optional[str] = None

    @classmethod
    def create(cls, model_buffer: ModelSource) -> MetadataWriter:
        """A writer for ``model_buffer`` (the same as the constructor)."""
        return cls(model_buffer)

    def __init__(self, model_buffer: ModelSource) -> None:
        self._model_buffer = model_bytes(model_buffer)
        self._general_md: Optional[GeneralMd] = None
        self._input_mds: list[TensorMd] = []
        self._input_process_units: list[Any] = []
        self._output_mds: list[TensorMd] = []
        self._output_group_mds: list[TensorGroupMd] = []
        self._associated_files: list[AssociatedFileSource] = []
        self._custom_metadata_mds: list[CustomMetadataMd] = []

    def add_general_info(
        self, model_name: str, model_description: Optional[str] = None
    ) -> MetadataWriter:
        """Set the model's name and description (replacing those set before)."""
        self._general_md = GeneralMd(name=model_name, description=model_description)
        return self

    def add_feature_input(
        self, name: Optional[str] = None, description: Optional[str] = None
    ) -> MetadataWriter:
        """Describe the next input as a plain feature tensor."""
        self._input_mds.append(TensorMd(name=name, description=description))
        return self

    def add_image_input(
        self,
        norm_mean: list[float],
        norm_std: list[float],
        color_space_type: Optional[int] = _fb.ColorSpaceType.RGB,
        name: str = _INPUT_IMAGE_NAME,
        description: str = _INPUT_IMAGE_DESCRIPTION,
    ) -> MetadataWriter:
        """Describe the next input as an image, ``(pixel - mean) / std``.

        Args:
            norm_mean: the mean per channel, or one for every channel.
            norm_std: the std per channel, or one for every channel (as many as
                ``norm_mean``).
            color_space_type: the image's ``ColorSpaceType``.
            name: the input's metadata name.
            description: its description.

        Raises:
            MetadataValidationError: the model has no such input, or the
                normalization is invalid (see :class:`InputImageTensorMd`).
        """
        self._input_mds.append(
            InputImageTensorMd(
                name=name,
                description=description,
                norm_mean=norm_mean,
                norm_std=norm_std,
                color_space_type=color_space_type,
                tensor_type=self._tensor_type("input", len(self._input_mds)),
            )
        )
        return self

    def add_regex_text_input(
        self,
        regex_tokenizer: RegexTokenizer,
        name: str = _INPUT_REGEX_TEXT_NAME,
        description: str = _INPUT_REGEX_TEXT_DESCRIPTION,
    ) -> MetadataWriter:
        """Describe the next input as text split by a regex tokenizer; pack its vocabulary."""
        _require(
            regex_tokenizer,
            "RegexTokenizer",
            ("delim_regex_pattern", "vocab_file_path"),
            "regex_tokenizer",
        )
        tokenizer_md = RegexTokenizerMd(
            delim_regex_pattern=regex_tokenizer.delim_regex_pattern,
            vocab_file_path=regex_tokenizer.vocab_file_path,
        )
        self._input_mds.append(
            InputTextTensorMd(name=name, description=description, tokenizer_md=tokenizer_md)
        )
        self._associated_files.append(regex_tokenizer.vocab_file_path)
        return self

    def add_bert_text_input(
        self,
        tokenizer: Union[BertTokenizer, SentencePieceTokenizer],
        ids_name: str,
        mask_name: str,
        segment_name: str,
    ) -> MetadataWriter:
        """Describe the three inputs of a BERT model, found by their tensor names.

        Args:
            tokenizer: a :class:`BertTokenizer` or a :class:`SentencePieceTokenizer`;
                its files are packed.
            ids_name: the tensor name of the token ids.
            mask_name: the tensor name of the mask (1 for tokens, 0 for padding).
            segment_name: the tensor name of the segment ids.

        Raises:
            MetadataValidationError: another tokenizer type (MediaPipe's
                message), or names that are not the model's inputs.
        """
        tokenizer_md: Union[BertTokenizerMd, SentencePieceTokenizerMd]
        if isinstance(tokenizer, BertTokenizer):
            tokenizer_md = BertTokenizerMd(vocab_file_path=tokenizer.vocab_file_path)
        elif isinstance(tokenizer, SentencePieceTokenizer):
            tokenizer_md = SentencePieceTokenizerMd(
                sentence_piece_model_path=tokenizer.sentence_piece_model_path,
                vocab_file_path=tokenizer.vocab_file_path,
            )
        else:
            raise MetadataValidationError(
                f"The type of tokenizer, {type(tokenizer)}, is unsupported"
            )
        bert_input_md = MediaPipeBertInputTensorsMd(
            self._model_buffer, ids_name, mask_name, segment_name, tokenizer_md=tokenizer_md
        )
        self._input_mds.extend(bert_input_md.input_md)
        self._associated_files.extend(
            name for name in bert_input_md.get_tokenizer_associated_files() if name is not None
        )
        self._input_process_units.extend(bert_input_md.create_input_process_unit_metadata())
        return self

    def add_classification_output(
        self,
        labels: Optional[Labels] = None,
        score_calibration: Optional[ScoreCalibration] = None,
        score_thresholding: Optional[ScoreThresholding] = None,
        name: str = _OUTPUT_CLASSIFICATION_NAME,
        description: str = _OUTPUT_CLASSIFICATION_DESCRIPTION,
    ) -> MetadataWriter:
        """Describe the next output as a classification head.

        Args:
            labels: its :class:`Labels`, if any.
            score_calibration: its :class:`ScoreCalibration`, if any.
            score_thresholding: its :class:`ScoreThresholding`, if any.
            name: the output's metadata name (not the tensor's).
            description: its description.

        Raises:
            MetadataValidationError: the model has no such output, or a value is invalid.
        """
        calibration_md = self._score_calibration_md(score_calibration)
        thresholding_md = None
        if score_thresholding is not None:
            _require(
                score_thresholding,
                "ScoreThresholding",
                ("global_score_threshold",),
                "score_thresholding",
            )
            thresholding_md = ScoreThresholdingMd(score_thresholding.global_score_threshold)
        label_files = self._label_file_mds(labels)
        output_md = ClassificationTensorMd(
            name=name,
            description=description,
            label_files=label_files,
            tensor_type=self._tensor_type("output", len(self._output_mds)),
            score_calibration_md=calibration_md,
            score_thresholding_md=thresholding_md,
        )
        self._add_files(calibration_md, label_files)
        self._output_mds.append(output_md)
        return self

    def add_detection_output(
        self,
        labels: Optional[Labels] = None,
        score_calibration: Optional[ScoreCalibration] = None,
        group_name: str = _DETECTION_GROUP_NAME,
    ) -> MetadataWriter:
        """Describe the four outputs of a detector with post-processing (NMS).

        Location, category (with the labels), score (with the calibration) and
        number of detections, each on the output it describes (see
        :class:`~tflite_metadata.tasks.object_detector.DetectionOutputTensorsMd`);
        the first three are grouped as ``group_name``.

        Raises:
            MetadataValidationError: the model does not have four outputs.
        """
        calibration_md = self._score_calibration_md(score_calibration)
        label_files = self._label_file_mds(labels)
        output_mds = DetectionOutputTensorsMd(
            self._model_buffer, label_files=label_files, score_calibration_md=calibration_md
        ).output_mds
        self._add_files(calibration_md, label_files)
        self._output_mds.extend(output_mds)
        self._output_group_mds.append(
            TensorGroupMd(name=group_name, tensor_names=[str(md.name) for md in output_mds[:3]])
        )
        return self

    def add_raw_detection_output(
        self,
        labels: Optional[Labels] = None,
        output_tensors_order: RawDetectionOutputTensorsOrder = (
            RawDetectionOutputTensorsOrder.UNSPECIFIED
        ),
    ) -> MetadataWriter:
        """Describe the two outputs of a detector without post-processing.

        Args:
            labels: the classes' :class:`Labels`, on the scores.
            output_tensors_order: a ``RawDetectionOutputTensorsOrder``; by
                default (``UNSPECIFIED``) the order is read from the shapes.

        Raises:
            MetadataValidationError: the model does not have two outputs, or the
                order is unspecified and the shapes do not tell.
        """
        label_files = self._label_file_mds(labels)
        output_mds = RawDetectionOutputTensorsMd(
            self._model_buffer, label_files=label_files, output_tensors_order=output_tensors_order
        ).output_mds
        self._add_files(None, label_files)
        self._output_mds.extend(output_mds)
        return self

    def add_segmentation_output(
        self,
        labels: Optional[Labels] = None,
        name: str = _OUTPUT_SEGMENTATION_MASKS_NAME,
        description: str = _OUTPUT_SEGMENTATION_MASKS_DESCRIPTION,
    ) -> MetadataWriter:
        """Describe the next output as segmentation masks, with the classes' labels."""
        label_files = self._label_file_mds(labels)
        output_md = SegmentationMaskMd(name=name, description=description, label_files=label_files)
        self._add_files(None, label_files)
        self._output_mds.append(output_md)
        return self

    def add_feature_output(
        self, name: Optional[str] = None, description: Optional[str] = None
    ) -> MetadataWriter:
        """Describe the next output as a plain feature tensor."""
        self._output_mds.append(TensorMd(name=name, description=description))
        return self

    def add_custom_metadata(self, custom_metadata_md: CustomMetadataMd) -> MetadataWriter:
        """Add a custom metadata (a :class:`CustomMetadataMd`) to the subgraph."""
        if not hasattr(custom_metadata_md, "create_metadata"):
            raise MetadataValidationError(
                "custom_metadata_md should be a CustomMetadataMd, but got "
                f"{type(custom_metadata_md).__name__}."
            )
        self._custom_metadata_mds.append(custom_metadata_md)
        return self

    def populate(self) -> tuple[bytes, str]:
        """Populate the metadata and its files into (a copy of) the model.

        Returns:
            ``(model, metadata_json)``: the model with its metadata, and the
            metadata as JSON (flatc's, as MediaPipe's displayer gives it). As
            every writer, it warns (``ConsumerCompatibilityWarning``) when the
            Task Library or MediaPipe would refuse the model.

        Raises:
            MetadataValidationError: the descriptions do not fit the model (the
                tensor counts, names).
            MissingFileError: a vocabulary or tokenizer file does not exist.
            AssociatedFileError: a file cannot be read, or two different files
                have one name.
        """
        writer = self._populating_writer()
        populated = writer.populate()
        return populated, writer.get_populated_metadata_json()

    # -- internals ---------------------------------------------------------------------------

    def _populating_writer(self) -> _PopulatingWriter:
        model = self._model_buffer
        general_md = self._general_md if self._general_md is not None else GeneralMd()
        input_names = get_input_tensor_names(model)
        output_names = get_output_tensor_names(model)
        input_md = order_tensor_md(self._input_mds, input_names)
        output_md = order_tensor_md(self._output_mds, output_names)
        writer = _PopulatingWriter.create_from_metadata(
            model,
            general_md.create_metadata(),
            [md.create_metadata() for md in input_md],
            [md.create_metadata() for md in output_md],
            self._associated_files,
            self._input_process_units or None,
            output_tensor_groups=[md.create_metadata() for md in self._output_group_mds] or None,
            custom_metadata=[md.create_metadata() for md in self._custom_metadata_mds] or None,
        )
        writer.task = self.task
        return writer

    def _tensor_type(self, kind: str, position: int) -> int:
        types = (get_input_tensor_types if kind == "input" else get_output_tensor_types)(
            self._model_buffer
        )
        if position >= len(types):
            names = [tensor.name for tensor in _tensors(self._model_buffer, kind)]
            raise MetadataValidationError(
                f"Cannot describe {kind} {position}: the model has {len(types)} {kind}s "
                f"({', '.join(map(repr, names)) or 'none'}), all described already."
            )
        return types[position]

    def _add_files(
        self,
        calibration_md: Optional[ScoreCalibrationMd],
        label_files: Optional[list[LabelFileMd]],
    ) -> None:
        """Pack an output's files: its calibration's, then its labels (MediaPipe's order).

        Called once the output's description is made, so that a call that fails
        leaves no file behind.
        """
        if calibration_md is not None:
            self._associated_files.append(calibration_md.create_score_calibration_file_md())
        self._associated_files.extend(label_files or [])

    def _label_file_mds(self, labels: Optional[Labels]) -> Optional[list[LabelFileMd]]:
        if labels is None:
            return None
        _require(labels, "Labels", ("labels",), "labels")
        items = labels.labels
        if not isinstance(items, list) or not items:
            return None
        label_files = []
        for item in items:
            _require(item, "LabelItem", ("filename", "names", "locale"), "a Labels item")
            names = _label_names(item.names)
            if item.locale is not None and not isinstance(item.locale, str):
                raise MetadataValidationError(
                    f"locale should be a str, but got {type(item.locale).__name__}."
                )
            name = plain_file_name(item.filename, "exported_filename")
            label_file = LabelFileMd(
                name, locale=item.locale, content="\n".join(names).encode("utf-8")
            )
            label_files.append(label_file)
        return label_files

    def _score_calibration_md(
        self, score_calibration: Optional[ScoreCalibration]
    ) -> Optional[ScoreCalibrationMd]:
        if score_calibration is None:
            return None
        _require(
            score_calibration,
            "ScoreCalibration",
            ("transformation_type", "parameters", "default_score"),
            "score_calibration",
        )
        calibration_md = ScoreCalibrationMd(
            score_calibration.transformation_type,
            score_calibration.default_score,
            _SCORE_CALIBATION_FILENAME,
            content=_calibration_file(score_calibration.parameters),
        )
        return calibration_md


def _tensors(model: BufferLike, kind: str) -> list[Any]:
    view = ModelView(model)
    return list(view.inputs() if kind == "input" else view.outputs())
