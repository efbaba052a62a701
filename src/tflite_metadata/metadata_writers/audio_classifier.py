"""Drop-in for ``tflite_support.metadata_writers.audio_classifier``.

A re-export of :class:`tflite_metadata.writer.AudioClassifierWriter` as ``MetadataWriter``.
"""

from __future__ import annotations

from ..tasks.writer import AudioClassifierWriter as MetadataWriter

__all__ = ["MetadataWriter"]
