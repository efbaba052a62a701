"""Splicing a metadata buffer into a model without re-encoding the model.

FlatBuffer offsets only point forward. So a new root ``Model`` table, written
*before* the untouched bytes of the original model, can reference every object
of the original: its subgraphs, operator codes, signature defs, description,
the ``Buffer`` tables. The output is::

    [new head: root offset, "TFL3", new Model table, new buffers vector,
     (new metadata vector), new Buffer (and Metadata) table, metadata bytes, padding]
    [the original model, byte for byte]
    [the associated files zip, written by the caller]

What changes in the original bytes: nothing, except the absolute ``Buffer.offset``
of weights stored outside the FlatBuffer (the converter's offset mode), which move
with the model and are shifted by the head's length. The head's length is a
multiple of 4096 bytes: every ``force_align`` vector and every external buffer
(the converter aligns them to far less) keeps its alignment, and the original
bytes keep their place within memory pages, which lets the kernel copy them
from file to file at the speed of ``cp`` (see :func:`~tflite_metadata.fileio.copy_range`).

The old root table stays in the file, unreferenced, as does an old metadata
buffer that is replaced (tflite-support's rule: the existing ``TFLITE_METADATA``
entry keeps its buffer index, whose ``Buffer`` now holds the new metadata).

``Model`` fields newer than this package's schema are kept exactly: the new
table's vtable points at them where they are, in the original table.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from ..errors import ModelFormatError
from ..fileio import copy_range
from ..format.flatbuf import BufferLike, Table
from ..format.model_schema import FILE_IDENTIFIER, METADATA_NAME, MODEL_OFFSET_FIELDS, ModelField
from ._memory import concatenate
from .reader import ModelView

__all__ = ["SplicePlan", "plan_splice"]

#: The head's length is a multiple of this: a memory page, a multiple of every
#: alignment of the original data (Buffer.data is force_align 16, and the converter
#: aligns external data to 16: ``EXTERNAL_DATA_ALIGNMENT``). Measured, the kernel
#: copied a 1 GB model behind a 4096-byte head in 0.36-0.40 s (``cp``: 0.32-0.33 s),
#: behind a 4000-byte one in 0.54-0.57 s: pages of the copy then straddle pages.
HEAD_ALIGNMENT = 4096
#: Bytes written per call when streaming the original model from memory.
COPY_CHUNK = 16 << 20

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")


@dataclass(frozen=True)
class Patch:
    """Bytes that replace ``len(data)`` bytes of the original model at ``pos``."""

    pos: int
    data: bytes


@dataclass(frozen=True)
class SplicePlan:
    """What the output model is made of; see the module docstring."""

    #: The new head, padded so that the original bytes keep their alignment.
    head: bytes
    #: How many bytes of the original model follow the head (an old zip is dropped).
    body_end: int
    #: Changes to the original bytes (external buffer offsets), sorted by position.
    patches: tuple[Patch, ...]

    @property
    def output_size(self) -> int:
        """Size of the spliced model, without associated files."""
        return len(self.head) + self.body_end

    def segments(self) -> Iterator[bytes | tuple[int, int]]:
        """The output in order: new bytes, or ``(start, end)`` ranges of the original model."""
        yield self.head
        position = 0
        for patch in self.patches:
            if patch.pos > position:
                yield (position, patch.pos)
            yield patch.data
            position = patch.pos + len(patch.data)
        if self.body_end > position:
            yield (position, self.body_end)

    def to_bytes(self, model: BufferLike, tail: BufferLike = b"") -> bytes:
        """The spliced model followed by ``tail``, in a new ``bytes`` object.

        One allocation of the final size, each byte of it written once (see
        :func:`~tflite_metadata.model._memory.concatenate`): the cost is that of one
        copy of the model into new memory.
        """
        source = memoryview(model).cast("B")
        pieces: list[BufferLike] = [
            source[segment[0] : segment[1]] if isinstance(segment, tuple) else segment
            for segment in self.segments()
        ]
        pieces.append(tail)
        return concatenate(pieces)

    def write_to(
        self, model: BufferLike, stream: IO[bytes], source: IO[bytes] | None = None
    ) -> None:
        """Stream the spliced model to ``stream``: one sequential pass, bounded memory.

        Args:
            model: the model's bytes (may be an ``mmap``).
            stream: where to write.
            source: the model's file, if it has one: its ranges are then copied by
                the kernel where the platform can, never passing through this
                process's memory.
        """
        view = memoryview(model).cast("B")
        for segment in self.segments():
            if not isinstance(segment, tuple):
                stream.write(segment)
            elif source is not None:
                copy_range(source, stream, *segment)
            else:
                for chunk in range(segment[0], segment[1], COPY_CHUNK):
                    stream.write(view[chunk : min(segment[1], chunk + COPY_CHUNK)])


# -- the head ---------------------------------------------------------------------------

_Target = tuple[str, int]  # ("head", position in head) or ("model", position in the model)


class _Head:
    """A forward-written FlatBuffer fragment whose offsets may point past its end.

    Offsets are recorded as fixups and resolved once the head's final length
    (and so the position of the original model after it) is known.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        #: Position of each reserved ``uoffset`` -> its target (None until it is known).
        self.fixups: dict[int, _Target | None] = {}

    def align(self, alignment: int, remainder: int = 0) -> None:
        """Pad with zeros until the length is ``remainder`` modulo ``alignment``."""
        self.data += bytes((remainder - len(self.data)) % alignment)

    def put(self, st: struct.Struct, value: int) -> int:
        pos = len(self.data)
        self.data += st.pack(value)
        return pos

    def offset(self, target: _Target | None = None) -> int:
        """Reserve a ``uoffset`` to ``target`` (or to one set later with :meth:`point`)."""
        pos = self.put(_U32, 0)
        self.fixups[pos] = target
        return pos

    def point(self, pos: int, target: _Target) -> None:
        """Aim the ``uoffset`` at ``pos`` (reserved, or a table's field) at ``target``."""
        self.fixups[pos] = target

    def table(
        self, fields: list[tuple[int, int]], object_size: int, slots: int = 0
    ) -> tuple[int, int]:
        """Write a vtable then a table start; returns (vtable position, table position).

        ``fields`` are (field id, offset of the field inside the table); the vtable
        has at least ``slots`` entries.
        """
        slots = max(slots, max((field_id for field_id, _ in fields), default=-1) + 1)
        self.align(4, (4 + 2 * slots) % 4)
        vtable = self.put(_U16, 4 + 2 * slots)
        self.put(_U16, object_size)
        entries = dict(fields)
        for field_id in range(slots):
            self.put(_U16, entries.get(field_id, 0))
        table = self.put(_I32, 0)
        _I32.pack_into(self.data, table, table - vtable)
        return vtable, table

    def resolve(self, shift: int) -> None:
        for pos, fixup in self.fixups.items():
            assert fixup is not None, f"the offset at {pos} was never aimed"
            where, target = fixup
            absolute = target if where == "head" else shift + target
            if not 0 <= absolute - pos <= 0xFFFFFFFF:
                # Only a model whose objects lie beyond 4 GiB gets here; a uoffset
                # cannot reach them.
                raise ModelFormatError(
                    f"model: an object at offset {target} cannot be referenced from the new "
                    "root table: FlatBuffer offsets are 32-bit"
                )
            _U32.pack_into(self.data, pos, absolute - pos)


def plan_splice(model: ModelView, metadata: bytes, body_end: int) -> SplicePlan:
    """Plan the output of populating ``metadata`` into ``model``.

    Args:
        model: the model to splice into.
        metadata: the metadata buffer (``M001``), stored as ``TFLITE_METADATA``.
        body_end: how many bytes of the model to keep (the start of an old zip
            of associated files, which the caller replaces, or the model's size).

    Returns:
        The plan; :meth:`SplicePlan.to_bytes` and :meth:`SplicePlan.write_to` make the
        output.

    Raises:
        ModelFormatError: the model's root table or buffers are malformed, or an
            object the new root must reference lies outside ``body_end``.
    """
    root = model.root
    reader = model.reader

    def old_target(field_pos: int, what: str) -> int:
        target = reader.deref(field_pos, what)
        if target >= body_end:
            raise ModelFormatError(
                f"model: {what} points to offset {target}, inside the associated files "
                f"(the model ends at {body_end})"
            )
        return target

    # The buffers and where the old TFLITE_METADATA entries point.
    buffers = model.buffers_vector()
    buffer_count = 0 if buffers is None else len(buffers)
    replaced = set()
    for entry in model.metadata_entries():
        if entry.name == METADATA_NAME.encode():
            if not 0 <= entry.buffer < buffer_count:
                raise ModelFormatError(
                    f"model: metadata entry {METADATA_NAME} names buffer {entry.buffer}, but "
                    f"the model has {buffer_count} buffers"
                )
            replaced.add(entry.buffer)

    # Position of each external Buffer.offset field -> its value (a Buffer table shared
    # by several entries is patched once).
    external: dict[int, int] = {}
    for index in range(buffer_count):
        info = model.buffer_info(index)
        if info.is_external:
            if info.offset + info.size > body_end:
                raise ModelFormatError(
                    f"model: buffer {index} keeps {info.size} bytes at file offset "
                    f"{info.offset}, past the end of the model ({body_end} bytes)"
                )
            external[info.offset_field_pos] = info.offset

    head = _Head()
    head.put(_U32, 0)  # root offset, set once the table's position is known
    head.data += FILE_IDENTIFIER

    # Which Model fields the new table holds inline, and which it reaches back to.
    own_fields = {int(f) for f in ModelField if root.has(f)}
    own_fields |= {ModelField.BUFFERS, ModelField.METADATA}
    reach_back = [f for f in range(len(ModelField), root.field_count) if root.has(f)]
    layout = [(field_id, 4 + 4 * slot) for slot, field_id in enumerate(sorted(own_fields))]
    inline_size = 4 + 4 * len(layout)
    vtable, table = head.table(layout, inline_size, max(reach_back, default=-1) + 1)
    field_pos = {field_id: table + inline for field_id, inline in layout}
    head.data += bytes(inline_size - 4)
    _U32.pack_into(head.data, 0, table)

    for field_id in sorted(own_fields - {ModelField.BUFFERS, ModelField.METADATA}):
        old = root.field_pos(field_id, 4)
        if field_id in MODEL_OFFSET_FIELDS:
            target = old_target(old, f"Model field {ModelField(field_id).name.lower()}")
            head.point(field_pos[field_id], ("model", target))
        else:
            head.data[field_pos[field_id] : field_pos[field_id] + 4] = reader.data[old : old + 4]

    # Model.buffers: the old Buffer tables, the metadata's Buffer in place of the old one.
    head.align(4)
    head.point(field_pos[ModelField.BUFFERS], ("head", len(head.data)))
    new_index = min(replaced) if replaced else buffer_count
    head.put(_U32, max(buffer_count, new_index + 1))
    new_buffer_refs = []
    for index in range(max(buffer_count, new_index + 1)):
        if index in replaced or index == new_index:
            new_buffer_refs.append(head.offset())  # aimed at the new Buffer below
        else:
            assert buffers is not None
            element = buffers.start + 4 * index
            head.offset(("model", old_target(element, f"buffers[{index}]")))

    # Model.metadata: unchanged when it already has our entry, else the old entries + ours.
    old_metadata = root.field_pos(ModelField.METADATA, 4)
    new_entry_ref = None
    if replaced:
        head.point(field_pos[ModelField.METADATA], ("model", old_target(old_metadata, "metadata")))
    else:
        entries = model.metadata_entries()
        head.align(4)
        head.point(field_pos[ModelField.METADATA], ("head", len(head.data)))
        head.put(_U32, len(entries) + 1)
        for entry in entries:
            head.offset(("model", entry.table_pos))
        new_entry_ref = head.offset()  # aimed at the new Metadata table below

    if new_entry_ref is not None:
        _, metadata_table = head.table([(0, 4), (1, 8)], 12)
        name_ref = head.offset()
        head.put(_U32, new_index)
        head.point(new_entry_ref, ("head", metadata_table))
        head.align(4)
        head.point(name_ref, ("head", len(head.data)))
        name = METADATA_NAME.encode()
        head.put(_U32, len(name))
        head.data += name + b"\0"

    _, buffer_table = head.table([(0, 4)], 8)
    data_ref = head.offset()
    for ref in new_buffer_refs:
        head.point(ref, ("head", buffer_table))
    head.align(16, 12)  # Buffer.data is force_align 16: the bytes start on 16
    head.point(data_ref, ("head", len(head.data)))
    head.put(_U32, len(metadata))
    head.data += metadata

    head.align(HEAD_ALIGNMENT)
    shift = len(head.data)
    head.resolve(shift)
    _reach_back(head, vtable, table, root, reach_back, shift, inline_size)

    patches = tuple(
        Patch(pos, _U64.pack(offset + shift)) for pos, offset in sorted(external.items())
    )
    return SplicePlan(bytes(head.data), body_end, patches)


def _reach_back(
    head: _Head,
    vtable: int,
    table: int,
    root: Table,
    fields: list[int],
    shift: int,
    inline_size: int,
) -> None:
    """Point the new vtable at ``fields`` where they are, inside the original root table."""
    if not fields:
        return
    object_size = shift + root.pos + root.object_size - table
    if object_size > 0xFFFF:
        raise ModelFormatError(
            f"model: the Model table has fields newer than this package's schema (ids "
            f"{fields}), and the new metadata ({shift} bytes of head) is too large to keep "
            "them in place; refusing to drop them"
        )
    _U16.pack_into(head.data, vtable + 2, max(object_size, inline_size))
    for field_id in fields:
        old = root.field_pos(field_id) - root.pos
        _U16.pack_into(head.data, vtable + 4 + 2 * field_id, shift + root.pos + old - table)
