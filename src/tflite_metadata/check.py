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

A ``.task`` bundle (see :mod:`tflite_metadata.archive.bundle`) gets the rules
of MediaPipe's bundle reader (:func:`check_bundle`), then each model inside it
gets the rules above, its problems located by the entry's name.

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
from typing import IO, Any, Optional, Union

from .archive.associated_files import ZipFault, ZipFormatError, extract_refusals
from .archive.bundle import ALIGNMENT, BUNDLE_MEMBER, MAX_NESTING, is_bundle, read_bundle
from .errors import ConsumerCompatibilityWarning, MetadataError, warn_at_caller
from .fileio import PathLike, open_mapped
from .format import metadata_schema
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
    quoted,
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
    "check_bundle",
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


def _check_parser_version(checker: Checker) -> None:
    """MediaPipe refuses metadata that asks for a newer parser than its own (the schema's).

    Its metadata extractor does this for every task, with or without subgraph
    metadata; the Task Library does not look at the version.
    """
    version = None if checker.metadata is None else checker.metadata.minParserVersion
    if version is None:
        return
    text = version.decode("utf-8", "replace") if isinstance(version, bytes) else str(version)
    try:
        wanted = [int(part) for part in text.split(".")]
        own = [int(part) for part in metadata_schema.SCHEMA_VERSION.split(".")]
    except ValueError:
        return  # not a version; what MediaPipe makes of it was not measured
    width = max(len(wanted), len(own))
    if wanted + [0] * (width - len(wanted)) > own + [0] * (width - len(own)):
        checker.add(
            Code.PARSER_VERSION,
            "metadata",
            f"min_parser_version is {quoted(text)}; MediaPipe parses metadata up to "
            f"version {metadata_schema.SCHEMA_VERSION}",
            (MEDIAPIPE,),
        )


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
    _check_parser_version(checker)
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

    A ``.task`` bundle (anything without a model's ``TFL3`` identifier that
    holds a zip) is checked by :func:`check_bundle`'s rules, and each model in
    it by these, with ``task`` for every model when it is given.

    Args:
        model: the model's bytes (``bytes``, ``bytearray``, ``memoryview``) or
            the path of its file (mapped, not read); or a ``.task`` bundle's.
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
        with open_mapped(model) as (source, data):
            return _check_buffer(data, task_rules, source)
    return _check_buffer(model_bytes(model, "model"), task_rules, None)


def _check_buffer(data: Any, task: Optional[Task], source: Optional[IO[bytes]]) -> list[Problem]:
    if is_bundle(data):
        return _check_bundle(data, task, 0, source)
    return _run(Checker(read_facts(data)), task)


# -- .task bundles ----------------------------------------------------------------------------

#: What MediaPipe's bundle reader does with each kind of untrustworthy zip:
#: its code, and why a user should care (measured with mediapipe 1.2.2).
_FAULT_RULES = {
    ZipFault.SIZE: (
        Code.ENTRY_SIZE,
        "MediaPipe serves an entry by the size its zip records, without comparing it "
        "with the bundle, and crashes (segmentation fault) reading past the bundle",
    ),
    ZipFault.DUPLICATE: (
        Code.ENTRY_DUPLICATE,
        "MediaPipe keeps the last entry of a name without a word, and the other is never used",
    ),
    ZipFault.OVERLAP: (
        Code.ENTRY_OVERLAP,
        "MediaPipe serves both entries, one with the other's bytes inside it",
    ),
    ZipFault.HEADER: (
        Code.ENTRY_HEADER,
        "MediaPipe's reader (minizip) refuses a bundle whose local header's CRC-32, sizes or "
        "method differ from the central directory's (\"Unable to read the file in zip "
        'archive."), and zip tools disagree on which of the two records to believe',
    ),
    ZipFault.LIMIT: (Code.ZIP_MALFORMED, "it is beyond the limits this tool reads"),
}


def check_bundle(bundle: ModelSource, task: Optional[str] = None) -> list[Problem]:
    """Every reason MediaPipe would crash on, refuse, or be misled by the ``.task`` bundle.

    The bundle's zip is read as MediaPipe's bundle reader (minizip, in C++)
    reads it, and what that reader does not check is checked here: entries
    whose sizes lie (it crashes), duplicate names (it keeps the last), bytes
    shared by two entries, CRCs (it never checks them), encryption (it serves
    encrypted bytes as they are), symbolic links and special files (it serves
    them as files), compression (it refuses), and models that do not start at
    a multiple of 4 bytes (TFLite refuses them on 32-bit ARM). Then each model
    inside (and each bundle inside, as MediaPipe's gesture recognizer holds)
    gets :func:`check`'s rules, its problems located by the entry's name.

    Args:
        bundle: the bundle's bytes or the path of its file (mapped, not read).
        task: the task whose rules apply to every model inside (default: each
            model's own, from its metadata).

    Returns:
        The problems, in entry order; empty when the bundle is sound and every
        model in it passes.

    Raises:
        MissingFileError: the path does not exist.
        MetadataValidationError: ``task`` is not a known task.
    """
    task_rules = None if task is None else load_task(task)
    if isinstance(bundle, (str, os.PathLike)):
        with open_mapped(bundle) as (source, data):
            return _check_bundle(data, task_rules, 0, source)
    return _check_bundle(model_bytes(bundle, "bundle"), task_rules, 0, None)


def _entry_problem(code: Code, name: str, message: str) -> Problem:
    return Problem(code, f"{BUNDLE_MEMBER} {quoted(name)}", message, (MEDIAPIPE,))


def _check_bundle(
    data: Any, task: Optional[Task], depth: int, source: Optional[IO[bytes]] = None
) -> list[Problem]:
    """The bundle rules, then each entry's; ``source``: the file ``data`` maps, if any.

    Each entry's CRC-32 is verified by reading ``source`` in pieces when there is
    one (see :meth:`ZipTail.verify`), so that the bundle's pages are not mapped in
    for it; the models are then read through the mapping, only where their
    tensors, metadata and files are.
    """
    try:
        bundle = read_bundle(data)
    except ZipFormatError as exc:
        code, why = _FAULT_RULES.get(
            exc.fault, (Code.ZIP_MALFORMED, "MediaPipe cannot be relied on to read it")
        )
        return [Problem(code, "bundle", f"{printable(str(exc))}: {why}", (MEDIAPIPE,))]
    except MetadataError as exc:
        return [Problem(Code.ZIP_MALFORMED, "bundle", printable(str(exc)), (MEDIAPIPE,))]
    problems: list[Problem] = []
    refused = dict(extract_refusals(bundle.names()))
    for entry in bundle.entries:
        name = entry.name
        if name in refused:
            problems.append(
                _entry_problem(
                    Code.ENTRY_NAME,
                    name,
                    f"{refused[name]}, so the bundle cannot be extracted safely ('extract' "
                    "refuses it; other zip tools may write outside the folder or fail)",
                )
            )
        if entry.flags & 1:
            problems.append(
                _entry_problem(
                    Code.ENTRY_ENCRYPTED,
                    name,
                    "is encrypted; MediaPipe serves its encrypted bytes as they are, as if "
                    "they were the file",
                )
            )
            continue
        if entry.kind != "file":
            problems.append(
                _entry_problem(
                    Code.ENTRY_LINK,
                    name,
                    f"is a {entry.kind}, not a file; MediaPipe serves its bytes as a file's, "
                    "and unzip recreates it as what it is",
                )
            )
            continue
        if not entry.is_stored:
            problems.append(
                _entry_problem(
                    Code.FILE_COMPRESSED,
                    name,
                    f"is stored compressed (zip method {entry.method}); MediaPipe reads only "
                    'stored entries ("Expected uncompressed zip archive.")',
                )
            )
            continue
        try:
            bundle.verify(name, source)
            with bundle.content_view(name, verify=False) as content:
                problems += _check_entry(name, entry.data_offset, content, task, depth)
        except ZipFormatError as exc:
            code = Code.ENTRY_CRC if exc.fault == ZipFault.CRC else Code.ZIP_MALFORMED
            why = (
                "MediaPipe never checks CRCs, and would load the damaged bytes"
                if code == Code.ENTRY_CRC
                else "MediaPipe cannot be relied on to read it"
            )
            problems.append(Problem(code, "bundle", f"{printable(str(exc))}; {why}", (MEDIAPIPE,)))
    return problems


def _check_entry(
    name: str, offset: int, content: memoryview, task: Optional[Task], depth: int
) -> list[Problem]:
    """The rules of one stored, readable entry: a model's, a nested bundle's, or none."""
    is_model = bytes(content[4:8]) == b"TFL3"
    if not is_model:
        if is_bundle(content):
            if depth + 1 >= MAX_NESTING:
                return [
                    _entry_problem(
                        Code.FILE_NOT_CHECKED,
                        name,
                        f"is a bundle nested {depth + 2} deep; bundles are opened "
                        f"{MAX_NESTING} deep at most, so it was not checked",
                    )
                ]
            inner = _check_bundle(content, task, depth + 1)
            return [_inside(name, problem) for problem in inner]
        if name.endswith(".tflite"):
            return [
                _entry_problem(
                    Code.ENTRY_MODEL,
                    name,
                    "is named as a model but is not a TFLite model (no 'TFL3' identifier "
                    "at bytes 4 to 8)",
                )
            ]
        return []
    problems = []
    if offset % ALIGNMENT:
        problems.append(
            _entry_problem(
                Code.ENTRY_ALIGNMENT,
                name,
                f"starts at offset {offset}, not a multiple of {ALIGNMENT}; MediaPipe uses "
                'the model in place, and TFLite refuses it on 32-bit ARM ("The supplied '
                'buffer is not 4-bytes aligned")',
            )
        )
    try:
        found = _run(Checker(read_facts(content)), task)
    except MetadataError as exc:
        return [*problems, _entry_problem(Code.ENTRY_MODEL, name, printable(str(exc)))]
    return problems + [_inside(name, problem) for problem in found]


def _inside(name: str, problem: Problem) -> Problem:
    """``problem`` of something inside the bundle entry ``name``, located by it."""
    return Problem(
        problem.code, f"{printable(name)}: {problem.location}", problem.message, problem.consumers
    )


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
