"""Putting metadata and associated files into a model.

The functions (:func:`populate_buffer`, :func:`populate_file`,
:func:`populate_to`) are the core; :class:`MetadataPopulator` is
tflite-support's stateful API over them.

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

import contextlib
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
from ..fileio import (
    InputFile,
    PathLike,
    atomic_output,
    map_file,
    open_mapped,
    read_file,
    same_content,
)
from ..format import codec
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.version import min_parser_version
from .reader import ModelView, model_bytes, open_model
from .splice import SplicePlan, plan_splice

__all__ = [
    "AssociatedFiles",
    "FileSource",
    "MetadataPopulator",
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
    _require_metadata(metadata)
    codec.require_identifier(metadata)
    decoded = codec.decode(metadata)
    subgraphs = decoded.subgraphMetadata or []
    if len(subgraphs) != 1:
        raise MetadataValidationError(
            f"The number of SubgraphMetadata should be exactly one, but got {len(subgraphs)}."
        )
    # Only the counts, as tflite-support: a subgraph whose inputs or outputs name
    # tensors it does not have is populated all the same (check reports it).
    for kind, tensor_count, tensor_metadata in (
        ("input", model.input_count(0), subgraphs[0].inputTensorMetadata),
        ("output", model.output_count(0), subgraphs[0].outputTensorMetadata),
    ):
        count = len(tensor_metadata or [])
        if tensor_count != count:
            raise MetadataValidationError(
                f"The number of {kind} tensors ({tensor_count}) should match the number of "
                f"{kind} tensor metadata ({count})"
            )
    decoded.minParserVersion = min_parser_version(metadata)
    for file in _recorded_file_objects(decoded):
        if file.name is None:
            # tflite-support raised a raw TypeError (os.path.basename(None)).
            raise MetadataValidationError(
                "The metadata records an associated file without a name; every associated "
                "file needs the name it is packed under."
            )
        file.name = os.path.basename(file_name(file))
    buffer = codec.encode(decoded)
    return PreparedMetadata(buffer, tuple(recorded_file_names(decoded)))


def _require_metadata(metadata: Any) -> None:
    """Refuse empty metadata in tflite-support's words (``if not metadata_buf``)."""
    try:
        empty = metadata is None or len(metadata) == 0
    except TypeError:  # not sized: not a buffer either, refused by require_identifier
        empty = False
    if empty:
        raise MetadataValidationError("The metadata to be populated is empty.")
    if not hasattr(metadata, "__getitem__"):  # tflite-support: a raw "not subscriptable"
        raise MetadataValidationError(
            "The metadata to be populated should be a metadata buffer (bytes, bytearray or "
            f"memoryview), but got {type(metadata).__name__}."
        )


def file_content(name: str, content: Any) -> bytes | InputFile:
    """An associated file's content as given: bytes-like, ``str`` (UTF-8) or an InputFile.

    ``str`` is encoded as UTF-8, as tflite-support's ``zipfile.writestr`` does.

    Raises:
        AssociatedFileError: anything else (``bytes(5)`` would be five zero bytes;
            tflite-support failed with a raw ``TypeError`` when it populated).
    """
    if isinstance(content, InputFile):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    try:
        return bytes(memoryview(content))
    except TypeError:
        raise AssociatedFileError(
            f"File, '{name}', should be given as bytes, bytearray, memoryview or str, "
            f"but got {type(content).__name__}."
        ) from None


def collect_files(
    files: Mapping[str, Any] | Iterable[tuple[str, Any]],
) -> dict[str, bytes | InputFile]:
    """Associated files keyed by basename; the same name twice must mean the same bytes.

    Contents given as bytes-like objects become ``bytes`` (``str``: its UTF-8); an
    :class:`~tflite_metadata.fileio.InputFile` stays one (files are compared
    piece by piece, never read whole).

    Raises:
        AssociatedFileError: two different files would be packed under one name;
            ``files`` is neither a mapping nor (name, content) pairs; a name that
            is not a path or has no file name; a content that is not bytes-like
            or ``str``.
    """
    collected: dict[str, bytes | InputFile] = {}
    origin: dict[str, str] = {}
    for path, content in _file_items(files):
        name = os.path.basename(_path_of(path))
        if not name:
            raise AssociatedFileError(f"associated file {path!r} has no file name")
        data = file_content(name, content)
        if name in collected and not same_content(collected[name], data):
            raise AssociatedFileError(
                f"File, '{name}', would be packed twice with different contents "
                f"(from {origin[name]!r} and {_path_of(path)!r}); rename one of them."
            )
        collected[name] = data
        origin[name] = _path_of(path)
    return collected


def _file_items(files: Any) -> list[tuple[Any, Any]]:
    """``files`` as (name, content) pairs; tflite-support took a dict only."""
    if isinstance(files, Mapping):
        return list(files.items())
    expected = "a dict of file names to contents (or (name, content) pairs)"
    if isinstance(files, (str, bytes)) or not isinstance(files, Iterable):
        raise AssociatedFileError(
            f"associated files should be {expected}, but got {type(files).__name__}."
        )
    items = list(files)
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise AssociatedFileError(
                f"associated files should be {expected}, but got the item {item!r:.80}."
            )
    return items


def _path_of(path: Any) -> str:
    """A file path or name as ``str`` (tflite-support took any path ``os.path`` takes)."""
    try:
        return os.fsdecode(os.fspath(path))
    except TypeError:
        raise AssociatedFileError(
            f"an associated file should be named by a str, bytes or os.PathLike, but got "
            f"{type(path).__name__}."
        ) from None


@dataclass(frozen=True)
class _Plan:
    splice: SplicePlan
    files: dict[str, bytes | InputFile]
    #: Whether a zip follows the model: there are files, or what is kept of the
    #: model would itself read as a zip (an unreadable old zip kept whole, or an
    #: earlier zip the old one hid); an empty archive after it takes its place for
    #: every reader.
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
        # No new metadata: the model is kept as it is, its metadata (if any) too, and
        # so are the files that metadata records; only the zip changes.
        # tflite-support wrote an empty metadata buffer instead, which its own
        # displayer then fails to read.
        existing = model.metadata_buffer()
        keep_names = recorded_file_names(codec.decode(existing)) if existing else []
        lost = [name for name in keep_names if name not in supplied]
        if broken is not None and lost:
            raise MetadataValidationError(
                f"File, '{lost[0]}', is recorded in the model's metadata, but the model's zip "
                f"of associated files cannot be read ({broken}); load it into the populator."
            )
        splice = SplicePlan(head=b"", body_end=body_end, patches=())
    else:
        keep_names = recorded
        splice = plan_splice(model, prepared.buffer, body_end)
    packed_files = _kept_files(old_zip, keep_names, supplied)
    packed_files.update(supplied)
    hidden_zip = (old_zip is not None or broken is not None) and _reads_as_zip(data, body_end)
    return _Plan(splice, packed_files, bool(packed_files) or hidden_zip), prepared


def _reads_as_zip(data: BufferLike, end: int) -> bool:
    """Whether ``data[:end]`` ends in what readers take for a zip, readable or not."""
    try:
        return find_zip(memoryview(data)[:end]) is not None
    except AssociatedFileError:
        return True


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
        metadata: a metadata buffer (``M001``); None keeps the model's own metadata
            (if any) and changes only its associated files.
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
        metadata: a metadata buffer (``M001``); None keeps the model's own metadata
            (if any) and changes only its associated files.
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


# -- tflite-support's MetadataPopulator ---------------------------------------------------------


@dataclass(frozen=True)
class _OnDisk:
    """An associated file loaded by path: opened again, and copied, when populating."""

    path: PathLike


_Loaded = Union[FileSource, _OnDisk]


class MetadataPopulator:
    """Packs metadata and associated files into a TFLite model file or buffer.

    The same interface as ``tflite_support.metadata.MetadataPopulator``::

        populator = MetadataPopulator.with_model_file("model.tflite")
        populator.load_metadata_buffer(metadata_buffer)
        populator.load_associated_files(["labels.txt"])
        populator.populate()          # rewrites model.tflite atomically

    ``with_model_buffer`` works on an in-memory model instead (no temporary
    files); read the result with :meth:`get_model_buffer`.

    Unlike tflite-support, populating over existing metadata replaces the
    packed files: afterwards the model holds exactly the newly loaded files plus
    the old ones the new metadata still records.

    Files loaded by path (:meth:`load_associated_files`) must be regular files:
    anything else is refused when it is loaded. Like tflite-support, the
    populator reads them when it populates; populating a model file copies them
    from disk into it in bounded memory, whatever their size.
    """

    METADATA_FIELD_NAME = schema.METADATA_FIELD_NAME
    TFLITE_FILE_IDENTIFIER = b"TFL3"
    METADATA_FILE_IDENTIFIER = schema.FILE_IDENTIFIER

    def __init__(self, model_file: PathLike) -> None:
        """Populate into the model file ``model_file``.

        Raises:
            MissingFileError: the file does not exist (also an ``IOError``).
            ModelFormatError: the file is not a TFLite model.
        """
        self._model_file: PathLike | None = model_file
        self._model_buffer: bytes | None = None
        with map_file(model_file) as data:
            open_model(data)
        self._metadata_buf: bytes | None = None
        self._prepared: PreparedMetadata | None = None
        self._associated_files: dict[str, _Loaded] = {}

    @classmethod
    def with_model_file(cls, model_file: PathLike) -> MetadataPopulator:
        """A populator that rewrites the model file ``model_file`` in place (atomically)."""
        return cls(model_file)

    @classmethod
    def with_model_buffer(cls, model_buf: BufferLike) -> MetadataPopulator:
        """A populator over an in-memory model (bytes, bytearray or memoryview).

        Raises:
            MetadataValidationError: ``model_buf`` is empty.
            ModelFormatError: it is not a TFLite model.
        """
        model_buf = model_bytes(model_buf, "model_buf", paths=False)
        populator = cls.__new__(cls)
        populator._model_file = None
        populator._model_buffer = bytes(model_buf)
        open_model(populator._model_buffer)
        populator._metadata_buf = None
        populator._prepared = None
        populator._associated_files = {}
        return populator

    # -- reading state -----------------------------------------------------------

    def get_model_buffer(self) -> bytes:
        """The model, with whatever has been populated so far."""
        if self._model_buffer is not None:
            return self._model_buffer
        assert self._model_file is not None
        return read_file(self._model_file)

    def _packed_names(self, data: BufferLike) -> list[str]:
        tail = find_zip(data)
        return tail.names() if tail is not None else []

    def get_packed_associated_file_list(self) -> list[str]:
        """Names of the associated files already packed in the model."""
        if self._model_buffer is not None:
            return self._packed_names(self._model_buffer)
        assert self._model_file is not None
        with map_file(self._model_file) as data:
            return self._packed_names(data)

    def get_recorded_associated_file_list(self) -> list[str]:
        """Names of the associated files recorded in the loaded metadata."""
        if self._prepared is None:
            return []
        return list(self._prepared.recorded_files)

    # -- loading -----------------------------------------------------------------

    def load_associated_file_buffers(
        self, associated_files: Mapping[str, FileSource | str]
    ) -> None:
        """Load associated files from memory: ``{"labels.txt": b"..."}``.

        Paths as names are reduced to their basename. A ``str`` content is packed
        as UTF-8, as tflite-support does.

        Raises:
            AssociatedFileError: a content that is not bytes-like or ``str``, a
                name without a file name, or one name for two different contents.
        """
        self._associated_files.update(collect_files(associated_files))

    def load_associated_files(self, associated_files: Iterable[PathLike]) -> None:
        """Load associated files from disk.

        Each file is opened at once, to refuse what is not a regular file, and
        read (or, into a model file, copied) when the model is populated.

        Raises:
            MissingFileError: a file does not exist (also an ``IOError``).
            InputReadError: a file is not a regular file (a folder, a device, a
                FIFO …; the message names it) or cannot be opened.
            AssociatedFileError: a path has no file name, or is not a str, bytes
                or ``os.PathLike``.
        """
        for given in associated_files:
            path = _path_of(given)
            with InputFile.open(path):
                pass
            name = os.path.basename(path)
            if not name:
                raise AssociatedFileError(f"associated file {given!r} has no file name")
            self._associated_files[name] = _OnDisk(path)

    def load_metadata_buffer(self, metadata_buf: BufferLike) -> None:
        """Load the metadata buffer to populate.

        Raises:
            MetadataValidationError: empty, not one subgraph metadata, or tensor
                metadata counts that do not match the model.
            MetadataFormatError: malformed or without the ``M001`` identifier.
        """
        _require_metadata(metadata_buf)
        if self._model_buffer is not None:
            prepared = prepare_metadata(metadata_buf, open_model(self._model_buffer))
        else:
            assert self._model_file is not None
            with map_file(self._model_file) as data:
                prepared = prepare_metadata(metadata_buf, open_model(data))
        self._prepared = prepared
        self._metadata_buf = prepared.buffer

    def load_metadata_file(self, metadata_file: PathLike) -> None:
        """Load the metadata to populate from a file (see :meth:`load_metadata_buffer`)."""
        self.load_metadata_buffer(read_file(metadata_file))

    def load_metadata_and_associated_files(self, src_model_buf: BufferLike) -> None:
        """Load the metadata and the packed files of another model."""
        source = open_model(src_model_buf)
        metadata = source.metadata_buffer()
        if metadata is not None and len(metadata):
            self.load_metadata_buffer(bytes(metadata))
        tail = find_zip(src_model_buf)
        if tail is not None:
            self.load_associated_file_buffers({name: tail.read(name) for name in tail.names()})

    # -- populating ----------------------------------------------------------------

    def populate(self) -> None:
        """Populate the loaded metadata and files into the model.

        Without a loaded metadata buffer, the model keeps its metadata (if any)
        and only the loaded files are packed.

        Raises:
            MetadataValidationError: a recorded file was not loaded.
            MetadataError: (a subclass) anything else malformed; the model is unchanged.
        """
        with contextlib.ExitStack() as stack:
            files: dict[str, FileSource] = {}
            for name, loaded in self._associated_files.items():
                if isinstance(loaded, _OnDisk):
                    files[name] = stack.enter_context(InputFile.open(loaded.path))
                else:
                    files[name] = loaded
            if self._model_buffer is not None:
                self._model_buffer = populate_buffer(self._model_buffer, self._metadata_buf, files)
                return
            assert self._model_file is not None
            populate_file(self._model_file, self._model_file, self._metadata_buf, files)
