"""Drop-in for ``tflite_support.metadata_writers.nl_classifier``.

A re-export of :class:`tflite_metadata.tasks.nl_classifier.NLClassifierWriter` as
``MetadataWriter``.
"""

from __future__ import annotations

from ..tasks.nl_classifier import NLClassifierWriter as MetadataWriter

__all__ = ["MetadataWriter"]
