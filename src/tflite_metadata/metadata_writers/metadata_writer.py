"""Drop-in for tflite-support's ``metadata_writers.metadata_writer``.

A re-export of :class:`tflite_metadata.tasks.base.MetadataWriter`.
"""

from __future__ import annotations

from ..tasks.base import MetadataWriter

__all__ = ["MetadataWriter"]
