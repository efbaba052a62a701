"""Drop-in for ``tflite_support.metadata_writers.image_classifier``.

A re-export of :class:`tflite_metadata.tasks.image_classifier.ImageClassifierWriter`
as ``MetadataWriter``, and of tflite-support's public constants (the default names
and descriptions).
"""

from __future__ import annotations

from ..tasks.image_classifier import (
    INPUT_DESCRIPTION,
    INPUT_NAME,
    MODEL_DESCRIPTION,
    OUTPUT_DESCRIPTION,
    OUTPUT_NAME,
)
from ..tasks.image_classifier import ImageClassifierWriter as MetadataWriter

__all__ = [
    "INPUT_DESCRIPTION",
    "INPUT_NAME",
    "MODEL_DESCRIPTION",
    "OUTPUT_DESCRIPTION",
    "OUTPUT_NAME",
    "MetadataWriter",
]
