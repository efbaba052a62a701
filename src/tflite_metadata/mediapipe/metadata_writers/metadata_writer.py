"""Drop-in for MediaPipe's ``metadata_writers.metadata_writer``: the metadata builder.

A re-export of :mod:`tflite_metadata.tasks.builder`.
"""

from __future__ import annotations

from ...tasks.builder import (
    BertTokenizer,
    CalibrationParameter,
    LabelItem,
    Labels,
    MetadataWriter,
    MetadataWriterBase,
    RegexTokenizer,
    ScoreCalibration,
    ScoreThresholding,
    SentencePieceTokenizer,
)

__all__ = [
    "BertTokenizer",
    "CalibrationParameter",
    "LabelItem",
    "Labels",
    "MetadataWriter",
    "MetadataWriterBase",
    "RegexTokenizer",
    "ScoreCalibration",
    "ScoreThresholding",
    "SentencePieceTokenizer",
]
