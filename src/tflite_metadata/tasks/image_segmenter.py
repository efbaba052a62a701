"""The image segmenter task: tflite-support's ``image_segmenter`` writer.

One input image (as the image classifier's: ``ImageProperties`` and
``NormalizationOptions``, see :class:`~.image_input.InputImageTensorMd`)
and one segmentation output: ``[1, height, width, classes]``, a grayscale mask
per class (``ImageProperties`` GRAYSCALE over the dimensions 1 to 2), with the
label file of its classes.

Example::

    writer = ImageSegmenterWriter.create_for_inference(
        model, input_norm_mean=[127.5], input_norm_std=[127.5],
        label_file_paths=[LabelFileMd(labels=["background", "person"])],
    )
    populated = writer.populate()

Interface and output are tflite-support 0.4.4's. The differences are on purpose:

* a model with a second output (MediaPipe's selfie and hair segmenters output a
  quality score, then the masks) is accepted: as MediaPipe's writer does, the
  masks are the last output and the first is described as a feature output,
  ``"quality score"`` (tflite-support wrote one description for two outputs and
  failed when populating, tensorflow #62971);
* the caller's descriptions are never modified (tflite-support set
  ``output_md.associated_files``);
* the mean and std are checked as the image classifier's (a std of 0, NaN …).
"""

from __future__ import annotations

import argparse
import enum
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union, cast

from ..errors import MetadataValidationError, UsageError
from ..fileio import PathLike
from ..format import metadata_schema as schema
from ..format.codec import codec_for
from ..format.custom_metadata import SEGMENTER_METADATA_NAME, SEGMENTER_SCHEMA
from ..format.flatbuf import BufferLike
from ..format.flatc_module import api as _fb
from ..format.model_schema import TensorType, tensor_type_name
from ..model.populate import file_name
from ..model.reader import model_bytes
from . import Task
from .base import (
    AssociatedFileMd,
    AssociatedFileSource,
    CustomMetadataMd,
    GeneralMd,
    LabelFileMd,
    MetadataWriter,
    MetadataWriterBase,
    ModelSource,
    TensorMd,
    require_attributes,
)
from .classification import add_label_file_arguments, label_file_md, label_files_in_spec
from .image_input import (
    IMAGE_PROPERTIES,
    RGB,
    InputImageTensorMd,
    add_image_arguments,
    check_image_input_metadata,
    check_image_model,
    image_input_md,
    merge_image_arguments,
)
from .rules import (
    BOTH,
    LABELS_FILE,
    MEDIAPIPE,
    TASK_LIBRARY,
    Checker,
    Code,
    Tensor,
    label_counts,
    plural,
    quoted,
    shape_text,
)
from .spec import GENERAL_KEYS, Spec, general_md
from .writer_utils import get_input_tensor_types, get_output_tensor_names

__all__ = [
    "FEATURE_OUTPUT_DESCRIPTION",
    "FEATURE_OUTPUT_NAME",
    "INPUT_DESCRIPTION",
    "INPUT_NAME",
    "MODEL_DESCRIPTION",
    "OUTPUT_DESCRIPTION",
    "OUTPUT_NAME",
    "Activation",
    "ImageSegmenterOptionsMd",
    "ImageSegmenterWriter",
    "MediaPipeImageSegmenterWriter",
    "SegmentationMaskMd",
]

# The names and descriptions tflite-support's image segmenter writer gives.
_MODEL_NAME = "ImageSegmenter"
MODEL_DESCRIPTION = (
    "Semantic image segmentation predicts whether each pixel of an image is associated "
    "with a certain class."
)
INPUT_NAME = "image"
INPUT_DESCRIPTION = "Input image to be segmented."
OUTPUT_NAME = "segmentation_masks"
OUTPUT_DESCRIPTION = "Masks over the target objects with high accuracy."
# MediaPipe's writer's, for the first of two outputs.
FEATURE_OUTPUT_NAME = "quality score"
FEATURE_OUTPUT_DESCRIPTION = "The quality score of matting result."

_GRAYSCALE = dict(schema.ENUMS["ColorSpaceType"].values)["GRAYSCALE"]

#: The Task Library stores a class index in 8 bits: at most 256 classes.
MAX_CLASSES = 256


class SegmentationMaskMd(TensorMd):
    """A container for the segmentation masks tensor metadata information.

    The masks are ``[1, height, width, classes]``: one grayscale image per
    class, whose dimensions 1 to 2 are the image (the content range). As
    MediaPipe's ``SegmentationMaskMd``.

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        label_files: the :class:`LabelFileMd` of the classes (copied, not modified).
        tensor_name: name of the corresponding tensor in the model.
    """

    #: The dimensions of the output that hold the image (height and width).
    CONTENT_DIM_MIN = 1
    CONTENT_DIM_MAX = 2

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        label_files: Optional[list[LabelFileMd]] = None,
        tensor_name: Optional[str] = None,
    ) -> None:
        super().__init__(
            name,
            description,
            content_type=_fb.ContentProperties.ImageProperties,
            associated_files=list(label_files or []),
            tensor_name=tensor_name,
        )

    def create_metadata(self) -> Any:
        """Create the segmentation masks metadata (see :func:`segmentation_masks_metadata`)."""
        return segmentation_masks_metadata(self)


def segmentation_masks_metadata(masks_md: Any) -> Any:
    """The ``TensorMetadataT`` of ``masks_md`` (any ``TensorMd``) as segmentation masks.

    Its content becomes ``ImageProperties`` GRAYSCALE over the dimensions 1 to 2,
    whatever ``masks_md`` describes; the rest (name, description, stats,
    associated files, process units) is what its own ``create_metadata()`` gives,
    as in tflite-support. ``masks_md`` is not modified.
    """
    if isinstance(masks_md, SegmentationMaskMd):
        metadata = TensorMd.create_metadata(masks_md)
    else:
        metadata = masks_md.create_metadata()
    properties = _fb.ImagePropertiesT()
    properties.colorSpace = _fb.ColorSpaceType.GRAYSCALE
    dim_range = _fb.ValueRangeT()
    dim_range.min = SegmentationMaskMd.CONTENT_DIM_MIN
    dim_range.max = SegmentationMaskMd.CONTENT_DIM_MAX
    content = _fb.ContentT()
    content.contentProperties = properties
    content.contentPropertiesType = _fb.ContentProperties.ImageProperties
    content.range = dim_range
    metadata.content = content
    return metadata


def segmenter_metadata_json(metadata_buffer: BufferLike) -> str:
    """MediaPipe's ``image_segmenter.convert_to_json``: the JSON, ``SEGMENTER_METADATA`` decoded.

    Raises:
        MetadataFormatError: the buffer or its ``SEGMENTER_METADATA`` is malformed.
    """
    from ..model.display import custom_metadata_json

    return custom_metadata_json(metadata_buffer, {SEGMENTER_METADATA_NAME: SEGMENTER_SCHEMA})


class Activation(enum.Enum):
    """The activation of a segmenter's output layer (MediaPipe's ``image_segmenter.Activation``)."""

    NONE = 0
    SIGMOID = 1
    SOFTMAX = 2


class ImageSegmenterOptionsMd(CustomMetadataMd):
    """The ``SEGMENTER_METADATA`` custom metadata: the output layer's activation (MediaPipe's).

    Args:
        activation: the :class:`Activation`.
    """

    _METADATA_FILE_IDENTIFIER = SEGMENTER_SCHEMA.file_identifier

    def __init__(self, activation: Activation) -> None:
        self.activation = activation
        super().__init__(name=SEGMENTER_METADATA_NAME)

    def options_buffer(self) -> bytes:
        """The ``ImageSegmenterOptions`` FlatBuffer (identifier ``V001``), as MediaPipe packs it.

        Raises:
            MetadataValidationError: the activation is not an :class:`Activation`
                (MediaPipe raises ``AttributeError``).
        """
        value = getattr(self.activation, "value", None)
        if not isinstance(self.activation, Activation):
            raise MetadataValidationError(
                f"activation should be an Activation (NONE, SIGMOID or SOFTMAX), "
                f"got {self.activation!r}"
            )
        segmenter = codec_for(SEGMENTER_SCHEMA)
        options: Any = segmenter.objects["ImageSegmenterOptions"]()
        options.activation = value
        return segmenter.encode(options, self._METADATA_FILE_IDENTIFIER)

    def create_metadata(self) -> Any:
        """The ``CustomMetadataT`` named ``SEGMENTER_METADATA`` holding the options' FlatBuffer."""
        return self._custom_metadata(self.options_buffer())


class MediaPipeImageSegmenterWriter(MetadataWriterBase):
    """MediaPipe's ``image_segmenter.MetadataWriter``: an image segmenter.

    The image input, then, for a model with two outputs, the quality score
    (a feature output) and the masks. An ``activation`` is written as
    ``SEGMENTER_METADATA`` custom metadata. As MediaPipe's, ``populate()`` gives the JSON
    of ``convert_to_json`` asked to decode ``SEGMENTER_METADATA``
    (``json.dumps(..., indent=2)``).
    """

    CUSTOM_METADATA_NAMES = (SEGMENTER_METADATA_NAME,)

    @classmethod
    def create(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: list[float],
        input_norm_std: list[float],
        labels: Optional[Any] = None,
        activation: Optional[Activation] = None,
    ) -> MediaPipeImageSegmenterWriter:
        """A writer for an image segmenter.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean of the input's normalization.
            input_norm_std: the std of the input's normalization.
            labels: the classes' ``Labels``, if any.
            activation: the output layer's :class:`Activation`, written as
                ``SEGMENTER_METADATA`` custom metadata; None: none written.

        Raises:
            MetadataValidationError: the activation is not an :class:`Activation`,
                or as the builder's ``add_*`` methods.
        """
        from .builder import MetadataWriter as Builder

        model = model_bytes(model_buffer)
        writer = Builder(model)
        writer.task = ImageSegmenterWriter.task
        writer.add_general_info(_MODEL_NAME, MODEL_DESCRIPTION)
        writer.add_image_input(input_norm_mean, input_norm_std)
        if activation is not None:
            options_md = ImageSegmenterOptionsMd(activation)
            options_md.options_buffer()  # a bad activation is reported here
            writer.add_custom_metadata(options_md)
        if len(get_output_tensor_names(model)) == 2:
            writer.add_feature_output(FEATURE_OUTPUT_NAME, FEATURE_OUTPUT_DESCRIPTION)
        writer.add_segmentation_output(labels=labels)
        return cls(writer)


class ImageSegmenterWriter(MetadataWriter):
    """Writes metadata into an image segmenter (tflite-support's ``MetadataWriter``)."""

    task = "image-segmenter"

    @classmethod
    def create_from_metadata_info(  # type: ignore[override]
        cls,
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[InputImageTensorMd] = None,
        output_md: Optional[TensorMd] = None,
        *,
        feature_output_md: Optional[TensorMd] = None,
        activation: Optional[Activation] = None,
    ) -> ImageSegmenterWriter:
        """Create a writer from the descriptions of the model's tensors.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: tflite-support's
                name and description).
            input_md: the input image (default: ``"image"``, RGB, no normalization).
            output_md: the segmentation masks, ``[1, height, width, classes]``, with
                the label files among its associated files (default: tflite-support's
                name and description, no labels). Whatever content it describes, the
                output is written as segmentation masks (GRAYSCALE images).
            feature_output_md: (keyword only) for a model with two outputs, the
                other output (default: MediaPipe's ``"quality score"``).
            activation: (keyword only) the output layer's :class:`Activation`,
                written as MediaPipe's ``SEGMENTER_METADATA`` custom metadata; None:
                none written.

        The masks are the model's last output (where MediaPipe reads them), or
        the one ``output_md.tensor_name`` names.

        Returns:
            A writer whose associated files are those of ``output_md``.

        Raises:
            MetadataValidationError: the model has no output, or more than two;
                ``output_md.tensor_name`` names no output; a description is not one.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        if general_md is None:
            general_md = GeneralMd(name=_MODEL_NAME, description=MODEL_DESCRIPTION)
        if input_md is None:
            input_md = InputImageTensorMd(
                name=INPUT_NAME, description=INPUT_DESCRIPTION, color_space_type=RGB
            )
        if output_md is None:
            output_md = TensorMd(name=OUTPUT_NAME, description=OUTPUT_DESCRIPTION)
        require_attributes([general_md], ("create_metadata",), "GeneralMd", "general_md")
        require_attributes([input_md], ("create_metadata",), "InputImageTensorMd", "input_md")
        require_attributes([output_md], ("create_metadata",), "TensorMd", "output_md")
        output_names = get_output_tensor_names(model)
        masks = _masks_position(output_names, getattr(output_md, "tensor_name", None))
        output_metadata = []
        for position in range(len(output_names)):
            if position == masks:
                output_metadata.append(segmentation_masks_metadata(output_md))
                continue
            feature = feature_output_md
            if feature is None:
                feature = TensorMd(name=FEATURE_OUTPUT_NAME, description=FEATURE_OUTPUT_DESCRIPTION)
            require_attributes([feature], ("create_metadata",), "TensorMd", "feature_output_md")
            output_metadata.append(feature.create_metadata())
        associated_files: list[AssociatedFileSource] = list(
            getattr(output_md, "associated_files", None) or []
        )
        if feature_output_md is not None:
            associated_files.extend(getattr(feature_output_md, "associated_files", None) or [])
        custom_metadata = None
        if activation is not None:
            custom_metadata = [ImageSegmenterOptionsMd(activation).create_metadata()]
        writer = cls.create_from_metadata(
            model,
            model_metadata=general_md.create_metadata(),
            input_metadata=[input_md.create_metadata()],
            output_metadata=output_metadata,
            associated_files=associated_files,
            custom_metadata=custom_metadata,
        )
        return cast(ImageSegmenterWriter, writer)

    @classmethod
    def create_for_inference(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: Optional[Sequence[float]],
        input_norm_std: Optional[Sequence[float]],
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
    ) -> ImageSegmenterWriter:
        """Create the metadata the Task Library and MediaPipe need for inference.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean used to normalize the input, one value (for
                every channel) or one per channel: the model's input is
                ``(pixel - mean) / std``. Needed for a FLOAT32 input.
            input_norm_std: the std, as many values as the mean.
            label_file_paths: the label files of the masks' classes, one per
                locale: paths, or :class:`LabelFileMd`. Empty if there are none.

        Returns:
            A writer: the input is RGB, its stats follow its tensor type (see
            :class:`InputImageTensorMd`); the masks have no stats.

        Raises:
            MetadataValidationError: the mean and std are invalid (see
                :class:`InputImageTensorMd`); the model has no input, no output or
                more than two outputs; ``label_file_paths`` is a single path.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        input_types = get_input_tensor_types(model)
        if not input_types:
            raise MetadataValidationError(
                "The model has no input tensor (an image segmenter has one: the image)."
            )
        if isinstance(label_file_paths, (str, os.PathLike)):
            raise MetadataValidationError(
                "label_file_paths should be a list of label files, but got a single path; "
                "wrap it in a list."
            )
        input_md = InputImageTensorMd(
            name=INPUT_NAME,
            description=INPUT_DESCRIPTION,
            norm_mean=input_norm_mean,
            norm_std=input_norm_std,
            color_space_type=RGB,
            tensor_type=input_types[0],
        )
        label_files: list[AssociatedFileMd] = [
            source if isinstance(source, LabelFileMd) else LabelFileMd(file_path=source)
            for source in label_file_paths or []
        ]
        output_md = TensorMd(
            name=OUTPUT_NAME, description=OUTPUT_DESCRIPTION, associated_files=label_files
        )
        return cls.create_from_metadata_info(model, input_md=input_md, output_md=output_md)


def _masks_position(output_names: list[str], tensor_name: Optional[str]) -> int:
    """Which output holds the masks: the one named, else the last."""
    if not output_names:
        raise MetadataValidationError(
            "The model has no output tensor (an image segmenter has one: the segmentation "
            "masks, [1, height, width, classes])."
        )
    if len(output_names) > 2:
        raise MetadataValidationError(
            f"The model has {len(output_names)} outputs ({', '.join(map(repr, output_names))}); "
            "an image segmenter has one (the segmentation masks) or two (a quality score, then "
            "the masks, as MediaPipe reads them)."
        )
    if tensor_name is None:
        return len(output_names) - 1
    if tensor_name not in output_names:
        raise MetadataValidationError(
            f"output_md.tensor_name is {tensor_name!r}, but the model's outputs are "
            f"{', '.join(map(repr, output_names))}."
        )
    return output_names.index(tensor_name)


# -- the consumers' rules ------------------------------------------------------------------------
# The Task Library ImageSegmenter of tflite-support 0.4.4 (image_segmenter.cc, with the
# image input of base_vision_task_api.h and image_tensor_specs.cc, label_map_item.cc) and
# MediaPipe's ImageSegmenter (image_segmenter_graph.cc, tensors_to_segmentation_calculator.cc,
# image_utils.cc, with the image input of image_tensor_specs.cc). Measured with
# tflite-support 0.4.4 and mediapipe 1.2.2: neither compares the number of labels with
# the classes (5, 21, 30 and 300 labels for DeepLab v3's 21 classes all segment), so
# ``output_classes`` is None and only an empty label file is a problem.


def _has_image_properties(tensor_metadata: Any, color_space: Optional[int] = None) -> bool:
    content = getattr(tensor_metadata, "content", None)
    if content is None or content.contentPropertiesType != IMAGE_PROPERTIES:
        return False
    properties = content.contentProperties
    return color_space is None or int(getattr(properties, "colorSpace", 0) or 0) == color_space


def _recognizes(metadata: Any) -> bool:
    """An image on the first input and a GRAYSCALE image (the masks) on an output."""
    subgraphs = metadata.subgraphMetadata or []
    if not subgraphs:
        return False
    inputs = subgraphs[0].inputTensorMetadata or []
    outputs = subgraphs[0].outputTensorMetadata or []
    return (
        bool(inputs)
        and _has_image_properties(inputs[0])
        and any(_has_image_properties(output, _GRAYSCALE) for output in outputs)
    )


def _output_classes(tensor: Tensor) -> Optional[int]:
    """None: neither consumer counts a segmenter's labels (measured, see above)."""
    return None


def _check_model(checker: Checker) -> None:
    # MediaPipe's segmenter also takes a FLOAT32 4-channel input, fed from RGBA images
    # (its legacy preprocessing, which makes float tensors only: a UINT8 one fails).
    inputs = checker.model.inputs
    four_channels = (TASK_LIBRARY,) if inputs and inputs[0].type == TensorType.FLOAT32 else BOTH
    check_image_model(
        checker, "image segmenters", "segment", four_channels_refused_by=four_channels
    )
    outputs = checker.model.outputs
    if len(outputs) != 1:
        # MediaPipe takes a quality score, then the masks; it fails to segment otherwise.
        consumers = (TASK_LIBRARY,) if len(outputs) == 2 else BOTH
        checker.add(
            Code.OUTPUT_COUNT,
            "model",
            f"has {plural(len(outputs), 'output')}; the Task Library needs exactly 1 (the "
            "segmentation masks), MediaPipe 1 or 2 (a quality score, then the masks)",
            consumers,
        )
    if outputs:
        _check_masks_tensor(checker, outputs[-1])
    if len(outputs) == 2 and outputs[1].type in _QUANTIZED and outputs[0].type not in _QUANTIZED:
        # Quantized masks make MediaPipe dequantize every output; it takes only these types.
        checker.add(
            Code.OUTPUT_TYPE,
            f"output {outputs[0].index}",
            f"tensor {quoted(outputs[0].name)} has type {tensor_type_name(outputs[0].type)} "
            f"and the masks {tensor_type_name(outputs[1].type)}; with quantized masks, "
            "MediaPipe dequantizes every output and needs UINT8, INT8 or BOOL",
            (MEDIAPIPE,),
        )


#: The masks' types that make MediaPipe dequantize the outputs (``ContainsQuantizedOutputTensor``).
_QUANTIZED = (TensorType.UINT8, TensorType.INT8, TensorType.BOOL)


def _check_masks_tensor(checker: Checker, tensor: Tensor) -> None:
    """The masks: where both consumers read them, the last output."""
    where = f"output {tensor.index}"
    if tensor.type not in (TensorType.FLOAT32, TensorType.UINT8):
        # MediaPipe dequantizes an INT8 output as a UINT8 one.
        consumers = (TASK_LIBRARY,) if tensor.type == TensorType.INT8 else BOTH
        checker.add(
            Code.OUTPUT_TYPE,
            where,
            f"tensor {quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; image "
            "segmenters need FLOAT32 or UINT8",
            consumers,
        )
    shape = tensor.shape
    if len(shape) != 4:
        # MediaPipe reads [height, width] as one class, but makes as many confidence masks
        # (by default) as the last dimension: it fails unless that is 1.
        consumers = (
            (TASK_LIBRARY,) if len(shape) == 3 or (len(shape) == 2 and shape[1] == 1) else BOTH
        )
        checker.add(
            Code.OUTPUT_SHAPE,
            where,
            f"shape {shape_text(shape)} has {plural(len(shape), 'dimension')}; the Task "
            "Library needs 4: [1, height, width, classes] (MediaPipe also takes [height, "
            "width, classes], and [height, width] only for a width of 1: it makes a "
            "confidence mask per value of the last dimension)",
            consumers,
        )
        return
    if shape[0] != 1:
        checker.add(
            Code.OUTPUT_SHAPE,
            where,
            f"shape {shape_text(shape)} has a batch of {shape[0]}; the Task Library needs 1",
            (TASK_LIBRARY,),
        )
    if shape[3] > MAX_CLASSES:
        checker.add(
            Code.OUTPUT_SHAPE,
            where,
            f"shape {shape_text(shape)} has {shape[3]} classes; the Task Library takes at most "
            f"{MAX_CLASSES} (it stores a class index in a byte)",
            (TASK_LIBRARY,),
        )


def _check_metadata(checker: Checker) -> None:
    check_image_input_metadata(checker, "image segmenters")
    outputs = checker.tensor_metadata("output")
    if outputs is None:
        return
    if len(outputs) != 1:
        checker.add(
            Code.OUTPUT_COUNT,
            "metadata",
            f"describes {plural(len(outputs), 'output tensor')}; the Task Library needs "
            "exactly 1 (MediaPipe reads the last)",
            (TASK_LIBRARY,),
        )
    if outputs and checker.model.outputs:
        _check_display_names(checker, outputs[-1], checker.model.outputs[-1])
    _check_segmenter_metadata(checker)


def _check_segmenter_metadata(checker: Checker) -> None:
    """MediaPipe reads SEGMENTER_METADATA unverified, and refuses an unknown activation.

    (image_segmenter_graph.cc: ``GetImageSegmenterOptions(data)->activation()``,
    refusing a value that is not NONE, SIGMOID or SOFTMAX: measured with
    mediapipe 1.2.2, "Invalid activation type found in CustomMetadata".)
    """
    for options in checker.custom_metadata(SEGMENTER_METADATA_NAME):
        if options is None:
            continue
        value = int(options.activation)
        if value not in {member.value for member in Activation}:
            checker.add(
                Code.METADATA_MALFORMED,
                f"custom metadata {SEGMENTER_METADATA_NAME}",
                f"has activation {value}; MediaPipe takes NONE, SIGMOID or SOFTMAX (it "
                'refuses the model: "Invalid activation type")',
                (MEDIAPIPE,),
            )


def _check_display_names(checker: Checker, tensor_metadata: Any, tensor: Tensor) -> None:
    """The labels and their display names (the label file of locale "en") must match.

    The Task Library reads the first label file as the class names and the
    first of locale ``"en"`` (its default ``display_names_locale``) as the
    display names, and refuses the model when the two differ in length;
    MediaPipe's segmenter was measured to accept it (mediapipe 1.2.2).
    """
    files = [
        file
        for file in tensor_metadata.associatedFiles or []
        if file.type == LABELS_FILE and file.name is not None
    ]
    display = next((file for file in files if file.locale == b"en" or file.locale == "en"), None)
    if not files or display is None or display is files[0]:
        return
    first, names = file_name(files[0], strict=False), file_name(display, strict=False)
    labels_data = checker.read_packed(first)
    names_data = checker.read_packed(names)
    if not labels_data or not names_data:
        return  # missing, empty, or not examined: reported by the common rules
    labels, display_names = label_counts(labels_data)[0], label_counts(names_data)[0]
    if labels != display_names:
        checker.add(
            Code.LABEL_COUNT,
            f"output {tensor.index}",
            f"label file {quoted(first)} has {plural(labels, 'label')} and its display names "
            f"{quoted(names)} (locale en, the consumers' default) have {display_names}; "
            "they must have as many (MediaPipe reads no display names here)",
            (TASK_LIBRARY,),
        )


# -- the command line and spec files -----------------------------------------------------------

_OUTPUT_KEYS = frozenset(("name", "description", "tensor_name", "labels", "activation"))
_SPEC_KEYS = frozenset((*GENERAL_KEYS, "input", "output"))

_SPEC_HELP = """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "ImageSegmenter", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"name": "image", "description": "...",
              "mean": [127.5], "std": [127.5], "color_space": "RGB"},
    "output": {"tensor_name": "masks", "name": "segmentation_masks", "description": "...",
               "labels": ["labelmap.txt", {"file": "labelmap_fr.txt", "locale": "fr"},
                          {"name": "labels.txt", "labels": ["background", "person"]}],
               "activation": "SOFTMAX"}
  }
A model with two outputs (a quality score, then the masks) gets a feature description of the
first, as MediaPipe's writer gives. "activation" (NONE, SIGMOID or SOFTMAX: the output layer's,
which MediaPipe applies to the confidence masks) is written as MediaPipe's SEGMENTER_METADATA.
"""


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_image_arguments(parser, INPUT_NAME)
    group = parser.add_argument_group("segmentation masks")
    add_label_file_arguments(group, "a label file of the classes, one label a line (repeatable)")
    group.add_argument(
        "--masks-tensor",
        metavar="TENSOR",
        help="the output tensor of the masks (default: the last output)",
    )
    group.add_argument("--output-name", metavar="TEXT", help=f"default: {OUTPUT_NAME}")
    group.add_argument("--output-description", metavar="TEXT")
    group.add_argument(
        "--activation",
        type=str.upper,
        choices=[member.name for member in Activation],
        help="the output layer's activation, which MediaPipe applies to the confidence masks "
        "(written as MediaPipe's SEGMENTER_METADATA; default: none written)",
    )
    parser.set_defaults(labels=None)


def _merge_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    merge_image_arguments(args, document)
    table = document.get("output")
    if table is None:
        table = document["output"] = {}
    if not isinstance(table, dict):
        return  # reported by the spec's validation
    for option, key in (
        ("masks_tensor", "tensor_name"),
        ("output_name", "name"),
        ("output_description", "description"),
        ("activation", "activation"),
    ):
        value = getattr(args, option)
        if value is not None:
            table[key] = value
    if args.labels:
        if table.get("labels"):
            raise UsageError(
                "the label files are given twice: in the spec's output.labels and with "
                "--labels; use one or the other"
            )
        table["labels"] = label_files_in_spec(args.labels)


def _build_writer(
    model: BufferLike, document: dict[str, Any], spec: Spec, base: Optional[Path]
) -> ImageSegmenterWriter:
    document = spec.table(document, "spec", _SPEC_KEYS)
    general = general_md(spec, document, _MODEL_NAME, MODEL_DESCRIPTION)
    input_md = image_input_md(
        model, spec, document, INPUT_NAME, INPUT_DESCRIPTION, "image segmenter"
    )
    table = spec.table(document.get("output", {}), "output", _OUTPUT_KEYS)
    labels = [
        label_file_md(entry, f"output.labels[{index}]", spec, base)
        for index, entry in enumerate(spec.items(table, "labels", "output"))
    ]
    output_md = SegmentationMaskMd(
        spec.text_or(table, "name", "output", OUTPUT_NAME),
        spec.text_or(table, "description", "output", OUTPUT_DESCRIPTION),
        labels,
        spec.text(table, "tensor_name", "output"),
    )
    activation = None
    name = spec.text(table, "activation", "output")
    if name is not None:
        try:
            activation = Activation[name.upper()]
        except KeyError:
            spec.fail(
                "output.activation",
                f"expected one of {', '.join(m.name for m in Activation)}, found {name!r}",
            )
    return ImageSegmenterWriter.create_from_metadata_info(
        model, general, input_md, output_md, activation=activation
    )


TASK = Task(
    name="image-segmenter",
    writer=ImageSegmenterWriter,
    recognizes=_recognizes,
    check_model=_check_model,
    check_metadata=_check_metadata,
    add_arguments=_add_arguments,
    merge_arguments=_merge_arguments,
    build_writer=_build_writer,
    spec_help=_SPEC_HELP,
    description=(
        "Write image segmenter metadata into MODEL, as tflite-support's "
        "image_segmenter.MetadataWriter does, and save the result as OUT. OUT is checked "
        "against the rules of the Task Library and MediaPipe image segmenters first, and "
        "not written if they would refuse it (unless --no-check). A FLOAT32 input needs "
        "--mean and --std (a UINT8 input is fed as it is). The masks are the last output "
        "([1, height, width, classes]); a first output (MediaPipe's quality score) is "
        "described as a feature."
    ),
    model_name=_MODEL_NAME,
    requires_metadata=False,
    output_classes=_output_classes,
)
