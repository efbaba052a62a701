"""The image input every vision task shares: its description and the consumers' rules on it.

:class:`InputImageTensorMd` (tflite-support's ``metadata_info.InputImageTensorMd``:
``ImageProperties`` and ``NormalizationOptions``), the rules both consumers'
image preprocessing applies to the input tensor and its metadata (the Task
Library's ``image_tensor_specs.cc`` and ``image_preprocessor.cc``, MediaPipe's
``image_tensor_specs.cc`` and ``image_preprocessing_graph.cc``), and the image
input's command-line options and spec-file keys. Used by the image classifier,
the object detector and the image segmenter.
"""

from __future__ import annotations

import argparse
import math
import numbers
import struct
from collections.abc import Iterable, Sequence
from typing import Any, Optional

from ..errors import MetadataValidationError, UsageError
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.flatc_module import api as _fb
from ..format.model_schema import TensorType, tensor_type_name
from .base import UINT8_MAX, UINT8_MIN, TensorMd, enum_value, is_finite_real
from .classification import score_argument
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
from .spec import Spec, json_type
from .writer_utils import get_input_tensor_types

__all__ = [
    "COLOR_SPACES",
    "IMAGE_INPUT_KEYS",
    "IMAGE_PROPERTIES",
    "RGB",
    "InputImageTensorMd",
    "add_image_arguments",
    "check_image_input_metadata",
    "check_image_metadata",
    "check_image_model",
    "check_input_tensor",
    "has_image_properties",
    "image_input_md",
    "merge_image_arguments",
    "without_metadata",
]

IMAGE_PROPERTIES = schema.UNIONS["ContentProperties"].type_of("ImageProperties")
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


def check_normalization(mean: Optional[list[float]], std: Optional[list[float]]) -> None:
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
        check_normalization(mean, std)
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
        check_normalization(mean, std)
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


# -- the consumers' rules on the image input ---------------------------------------------------


def has_image_properties(tensor_metadata: Any) -> bool:
    content = getattr(tensor_metadata, "content", None)
    return content is not None and content.contentPropertiesType == IMAGE_PROPERTIES


def without_metadata(checker: Checker) -> bool:
    """Whether the model has no metadata, or metadata without subgraph metadata.

    The image classifiers then run the model with no labels; a model whose
    metadata cannot be read is reported as such.
    """
    if not checker.model.metadata:
        return True
    return checker.metadata is not None and checker.metadata.subgraphMetadata is None


def check_input_tensor(
    checker: Checker,
    tensor: Tensor,
    noun: str = "image classifiers",
    action: str = "classify",
    four_channels_refused_by: Optional[tuple[str, ...]] = None,
) -> None:
    """The image input's type and shape, as both consumers' image preprocessing reads them.

    Args:
        checker: the model.
        tensor: the image input.
        noun: the task's models, for the messages ("image classifiers").
        action: what the task does, for the messages ("classify").
        four_channels_refused_by: the consumers that refuse a 4-channel input;
            None: the Task Library refuses it and MediaPipe fails when it runs
            the model (the classifier's and the detector's). MediaPipe's image
            segmenter takes 4 channels: it passes ``(TASK_LIBRARY,)``.
    """
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
            f"refuses 4, MediaPipe loads the model but fails to {action} (it feeds 3)",
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


def check_image_model(
    checker: Checker,
    noun: str,
    action: str,
    four_channels_refused_by: Optional[tuple[str, ...]] = None,
) -> None:
    """The rules on the model's subgraphs and its image input (see :func:`check_input_tensor`).

    The subgraph and input counts, the input tensor, and a FLOAT32 input
    without metadata (the consumers need its normalization).
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
        check_input_tensor(checker, model.inputs[0], noun, action, four_channels_refused_by)
        if model.inputs[0].type == TensorType.FLOAT32 and without_metadata(checker):
            checker.add(
                Code.NORMALIZATION,
                f"input {model.inputs[0].index}",
                f"tensor {quoted(model.inputs[0].name)} is FLOAT32 and the model has no "
                "metadata; the consumers need its NormalizationOptions (mean and std) to "
                "turn pixels into the input (a UINT8 model may go without metadata)",
            )


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
        check_image_metadata(checker, inputs[0], checker.model.inputs[0])


def check_image_metadata(checker: Checker, tensor_metadata: Any, tensor: Tensor) -> None:
    where = f"input {tensor.index}"
    content = tensor_metadata.content
    properties = None if content is None else content.contentProperties
    # Without content properties the image is taken as RGB; with others, refused.
    if properties is not None:
        kind = int(content.contentPropertiesType or 0)
        if kind != IMAGE_PROPERTIES:
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
    check_normalization_options(checker, where, units[0].options, tensor)


def _values_text(values: Sequence[float]) -> str:
    shown = ", ".join(f"{value:g}" for value in values[:4])
    return f"[{shown}{', …' if len(values) > 4 else ''}]"


def check_normalization_options(checker: Checker, where: str, options: Any, tensor: Tensor) -> None:
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


def color_space_argument(text: str) -> str:
    key = text.strip().upper()
    if key not in COLOR_SPACES:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(COLOR_SPACES)}, found {text!r}"
        )
    return key


def image_spec_values(spec: Spec, table: dict[str, Any], key: str) -> Optional[list[float]]:
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


#: The keys of a spec's ``input`` table for an image.
IMAGE_INPUT_KEYS = frozenset(("name", "description", "mean", "std", "color_space"))


def add_image_arguments(parser: argparse.ArgumentParser, default_name: str) -> None:
    """The image input's options: --mean, --std, --color-space, its name and description."""
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


#: The image options, and the keys of the spec's ``input`` table they set.
IMAGE_OPTION_KEYS = (
    ("mean", "mean"),
    ("std", "std"),
    ("color_space", "color_space"),
    ("input_name", "name"),
    ("input_description", "description"),
)


def merge_image_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """Put the image options into the spec document's ``input`` table."""
    from .spec import merge_input_options

    merge_input_options(args, document, IMAGE_OPTION_KEYS)


def image_input_md(
    model: BufferLike,
    spec: Spec,
    document: dict[str, Any],
    default_name: str,
    default_description: str,
    task: str,
) -> InputImageTensorMd:
    """The image input of ``model`` that a spec document's ``input`` table describes.

    Raises:
        UsageError: only one of the mean and the std is given.
        MetadataValidationError: the model has no input, or a value is invalid.
    """
    input_table = spec.table(document.get("input", {}), "input", IMAGE_INPUT_KEYS)
    input_types = get_input_tensor_types(model)
    mean = image_spec_values(spec, input_table, "mean")
    std = image_spec_values(spec, input_table, "std")
    if (mean is None) != (std is None):
        raise UsageError(
            "the normalization needs both a mean and a std: give --mean and --std (or "
            "input.mean and input.std in the spec), or neither"
        )
    color_space = color_space_value(spec, input_table)
    if not input_types:
        raise MetadataValidationError(
            f"The model has no input tensor (an {task} has one: the image)."
        )
    return InputImageTensorMd(
        spec.text_or(input_table, "name", "input", default_name),
        spec.text_or(input_table, "description", "input", default_description),
        mean,
        std,
        color_space,
        input_types[0],
    )
