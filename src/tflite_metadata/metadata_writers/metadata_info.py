"""Drop-in for ``tflite_support.metadata_writers.metadata_info``.

A re-export of :mod:`tflite_metadata.info` (the audio classifier's classes).
"""

from __future__ import annotations

from ..tasks.info import (
    AssociatedFileMd,
    CategoryTensorMd,
    ClassificationTensorMd,
    GeneralMd,
    InputAudioTensorMd,
    LabelFileMd,
    ScoreCalibrationMd,
    TensorMd,
)

__all__ = [
    "AssociatedFileMd",
    "CategoryTensorMd",
    "ClassificationTensorMd",
    "GeneralMd",
    "InputAudioTensorMd",
    "LabelFileMd",
    "ScoreCalibrationMd",
    "TensorMd",
]
