"""Drop-in for MediaPipe's ``metadata_writers.object_detector`` (models with NMS, so far).

A re-export of :class:`tflite_metadata.tasks.object_detector.MediaPipeObjectDetectorWriter`
as ``MetadataWriter`` (``create_for_models_with_nms``), and of ``convert_to_json``.
``create_for_models_without_nms`` and its anchor options need the ``DETECTOR_METADATA``
custom metadata, not declared yet.
"""

from __future__ import annotations

from ...tasks.object_detector import MediaPipeObjectDetectorWriter as MetadataWriter
from ...tasks.object_detector import detector_metadata_json as convert_to_json

__all__ = ["MetadataWriter", "convert_to_json"]
