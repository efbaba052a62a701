"""Drop-in for ``mediapipe.tasks.python.metadata.metadata_writers``: MediaPipe's writers.

Each module is imported when first used (``metadata_writers.image_classifier`` …).
"""

from __future__ import annotations

from typing import Any

from ..._lazy import lazy_submodule


def __getattr__(name: str) -> Any:
    return lazy_submodule(__name__, name)
