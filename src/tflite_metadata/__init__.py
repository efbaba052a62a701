"""tflite-metadata: write and read TensorFlow Lite model metadata in pure Python.

As with ``tflite_support``, the modules are attributes of the package
(``import tflite_metadata; tflite_metadata.metadata.MetadataDisplayer``); each
is imported when first used, so that importing the package costs nothing.
"""

from __future__ import annotations

from typing import Any

from ._lazy import lazy_submodule

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    return lazy_submodule(__name__, name)
