"""Drop-in for ``mediapipe.tasks.python.metadata.metadata_writers.model_asset_bundle_utils``.

``create_model_asset_bundle(input_models, output_path)`` writes the same bytes as
MediaPipe's; it lives in :mod:`tflite_metadata.archive.bundle`.
"""

from __future__ import annotations

from ...archive.bundle import ALIGNMENT as _ALIGNMENT
from ...archive.bundle import create_model_asset_bundle

__all__ = ["create_model_asset_bundle"]

# MediaPipe's tests read the alignment from the module.
_ALIGNMENT = _ALIGNMENT
