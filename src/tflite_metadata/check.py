"""Checking a model against the rules its consumers apply when they load it.

tflite-support's writers accept metadata that the consumers then refuse: a
label file with one label too many, a score calibration file whose trailing
newline counts as one more entry, a sample rate of 0 … The consumer only says
so on the device, at load time. :func:`check` applies the same rules ahead of
time and returns every problem it finds, each with the value expected and the
value found.

Two kinds of rules run:

* the rules common to every model, here: the subgraph's inputs and outputs
  name tensors it has, the metadata can be read and describes a subgraph,
  every file it records is packed, stored and readable, the label and
  calibration files of each output match its classes;
* the rules of the model's task, beside the task's writer (for example
  :mod:`tflite_metadata.tasks.audio_classifier`), read from the sources of the
  Task Library (tflite-support 0.4.4) and MediaPipe Tasks. The task is given,
  or inferred from the metadata (see :func:`infer_task`); a model whose task
  cannot be told gets the common rules only.

Example::

    from tflite_metadata.check import check

    for problem in check("model.tflite"):
        print(problem)        # output 0: label file 'labels.txt' has 3 labels for 7 classes

The Python writers keep tflite-support's permissive behaviour; they call
:func:`warn_for_problems` to report the same problems as
:class:`~tflite_metadata.errors.ConsumerCompatibilityWarning`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Optional, Union

from .errors import ConsumerCompatibilityWarning, MetadataError, warn_at_caller
from .fileio import PathLike, map_file
from .model.populate import recorded_file_names
from .model.reader import model_bytes
from .tasks import TASKS, Task, every_value, load_task
from .tasks.rules import (
    BOTH,
    MEDIAPIPE,
    TASK_LIBRARY,
    Checker,
    Code,
    Problem,
    calibration_entry_count,
    compression_methods,
    label_counts,
    plural,
    printable,
    read_facts,
)

__all__ = [
    "BOTH",
    "MEDIAPIPE",
    "TASK_LIBRARY",
    "Code",
    "ModelSource",
    "Problem",
    "calibration_entry_count",
    "check",
    "infer_task",
    "label_counts",
    "printable",
    "warn_for_problems",
]

#: A model to check: its bytes or the path of its file.
ModelSource = Union[bytes, bytearray, memoryview, PathLike]


# -- the common rules --------------------------------------------------------------------------


def _check_tensor_indices(checker: Checker) -> bool:
    """Report inputs and outputs naming tensors the subgraph does not have; whether any do.

    The TFLite interpreter (under both consumers) refuses such a model when it
    builds the subgraph; populating it only counts the indices, as tflite-support.
    """
    for kind, position, index, count in checker.model.dangling:
        checker.add(
            Code.TENSOR_INDEX,
            f"{kind} {position}",
            f"is tensor {index}, but subgraph 0 has {plural(count, 'tensor')} "
            "(the TFLite interpreter refuses to load the model)",
        )
    return bool(checker.model.dangling)


def _check_zip(checker: Checker) -> None:
    tail = checker.model.zip_tail
    if isinstance(tail, Exception):
        checker.add(
            Code.ZIP_MALFORMED,
            "associated files",
            f"the zip of associated files cannot be read: {printable(str(tail))}",
        )
        return
    if tail is None:
        return
    for name, method in compression_methods(tail):
        if method != 0:
            checker.add(
                Code.FILE_COMPRESSED,
                f"file {printable(name)}",
                f"is stored compressed (zip method {method}); the consumers read only "
                "stored (uncompressed, method 0) entries",
            )


def _check_output_files(checker: Checker, task: Optional[Task]) -> None:
    """Each output's label and calibration files against its classes (the task's count)."""
    count = every_value if task is None else task.output_classes
    outputs = checker.tensor_metadata("output") or []
    for tensor, tensor_metadata in zip(checker.model.outputs, outputs):
        checker.check_head_files(f"output {tensor.index}", tensor_metadata, count(tensor))


def _check_recorded_files(checker: Checker) -> None:
    try:
        names = recorded_file_names(checker.metadata)
    except MetadataError as exc:
        checker.add(Code.METADATA_MALFORMED, "metadata", printable(str(exc)))
        return
    packed = checker.packed_names()
    reported: set[str] = set()
    for name in names:
        if not name or name in packed or name in reported:
            continue
        reported.add(name)
        checker.add(
            Code.FILE_MISSING,
            f"file {printable(name)}",
            "is recorded in the metadata but not packed in the model",
        )


def _run(checker: Checker, task: Optional[Task]) -> list[Problem]:
    metadata = checker.decode_metadata(
        "the consumers read from it how to feed the model and how to read its outputs"
    )
    # Reported in order: the model's tensors, its files, then its metadata.
    metadata_problems = list(checker.problems)
    checker.problems.clear()
    if task is None and checker.subgraph_metadata is not None:
        task = infer_task(metadata)
    metadata_optional = task is not None and not task.requires_metadata
    if metadata_optional:
        metadata_problems = [p for p in metadata_problems if p.code != Code.NO_METADATA]
    # Without its tensors, the model's rules (and the metadata's, which compare
    # with them) cannot be applied.
    tensors_known = not _check_tensor_indices(checker)
    if task is not None and tensors_known:
        task.check_model(checker)
    _check_zip(checker)
    checker.problems.extend(metadata_problems)
    if metadata is None:
        return checker.problems
    if checker.subgraph_metadata is None:
        # An empty list is read out of bounds even by consumers that take no list at all.
        if not metadata_optional or metadata.subgraphMetadata is not None:
            checker.add(
                Code.SUBGRAPH_METADATA,
                "metadata",
                "has no subgraph metadata; expected 1, describing the model's tensors",
            )
    elif tensors_known:
        if task is not None:
            task.check_metadata(checker)
        if task is None or not task.checks_output_files:
            _check_output_files(checker, task)
    _check_recorded_files(checker)
    return checker.problems


def infer_task(metadata: Any) -> Optional[Task]:
    """The task that decoded metadata (``ModelMetadataT``) describes, if one can be told.

    The tasks of :data:`~tflite_metadata.tasks.TASKS` are asked in turn (an audio
    input means an audio classifier, an image input with one classification
    output an image classifier …); the first that recognizes the metadata is it.
    """
    for name in TASKS:
        task = load_task(name)
        if task.recognizes(metadata):
            return task
    return None


# -- entry points ------------------------------------------------------------------------------


def check(model: ModelSource, task: Optional[str] = None) -> list[Problem]:
    """Every reason the Task Library or MediaPipe would refuse ``model``.

    Args:
        model: the model's bytes (``bytes``, ``bytearray``, ``memoryview``) or
            the path of its file (mapped, not read).
        task: the task whose consumers load the model, a name of
            :data:`~tflite_metadata.tasks.TASKS` (``"audio-classifier"`` …).
            Default: the task its metadata describes; when it describes none,
            only the rules common to every model apply.

    Returns:
        The problems found, in a stable order (model, inputs, outputs,
        associated files); empty when both consumers would accept the model.
        A packed label or score calibration file that cannot be examined is a
        problem too, ``file-not-checked``: one larger than
        :data:`~tflite_metadata.tasks.rules.MAX_EXAMINED_FILE_SIZE` (64 MiB),
        which is not read into memory, or one that cannot be read. Nothing is
        passed unexamined: an empty list means every rule was applied.

    Raises:
        ModelFormatError: ``model`` is not a readable TFLite model.
        MissingFileError: the path does not exist.
        MetadataValidationError: ``task`` is not a known task.
        MetadataError: (another subclass) the file cannot be read.

    Example::

        problems = check(populated_model, task="image-classifier")
        if problems:
            print("\\n".join(str(p) for p in problems))
    """
    task_rules = None if task is None else load_task(task)
    if isinstance(model, (str, os.PathLike)):
        with map_file(model) as data:
            return _run(Checker(read_facts(data)), task_rules)
    return _run(Checker(read_facts(model_bytes(model, "model"))), task_rules)


def warn_for_problems(problems: Iterable[Problem]) -> None:
    """Emit one :class:`~tflite_metadata.errors.ConsumerCompatibilityWarning` per problem.

    For the Python writers, which keep tflite-support's permissive behaviour:
    they produce the model, and say why a consumer would refuse it. The
    warnings point at the caller's line, the first outside this package.

    Args:
        problems: what :func:`check` returned.
    """
    for problem in problems:
        refused_by = " and ".join(problem.consumers)
        # A file that could not be examined is not known to be refused.
        verdict = "may" if problem.code == Code.FILE_NOT_CHECKED else "would"
        warn_at_caller(
            ConsumerCompatibilityWarning(
                f"{problem} ({refused_by} {verdict} refuse the model) [{problem.code}]"
            )
        )
