"""Encoding and decoding metadata buffers, driven by :mod:`tflite_metadata.format.metadata_schema`.

This module makes, from the schema declarations, the two families of classes
that flatc would generate for Python, with the same names and behaviour:

* the object API (``ModelMetadataT``, ``AssociatedFileT`` …): plain objects
  with flatc's camelCase attributes, ``Pack(builder)``, ``InitFromBuf``,
  ``InitFromPackedBuf`` and ``InitFromObj``. ``Pack`` issues the builder calls
  in the order flatc's generated code does, so a buffer packed here is
  byte-identical to one packed by tflite-support;
* the readers (``ModelMetadata`` …) with ``GetRootAs…``, the
  ``…BufferHasIdentifier`` check and one accessor per field. Unlike flatc's,
  they bounds-check every access and raise
  :class:`~tflite_metadata.errors.MetadataFormatError` on malformed input.

Decoding never goes through unchecked reads: :func:`decode` walks the buffer
with :mod:`tflite_metadata.format.flatbuf`. Decoded strings are ``bytes`` and scalar
vectors are lists, as flatc's object API gives them without numpy.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from ..errors import MetadataFormatError, MetadataValidationError
from . import metadata_schema as schema
from .flatbuf import SCALAR_STRUCTS, BufferLike, FlatBufferReader, Table

if TYPE_CHECKING:
    import flatbuffers

# ``flatbuffers`` is imported where a buffer is built, not here: importing it
# imports numpy when numpy is installed (~0.1 s), which reading metadata
# (``show``, ``check``, ``extract``) never needs.

__all__ = [
    "MetadataObject",
    "MetadataReader",
    "decode",
    "encode",
    "metadata_root",
    "object_class",
    "reader_class",
    "require_identifier",
]

#: Builder method that stores a scalar slot, per schema scalar type.
SLOT_METHODS = {
    "bool": "PrependBoolSlot",
    "byte": "PrependInt8Slot",
    "ubyte": "PrependUint8Slot",
    "short": "PrependInt16Slot",
    "ushort": "PrependUint16Slot",
    "int": "PrependInt32Slot",
    "uint": "PrependUint32Slot",
    "long": "PrependInt64Slot",
    "ulong": "PrependUint64Slot",
    "float": "PrependFloat32Slot",
    "double": "PrependFloat64Slot",
}
#: Builder method that prepends one vector element, per schema scalar type.
_PREPEND_METHOD = {
    "bool": "PrependBool",
    "byte": "PrependInt8",
    "ubyte": "PrependUint8",
    "short": "PrependInt16",
    "ushort": "PrependUint16",
    "int": "PrependInt32",
    "uint": "PrependUint32",
    "long": "PrependInt64",
    "ulong": "PrependUint64",
    "float": "PrependFloat32",
    "double": "PrependFloat64",
}


def _scalar_type(decl: schema.FieldDecl) -> str:
    """The stored scalar type of a scalar, enum or scalar-vector field."""
    if decl.kind == "enum":
        return schema.ENUMS[decl.type].base
    return decl.type


def _default(decl: schema.FieldDecl) -> Any:
    """The object API's initial value for a field."""
    if decl.kind in ("scalar", "enum"):
        return float(decl.default) if _scalar_type(decl) in ("float", "double") else decl.default
    return None


# -- decoding -------------------------------------------------------------------


def _decode_table(decl: schema.TableDecl, table: Table) -> MetadataObject:
    obj = _OBJECT_CLASSES[decl.name]()
    for fdecl in decl.fields:
        setattr(obj, fdecl.python_name, _decode_field(fdecl, table))
        if fdecl.kind == "union":
            type_value = table.scalar(fdecl.id, "ubyte", 0, fdecl.name + "_type")
            setattr(obj, fdecl.python_name + "Type", type_value)
    return obj


def _decode_field(decl: schema.FieldDecl, table: Table) -> Any:
    kind = decl.kind
    if kind in ("scalar", "enum"):
        return table.scalar(decl.id, _scalar_type(decl), _default(decl), decl.name)
    if kind == "string":
        return table.string(decl.id, decl.name)
    if kind == "table":
        sub = table.table(decl.id, decl.name)
        return None if sub is None else _decode_table(schema.TABLES[decl.type], sub)
    if kind == "union":
        type_value = int(table.scalar(decl.id, "ubyte", 0, decl.name + "_type"))
        member = schema.UNIONS[decl.type].member(type_value)
        if member is None:
            # Like flatc's verifier and object API: a value of no known type is not read.
            return None
        sub = table.table(decl.id + 1, decl.name)
        return None if sub is None else _decode_table(schema.TABLES[member], sub)
    if kind == "scalars":
        vector = table.vector(decl.id, SCALAR_STRUCTS[decl.type].size, decl.name)
        return None if vector is None else vector.scalars(decl.type)
    vector = table.vector(decl.id, 4, decl.name)
    if vector is None:
        return None
    if kind == "strings":
        return list(vector.strings())
    sub_decl = schema.TABLES[decl.type]
    return [_decode_table(sub_decl, t) for t in vector.tables()]


def _reader(buf: BufferLike, *, budget: int | None = None) -> FlatBufferReader:
    return FlatBufferReader(buf, what="metadata", error=MetadataFormatError, budget=budget)


def _access_reader(buf: BufferLike) -> FlatBufferReader:
    """A reader for the flatc-style accessors: the caller drives every access.

    Such a reader may serve any number of calls, so a work budget would refuse a
    well-formed buffer after enough of them; each accessor does bounded work.
    """
    return FlatBufferReader(buf, what="metadata", error=MetadataFormatError, unlimited=True)


def _budgeted(table: Table) -> Table:
    """``table`` seen through a reader with a fresh work budget, for one decode."""
    reader = _reader(table.reader.data)
    return reader.table_at(table.pos, table.where, 0)


def decode(buf: BufferLike, *, check_identifier: bool = True) -> Any:
    """Decode a metadata buffer into a ``ModelMetadataT``.

    Args:
        buf: the metadata FlatBuffer.
        check_identifier: require the ``M001`` file identifier.

    Returns:
        The ``ModelMetadataT`` object tree.

    Raises:
        MetadataFormatError: the buffer is not a well-formed metadata FlatBuffer.
    """
    return _decode_table(
        schema.TABLES[schema.ROOT_TABLE], metadata_root(buf, check_identifier=check_identifier)
    )


def metadata_root(buf: BufferLike, *, check_identifier: bool = True) -> Table:
    """The root ``ModelMetadata`` table of a metadata buffer, with a fresh work budget.

    Raises:
        MetadataFormatError: the buffer does not carry the ``M001`` identifier
            (when ``check_identifier``) or its root offset is malformed.
    """
    reader = _reader(buf)
    if check_identifier and reader.identifier() != schema.FILE_IDENTIFIER:
        raise MetadataFormatError(
            "The metadata buffer does not have the expected identifier, and may not be a "
            f"valid TFLite Metadata (expected {schema.FILE_IDENTIFIER!r}, "
            f"found {reader.identifier()!r})."
        )
    return reader.root(schema.ROOT_TABLE)


def require_identifier(buf: BufferLike) -> None:
    """Refuse a buffer without the ``M001`` identifier, in tflite-support's words.

    Raises:
        MetadataFormatError: the identifier is missing.
    """
    try:
        view = memoryview(buf)
    except TypeError:  # not a buffer (a str, a list …): it has no identifier either
        view = memoryview(b"")
    if len(view) < 8 or bytes(view[4:8]) != schema.FILE_IDENTIFIER:
        raise MetadataFormatError(
            "The metadata buffer does not have the expected identifier, and may not be a "
            "valid TFLite Metadata."
        )


# -- encoding -------------------------------------------------------------------


def _pack_table(obj: MetadataObject, builder: flatbuffers.Builder) -> int:
    decl = obj._decl
    offsets: dict[str, int] = {}
    # Children first, in field order, as flatc's generated Pack does.
    for fdecl in decl.fields:
        value = getattr(obj, fdecl.python_name, None)
        if value is None or fdecl.kind in ("scalar", "enum"):
            continue
        offsets[fdecl.name] = _pack_child(fdecl, value, builder)
    builder.StartObject(decl.slot_count)
    for fdecl in decl.fields:
        value = getattr(obj, fdecl.python_name, None)
        if fdecl.kind in ("scalar", "enum"):
            getattr(builder, SLOT_METHODS[_scalar_type(fdecl)])(fdecl.id, value, fdecl.default)
        elif fdecl.kind == "union":
            type_value = getattr(obj, fdecl.python_name + "Type", 0)
            builder.PrependUint8Slot(fdecl.id, type_value, 0)
            if value is not None:
                builder.PrependUOffsetTRelativeSlot(fdecl.id + 1, offsets[fdecl.name], 0)
        elif value is not None:
            builder.PrependUOffsetTRelativeSlot(fdecl.id, offsets[fdecl.name], 0)
    return int(builder.EndObject())


def _pack_child(decl: schema.FieldDecl, value: Any, builder: flatbuffers.Builder) -> int:
    kind = decl.kind
    if kind == "string":
        return int(builder.CreateString(value))
    if kind in ("table", "union"):
        return int(value.Pack(builder))
    items = list(value)
    if kind == "scalars":
        size = SCALAR_STRUCTS[decl.type].size
        builder.StartVector(size, len(items), size)
        prepend = getattr(builder, _PREPEND_METHOD[decl.type])
        for item in reversed(items):
            prepend(item)
        return int(builder.EndVector())
    if kind == "strings":
        children = [int(builder.CreateString(item)) for item in items]
    else:
        children = [int(item.Pack(builder)) for item in items]
    builder.StartVector(4, len(children), 4)
    for child in reversed(children):
        builder.PrependUOffsetTRelative(child)
    return int(builder.EndVector())


def encode(obj: Any, file_identifier: bytes | None = schema.FILE_IDENTIFIER) -> bytes:
    """Pack a ``ModelMetadataT`` (or any object-API table) into a finished FlatBuffer.

    Args:
        obj: the object tree.
        file_identifier: the identifier to finish with (``M001`` by default).

    Returns:
        The buffer bytes, identical to what tflite-support's generated code packs.

    Raises:
        MetadataValidationError: an attribute holds a value of the wrong type or range.
    """
    import flatbuffers

    builder = flatbuffers.Builder(0)
    try:
        root = obj.Pack(builder)
        builder.Finish(root, file_identifier)
    except (TypeError, ValueError, AttributeError, struct.error, OverflowError) as exc:
        if isinstance(exc, MetadataValidationError):
            raise
        raise MetadataValidationError(
            f"cannot encode {type(obj).__name__}: an attribute has a value of the wrong type "
            f"or range ({type(exc).__name__}: {exc})"
        ) from exc
    return bytes(builder.Output())


# -- the object API -------------------------------------------------------------


class MetadataObject:
    """Base of the object-API classes (``ModelMetadataT`` …) made from the schema."""

    _decl: ClassVar[schema.TableDecl]

    def __init__(self) -> None:
        for fdecl in self._decl.fields:
            if fdecl.kind == "union":
                setattr(self, fdecl.python_name + "Type", 0)
            setattr(self, fdecl.python_name, _default(fdecl))

    @classmethod
    def InitFromBuf(cls, buf: BufferLike, pos: int) -> Any:
        """Decode the table at absolute position ``pos`` of ``buf``."""
        table = _reader(buf).table_at(pos, cls._decl.name, 0)
        return _decode_table(cls._decl, table)

    @classmethod
    def InitFromPackedBuf(cls, buf: BufferLike, pos: int = 0) -> Any:
        """Decode the table that the root offset at ``pos`` of ``buf`` points to."""
        reader = _reader(buf)
        target = reader.deref(pos, f"{cls._decl.name} root offset")
        return _decode_table(cls._decl, reader.table_at(target, cls._decl.name, 0))

    @classmethod
    def InitFromObj(cls, reader_obj: MetadataReader) -> Any:
        """Decode from a reader object (``ModelMetadata`` …)."""
        if reader_obj is None:
            return cls()
        return _decode_table(cls._decl, _budgeted(reader_obj._tab))

    def _UnPack(self, reader_obj: MetadataReader) -> None:
        if reader_obj is None:
            return
        decoded = _decode_table(self._decl, _budgeted(reader_obj._tab))
        self.__dict__.update(decoded.__dict__)

    def Pack(self, builder: flatbuffers.Builder) -> int:
        """Pack into ``builder`` and return the table's offset."""
        return _pack_table(self, builder)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}" for k, v in self.__dict__.items() if v is not None and v != 0
        )
        return f"{type(self).__name__}({fields})"


# -- the readers ----------------------------------------------------------------


class MetadataReader:
    """Base of the reader classes (``ModelMetadata`` …) made from the schema."""

    _decl: ClassVar[schema.TableDecl]
    _tab: Table

    @classmethod
    def GetRootAs(cls, buf: BufferLike, offset: int = 0) -> Any:
        """The root table of ``buf``, whose root offset is at ``offset``."""
        reader = _access_reader(buf)
        obj = cls()
        obj._tab = reader.table_at(
            reader.deref(offset, f"{cls._decl.name} root offset"), cls._decl.name, 0
        )
        return obj

    def Init(self, buf: BufferLike, pos: int) -> None:
        """Point this reader at the table at absolute position ``pos``."""
        self._tab = _access_reader(buf).table_at(pos, self._decl.name, 0)


def _has_identifier(buf: BufferLike, offset: int, size_prefixed: bool = False) -> bool:
    start = offset + (8 if size_prefixed else 4)
    view = memoryview(buf)
    return bytes(view[start : start + 4]) == schema.FILE_IDENTIFIER


def _wrap(table: Table | None, class_name: str) -> Any:
    if table is None:
        return None
    obj = _READER_CLASSES[class_name]()
    obj._tab = table
    return obj


def _element(length: int, j: int, where: str) -> None:
    if not 0 <= j < length:
        raise MetadataFormatError(f"metadata: {where}: index {j} out of range (length {length})")


def _accessors(decl: schema.FieldDecl) -> dict[str, Callable[..., Any]]:
    """The reader methods flatc generates for one field."""
    name = decl.method_name
    fid = decl.id
    kind = decl.kind
    methods: dict[str, Callable[..., Any]] = {}
    if kind in ("scalar", "enum"):
        stype, default = _scalar_type(decl), _default(decl)
        methods[name] = lambda self: self._tab.scalar(fid, stype, default, decl.name)
    elif kind == "string":
        methods[name] = lambda self: self._tab.string(fid, decl.name)
    elif kind == "table":
        methods[name] = lambda self: _wrap(self._tab.table(fid, decl.name), decl.type)
    elif kind == "union":

        def union_value(self: MetadataReader) -> Any:
            sub = self._tab.table(fid + 1, decl.name)
            if sub is None:
                return None
            import flatbuffers.table

            return flatbuffers.table.Table(sub.reader.data, sub.pos)

        methods[name + "Type"] = lambda self: self._tab.scalar(fid, "ubyte", 0, decl.name)
        methods[name] = union_value
    else:
        size = SCALAR_STRUCTS[decl.type].size if kind == "scalars" else 4

        def vector(self: MetadataReader) -> Any:
            return self._tab.vector(fid, size, decl.name)

        def get(self: MetadataReader, j: int) -> Any:
            vec = vector(self)
            if vec is None:
                return 0 if kind == "scalars" else None
            _element(len(vec), j, vec.where)
            if kind == "scalars":
                pos = vec.start + j * size
                return vec.reader.unpack(SCALAR_STRUCTS[decl.type], pos, vec.where)
            if kind == "strings":
                return vec.string(j)
            return _wrap(vec.table(j), decl.type)

        methods[name] = get
        methods[name + "Length"] = lambda self: 0 if vector(self) is None else len(vector(self))
        methods[name + "IsNone"] = lambda self: vector(self) is None
        if kind == "scalars":

            def as_numpy(self: MetadataReader) -> Any:
                vec = vector(self)
                if vec is None:
                    return 0
                import numpy

                dtype = numpy.dtype(SCALAR_STRUCTS[decl.type].format).newbyteorder("<")
                return numpy.frombuffer(vec.bytes(), dtype=dtype)

            methods[name + "AsNumpy"] = as_numpy
    return methods


def _make_classes() -> tuple[dict[str, type[MetadataObject]], dict[str, type[MetadataReader]]]:
    objects: dict[str, type[MetadataObject]] = {}
    readers: dict[str, type[MetadataReader]] = {}
    for decl in schema.TABLES.values():
        objects[decl.name] = type(
            decl.name + "T",
            (MetadataObject,),
            {"_decl": decl, "__doc__": f"Object API for the ``{decl.name}`` table."},
        )
        namespace: dict[str, Any] = {
            "_decl": decl,
            "__doc__": f"Bounds-checked reader for the ``{decl.name}`` table.",
            "__slots__": ("_tab",),
        }
        for fdecl in decl.fields:
            namespace.update(_accessors(fdecl))
        reader_cls = type(decl.name, (MetadataReader,), namespace)
        # flatc's deprecated aliases, kept because tflite-support's own code calls them.
        setattr(
            reader_cls,
            f"GetRootAs{decl.name}",
            classmethod(lambda cls, buf, offset=0: cls.GetRootAs(buf, offset)),
        )
        setattr(
            reader_cls,
            f"{decl.name}BufferHasIdentifier",
            classmethod(
                lambda cls, buf, offset, size_prefixed=False: _has_identifier(
                    buf, offset, size_prefixed
                )
            ),
        )
        readers[decl.name] = reader_cls
    return objects, readers


_OBJECT_CLASSES, _READER_CLASSES = _make_classes()


def object_class(table: str) -> type[MetadataObject]:
    """The object-API class (``…T``) for a table name."""
    return _OBJECT_CLASSES[table]


def reader_class(table: str) -> type[MetadataReader]:
    """The reader class for a table name."""
    return _READER_CLASSES[table]
