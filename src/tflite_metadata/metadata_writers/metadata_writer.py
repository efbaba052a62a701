"""Drop-in for tflite-support's ``metadata_writers.metadata_writer``.

A re-export of :class:`tflite_metadata.writer.MetadataWriter`.
"""

from __future__ import annotations

from ..tasks.writer import MetadataWriter

__all__ = ["MetadataWriter"]
