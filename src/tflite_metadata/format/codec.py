"""Encoding and decoding FlatBuffers, driven by a declared schema.

For a :class:`~tflite_metadata.format.declarations.Schema` (the metadata
schema of :mod:`tflite_metadata.format.metadata_schema`, the model schema of
:mod:`tflite_metadata.format.model_schema`), :class:`SchemaCodec` makes the
two families of classes that flatc would generate for Python, with the same
names and behaviour:

* the object API (``ModelMetadataT``, ``TensorT`` …): plain objects with
  flatc's camelCase attributes, ``Pack(builder)``, ``InitFromBuf``,
  ``InitFromPackedBuf`` and ``InitFromObj``. ``Pack`` issues the builder calls
  in the order flatc's generated code does (a numpy array given for a vector
  of scalars goes through ``CreateNumpyVector``, as there), so a buffer packed
  here is byte-identical to one packed by tflite-support;
* the readers (``ModelMetadata``, ``Model`` …) with ``GetRootAs…``, the
  ``…BufferHasIdentifier`` check and one accessor per field (``…AsNumpy`` for
  vectors of scalars). Unlike flatc's, they bounds-check every access and raise
  the schema's error (:class:`~tflite_metadata.errors.MetadataFormatError`,
  :class:`~tflite_metadata.errors.ModelFormatError`) on malformed input.

Decoding never goes through unchecked reads: it walks the buffer with
:mod:`tflite_metadata.format.flatbuf`. Decoded strings are ``bytes``; scalar
vectors are lists, or, for a schema declared with ``numpy_vectors`` and when
numpy is importable, numpy arrays, as flatc's object API gives them.

The module-level functions (:func:`decode`, :func:`encode` …) serve the
metadata schema, which the writers and readers of this package use.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from ..errors import MetadataFormatError, MetadataValidationError
from . import metadata_schema
from .declarations import FieldDecl, Schema, TableDecl
from .flatbuf import SCALAR_STRUCTS, BufferLike, FlatBufferReader, Table

if TYPE_CHECKING:
    import flatbuffers

# ``flatbuffers`` is imported where a buffer is built, not here: importing it
# imports numpy when numpy is installed (~0.1 s), which reading metadata
# (``show``, ``check``, ``extract``) never needs. numpy itself is imported only
# by a schema declared with ``numpy_vectors`` (the model schema), when its
# object API decodes a vector, or by an ``…AsNumpy`` accessor.

__all__ = [
    "FlatObject",
    "FlatReader",
    "SchemaCodec",
    "codec_for",
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
PREPEND_METHODS = {
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
#: The numpy dtype of a vector's elements (flatbuffers' ``…Flags.numpy_type``).
NUMPY_DTYPES = {
    "bool": "?",
    "byte": "i1",
    "ubyte": "u1",
    "short": "<i2",
    "ushort": "<u2",
    "int": "<i4",
    "uint": "<u4",
    "long": "<i8",
    "ulong": "<u8",
    "float": "<f4",
    "double": "<f8",
}


def default_value(schema: Schema, decl: FieldDecl) -> Any:
    """The object API's initial value for a field (flatc's: ``0``, ``0.0``, ``False`` …)."""
    if decl.kind in ("scalar", "enum"):
        stype = schema.scalar_type(decl)
        if stype in ("float", "double"):
            return float(decl.default)
        if stype == "bool":
            return bool(decl.default)
        return decl.default
    return None


def _is_ndarray(value: object) -> bool:
    """flatc's ``type(value) is np.ndarray``, without importing numpy."""
    kind = type(value)
    return kind.__name__ == "ndarray" and kind.__module__ == "numpy"


_NUMPY: list[Any] = []


def _numpy_or_none() -> Any:
    """numpy when importable (imported on first use), else None."""
    if not _NUMPY:
        try:
            import numpy
        except ImportError:
            _NUMPY.append(None)
        else:
            _NUMPY.append(numpy)
    return _NUMPY[0]


class SchemaCodec:
    """Encoding, decoding and flatc's classes for one schema.

    Args:
        schema: the declarations.
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.objects: dict[str, type[FlatObject]] = {}
        self.readers: dict[str, type[FlatReader]] = {}
        for decl in schema.tables.values():
            self.objects[decl.name] = type(
                decl.name + "T",
                (FlatObject,),
                {
                    "_decl": decl,
                    "_codec": self,
                    "__doc__": f"Object API for the ``{decl.name}`` table.",
                },
            )
            self.readers[decl.name] = _make_reader(self, decl)

    # -- buffers -------------------------------------------------------------------

    def reader(self, buf: BufferLike, *, budget: int | None = None) -> FlatBufferReader:
        """A bounds-checked reader with a work budget, for one traversal."""
        return FlatBufferReader(buf, what=self.schema.what, error=self.schema.error, budget=budget)

    def access_reader(self, buf: BufferLike) -> FlatBufferReader:
        """A reader for the flatc-style accessors: the caller drives every access.

        Such a reader may serve any number of calls, so a work budget would refuse a
        well-formed buffer after enough of them; each accessor does bounded work.
        """
        return FlatBufferReader(buf, what=self.schema.what, error=self.schema.error, unlimited=True)

    def budgeted(self, table: Table) -> Table:
        """``table`` seen through a reader with a fresh work budget, for one decode."""
        return self.reader(table.reader.data).table_at(table.pos, table.where, 0)

    def root(self, buf: BufferLike, *, check_identifier: bool = True) -> Table:
        """The root table of ``buf``, with a fresh work budget.

        Raises:
            MetadataError: (the schema's error) the identifier is wrong (when
                ``check_identifier``) or the root offset is malformed.
        """
        reader = self.reader(buf)
        expected = self.schema.file_identifier
        if check_identifier and reader.identifier() != expected:
            raise self.schema.error(
                f"{self.schema.what}: the buffer does not have the expected identifier "
                f"(expected {expected!r}, found {reader.identifier()!r})"
            )
        return reader.root(self.schema.root_table)

    # -- decoding ------------------------------------------------------------------

    def decode(self, buf: BufferLike, *, check_identifier: bool = True) -> Any:
        """Decode a whole buffer into its root table's object (``…T``)."""
        root = self.root(buf, check_identifier=check_identifier)
        return self.decode_table(self.schema.tables[self.schema.root_table], root)

    def decode_table(self, decl: TableDecl, table: Table) -> FlatObject:
        """The object (``…T``) of one table."""
        numpy = _numpy_or_none() if self.schema.numpy_vectors else None
        return self._decode_table(decl, table, numpy)

    def _decode_table(self, decl: TableDecl, table: Table, numpy: Any) -> FlatObject:
        obj = self.objects[decl.name]()
        for fdecl in decl.live_fields:
            if fdecl.kind == "union":
                type_value = table.scalar(fdecl.id, "ubyte", 0, fdecl.name + "_type")
                setattr(obj, fdecl.python_name + "Type", type_value)
            setattr(obj, fdecl.python_name, self._decode_field(fdecl, table, numpy))
        return obj

    def _decode_field(self, decl: FieldDecl, table: Table, numpy: Any) -> Any:
        kind = decl.kind
        tables = self.schema.tables
        if kind in ("scalar", "enum"):
            stype = self.schema.scalar_type(decl)
            return table.scalar(decl.id, stype, default_value(self.schema, decl), decl.name)
        if kind == "string":
            return table.string(decl.id, decl.name)
        if kind == "table":
            sub = table.table(decl.id, decl.name)
            return None if sub is None else self._decode_table(tables[decl.type], sub, numpy)
        if kind == "union":
            type_value = int(table.scalar(decl.id, "ubyte", 0, decl.name + "_type"))
            member = self.schema.unions[decl.type].member(type_value)
            if member is None or member not in tables:
                # Like flatc's verifier and object API: a value of no known type is not read.
                return None
            sub = table.table(decl.id + 1, decl.name)
            return None if sub is None else self._decode_table(tables[member], sub, numpy)
        if kind == "scalars":
            vector = table.vector(decl.id, SCALAR_STRUCTS[decl.type].size, decl.name)
            if vector is None:
                return None
            if numpy is not None:
                table.reader.spend(1, vector.where)
                return numpy.frombuffer(vector.bytes(), dtype=NUMPY_DTYPES[decl.type])
            return vector.scalars(decl.type)
        vector = table.vector(decl.id, 4, decl.name)
        if vector is None:
            return None
        if kind == "strings":
            return list(vector.strings())
        sub_decl = tables[decl.type]
        return [self._decode_table(sub_decl, t, numpy) for t in vector.tables()]

    # -- encoding ------------------------------------------------------------------

    def encode(self, obj: Any, file_identifier: bytes | None = None) -> bytes:
        """Pack an object tree into a finished FlatBuffer.

        Args:
            obj: the object tree (any object-API table).
            file_identifier: the identifier to finish with (the schema's by default).

        Returns:
            The buffer bytes, identical to what flatc's generated code packs.

        Raises:
            MetadataValidationError: an attribute holds a value of the wrong type or range.
        """
        if file_identifier is None:
            file_identifier = self.schema.file_identifier
        return _encode_with(obj, file_identifier)

    def object_class(self, table: str) -> type[FlatObject]:
        """The object-API class (``…T``) for a table name."""
        return self.objects[table]

    def reader_class(self, table: str) -> type[FlatReader]:
        """The reader class for a table name."""
        return self.readers[table]


_CODECS: dict[Schema, SchemaCodec] = {}


def codec_for(schema: Schema) -> SchemaCodec:
    """The codec of ``schema``, made on first use."""
    codec = _CODECS.get(schema)
    if codec is None:
        codec = _CODECS[schema] = SchemaCodec(schema)
    return codec


def _pack_table(obj: FlatObject, builder: flatbuffers.Builder) -> int:
    decl = obj._decl
    schema = obj._codec.schema
    offsets: dict[str, int] = {}
    # Children first, in field order, as flatc's generated Pack does.
    for fdecl in decl.live_fields:
        value = getattr(obj, fdecl.python_name, None)
        if value is None or fdecl.kind in ("scalar", "enum"):
            continue
        offsets[fdecl.name] = _pack_child(fdecl, value, builder)
    builder.StartObject(decl.slot_count)
    for fdecl in decl.live_fields:
        value = getattr(obj, fdecl.python_name, None)
        if fdecl.kind in ("scalar", "enum"):
            method = SLOT_METHODS[schema.scalar_type(fdecl)]
            getattr(builder, method)(fdecl.id, value, fdecl.default)
        elif fdecl.kind == "union":
            type_value = getattr(obj, fdecl.python_name + "Type", 0)
            builder.PrependUint8Slot(fdecl.id, type_value, 0)
            if value is not None:
                builder.PrependUOffsetTRelativeSlot(fdecl.id + 1, offsets[fdecl.name], 0)
        elif value is not None:
            builder.PrependUOffsetTRelativeSlot(fdecl.id, offsets[fdecl.name], 0)
    return int(builder.EndObject())


def _pack_child(decl: FieldDecl, value: Any, builder: flatbuffers.Builder) -> int:
    kind = decl.kind
    if kind == "string":
        return int(builder.CreateString(value))
    if kind in ("table", "union"):
        return int(value.Pack(builder))
    if kind == "scalars" and _is_ndarray(value):
        return int(builder.CreateNumpyVector(value))
    items = list(value)
    if kind == "scalars":
        size = SCALAR_STRUCTS[decl.type].size
        builder.StartVector(size, len(items), size)
        prepend = getattr(builder, PREPEND_METHODS[decl.type])
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


# -- the object API -------------------------------------------------------------


class FlatObject:
    """Base of the object-API classes (``ModelMetadataT``, ``ModelT`` …) made from a schema."""

    _decl: ClassVar[TableDecl]
    _codec: ClassVar[SchemaCodec]

    def __init__(self) -> None:
        schema = self._codec.schema
        for fdecl in self._decl.live_fields:
            if fdecl.kind == "union":
                setattr(self, fdecl.python_name + "Type", 0)
            setattr(self, fdecl.python_name, default_value(schema, fdecl))

    @classmethod
    def InitFromBuf(cls, buf: BufferLike, pos: int) -> Any:
        """Decode the table at absolute position ``pos`` of ``buf``."""
        table = cls._codec.reader(buf).table_at(pos, cls._decl.name, 0)
        return cls._codec.decode_table(cls._decl, table)

    @classmethod
    def InitFromPackedBuf(cls, buf: BufferLike, pos: int = 0) -> Any:
        """Decode the table that the root offset at ``pos`` of ``buf`` points to."""
        reader = cls._codec.reader(buf)
        target = reader.deref(pos, f"{cls._decl.name} root offset")
        return cls._codec.decode_table(cls._decl, reader.table_at(target, cls._decl.name, 0))

    @classmethod
    def InitFromObj(cls, reader_obj: FlatReader) -> Any:
        """Decode from a reader object (``ModelMetadata``, ``Model`` …)."""
        if reader_obj is None:
            return cls()
        return cls._codec.decode_table(cls._decl, cls._codec.budgeted(reader_obj._tab))

    def _UnPack(self, reader_obj: FlatReader) -> None:
        if reader_obj is None:
            return
        decoded = self._codec.decode_table(self._decl, self._codec.budgeted(reader_obj._tab))
        self.__dict__.update(decoded.__dict__)

    def Pack(self, builder: flatbuffers.Builder) -> int:
        """Pack into ``builder`` and return the table's offset."""
        return _pack_table(self, builder)

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{k}={v!r}" for k, v in self.__dict__.items() if v is not None and _nonzero(v)
        )
        return f"{type(self).__name__}({fields})"


def _nonzero(value: object) -> bool:
    if _is_ndarray(value):
        return True
    return bool(value != 0)


# -- the readers ----------------------------------------------------------------


class FlatReader:
    """Base of the reader classes (``ModelMetadata``, ``Model`` …) made from a schema."""

    _decl: ClassVar[TableDecl]
    _codec: ClassVar[SchemaCodec]
    _tab: Table

    @classmethod
    def GetRootAs(cls, buf: BufferLike, offset: int = 0) -> Any:
        """The root table of ``buf``, whose root offset is at ``offset``."""
        reader = cls._codec.access_reader(buf)
        obj = cls()
        obj._tab = reader.table_at(
            reader.deref(offset, f"{cls._decl.name} root offset"), cls._decl.name, 0
        )
        return obj

    def Init(self, buf: BufferLike, pos: int) -> None:
        """Point this reader at the table at absolute position ``pos``."""
        self._tab = self._codec.access_reader(buf).table_at(pos, self._decl.name, 0)


#: The names this module had when it served the metadata schema alone.
MetadataObject = FlatObject
MetadataReader = FlatReader


def _has_identifier(
    identifier: bytes, buf: BufferLike, offset: int, size_prefixed: bool = False
) -> bool:
    start = offset + (8 if size_prefixed else 4)
    view = memoryview(buf)
    return bytes(view[start : start + 4]) == identifier


def _wrap(codec: SchemaCodec, table: Table | None, class_name: str) -> Any:
    if table is None:
        return None
    obj = codec.readers[class_name]()
    obj._tab = table
    return obj


def _element(codec: SchemaCodec, length: int, j: int, where: str) -> None:
    if not 0 <= j < length:
        raise codec.schema.error(
            f"{codec.schema.what}: {where}: index {j} out of range (length {length})"
        )


def _accessors(codec: SchemaCodec, decl: FieldDecl) -> dict[str, Callable[..., Any]]:
    """The reader methods flatc generates for one field."""
    name = decl.method_name
    fid = decl.id
    kind = decl.kind
    methods: dict[str, Callable[..., Any]] = {}
    if kind in ("scalar", "enum"):
        stype = codec.schema.scalar_type(decl)
        default = default_value(codec.schema, decl)
        methods[name] = lambda self: self._tab.scalar(fid, stype, default, decl.name)
    elif kind == "string":
        methods[name] = lambda self: self._tab.string(fid, decl.name)
    elif kind == "table":
        methods[name] = lambda self: _wrap(codec, self._tab.table(fid, decl.name), decl.type)
    elif kind == "union":

        def union_value(self: FlatReader) -> Any:
            sub = self._tab.table(fid + 1, decl.name)
            if sub is None:
                return None
            import flatbuffers.table

            return flatbuffers.table.Table(sub.reader.data, sub.pos)

        methods[name + "Type"] = lambda self: self._tab.scalar(fid, "ubyte", 0, decl.name)
        methods[name] = union_value
    else:
        size = SCALAR_STRUCTS[decl.type].size if kind == "scalars" else 4
        missing: Any = {"scalars": 0, "strings": ""}.get(kind)

        def vector(self: FlatReader) -> Any:
            return self._tab.vector(fid, size, decl.name)

        def get(self: FlatReader, j: int) -> Any:
            vec = vector(self)
            if vec is None:
                return missing
            _element(codec, len(vec), j, vec.where)
            if kind == "scalars":
                pos = vec.start + j * size
                value = vec.reader.unpack(SCALAR_STRUCTS[decl.type], pos, vec.where)
                return bool(value) if decl.type == "bool" else value
            if kind == "strings":
                return vec.string(j)
            return _wrap(codec, vec.table(j), decl.type)

        methods[name] = get
        methods[name + "Length"] = lambda self: 0 if vector(self) is None else len(vector(self))
        methods[name + "IsNone"] = lambda self: vector(self) is None
        if kind == "scalars":

            def as_numpy(self: FlatReader) -> Any:
                vec = vector(self)
                if vec is None:
                    return 0
                import numpy

                return numpy.frombuffer(vec.bytes(), dtype=NUMPY_DTYPES[decl.type])

            methods[name + "AsNumpy"] = as_numpy
    return methods


def _make_reader(codec: SchemaCodec, decl: TableDecl) -> type[FlatReader]:
    namespace: dict[str, Any] = {
        "_decl": decl,
        "_codec": codec,
        "__doc__": f"Bounds-checked reader for the ``{decl.name}`` table.",
        "__slots__": ("_tab",),
    }
    for fdecl in decl.live_fields:
        namespace.update(_accessors(codec, fdecl))
    reader_cls = type(decl.name, (FlatReader,), namespace)
    identifier = codec.schema.file_identifier
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
                identifier, buf, offset, size_prefixed
            )
        ),
    )
    return reader_cls


# -- the metadata schema ----------------------------------------------------------

_METADATA = codec_for(metadata_schema.SCHEMA)


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
    return _METADATA.decode_table(
        metadata_schema.TABLES[metadata_schema.ROOT_TABLE],
        metadata_root(buf, check_identifier=check_identifier),
    )


def metadata_root(buf: BufferLike, *, check_identifier: bool = True) -> Table:
    """The root ``ModelMetadata`` table of a metadata buffer, with a fresh work budget.

    Raises:
        MetadataFormatError: the buffer does not carry the ``M001`` identifier
            (when ``check_identifier``) or its root offset is malformed.
    """
    reader = _METADATA.reader(buf)
    expected = metadata_schema.FILE_IDENTIFIER
    if check_identifier and reader.identifier() != expected:
        raise MetadataFormatError(
            "The metadata buffer does not have the expected identifier, and may not be a "
            f"valid TFLite Metadata (expected {expected!r}, found {reader.identifier()!r})."
        )
    return reader.root(metadata_schema.ROOT_TABLE)


def require_identifier(buf: BufferLike) -> None:
    """Refuse a buffer without the ``M001`` identifier, in tflite-support's words.

    Raises:
        MetadataFormatError: the identifier is missing.
    """
    try:
        view = memoryview(buf)
    except TypeError:  # not a buffer (a str, a list …): it has no identifier either
        view = memoryview(b"")
    if len(view) < 8 or bytes(view[4:8]) != metadata_schema.FILE_IDENTIFIER:
        raise MetadataFormatError(
            "The metadata buffer does not have the expected identifier, and may not be a "
            "valid TFLite Metadata."
        )


def encode(obj: Any, file_identifier: bytes | None = metadata_schema.FILE_IDENTIFIER) -> bytes:
    """Pack a ``ModelMetadataT`` (or any object-API table) into a finished FlatBuffer.

    Args:
        obj: the object tree.
        file_identifier: the identifier to finish with (``M001`` by default).

    Returns:
        The buffer bytes, identical to what tflite-support's generated code packs.

    Raises:
        MetadataValidationError: an attribute holds a value of the wrong type or range.
    """
    return _encode_with(obj, file_identifier)


def _encode_with(obj: Any, file_identifier: bytes | None) -> bytes:
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


def object_class(table: str) -> type[FlatObject]:
    """The metadata schema's object-API class (``…T``) for a table name."""
    return _METADATA.objects[table]


def reader_class(table: str) -> type[FlatReader]:
    """The metadata schema's reader class for a table name."""
    return _METADATA.readers[table]
