"""Drop-in for ``mediapipe.tasks.python.metadata``: MediaPipe's metadata tools, in pure Python.

Replace ``mediapipe.tasks.python.metadata`` with ``tflite_metadata.mediapipe`` in imports::

    from tflite_metadata.mediapipe import metadata
    from tflite_metadata.mediapipe.metadata_writers import metadata_writer, image_classifier

The modules here only re-export the project's own modules. Each is imported when
first used, so that importing one does not import the others.
"""

from __future__ import annotations

from typing import Any

from .._lazy import lazy_submodule


def __getattr__(name: str) -> Any:
    return lazy_submodule(__name__, name)
