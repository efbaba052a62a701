"""``MetadataPopulator``: tflite-support's stateful populate API over the populate core."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Union

from ..archive.associated_files import find_zip
from ..errors import AssociatedFileError, MetadataValidationError
from ..fileio import InputFile, PathLike, map_file, read_file
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from .populate import (
    FileSource,
    PreparedMetadata,
    collect_files,
    populate_buffer,
    populate_file,
    prepare_metadata,
)
from .reader import model_bytes, open_model

__all__ = ["MetadataPopulator"]


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

    def load_associated_file_buffers(self, associated_files: Mapping[str, bytes]) -> None:
        """Load associated files from memory: ``{"labels.txt": b"..."}``.

        Paths as names are reduced to their basename.
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
            AssociatedFileError: a path has no file name.
        """
        for path in associated_files:
            with InputFile.open(path):
                pass
            name = os.path.basename(os.fspath(path))
            if not name:
                raise AssociatedFileError(f"associated file {path!r} has no file name")
            self._associated_files[name] = _OnDisk(path)

    def load_metadata_buffer(self, metadata_buf: BufferLike) -> None:
        """Load the metadata buffer to populate.

        Raises:
            MetadataValidationError: empty, not one subgraph metadata, or tensor
                metadata counts that do not match the model.
            MetadataFormatError: malformed or without the ``M001`` identifier.
        """
        if metadata_buf is None or not len(memoryview(metadata_buf)):
            raise MetadataValidationError("The metadata to be populated is empty.")
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

        Raises:
            MetadataValidationError: a recorded file was not loaded, or nothing to populate.
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
