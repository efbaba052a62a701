"""Drop-in for MediaPipe's ``metadata_writers.text_classifier``.

A re-export of :class:`tflite_metadata.tasks.text.MediaPipeTextClassifierWriter`
as ``MetadataWriter``.
"""

from __future__ import annotations

from ...tasks.text import MediaPipeTextClassifierWriter as MetadataWriter

__all__ = ["MetadataWriter"]
