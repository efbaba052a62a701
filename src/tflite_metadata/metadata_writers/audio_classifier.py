"""Drop-in for ``tflite_support.metadata_writers.audio_classifier``.

A re-export of :class:`tflite_metadata.tasks.audio_classifier.AudioClassifierWriter`
as ``MetadataWriter``.
"""

from __future__ import annotations

from ..tasks.audio_classifier import AudioClassifierWriter as MetadataWriter

__all__ = ["MetadataWriter"]
