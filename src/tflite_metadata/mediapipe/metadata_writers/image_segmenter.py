"""Drop-in for MediaPipe's ``metadata_writers.image_segmenter``.

A re-export of :class:`tflite_metadata.tasks.image_segmenter.MediaPipeImageSegmenterWriter`
as ``MetadataWriter``, and of ``Activation``, ``ImageSegmenterOptionsMd`` (the
``SEGMENTER_METADATA`` custom metadata) and ``convert_to_json``.
"""

from __future__ import annotations

from ...tasks.image_segmenter import Activation, ImageSegmenterOptionsMd
from ...tasks.image_segmenter import MediaPipeImageSegmenterWriter as MetadataWriter
from ...tasks.image_segmenter import segmenter_metadata_json as convert_to_json

__all__ = ["Activation", "ImageSegmenterOptionsMd", "MetadataWriter", "convert_to_json"]
