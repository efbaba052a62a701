"""Lazy, bounds-checked reading of a TFLite model.

:class:`ModelView` reads only what is asked of it (a subgraph's input and
output tensors, the ``Model.metadata`` entries, one buffer) straight from the
model's bytes, which may be an ``mmap``: opening a 2 GiB model costs nothing,
and its weights are never touched. Every offset and length is checked first
(see :mod:`tflite_metadata.format.flatbuf`); a malformed model raises
:class:`~tflite_metadata.errors.ModelFormatError`. Each query has the whole
work budget of the reader, so a view may be queried any number of times.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import MetadataValidationError, ModelFormatError
from ..fileio import read_file
from ..format.flatbuf import BufferLike, FlatBufferReader, Table, Vector
from ..format.model_schema import (
    FILE_IDENTIFIER,
    METADATA_NAME,
    BufferField,
    MetadataField,
    ModelField,
    SubGraphField,
    TensorField,
)

__all__ = ["BufferInfo", "MetadataEntry", "ModelView", "TensorInfo", "model_bytes", "open_model"]


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a subgraph, as the writers and checks need it."""

    #: Position in the subgraph's tensor list.
    index: int
    name: str
    #: The ``TensorType`` value (an int; see
    #: :class:`~tflite_metadata.format.model_schema.TensorType`).
    type: int
    shape: tuple[int, ...]
    #: ``Tensor.shape_signature``: the shape with -1 for each dimension that may
    #: change (a dynamic sequence length …); None when the model gives none, which
    #: runtimes read as "the same as ``shape``".
    shape_signature: tuple[int, ...] | None = None


@dataclass(frozen=True)
class MetadataEntry:
    """One ``Model.metadata`` entry: a name and the index of its buffer."""

    name: bytes
    buffer: int
    #: Absolute position of the entry's ``Metadata`` table.
    table_pos: int


@dataclass(frozen=True)
class BufferInfo:
    """Where one ``Model.buffers`` entry keeps its data."""

    #: Absolute position of the ``Buffer`` table.
    table_pos: int
    #: Absolute position of its ``offset`` field (0 when absent).
    offset_field_pos: int
    #: External data: absolute file offset and size (0 when the buffer has none).
    offset: int
    size: int

    @property
    def is_external(self) -> bool:
        """Whether the data lives outside the FlatBuffer (the converter's offset mode)."""
        # The converter writes offset 1 as a placeholder for "no data".
        return self.offset > 1


class ModelView:
    """A read-only view of a TFLite model's FlatBuffer.

    Args:
        data: the model bytes (``bytes``, ``bytearray``, ``memoryview``, an ``mmap``…);
            not copied.

    Raises:
        ModelFormatError: the bytes are not a TFLite model, or its root is malformed.

    Example::

        view = ModelView(open("model.tflite", "rb").read())
        [t.name for t in view.inputs()]
    """

    def __init__(self, data: BufferLike) -> None:
        self.reader = FlatBufferReader(data, what="model", error=ModelFormatError)
        identifier = self.reader.identifier()
        if identifier != FILE_IDENTIFIER:
            raise ModelFormatError(
                f"model: file identifier is {identifier!r}, expected {FILE_IDENTIFIER!r} "
                "(not a TFLite model)"
            )
        self.root: Table = self.reader.root("Model")

    @property
    def data(self) -> memoryview:
        """The model's bytes."""
        return self.reader.data

    # -- subgraphs and tensors ------------------------------------------------------

    def _subgraphs(self) -> Vector | None:
        return self.root.vector(ModelField.SUBGRAPHS, 4, "subgraphs")

    @property
    def subgraph_count(self) -> int:
        """How many subgraphs the model has."""
        self.reader.reset_budget()
        subgraphs = self._subgraphs()
        return 0 if subgraphs is None else len(subgraphs)

    def _subgraph(self, index: int) -> Table:
        subgraphs = self._subgraphs()
        count = 0 if subgraphs is None else len(subgraphs)
        if subgraphs is None or not 0 <= index < count:
            raise ModelFormatError(f"model: has {count} subgraphs, no subgraph {index}")
        return subgraphs.table(index)

    def inputs(self, subgraph: int = 0) -> list[TensorInfo]:
        """The input tensors of subgraph ``subgraph``, in order."""
        return self._io_tensors(subgraph, SubGraphField.INPUTS, "inputs")

    def outputs(self, subgraph: int = 0) -> list[TensorInfo]:
        """The output tensors of subgraph ``subgraph``, in order."""
        return self._io_tensors(subgraph, SubGraphField.OUTPUTS, "outputs")

    def input_count(self, subgraph: int = 0) -> int:
        """How many inputs subgraph ``subgraph`` lists (their tensors are not read)."""
        return self._io_count(subgraph, SubGraphField.INPUTS, "inputs")

    def output_count(self, subgraph: int = 0) -> int:
        """How many outputs subgraph ``subgraph`` lists (their tensors are not read)."""
        return self._io_count(subgraph, SubGraphField.OUTPUTS, "outputs")

    def _io_count(self, subgraph: int, field: int, name: str) -> int:
        # Only the index vector: an index naming a tensor the subgraph does not
        # have is for check to report (tensor-index), not a reason to refuse to count.
        self.reader.reset_budget()
        indices = self._subgraph(subgraph).vector(field, 4, name)
        return 0 if indices is None else len(indices)

    def dangling_tensor_indices(self, subgraph: int = 0) -> list[tuple[str, int, int, int]]:
        """The inputs and outputs of subgraph ``subgraph`` that name a tensor it does not have.

        Returns:
            ``(kind, position, tensor index, tensor count)`` for each, ``kind``
            being ``"input"`` or ``"output"``; empty for a sound subgraph.
        """
        self.reader.reset_budget()
        table = self._subgraph(subgraph)
        tensors = table.vector(SubGraphField.TENSORS, 4, "tensors")
        count = 0 if tensors is None else len(tensors)
        dangling = []
        for kind, field, name in (
            ("input", SubGraphField.INPUTS, "inputs"),
            ("output", SubGraphField.OUTPUTS, "outputs"),
        ):
            indices = table.vector(field, 4, name)
            for position, index in enumerate(indices.scalars("int") if indices else []):
                if not 0 <= int(index) < count:
                    dangling.append((kind, position, int(index), count))
        return dangling

    def _io_tensors(self, subgraph: int, field: int, name: str) -> list[TensorInfo]:
        self.reader.reset_budget()
        table = self._subgraph(subgraph)
        indices = table.vector(field, 4, name)
        if indices is None:
            return []
        tensors = table.vector(SubGraphField.TENSORS, 4, "tensors")
        count = 0 if tensors is None else len(tensors)
        result = []
        for position, index in enumerate(indices.scalars("int")):
            if tensors is None or not 0 <= int(index) < count:
                raise ModelFormatError(
                    f"model: subgraph {subgraph} {name}[{position}] is tensor {index}, "
                    f"but the subgraph has {count} tensors"
                )
            result.append(self._tensor(tensors.table(int(index)), int(index)))
        return result

    @staticmethod
    def _tensor(table: Table, index: int) -> TensorInfo:
        raw_name = table.string(TensorField.NAME, "name") or b""
        shape = table.vector(TensorField.SHAPE, 4, "shape")
        signature = table.vector(TensorField.SHAPE_SIGNATURE, 4, "shape_signature")
        return TensorInfo(
            index=index,
            name=raw_name.decode("utf-8", errors="replace"),
            type=int(table.scalar(TensorField.TYPE, "byte", 0, "type")),
            shape=tuple(int(d) for d in shape.scalars("int")) if shape is not None else (),
            shape_signature=(
                None if signature is None else tuple(int(d) for d in signature.scalars("int"))
            ),
        )

    # -- buffers and metadata -------------------------------------------------------

    def buffers_vector(self) -> Vector | None:
        """The raw ``Model.buffers`` vector (offsets to ``Buffer`` tables)."""
        self.reader.reset_budget()
        return self.root.vector(ModelField.BUFFERS, 4, "buffers")

    @property
    def buffer_count(self) -> int:
        """How many entries ``Model.buffers`` has."""
        buffers = self.buffers_vector()
        return 0 if buffers is None else len(buffers)

    def buffer_info(self, index: int) -> BufferInfo:
        """Where buffer ``index`` keeps its data.

        Raises:
            ModelFormatError: there is no such buffer, or its external data lies
                outside the file.
        """
        self.reader.reset_budget()
        buffers = self.buffers_vector()
        count = 0 if buffers is None else len(buffers)
        if buffers is None or not 0 <= index < count:
            raise ModelFormatError(f"model: has {count} buffers, no buffer {index}")
        table = buffers.table(index)
        offset_pos = table.field_pos(BufferField.OFFSET, 8)
        offset = int(table.scalar(BufferField.OFFSET, "ulong", 0, "offset"))
        size = int(table.scalar(BufferField.SIZE, "ulong", 0, "size"))
        info = BufferInfo(table.pos, offset_pos, offset, size)
        if info.is_external and offset + size > self.reader.size:
            raise ModelFormatError(
                f"model: buffer {index} keeps {size} bytes at file offset {offset}, past the "
                f"end of the model ({self.reader.size} bytes)"
            )
        return info

    def buffer_data(self, index: int) -> memoryview | None:
        """The data of buffer ``index`` (inline or external), or None when it has none."""
        self.reader.reset_budget()
        info = self.buffer_info(index)
        if info.is_external:
            return self.reader.data[info.offset : info.offset + info.size]
        buffers = self.buffers_vector()
        assert buffers is not None  # buffer_info checked the index
        data = buffers.table(index).vector(BufferField.DATA, 1, "data")
        return None if data is None else data.bytes()

    def metadata_entries(self) -> list[MetadataEntry]:
        """Every ``Model.metadata`` entry, in order."""
        self.reader.reset_budget()
        entries = self.root.vector(ModelField.METADATA, 4, "metadata")
        if entries is None:
            return []
        result = []
        for table in entries.tables():
            name = table.string(MetadataField.NAME, "name") or b""
            buffer = int(table.scalar(MetadataField.BUFFER, "uint", 0, "buffer"))
            result.append(MetadataEntry(name, buffer, table.pos))
        return result

    def metadata_buffer(self, name: str = METADATA_NAME) -> memoryview | None:
        """The data of the first metadata entry called ``name``, or None when absent.

        Raises:
            ModelFormatError: the entry names a buffer the model does not have.
        """
        wanted = name.encode("utf-8")
        for entry in self.metadata_entries():
            if entry.name == wanted:
                data = self.buffer_data(entry.buffer)
                return data if data is not None else memoryview(b"")
        return None


_MODEL_IDENTIFIER_MESSAGE = (
    "The model provided does not have the expected identifier, and may not be a valid TFLite model."
)


def open_model(data: BufferLike) -> ModelView:
    """A :class:`ModelView` with tflite-support's message for a wrong identifier."""
    view = memoryview(data)
    if len(view) < 8 or bytes(view[4:8]) != FILE_IDENTIFIER:
        raise ModelFormatError(_MODEL_IDENTIFIER_MESSAGE)
    return ModelView(data)


def model_bytes(model: Any, argument: str = "model_buffer", *, paths: bool = True) -> BufferLike:
    """A model argument as a buffer: the one place every entry point turns one into bytes.

    Buffers (``bytes``, ``bytearray``, ``memoryview``, an ``mmap`` …) are used as
    they are, not copied; a path (when ``paths``) is read.

    Args:
        model: what the caller gave.
        argument: the argument's name, for the messages (tflite-support's:
            ``"model_buffer cannot be empty."``).
        paths: whether a path is accepted.

    Raises:
        MetadataValidationError: ``model`` is None, empty, or neither a buffer nor a path.
        MissingFileError: a path that does not exist.
    """
    if paths and isinstance(model, (str, os.PathLike)):
        return read_file(model)
    if model is None:
        raise MetadataValidationError(f"{argument} cannot be empty.")
    try:
        view = memoryview(model)
    except TypeError:
        accepted = "bytes, bytearray or memoryview"
        raise MetadataValidationError(
            f"{argument} should be the model's bytes ({accepted})"
            + (" or its path" if paths else "")
            + f", but got {type(model).__name__}."
        ) from None
    if not view.nbytes:
        raise MetadataValidationError(f"{argument} cannot be empty.")
    return model  # type: ignore[no-any-return]
