"""The tasks: one module per kind of model a consumer runs, and the registry that names them.

A task module (:mod:`.audio_classifier`, :mod:`.image_classifier` …) holds
everything about its task: the writer, its ``*Md`` descriptions, the rules its
consumers apply when they load a model (for :func:`tflite_metadata.check.check`)
and its command-line options and spec-file keys (for ``tflite-metadata write
KIND``). It ends with ``TASK = Task(...)``, which gathers them. What every task
shares lives in :mod:`.base` (writer, descriptions, model argument, tensor
order), :mod:`.classification` (the heads every classifier has), :mod:`.rules`
(problems and what a rule reads) and :mod:`.spec` (spec files).

The registry, :data:`TASKS`, is one line per task: its name, its module and
a one-line summary. The command line is built from it, and a task's module is
imported only when the task is used (:func:`load_task`), so that adding tasks
does not slow the commands that do not use them. Adding a task is writing its
module and adding its line here.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:  # pragma: no cover - types only; importing them here would load every layer
    import argparse
    from pathlib import Path

    from ..format.flatbuf import BufferLike
    from .base import MetadataWriter
    from .rules import Checker, Tensor
    from .spec import Spec

__all__ = ["TASKS", "Task", "TaskEntry", "every_value", "load_task"]


@dataclass(frozen=True)
class TaskEntry:
    """One line of the registry: where a task lives and what it is, in a few words."""

    #: The module of the task, in this package.
    module: str
    #: What the task writes, for ``tflite-metadata write --help``.
    summary: str


#: Every task, by name (as in ``tflite-metadata write NAME`` and ``check --task NAME``).
#: When a model's task is inferred, the tasks are asked in this order.
TASKS: dict[str, TaskEntry] = {
    "audio-classifier": TaskEntry("audio_classifier", "an audio classifier (AudioClassifier)"),
    "object-detector": TaskEntry("object_detector", "an object detector (ObjectDetector)"),
    # Before the image classifier: a segmenter's input is an image too.
    "image-segmenter": TaskEntry("image_segmenter", "an image segmenter (ImageSegmenter)"),
    "image-classifier": TaskEntry("image_classifier", "an image classifier (ImageClassifier)"),
    "bert-nl-classifier": TaskEntry(
        "bert_nl_classifier", "a BERT text classifier (BertNLClassifier)"
    ),
    "nl-classifier": TaskEntry("nl_classifier", "a text classifier (NLClassifier)"),
}


def every_value(tensor: Tensor) -> Optional[int]:
    """The classes of a classification output: the product of its shape (1 for a scalar)."""
    return math.prod(tensor.shape) if tensor.shape else 1


@dataclass(frozen=True)
class Task:
    """What a task module provides to the rest of the package.

    Attributes:
        name: the task's name in :data:`TASKS`.
        writer: the task's writer class.
        recognizes: whether decoded metadata (``ModelMetadataT``) describes a
            model of this task.
        check_model: the consumers' rules on the model's tensors.
        check_metadata: the consumers' rules on its metadata (decoded, with a
            subgraph).
        add_arguments: adds the task's options to the parser of ``write NAME``.
        merge_arguments: puts the task's parsed options into a spec document.
        build_writer: the writer for a model, from a spec document, paths in
            it relative to a folder (None: the working folder).
        spec_help: the spec file's keys, for ``write NAME --help``.
        description: the help text of ``write NAME``.
        model_name: the model's name when none is given.
        requires_metadata: whether the task's consumers refuse a model without
            metadata (or without subgraph metadata). The image classifiers
            accept one (its labels are then numbers); a task that does not
            require metadata reports what a model without it lacks in
            ``check_model``.
        output_classes: the number of classes the consumers count an output's
            label and score calibration files against, or None where they do
            not count them (then only what they do read is checked: a label
            file must not be empty). Default: every value of the output
            (``[1, classes]`` for a classifier). Not used when
            ``checks_output_files`` is set.
        checks_output_files: whether ``check_metadata`` checks the outputs'
            label and calibration files itself (the detector's label map is on
            one output, its calibration on another); otherwise ``check`` checks
            each output's files against its classes (``output_classes``).
    """

    name: str
    writer: type[MetadataWriter]
    recognizes: Callable[[Any], bool]
    check_model: Callable[[Checker], None]
    check_metadata: Callable[[Checker], None]
    add_arguments: Callable[[argparse.ArgumentParser], None]
    merge_arguments: Callable[[argparse.Namespace, dict[str, Any]], None]
    build_writer: Callable[[BufferLike, dict[str, Any], Spec, Path | None], MetadataWriter]
    spec_help: str
    description: str
    model_name: str
    requires_metadata: bool = True
    output_classes: Callable[[Tensor], Optional[int]] = every_value
    checks_output_files: bool = False


def load_task(name: str) -> Task:
    """The :class:`Task` named ``name``, its module imported on first use.

    Raises:
        MetadataValidationError: there is no such task.
    """
    entry = TASKS.get(name)
    if entry is None:
        from ..errors import MetadataValidationError

        raise MetadataValidationError(
            f"there is no task {name!r}; the tasks are {', '.join(TASKS)}"
        )
    module = importlib.import_module(f"{__name__}.{entry.module}")
    task: Task = module.TASK
    return task
