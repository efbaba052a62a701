"""Drop-in for MediaPipe's ``metadata_writers.metadata_info``: the descriptions.

A re-export of the descriptions of :mod:`tflite_metadata.tasks`, with MediaPipe's
``BertInputTensorsMd`` (its own signature, and ``input_md``).
"""

from __future__ import annotations

from ...tasks.base import (
    AssociatedFileMd,
    CustomMetadataMd,
    GeneralMd,
    LabelFileMd,
    TensorGroupMd,
    TensorMd,
    ValueRangeMd,
)
from ...tasks.classification import (
    CategoryTensorMd,
    ClassificationTensorMd,
    ScoreCalibrationMd,
    ScoreThresholdingMd,
)
from ...tasks.image_input import InputImageTensorMd
from ...tasks.image_segmenter import SegmentationMaskMd
from ...tasks.object_detector import (
    DetectionOutputTensorsMd,
    LocationTensorMd,
    RawDetectionOutputTensorsMd,
    RawDetectionOutputTensorsOrder,
)
from ...tasks.text import (
    BertTokenizerMd,
    InputTextTensorMd,
    RegexTokenizerMd,
    SentencePieceTokenizerMd,
)
from ...tasks.text import MediaPipeBertInputTensorsMd as BertInputTensorsMd

__all__ = [
    "AssociatedFileMd",
    "BertInputTensorsMd",
    "BertTokenizerMd",
    "CategoryTensorMd",
    "ClassificationTensorMd",
    "CustomMetadataMd",
    "DetectionOutputTensorsMd",
    "GeneralMd",
    "InputImageTensorMd",
    "InputTextTensorMd",
    "LabelFileMd",
    "LocationTensorMd",
    "RawDetectionOutputTensorsMd",
    "RawDetectionOutputTensorsOrder",
    "RegexTokenizerMd",
    "ScoreCalibrationMd",
    "ScoreThresholdingMd",
    "SegmentationMaskMd",
    "SentencePieceTokenizerMd",
    "TensorGroupMd",
    "TensorMd",
    "ValueRangeMd",
]
