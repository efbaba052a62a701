"""Drop-in for ``tflite_support.metadata_writers.metadata_info``.

A re-export of the descriptions of :mod:`tflite_metadata.tasks`.
"""

from __future__ import annotations

from ..tasks.audio_classifier import InputAudioTensorMd
from ..tasks.base import AssociatedFileMd, GeneralMd, LabelFileMd, TensorMd
from ..tasks.classification import CategoryTensorMd, ClassificationTensorMd, ScoreCalibrationMd
from ..tasks.image_input import InputImageTensorMd
from ..tasks.image_segmenter import SegmentationMaskMd
from ..tasks.text import (
    BertInputTensorsMd,
    BertTokenizerMd,
    InputTextTensorMd,
    RegexTokenizerMd,
    SentencePieceTokenizerMd,
)

__all__ = [
    "AssociatedFileMd",
    "BertInputTensorsMd",
    "BertTokenizerMd",
    "CategoryTensorMd",
    "ClassificationTensorMd",
    "GeneralMd",
    "InputAudioTensorMd",
    "InputImageTensorMd",
    "InputTextTensorMd",
    "LabelFileMd",
    "RegexTokenizerMd",
    "ScoreCalibrationMd",
    "SegmentationMaskMd",
    "SentencePieceTokenizerMd",
    "TensorMd",
]
