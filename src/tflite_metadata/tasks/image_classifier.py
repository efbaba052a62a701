"""The image classifier task: tflite-support's ``image_classifier`` writer.

One input image (``ImageProperties``: its color space; ``NormalizationOptions``:
the mean and std that turn pixels into the model's input), one or more
classification heads (see :mod:`.classification`).

Example::

    writer = ImageClassifierWriter.create_for_inference(
        model, input_norm_mean=[127.5], input_norm_std=[127.5],
        label_file_paths=[LabelFileMd(labels=["cat", "dog"])],
    )
    populated = writer.populate()

Interface and output are tflite-support 0.4.4's. The differences are on purpose:
a std of 0, and a mean or std that is not a finite number (or not a float32),
are errors (tflite-support divides by zero, or writes NaN); the caller's lists
and descriptions are never modified (tflite-support set ``output_md.associated_files``).
"""

from __future__ import annotations

import argparse
import math
import numbers
import struct
from collections.abc import Iterable, Sequence
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
    UINT8_MAX,
    UINT8_MIN,
    LabelFileMd,
    ModelSource,
    TensorMd,
    enum_value,
    is_finite_real,
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
    score_argument,
)
from .rules import (
    BOTH,
    MEDIAPIPE,
    NORMALIZATION_UNIT,
    TASK_LIBRARY,
    Checker,
    Code,
    Tensor,
    plural,
    quoted,
    shape_text,
)
from .spec import GENERAL_KEYS, Spec, general_md, json_type, merge_input_options
from .writer_utils import get_input_tensor_types

__all__ = [
    "INPUT_DESCRIPTION",
    "INPUT_NAME",
    "MODEL_DESCRIPTION",
    "OUTPUT_DESCRIPTION",
    "OUTPUT_NAME",
    "ImageClassifierWriter",
    "InputImageTensorMd",
]

# The names and descriptions tflite-support's image classifier writer gives; the
# four public ones are public constants of its module too.
_MODEL_NAME = "ImageClassifier"
MODEL_DESCRIPTION = (
    "Identify the most prominent object in the image from a known set of categories."
)
INPUT_NAME = "image"
INPUT_DESCRIPTION = "Input image to be classified."
OUTPUT_NAME = "probability"
OUTPUT_DESCRIPTION = "Probabilities of the labels respectively."

_IMAGE_PROPERTIES = schema.UNIONS["ContentProperties"].type_of("ImageProperties")
COLOR_SPACES = dict(schema.ENUMS["ColorSpaceType"].values)
RGB = COLOR_SPACES["RGB"]

#: The largest finite float32: the metadata stores means, stds and stats as float32.
_FLOAT32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]
#: C++'s FLT_EPSILON: the consumers take a std smaller than this in magnitude for 0.
_FLOAT32_EPSILON = 2.0**-23


# -- the input image ---------------------------------------------------------------------------


def _as_float32(value: float) -> Optional[float]:
    """``value`` rounded to a float32 as the metadata stores it, or None if it overflows."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        return None


def normalization_values(values: Any, argument: str) -> Optional[list[float]]:
    """A copy of ``norm_mean`` or ``norm_std`` as floats, each checked; None stays None."""
    if values is None:
        return None
    if isinstance(values, numbers.Real):
        raise MetadataValidationError(
            f"{argument} should be a list of numbers (one for all channels, or one per "
            f"channel), but got the single number {values!r}; wrap it in a list."
        )
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise MetadataValidationError(
            f"{argument} should be a list of numbers (one for all channels, or one per "
            f"channel), but got {type(values).__name__}."
        )
    result = []
    for index, value in enumerate(values):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise MetadataValidationError(
                f"{argument}[{index}] should be a number, but got {value!r} "
                f"({type(value).__name__})."
            )
        if not is_finite_real(value):
            raise MetadataValidationError(
                f"{argument}[{index}] should be a finite number, but got {value!r}."
            )
        number = float(value)
        if _as_float32(number) is None:
            raise MetadataValidationError(
                f"{argument}[{index}] is {value!r}, beyond the range of a float32 (the "
                f"metadata stores float32 values, at most {_FLOAT32_MAX:g} in magnitude)."
            )
        result.append(number)
    return result


def _check_normalization(mean: Optional[list[float]], std: Optional[list[float]]) -> None:
    """tflite-support's length rule, and a std that is 0 where the metadata stores it."""
    if std and mean and len(std) != len(mean):
        # tflite-support's message.
        raise MetadataValidationError(
            f"norm_mean and norm_std are expected to be the same dim. But got "
            f"{len(mean)} and {len(std)}"
        )
    for index, value in enumerate(std or []):
        if _as_float32(value) == 0.0:
            stored = "" if value == 0.0 else f" (it is {value!r}, 0 as a float32)"
            raise MetadataValidationError(
                f"norm_std[{index}] is 0{stored}: the input is normalized as "
                "(pixel - mean) / std, so a std of 0 divides by zero. Give the std the "
                "model was trained with (mean 127.5 and std 127.5 scale pixels to [-1, 1], mean 0 "
                "and std 255 to [0, 1])."
            )


class InputImageTensorMd(TensorMd):
    """A container for the input image tensor metadata information.

    The tensor type decides the stats, as in tflite-support: ``UINT8`` gives
    min 0 and max 255; ``FLOAT32`` with a mean and a std gives, per channel,
    ``(0 - mean) / std`` and ``(255 - mean) / std``; anything else gives none.
    The ``NormalizationOptions`` process unit is written only when both
    ``norm_mean`` and ``norm_std`` are given (and not empty).

    Attributes:
        norm_mean: the mean used to normalize the input (a copy, as floats).
        norm_std: the std used to normalize the input (a copy, as floats).
        color_space_type: the ``ColorSpaceType`` of the input image.
        (and those of :class:`TensorMd`)

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        norm_mean: the mean per channel (or one for all channels): the input is
            ``(pixel - mean) / std``.
        norm_std: the std per channel (or one for all channels), as many values as
            ``norm_mean``.
        color_space_type: the ``ColorSpaceType`` of the image (default UNKNOWN, as
            tflite-support's; the consumers need RGB).
        tensor_type: the TFLite ``TensorType`` of the tensor, for the stats.

    Raises:
        MetadataValidationError: ``norm_mean`` and ``norm_std`` have different
            lengths (tflite-support's message); a value is not a finite number or
            beyond the range of a float32; a std is 0 (tflite-support raised
            ``ZeroDivisionError`` for FLOAT32 tensors and wrote it for others); the
            stats overflow a float32; ``color_space_type`` is not a ``ColorSpaceType``.
    """

    # The range of pixel values, for the stats of a FLOAT32 input.
    _MIN_PIXEL = 0.0
    _MAX_PIXEL = 255.0

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        norm_mean: Optional[Sequence[float]] = None,
        norm_std: Optional[Sequence[float]] = None,
        color_space_type: Optional[int] = _fb.ColorSpaceType.UNKNOWN,
        tensor_type: Optional[int] = None,
    ) -> None:
        mean = normalization_values(norm_mean, "norm_mean")
        std = normalization_values(norm_std, "norm_std")
        _check_normalization(mean, std)
        min_values: Optional[list[float]] = None
        max_values: Optional[list[float]] = None
        if tensor_type is None or isinstance(tensor_type, bool):
            pass
        elif tensor_type == TensorType.UINT8:
            min_values, max_values = [UINT8_MIN], [UINT8_MAX]
        elif tensor_type == TensorType.FLOAT32 and mean and std:
            # tflite-support's arithmetic, in doubles, so that the float32 stored is the same.
            min_values = [(self._MIN_PIXEL - m) / s for m, s in zip(mean, std)]
            max_values = [(self._MAX_PIXEL - m) / s for m, s in zip(mean, std)]
            for channel, low, high in zip(range(len(min_values)), min_values, max_values):
                for value in (low, high):
                    if _as_float32(value) is None:
                        raise MetadataValidationError(
                            f"the input's stats (pixel - mean) / std reach {value:g} for "
                            f"channel {channel} (mean {mean[channel]!r}, std "
                            f"{std[channel]!r}), beyond the range of a float32; is the std right?"
                        )
        super().__init__(
            name, description, min_values, max_values, _fb.ContentProperties.ImageProperties
        )
        self.norm_mean = mean
        self.norm_std = std
        self.color_space_type = self._color_space(color_space_type)

    @staticmethod
    def _color_space(value: Any) -> int:
        return enum_value("ColorSpaceType", value, "color_space_type")

    def create_metadata(self) -> Any:
        """Create the input image tensor metadata.

        Returns:
            A ``TensorMetadataT`` with ``ImageProperties`` (the color space) and,
            when a mean and a std are given, a ``NormalizationOptions`` process unit.

        Raises:
            MetadataValidationError: an attribute was set to an invalid value
                after construction (as the constructor's errors).
        """
        mean = normalization_values(self.norm_mean, "norm_mean")
        std = normalization_values(self.norm_std, "norm_std")
        _check_normalization(mean, std)
        tensor_metadata = super().create_metadata()
        tensor_metadata.content.contentProperties.colorSpace = self._color_space(
            self.color_space_type
        )
        if mean and std:
            normalization = _fb.ProcessUnitT()
            normalization.optionsType = _fb.ProcessUnitOptions.NormalizationOptions
            normalization.options = _fb.NormalizationOptionsT()
            normalization.options.mean = mean
            normalization.options.std = std
            tensor_metadata.processUnits = [normalization]
        return tensor_metadata


# -- the writer ----------------------------------------------------------------------------------


class ImageClassifierWriter(ClassifierWriter):
    """Writes metadata into an image classifier.

    tflite-support's ``image_classifier.MetadataWriter``: ``create_for_inference``,
    and (from :class:`~.classification.ClassifierWriter`) ``create_from_metadata_info``
    and, as the audio writer, ``create_from_metadata_info_for_multihead`` (both
    consumers run image classifiers with several heads, one output each;
    tflite-support's image writer has no such method).

    Defaults: the model is named ``"ImageClassifier"``, its input ``"image"``
    (``ImageProperties``, RGB, no normalization) and its output ``"probability"``,
    with tflite-support's descriptions (:data:`MODEL_DESCRIPTION` …).
    """

    task = "image-classifier"
    MODEL_NAME = _MODEL_NAME
    MODEL_DESCRIPTION = MODEL_DESCRIPTION
    OUTPUT_NAME = OUTPUT_NAME
    OUTPUT_DESCRIPTION = OUTPUT_DESCRIPTION

    @classmethod
    def default_input_md(cls) -> InputImageTensorMd:
        """``"image"``, RGB, with tflite-support's description, no normalization, no stats."""
        return InputImageTensorMd(
            name=INPUT_NAME, description=INPUT_DESCRIPTION, color_space_type=RGB
        )

    @classmethod
    def create_for_inference(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: Optional[Sequence[float]],
        input_norm_std: Optional[Sequence[float]],
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
        score_calibration_md: Optional[ScoreCalibrationMd] = None,
    ) -> ImageClassifierWriter:
        """Create the metadata the Task Library and MediaPipe need for inference.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean used to normalize the input, one value (for
                every channel) or one per channel: the model's input is
                ``(pixel - mean) / std``. Both consumers ignore it for a UINT8
                input, and need it for a FLOAT32 one.
            input_norm_std: the std, as many values as the mean.
            label_file_paths: the label files of the output, one per locale:
                paths, or :class:`LabelFileMd` (e.g. ``LabelFileMd(labels=[...])``).
                Empty if the model has no labels.
            score_calibration_md: the output's score calibration, if any.

        Returns:
            A writer; the input is RGB, its stats follow its tensor type (see
            :class:`InputImageTensorMd`); the output's stats follow its tensor type
            (``UINT8``: 0..255, ``FLOAT32``: 0.0..1.0, other: none).

        Raises:
            MetadataValidationError: the mean and std are invalid (see
                :class:`InputImageTensorMd`), or the model has no input or no output.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        input_types = get_input_tensor_types(model)
        if not input_types:
            raise MetadataValidationError(
                "The model has no input tensor (an image classifier has one: the image)."
            )
        input_md = InputImageTensorMd(
            name=INPUT_NAME,
            description=INPUT_DESCRIPTION,
            norm_mean=input_norm_mean,
            norm_std=input_norm_std,
            color_space_type=RGB,
            tensor_type=input_types[0],
        )
        return cls.for_inference(model, input_md, label_file_paths, score_calibration_md)


# -- the consumers' rules ------------------------------------------------------------------------
# The Task Library ImageClassifier of tflite-support 0.4.4 (image_classifier.cc,
# image_tensor_specs.cc, image_preprocessor.cc, classification_head.cc,
# score_calibration.cc, metadata_extractor.cc) and MediaPipe's ImageClassifier
# (image_tensor_specs.cc, image_preprocessing_graph.cc,
# classification_postprocessing_graph.cc), each rule measured with tflite-support 0.4.4
# and mediapipe 1.2.2 (the verdicts are in tests/test_image_consumers.py).


def _has_image_properties(tensor_metadata: Any) -> bool:
    content = getattr(tensor_metadata, "content", None)
    return content is not None and content.contentPropertiesType == _IMAGE_PROPERTIES


def _recognizes(metadata: Any) -> bool:
    """An image on the first input and one output that is not an image: an image classifier.

    (An image on the output is a segmenter's; several outputs, a detector's.)
    """
    subgraphs = metadata.subgraphMetadata or []
    if not subgraphs:
        return False
    inputs = subgraphs[0].inputTensorMetadata or []
    outputs = subgraphs[0].outputTensorMetadata or []
    return (
        bool(inputs)
        and _has_image_properties(inputs[0])
        and len(outputs) == 1
        and not _has_image_properties(outputs[0])
    )


def _check_model(checker: Checker) -> None:
    check_image_model(checker, "image classifiers")
    check_output_tensors(checker, mixed_quantization_refused_by_task_library=True)
    # Here rather than in _check_metadata: MediaPipe reads it with or without subgraphs.
    check_parser_version(checker)


def check_image_model(
    checker: Checker, noun: str, four_channels_refused_by: Optional[tuple[str, ...]] = None
) -> None:
    """The rules of the vision tasks on the model's subgraphs and its image input.

    Shared by the tasks whose input is an image (the Task Library's
    ``BaseVisionTaskApi`` and MediaPipe's ``image_tensor_specs.cc`` read it alike).

    Args:
        checker: the model.
        noun: the task's consumers, for messages (``"image classifiers"``).
        four_channels_refused_by: the consumers that refuse a 4-channel input;
            None: the classifiers' (the Task Library refuses it, MediaPipe
            fails when it classifies).
    """
    model = checker.model
    if model.subgraph_count != 1:
        checker.add(
            Code.SUBGRAPH_COUNT,
            "model",
            f"has {plural(model.subgraph_count, 'subgraph')}; {noun} need exactly 1",
            (MEDIAPIPE,),
        )
    if len(model.inputs) != 1:
        checker.add(
            Code.INPUT_COUNT,
            "model",
            f"has {plural(len(model.inputs), 'input')}; {noun} need exactly 1",
        )
    if model.inputs:
        check_image_input_tensor(checker, model.inputs[0], noun, four_channels_refused_by)
        if model.inputs[0].type == TensorType.FLOAT32 and _without_metadata(checker):
            checker.add(
                Code.NORMALIZATION,
                f"input {model.inputs[0].index}",
                f"tensor {quoted(model.inputs[0].name)} is FLOAT32 and the model has no "
                "metadata; the consumers need its NormalizationOptions (mean and std) to "
                "turn pixels into the input (a UINT8 model may go without metadata)",
            )


def check_parser_version(checker: Checker) -> None:
    """MediaPipe refuses metadata that asks for a newer parser than its own (the schema's)."""
    version = None if checker.metadata is None else checker.metadata.minParserVersion
    if version is None:
        return
    text = version.decode("utf-8", "replace") if isinstance(version, bytes) else str(version)
    try:
        wanted = [int(part) for part in text.split(".")]
        own = [int(part) for part in schema.SCHEMA_VERSION.split(".")]
    except ValueError:
        return  # not a version; what MediaPipe makes of it was not measured
    width = max(len(wanted), len(own))
    if wanted + [0] * (width - len(wanted)) > own + [0] * (width - len(own)):
        checker.add(
            Code.PARSER_VERSION,
            "metadata",
            f"min_parser_version is {quoted(text)}; MediaPipe parses metadata up to "
            f"version {schema.SCHEMA_VERSION}",
            (MEDIAPIPE,),
        )


def _without_metadata(checker: Checker) -> bool:
    """Whether the model has no metadata, or metadata without subgraph metadata.

    Both image classifiers then run the model with no labels; a model whose
    metadata cannot be read is reported as such.
    """
    if not checker.model.metadata:
        return True
    return checker.metadata is not None and checker.metadata.subgraphMetadata is None


def check_image_input_tensor(
    checker: Checker,
    tensor: Tensor,
    noun: str = "image classifiers",
    four_channels_refused_by: Optional[tuple[str, ...]] = None,
) -> None:
    """The image input's type and shape (see :func:`check_image_model`)."""
    where = f"input {tensor.index}"
    if tensor.type not in (TensorType.UINT8, TensorType.FLOAT32):
        checker.add(
            Code.INPUT_TYPE,
            where,
            f"tensor {quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; "
            f"{noun} need UINT8 or FLOAT32",
        )
    shape = tensor.shape
    if len(shape) != 4:
        checker.add(
            Code.INPUT_SHAPE,
            where,
            f"shape {shape_text(shape)} has {plural(len(shape), 'dimension')}; {noun} "
            "need 4: [1, height, width, 3] (batch, height, width, channels)",
        )
        return
    batch, height, width, channels = shape
    if batch != 1:
        checker.add(
            Code.INPUT_SHAPE,
            where,
            f"shape {shape_text(shape)} has a batch of {batch}; expected 1",
        )
    if channels == 4 and four_channels_refused_by is not None:
        checker.add(
            Code.INPUT_CHANNELS,
            where,
            f"shape {shape_text(shape)} has 4 channels; expected 3 (RGB): "
            f"{' and '.join(four_channels_refused_by)} "
            f"{'refuse' if len(four_channels_refused_by) > 1 else 'refuses'} 4",
            four_channels_refused_by,
        )
    elif channels == 4:
        checker.add(
            Code.INPUT_CHANNELS,
            where,
            f"shape {shape_text(shape)} has 4 channels; expected 3 (RGB): the Task Library "
            "refuses 4, MediaPipe loads the model but fails to classify (it feeds 3)",
        )
    elif channels != 3:
        checker.add(
            Code.INPUT_CHANNELS,
            where,
            f"shape {shape_text(shape)} has {plural(channels, 'channel')}; expected 3 (RGB)",
        )
    for axis, size in ((1, height), (2, width)):
        if size < 1:
            checker.add(
                Code.INPUT_SHAPE,
                where,
                f"the {'height' if axis == 1 else 'width'} (dimension {axis} of shape "
                f"{shape_text(shape)}) is {size}; expected at least 1",
            )


def _check_metadata(checker: Checker) -> None:
    # Measured: the image classifiers of both consumers refuse a negative scale.
    checker.negative_scale_refused_by = BOTH
    check_image_input_metadata(checker, "image classifiers")
    check_output_metadata(checker, names_required=False)


def check_image_input_metadata(checker: Checker, noun: str) -> None:
    """The metadata of the image input: one description, its image and normalization."""
    inputs = checker.tensor_metadata("input")
    if not inputs:
        checker.add(
            Code.INPUT_COUNT,
            "metadata",
            f"describes 0 input tensors; {noun} need 1, describing the image",
        )
    elif len(inputs) > 1:
        checker.add(
            Code.INPUT_COUNT,
            "metadata",
            f"describes {len(inputs)} input tensors; the Task Library needs exactly 1 "
            "(MediaPipe reads the first)",
            (TASK_LIBRARY,),
        )
    if inputs and checker.model.inputs:
        check_image_tensor_metadata(checker, inputs[0], checker.model.inputs[0])


def check_image_tensor_metadata(checker: Checker, tensor_metadata: Any, tensor: Tensor) -> None:
    where = f"input {tensor.index}"
    content = tensor_metadata.content
    properties = None if content is None else content.contentProperties
    # Without content properties the image is taken as RGB; with others, refused.
    if properties is not None:
        kind = int(content.contentPropertiesType or 0)
        if kind != _IMAGE_PROPERTIES:
            found = schema.UNIONS["ContentProperties"].member(kind) or str(kind)
            checker.add(
                Code.IMAGE_PROPERTIES,
                where,
                f"metadata has content properties {found}; expected ImageProperties (or none)",
            )
        else:
            color_space = int(properties.colorSpace or 0)
            if color_space != RGB:
                name = schema.ENUMS["ColorSpaceType"].name_of(color_space) or str(color_space)
                unset = " (the schema's default, when none is set)" if color_space == 0 else ""
                checker.add(
                    Code.COLOR_SPACE,
                    where,
                    f"ImageProperties has color space {name}{unset}; the consumers take "
                    "RGB images only",
                )
    units = [
        unit
        for unit in tensor_metadata.processUnits or []
        if unit.optionsType == NORMALIZATION_UNIT
    ]
    if len(units) > 1:
        checker.add(
            Code.PROCESS_UNITS,
            where,
            f"has {len(units)} normalization process units; expected at most 1",
        )
    if not units:
        if tensor.type == TensorType.FLOAT32:
            checker.add(
                Code.NORMALIZATION,
                where,
                f"tensor {quoted(tensor.name)} is FLOAT32 and its metadata has no "
                "NormalizationOptions; the consumers need its mean and std to turn pixels "
                "into the input",
            )
        return
    _check_normalization_options(checker, where, units[0].options, tensor)


def _values_text(values: Sequence[float]) -> str:
    shown = ", ".join(f"{value:g}" for value in values[:4])
    return f"[{shown}{', …' if len(values) > 4 else ''}]"


def _check_normalization_options(
    checker: Checker, where: str, options: Any, tensor: Tensor
) -> None:
    mean = None if options is None else options.mean
    std = None if options is None else options.std
    if mean is None or std is None:
        missing = " and ".join(n for n, v in (("mean", mean), ("std", std)) if v is None)
        checker.add(
            Code.NORMALIZATION,
            where,
            f"NormalizationOptions has no {missing} values; expected 1 or 3 of each "
            "(the Task Library crashes reading it)",
        )
        return
    # These rules hold whatever the input type: the consumers read the values first.
    if len(mean) != len(std):
        checker.add(
            Code.NORMALIZATION,
            where,
            f"NormalizationOptions has {plural(len(mean), 'mean value')} and "
            f"{plural(len(std), 'std value')}; expected as many of each",
        )
        return
    if len(mean) not in (1, 3):
        checker.add(
            Code.NORMALIZATION,
            where,
            f"NormalizationOptions has {len(mean)} mean and std values; expected 1 (for "
            "every channel) or 3 (one per RGB channel)",
        )
        return
    if tensor.type != TensorType.FLOAT32:
        return  # a UINT8 input is fed as it is: its mean and std are not used
    count = len(mean)
    shape = tensor.shape
    if shape and all(size >= 1 for size in shape) and math.prod(shape) % count:
        checker.add(
            Code.NORMALIZATION,
            where,
            f"shape {shape_text(shape)} holds {math.prod(shape)} values, not a multiple of "
            f"the {count} normalization values",
        )
    if count == 3 and not (mean[0] == mean[1] == mean[2] and std[0] == std[1] == std[2]):
        checker.add(
            Code.NORMALIZATION,
            where,
            f"NormalizationOptions differs per channel (mean {_values_text(mean)}, std "
            f"{_values_text(std)}); MediaPipe needs the same mean and std for every channel "
            "(the Task Library applies them per channel)",
            (MEDIAPIPE,),
        )
    zeros = [index for index, value in enumerate(std) if abs(value) < _FLOAT32_EPSILON]
    if zeros:
        # MediaPipe tests the first std (the others equal it, or it refused the model).
        refusing = BOTH if zeros[0] == 0 else (TASK_LIBRARY,)
        checker.add(
            Code.NORMALIZATION,
            where,
            f"NormalizationOptions has std {_values_text(std)}, with 0 at index {zeros[0]}; "
            "a std must not be 0 (the Task Library fails when it classifies, MediaPipe when it "
            "loads the model)",
            refusing,
        )


# -- the command line and spec files -----------------------------------------------------------

INPUT_KEYS = frozenset(("name", "description", "mean", "std", "color_space"))
_SPEC_KEYS = frozenset((*GENERAL_KEYS, "input", "outputs"))

_SPEC_HELP = (
    """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "ImageClassifier", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"name": "image", "description": "...",
              "mean": [127.5], "std": [127.5], "color_space": "RGB"},
"""
    + HEADS_SPEC_HELP
)


def color_space_argument(text: str) -> str:
    key = text.strip().upper()
    if key not in COLOR_SPACES:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(COLOR_SPACES)}, found {text!r}"
        )
    return key


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_image_input_arguments(parser, INPUT_NAME)
    add_head_arguments(parser, OUTPUT_NAME)


def add_image_input_arguments(parser: argparse.ArgumentParser, default_name: str) -> None:
    """The options of ``write KIND`` that describe an image input (``--mean`` …)."""
    group = parser.add_argument_group(
        "image input",
        "The model's input is (pixel - mean) / std: give one mean and std for all "
        "channels, or one per channel (repeat the option, or give several values).",
    )
    for option in ("--mean", "--std"):
        group.add_argument(
            option,
            type=score_argument,
            nargs="+",
            action="extend",
            metavar="X",
        )
    group.add_argument(
        "--color-space",
        type=color_space_argument,
        metavar="|".join(COLOR_SPACES),
        help="the color space of the image (default: RGB; the consumers take RGB only)",
    )
    group.add_argument("--input-name", metavar="TEXT", help=f"default: {default_name}")
    group.add_argument("--input-description", metavar="TEXT")


def _merge_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    merge_image_input_arguments(args, document)
    merge_head_arguments(args, document)


def merge_image_input_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """Put the options of :func:`add_image_input_arguments` into a spec document."""
    merge_input_options(
        args,
        document,
        (
            ("mean", "mean"),
            ("std", "std"),
            ("color_space", "color_space"),
            ("input_name", "name"),
            ("input_description", "description"),
        ),
    )


def spec_normalization_values(spec: Spec, table: dict[str, Any], key: str) -> Optional[list[float]]:
    """A spec's mean or std: a number, or a non-empty array of numbers."""
    value = table.get(key)
    if value is None:
        return None
    where = f"input.{key}"
    items = value if isinstance(value, list) else [value]
    if not items:
        spec.fail(where, "expected a number or a non-empty array of numbers, found []")
    numbers_found = []
    for index, item in enumerate(items):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            spec.fail(
                f"{where}[{index}]" if isinstance(value, list) else where,
                f"expected a number, found {json_type(item)}",
            )
        numbers_found.append(item)
    return numbers_found


def color_space_value(spec: Spec, table: dict[str, Any]) -> int:
    value = table.get("color_space", "RGB")
    if isinstance(value, str) and value.strip().upper() in COLOR_SPACES:
        return int(COLOR_SPACES[value.strip().upper()])
    spec.fail(
        "input.color_space",
        f"expected one of {', '.join(COLOR_SPACES)}, found {json_type(value)}"
        + (f" {value!r}" if isinstance(value, str) else ""),
    )


def image_input_md_from_spec(
    model: BufferLike,
    spec: Spec,
    document: dict[str, Any],
    name: str,
    description: str,
    what: str,
) -> InputImageTensorMd:
    """The image input a spec's ``input`` table describes (its stats by the model's input type).

    Raises:
        UsageError: only one of the mean and the std is given.
        MetadataValidationError: a value is invalid, or the model has no input.
    """
    input_table = spec.table(document.get("input", {}), "input", INPUT_KEYS)
    mean = spec_normalization_values(spec, input_table, "mean")
    std = spec_normalization_values(spec, input_table, "std")
    if (mean is None) != (std is None):
        raise UsageError(
            "the normalization needs both a mean and a std: give --mean and --std (or "
            "input.mean and input.std in the spec), or neither"
        )
    color_space = color_space_value(spec, input_table)
    input_types = get_input_tensor_types(model)
    if not input_types:
        raise MetadataValidationError(f"The model has no input tensor ({what} has one: the image).")
    return InputImageTensorMd(
        spec.text_or(input_table, "name", "input", name),
        spec.text_or(input_table, "description", "input", description),
        mean,
        std,
        color_space,
        input_types[0],
    )


def _build_writer(
    model: BufferLike, document: dict[str, Any], spec: Spec, base: Optional[Path]
) -> ImageClassifierWriter:
    document = spec.table(document, "spec", _SPEC_KEYS)
    general = general_md(spec, document, _MODEL_NAME, MODEL_DESCRIPTION)
    input_md = image_input_md_from_spec(
        model, spec, document, INPUT_NAME, INPUT_DESCRIPTION, "an image classifier"
    )
    heads = heads_from_spec(model, spec, document, base, OUTPUT_NAME, OUTPUT_DESCRIPTION)
    return ImageClassifierWriter.create_from_metadata_info_for_multihead(
        model, general, input_md, heads
    )


TASK = Task(
    name="image-classifier",
    writer=ImageClassifierWriter,
    recognizes=_recognizes,
    check_model=_check_model,
    check_metadata=_check_metadata,
    add_arguments=_add_arguments,
    merge_arguments=_merge_arguments,
    build_writer=_build_writer,
    spec_help=_SPEC_HELP,
    description=(
        "Write image classifier metadata into MODEL, as tflite-support's "
        "image_classifier.MetadataWriter does, and save the result as OUT. OUT is checked "
        "against the rules of the Task Library and MediaPipe image classifiers first, and "
        "not written if they would refuse it (unless --no-check). A FLOAT32 input needs "
        "--mean and --std (a UINT8 input is fed as it is). Options describe one "
        "classification head; for a model with several outputs, start each head with "
        "--head, or describe everything in a spec file (--spec)."
    ),
    model_name=_MODEL_NAME,
    requires_metadata=False,
)
