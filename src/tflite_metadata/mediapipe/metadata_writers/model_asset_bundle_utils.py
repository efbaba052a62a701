"""Drop-in for ``mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils``.

``create_model_asset_bundle(input_models, output_path)`` writes the same bytes as
MediaPipe's; it lives in :mod:`tflite_metadata.archive.bundle`.
"""

from __future__ import annotations

# MediaPipe's module holds its alignment as _ALIGNMENT, which its tests read.
from ...archive.bundle import ALIGNMENT as _ALIGNMENT  # noqa: F401
from ...archive.bundle import create_model_asset_bundle

__all__ = ["create_model_asset_bundle"]
