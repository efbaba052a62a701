"""The audio classifier task: tflite-support's ``audio_classifier`` writer.

One input waveform (``AudioProperties``: sample rate and channel count), one or
more classification heads (see :mod:`.classification`).

Example::

    writer = AudioClassifierWriter.create_for_inference(
        model, sample_rate=16000, channels=1,
        label_file_paths=[LabelFileMd(labels=["speech", "music"])],
    )
    populated = writer.populate()
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import MetadataValidationError, UsageError
from ..fileio import PathLike
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.flatc_module import api as _fb
from ..format.model_schema import TensorType, tensor_type_name
from ..model.reader import model_bytes
from . import Task
from .base import (
    UINT32_MAX,
    LabelFileMd,
    ModelSource,
    TensorMd,
    in_uint32_range,
)
from .classification import (
    HEADS_SPEC_HELP,
    ClassifierWriter,
    ScoreCalibrationMd,
    add_head_arguments,
    check_output_metadata,
    check_output_tensors,
    heads_from_spec,
    merge_head_arguments,
)
from .rules import BOTH, MEDIAPIPE, TASK_LIBRARY, Checker, Code, Tensor, plural, quoted, shape_text
from .spec import GENERAL_KEYS, Spec, general_md, merge_input_options

_AUDIO_MODEL_NAME = "AudioClassifier"
_AUDIO_MODEL_DESCRIPTION = (
    "Identify the most prominent type in the audio clip from a known set of categories."
)
_AUDIO_INPUT_NAME = "audio_clip"
_AUDIO_INPUT_DESCRIPTION = "Input audio clip to be classified."
_AUDIO_OUTPUT_NAME = "probability"
_AUDIO_OUTPUT_DESCRIPTION = "Scores of the labels respectively."

_AUDIO_PROPERTIES = schema.UNIONS["ContentProperties"].type_of("AudioProperties")


def _check_positive(value: Any, argument: str) -> None:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise MetadataValidationError(
            f"{argument} should be a positive integer, but got {value!r} ({type(value).__name__})."
        )
    # The message of tflite-support.
    if value <= 0:
        raise MetadataValidationError(f"{argument} should be positive, but got {value}.")


def _check_audio_count(value: Any, argument: str) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise MetadataValidationError(
            f"{argument} should be an integer, but got {value!r} ({type(value).__name__})."
        )
    number = int(value)
    # The message of tflite-support.
    if number < 0:
        raise MetadataValidationError(f"{argument} should be non-negative, but got {value}.")
    if not in_uint32_range(number):
        raise MetadataValidationError(
            f"{argument} should be at most {UINT32_MAX} (a uint32), but got {value}."
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


class AudioClassifierWriter(ClassifierWriter):
    """Writes metadata into an audio classifier.

    tflite-support's ``audio_classifier.MetadataWriter``: ``create_for_inference``,
    and (from :class:`~.classification.ClassifierWriter`) ``create_from_metadata_info``
    and ``create_from_metadata_info_for_multihead``.

    Defaults: the model is named ``"AudioClassifier"``, its input ``"audio_clip"``
    (``AudioProperties``, no sample rate) and its output ``"probability"``, with
    tflite-support's descriptions.
    """

    task = "audio-classifier"
    MODEL_NAME = _AUDIO_MODEL_NAME
    MODEL_DESCRIPTION = _AUDIO_MODEL_DESCRIPTION
    OUTPUT_NAME = _AUDIO_OUTPUT_NAME
    OUTPUT_DESCRIPTION = _AUDIO_OUTPUT_DESCRIPTION

    @classmethod
    def default_input_md(cls) -> InputAudioTensorMd:
        """``"audio_clip"``, with tflite-support's description and no sample rate."""
        return InputAudioTensorMd(name=_AUDIO_INPUT_NAME, description=_AUDIO_INPUT_DESCRIPTION)

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
        input_md = InputAudioTensorMd(
            _AUDIO_INPUT_NAME, _AUDIO_INPUT_DESCRIPTION, sample_rate, channels
        )
        return cls.for_inference(
            model_bytes(model_buffer), input_md, label_file_paths, score_calibration_md
        )


# -- the consumers' rules ------------------------------------------------------------------------
# The Task Library AudioClassifier of tflite-support 0.4.4 (audio_preprocessor.cc,
# classification_postprocessor.cc, classification_head.cc, label_map_item.cc,
# score_calibration.cc, metadata_extractor.cc) and MediaPipe's AudioClassifier
# (audio_classifier_graph.cc, audio_tensor_specs.cc, classification_postprocessing_graph.cc,
# score_calibration_utils.cc, label_map_util.cc).


def _recognizes(metadata: Any) -> bool:
    """Audio properties on the first input mean an audio classifier."""
    subgraphs = metadata.subgraphMetadata or []
    inputs = (subgraphs[0].inputTensorMetadata if subgraphs else None) or []
    content = inputs[0].content if inputs else None
    return content is not None and content.contentPropertiesType == _AUDIO_PROPERTIES


def _check_model(checker: Checker) -> None:
    model = checker.model
    if model.subgraph_count != 1:
        checker.add(
            Code.SUBGRAPH_COUNT,
            "model",
            f"has {plural(model.subgraph_count, 'subgraph')}; audio classifiers need exactly 1",
            (MEDIAPIPE,),
        )
    if len(model.inputs) != 1:
        checker.add(
            Code.INPUT_COUNT,
            "model",
            f"has {plural(len(model.inputs), 'input')}; audio classifiers need exactly 1",
        )
    if model.inputs:
        _check_input_tensor(checker, model.inputs[0])
    check_output_tensors(checker)


def _check_input_tensor(checker: Checker, tensor: Tensor) -> None:
    where = f"input {tensor.index}"
    if tensor.type != TensorType.FLOAT32:
        consumers = (TASK_LIBRARY,) if tensor.type == TensorType.FLOAT16 else BOTH
        checker.add(
            Code.INPUT_TYPE,
            where,
            f"tensor {quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; "
            "audio classifiers need FLOAT32",
            consumers,
        )
    shape = tensor.shape
    if len(shape) == 0:
        checker.add(
            Code.INPUT_SHAPE,
            where,
            "shape [] holds no audio samples; expected a 1-D or 2-D shape such as [1, 15600]",
            (MEDIAPIPE,),
        )
    elif len(shape) > 2:
        checker.add(
            Code.INPUT_SHAPE,
            where,
            f"shape {shape_text(shape)} has {len(shape)} dimensions; expected 1 or 2",
            (MEDIAPIPE,),
        )
    # One problem for all the bad dimensions: one each would make the report
    # grow with the square of a hostile shape's length.
    bad = [(axis, size) for axis, size in enumerate(shape) if size < 1]
    if bad:
        axis, size = bad[0]
        more = f" (and {plural(len(bad) - 1, 'other dimension')} below 1)" if bad[1:] else ""
        checker.add(
            Code.INPUT_SHAPE,
            where,
            f"dimension {axis} of shape {shape_text(shape)} is {size}{more}; "
            "every dimension should be at least 1",
        )


def _check_metadata(checker: Checker) -> None:
    inputs = checker.tensor_metadata("input")
    if inputs is None or len(inputs) != 1:
        found = 0 if inputs is None else len(inputs)
        checker.add(
            Code.INPUT_COUNT,
            "metadata",
            f"describes {plural(found, 'input tensor')}; audio classifiers need exactly 1",
            (TASK_LIBRARY,),
        )
    if inputs and checker.model.inputs:
        _check_audio_properties(checker, inputs[0], checker.model.inputs[0])
    check_output_metadata(checker)


def _check_audio_properties(checker: Checker, tensor_metadata: Any, tensor: Tensor) -> None:
    where = f"input {tensor.index}"
    content = tensor_metadata.content
    properties = None if content is None else content.contentProperties
    kind = None if content is None else content.contentPropertiesType
    if properties is None or kind != _AUDIO_PROPERTIES:
        found = "none"
        if content is not None and kind:
            found = schema.UNIONS["ContentProperties"].member(int(kind)) or str(kind)
        checker.add(
            Code.AUDIO_PROPERTIES,
            where,
            f"metadata has content properties {found}; expected AudioProperties "
            "(sample rate and channels)",
        )
        return
    sample_rate = int(properties.sampleRate or 0)
    channels = int(properties.channels or 0)
    if sample_rate <= 0:
        checker.add(
            Code.SAMPLE_RATE,
            where,
            f"sample rate is {sample_rate}; expected a positive number of samples per second",
        )
    if channels <= 0:
        checker.add(
            Code.CHANNELS, where, f"channel count is {channels}; expected a positive number"
        )
        return
    if not tensor.shape or any(d < 1 for d in tensor.shape):
        return
    size = math.prod(tensor.shape)
    if size % channels:
        checker.add(
            Code.INPUT_CHANNELS,
            where,
            f"shape {shape_text(tensor.shape)} holds {size} samples, not a multiple "
            f"of {plural(channels, 'channel')}",
        )


# -- the command line and spec files -----------------------------------------------------------

_INPUT_KEYS = frozenset(("name", "description", "sample_rate", "channels"))
_SPEC_KEYS = frozenset((*GENERAL_KEYS, "input", "outputs"))

_SPEC_HELP = (
    """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "AudioClassifier", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"name": "audio_clip", "description": "...",
              "sample_rate": 16000, "channels": 1},
"""
    + HEADS_SPEC_HELP
)


def _count_argument(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if not in_uint32_range(value):
        raise argparse.ArgumentTypeError(f"expected a number from 0 to {UINT32_MAX}, found {value}")
    return value


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("audio input")
    group.add_argument("--sample-rate", type=_count_argument, metavar="HZ")
    group.add_argument("--channels", type=_count_argument, metavar="N")
    group.add_argument("--input-name", metavar="TEXT", help=f"default: {_AUDIO_INPUT_NAME}")
    group.add_argument("--input-description", metavar="TEXT")
    add_head_arguments(parser, _AUDIO_OUTPUT_NAME)


def _merge_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    merge_input_options(
        args,
        document,
        (
            ("sample_rate", "sample_rate"),
            ("channels", "channels"),
            ("input_name", "name"),
            ("input_description", "description"),
        ),
    )
    merge_head_arguments(args, document)


def _build_writer(
    model: BufferLike, document: dict[str, Any], spec: Spec, base: Optional[Path]
) -> AudioClassifierWriter:
    document = spec.table(document, "spec", _SPEC_KEYS)
    general = general_md(spec, document, _AUDIO_MODEL_NAME, _AUDIO_MODEL_DESCRIPTION)
    input_table = spec.table(document.get("input", {}), "input", _INPUT_KEYS)
    sample_rate = spec.count(input_table, "sample_rate", "input")
    channels = spec.count(input_table, "channels", "input")
    if sample_rate is None or channels is None:
        raise UsageError(
            "the sample rate and channel count are required: give --sample-rate and "
            "--channels (or input.sample_rate and input.channels in the spec)"
        )
    input_md = InputAudioTensorMd(
        spec.text_or(input_table, "name", "input", _AUDIO_INPUT_NAME),
        spec.text_or(input_table, "description", "input", _AUDIO_INPUT_DESCRIPTION),
        sample_rate,
        channels,
    )
    heads = heads_from_spec(
        model, spec, document, base, _AUDIO_OUTPUT_NAME, _AUDIO_OUTPUT_DESCRIPTION
    )
    return AudioClassifierWriter.create_from_metadata_info_for_multihead(
        model, general, input_md, heads
    )


TASK = Task(
    name="audio-classifier",
    writer=AudioClassifierWriter,
    recognizes=_recognizes,
    check_model=_check_model,
    check_metadata=_check_metadata,
    add_arguments=_add_arguments,
    merge_arguments=_merge_arguments,
    build_writer=_build_writer,
    spec_help=_SPEC_HELP,
    description=(
        "Write audio classifier metadata into MODEL, as tflite-support's "
        "audio_classifier.MetadataWriter does, and save the result as OUT. OUT is checked "
        "against the rules of the Task Library and MediaPipe audio classifiers first, and "
        "not written if they would refuse it (unless --no-check). Options describe one "
        "classification head; for a model with several outputs, start each head with "
        "--head, or describe everything in a spec file (--spec)."
    ),
    model_name=_AUDIO_MODEL_NAME,
)
