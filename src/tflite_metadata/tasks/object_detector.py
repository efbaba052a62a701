"""The object detector task: tflite-support's ``object_detector`` writer.

One input image (see :mod:`.image_classifier`) and the four outputs of SSD's
post-processing (``TFLite_Detection_PostProcess``): the boxes' locations
(``[1, N, 4]``, ``BoundingBoxProperties``), their categories (``[1, N]``, with the
label map, ``TENSOR_VALUE_LABELS``), their scores (``[1, N]``, with an optional
score calibration) and the number of detections (``[1]``). The first three form
the tensor group ``detection_result``.

Example::

    writer = ObjectDetectorWriter.create_for_inference(
        model, input_norm_mean=[127.5], input_norm_std=[127.5],
        label_file_paths=["labelmap.txt"],
    )
    populated = writer.populate()

Interface and output are tflite-support 0.4.4's. The differences are on purpose:
each description goes on the output it describes (tflite-support assigns them
by tensor index): first by the caller's ``tensor_name``; then by the shapes,
where they are unambiguous (one ``[1, N, 4]`` output is the locations, one
``[1]`` output the count); the rest in tflite-support's order (by tensor index).
A model that does not have four outputs is refused with what it has
(tflite-support wrote a dangling group and dropped the label file for one
output, and raised ``KeyError`` for more than four). A location, category or
score description without a name gets its tensor's name, in the group too
(tflite-support fails to write a group naming None).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import enum
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union, cast

from ..errors import MetadataValidationError, UsageError
from ..fileio import PathLike
from ..format import codec
from ..format import metadata_schema as schema
from ..format.codec import codec_for
from ..format.custom_metadata import DETECTOR_METADATA_NAME, DETECTOR_SCHEMA
from ..format.declarations import lower_camel
from ..format.flatbuf import BufferLike
from ..format.flatc_module import api as _fb
from ..format.model_schema import TensorType, tensor_type_name
from ..model.populate import file_name
from ..model.reader import ModelView, model_bytes
from . import Task
from .base import (
    AssociatedFileSource,
    CustomMetadataMd,
    GeneralMd,
    LabelFileMd,
    MetadataWriter,
    MetadataWriterBase,
    ModelSource,
    TensorMd,
    ValueRangeMd,
    require_attributes,
)
from .classification import (
    TRANSFORMATIONS,
    CategoryTensorMd,
    ClassificationTensorMd,
    ScoreCalibrationMd,
    calibration_md,
    label_file_md,
    score_argument,
    transformation_argument,
)
from .image_input import (
    InputImageTensorMd,
    add_image_arguments,
    check_image_input_metadata,
    check_input_tensor,
    has_image_properties,
    image_input_md,
    merge_image_arguments,
)
from .rules import (
    BOTH,
    CALIBRATION_FILE,
    MEDIAPIPE,
    SCORE_CALIBRATION_UNIT,
    TASK_LIBRARY,
    Checker,
    Code,
    calibration_entry_count,
    label_counts,
    plural,
    quoted,
    shape_text,
)
from .spec import GENERAL_KEYS, Spec, command_line_path, general_md, json_type, resolve
from .writer_utils import get_input_tensor_types, get_output_tensor_names

__all__ = [
    "BOUNDING_BOX_INDEX",
    "GROUP_NAME",
    "ROLES",
    "DetectionOutputTensorsMd",
    "FixedAnchor",
    "FixedAnchorsSchema",
    "LocationTensorMd",
    "MediaPipeObjectDetectorWriter",
    "ObjectDetectorOptionsMd",
    "ObjectDetectorWriter",
    "RawDetectionOutputTensorsMd",
    "RawDetectionOutputTensorsOrder",
    "SsdAnchorsOptions",
    "TensorsDecodingOptions",
    "assign_outputs",
]

# The names and descriptions tflite-support's object detector writer gives. The
# Task Library finds the outputs by these names (in the metadata).
_MODEL_NAME = "ObjectDetector"
_MODEL_DESCRIPTION = (
    "Identify which of a known set of objects might be present and provide information "
    "about their positions within the given image or a video stream."
)
_INPUT_NAME = "image"
_INPUT_DESCRIPTION = "Input image to be detected."
_LOCATION_NAME = "location"
_LOCATION_DESCRIPTION = "The locations of the detected boxes."
_CATEGORY_NAME = "category"
_CATEGORY_DESCRIPTION = "The categories of the detected boxes."
_SCORE_NAME = "score"
_SCORE_DESCRIPTION = "The scores of the detected boxes."
_NUMBER_NAME = "number of detections"
_NUMBER_DESCRIPTION = "The number of the detected boxes."

#: The outputs' roles, in the order of the post-processing op's ports.
ROLES = ("location", "category", "score", "number of detections")
#: The order of the box's coordinates in a location: [top, left, bottom, right].
BOUNDING_BOX_INDEX = (1, 0, 3, 2)
#: The tensor group of the location, category and score outputs.
GROUP_NAME = "detection_result"
#: The dimension of a location, category and score tensor that holds the boxes' values.
_CONTENT_VALUE_DIM = 2


def _location_shape(shape: Sequence[int]) -> bool:
    return len(shape) == 3 and shape[2] == 4 and shape[0] in (1, -1)


def _count_shape(shape: Sequence[int]) -> bool:
    return len(shape) == 1 and shape[0] == 1


def _per_box_shape(shape: Sequence[int]) -> bool:
    return len(shape) == 2


#: For each role of :data:`ROLES`, the shapes that may be it.
_ROLE_FITS = (_location_shape, _per_box_shape, _per_box_shape, _count_shape)


def _may_be(role: int, shape: Sequence[int]) -> bool:
    """Whether an output of ``shape`` may be ``role`` (any output without a static shape may)."""
    return not shape or _ROLE_FITS[role](shape)


def _outputs_text(names: Sequence[str], shapes: Sequence[Sequence[int]]) -> str:
    return ", ".join(
        f"{name!r} {list(shape) if shape else '(no static shape)'}"
        for name, shape in zip(names, shapes)
    )


def assign_outputs(
    names: Sequence[str],
    shapes: Sequence[Sequence[int]],
    tensor_indices: Sequence[int],
    tensor_names: Sequence[Optional[str]] = (None, None, None, None),
) -> list[int]:
    """Which output (its position in the subgraph's outputs) each role of :data:`ROLES` is.

    First the caller's ``tensor_names`` (one per role, None: not given); then
    the shapes, where one output alone has the shape of a role (``[1, N, 4]``:
    the locations; ``[1]``: the count); the roles left get the outputs left in
    tflite-support's order: the lowest tensor index is the locations, then the
    categories, the scores, the count (the order of the post-processing op's
    outputs), skipping outputs whose static shape cannot be the role (a ``[1, N]``
    output is never given the locations while an output without shape is left).

    Args:
        names: the model's output tensor names.
        shapes: their shapes (empty when the model has no static shape).
        tensor_indices: their indices in the subgraph's tensors.
        tensor_names: the tensor names the caller gave each role.

    Returns:
        For each role, its position in the outputs.

    Raises:
        MetadataValidationError: the model does not have four outputs, or a
            name given is not one of its outputs or is given twice.
    """
    if len(names) != len(ROLES):
        raise MetadataValidationError(
            f"An object detector has 4 outputs (location [1, N, 4], category [1, N], score "
            f"[1, N], number of detections [1], as SSD's TFLite_Detection_PostProcess writes "
            f"them), but the model has {len(names)}: "
            f"{_outputs_text(names, shapes) or 'none'}. Export the model with the "
            "post-processing op (a model with raw box and class outputs needs it added)."
        )
    assigned: dict[int, int] = {}
    for role, name in enumerate(tensor_names):
        if name is None:
            continue
        matches = [position for position, found in enumerate(names) if found == name]
        if len(matches) != 1:
            what = "is not an output of the model" if not matches else "names several outputs"
            raise MetadataValidationError(
                f"The {ROLES[role]} description's tensor_name {name!r} {what}; the outputs "
                f"are {_outputs_text(names, shapes)}."
            )
        if matches[0] in assigned.values():
            raise MetadataValidationError(
                f"The tensor_name {name!r} is given to two descriptions; each output is "
                "described once."
            )
        assigned[role] = matches[0]
    free = [position for position in range(len(names)) if position not in assigned.values()]
    for role, fits in ((0, _location_shape), (3, _count_shape)):
        if role in assigned:
            continue
        fitting = [position for position, shape in enumerate(shapes) if fits(shape)]
        if len(fitting) == 1 and fitting[0] in free:
            assigned[role] = fitting[0]
            free.remove(fitting[0])
    free.sort(key=lambda position: tensor_indices[position])
    for role in range(len(ROLES)):
        if role not in assigned:
            fitting = [position for position in free if _may_be(role, shapes[position])]
            assigned[role] = (fitting or free)[0]
            free.remove(assigned[role])
    return [assigned[role] for role in range(len(ROLES))]


def _value_range() -> Any:
    value_range = _fb.ValueRangeT()
    value_range.min = _CONTENT_VALUE_DIM
    value_range.max = _CONTENT_VALUE_DIM
    return value_range


def _bounding_box_content(value_range: Any) -> Any:
    """The content of a location output: boxes as [top, left, bottom, right] ratios."""
    content = _fb.ContentT()
    content.contentPropertiesType = _fb.ContentProperties.BoundingBoxProperties
    properties = _fb.BoundingBoxPropertiesT()
    properties.index = list(BOUNDING_BOX_INDEX)
    properties.type = _fb.BoundingBoxType.BOUNDARIES
    properties.coordinateType = _fb.CoordinateType.RATIO
    content.contentProperties = properties
    content.range = value_range
    return content


def _location_metadata(md: TensorMd) -> Any:
    metadata = md.create_metadata()
    metadata.content = _bounding_box_content(_value_range())
    return metadata


def _ranged_metadata(md: TensorMd) -> Any:
    metadata = md.create_metadata()
    content = copy.copy(metadata.content) if metadata.content is not None else _fb.ContentT()
    content.range = _value_range()
    metadata.content = content
    return metadata


# -- MediaPipe's descriptions of detector outputs -------------------------------------------------


class LocationTensorMd(TensorMd):
    """A container for the detection location tensor metadata information (MediaPipe's).

    Its content is ``BoundingBoxProperties``: boxes as [top, left, bottom,
    right] ratios (``BOUNDARIES``, ``RATIO``), over the dimensions of
    ``content_range_md`` if given.

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        content_range_md: the content's :class:`ValueRangeMd`, if any.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        content_range_md: Optional[ValueRangeMd] = None,
    ) -> None:
        super().__init__(name=name, description=description, content_range_md=content_range_md)

    def create_metadata(self) -> Any:
        """Create the detection location tensor metadata."""
        metadata = super().create_metadata()
        value_range = self.content_range_md.create_metadata() if self.content_range_md else None
        metadata.content = _bounding_box_content(value_range)
        return metadata


def _output_tensors(model: BufferLike) -> tuple[list[str], list[Any], list[int]]:
    tensors = ModelView(model).outputs()
    return (
        [tensor.name for tensor in tensors],
        [tensor.shape for tensor in tensors],
        [tensor.index for tensor in tensors],
    )


class DetectionOutputTensorsMd:
    """The four output descriptions of a detector with post-processing (MediaPipe's).

    Location, category (with the label files), score (with the calibration)
    and number of detections, each with the ``tensor_name`` of the output it
    describes, found as :func:`assign_outputs` does: by the shapes where they
    tell, else in tensor index order (MediaPipe's only rule).

    Args:
        model_buffer: the model (bytes, bytearray, memoryview or a path).
        label_files: the label map's :class:`LabelFileMd` (``TENSOR_VALUE_LABELS``).
        score_calibration_md: the score calibration, if any.

    Raises:
        MetadataValidationError: the model does not have four outputs.
        ModelFormatError: the model cannot be read.
    """

    _LOCATION_NAME = _LOCATION_NAME
    _LOCATION_DESCRIPTION = _LOCATION_DESCRIPTION
    _CATRGORY_NAME = _CATEGORY_NAME
    _CATEGORY_DESCRIPTION = _CATEGORY_DESCRIPTION
    _SCORE_NAME = _SCORE_NAME
    _SCORE_DESCRIPTION = _SCORE_DESCRIPTION
    _NUMBER_NAME = _NUMBER_NAME
    _NUMBER_DESCRIPTION = _NUMBER_DESCRIPTION
    _CONTENT_VALUE_DIM = _CONTENT_VALUE_DIM

    def __init__(
        self,
        model_buffer: ModelSource,
        label_files: Optional[list[LabelFileMd]] = None,
        score_calibration_md: Optional[ScoreCalibrationMd] = None,
    ) -> None:
        content_range_md = ValueRangeMd(_CONTENT_VALUE_DIM, _CONTENT_VALUE_DIM)
        output_mds: list[TensorMd] = [
            LocationTensorMd(_LOCATION_NAME, _LOCATION_DESCRIPTION, content_range_md),
            CategoryTensorMd(_CATEGORY_NAME, _CATEGORY_DESCRIPTION, label_files, content_range_md),
            ClassificationTensorMd(
                _SCORE_NAME,
                _SCORE_DESCRIPTION,
                score_calibration_md=score_calibration_md,
                content_range_md=content_range_md,
            ),
            TensorMd(_NUMBER_NAME, _NUMBER_DESCRIPTION),
        ]
        names, shapes, indices = _output_tensors(model_bytes(model_buffer))
        for md, position in zip(output_mds, assign_outputs(names, shapes, indices)):
            md.tensor_name = names[position]
        self._output_mds = output_mds

    @property
    def output_mds(self) -> list[TensorMd]:
        """Location, category, score and number of detections, in this order."""
        return list(self._output_mds)


class RawDetectionOutputTensorsOrder(enum.Enum):
    """The order of the two outputs of a detector without post-processing (MediaPipe's).

    ``UNSPECIFIED`` finds it from the shapes: the locations are ``[1, N, 4]``
    (MediaPipe's writer refused it).
    """

    UNSPECIFIED = 0
    #: The first output is the scores, the second the locations.
    SCORE_LOCATION = 1
    #: The first output is the locations, the second the scores.
    LOCATION_SCORE = 2


class RawDetectionOutputTensorsMd:
    """The two output descriptions of a detector without post-processing (MediaPipe's).

    Location and score (with the label files), each with the ``tensor_name`` of
    the output it describes.

    Args:
        model_buffer: the model (bytes, bytearray, memoryview or a path).
        label_files: the classes' :class:`LabelFileMd`.
        output_tensors_order: the outputs' order; ``UNSPECIFIED`` (the default)
            reads it from the shapes: the one ``[1, N, 4]`` output is the locations.

    Raises:
        MetadataValidationError: the model does not have two outputs, the order
            is not a :class:`RawDetectionOutputTensorsOrder`, or it is
            ``UNSPECIFIED`` and the shapes do not tell.
        ModelFormatError: the model cannot be read.
    """

    _LOCATION_NAME = _LOCATION_NAME
    _LOCATION_DESCRIPTION = _LOCATION_DESCRIPTION
    _SCORE_NAME = _SCORE_NAME
    _SCORE_DESCRIPTION = _SCORE_DESCRIPTION
    _CONTENT_VALUE_DIM = _CONTENT_VALUE_DIM

    def __init__(
        self,
        model_buffer: ModelSource,
        label_files: Optional[list[LabelFileMd]] = None,
        output_tensors_order: RawDetectionOutputTensorsOrder = (
            RawDetectionOutputTensorsOrder.UNSPECIFIED
        ),
    ) -> None:
        names, shapes, _ = _output_tensors(model_bytes(model_buffer))
        location_md = LocationTensorMd(_LOCATION_NAME, _LOCATION_DESCRIPTION)
        score_md = ClassificationTensorMd(_SCORE_NAME, _SCORE_DESCRIPTION, label_files=label_files)
        if not isinstance(output_tensors_order, RawDetectionOutputTensorsOrder):
            raise MetadataValidationError(
                f"Unsupported OutputTensorsOrder value: {output_tensors_order}; expected a "
                "RawDetectionOutputTensorsOrder."
            )
        if len(names) != 2:
            raise MetadataValidationError(
                "The size of TFLite output should be 2 (the locations and the scores of a "
                f"detector without post-processing), but the model has {len(names)}: "
                f"{_outputs_text(names, shapes) or 'none'}."
            )
        order = output_tensors_order
        if order is RawDetectionOutputTensorsOrder.UNSPECIFIED:
            boxes = [position for position, shape in enumerate(shapes) if _raw_boxes_shape(shape)]
            if len(boxes) != 1:
                raise MetadataValidationError(
                    "Cannot tell the locations from the scores by their shapes (the locations "
                    f"are the one output [1, N, 4]): {_outputs_text(names, shapes)}. Give "
                    "output_tensors_order (SCORE_LOCATION or LOCATION_SCORE)."
                )
            order = (
                RawDetectionOutputTensorsOrder.LOCATION_SCORE
                if boxes[0] == 0
                else RawDetectionOutputTensorsOrder.SCORE_LOCATION
            )
        output_mds: list[TensorMd] = (
            [score_md, location_md]
            if order is RawDetectionOutputTensorsOrder.SCORE_LOCATION
            else [location_md, score_md]
        )
        for md, name in zip(output_mds, names):
            md.tensor_name = name
        self._output_mds = output_mds

    @property
    def output_mds(self) -> list[TensorMd]:
        """The two descriptions, in the model's output order."""
        return list(self._output_mds)


def _raw_boxes_shape(shape: Sequence[int]) -> bool:
    return len(shape) == 3 and shape[2] == 4


def detector_metadata_json(metadata_buffer: BufferLike) -> str:
    """MediaPipe's ``object_detector.convert_to_json``: the JSON, ``DETECTOR_METADATA`` decoded.

    Raises:
        MetadataFormatError: the buffer or its ``DETECTOR_METADATA`` is malformed.
    """
    from ..model.display import custom_metadata_json

    return custom_metadata_json(metadata_buffer, {DETECTOR_METADATA_NAME: DETECTOR_SCHEMA})


# -- MediaPipe's DETECTOR_METADATA: a detector without post-processing -------------------------


@dataclasses.dataclass
class FixedAnchor:
    """A fixed size anchor (MediaPipe's): its center and size, as ratios of the image."""

    x_center: float
    y_center: float
    width: Optional[float]
    height: Optional[float]


@dataclasses.dataclass
class FixedAnchorsSchema:
    """The schema for a list of anchors with fixed size (MediaPipe's)."""

    anchors: list[FixedAnchor]


@dataclasses.dataclass
class SsdAnchorsOptions:
    """The SSD anchors options used in an object detector model (MediaPipe's)."""

    fixed_anchors_schema: Optional[FixedAnchorsSchema]


@dataclasses.dataclass
class TensorsDecodingOptions:
    """How MediaPipe decodes a detector's raw output tensors into detections (MediaPipe's).

    Attributes:
        num_classes: the number of classes the model predicts.
        num_boxes: the number of boxes the model predicts (one per anchor).
        num_coords: the values per box (box, keypoints …).
        keypoint_coord_offset: the offset of the keypoints' coordinates in a box.
        num_keypoints: the number of keypoints.
        num_values_per_keypoint: the values of each keypoint.
        x_scale: SSD's decoding scale of the center's x.
        y_scale: SSD's decoding scale of the center's y.
        w_scale: SSD's decoding scale of the width.
        h_scale: SSD's decoding scale of the height.
        apply_exponential_on_box_size: whether the box size is exponentiated.
        sigmoid_score: whether the scores go through a sigmoid.
    """

    num_classes: int
    num_boxes: int
    num_coords: int
    keypoint_coord_offset: int
    num_keypoints: int
    num_values_per_keypoint: int
    x_scale: float
    y_scale: float
    w_scale: float
    h_scale: float
    apply_exponential_on_box_size: bool
    sigmoid_score: bool


#: TensorsDecodingOptions' attributes and the schema's fields, in order.
DECODING_FIELDS = tuple(f.name for f in dataclasses.fields(TensorsDecodingOptions))
#: FixedAnchor's attributes, in order.
ANCHOR_FIELDS = ("x_center", "y_center", "width", "height")


def _require_finite(value: Any, where: str) -> None:
    """A float field's value: a finite real number (NaN prints as flatc's ``nan``, not JSON)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MetadataValidationError(f"{where} should be a finite number, but got {value!r}.")


class ObjectDetectorOptionsMd(CustomMetadataMd):
    """The ``DETECTOR_METADATA`` custom metadata: anchors and decoding (MediaPipe's).

    Args:
        ssd_anchors_options: the model's SSD anchors (fixed anchors only).
        tensors_decoding_options: how to decode the model's raw outputs.

    Raises:
        MetadataValidationError: ``ssd_anchors_options`` has no fixed anchors
            (MediaPipe's message).
    """

    _METADATA_FILE_IDENTIFIER = DETECTOR_SCHEMA.file_identifier

    def __init__(
        self,
        ssd_anchors_options: SsdAnchorsOptions,
        tensors_decoding_options: TensorsDecodingOptions,
    ) -> None:
        if getattr(ssd_anchors_options, "fixed_anchors_schema", None) is None:
            raise MetadataValidationError(
                "Currently only support FixedAnchorsSchema, which cannot be found"
                " in ssd_anchors_options."
            )
        self.ssd_anchors_options = ssd_anchors_options
        self.tensors_decoding_options = tensors_decoding_options
        super().__init__(name=DETECTOR_METADATA_NAME)

    def options_buffer(self) -> bytes:
        """The ``ObjectDetectorOptions`` FlatBuffer (identifier ``V001``), as MediaPipe packs it.

        Raises:
            MetadataValidationError: an anchor or decoding option has a value of
                the wrong type or range (MediaPipe raises ``struct.error`` or
                ``TypeError``).
        """
        detector = codec_for(DETECTOR_SCHEMA)
        objects: Any = detector.objects
        anchors = []
        fixed = self.ssd_anchors_options.fixed_anchors_schema
        try:
            anchor_list = list(fixed.anchors)  # type: ignore[union-attr]
        except TypeError as exc:
            raise MetadataValidationError(
                f"fixed_anchors_schema.anchors must be a list of FixedAnchor, got "
                f"{type(getattr(fixed, 'anchors', None)).__name__}"
            ) from exc
        for index, anchor in enumerate(anchor_list):
            anchor_t = objects["FixedAnchor"]()
            for name in ANCHOR_FIELDS:
                value = getattr(anchor, name, None)
                _require_finite(value, f"anchor {index}: {name}")
                setattr(anchor_t, lower_camel(name), value)
            anchors.append(anchor_t)
        schema_t = objects["FixedAnchorsSchema"]()
        schema_t.anchors = anchors
        ssd_t = objects["SsdAnchorsOptions"]()
        ssd_t.fixedAnchorsSchema = schema_t
        decoding_t = objects["TensorsDecodingOptions"]()
        for name in DECODING_FIELDS:
            value = getattr(self.tensors_decoding_options, name, None)
            if name.endswith("_scale"):
                _require_finite(value, f"tensors_decoding_options: {name}")
            setattr(decoding_t, lower_camel(name), value)
        options_t = objects["ObjectDetectorOptions"]()
        options_t.ssdAnchorsOptions = ssd_t
        options_t.tensorsDecodingOptions = decoding_t
        return detector.encode(options_t, self._METADATA_FILE_IDENTIFIER)

    def create_metadata(self) -> Any:
        """The ``CustomMetadataT`` named ``DETECTOR_METADATA`` holding the options' FlatBuffer."""
        return self._custom_metadata(self.options_buffer())


class MediaPipeObjectDetectorWriter(MetadataWriterBase):
    """MediaPipe's ``object_detector.MetadataWriter``: detectors with and without post-processing.

    A model without post-processing (two raw outputs, boxes and scores) carries
    its SSD anchors and decoding options as ``DETECTOR_METADATA`` custom metadata.
    As MediaPipe's, ``populate()`` gives the JSON of ``convert_to_json`` asked to
    decode ``DETECTOR_METADATA`` (``json.dumps(..., indent=2)``).
    """

    CUSTOM_METADATA_NAMES = (DETECTOR_METADATA_NAME,)

    @classmethod
    def create_for_models_with_nms(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: list[float],
        input_norm_std: list[float],
        labels: Any,
        score_calibration: Optional[Any] = None,
    ) -> MediaPipeObjectDetectorWriter:
        """A writer for a detector whose outputs come from its post-processing (NMS).

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean of the input's normalization.
            input_norm_std: the std of the input's normalization.
            labels: the label map's ``Labels``.
            score_calibration: the scores' ``ScoreCalibration``, if any.

        Raises:
            As the builder's ``add_*`` methods (four outputs are needed).
        """
        from .builder import MetadataWriter as Builder

        writer = Builder(model_buffer)
        writer.task = ObjectDetectorWriter.task
        writer.add_general_info(_MODEL_NAME, _MODEL_DESCRIPTION)
        writer.add_image_input(input_norm_mean, input_norm_std)
        writer.add_detection_output(labels, score_calibration)
        return cls(writer)

    @classmethod
    def create_for_models_without_nms(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: list[float],
        input_norm_std: list[float],
        labels: Any,
        ssd_anchors_options: SsdAnchorsOptions,
        tensors_decoding_options: TensorsDecodingOptions,
        output_tensors_order: RawDetectionOutputTensorsOrder = (
            RawDetectionOutputTensorsOrder.UNSPECIFIED
        ),
    ) -> MediaPipeObjectDetectorWriter:
        """A writer for a detector whose outputs are raw boxes and scores (no NMS).

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean of the input's normalization.
            input_norm_std: the std of the input's normalization.
            labels: the classes' ``Labels``.
            ssd_anchors_options: the model's anchors (:class:`SsdAnchorsOptions`).
            tensors_decoding_options: how MediaPipe decodes the raw outputs.
            output_tensors_order: the outputs' order; ``UNSPECIFIED`` (the
                default) reads it from the shapes (MediaPipe's writer raises
                "Unsupported OutputTensorsOrder value" for it).

        Raises:
            MetadataValidationError: no fixed anchors, an option of the wrong
                type, or as the builder's ``add_*`` methods (two outputs are needed).
        """
        from .builder import MetadataWriter as Builder

        writer = Builder(model_buffer)
        writer.task = ObjectDetectorWriter.task
        writer.add_general_info(_MODEL_NAME, _MODEL_DESCRIPTION)
        writer.add_image_input(input_norm_mean, input_norm_std)
        writer.add_raw_detection_output(labels, output_tensors_order=output_tensors_order)
        options_md = ObjectDetectorOptionsMd(ssd_anchors_options, tensors_decoding_options)
        options_md.options_buffer()  # a bad option is reported here, not at populate()
        writer.add_custom_metadata(options_md)
        return cls(writer)


class ObjectDetectorWriter(MetadataWriter):
    """Writes metadata into an object detector (``object_detector.MetadataWriter``)."""

    task = "object-detector"

    MODEL_NAME = _MODEL_NAME
    MODEL_DESCRIPTION = _MODEL_DESCRIPTION

    @classmethod
    def create_from_metadata_info(  # type: ignore[override]
        cls,
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[TensorMd] = None,
        output_location_md: Optional[TensorMd] = None,
        output_category_md: Optional[CategoryTensorMd] = None,
        output_score_md: Union[TensorMd, ClassificationTensorMd, None] = None,
        output_number_md: Optional[TensorMd] = None,
    ) -> ObjectDetectorWriter:
        """Create a writer from the descriptions of the input and the four outputs.

        Each description goes on the output it describes (see
        :func:`assign_outputs`): by its ``tensor_name``, else by the shapes, else
        by tensor index as tflite-support. The Task Library finds the outputs by
        the default names (``location``, ``category``, ``score``, ``number of
        detections``); other names make it take the outputs in the order of the
        model (and ``check`` says so).

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: ``ObjectDetector``).
            input_md: the input image (default: ``image``, RGB, no normalization).
            output_location_md: the locations, ``[1, N, 4]`` boxes as
                [top, left, bottom, right] ratios.
            output_category_md: the categories (class indices, as floats), with the label map.
            output_score_md: the scores; a :class:`ClassificationTensorMd` carries a calibration.
            output_number_md: the number of detections.

        Returns:
            A writer whose associated files are the category's and the score's.

        Raises:
            MetadataValidationError: the model does not have four outputs, a
                ``tensor_name`` does not match one, or a description holds an
                invalid value.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        if general_md is None:
            general_md = GeneralMd(name=_MODEL_NAME, description=_MODEL_DESCRIPTION)
        if input_md is None:
            input_md = InputImageTensorMd(
                name=_INPUT_NAME,
                description=_INPUT_DESCRIPTION,
                color_space_type=_fb.ColorSpaceType.RGB,
            )
        if output_location_md is None:
            output_location_md = TensorMd(name=_LOCATION_NAME, description=_LOCATION_DESCRIPTION)
        if output_category_md is None:
            output_category_md = CategoryTensorMd(
                name=_CATEGORY_NAME, description=_CATEGORY_DESCRIPTION
            )
        if output_score_md is None:
            output_score_md = ClassificationTensorMd(
                name=_SCORE_NAME, description=_SCORE_DESCRIPTION
            )
        if output_number_md is None:
            output_number_md = TensorMd(name=_NUMBER_NAME, description=_NUMBER_DESCRIPTION)
        require_attributes([general_md], ("create_metadata",), "GeneralMd", "general_md")
        require_attributes([input_md], ("create_metadata",), "TensorMd", "input_md")
        outputs = [output_location_md, output_category_md, output_score_md, output_number_md]
        for md, argument in zip(
            outputs,
            ("output_location_md", "output_category_md", "output_score_md", "output_number_md"),
        ):
            require_attributes([md], ("create_metadata",), "TensorMd", argument)

        tensors = ModelView(model).outputs()
        names = [tensor.name for tensor in tensors]
        positions = assign_outputs(
            names,
            [tensor.shape for tensor in tensors],
            [tensor.index for tensor in tensors],
            [getattr(md, "tensor_name", None) for md in outputs],
        )
        created = [
            _location_metadata(output_location_md),
            _ranged_metadata(output_category_md),
            _ranged_metadata(output_score_md),
            output_number_md.create_metadata(),
        ]
        # A grouped description without a name takes its tensor's, so that the group
        # names it too (tflite-support cannot write a group naming None).
        for metadata, position in zip(created[:3], positions):
            if metadata.name is None:
                metadata.name = names[position]
        output_metadata: list[Any] = [None] * len(ROLES)
        for metadata, position in zip(created, positions):
            output_metadata[position] = metadata

        group = _fb.TensorGroupT()
        group.name = GROUP_NAME
        group.tensorNames = [metadata.name for metadata in created[:3]]

        subgraph = _fb.SubGraphMetadataT()
        subgraph.inputTensorMetadata = [input_md.create_metadata()]
        subgraph.outputTensorMetadata = output_metadata
        subgraph.outputTensorGroups = [group]
        model_metadata = general_md.create_metadata()
        model_metadata.subgraphMetadata = [subgraph]

        associated_files: list[AssociatedFileSource] = []
        seen: list[Any] = []
        for md in (output_category_md, output_score_md):
            for file in getattr(md, "associated_files", None) or []:
                # tflite-support lists each file path once.
                key = getattr(file, "file_path", file)
                if key not in seen:
                    seen.append(key)
                    associated_files.append(file)
        return cls(model, codec.encode(model_metadata), associated_files)

    @classmethod
    def create_for_inference(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: Optional[Sequence[float]],
        input_norm_std: Optional[Sequence[float]],
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
        score_calibration_md: Optional[ScoreCalibrationMd] = None,
    ) -> ObjectDetectorWriter:
        """Create the metadata the Task Library and MediaPipe need to run the detector.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean of the input normalization, per channel or for all:
                the model's input is ``(pixel - mean) / std``. Both consumers ignore it for
                a UINT8 input, and need it for a FLOAT32 one.
            input_norm_std: the std of the input normalization, as many values as the mean.
            label_file_paths: the label maps of the categories (paths or
                :class:`LabelFileMd`); an empty list for none.
            score_calibration_md: the scores' calibration, if any.

        Returns:
            A writer with tflite-support's default names and descriptions.

        Raises:
            MetadataValidationError: as :meth:`create_from_metadata_info`, or the
                normalization values are invalid, or ``label_file_paths`` is a
                single path.
        """
        model = model_bytes(model_buffer)
        if isinstance(label_file_paths, (str, bytes, os.PathLike)):
            raise MetadataValidationError(
                "label_file_paths should be a list of label files, but got a single path; "
                "wrap it in a list."
            )
        input_types = get_input_tensor_types(model)
        if not input_types:
            raise MetadataValidationError(
                "The model has no input tensor (an object detector has one: the image)."
            )
        input_md = InputImageTensorMd(
            name=_INPUT_NAME,
            description=_INPUT_DESCRIPTION,
            norm_mean=input_norm_mean,
            norm_std=input_norm_std,
            color_space_type=_fb.ColorSpaceType.RGB,
            tensor_type=input_types[0],
        )
        category_md = CategoryTensorMd(
            name=_CATEGORY_NAME,
            description=_CATEGORY_DESCRIPTION,
            label_files=[
                source if isinstance(source, LabelFileMd) else LabelFileMd(file_path=source)
                for source in label_file_paths or []
            ],
        )
        score_md = ClassificationTensorMd(
            name=_SCORE_NAME,
            description=_SCORE_DESCRIPTION,
            score_calibration_md=score_calibration_md,
        )
        return cls.create_from_metadata_info(
            model, input_md=input_md, output_category_md=category_md, output_score_md=score_md
        )


# -- the consumers' rules ------------------------------------------------------------------------
# The Task Library ObjectDetector of tflite-support 0.4.4 (object_detector.cc,
# score_calibration.cc, and the image input's rules of the image classifier) and
# MediaPipe's ObjectDetector (object_detector_graph.cc,
# detection_postprocessing_graph.cc, image_preprocessing_graph.cc).

_NOUN = "object detectors"
_BOUNDING_BOX_PROPERTIES = schema.UNIONS["ContentProperties"].type_of("BoundingBoxProperties")
_BOUNDARIES = schema.ENUMS["BoundingBoxType"].value_of("BOUNDARIES")
_RATIO = schema.ENUMS["CoordinateType"].value_of("RATIO")
_VALUE_LABELS = schema.ENUMS["AssociatedFileType"].value_of("TENSOR_VALUE_LABELS")
#: The number of dimensions of each role's tensor (the Task Library's kOutputTensorsExpectedDims).
_EXPECTED_DIMENSIONS = (3, 2, 2, 1)
#: The metadata names both consumers find the outputs by (else they take outputs 0 to 3).
CONSUMER_NAMES = (_LOCATION_NAME, _CATEGORY_NAME, _SCORE_NAME, _NUMBER_NAME)


def _is_box(tensor_metadata: Any) -> bool:
    content = getattr(tensor_metadata, "content", None)
    return content is not None and content.contentPropertiesType == _BOUNDING_BOX_PROPERTIES


def _recognizes(metadata: Any) -> bool:
    """An image on the first input and an output with BoundingBoxProperties: a detector."""
    subgraphs = metadata.subgraphMetadata or []
    if not subgraphs:
        return False
    inputs = subgraphs[0].inputTensorMetadata or []
    outputs = subgraphs[0].outputTensorMetadata or []
    return bool(inputs) and has_image_properties(inputs[0]) and any(map(_is_box, outputs))


def consumer_roles(output_metadata: Sequence[Any]) -> list[int]:
    """The output each role is, as both consumers find it: by metadata name, else 0 to 3.

    Each consumer looks the four names of :data:`CONSUMER_NAMES` up in the
    outputs' metadata (the first with the name); when one is missing, it takes
    outputs 0, 1, 2 and 3 (and logs a warning).
    """
    found = []
    for name in CONSUMER_NAMES:
        position = next(
            (
                index
                for index, metadata in enumerate(output_metadata)
                if _text(metadata.name) == name
            ),
            None,
        )
        if position is None:
            return [0, 1, 2, 3]
        found.append(position)
    return found


def _text(value: Any) -> Optional[str]:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _check_model(checker: Checker) -> None:
    model = checker.model
    if model.subgraph_count != 1:
        checker.add(
            Code.SUBGRAPH_COUNT,
            "model",
            f"has {plural(model.subgraph_count, 'subgraph')}; {_NOUN} need exactly 1",
            (MEDIAPIPE,),
        )
    if len(model.inputs) != 1:
        checker.add(
            Code.INPUT_COUNT,
            "model",
            f"has {plural(len(model.inputs), 'input')}; {_NOUN} need exactly 1 (the image)",
        )
    if model.inputs:
        check_input_tensor(checker, model.inputs[0], _NOUN, "detect")
    outputs = model.outputs
    raw = _has_detector_metadata(checker)
    if raw and len(outputs) != 2:
        checker.add(
            Code.OUTPUT_COUNT,
            "model",
            f"has {plural(len(outputs), 'output')} and {DETECTOR_METADATA_NAME}; MediaPipe's "
            "detectors without post-processing need 2 (raw boxes and scores)",
            (MEDIAPIPE,),
        )
    elif not raw and len(outputs) != len(ROLES):
        checker.add(
            Code.OUTPUT_COUNT,
            "model",
            f"has {plural(len(outputs), 'output')}; {_NOUN} need 4 (location, category, "
            "score, number of detections: SSD's post-processing outputs; MediaPipe also runs "
            "2-output models, with anchors in its own metadata, which this writer does not "
            "describe)",
        )
    uint8 = 0
    for tensor in outputs:
        where = f"output {tensor.index}"
        if tensor.type == TensorType.FLOAT32:
            continue
        if tensor.type == TensorType.UINT8:
            uint8 += 1
            if raw:  # the Task Library has no detectors without post-processing
                continue
            checker.add(
                Code.OUTPUT_TYPE,
                where,
                f"tensor {quoted(tensor.name)} has type UINT8; the Task Library reads the "
                "detections as FLOAT32 (it fails when it detects)",
                (TASK_LIBRARY,),
            )
            continue
        checker.add(
            Code.OUTPUT_TYPE,
            where,
            f"tensor {quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; {_NOUN} "
            "need FLOAT32 (MediaPipe also takes UINT8)",
        )
    if 0 < uint8 < len(outputs) and all(
        t.type in (TensorType.UINT8, TensorType.FLOAT32) for t in outputs
    ):
        checker.add(
            Code.OUTPUT_TYPE,
            "model",
            f"{uint8} of the {len(outputs)} outputs are UINT8; MediaPipe needs all or none "
            "quantized",
            (MEDIAPIPE,),
        )


def _check_metadata(checker: Checker) -> None:
    checker.negative_scale_refused_by = BOTH
    check_image_input_metadata(checker, _NOUN)
    outputs = checker.tensor_metadata("output") or []
    if _has_detector_metadata(checker):
        _check_raw_detector(checker, outputs)
        return
    if len(outputs) != len(ROLES):
        checker.add(
            Code.OUTPUT_COUNT,
            "metadata",
            f"describes {plural(len(outputs), 'output tensor')}; {_NOUN} need 4 (location, "
            "category, score, number of detections)",
        )
        return
    roles = consumer_roles(outputs)
    _check_output_shapes(checker, roles)
    _check_box(checker, outputs[roles[0]], roles[0])
    labels = _check_label_map(checker, outputs[roles[1]], roles[1])
    _check_score_calibration(checker, outputs[roles[2]], roles[2], labels)


# A detector without post-processing (MediaPipe's only: detection_postprocessing_graph.cc,
# tensors_to_detections_calculator.cc, ssd_anchors_calculator.cc). MediaPipe reads its
# DETECTOR_METADATA without verifying it, and aborts when the anchors are not num_boxes.


def _has_detector_metadata(checker: Checker) -> bool:
    subgraph = checker.subgraph_metadata
    entries = (None if subgraph is None else subgraph.customMetadata) or []
    return any(_text(entry.name) == DETECTOR_METADATA_NAME for entry in entries)


def _decoded_detector_options(checker: Checker) -> Any:
    """The first ``DETECTOR_METADATA``'s ``ObjectDetectorOptionsT``, or None (reported)."""
    options = next(checker.custom_metadata(DETECTOR_METADATA_NAME))
    if options is None:
        return None
    where = f"custom metadata {DETECTOR_METADATA_NAME}"
    missing = [
        name
        for name, value in (
            ("ssd_anchors_options.fixed_anchors_schema.anchors", _anchors_of(options)),
            ("tensors_decoding_options", options.tensorsDecodingOptions),
        )
        if value is None
    ]
    if missing:
        checker.add(
            Code.METADATA_MALFORMED,
            where,
            f"has no {' and no '.join(missing)}; MediaPipe reads them without checking "
            "(it crashes)",
            (MEDIAPIPE,),
        )
        return None
    return options


def _anchors_of(options: Any) -> Optional[list[Any]]:
    ssd = options.ssdAnchorsOptions
    fixed = None if ssd is None else ssd.fixedAnchorsSchema
    return None if fixed is None else fixed.anchors


def _check_raw_detector(checker: Checker, outputs: Sequence[Any]) -> None:
    """MediaPipe's rules for a detector without post-processing (its anchors in metadata)."""
    if len(outputs) != 2:
        checker.add(
            Code.OUTPUT_COUNT,
            "metadata",
            f"describes {plural(len(outputs), 'output tensor')} and has "
            f"{DETECTOR_METADATA_NAME}; MediaPipe needs 2 (location and score)",
            (MEDIAPIPE,),
        )
        return
    options = _decoded_detector_options(checker)
    if options is None:
        return
    decoding = options.tensorsDecodingOptions
    anchors = _anchors_of(options) or []
    where = f"custom metadata {DETECTOR_METADATA_NAME}"
    num_boxes = int(decoding.numBoxes)
    if num_boxes <= 0:
        checker.add(
            Code.OUTPUT_SHAPE,
            where,
            f"has num_boxes {num_boxes}; MediaPipe needs at least 1",
            (MEDIAPIPE,),
        )
    elif len(anchors) < num_boxes:
        # It reads one anchor per box (more are never read).
        checker.add(
            Code.OUTPUT_SHAPE,
            where,
            f"has {plural(len(anchors), 'anchor')} and num_boxes {num_boxes}; MediaPipe needs "
            "an anchor per box (it dies reading past the last one)",
            (MEDIAPIPE,),
        )
    per_keypoint = int(decoding.numValuesPerKeypoint)
    keypoints = int(decoding.numKeypoints)
    if per_keypoint != 2:
        checker.add(
            Code.METADATA_MALFORMED,
            where,
            f"has num_values_per_keypoint {per_keypoint}; MediaPipe takes only 2 (it aborts "
            "otherwise, even without keypoints)",
            (MEDIAPIPE,),
        )
    elif keypoints * per_keypoint + 4 != int(decoding.numCoords):
        checker.add(
            Code.METADATA_MALFORMED,
            where,
            f"has num_coords {int(decoding.numCoords)}, num_keypoints {keypoints}; MediaPipe "
            f"needs num_coords = 4 + 2 x num_keypoints = {keypoints * 2 + 4} (it aborts "
            "otherwise)",
            (MEDIAPIPE,),
        )
    names = [_text(metadata.name) for metadata in outputs]
    location = names.index(_LOCATION_NAME) if _LOCATION_NAME in names else 0
    expected = {
        location: ("location", int(decoding.numCoords)),
        1 - location: ("score", int(decoding.numClasses)),
    }
    for position, tensor in enumerate(checker.model.outputs[:2]):
        role, last = expected[position]
        shape = list(tensor.shape)
        if len(shape) == 3 and shape == [1, num_boxes, last]:
            continue
        if len(shape) == 4 and shape == [1, 1, num_boxes, last]:
            continue
        what = "num_coords" if role == "location" else "num_classes"
        checker.add(
            Code.OUTPUT_SHAPE,
            f"output {tensor.index}",
            f"the {role} tensor {quoted(tensor.name)} has shape {shape_text(shape)}; "
            f"with {DETECTOR_METADATA_NAME}'s num_boxes {num_boxes} and {what} {last} "
            f"MediaPipe needs [1, {num_boxes}, {last}]",
            (MEDIAPIPE,),
        )


def _check_output_shapes(checker: Checker, roles: Sequence[int]) -> None:
    """The shapes both consumers check: the Task Library when it loads the model,
    MediaPipe when it detects (``TensorsToDetectionsCalculator``), static shapes only.

    The post-processing op sets its outputs' shapes when the model is loaded: a
    model that gives none (the shared SSD MobileNet) is checked by the consumer
    then, not here.
    """
    outputs = checker.model.outputs
    valid: dict[int, tuple[int, ...]] = {}
    for role, position in enumerate(roles):
        if position >= len(outputs):
            continue
        tensor = outputs[position]
        shape = tensor.shape
        if not shape:
            continue
        where = f"output {tensor.index}"
        expected = _EXPECTED_DIMENSIONS[role]
        if len(shape) != expected:
            checker.add(
                Code.OUTPUT_SHAPE,
                where,
                f"the {ROLES[role]} tensor {quoted(tensor.name)} has shape {shape_text(shape)}; "
                f"the consumers need {expected} dimensions ({_ROLE_SHAPES[role]})",
            )
            continue
        if shape[0] != 1:
            checker.add(
                Code.OUTPUT_SHAPE,
                where,
                f"the {ROLES[role]} tensor {quoted(tensor.name)} has shape {shape_text(shape)}, "
                f"a batch of {shape[0]}; the consumers need 1",
            )
            continue
        if role == 0 and shape[2] != 4:
            checker.add(
                Code.OUTPUT_SHAPE,
                where,
                f"the location tensor {quoted(tensor.name)} has shape {shape_text(shape)}; "
                "a box has 4 coordinates: [1, N, 4] (the consumers fail when they detect)",
            )
            continue
        valid[role] = shape
    if 0 not in valid:
        return
    boxes = valid[0][1]
    for role in (1, 2):
        if role in valid and valid[role][1] != boxes:
            tensor = outputs[roles[role]]
            fewer = valid[role][1] < boxes
            checker.add(
                Code.OUTPUT_SHAPE,
                f"output {tensor.index}",
                f"the {ROLES[role]} tensor {quoted(tensor.name)} has shape "
                f"{shape_text(valid[role])} for {boxes} boxes; the consumers need one value "
                f"per box, [1, {boxes}] (MediaPipe fails when it detects; the Task Library "
                + (
                    "when it detects more boxes than that)"
                    if fewer
                    else "reads the first ones, and takes it)"
                ),
                BOTH if fewer else (MEDIAPIPE,),
            )


_ROLE_SHAPES = ("[1, N, 4]", "[1, N]", "[1, N]", "[1]")


def _check_box(checker: Checker, metadata: Any, position: int) -> None:
    where = f"output {position}"
    name = quoted(_text(metadata.name) or f"#{position}")
    content = metadata.content
    if content is None or content.contentProperties is None:
        checker.add(
            Code.BOUNDING_BOX,
            where,
            f"the location metadata {name} has no content properties; the consumers need "
            "BoundingBoxProperties",
        )
        return
    kind = int(content.contentPropertiesType or 0)
    if kind != _BOUNDING_BOX_PROPERTIES:
        found = schema.UNIONS["ContentProperties"].member(kind) or str(kind)
        checker.add(
            Code.BOUNDING_BOX,
            where,
            f"the location metadata {name} has content properties {found}; the consumers "
            "need BoundingBoxProperties",
        )
        return
    properties = content.contentProperties
    box_type = int(properties.type or 0)
    if box_type != _BOUNDARIES:
        found = schema.ENUMS["BoundingBoxType"].name_of(box_type) or str(box_type)
        checker.add(
            Code.BOUNDING_BOX,
            where,
            f"BoundingBoxProperties has type {found}; the consumers take BOUNDARIES only",
        )
    coordinate = int(properties.coordinateType or 0)
    if coordinate != _RATIO:
        found = schema.ENUMS["CoordinateType"].name_of(coordinate) or str(coordinate)
        checker.add(
            Code.BOUNDING_BOX,
            where,
            f"BoundingBoxProperties has coordinate type {found}; the consumers take RATIO only",
        )
    index = properties.index
    if index is not None and len(index) != 4:
        checker.add(
            Code.BOUNDING_BOX,
            where,
            f"BoundingBoxProperties has {plural(len(index), 'index value')}; expected 4 (or none)",
        )


def _check_label_map(checker: Checker, metadata: Any, position: int) -> Optional[int]:
    """The category's label map (its first TENSOR_VALUE_LABELS file); its label count."""
    where = f"output {position}"
    file = next(
        (
            f
            for f in metadata.associatedFiles or []
            if f.type == _VALUE_LABELS and f.name is not None
        ),
        None,
    )
    if file is None:
        return 0
    name = file_name(file, strict=False)
    data = checker.examine_packed(where, "label map", name)
    if data is None:
        return None  # reported as file-missing or file-not-checked
    if not data:
        checker.add(Code.LABEL_EMPTY, where, f"label map {quoted(name)} is empty")
        return None
    return label_counts(data)[0]


def _check_score_calibration(
    checker: Checker, metadata: Any, position: int, labels: Optional[int]
) -> None:
    units = [
        unit for unit in metadata.processUnits or [] if unit.optionsType == SCORE_CALIBRATION_UNIT
    ]
    if not units:
        return
    where = f"output {position}"
    if position != 2:
        checker.add(
            Code.CALIBRATION_IGNORED,
            where,
            "the score tensor's metadata, which has the score calibration, is not output 2: "
            "the Task Library reads the calibration from output 2 only, so it would not "
            "calibrate the scores",
            (TASK_LIBRARY,),
        )
    # Both consumers parse the file. The Task Library wants one line per label (it
    # refuses the model); MediaPipe fails when it detects a class beyond the last line.
    files = metadata.associatedFiles or []
    refused_by: tuple[str, ...] = (TASK_LIBRARY,)
    calibration_file = next(
        (f for f in files if f.type == CALIBRATION_FILE and f.name is not None), None
    )
    if calibration_file is not None and labels is not None:
        data = checker.read_packed(file_name(calibration_file, strict=False))
        if data and calibration_entry_count(data) < labels:
            refused_by = BOTH
    checker.check_calibration(
        where,
        units[0],
        files,
        True,
        -1 if labels is None else labels,
        count_refused_by=refused_by,
        counted="label",
    )


# -- the command line and spec files -----------------------------------------------------------

_SPEC_KEYS = frozenset((*GENERAL_KEYS, "input", "outputs", "anchors", "decoding"))
#: The keys of a spec's ``outputs`` table: one table per role.
_OUTPUT_KEYS = frozenset(("location", "category", "score", "number"))
_ROLE_KEYS = frozenset(("tensor_name", "name", "description"))
_ROLE_DEFAULTS = {
    "location": (_LOCATION_NAME, _LOCATION_DESCRIPTION),
    "category": (_CATEGORY_NAME, _CATEGORY_DESCRIPTION),
    "score": (_SCORE_NAME, _SCORE_DESCRIPTION),
    "number": (_NUMBER_NAME, _NUMBER_DESCRIPTION),
}

_SPEC_HELP = """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "ObjectDetector", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"name": "image", "description": "...",
              "mean": [127.5], "std": [127.5], "color_space": "RGB"},
    "outputs": {
      "location": {"tensor_name": "TFLite_Detection_PostProcess", "name": "location",
                   "description": "..."},
      "category": {"tensor_name": "...", "labels": ["labelmap.txt",
                                                     {"file": "labelmap_fr.txt", "locale": "fr"}]},
      "score": {"tensor_name": "...", "score_calibration": {"file": "calibration.csv",
                "transformation": "INVERSE_LOGISTIC", "default_score": 0.2}},
      "number": {"tensor_name": "..."}
    }
  }
"tensor_name" says which output a description goes on; without it, the outputs are told
apart by their shapes ([1, N, 4] locations, [1] the count), else by tensor index (SSD's order).
The names "location", "category", "score" and "number of detections" are how the consumers
find the outputs: keep them.

A detector without post-processing (MediaPipe's only: two outputs, raw boxes [1, N, 4] and
raw scores [1, N, classes]) takes its anchors and decoding options instead, written as
MediaPipe's DETECTOR_METADATA; the labels (outputs.category.labels) go on the scores:
  {
    "anchors": "anchors.csv",   (or [{"x_center": 0.5, "y_center": 0.5, "width": 0.1,
                                       "height": 0.1}, ...], one per box)
    "decoding": {"x_scale": 10.0, "y_scale": 10.0, "w_scale": 5.0, "h_scale": 5.0,
                 "sigmoid_score": true, "apply_exponential_on_box_size": true,
                 "num_keypoints": 0, "keypoint_coord_offset": 0},
    "outputs": {"location": {"tensor_name": "..."}, "category": {"labels": ["labels.txt"]}}
  }
The four scales and "sigmoid_score" are required (MediaPipe Model Maker's detectors use 1, 1,
1, 1 and no sigmoid; TF Object Detection API's SSDs 10, 10, 5, 5 and a sigmoid);
"apply_exponential_on_box_size" defaults to true. The classes, boxes and coordinates per box
are read from the outputs' shapes. An anchors CSV has four numbers a line, in the order of
MediaPipe's anchor files: y_center, x_center, height, width (ratios of the image); a first
line naming the columns (x_center, y_center, width, height in any order) gives another order.
"""


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_image_arguments(parser, _INPUT_NAME)
    group = parser.add_argument_group(
        "detections",
        "The four outputs: location, category, score, number of detections. Each "
        "description goes on its output by --*-tensor, else by shape, else by tensor index.",
    )
    group.add_argument(
        "--labels",
        metavar="FILE",
        action="append",
        help="the label map of the categories, one label a line (repeatable: one per locale)",
    )
    group.add_argument(
        "--locale", metavar="LOCALE", action="append", help="the locale of each --labels"
    )
    group.add_argument("--score-calibration", metavar="FILE", help="score calibration file")
    group.add_argument(
        "--score-transformation",
        type=transformation_argument,
        metavar="|".join(TRANSFORMATIONS),
        help="applied before calibration (default: IDENTITY)",
    )
    group.add_argument("--default-score", type=score_argument, metavar="X", help="default: 0.0")
    for role in _OUTPUT_KEYS_ORDER:
        group.add_argument(
            f"--{role}-tensor", metavar="TENSOR", help=f"the model's {role} output tensor"
        )
    raw = parser.add_argument_group(
        "without post-processing (MediaPipe)",
        "A model whose two outputs are raw boxes [1, N, 4] and raw scores [1, N, classes]: "
        "--anchors, --scales and --sigmoid-score/--no-sigmoid-score describe how MediaPipe "
        "decodes them (its DETECTOR_METADATA); --labels go on the scores.",
    )
    raw.add_argument(
        "--anchors",
        metavar="FILE.csv",
        help="the anchors, one a line: y_center,x_center,height,width (MediaPipe's anchor "
        "files' order), or in the order a first line names",
    )
    raw.add_argument(
        "--scales",
        metavar="X,Y,W,H",
        type=_scales_argument,
        help="the box decoding scales x_scale, y_scale, w_scale, h_scale",
    )
    raw.add_argument(
        "--sigmoid-score",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether MediaPipe applies a sigmoid to the raw scores",
    )
    raw.add_argument(
        "--linear-box-size",
        action="store_true",
        default=None,
        help="the raw box size is not exponentiated (default: it is)",
    )


_OUTPUT_KEYS_ORDER = ("location", "category", "score", "number")


def _merge_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    merge_image_arguments(args, document)
    outputs = document.get("outputs")
    if outputs is None:
        outputs = {}
    if not isinstance(outputs, dict):
        return  # reported by the spec's validation
    given = False

    def role(key: str) -> dict[str, Any]:
        nonlocal given
        given = True
        table = outputs.setdefault(key, {})
        if not isinstance(table, dict):
            raise UsageError(f"the spec's outputs.{key} should be a table")
        return table

    for key in _OUTPUT_KEYS_ORDER:
        tensor = getattr(args, f"{key}_tensor")
        if tensor is not None:
            role(key)["tensor_name"] = tensor
    locales = args.locale or []
    if args.labels:
        if len(locales) > len(args.labels):
            raise UsageError("--locale gives the locale of a --labels: more --locale than --labels")
        entries: list[Any] = []
        for index, path in enumerate(args.labels):
            entry: dict[str, Any] = {"file": command_line_path(path)}
            if index < len(locales):
                entry["locale"] = locales[index]
            entries.append(entry)
        role("category")["labels"] = entries
    elif locales:
        raise UsageError("--locale gives the locale of a --labels; give the label file")
    calibration = {
        key: value
        for key, value in (
            (
                "file",
                None
                if args.score_calibration is None
                else command_line_path(args.score_calibration),
            ),
            ("transformation", args.score_transformation),
            ("default_score", args.default_score),
        )
        if value is not None
    }
    if calibration:
        if "file" not in calibration:
            raise UsageError(
                "--score-transformation and --default-score describe a score calibration; "
                "give its file with --score-calibration"
            )
        role("score")["score_calibration"] = calibration
    if given:
        document["outputs"] = outputs
    if args.anchors is not None:
        document["anchors"] = command_line_path(args.anchors)
    decoding: dict[str, Any] = {}
    if args.scales is not None:
        decoding.update(zip(("x_scale", "y_scale", "w_scale", "h_scale"), args.scales))
    if args.sigmoid_score is not None:
        decoding["sigmoid_score"] = args.sigmoid_score
    if args.linear_box_size:
        decoding["apply_exponential_on_box_size"] = False
    if decoding:
        table = document.setdefault("decoding", {})
        if not isinstance(table, dict):
            raise UsageError("the spec's decoding should be a table")
        table.update(decoding)


def _scales_argument(text: str) -> list[float]:
    parts = text.split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(
            f"expected four numbers X,Y,W,H (x_scale, y_scale, w_scale, h_scale), got {text!r}"
        )
    return values


#: The keys of a spec's ``decoding`` table.
_DECODING_KEYS = frozenset(
    (
        "x_scale",
        "y_scale",
        "w_scale",
        "h_scale",
        "sigmoid_score",
        "apply_exponential_on_box_size",
        "num_keypoints",
        "keypoint_coord_offset",
    )
)
#: The columns of an anchors CSV without a header: MediaPipe's anchor files' order.
ANCHOR_CSV_COLUMNS = ("y_center", "x_center", "height", "width")


def read_anchors_csv(path: str) -> list[FixedAnchor]:
    """The anchors of a CSV file: four numbers a line (see :data:`ANCHOR_CSV_COLUMNS`).

    Empty lines and lines starting with ``#`` are skipped. A first line of names
    (``x_center``, ``y_center``, ``width``, ``height`` in any order) gives the columns.

    Raises:
        MissingFileError: the file does not exist.
        MetadataValidationError: a line does not hold four finite numbers, a header
            names other columns, or there is no anchor.
    """
    from ..fileio import read_file

    try:
        text = read_file(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetadataValidationError(
            f"{path}: an anchors CSV should be UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    columns: Sequence[str] = ANCHOR_CSV_COLUMNS
    anchors = []
    first = True
    for number, line in enumerate(text.splitlines(), 1):
        cells = [cell.strip() for cell in line.split(",")]
        if not line.strip() or cells[0].startswith("#"):
            continue
        if first and not _is_number(cells[0]):
            names = [cell.lower() for cell in cells]
            if sorted(names) != sorted(ANCHOR_FIELDS):
                raise MetadataValidationError(
                    f"{path}:{number}: a header line names the columns x_center, y_center, "
                    f"width and height (in any order); found {', '.join(map(repr, cells))}"
                )
            columns = names
            first = False
            continue
        first = False
        if len(cells) != 4 or not all(_is_number(cell) for cell in cells):
            raise MetadataValidationError(
                f"{path}:{number}: expected four finite numbers ({', '.join(columns)}), "
                f"found {line.strip()[:80]!r}"
            )
        values = dict(zip(columns, map(float, cells)))
        anchors.append(FixedAnchor(**{name: values[name] for name in ANCHOR_FIELDS}))
    if not anchors:
        raise MetadataValidationError(f"{path}: no anchors (four numbers a line)")
    return anchors


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _spec_anchors(value: Any, spec: Spec, base: Optional[Path]) -> list[FixedAnchor]:
    if isinstance(value, str):
        return read_anchors_csv(resolve(base, value))
    if not isinstance(value, list) or not value:
        spec.fail(
            "anchors",
            "expected the path of an anchors CSV or a non-empty array of anchors "
            f'({{"x_center": …, "y_center": …, "width": …, "height": …}}), '
            f"found {json_type(value)}",
        )
    anchors = []
    for index, entry in enumerate(value):
        where = f"anchors[{index}]"
        table = spec.table(entry, where, frozenset(ANCHOR_FIELDS))
        numbers = {}
        for name in ANCHOR_FIELDS:
            number = spec.number(table, name, where)
            if number is None or not math.isfinite(number):
                spec.fail(f"{where}.{name}", "expected a finite number")
            numbers[name] = number
        anchors.append(FixedAnchor(**numbers))
    return anchors


def _spec_decoding(
    model: BufferLike, document: dict[str, Any], spec: Spec, boxes_position: int
) -> TensorsDecodingOptions:
    table = spec.table(document.get("decoding", {}), "decoding", _DECODING_KEYS)
    scales = []
    for key in ("x_scale", "y_scale", "w_scale", "h_scale"):
        value = spec.number(table, key, "decoding")
        if value is None or not math.isfinite(value):
            spec.fail(
                f"decoding.{key}",
                "the four box scales are required (--scales X,Y,W,H): MediaPipe Model "
                "Maker's detectors use 1, 1, 1, 1; TF Object Detection API's SSDs 10, 10, 5, 5",
            )
        scales.append(value)
    flags = {}
    for key, default in (("sigmoid_score", None), ("apply_exponential_on_box_size", True)):
        value = table.get(key, default)
        if not isinstance(value, bool):
            spec.fail(
                f"decoding.{key}",
                "expected true or false"
                + (" (required: --sigmoid-score or --no-sigmoid-score)" if value is None else ""),
            )
        flags[key] = value
    keypoints = spec.count(table, "num_keypoints", "decoding") or 0
    offset = spec.count(table, "keypoint_coord_offset", "decoding") or 0
    shapes = [list(tensor.shape) for tensor in ModelView(model).outputs()]
    boxes, scores = shapes[boxes_position], shapes[1 - boxes_position]
    return TensorsDecodingOptions(
        num_classes=int(scores[-1]),
        num_boxes=int(boxes[1]),
        num_coords=int(boxes[-1]),
        keypoint_coord_offset=offset,
        num_keypoints=keypoints,
        num_values_per_keypoint=2,
        x_scale=scales[0],
        y_scale=scales[1],
        w_scale=scales[2],
        h_scale=scales[3],
        apply_exponential_on_box_size=flags["apply_exponential_on_box_size"],
        sigmoid_score=flags["sigmoid_score"],
    )


def _build_raw_writer(
    model: BufferLike,
    document: dict[str, Any],
    spec: Spec,
    base: Optional[Path],
    general: GeneralMd,
    input_md: TensorMd,
) -> ObjectDetectorWriter:
    """A detector without post-processing: MediaPipe's two outputs and DETECTOR_METADATA."""
    outputs = spec.table(document.get("outputs", {}), "outputs", _OUTPUT_KEYS)
    for key in ("number",):
        if key in outputs:
            spec.fail(f"outputs.{key}", "a detector without post-processing has no such output")
    category = spec.table(outputs.get("category", {}), "outputs.category", frozenset({"labels"}))
    score = spec.table(outputs.get("score", {}), "outputs.score", frozenset({"tensor_name"}))
    location = spec.table(
        outputs.get("location", {}), "outputs.location", frozenset({"tensor_name"})
    )
    labels = [
        label_file_md(entry, f"outputs.category.labels[{i}]", spec, base)
        for i, entry in enumerate(spec.items(category, "labels", "outputs.category"))
    ]
    names = get_output_tensor_names(model)
    if len(names) != 2:
        raise MetadataValidationError(
            f"anchors describe a detector without post-processing, whose 2 outputs are raw "
            f"boxes and scores; the model has {plural(len(names), 'output')} "
            f"({', '.join(map(quoted, names))})"
        )
    order = RawDetectionOutputTensorsOrder.UNSPECIFIED
    for table, role, first in ((location, "location", 0), (score, "score", 1)):
        tensor_name = spec.text(table, "tensor_name", f"outputs.{role}")
        if tensor_name is None:
            continue
        if tensor_name not in names:
            spec.fail(
                f"outputs.{role}.tensor_name",
                f"{tensor_name!r} is not an output ({', '.join(map(quoted, names))})",
            )
        location_first = (names.index(tensor_name) == 0) == (first == 0)
        order = (
            RawDetectionOutputTensorsOrder.LOCATION_SCORE
            if location_first
            else RawDetectionOutputTensorsOrder.SCORE_LOCATION
        )
    output_mds = RawDetectionOutputTensorsMd(model, labels, order).output_mds
    boxes_position = next(i for i, md in enumerate(output_mds) if md.name == _LOCATION_NAME)
    options_md = ObjectDetectorOptionsMd(
        SsdAnchorsOptions(FixedAnchorsSchema(_spec_anchors(document["anchors"], spec, base))),
        _spec_decoding(model, document, spec, boxes_position),
    )
    writer = ObjectDetectorWriter.create_from_metadata(
        model,
        model_metadata=general.create_metadata(),
        input_metadata=[input_md.create_metadata()],
        output_metadata=[md.create_metadata() for md in output_mds],
        associated_files=list(labels),
        custom_metadata=[options_md.create_metadata()],
    )
    return cast(ObjectDetectorWriter, writer)


def _build_writer(
    model: BufferLike, document: dict[str, Any], spec: Spec, base: Optional[Path]
) -> ObjectDetectorWriter:
    document = spec.table(document, "spec", _SPEC_KEYS)
    general = general_md(spec, document, _MODEL_NAME, _MODEL_DESCRIPTION)
    input_md = image_input_md(
        model, spec, document, _INPUT_NAME, _INPUT_DESCRIPTION, "object detector"
    )
    if document.get("anchors") is not None:
        return _build_raw_writer(model, document, spec, base, general, input_md)
    if document.get("decoding") is not None:
        spec.fail("decoding", "goes with anchors (a detector without post-processing)")
    outputs = spec.table(document.get("outputs", {}), "outputs", _OUTPUT_KEYS)
    mds: dict[str, TensorMd] = {}
    for key in _OUTPUT_KEYS_ORDER:
        where = f"outputs.{key}"
        keys = _ROLE_KEYS | {"category": {"labels"}, "score": {"score_calibration"}}.get(key, set())
        table = spec.table(outputs.get(key, {}), where, frozenset(keys))
        default_name, default_description = _ROLE_DEFAULTS[key]
        name = spec.text_or(table, "name", where, default_name)
        description = spec.text_or(table, "description", where, default_description)
        tensor_name = spec.text(table, "tensor_name", where)
        if key == "category":
            labels = [
                label_file_md(entry, f"{where}.labels[{i}]", spec, base)
                for i, entry in enumerate(spec.items(table, "labels", where))
            ]
            md: TensorMd = CategoryTensorMd(name, description, labels)
        elif key == "score":
            calibration = None
            if table.get("score_calibration") is not None:
                calibration = calibration_md(
                    table["score_calibration"], f"{where}.score_calibration", spec, base
                )
            md = ClassificationTensorMd(name, description, score_calibration_md=calibration)
        else:
            md = TensorMd(name, description)
        md.tensor_name = tensor_name
        mds[key] = md
    return ObjectDetectorWriter.create_from_metadata_info(
        model,
        general,
        input_md,
        mds["location"],
        mds["category"],  # type: ignore[arg-type]
        mds["score"],
        mds["number"],
    )


TASK = Task(
    name="object-detector",
    writer=ObjectDetectorWriter,
    recognizes=_recognizes,
    check_model=_check_model,
    check_metadata=_check_metadata,
    add_arguments=_add_arguments,
    merge_arguments=_merge_arguments,
    build_writer=_build_writer,
    spec_help=_SPEC_HELP,
    description=(
        "Write object detector metadata into MODEL, as tflite-support's "
        "object_detector.MetadataWriter does, and save the result as OUT. The model has "
        "SSD's four outputs (location, category, score, number of detections); each "
        "description goes on the output it describes (by --*-tensor, else by shape, else "
        "by tensor index). A model without post-processing (MediaPipe's: raw boxes and "
        "scores) takes --anchors, --scales and --[no-]sigmoid-score instead, written as "
        "MediaPipe's DETECTOR_METADATA. OUT is checked against the rules of the Task Library "
        "and MediaPipe object detectors first, and not written if they would refuse it (unless "
        "--no-check). A FLOAT32 input needs --mean and --std."
    ),
    model_name=_MODEL_NAME,
    checks_output_files=True,
)
