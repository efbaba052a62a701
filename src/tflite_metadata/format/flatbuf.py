"""Bounds-checked, lazy reading of FlatBuffers.

Nothing here trusts the bytes it reads. Every offset is checked before it is
dereferenced, every vector length is checked against the bytes that remain
before anything is allocated, nesting depth is bounded, and a work budget
bounds what one traversal visits and copies, so that shared sub-objects (a
vector whose entries all point at the same large table or string) cannot make
the work grow faster than the input.

The budget is charged where work is done: one unit per table, vector or
string visited, plus one per element decoded by :meth:`Vector.scalars` and
one per 4 bytes of string copied. A reader that serves many independent
requests (a long-lived view, random access driven by a caller) restores it
with :meth:`FlatBufferReader.reset_budget`, or is made ``unlimited``.

Failures raise the ``error`` class given to :class:`FlatBufferReader` (a
:class:`~tflite_metadata.errors.MetadataError` subclass) with a message naming
what was being read and where.

The reader works over any object that supports the buffer protocol: ``bytes``,
``bytearray``, ``memoryview`` or an ``mmap``.
"""

from __future__ import annotations

import builtins
import mmap
import struct
from collections.abc import Iterator
from typing import Union

from ..errors import MetadataError

__all__ = ["BufferLike", "FlatBufferReader", "Table", "Vector"]

BufferLike = Union[bytes, bytearray, memoryview, mmap.mmap]

_U8 = struct.Struct("<B")
_I8 = struct.Struct("<b")
_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")

#: struct for each scalar kind used by the schemas.
SCALAR_STRUCTS: dict[str, struct.Struct] = {
    "bool": _U8,
    "byte": _I8,
    "ubyte": _U8,
    "short": _I16,
    "ushort": _U16,
    "int": _I32,
    "uint": _U32,
    "long": _I64,
    "ulong": _U64,
    "float": _F32,
    "double": _F64,
}

#: Deepest table nesting a reader follows; the schemas nest far less.
MAX_DEPTH = 64


class FlatBufferReader:
    """A bounds-checked view of one FlatBuffer.

    Args:
        data: the bytes of the buffer (any buffer-protocol object; not copied).
        what: a short name for messages, e.g. ``"model"`` or ``"metadata"``.
        error: the exception class raised on malformed data.
        budget: how much work (see the module docstring) this reader does before
            it refuses to go on; defaults to a bound proportional to the buffer size.
        unlimited: no budget at all, for readers whose every access is requested
            by a caller (the work is then the caller's, one bounded access at a time).

    Raises:
        MetadataError: (the ``error`` class) the buffer is too small to hold a root offset.
    """

    __slots__ = ("_budget", "_limit", "data", "error", "size", "what")

    def __init__(
        self,
        data: BufferLike,
        *,
        what: str = "buffer",
        error: type[MetadataError] = MetadataError,
        budget: int | None = None,
        unlimited: bool = False,
    ) -> None:
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        self.data = view
        self.size = len(view)
        self.what = what
        self.error = error
        if unlimited:
            self._limit: int | None = None
        else:
            self._limit = budget if budget is not None else 4096 + 4 * self.size
        self._budget = self._limit if self._limit is not None else 0
        if self.size < 8:
            raise error(
                f"{what}: {self.size} bytes is too small for a FlatBuffer "
                "(expected at least 8: a root offset and a file identifier)"
            )

    # -- primitive reads -------------------------------------------------------

    def fail(self, message: str) -> MetadataError:
        """Return (for raising) this reader's error with its name prefixed."""
        return self.error(f"{self.what}: {message}")

    def spend(self, count: int, where: str) -> None:
        """Charge ``count`` units of work (objects visited, elements decoded) to the budget."""
        if self._limit is None:
            return
        self._budget -= count
        if self._budget < 0:
            raise self.fail(
                f"{where}: the buffer references more objects than its size allows "
                "(shared or cyclic offsets?); refusing to read further"
            )

    def reset_budget(self) -> None:
        """Give the reader its whole budget again, for a new, independent traversal."""
        if self._limit is not None:
            self._budget = self._limit

    def check_range(self, pos: int, length: int, where: str) -> None:
        """Raise unless ``[pos, pos+length)`` lies inside the buffer."""
        if pos < 0 or length < 0 or pos + length > self.size:
            raise self.fail(
                f"{where}: {length} bytes at offset {pos} run past the end of the "
                f"buffer ({self.size} bytes)"
            )

    def unpack(self, st: struct.Struct, pos: int, where: str) -> int | float:
        """Read one little-endian scalar at ``pos``, bounds-checked."""
        self.check_range(pos, st.size, where)
        return st.unpack_from(self.data, pos)[0]  # type: ignore[no-any-return]

    def u32(self, pos: int, where: str) -> int:
        """Read an unsigned 32-bit integer (a ``uoffset`` or a length)."""
        return int(self.unpack(_U32, pos, where))

    def deref(self, pos: int, where: str) -> int:
        """Follow the ``uoffset`` stored at ``pos`` and return its target."""
        target = pos + self.u32(pos, where)
        if target >= self.size:
            raise self.fail(
                f"{where}: offset at {pos} points to {target}, past the end of the "
                f"buffer ({self.size} bytes)"
            )
        return target

    # -- roots ------------------------------------------------------------------

    def identifier(self) -> bytes:
        """The 4-byte file identifier stored after the root offset."""
        return bytes(self.data[4:8])

    def root(self, name: str) -> Table:
        """The root table, named ``name`` in messages."""
        return self.table_at(self.deref(0, f"{name} root offset"), name, 0)

    def table_at(self, pos: int, where: str, depth: int) -> Table:
        """A checked :class:`Table` at absolute position ``pos``."""
        if depth > MAX_DEPTH:
            raise self.fail(f"{where}: tables nest deeper than {MAX_DEPTH} levels")
        self.spend(1, where)
        return Table(self, pos, where, depth)


class Table:
    """One table of a :class:`FlatBufferReader`, its vtable already checked.

    Fields are looked up by their id (declaration order in the schema, unions
    taking two ids: the type, then the value).
    """

    __slots__ = ("_object_size", "_vtable", "_vtable_len", "depth", "pos", "reader", "where")

    def __init__(self, reader: FlatBufferReader, pos: int, where: str, depth: int) -> None:
        self.reader = reader
        self.pos = pos
        self.where = where
        self.depth = depth
        soffset = int(reader.unpack(_I32, pos, f"{where} vtable offset"))
        vtable = pos - soffset
        vtable_len = int(reader.unpack(_U16, vtable, f"{where} vtable"))
        object_size = int(reader.unpack(_U16, vtable + 2, f"{where} vtable"))
        if vtable_len < 4 or vtable_len % 2:
            raise reader.fail(f"{where}: vtable at {vtable} has invalid size {vtable_len}")
        reader.check_range(vtable, vtable_len, f"{where} vtable")
        if object_size < 4:
            raise reader.fail(f"{where}: table at {pos} has invalid size {object_size}")
        reader.check_range(pos, object_size, where)
        self._vtable = vtable
        self._vtable_len = vtable_len
        self._object_size = object_size

    @property
    def field_count(self) -> int:
        """How many field slots the vtable has."""
        return (self._vtable_len - 4) // 2

    @property
    def object_size(self) -> int:
        """The size in bytes of the table's inline data (from its vtable)."""
        return self._object_size

    def field_pos(self, field_id: int, size: int = 0) -> int:
        """Absolute position of field ``field_id``, or 0 when it is absent.

        ``size`` is the field's inline size, checked to fit inside the table.
        """
        entry = 4 + 2 * field_id
        if entry >= self._vtable_len:
            return 0
        offset = int(self.reader.unpack(_U16, self._vtable + entry, f"{self.where} vtable"))
        if offset == 0:
            return 0
        if offset < 4 or offset + size > self._object_size:
            raise self.reader.fail(
                f"{self.where}: field {field_id} at table offset {offset} lies outside "
                f"the table ({self._object_size} bytes)"
            )
        return self.pos + offset

    def has(self, field_id: int) -> bool:
        """Whether field ``field_id`` is stored in the buffer."""
        return self.field_pos(field_id) != 0

    def scalar(self, field_id: int, kind: str, default: int | float, name: str = "") -> int | float:
        """A scalar field of schema type ``kind`` (``"uint"``, ``"float"`` …)."""
        st = SCALAR_STRUCTS[kind]
        pos = self.field_pos(field_id, st.size)
        if not pos:
            return default
        value = self.reader.unpack(st, pos, self._name(name, field_id))
        return bool(value) if kind == "bool" else value

    def table(self, field_id: int, name: str = "") -> Table | None:
        """A sub-table field, or None when absent."""
        pos = self.field_pos(field_id, 4)
        if not pos:
            return None
        where = self._name(name, field_id)
        return self.reader.table_at(self.reader.deref(pos, where), where, self.depth + 1)

    def string(self, field_id: int, name: str = "") -> bytes | None:
        """A string field as raw bytes (not decoded), or None when absent."""
        pos = self.field_pos(field_id, 4)
        if not pos:
            return None
        where = self._name(name, field_id)
        return read_string(self.reader, self.reader.deref(pos, where), where)

    def vector(self, field_id: int, element_size: int, name: str = "") -> Vector | None:
        """A vector field whose elements are ``element_size`` bytes, or None when absent."""
        pos = self.field_pos(field_id, 4)
        if not pos:
            return None
        where = self._name(name, field_id)
        return Vector(self.reader, self.reader.deref(pos, where), element_size, where, self.depth)

    def _name(self, name: str, field_id: int) -> str:
        return f"{self.where}.{name or f'field {field_id}'}"


def read_string(reader: FlatBufferReader, pos: int, where: str) -> bytes:
    """The bytes of the string whose length prefix is at ``pos``."""
    length = reader.u32(pos, f"{where} length")
    reader.check_range(pos + 4, length, where)
    # Charged by length: many offsets to one long string copy it many times.
    reader.spend(1 + length // 4, where)
    return bytes(reader.data[pos + 4 : pos + 4 + length])


class Vector:
    """A checked vector: its length is known to fit in the buffer."""

    __slots__ = ("depth", "element_size", "length", "reader", "start", "where")

    def __init__(
        self, reader: FlatBufferReader, pos: int, element_size: int, where: str, depth: int
    ) -> None:
        length = reader.u32(pos, f"{where} length")
        # Checked before anything is allocated: a lying length fails here.
        reader.check_range(pos + 4, length * element_size, f"{where} ({length} elements)")
        # One unit: elements are charged when they are read (tables, strings,
        # scalars), so that reading one element of a long vector stays cheap.
        reader.spend(1, where)
        self.reader = reader
        self.start = pos + 4
        self.length = length
        self.element_size = element_size
        self.where = where
        self.depth = depth

    def __len__(self) -> int:
        return self.length

    def bytes(self) -> memoryview:
        """The raw element bytes (no copy)."""
        return self.reader.data[self.start : self.start + self.length * self.element_size]

    def scalars(self, kind: str) -> list[int | float]:
        """All elements decoded as scalars of schema type ``kind``."""
        st = SCALAR_STRUCTS[kind]
        if st.size != self.element_size:
            raise ValueError("element size mismatch")  # programming error, not data
        self.reader.spend(self.length, self.where)
        fmt = f"<{self.length}{st.format[-1]}"
        values = list(struct.unpack_from(fmt, self.reader.data, self.start))
        if kind == "bool":
            return [bool(v) for v in values]
        return values

    def _element(self, index: int) -> int:
        if not 0 <= index < self.length:
            raise IndexError(index)
        return self.start + index * self.element_size

    def table(self, index: int) -> Table:
        """Element ``index`` of a vector of tables."""
        pos = self._element(index)
        where = f"{self.where}[{index}]"
        return self.reader.table_at(self.reader.deref(pos, where), where, self.depth + 1)

    # ``builtins.bytes``: inside this class, ``bytes`` is the method below.
    def string(self, index: int) -> builtins.bytes:
        """Element ``index`` of a vector of strings, as raw bytes."""
        pos = self._element(index)
        where = f"{self.where}[{index}]"
        return read_string(self.reader, self.reader.deref(pos, where), where)

    def tables(self) -> Iterator[Table]:
        """Every element of a vector of tables, in order."""
        for index in range(self.length):
            yield self.table(index)

    def strings(self) -> Iterator[builtins.bytes]:
        """Every element of a vector of strings, in order."""
        for index in range(self.length):
            yield self.string(index)
