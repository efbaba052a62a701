"""Drop-in for ``tflite_support.metadata_writers.object_detector``.

A re-export of :class:`tflite_metadata.tasks.object_detector.ObjectDetectorWriter`
as ``MetadataWriter``.
"""

from __future__ import annotations

from ..tasks.object_detector import ObjectDetectorWriter as MetadataWriter

__all__ = ["MetadataWriter"]
