"""flatc-compatible JSON text of a metadata buffer, in pure Python.

tflite-support renders metadata as JSON with flatc's C++ text generator
(``GenerateText`` with ``strict_json``) behind a native extension.
:func:`to_json` produces the same text, byte for byte, by walking the buffer
with the bounds-checked :class:`~tflite_metadata.format.flatbuf.FlatBufferReader`,
driven by the declarations in :mod:`tflite_metadata.format.metadata_schema`; nothing is
decoded into objects first, and no table is special-cased.

The rules of flatc's text format that this module reproduces:

* a table prints only the fields stored in the buffer, in declaration order;
  a scalar equal to its default is normally not stored, hence not printed,
  but one that is stored (a builder forcing defaults) is printed;
* ``{``, then each field on its own line as ``"name": value`` indented two
  spaces deeper, separated by ``,``, then ``}`` on a line of its own at the
  table's indent: an empty table is ``{`` newline ``}``;
* vectors (scalars included) print one element a line, the same way, inside
  ``[`` ``]``; an empty vector is ``[``, an empty line, then ``]``;
* enum values print as their quoted names, or as plain numbers when the enum
  has no such value; a union's ``<name>_type`` field is such an enum (its
  value 0 is ``NONE``) and is printed before the union's value;
* floats print in fixed notation with 6 decimals (12 for doubles), trailing
  zeros removed but one kept after the point (``0.2``, ``1.0``, ``0.0`` for
  1e-30, 39 digits for 3.4e38); NaN and infinities print as ``nan``,
  ``-nan``, ``inf`` and ``-inf``, even in strict mode (so that text is not
  valid JSON);
* strings escape ``"`` ``\\`` and ``\\n \\t \\r \\b \\f``; every other byte
  outside printable ASCII must start valid UTF-8 and prints as ``\\uXXXX``
  (upper-case hex; a surrogate pair beyond the BMP);
* the text ends with a newline.

Where flatc gives up (a string that is not valid UTF-8, a union value whose
type is ``NONE`` or names no member), tflite-support's ``convert_to_json``
returns an empty string; where flatc would read through a null pointer (a
union value stored without its type), tflite-support crashes. :func:`to_json`
raises :class:`~tflite_metadata.errors.MetadataFormatError` in all these
cases, as it does for every malformed buffer.
"""

from __future__ import annotations

import math
import re

from ..errors import MetadataFormatError
from . import metadata_schema
from .codec import codec_for, metadata_root
from .declarations import FieldDecl, Schema, TableDecl
from .flatbuf import SCALAR_STRUCTS, BufferLike, Table

__all__ = ["escape_string", "format_float", "to_json"]

#: Spaces per nesting level (flatc's default ``indent_step``).
INDENT_STEP = 2
#: Decimals flatc prints for each floating-point type.
_FLOAT_PRECISION = {"float": 6, "double": 12}

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\b": "\\b",
    "\f": "\\f",
}
# Everything flatc does not copy through: quotes, backslashes and all but
# printable ASCII (0x20-0x7e).
_NEEDS_ESCAPE = re.compile(r'["\\]|[^\x20-\x7e]')


def to_json(buffer: BufferLike, schema: Schema = metadata_schema.SCHEMA) -> str:
    """The JSON text of a metadata buffer, as tflite-support prints it.

    The text is byte-identical to what tflite-support 0.4.4's
    ``tflite_support.metadata.convert_to_json`` returns for the same buffer
    (flatc's ``GenerateText`` with ``strict_json``).

    Args:
        buffer: a metadata FlatBuffer (identifier ``M001``, root ``ModelMetadata``);
            bytes, bytearray or memoryview, not copied.
        schema: another declared schema to print ``buffer`` with (a custom
            metadata's, :mod:`~tflite_metadata.format.custom_metadata`): as flatc's
            ``GenerateText``, its file identifier is not required.

    Returns:
        The JSON text, ending with a newline.

    Raises:
        MetadataFormatError: the buffer is malformed (bad identifier, offsets or
            lengths, or more objects than its size allows), or holds something
            flatc refuses to print: a string that is not valid UTF-8, or a union
            value whose type is missing, ``NONE`` or names no member. For those
            last cases tflite-support returns ``""`` or crashes.

    Example::

        >>> from tflite_metadata import codec
        >>> metadata = codec.object_class("ModelMetadata")()
        >>> metadata.name = "demo"
        >>> print(to_json(codec.encode(metadata)), end="")
        {
          "name": "demo"
        }
    """
    if schema is metadata_schema.SCHEMA:
        root = metadata_root(buffer)
    else:
        root = codec_for(schema).root(buffer, check_identifier=False)
    printer = _Printer(schema)
    printer.table(schema.tables[schema.root_table], root, 0)
    printer.parts.append("\n")
    return "".join(printer.parts)


def format_float(value: float, kind: str = "float") -> str:
    """A float as flatc prints it (``std::fixed``, trailing zeros trimmed).

    Args:
        value: the value (a float32 widened to a Python float, or a double).
        kind: ``"float"`` (6 decimals) or ``"double"`` (12 decimals).

    Returns:
        The text, e.g. ``"0.2"``, ``"1.0"``, ``"-0.0"``, ``"inf"``, ``"-nan"``.
    """
    if math.isnan(value):
        # glibc's printf keeps the sign of a NaN; Python's formatting drops it.
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    # Python's fixed formatting is exact and rounds half to even on the binary
    # value, as glibc's does, so the digits agree.
    text = f"{value:.{_FLOAT_PRECISION[kind]}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def escape_string(raw: bytes, where: str, what: str = "metadata") -> str:
    """A string's bytes as flatc's quoted, escaped JSON string.

    Args:
        raw: the string's bytes as stored.
        where: the field's path, for messages.
        what: the buffer's name in messages (the schema's ``what``).

    Returns:
        The quoted string, ASCII only.

    Raises:
        MetadataFormatError: the bytes are not valid UTF-8.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetadataFormatError(
            f"{what}: {where}: expected a UTF-8 string, found the invalid byte "
            f"0x{raw[exc.start]:02x} at position {exc.start}; flatc's JSON generator "
            "refuses such strings (tflite-support's convert_to_json returns an empty string)"
        ) from None
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    # Beyond the BMP: a UTF-16 surrogate pair, as JSON requires.
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"


def _enum_text(value: int, name: str | None) -> str:
    return str(value) if name is None else f'"{name}"'


def _scalar_text(value: int | float, kind: str) -> str:
    if kind in _FLOAT_PRECISION:
        return format_float(float(value), kind)
    if kind == "bool":
        return "true" if value else "false"
    return str(int(value))


class _Printer:
    """Appends the text of one buffer to ``parts``: one generic walk for every table."""

    __slots__ = ("parts", "schema")

    def __init__(self, schema: Schema) -> None:
        self.parts: list[str] = []
        self.schema = schema

    def _key(self, name: str, indent: int, first: bool) -> None:
        self.parts.append(("\n" if first else ",\n") + " " * indent + f'"{name}": ')

    def table(self, decl: TableDecl, table: Table, indent: int) -> None:
        """Print ``table`` (of type ``decl``) whose opening brace is at ``indent``."""
        inner = indent + INDENT_STEP
        self.parts.append("{")
        first = True
        for field in decl.fields:
            if field.kind == "union":
                first = self._union(field, table, inner, first)
            elif table.has(field.id):
                self._key(field.name, inner, first)
                first = False
                self._value(field, table, inner)
        self.parts.append("\n" + " " * indent + "}")

    def _value(self, field: FieldDecl, table: Table, indent: int) -> None:
        """Print the value of the stored, non-union field ``field``."""
        kind = field.kind
        if kind == "scalar":
            value = table.scalar(field.id, field.type, field.default, field.name)
            self.parts.append(_scalar_text(value, field.type))
        elif kind == "enum":
            enum = self.schema.enums[field.type]
            number = int(table.scalar(field.id, enum.base, field.default, field.name))
            self.parts.append(_enum_text(number, enum.name_of(number)))
        elif kind == "string":
            # The reader charges copied string bytes to its budget, so many offsets
            # to one long string cannot make the text grow faster than the buffer.
            raw = table.string(field.id, field.name) or b""
            where = f"{table.where}.{field.name}"
            self.parts.append(escape_string(raw, where, self.schema.what))
        elif kind == "table":
            sub = table.table(field.id, field.name)
            if sub is not None:
                self.table(self.schema.tables[field.type], sub, indent)
        else:
            self._vector(field, table, indent)

    def _union(self, field: FieldDecl, table: Table, indent: int, first: bool) -> bool:
        """Print a union's type and value slots; return whether nothing is printed yet."""
        union = self.schema.unions[field.type]
        type_name = field.name + "_type"
        has_type = table.has(field.id)
        type_value = int(table.scalar(field.id, "ubyte", 0, type_name))
        if has_type:
            self._key(type_name, indent, first)
            first = False
            name = "NONE" if type_value == 0 else union.member(type_value)
            self.parts.append(_enum_text(type_value, name))
        if not table.has(field.id + 1):
            return first
        member = union.member(type_value)
        if not has_type or member is None:
            found = "no type" if not has_type else f"type {type_value}"
            raise MetadataFormatError(
                f"{self.schema.what}: {table.where}.{field.name}: a {union.name} value is "
                f"stored with {found}; expected a type naming one of "
                f"{', '.join(union.members)} (flatc cannot print it: tflite-support's "
                "convert_to_json returns an empty string or crashes)"
            )
        self._key(field.name, indent, first)
        sub = table.table(field.id + 1, field.name)
        if sub is not None:
            self.table(self.schema.tables[member], sub, indent)
        return False

    def _vector(self, field: FieldDecl, table: Table, indent: int) -> None:
        """Print a stored vector field whose opening bracket is at ``indent``."""
        kind = field.kind
        size = SCALAR_STRUCTS[field.type].size if kind == "scalars" else 4
        vector = table.vector(field.id, size, field.name)
        if vector is None:  # pragma: no cover - only called for stored fields
            return
        parts = self.parts
        inner = indent + INDENT_STEP
        lead = "\n" + " " * inner
        parts.append("[")
        if kind == "scalars":
            texts = [_scalar_text(value, field.type) for value in vector.scalars(field.type)]
            if texts:
                parts.append(lead + ("," + lead).join(texts))
        else:
            for index in range(len(vector)):
                parts.append("," + lead if index else lead)
                if kind == "strings":
                    where = f"{vector.where}[{index}]"
                    parts.append(escape_string(vector.string(index), where, self.schema.what))
                else:
                    self.table(self.schema.tables[field.type], vector.table(index), inner)
        if not len(vector):
            # flatc breaks the line after "[" and before "]" even with nothing between.
            parts.append("\n")
        parts.append("\n" + " " * indent + "]")
