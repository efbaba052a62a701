"""Drop-in for ``tflite_support.metadata_writers``: the metadata writers, by task.

Replace ``tflite_support`` with ``tflite_metadata`` in imports::

    from tflite_metadata.metadata_writers import audio_classifier, metadata_info, writer_utils
    from tflite_metadata.metadata_writers import image_classifier, object_detector
    from tflite_metadata.metadata_writers import bert_nl_classifier, nl_classifier

The modules here only re-export the task modules of :mod:`tflite_metadata.tasks`.
Each is imported when first used (tflite-support imports them all with the
package), so that importing one writer does not import every task.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "audio_classifier",
    "bert_nl_classifier",
    "image_classifier",
    "image_segmenter",
    "metadata_info",
    "metadata_writer",
    "nl_classifier",
    "object_detector",
    "writer_utils",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
