"""Drop-in for MediaPipe's ``metadata_writers.image_classifier``.

A re-export of :class:`tflite_metadata.tasks.image_classifier.MediaPipeImageClassifierWriter`
as ``MetadataWriter``.
"""

from __future__ import annotations

from ...tasks.image_classifier import MediaPipeImageClassifierWriter as MetadataWriter

__all__ = ["MetadataWriter"]
