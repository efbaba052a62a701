"""Drop-in for MediaPipe's ``metadata_writers.object_detector``.

A re-export of :class:`tflite_metadata.tasks.object_detector.MediaPipeObjectDetectorWriter`
as ``MetadataWriter`` (``create_for_models_with_nms``, ``create_for_models_without_nms``),
of the anchor and decoding options of a detector without post-processing
(``FixedAnchor``, ``FixedAnchorsSchema``, ``SsdAnchorsOptions``,
``TensorsDecodingOptions``, ``ObjectDetectorOptionsMd``), and of ``convert_to_json``.
"""

from __future__ import annotations

from ...tasks.object_detector import (
    FixedAnchor,
    FixedAnchorsSchema,
    ObjectDetectorOptionsMd,
    SsdAnchorsOptions,
    TensorsDecodingOptions,
)
from ...tasks.object_detector import MediaPipeObjectDetectorWriter as MetadataWriter
from ...tasks.object_detector import detector_metadata_json as convert_to_json

__all__ = [
    "FixedAnchor",
    "FixedAnchorsSchema",
    "MetadataWriter",
    "ObjectDetectorOptionsMd",
    "SsdAnchorsOptions",
    "TensorsDecodingOptions",
    "convert_to_json",
]
