"""Putting metadata and associated files into a model: the populate core.

Populate never re-encodes the model. The metadata goes into a small prefix
that becomes the model's new root (see :mod:`tflite_metadata.model.splice`), every
byte of the original model follows untouched (external-buffer offsets
excepted, which move with it), and the associated files follow as a fresh zip.

Differences from tflite-support, on purpose:

* Populating over existing metadata replaces it, and the zip afterwards holds
  exactly the newly supplied files plus the old packed files that the new
  metadata still records. tflite-support keeps every old file, refuses a file
  that is supplied again ("has already been packed"), and so cannot update a
  label file in place.
* A file supplied twice under the same name with different contents is an
  error instead of "last one wins".
* A file may be supplied as an open :class:`~tflite_metadata.fileio.InputFile`
  instead of bytes. From file to file (:func:`populate_file`,
  :func:`populate_to`) it is then copied into the output where it lies (by the
  kernel where the platform allows) and its CRC-32 computed piece by piece:
  memory stays bounded whatever its size. In memory (:func:`populate_buffer`)
  it is read, as the result holds it anyway.
* A zip of associated files that cannot be read is replaced, not kept: the
  output's zip holds only the supplied files, and the old archive's bytes are
  dropped from its first record that its own end record confirms (see
  :func:`~tflite_metadata.archive.associated_files.salvage_zip_start`). Files the new
  metadata records must then all be supplied.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any, Union

from ..archive.associated_files import ZipTail, build_zip, find_zip, salvage_zip_start, write_zip
from ..errors import (
    AssociatedFileError,
    MetadataFormatError,
    MetadataValidationError,
    warn_at_caller,
)
from ..fileio import InputFile, PathLike, atomic_output, open_mapped, same_content
from ..format import codec
from ..format.flatbuf import BufferLike
from ..format.version import min_parser_version
from .reader import ModelView, open_model
from .splice import SplicePlan, plan_splice

__all__ = [
    "AssociatedFiles",
    "FileSource",
    "PreparedMetadata",
    "file_name",
    "populate_buffer",
    "populate_file",
    "populate_to",
    "prepare_metadata",
    "recorded_file_names",
]


#: One associated file: its bytes, or a file opened with
#: :meth:`InputFile.open <tflite_metadata.fileio.InputFile.open>`, packed from disk.
FileSource = Union[bytes, bytearray, memoryview, InputFile]
#: Associated files: name (or path: only the basename is used) to content, or pairs.
AssociatedFiles = Union[Mapping[str, FileSource], Iterable[tuple[str, FileSource]]]


@dataclass(frozen=True)
class PreparedMetadata:
    """A metadata buffer ready to populate: versioned, names reduced to basenames."""

    buffer: bytes
    #: Names of the associated files the metadata records, in tflite-support's order.
    recorded_files: tuple[str, ...]


def _files_of_process_units(units: Iterable[Any] | None) -> list[Any]:
    files: list[Any] = []
    for unit in units or []:
        options = unit.options
        if options is None:
            continue
        decl = options._decl
        # The tokenizer options carry their vocabularies (and models) as files.
        for fdecl in decl.fields:
            if fdecl.kind == "tables" and fdecl.type == "AssociatedFile":
                files.extend(getattr(options, fdecl.python_name) or [])
    return files


def _recorded_file_objects(metadata: Any) -> list[Any]:
    """Every ``AssociatedFileT`` the metadata records, in tflite-support's order."""
    files: list[Any] = list(metadata.associatedFiles or [])
    for subgraph in metadata.subgraphMetadata or []:
        files.extend(subgraph.associatedFiles or [])
        for tensors in (subgraph.inputTensorMetadata, subgraph.outputTensorMetadata):
            for tensor in tensors or []:
                files.extend(tensor.associatedFiles or [])
                files.extend(_files_of_process_units(tensor.processUnits))
        files.extend(_files_of_process_units(subgraph.inputProcessUnits))
        files.extend(_files_of_process_units(subgraph.outputProcessUnits))
    return files


def file_name(file: Any, *, strict: bool = True) -> str:
    """The name of an ``AssociatedFileT`` as text: the one decoder of packed file names.

    Args:
        file: an ``AssociatedFileT`` (its ``name`` is bytes, str or None).
        strict: whether a name that is not UTF-8 is an error; otherwise its
            invalid bytes become surrogates (``surrogateescape``), so that the
            name can still be shown (escaped) or compared with a zip entry's.

    Raises:
        MetadataFormatError: ``strict`` and the name is not UTF-8.
    """
    name = file.name
    if name is None:
        return ""
    if isinstance(name, (bytes, bytearray)):
        if not strict:
            return bytes(name).decode("utf-8", errors="surrogateescape")
        try:
            return bytes(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetadataFormatError(
                f"an associated file name in the metadata is not valid UTF-8: {bytes(name)!r}"
            ) from exc
    return str(name)


def recorded_file_names(metadata: Any) -> list[str]:
    """Names of the associated files recorded in a ``ModelMetadataT``."""
    return [file_name(f) for f in _recorded_file_objects(metadata)]


def prepare_metadata(metadata: BufferLike, model: ModelView) -> PreparedMetadata:
    """Validate a metadata buffer against a model and make it ready to populate.

    As tflite-support's ``MetadataPopulator.load_metadata_buffer``: the buffer must
    be non-empty with the ``M001`` identifier, hold exactly one subgraph metadata
    whose tensor metadata counts match the model's first subgraph; its
    ``min_parser_version`` is set and recorded file names are reduced to basenames.

    Raises:
        MetadataValidationError: the metadata is empty or does not fit the model.
        MetadataFormatError: the buffer is malformed.
    """
    if not len(memoryview(metadata)):
        raise MetadataValidationError("The metadata to be populated is empty.")
    codec.require_identifier(metadata)
    decoded = codec.decode(metadata)
    subgraphs = decoded.subgraphMetadata or []
    if len(subgraphs) != 1:
        raise MetadataValidationError(
            f"The number of SubgraphMetadata should be exactly one, but got {len(subgraphs)}."
        )
    for kind, tensors, tensor_metadata in (
        ("input", model.inputs(0), subgraphs[0].inputTensorMetadata),
        ("output", model.outputs(0), subgraphs[0].outputTensorMetadata),
    ):
        count = len(tensor_metadata or [])
        if len(tensors) != count:
            raise MetadataValidationError(
                f"The number of {kind} tensors ({len(tensors)}) should match the number of "
                f"{kind} tensor metadata ({count})"
            )
    decoded.minParserVersion = min_parser_version(metadata)
    for file in _recorded_file_objects(decoded):
        if file.name is not None:
            file.name = os.path.basename(file_name(file))
    buffer = codec.encode(decoded)
    return PreparedMetadata(buffer, tuple(recorded_file_names(decoded)))


def collect_files(files: AssociatedFiles) -> dict[str, bytes | InputFile]:
    """Associated files keyed by basename; the same name twice must mean the same bytes.

    Contents given as bytes-like objects become ``bytes``; an
    :class:`~tflite_metadata.fileio.InputFile` stays one (files are compared
    piece by piece, never read whole).

    Raises:
        AssociatedFileError: two different files would be packed under one name.
    """
    items = files.items() if isinstance(files, Mapping) else files
    collected: dict[str, bytes | InputFile] = {}
    origin: dict[str, str] = {}
    for path, content in items:
        name = os.path.basename(os.fspath(path))
        if not name:
            raise AssociatedFileError(f"associated file {path!r} has no file name")
        data = content if isinstance(content, InputFile) else bytes(content)
        if name in collected and not same_content(collected[name], data):
            raise AssociatedFileError(
                f"File, '{name}', would be packed twice with different contents "
                f"(from {origin[name]!r} and {os.fspath(path)!r}); rename one of them."
            )
        collected[name] = data
        origin[name] = os.fspath(path)
    return collected


@dataclass(frozen=True)
class _Plan:
    splice: SplicePlan
    files: dict[str, bytes | InputFile]
    #: Whether a zip follows the model: there are files, or an unreadable old zip
    #: was kept whole (an empty archive after it takes its place for every reader).
    zip_needed: bool


def _plan(
    data: BufferLike, metadata: BufferLike | None, files: AssociatedFiles
) -> tuple[_Plan, PreparedMetadata | None]:
    model = open_model(data)
    prepared = prepare_metadata(metadata, model) if metadata is not None else None
    old_zip, body_end, broken = _old_zip(data)
    packed = old_zip.names() if old_zip is not None else []
    supplied = collect_files(files)
    recorded = list(prepared.recorded_files) if prepared is not None else []
    for name in recorded:
        if name not in supplied and name not in packed:
            why = (
                f" (the model's zip of associated files cannot be read, so it is replaced: "
                f"{broken})"
                if broken is not None
                else ""
            )
            raise MetadataValidationError(
                f"File, '{name}', is recorded in the metadata, but has not been loaded into "
                f"the populator.{why}"
            )
    for name in supplied:
        if name not in recorded:
            warn_at_caller(
                UserWarning(
                    f"File, '{name}', does not exist in the metadata. But packing it to tflite "
                    "model is still allowed."
                )
            )
    if prepared is None:
        # No new metadata: the old metadata stays and so do the files it records.
        existing = model.metadata_buffer()
        keep_names = recorded_file_names(codec.decode(existing)) if existing is not None else []
        metadata_bytes = bytes(existing) if existing is not None else None
        lost = [name for name in keep_names if name not in supplied]
        if broken is not None and lost:
            raise MetadataValidationError(
                f"File, '{lost[0]}', is recorded in the model's metadata, but the model's zip "
                f"of associated files cannot be read ({broken}); load it into the populator."
            )
    else:
        keep_names = recorded
        metadata_bytes = prepared.buffer
    packed_files = _kept_files(old_zip, keep_names, supplied)
    packed_files.update(supplied)
    if metadata_bytes is None:
        raise MetadataValidationError("There is no metadata to populate: load a metadata buffer.")
    kept_broken = broken is not None and body_end == len(memoryview(data))
    splice = plan_splice(model, metadata_bytes, body_end)
    return _Plan(splice, packed_files, bool(packed_files) or kept_broken), prepared


def _old_zip(data: BufferLike) -> tuple[ZipTail | None, int, AssociatedFileError | None]:
    """The model's zip, where the model proper ends, and why the zip is unreadable.

    An unreadable zip is dropped from its first confirmed record on; bytes no
    record confirms are kept, as they may belong to the model.
    """
    try:
        old_zip = find_zip(data)
    except AssociatedFileError as exc:
        start = salvage_zip_start(data)
        return None, len(memoryview(data)) if start is None else start, exc
    if old_zip is None:
        return None, len(memoryview(data)), None
    return old_zip, old_zip.start, None


def _kept_files(
    old_zip: ZipTail | None, keep: Iterable[str], supplied: Mapping[str, FileSource]
) -> dict[str, bytes | InputFile]:
    if old_zip is None:
        return {}
    wanted = set(keep) - set(supplied)
    return {name: old_zip.read(name) for name in old_zip.names() if name in wanted}


def populate_buffer(
    model: BufferLike,
    metadata: BufferLike | None,
    files: AssociatedFiles = (),
) -> bytes:
    """Return a copy of ``model`` with ``metadata`` and ``files`` in it.

    Args:
        model: the model bytes (``bytes``, ``bytearray``, ``memoryview``, an mmap…).
        metadata: a metadata buffer (``M001``); None keeps the model's own metadata.
        files: associated files, name (or path: only the basename is used) to
            content: bytes, or an open :class:`~tflite_metadata.fileio.InputFile`.

    Returns:
        The new model. ``model`` itself is not modified.

    Raises:
        MetadataError: (a subclass) anything is malformed or inconsistent.
    """
    plan, _ = _plan(model, metadata, collect_files(files))
    splice = plan.splice
    zip_bytes = build_zip(plan.files, splice.output_size) if plan.zip_needed else b""
    return splice.to_bytes(model, zip_bytes)


def populate_file(
    source: PathLike,
    destination: PathLike,
    metadata: BufferLike | None,
    files: AssociatedFiles = (),
) -> None:
    """Write ``source`` with ``metadata`` and ``files`` in it to ``destination``.

    The model is streamed, never loaded, and so are the associated files given
    as :class:`~tflite_metadata.fileio.InputFile`: memory stays bounded
    whatever their size. ``destination`` may be ``source`` itself; it is
    replaced atomically.

    Raises:
        MetadataError: (a subclass) anything is malformed or inconsistent, or the
            output cannot be written. Nothing is left behind on failure.
    """
    with atomic_output(destination) as stream, open_mapped(source) as (handle, data):
        populate_to(stream, data, metadata, files, source=handle)


def populate_to(
    stream: IO[bytes],
    model: BufferLike,
    metadata: BufferLike | None,
    files: AssociatedFiles = (),
    *,
    source: IO[bytes] | None = None,
) -> int:
    """Stream ``model`` with ``metadata`` and ``files`` in it to ``stream``.

    Args:
        stream: where to write (a file opened for binary writing).
        model: the model bytes, typically a mapped file.
        metadata: a metadata buffer (``M001``); None keeps the model's own metadata.
        files: associated files, name (or path: only the basename is used) to
            content: bytes, or an open :class:`~tflite_metadata.fileio.InputFile`,
            which is copied from disk (by the kernel where it can) in bounded memory.
        source: the model's open file, so that its bytes are copied by the kernel.

    Returns:
        The number of bytes written.

    Raises:
        MetadataError: (a subclass) anything is malformed or inconsistent. Nothing
            has been written to ``stream`` then.
        OSError: writing failed.
    """
    plan, _ = _plan(model, metadata, collect_files(files))
    plan.splice.write_to(model, stream, source=source)
    size = plan.splice.output_size
    if plan.zip_needed:
        size += write_zip(plan.files, size, stream)
    return size
