"""``MetadataDisplayer`` and friends: reading metadata and packed files out of a model.

Reading is lazy: a model file is mapped, and only the metadata buffer and the
zip directory are touched, so the cost does not grow with the weights.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
from collections.abc import Mapping
from typing import Any, Optional

from ..archive.associated_files import ZipTail, find_zip
from ..errors import (
    AssociatedFileError,
    InputReadError,
    MetadataFormatError,
    MetadataValidationError,
    MissingFileError,
)
from ..fileio import PathLike, open_input
from ..format import metadata_schema as schema
from ..format.codec import require_identifier
from ..format.custom_metadata import CUSTOM_METADATA_SCHEMAS, schema_of_file
from ..format.declarations import Schema
from ..format.flatbuf import BufferLike
from ..format.json_format import to_json
from .reader import model_bytes, open_model

__all__ = [
    "MetadataDisplayer",
    "convert_to_json",
    "custom_metadata_json",
    "get_metadata_buffer",
    "known_custom_metadata",
]


def get_metadata_buffer(model_buf: BufferLike) -> bytes | None:
    """The model's ``TFLITE_METADATA`` buffer, or None when it has none.

    Raises:
        ModelFormatError: the model is malformed.
    """
    buffer = open_model(model_buf).metadata_buffer(schema.METADATA_FIELD_NAME)
    return None if buffer is None else bytes(buffer)


def convert_to_json(
    metadata_buffer: BufferLike, custom_metadata_schema: Optional[Mapping[str, str]] = None
) -> str:
    """The metadata as JSON, byte-identical to tflite-support's (flatc strict JSON).

    Args:
        metadata_buffer: the metadata FlatBuffer.
        custom_metadata_schema: (MediaPipe's argument) custom metadata names
            mapped to the schema files that decode them. When given, the JSON is
            MediaPipe's: ``json.dumps(..., indent=2)`` of flatc's, each named custom
            metadata present decoded in place of its bytes. Without flatc, a schema
            file is recognized as one of the schemas this package declares
            (:func:`~tflite_metadata.format.custom_metadata.schema_of_file`:
            MediaPipe's ``object_detector_metadata_schema.fbs`` and
            ``image_segmenter_metadata_schema.fbs``).

    Raises:
        MetadataFormatError: the buffer, or a named custom metadata's data, is malformed.
        MissingFileError: a schema file does not exist (MediaPipe's message).
        MetadataValidationError: a schema file is not one this package declares.
    """
    text = to_json(metadata_buffer)
    if not custom_metadata_schema:
        return text
    schemas: dict[str, Schema] = {}
    present = _custom_metadata(metadata_buffer)
    for name, schema_file in custom_metadata_schema.items():
        if not present.get(name, (0, b""))[1]:
            continue  # MediaPipe logs that it is absent and goes on
        if not os.path.exists(schema_file):
            raise MissingFileError(f"File, '{schema_file}', does not exist.")
        schemas[name] = schema_of_file(schema_file)
    return _decoded_json(text, present, schemas)


def custom_metadata_json(metadata_buffer: BufferLike, schemas: Mapping[str, Schema]) -> str:
    """MediaPipe's JSON of the metadata, the custom metadata named in ``schemas`` decoded.

    What MediaPipe's ``convert_to_json`` gives when asked to decode those names
    with their schema files: ``json.dumps(..., indent=2)`` of flatc's JSON, each
    named custom metadata's ``data`` replaced by its own JSON (the first of that
    name in the first subgraph, as MediaPipe's).

    Raises:
        MetadataFormatError: the buffer, or a named custom metadata's data, is malformed.
    """
    return _decoded_json(to_json(metadata_buffer), _custom_metadata(metadata_buffer), schemas)


def known_custom_metadata(metadata_buffer: BufferLike) -> dict[str, Schema]:
    """The custom metadata names present in the first subgraph that the package can decode.

    Raises:
        MetadataFormatError: the buffer is malformed.
    """
    present = _custom_metadata(metadata_buffer)
    return {
        name: data_schema
        for name, data_schema in CUSTOM_METADATA_SCHEMAS.items()
        if present.get(name, (0, b""))[1]
    }


def _custom_metadata(metadata_buffer: BufferLike) -> dict[str, tuple[int, bytes]]:
    """name -> (index, data) of the first custom metadata of each name in subgraph 0."""
    from ..format import codec

    metadata = codec.decode(metadata_buffer)
    subgraphs = metadata.subgraphMetadata or []
    found: dict[str, tuple[int, bytes]] = {}
    if not subgraphs:
        return found
    for index, entry in enumerate(subgraphs[0].customMetadata or []):
        if entry.name is None:
            continue
        name = entry.name.decode("utf-8", errors="replace")
        if name not in found:
            found[name] = (index, bytes(entry.data or b""))
    return found


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:  # flatc prints NaN and infinities as nan, inf
        raise MetadataFormatError(
            f"{what}: its JSON text is not JSON ({exc.msg}, line {exc.lineno}): it holds "
            "a NaN or an infinity, which flatc prints as nan or inf (MediaPipe's "
            "convert_to_json fails on it too)"
        ) from None


def _decoded_json(
    text: str, present: Mapping[str, tuple[int, bytes]], schemas: Mapping[str, Schema]
) -> str:
    document = _loads(text, "metadata")
    for name, data_schema in schemas.items():
        index, data = present.get(name, (0, b""))
        if not data:
            continue
        entry = document["subgraph_metadata"][0]["custom_metadata"][index]
        entry["name"] = name
        entry["data"] = _loads(to_json(data, data_schema), data_schema.what)
    return json.dumps(document, indent=2)


class MetadataDisplayer:
    """Displays metadata and associated file info in human-readable format.

    The same interface as ``tflite_support.metadata.MetadataDisplayer``::

        displayer = MetadataDisplayer.with_model_file("model.tflite")
        print(displayer.get_metadata_json())
        labels = displayer.get_associated_file_buffer("labels.txt")
    """

    def __init__(
        self,
        model_buffer: BufferLike,
        metadata_buffer: BufferLike,
        associated_file_list: list[str],
    ) -> None:
        """Wrap a model, its metadata buffer and the names of its packed files.

        Raises:
            ModelFormatError / MetadataFormatError: wrong identifiers.
        """
        open_model(model_buffer)
        require_identifier(metadata_buffer)
        self._model_buffer = model_buffer
        # A copy, of the type given (tflite-support hands out deep copies of it).
        self._metadata_buffer: bytes | bytearray = (
            bytearray(metadata_buffer)
            if isinstance(metadata_buffer, bytearray)
            else bytes(metadata_buffer)
        )
        self._associated_file_list = list(associated_file_list)
        self._zip: ZipTail | None = None
        self._mapping: Any = None

    @classmethod
    def with_model_file(cls, model_file: PathLike) -> MetadataDisplayer:
        """A displayer for a model file, mapped rather than read.

        Raises:
            MissingFileError: the file does not exist (also an ``IOError``).
            MetadataValidationError: the model has no metadata.
            InputReadError: the file cannot be read: not a regular file (a
                folder, a device, a FIFO …), no permission …
        """
        handle = open_input(model_file, what="the model file")
        with handle:
            try:
                empty = os.fstat(handle.fileno()).st_size == 0
                if not empty:
                    mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as exc:  # a device or pipe cannot be mapped
                raise _unreadable(model_file, exc) from exc
            if empty:
                raise MetadataValidationError("model_buffer cannot be empty.")
        displayer = cls.with_model_buffer(mapping)
        displayer._mapping = mapping
        return displayer

    @classmethod
    def with_model_buffer(cls, model_buffer: BufferLike) -> MetadataDisplayer:
        """A displayer for an in-memory model.

        Raises:
            MetadataValidationError: the buffer is empty or the model has no metadata.
        """
        model_buffer = model_bytes(model_buffer, paths=False)
        metadata_buffer = get_metadata_buffer(model_buffer)
        if not metadata_buffer:
            raise MetadataValidationError("The model does not have metadata.")
        tail = _find_zip_or_none(model_buffer)
        displayer = cls(model_buffer, metadata_buffer, tail.names() if tail else [])
        displayer._zip = tail
        return displayer

    def get_associated_file_buffer(self, filename: str) -> bytes:
        """The content of the packed file ``filename``.

        Raises:
            AssociatedFileError: no such file in the model, or the zip is corrupt.
        """
        if filename not in self._associated_file_list:
            raise AssociatedFileError(f"The file, {filename}, does not exist in the model.")
        tail = self._zip or find_zip(self._model_buffer)
        if tail is None:
            raise AssociatedFileError(f"The file, {filename}, does not exist in the model.")
        return tail.read(filename)

    def get_metadata_buffer(self) -> bytes | bytearray:
        """The metadata buffer (a copy: ``bytes``, or a ``bytearray`` if one was given)."""
        return self._metadata_buffer[:]

    def get_metadata_json(self) -> str:
        """The metadata as JSON, byte-identical to tflite-support's."""
        return to_json(self._metadata_buffer)

    def get_packed_associated_file_list(self) -> list[str]:
        """Names of the files packed in the model (a copy)."""
        return list(self._associated_file_list)

    def __del__(self) -> None:
        mapping = getattr(self, "_mapping", None)
        if mapping is not None:
            self._zip = None
            self._model_buffer = b""
            with contextlib.suppress(BufferError, ValueError):
                mapping.close()


def _unreadable(path: PathLike, exc: Exception) -> InputReadError:
    reason = getattr(exc, "strerror", None) or str(exc)
    return InputReadError(f"cannot read the model file '{os.fspath(path)}': {reason}")


def _find_zip_or_none(model_buffer: BufferLike) -> ZipTail | None:
    # tflite-support lists no files when the tail is not a zip; a tail that
    # claims to be one but is corrupt is reported, not hidden.
    return find_zip(model_buffer)
