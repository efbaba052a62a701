"""Drop-in for MediaPipe's ``metadata_writers.image_segmenter`` (without activations, so far).

A re-export of :class:`tflite_metadata.tasks.image_segmenter.MediaPipeImageSegmenterWriter`
as ``MetadataWriter``, and of ``Activation`` and ``convert_to_json``. Writing an
activation needs the ``SEGMENTER_METADATA`` custom metadata, not declared yet:
``create`` refuses one.
"""

from __future__ import annotations

from ...tasks.image_segmenter import Activation
from ...tasks.image_segmenter import MediaPipeImageSegmenterWriter as MetadataWriter
from ...tasks.image_segmenter import segmenter_metadata_json as convert_to_json

__all__ = ["Activation", "MetadataWriter", "convert_to_json"]
