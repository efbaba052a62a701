"""Drop-in for ``tflite_support.metadata``: populating and displaying metadata.

A thin layer: the logic lives in :mod:`tflite_metadata.model.populate`,
:mod:`tflite_metadata.model.display` and :mod:`tflite_metadata.fileio`.
"""

from __future__ import annotations

from .fileio import get_path_to_datafile
from .model.display import MetadataDisplayer, convert_to_json, get_metadata_buffer
from .model.populate import MetadataPopulator

__all__ = [
    "MetadataDisplayer",
    "MetadataPopulator",
    "convert_to_json",
    "get_metadata_buffer",
    "get_path_to_datafile",
]
