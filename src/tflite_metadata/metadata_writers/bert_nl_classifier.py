"""Drop-in for ``tflite_support.metadata_writers.bert_nl_classifier``.

A re-export of :class:`tflite_metadata.tasks.bert_nl_classifier.BertNLClassifierWriter`
as ``MetadataWriter``.
"""

from __future__ import annotations

from ..tasks.bert_nl_classifier import BertNLClassifierWriter as MetadataWriter

__all__ = ["MetadataWriter"]
