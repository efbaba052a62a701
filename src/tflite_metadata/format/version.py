"""The minimum metadata parser version a metadata buffer needs.

tflite-support computes it in C++ (``metadata_version.cc``) and writes it into
``ModelMetadata.min_parser_version`` when it populates a model. The rule is
the largest schema version that introduced something the buffer uses, with
"1.0.0" as the floor. :func:`min_parser_version` applies the same rule, driven
by the annotations in :mod:`tflite_metadata.format.metadata_schema`:

* a field with ``min_version`` raises the version when it is stored (even as
  an empty vector);
* an enum value in ``EnumDecl.min_versions`` raises it when a field holds
  that value;
* a union member in ``UnionDecl.min_versions`` raises it when a union's type
  names that member, whether or not its value is stored;
* the rule looks only at tables reached from the root through fields marked
  ``walk=True``: the files inside tokenizer options, for instance, do not count,
  as they do not in tflite-support.

Before computing, tflite-support verifies the whole buffer and gives up on a
malformed one. This module does the same: every table, string and vector the
schema reaches is bounds-checked, and a malformed buffer raises
:class:`~tflite_metadata.errors.MetadataFormatError`.
"""

from __future__ import annotations

from . import metadata_schema as schema
from .codec import metadata_root
from .flatbuf import SCALAR_STRUCTS, BufferLike, FlatBufferReader, Table

__all__ = ["DEFAULT_VERSION", "MetadataParser", "min_parser_version"]

#: The version of metadata that uses nothing added after the first schema.
DEFAULT_VERSION = "1.0.0"


class MetadataParser:
    """The metadata parser this package is: it reads and writes schema ``VERSION``.

    tflite-support's ``metadata_parser.MetadataParser``, whose ``VERSION`` is the
    version of the metadata schema its generated code was made from. Metadata
    whose ``min_parser_version`` is above it may hold fields this package does
    not know.
    """

    #: The metadata schema version (``metadata_schema.fbs``) this package declares.
    VERSION: str = schema.SCHEMA_VERSION


Version = tuple[int, int, int]


def _parse(version: str) -> Version:
    major, minor, patch = (int(part) for part in version.split("."))
    return (major, minor, patch)


def min_parser_version(buffer: BufferLike) -> str:
    """The minimum metadata parser version that can read ``buffer``.

    The same answer as tflite-support 0.4.4's
    ``GetMinimumMetadataParserVersion`` (``metadata_version.cc``).

    Args:
        buffer: a metadata FlatBuffer (identifier ``M001``); bytes, bytearray or
            memoryview, not copied.

    Returns:
        A version string such as ``"1.0.0"`` or ``"1.3.0"``.

    Raises:
        MetadataFormatError: the buffer is malformed (bad identifier, offsets or
            lengths, or more objects than its size allows). tflite-support's
            Python binding returns ``""`` instead.

    Example::

        >>> from tflite_metadata import codec
        >>> min_parser_version(codec.encode(codec.object_class("ModelMetadata")()))
        '1.0.0'
    """
    root = metadata_root(buffer)
    found = _Versions()
    found.visit(schema.TABLES[schema.ROOT_TABLE], root, counting=True)
    return ".".join(str(part) for part in found.version)


class _Versions:
    """Walks every table of a buffer, raising ``version`` where the rule counts."""

    __slots__ = ("version",)

    def __init__(self) -> None:
        self.version: Version = _parse(DEFAULT_VERSION)

    def _raise_to(self, version: str) -> None:
        parsed = _parse(version)
        if parsed > self.version:
            self.version = parsed

    def visit(self, decl: schema.TableDecl, table: Table, *, counting: bool) -> None:
        """Check ``table`` and everything under it; count versions when ``counting``.

        ``counting`` is true for tables the rule looks at; the tables under them
        are still checked (tflite-support verifies the whole buffer first) but
        only counted through fields marked ``walk``.
        """
        for field in decl.fields:
            kind = field.kind
            if kind == "union":
                self._union(field, table, counting=counting)
                continue
            if not table.has(field.id):
                continue
            if counting and field.min_version is not None:
                self._raise_to(field.min_version)
            below = counting and field.walk
            if kind == "scalar":
                table.scalar(field.id, field.type, field.default, field.name)
            elif kind == "enum":
                enum = schema.ENUMS[field.type]
                value = int(table.scalar(field.id, enum.base, field.default, field.name))
                name = enum.name_of(value)
                if counting and name is not None and name in enum.min_versions:
                    self._raise_to(enum.min_versions[name])
            elif kind == "string":
                pos = table.field_pos(field.id, 4)
                _check_string(table.reader, pos, f"{table.where}.{field.name}")
            elif kind == "table":
                sub = table.table(field.id, field.name)
                if sub is not None:
                    self.visit(schema.TABLES[field.type], sub, counting=below)
            elif kind == "scalars":
                table.vector(field.id, SCALAR_STRUCTS[field.type].size, field.name)
            else:
                vector = table.vector(field.id, 4, field.name)
                if vector is None:  # pragma: no cover - the field is stored
                    continue
                for index in range(len(vector)):
                    if kind == "strings":
                        element = vector.start + 4 * index
                        _check_string(vector.reader, element, f"{vector.where}[{index}]")
                    else:
                        sub_decl = schema.TABLES[field.type]
                        self.visit(sub_decl, vector.table(index), counting=below)

    def _union(self, field: schema.FieldDecl, table: Table, *, counting: bool) -> None:
        union = schema.UNIONS[field.type]
        type_value = int(table.scalar(field.id, "ubyte", 0, field.name + "_type"))
        member = union.member(type_value)
        # Like flatc's verifier, a value whose type is NONE or unknown is not read.
        if member is None:
            return
        if counting and member in union.min_versions:
            self._raise_to(union.min_versions[member])
        sub = table.table(field.id + 1, field.name)
        if sub is not None:
            self.visit(schema.TABLES[member], sub, counting=counting and field.walk)


def _check_string(reader: FlatBufferReader, offset_pos: int, where: str) -> None:
    """Check the string whose offset is stored at ``offset_pos``, without copying it."""
    start = reader.deref(offset_pos, where)
    length = reader.u32(start, f"{where} length")
    reader.check_range(start + 4, length, where)
    reader.spend(1, where)
