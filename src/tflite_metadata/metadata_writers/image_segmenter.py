"""Drop-in for ``tflite_support.metadata_writers.image_segmenter``.

A re-export of :class:`tflite_metadata.tasks.image_segmenter.ImageSegmenterWriter`
as ``MetadataWriter``.
"""

from __future__ import annotations

from ..tasks.image_segmenter import ImageSegmenterWriter as MetadataWriter

__all__ = ["MetadataWriter"]
