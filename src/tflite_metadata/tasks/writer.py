"""Metadata writers: the core of ``metadata_writers.metadata_writer`` and ``audio_classifier``.

:class:`MetadataWriter` turns metadata (object-API values, or the typed
descriptions of :mod:`tflite_metadata.info`) into a metadata buffer for one
model, and populates it with its associated files. :class:`AudioClassifierWriter`
adds tflite-support's audio classifier defaults.

Interface and output are tflite-support 0.4.4's: the same classmethods and
defaults, the same metadata buffer byte for byte, the same JSON. The
differences are on purpose:

* the caller's lists and metadata objects are never modified (tflite-support
  filled in tensor names and appended to label lists in place);
* ``tensor_name`` reordering pairs each description with its own name (with
  some names missing tflite-support paired them by position, wrongly);
* associated files can be given in memory (:class:`~tflite_metadata.info.AssociatedFileMd`
  objects with ``content``, in-memory labels and calibration parameters), and
  the model may be ``bytes``, ``bytearray``, ``memoryview`` or a path;
* populating goes through :func:`tflite_metadata.populate.populate_buffer`:
  no temporary files, the model bytes are copied, not re-packed.

Example::

    writer = AudioClassifierWriter.create_for_inference(
        model, sample_rate=16000, channels=1,
        label_file_paths=[LabelFileMd(labels=["speech", "music"])],
    )
    populated = writer.populate()
"""

from __future__ import annotations

import collections
import copy
import numbers
import os
from collections.abc import Sequence
from typing import IO, Any, Optional, Union, cast

from .. import metadata_schema_py_generated as _fb
from ..check import check, warn_for_problems
from ..errors import AssociatedFileError, MetadataValidationError
from ..fileio import PathLike, read_file
from ..format import codec
from ..format.flatbuf import BufferLike
from ..format.json_format import to_json
from ..model.populate import populate_buffer, populate_to
from ..model.reader import ModelView
from .info import (
    AssociatedFileMd,
    ClassificationTensorMd,
    GeneralMd,
    InputAudioTensorMd,
    LabelFileMd,
    ScoreCalibrationMd,
    TensorMd,
)
from .writer_utils import get_input_tensor_names, get_output_tensor_names, get_output_tensor_types

__all__ = ["AssociatedFileSource", "AudioClassifierWriter", "MetadataWriter", "ModelSource"]

#: A model: its bytes (any buffer-protocol object) or the path of its file.
ModelSource = Union[BufferLike, PathLike]
#: An associated file to pack: a path, or an :class:`AssociatedFileMd` (possibly in memory).
AssociatedFileSource = Union[PathLike, AssociatedFileMd]

_AUDIO_MODEL_NAME = "AudioClassifier"
_AUDIO_MODEL_DESCRIPTION = (
    "Identify the most prominent type in the audio clip from a known set of categories."
)
_AUDIO_INPUT_NAME = "audio_clip"
_AUDIO_INPUT_DESCRIPTION = "Input audio clip to be classified."
_AUDIO_OUTPUT_NAME = "probability"
_AUDIO_OUTPUT_DESCRIPTION = "Scores of the labels respectively."


def _model_bytes(model_buffer: Any) -> BufferLike:
    """The model as a buffer: paths are read, buffers are used as they are."""
    if isinstance(model_buffer, (str, os.PathLike)):
        return read_file(model_buffer)
    if model_buffer is None:
        raise MetadataValidationError("model_buffer cannot be empty.")
    try:
        view = memoryview(model_buffer)
    except TypeError:
        raise MetadataValidationError(
            "model_buffer should be the model's bytes (bytes, bytearray or memoryview) or "
            f"its path, but got {type(model_buffer).__name__}."
        ) from None
    if not view.nbytes:
        raise MetadataValidationError("model_buffer cannot be empty.")
    return model_buffer  # type: ignore[no-any-return]


def _require(items: list[Any], attributes: tuple[str, ...], expected: str, argument: str) -> None:
    """Check that every item has ``attributes`` (duck typing, as tflite-support's objects pass)."""
    for index, item in enumerate(items):
        if not all(hasattr(item, attribute) for attribute in attributes):
            raise MetadataValidationError(
                f"{argument}[{index}] should be a {expected}, but got {type(item).__name__}."
            )


def _fill_default_tensor_names(
    tensor_metadata: list[Any], names_from_model: list[str]
) -> list[Any]:
    """Copies of ``tensor_metadata`` whose empty names are the model's tensor names."""
    filled = []
    for index, metadata in enumerate(tensor_metadata):
        item = copy.copy(metadata)
        if index < len(names_from_model):
            item.name = item.name or names_from_model[index]
        filled.append(item)
    return filled


def _order_tensor_md(tensor_md: list[TensorMd], names_from_model: list[str]) -> list[TensorMd]:
    """``tensor_md`` in the model's tensor order, when its items carry ``tensor_name``.

    Raises:
        MetadataValidationError: the names given do not match the model's
            (tflite-support's message), or only some items have a name.
    """
    names_from_arguments = [md.tensor_name for md in tensor_md if md.tensor_name is not None]
    if not names_from_arguments:
        return list(tensor_md)
    if collections.Counter(names_from_arguments) != collections.Counter(names_from_model):
        raise MetadataValidationError(
            f"The tensor names from arguments ({names_from_arguments}) do not match the tensor "
            f"names read from the model ({names_from_model})."
        )
    if len(names_from_arguments) != len(tensor_md):
        unnamed = [i for i, md in enumerate(tensor_md) if md.tensor_name is None]
        raise MetadataValidationError(
            f"Either every tensor metadata or none should have a tensor_name, but the items "
            f"at {unnamed} have none while the others name every tensor of the model "
            f"({names_from_model})."
        )
    # A queue per name keeps the order of repeated names (the model may repeat one).
    by_name: dict[str, collections.deque[TensorMd]] = collections.defaultdict(collections.deque)
    for md in tensor_md:
        by_name[md.tensor_name].append(md)  # type: ignore[index]
    return [by_name[name].popleft() for name in names_from_model]


def _check_positive(value: Any, argument: str) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise MetadataValidationError(
            f"{argument} should be a positive integer, but got {value!r} ({type(value).__name__})."
        )
    # The message of tflite-support.
    if value <= 0:
        raise MetadataValidationError(f"{argument} should be positive, but got {value}.")


def _associated_file_name(source: AssociatedFileSource) -> str:
    if isinstance(source, AssociatedFileMd):
        return source.name
    return os.path.basename(os.fspath(source))


class MetadataWriter:
    """Writes the metadata and associated files into a TFLite model.

    Args:
        model_buffer: the model: ``bytes``, ``bytearray``, ``memoryview`` or a path.
        metadata_buffer: the metadata FlatBuffer (``M001``).
        associated_files: the files to pack: paths, or :class:`AssociatedFileMd`
            (which may hold their content in memory).

    Raises:
        MetadataValidationError: ``model_buffer`` is empty or not a buffer or path,
            or ``associated_files`` holds something else than paths and ``AssociatedFileMd``.
        MissingFileError: ``model_buffer`` is a path that does not exist.
    """

    def __init__(
        self,
        model_buffer: ModelSource,
        metadata_buffer: Optional[BufferLike] = None,
        associated_files: Optional[Sequence[AssociatedFileSource]] = None,
    ) -> None:
        self._model_buffer = _model_bytes(model_buffer)
        self._metadata_buffer = metadata_buffer
        files = list(associated_files) if associated_files else []
        for source in files:
            if not isinstance(source, (str, os.PathLike, AssociatedFileMd)):
                raise MetadataValidationError(
                    "associated_files should hold file paths or AssociatedFileMd, "
                    f"but got {type(source).__name__} ({source!r})."
                )
        self._associated_files: list[AssociatedFileSource] = files
        self._populated_model_buffer: Optional[bytes] = None

    @classmethod
    def create_from_metadata_info(
        cls,
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[list[TensorMd]] = None,
        output_md: Optional[list[TensorMd]] = None,
        associated_files: Optional[Sequence[AssociatedFileSource]] = None,
    ) -> MetadataWriter:
        """Create a writer from the typed descriptions of :mod:`tflite_metadata.info`.

        Descriptions that set ``tensor_name`` are put in the model's tensor order.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: empty).
            input_md: the input tensors' descriptions (default: none).
            output_md: the output tensors' descriptions (default: none).
            associated_files: the files to pack (paths or :class:`AssociatedFileMd`).

        Returns:
            A writer of this class.

        Raises:
            MetadataValidationError: the ``tensor_name`` values do not match the
                model's tensor names, or a description holds an invalid value.
            ModelFormatError: the model cannot be read.
        """
        model = _model_bytes(model_buffer)
        if general_md is None:
            general_md = GeneralMd()
        _require([general_md], ("create_metadata",), "GeneralMd", "general_md")
        _require(list(input_md or []), ("create_metadata", "tensor_name"), "TensorMd", "input_md")
        _require(list(output_md or []), ("create_metadata", "tensor_name"), "TensorMd", "output_md")
        ordered_input = _order_tensor_md(list(input_md or []), get_input_tensor_names(model))
        ordered_output = _order_tensor_md(list(output_md or []), get_output_tensor_names(model))
        return cls.create_from_metadata(
            model,
            general_md.create_metadata(),
            [md.create_metadata() for md in ordered_input],
            [md.create_metadata() for md in ordered_output],
            associated_files,
        )

    @classmethod
    def create_from_metadata(
        cls,
        model_buffer: ModelSource,
        model_metadata: Optional[Any] = None,
        input_metadata: Optional[list[Any]] = None,
        output_metadata: Optional[list[Any]] = None,
        associated_files: Optional[Sequence[AssociatedFileSource]] = None,
        input_process_units: Optional[list[Any]] = None,
        output_process_units: Optional[list[Any]] = None,
    ) -> MetadataWriter:
        """Create a writer from object-API values (``ModelMetadataT`` …).

        The subgraph metadata is made of the given tensor metadata and process
        units; a missing or empty tensor list becomes one empty
        ``TensorMetadataT`` per model tensor, and empty tensor names are filled
        with the model's. The objects passed in are not modified.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            model_metadata: a ``ModelMetadataT``; its ``subgraphMetadata`` is replaced.
            input_metadata: ``TensorMetadataT`` of the inputs.
            output_metadata: ``TensorMetadataT`` of the outputs.
            associated_files: the files to pack (paths or :class:`AssociatedFileMd`).
            input_process_units: ``ProcessUnitT`` of the subgraph's inputs.
            output_process_units: ``ProcessUnitT`` of the subgraph's outputs.

        Returns:
            A writer of this class.

        Raises:
            MetadataValidationError: a value cannot be encoded.
            ModelFormatError: the model cannot be read.
        """
        model = _model_bytes(model_buffer)
        input_names = get_input_tensor_names(model)
        output_names = get_output_tensor_names(model)
        # Empty tensor metadata per tensor, so that populate's count check passes.
        if not input_metadata:
            input_metadata = [_fb.TensorMetadataT() for _ in input_names]
        if not output_metadata:
            output_metadata = [_fb.TensorMetadataT() for _ in output_names]
        _require(list(input_metadata), ("name", "Pack"), "TensorMetadataT", "input_metadata")
        _require(list(output_metadata), ("name", "Pack"), "TensorMetadataT", "output_metadata")
        if model_metadata is not None:
            _require([model_metadata], ("Pack",), "ModelMetadataT", "model_metadata")

        subgraph_metadata = _fb.SubGraphMetadataT()
        subgraph_metadata.inputTensorMetadata = _fill_default_tensor_names(
            list(input_metadata), input_names
        )
        subgraph_metadata.outputTensorMetadata = _fill_default_tensor_names(
            list(output_metadata), output_names
        )
        subgraph_metadata.inputProcessUnits = input_process_units
        subgraph_metadata.outputProcessUnits = output_process_units

        model_metadata = (
            _fb.ModelMetadataT() if model_metadata is None else copy.copy(model_metadata)
        )
        model_metadata.subgraphMetadata = [subgraph_metadata]
        return cls(model, codec.encode(model_metadata), associated_files)

    def populate(self) -> bytes:
        """Populate the metadata and associated files into (a copy of) the model.

        The result is computed once; later calls return the same buffer. As
        tflite-support, this writes metadata that the Task Library or MediaPipe
        would refuse (say, 3 labels for 7 classes), but it then emits one
        :class:`~tflite_metadata.errors.ConsumerCompatibilityWarning` per problem
        (see :func:`tflite_metadata.check.check`).

        Returns:
            The model with its metadata and associated files.

        Raises:
            MetadataValidationError: there is no metadata, it does not fit the
                model, or it records a file that is not given.
            MissingFileError: an associated file does not exist.
            AssociatedFileError: an associated file cannot be read or is invalid,
                or two different files have the same name.
            ModelFormatError: the model cannot be read.
        """
        if self._populated_model_buffer is not None:
            return self._populated_model_buffer
        populated = populate_buffer(self._model_buffer, *self._metadata_and_files())
        self._populated_model_buffer = populated
        # tflite-support writes models its consumers then refuse; keep writing
        # them, but say why (ConsumerCompatibilityWarning, at the caller's line).
        warn_for_problems(check(populated), stacklevel=2)
        return populated

    def populate_to(self, stream: IO[bytes], source: IO[bytes] | None = None) -> int:
        """Stream the populated model to ``stream`` instead of returning it.

        For large models: memory stays bounded whatever the model's size when the
        writer's model is a mapped file (see :func:`tflite_metadata.fileio.open_mapped`),
        and ``source``, that file, lets the kernel copy the model's bytes. Unlike
        :meth:`populate`, this does not warn about consumer problems: run
        :func:`tflite_metadata.check.check` on the result.

        Returns:
            The number of bytes written.

        Raises:
            As :meth:`populate`; ``OSError`` when writing fails.
        """
        return populate_to(stream, self._model_buffer, *self._metadata_and_files(), source=source)

    def _metadata_and_files(self) -> tuple[BufferLike, dict[str, bytes]]:
        if self._metadata_buffer is None:
            raise MetadataValidationError("The metadata to be populated is empty.")
        return self._metadata_buffer, self._read_associated_files()

    def _read_associated_files(self) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        origins: dict[str, str] = {}
        for source in self._associated_files:
            if isinstance(source, AssociatedFileMd):
                data = source.read()
                origin = os.fspath(source.file_path)
            else:
                data = AssociatedFileMd(source).read()
                origin = os.fspath(source)
            name = _associated_file_name(source)
            if name in files and files[name] != data:
                raise AssociatedFileError(
                    f"File, '{name}', is given twice with different contents (from "
                    f"'{origins[name]}' and '{origin}'); associated file names must be unique."
                )
            files[name] = data
            origins[name] = origin
        return files

    def get_metadata_json(self) -> str:
        """The JSON of the metadata buffer, as it is before populating.

        Populating adds fields (``min_parser_version``); see
        :meth:`get_populated_metadata_json`.

        Returns:
            flatc's JSON text of the metadata, identical to tflite-support's.

        Raises:
            MetadataValidationError: the writer has no metadata.
            MetadataFormatError: the metadata buffer is malformed.
        """
        if self._metadata_buffer is None:
            raise MetadataValidationError("The writer has no metadata buffer to convert to JSON.")
        return to_json(self._metadata_buffer)

    def get_populated_metadata_json(self) -> str:
        """The JSON of the metadata as populated into the model.

        Returns:
            flatc's JSON text of the populated model's metadata.

        Raises:
            As :meth:`populate`.
        """
        metadata = ModelView(self.populate()).metadata_buffer()
        if metadata is None:  # pragma: no cover - populate always writes metadata
            raise MetadataValidationError("The populated model has no metadata.")
        return to_json(metadata)


class AudioClassifierWriter(MetadataWriter):
    """Writes metadata into an audio classifier.

    tflite-support's ``audio_classifier.MetadataWriter``.

    Defaults: the model is named ``"AudioClassifier"``, its input ``"audio_clip"``
    (``AudioProperties``) and its output ``"probability"``, with tflite-support's
    descriptions.
    """

    @classmethod
    def create_from_metadata_info(  # type: ignore[override]
        cls,
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[InputAudioTensorMd] = None,
        output_md: Optional[ClassificationTensorMd] = None,
    ) -> AudioClassifierWriter:
        """Create a writer for a single-head audio classifier.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: audio classifier's).
            input_md: the input audio tensor (default: ``"audio_clip"``, no sample rate).
            output_md: the classification tensor (default: ``"probability"``, no stats).

        Returns:
            A writer whose associated files are those of ``output_md``.

        Raises:
            As :meth:`create_from_metadata_info_for_multihead`.
        """
        if output_md is None:
            output_md = ClassificationTensorMd(
                name=_AUDIO_OUTPUT_NAME, description=_AUDIO_OUTPUT_DESCRIPTION
            )
        return cls.create_from_metadata_info_for_multihead(
            model_buffer, general_md, input_md, [output_md]
        )

    @classmethod
    def create_from_metadata_info_for_multihead(
        cls,
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[InputAudioTensorMd] = None,
        output_md_list: Optional[list[ClassificationTensorMd]] = None,
    ) -> AudioClassifierWriter:
        """Create a writer for an audio classifier with one or more heads.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: audio classifier's).
            input_md: the input audio tensor (default: ``"audio_clip"``, no sample rate).
            output_md_list: one description per output tensor. Without
                ``tensor_name`` they follow the model's output order; with it they
                may come in any order. Default: empty metadata named after the tensors.

        Returns:
            A writer whose associated files are those of every head.

        Raises:
            MetadataValidationError: the ``tensor_name`` values do not match the
                model's outputs, or a description holds an invalid value.
            ModelFormatError: the model cannot be read.
        """
        if general_md is None:
            general_md = GeneralMd(name=_AUDIO_MODEL_NAME, description=_AUDIO_MODEL_DESCRIPTION)
        if input_md is None:
            input_md = InputAudioTensorMd(
                name=_AUDIO_INPUT_NAME, description=_AUDIO_INPUT_DESCRIPTION
            )
        associated_files: list[AssociatedFileSource] = []
        for md in output_md_list or []:
            associated_files.extend(md.associated_files or [])
        writer = super().create_from_metadata_info(
            model_buffer=model_buffer,
            general_md=general_md,
            input_md=[input_md],
            output_md=list(output_md_list) if output_md_list is not None else None,
            associated_files=associated_files,
        )
        return cast(AudioClassifierWriter, writer)

    @classmethod
    def create_for_inference(
        cls,
        model_buffer: ModelSource,
        sample_rate: int,
        channels: int,
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
        score_calibration_md: Optional[ScoreCalibrationMd] = None,
    ) -> AudioClassifierWriter:
        """Create the metadata the Task Library and MediaPipe need for inference.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            sample_rate: the sample rate of the audio in Hz (positive).
            channels: the channel count of the audio (positive).
            label_file_paths: the label files of the output, one per locale:
                paths, or :class:`LabelFileMd` (e.g. ``LabelFileMd(labels=[...])``).
                Empty if the model has no labels.
            score_calibration_md: the output's score calibration, if any.

        Returns:
            A writer; the output's stats follow its tensor type (``UINT8``:
            0..255, ``FLOAT32``: 0.0..1.0, other: none).

        Raises:
            MetadataValidationError: ``sample_rate`` or ``channels`` is not
                positive (tflite-support's messages), the model has no output.
            ModelFormatError: the model cannot be read.
        """
        _check_positive(sample_rate, "sample_rate")
        _check_positive(channels, "channels")
        model = _model_bytes(model_buffer)
        input_md = InputAudioTensorMd(
            _AUDIO_INPUT_NAME, _AUDIO_INPUT_DESCRIPTION, sample_rate, channels
        )
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
            name=_AUDIO_OUTPUT_NAME,
            description=_AUDIO_OUTPUT_DESCRIPTION,
            label_files=label_files,
            tensor_type=output_types[0],
            score_calibration_md=score_calibration_md,
        )
        return cls.create_from_metadata_info(model, input_md=input_md, output_md=output_md)
