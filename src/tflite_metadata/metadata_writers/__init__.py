"""Drop-in for ``tflite_support.metadata_writers``: writers for audio and image classifiers.

Replace ``tflite_support`` with ``tflite_metadata`` in imports::

    from tflite_metadata.metadata_writers import audio_classifier, metadata_info, writer_utils
    from tflite_metadata.metadata_writers import image_classifier

The modules here only re-export the typed core (:mod:`tflite_metadata.tasks`).
"""

from __future__ import annotations

from . import audio_classifier, image_classifier, metadata_info, metadata_writer, writer_utils

__all__ = [
    "audio_classifier",
    "image_classifier",
    "metadata_info",
    "metadata_writer",
    "writer_utils",
]
