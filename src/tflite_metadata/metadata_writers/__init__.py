"""Drop-in for ``tflite_support.metadata_writers``: metadata writers for audio classifiers.

Replace ``tflite_support`` with ``tflite_metadata`` in imports::

    from tflite_metadata.metadata_writers import audio_classifier, metadata_info, writer_utils

The modules here only re-export the typed core (:mod:`tflite_metadata.writer`,
:mod:`tflite_metadata.info`, :mod:`tflite_metadata.writer_utils`).
"""

from __future__ import annotations

from . import audio_classifier, metadata_info, metadata_writer, writer_utils

__all__ = ["audio_classifier", "metadata_info", "metadata_writer", "writer_utils"]
