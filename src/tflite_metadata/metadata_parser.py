"""Drop-in for tflite-support's ``metadata_parser``: the metadata schema version written.

``tensorflow_lite_support.metadata.python.metadata_parser`` in tflite-support's wheel.
"""

from __future__ import annotations

from .format.version import MetadataParser

__all__ = ["MetadataParser"]
