"""tflite-metadata: write and read TensorFlow Lite model metadata in pure Python."""

from __future__ import annotations

__version__ = "0.1.0"
