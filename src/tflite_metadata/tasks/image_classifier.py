"""The image classifier task: tflite-support's ``image_classifier`` writer.

One input image (``ImageProperties``: its color space; ``NormalizationOptions``:
the mean and std that turn pixels into the model's input), one or more
classification heads (see :mod:`.classification`).

Example::

    writer = ImageClassifierWriter.create_for_inference(
        model, input_norm_mean=[127.5], input_norm_std=[127.5],
        label_file_paths=[LabelFileMd(labels=["cat", "dog"])],
    )
    populated = writer.populate()

Interface and output are tflite-support 0.4.4's. The differences are on purpose:
a std of 0, and a mean or std that is not a finite number (or not a float32),
are errors (tflite-support divides by zero, or writes NaN); the caller's lists
and descriptions are never modified (tflite-support set ``output_md.associated_files``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import MetadataValidationError
from ..fileio import PathLike
from ..format.flatbuf import BufferLike
from ..model.reader import model_bytes
from . import Task
from .base import LabelFileMd, MetadataWriterBase, ModelSource
from .classification import (
    HEADS_SPEC_HELP,
    ClassifierWriter,
    ScoreCalibrationMd,
    add_head_arguments,
    check_output_metadata,
    check_output_tensors,
    heads_from_spec,
    merge_head_arguments,
)
from .image_input import (
    RGB,
    InputImageTensorMd,
    add_image_arguments,
    check_image_input_metadata,
    check_image_model,
    has_image_properties,
    image_input_md,
    merge_image_arguments,
)
from .rules import BOTH, Checker
from .spec import GENERAL_KEYS, Spec, general_md
from .writer_utils import get_input_tensor_types

__all__ = [
    "INPUT_DESCRIPTION",
    "INPUT_NAME",
    "MODEL_DESCRIPTION",
    "OUTPUT_DESCRIPTION",
    "OUTPUT_NAME",
    "ImageClassifierWriter",
    "InputImageTensorMd",
    "MediaPipeImageClassifierWriter",
]

# The names and descriptions tflite-support's image classifier writer gives; the
# four public ones are public constants of its module too.
_MODEL_NAME = "ImageClassifier"
MODEL_DESCRIPTION = (
    "Identify the most prominent object in the image from a known set of categories."
)
INPUT_NAME = "image"
INPUT_DESCRIPTION = "Input image to be classified."
OUTPUT_NAME = "probability"
OUTPUT_DESCRIPTION = "Probabilities of the labels respectively."

# -- the writer ----------------------------------------------------------------------------------


class ImageClassifierWriter(ClassifierWriter):
    """Writes metadata into an image classifier.

    tflite-support's ``image_classifier.MetadataWriter``: ``create_for_inference``,
    and (from :class:`~.classification.ClassifierWriter`) ``create_from_metadata_info``
    and, as the audio writer, ``create_from_metadata_info_for_multihead`` (both
    consumers run image classifiers with several heads, one output each;
    tflite-support's image writer has no such method).

    Defaults: the model is named ``"ImageClassifier"``, its input ``"image"``
    (``ImageProperties``, RGB, no normalization) and its output ``"probability"``,
    with tflite-support's descriptions (:data:`MODEL_DESCRIPTION` …).
    """

    task = "image-classifier"
    MODEL_NAME = _MODEL_NAME
    MODEL_DESCRIPTION = MODEL_DESCRIPTION
    OUTPUT_NAME = OUTPUT_NAME
    OUTPUT_DESCRIPTION = OUTPUT_DESCRIPTION

    @classmethod
    def default_input_md(cls) -> InputImageTensorMd:
        """``"image"``, RGB, with tflite-support's description, no normalization, no stats."""
        return InputImageTensorMd(
            name=INPUT_NAME, description=INPUT_DESCRIPTION, color_space_type=RGB
        )

    @classmethod
    def create_for_inference(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: Optional[Sequence[float]],
        input_norm_std: Optional[Sequence[float]],
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
        score_calibration_md: Optional[ScoreCalibrationMd] = None,
    ) -> ImageClassifierWriter:
        """Create the metadata the Task Library and MediaPipe need for inference.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean used to normalize the input, one value (for
                every channel) or one per channel: the model's input is
                ``(pixel - mean) / std``. Both consumers ignore it for a UINT8
                input, and need it for a FLOAT32 one.
            input_norm_std: the std, as many values as the mean.
            label_file_paths: the label files of the output, one per locale:
                paths, or :class:`LabelFileMd` (e.g. ``LabelFileMd(labels=[...])``).
                Empty if the model has no labels.
            score_calibration_md: the output's score calibration, if any.

        Returns:
            A writer; the input is RGB, its stats follow its tensor type (see
            :class:`InputImageTensorMd`); the output's stats follow its tensor type
            (``UINT8``: 0..255, ``FLOAT32``: 0.0..1.0, other: none).

        Raises:
            MetadataValidationError: the mean and std are invalid (see
                :class:`InputImageTensorMd`), or the model has no input or no output.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        input_types = get_input_tensor_types(model)
        if not input_types:
            raise MetadataValidationError(
                "The model has no input tensor (an image classifier has one: the image)."
            )
        input_md = InputImageTensorMd(
            name=INPUT_NAME,
            description=INPUT_DESCRIPTION,
            norm_mean=input_norm_mean,
            norm_std=input_norm_std,
            color_space_type=RGB,
            tensor_type=input_types[0],
        )
        return cls.for_inference(model, input_md, label_file_paths, score_calibration_md)


class MediaPipeImageClassifierWriter(MetadataWriterBase):
    """MediaPipe's ``image_classifier.MetadataWriter``: an image classifier, one head.

    It fills a builder (:class:`tflite_metadata.tasks.builder.MetadataWriter`)
    with what MediaPipe Tasks' ``ImageClassifier`` needs.
    """

    @classmethod
    def create(
        cls,
        model_buffer: ModelSource,
        input_norm_mean: list[float],
        input_norm_std: list[float],
        labels: Any,
        score_calibration: Optional[Any] = None,
    ) -> MediaPipeImageClassifierWriter:
        """A writer for an image classifier.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            input_norm_mean: the mean of the input's normalization, one value or
                one per channel: the input is ``(pixel - mean) / std``.
            input_norm_std: the std, as many values as the mean.
            labels: the output's ``Labels``.
            score_calibration: the output's ``ScoreCalibration``, if any.

        Raises:
            As the builder's ``add_*`` methods.
        """
        from .builder import MetadataWriter

        writer = MetadataWriter(model_buffer)
        writer.task = ImageClassifierWriter.task
        writer.add_general_info(_MODEL_NAME, MODEL_DESCRIPTION)
        writer.add_image_input(input_norm_mean, input_norm_std)
        writer.add_classification_output(labels, score_calibration)
        return cls(writer)


# -- the consumers' rules ------------------------------------------------------------------------
# The Task Library ImageClassifier of tflite-support 0.4.4 (image_classifier.cc,
# image_tensor_specs.cc, image_preprocessor.cc, classification_head.cc,
# score_calibration.cc, metadata_extractor.cc) and MediaPipe's ImageClassifier
# (image_tensor_specs.cc, image_preprocessing_graph.cc,
# classification_postprocessing_graph.cc), each rule measured with tflite-support 0.4.4
# and mediapipe 1.2.2 (the verdicts are in tests/test_image_consumers.py).


def _recognizes(metadata: Any) -> bool:
    """An image on the first input and one output that is not an image: an image classifier.

    (An image on the output is a segmenter's; several outputs, a detector's.)
    """
    subgraphs = metadata.subgraphMetadata or []
    if not subgraphs:
        return False
    inputs = subgraphs[0].inputTensorMetadata or []
    outputs = subgraphs[0].outputTensorMetadata or []
    return (
        bool(inputs)
        and has_image_properties(inputs[0])
        and len(outputs) == 1
        and not has_image_properties(outputs[0])
    )


def _check_model(checker: Checker) -> None:
    check_image_model(checker, "image classifiers", "classify")
    check_output_tensors(checker, mixed_quantization_refused_by_task_library=True)


def _check_metadata(checker: Checker) -> None:
    # Measured: the image classifiers of both consumers refuse a negative scale.
    checker.negative_scale_refused_by = BOTH
    check_image_input_metadata(checker, "image classifiers")
    check_output_metadata(checker, names_required=False)


# -- the command line and spec files -----------------------------------------------------------

_SPEC_KEYS = frozenset((*GENERAL_KEYS, "input", "outputs"))

_SPEC_HELP = (
    """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "ImageClassifier", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"name": "image", "description": "...",
              "mean": [127.5], "std": [127.5], "color_space": "RGB"},
"""
    + HEADS_SPEC_HELP
)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    add_image_arguments(parser, INPUT_NAME)
    add_head_arguments(parser, OUTPUT_NAME)


def _merge_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    merge_image_arguments(args, document)
    merge_head_arguments(args, document)


def _build_writer(
    model: BufferLike, document: dict[str, Any], spec: Spec, base: Optional[Path]
) -> ImageClassifierWriter:
    document = spec.table(document, "spec", _SPEC_KEYS)
    general = general_md(spec, document, _MODEL_NAME, MODEL_DESCRIPTION)
    input_md = image_input_md(
        model, spec, document, INPUT_NAME, INPUT_DESCRIPTION, "image classifier"
    )
    heads = heads_from_spec(model, spec, document, base, OUTPUT_NAME, OUTPUT_DESCRIPTION)
    return ImageClassifierWriter.create_from_metadata_info_for_multihead(
        model, general, input_md, heads
    )


TASK = Task(
    name="image-classifier",
    writer=ImageClassifierWriter,
    recognizes=_recognizes,
    check_model=_check_model,
    check_metadata=_check_metadata,
    add_arguments=_add_arguments,
    merge_arguments=_merge_arguments,
    build_writer=_build_writer,
    spec_help=_SPEC_HELP,
    description=(
        "Write image classifier metadata into MODEL, as tflite-support's "
        "image_classifier.MetadataWriter does, and save the result as OUT. OUT is checked "
        "against the rules of the Task Library and MediaPipe image classifiers first, and "
        "not written if they would refuse it (unless --no-check). A FLOAT32 input needs "
        "--mean and --std (a UINT8 input is fed as it is). Options describe one "
        "classification head; for a model with several outputs, start each head with "
        "--head, or describe everything in a spec file (--spec)."
    ),
    model_name=_MODEL_NAME,
    requires_metadata=False,
)
