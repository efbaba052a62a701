"""Drop-in for ``mediapipe.tasks.python.metadata.metadata``: populating and displaying.

A re-export of :mod:`tflite_metadata.model.populate` and :mod:`tflite_metadata.model.display`
(the same as :mod:`tflite_metadata.metadata`, tflite-support's, of which MediaPipe's is a copy;
``convert_to_json`` takes MediaPipe's ``custom_metadata_schema`` too, and
``get_path_to_datafile`` is the same helper).
"""

from __future__ import annotations

from ..fileio import get_path_to_datafile
from ..model.display import MetadataDisplayer, convert_to_json, get_metadata_buffer
from ..model.populate import MetadataPopulator

__all__ = [
    "MetadataDisplayer",
    "MetadataPopulator",
    "convert_to_json",
    "get_metadata_buffer",
    "get_path_to_datafile",
]
