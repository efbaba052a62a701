"""The building blocks of a FlatBuffers schema declared as data.

A schema (:mod:`~tflite_metadata.format.metadata_schema`,
:mod:`~tflite_metadata.format.model_schema`) is a set of :class:`EnumDecl`,
:class:`UnionDecl` and :class:`TableDecl` values gathered in a :class:`Schema`.
Everything that depends on a schema is driven from it: encoding and decoding
and flatc's Python classes (:mod:`~tflite_metadata.format.codec`,
:mod:`~tflite_metadata.format.flatc_module`), and the field ids the model
reader, splice and builder use.

Field ids follow declaration order; a union takes two ids, its type first; a
deprecated field keeps its id but has no accessor and no object-API attribute.
Names are the schema's own (``snake_case``); flatc's camelCase names are
derived from them exactly as flatc derives them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from ..errors import MetadataError

__all__ = [
    "EnumDecl",
    "FieldDecl",
    "FieldKind",
    "Schema",
    "TableDecl",
    "UnionDecl",
    "enum_field",
    "lower_camel",
    "scalar_field",
    "scalars_field",
    "string_field",
    "strings_field",
    "sub_field",
    "table",
    "tables_field",
    "union_field",
    "upper_camel",
]

FieldKind = Literal["scalar", "enum", "string", "table", "union", "scalars", "strings", "tables"]


@dataclass(frozen=True)
class EnumDecl:
    """An enum: its underlying scalar type and its named values."""

    name: str
    base: str
    values: tuple[tuple[str, int], ...]
    #: value name -> schema version that introduced it (for min_parser_version).
    min_versions: Mapping[str, str] = field(default_factory=dict)

    def name_of(self, value: int) -> str | None:
        """The name of ``value``, or None when the enum has no such value."""
        for name, number in self.values:
            if number == value:
                return name
        return None

    def value_of(self, name: str) -> int:
        """The value named ``name``; a ``KeyError`` for a name the enum does not have."""
        for value_name, number in self.values:
            if value_name == name:
                return number
        raise KeyError(f"{self.name} has no value {name!r}")


@dataclass(frozen=True)
class UnionDecl:
    """A union of tables; member ``i`` has type value ``i + 1`` (0 is NONE)."""

    name: str
    members: tuple[str, ...]
    #: member table name -> schema version that introduced it.
    min_versions: Mapping[str, str] = field(default_factory=dict)

    def member(self, type_value: int) -> str | None:
        """The table name for a type value, or None (NONE or unknown)."""
        if 1 <= type_value <= len(self.members):
            return self.members[type_value - 1]
        return None

    def type_of(self, member: str) -> int:
        """The type value of the member table ``member`` (a ``ValueError`` if not a member)."""
        return self.members.index(member) + 1


class FieldDecl(NamedTuple):
    """One field of a table.

    ``type`` is the scalar type (``"uint"``, ``"float"``, ``"ubyte"`` …) for
    ``scalar``/``scalars``, the enum name for ``enum``, the table name for
    ``table``/``tables`` and the union name for ``union``. (A tuple, not a
    dataclass: a schema of a few hundred tables is declared at import time,
    and a tuple is several times cheaper to make.)
    """

    name: str
    kind: FieldKind
    type: str = ""
    default: int | float = 0
    #: Present => the metadata needs at least this parser version.
    min_version: str | None = None
    #: Whether the min_parser_version rule looks inside this field's tables.
    walk: bool = False
    id: int = -1
    #: A deprecated field keeps its id; flatc gives it no accessor and no attribute.
    deprecated: bool = False

    @property
    def ids(self) -> tuple[int, ...]:
        """The vtable slots this field takes (two for a union: type, value)."""
        return (self.id, self.id + 1) if self.kind == "union" else (self.id,)

    @property
    def python_name(self) -> str:
        """The object API attribute name (flatc's lowerCamel)."""
        return lower_camel(self.name)

    @property
    def method_name(self) -> str:
        """The reader accessor name (flatc's UpperCamel)."""
        return upper_camel(self.name)


@dataclass(frozen=True)
class TableDecl:
    """A table and its fields in declaration order, ids assigned."""

    name: str
    fields: tuple[FieldDecl, ...]

    @property
    def slot_count(self) -> int:
        """How many vtable slots the table declares."""
        return sum(len(f.ids) for f in self.fields)

    @functools.cached_property
    def live_fields(self) -> tuple[FieldDecl, ...]:
        """The fields that are not deprecated (those flatc's Python code has)."""
        return tuple(f for f in self.fields if not f.deprecated)

    def field(self, name: str) -> FieldDecl:
        """The field called ``name``."""
        for decl in self.fields:
            if decl.name == name:
                return decl
        raise KeyError(f"{self.name} has no field {name!r}")


@dataclass(frozen=True, eq=False)
class Schema:
    """One schema: its declarations, its root table and file identifier.

    Args:
        what: the name used in messages about a malformed buffer (``"model"`` …).
        file_identifier: the four bytes after the root offset.
        root_table: the name of the root table.
        enums: every enum, by name, in declaration order.
        unions: every union, by name, in declaration order.
        tables: every table, by name, in declaration order.
        error: the exception raised on a malformed buffer.
        numpy_vectors: whether the object API decodes scalar vectors to numpy
            arrays when numpy is importable, as flatc's generated code does.
        namespace: the schema's ``namespace`` (with its root type, its identity).
    """

    what: str
    file_identifier: bytes
    root_table: str
    enums: Mapping[str, EnumDecl]
    unions: Mapping[str, UnionDecl]
    tables: Mapping[str, TableDecl]
    error: type[MetadataError]
    numpy_vectors: bool = False
    namespace: str = ""

    def scalar_type(self, decl: FieldDecl) -> str:
        """The stored scalar type of a scalar, enum or scalar-vector field."""
        if decl.kind == "enum":
            return self.enums[decl.type].base
        return decl.type


def upper_camel(name: str) -> str:
    """flatc's ``MakeCamel(name, true)``: ``sentencePiece_model`` -> ``SentencePieceModel``."""
    parts = name.split("_")
    return "".join(p[:1].upper() + p[1:] for p in parts)


def lower_camel(name: str) -> str:
    """flatc's ``MakeCamel(name, false)``: ``sample_rate`` -> ``sampleRate``."""
    camel = upper_camel(name)
    return camel[:1].lower() + camel[1:]


# -- declaring ------------------------------------------------------------------------


def table(name: str, *fields: FieldDecl) -> TableDecl:
    """A table of ``fields`` in declaration order, ids assigned."""
    numbered = []
    next_id = 0
    for decl in fields:
        numbered.append(decl._replace(id=next_id))
        next_id += 2 if decl.kind == "union" else 1
    return TableDecl(name, tuple(numbered))


def scalar_field(
    name: str,
    type_: str,
    *,
    default: int | float = 0,
    min_version: str | None = None,
    deprecated: bool = False,
) -> FieldDecl:
    """A scalar field (``bool``, ``int``, ``float`` …)."""
    return FieldDecl(name, "scalar", type_, default, min_version, deprecated=deprecated)


def enum_field(name: str, enum: str, *, default: int = 0) -> FieldDecl:
    """A field holding a value of the enum ``enum``."""
    return FieldDecl(name, "enum", enum, default)


def string_field(
    name: str, *, min_version: str | None = None, deprecated: bool = False
) -> FieldDecl:
    """A string field."""
    return FieldDecl(name, "string", min_version=min_version, deprecated=deprecated)


def sub_field(name: str, table_name: str, *, walk: bool = False) -> FieldDecl:
    """A field holding one table ``table_name``."""
    return FieldDecl(name, "table", table_name, walk=walk)


def union_field(name: str, union: str) -> FieldDecl:
    """A union field (two slots: its type, then its value)."""
    return FieldDecl(name, "union", union)


def scalars_field(name: str, type_: str) -> FieldDecl:
    """A vector of scalars of type ``type_`` (a vector of enums: the enum's base type)."""
    return FieldDecl(name, "scalars", type_)


def strings_field(name: str) -> FieldDecl:
    """A vector of strings."""
    return FieldDecl(name, "strings")


def tables_field(
    name: str, table_name: str, *, min_version: str | None = None, walk: bool = False
) -> FieldDecl:
    """A vector of tables ``table_name``."""
    return FieldDecl(name, "tables", table_name, min_version=min_version, walk=walk)
