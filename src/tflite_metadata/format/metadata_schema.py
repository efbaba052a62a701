"""The TFLite metadata schema (``metadata_schema.fbs`` 1.5.0), declared once, as data.

Everything that depends on the schema is driven from the declarations here:

* encoding and decoding (:mod:`tflite_metadata.format.codec`), including the
  ``…T`` object-API classes of :mod:`tflite_metadata.metadata_schema_py_generated`;
* the flatc-compatible JSON text (:mod:`tflite_metadata.format.json_format`);
* the minimum metadata parser version (:mod:`tflite_metadata.format.version`).

Field ids follow declaration order; a union takes two ids, its type first.
Names are the schema's own (``snake_case``); the object API's camelCase names
are derived from them exactly as flatc derives them.

Version annotations reproduce tflite-support's ``metadata_version.cc``: a field
with ``min_version`` bumps the version when it is present; an enum value or
union member listed in ``min_versions`` bumps it when a walked table holds that
value; the rule descends only into fields marked ``walk=True`` (it does not,
for instance, look at the files inside tokenizer options).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "ENUMS",
    "FILE_IDENTIFIER",
    "ROOT_TABLE",
    "SCHEMA_VERSION",
    "TABLES",
    "UNIONS",
    "EnumDecl",
    "FieldDecl",
    "TableDecl",
    "UnionDecl",
    "lower_camel",
    "upper_camel",
]

#: The schema version these declarations describe.
SCHEMA_VERSION = "1.5.0"
#: The FlatBuffer file identifier of a metadata buffer.
FILE_IDENTIFIER = b"M001"
#: The name of the ``Model.metadata`` entry that holds the metadata buffer.
METADATA_FIELD_NAME = "TFLITE_METADATA"
#: The root table of a metadata buffer.
ROOT_TABLE = "ModelMetadata"

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


@dataclass(frozen=True)
class FieldDecl:
    """One field of a table.

    ``type`` is the scalar type (``"uint"``, ``"float"``, ``"ubyte"`` …) for
    ``scalar``/``scalars``, the enum name for ``enum``, the table name for
    ``table``/``tables`` and the union name for ``union``.
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

    def field(self, name: str) -> FieldDecl:
        """The field called ``name``."""
        for decl in self.fields:
            if decl.name == name:
                return decl
        raise KeyError(f"{self.name} has no field {name!r}")


def upper_camel(name: str) -> str:
    """flatc's ``MakeCamel(name, true)``: ``sentencePiece_model`` -> ``SentencePieceModel``."""
    parts = name.split("_")
    return "".join(p[:1].upper() + p[1:] for p in parts)


def lower_camel(name: str) -> str:
    """flatc's ``MakeCamel(name, false)``: ``sample_rate`` -> ``sampleRate``."""
    camel = upper_camel(name)
    return camel[:1].lower() + camel[1:]


def _table(name: str, *fields: FieldDecl) -> TableDecl:
    numbered = []
    next_id = 0
    for decl in fields:
        numbered.append(FieldDecl(**{**decl.__dict__, "id": next_id}))
        next_id += 2 if decl.kind == "union" else 1
    return TableDecl(name, tuple(numbered))


def _scalar(name: str, type_: str, **kw: object) -> FieldDecl:
    return FieldDecl(name, "scalar", type_, **kw)  # type: ignore[arg-type]


def _enum(name: str, enum: str) -> FieldDecl:
    return FieldDecl(name, "enum", enum)


def _string(name: str, **kw: object) -> FieldDecl:
    return FieldDecl(name, "string", **kw)  # type: ignore[arg-type]


def _sub(name: str, table: str, **kw: object) -> FieldDecl:
    return FieldDecl(name, "table", table, **kw)  # type: ignore[arg-type]


def _union(name: str, union: str) -> FieldDecl:
    return FieldDecl(name, "union", union)


def _scalars(name: str, type_: str) -> FieldDecl:
    return FieldDecl(name, "scalars", type_)


def _strings(name: str) -> FieldDecl:
    return FieldDecl(name, "strings")


def _tables(name: str, table: str, **kw: object) -> FieldDecl:
    return FieldDecl(name, "tables", table, **kw)  # type: ignore[arg-type]


_ENUM_LIST = (
    EnumDecl(
        "AssociatedFileType",
        "byte",
        (
            ("UNKNOWN", 0),
            ("DESCRIPTIONS", 1),
            ("TENSOR_AXIS_LABELS", 2),
            ("TENSOR_VALUE_LABELS", 3),
            ("TENSOR_AXIS_SCORE_CALIBRATION", 4),
            ("VOCABULARY", 5),
            ("SCANN_INDEX_FILE", 6),
        ),
        {"VOCABULARY": "1.0.1", "SCANN_INDEX_FILE": "1.4.0"},
    ),
    EnumDecl("ColorSpaceType", "byte", (("UNKNOWN", 0), ("RGB", 1), ("GRAYSCALE", 2))),
    EnumDecl(
        "BoundingBoxType",
        "byte",
        (("UNKNOWN", 0), ("BOUNDARIES", 1), ("UPPER_LEFT", 2), ("CENTER", 3)),
    ),
    EnumDecl("CoordinateType", "byte", (("RATIO", 0), ("PIXEL", 1))),
    EnumDecl(
        "ScoreTransformationType",
        "byte",
        (("IDENTITY", 0), ("LOG", 1), ("INVERSE_LOGISTIC", 2)),
    ),
)

_UNION_LIST = (
    UnionDecl(
        "ContentProperties",
        ("FeatureProperties", "ImageProperties", "BoundingBoxProperties", "AudioProperties"),
        {"AudioProperties": "1.3.0"},
    ),
    UnionDecl(
        "ProcessUnitOptions",
        (
            "NormalizationOptions",
            "ScoreCalibrationOptions",
            "ScoreThresholdingOptions",
            "BertTokenizerOptions",
            "SentencePieceTokenizerOptions",
            "RegexTokenizerOptions",
        ),
        {
            "BertTokenizerOptions": "1.1.0",
            "SentencePieceTokenizerOptions": "1.1.0",
            "RegexTokenizerOptions": "1.2.1",
        },
    ),
)

# Declaration order matches metadata_schema.fbs; the generated Python module
# lists its classes in this order too.
_TABLE_LIST = (
    _table(
        "AssociatedFile",
        _string("name"),
        _string("description"),
        _enum("type", "AssociatedFileType"),
        _string("locale"),
        _string("version", min_version="1.4.1"),
    ),
    _table("FeatureProperties"),
    _table("ImageSize", _scalar("width", "uint"), _scalar("height", "uint")),
    _table(
        "ImageProperties",
        _enum("color_space", "ColorSpaceType"),
        _sub("default_size", "ImageSize"),
    ),
    _table("AudioProperties", _scalar("sample_rate", "uint"), _scalar("channels", "uint")),
    _table(
        "BoundingBoxProperties",
        _scalars("index", "uint"),
        _enum("type", "BoundingBoxType"),
        _enum("coordinate_type", "CoordinateType"),
    ),
    _table("ValueRange", _scalar("min", "int"), _scalar("max", "int")),
    _table(
        "Content", _union("content_properties", "ContentProperties"), _sub("range", "ValueRange")
    ),
    _table("NormalizationOptions", _scalars("mean", "float"), _scalars("std", "float")),
    _table(
        "ScoreCalibrationOptions",
        _enum("score_transformation", "ScoreTransformationType"),
        _scalar("default_score", "float"),
    ),
    _table("ScoreThresholdingOptions", _scalar("global_score_threshold", "float")),
    _table("BertTokenizerOptions", _tables("vocab_file", "AssociatedFile")),
    _table(
        "SentencePieceTokenizerOptions",
        _tables("sentencePiece_model", "AssociatedFile"),
        _tables("vocab_file", "AssociatedFile"),
    ),
    _table(
        "RegexTokenizerOptions",
        _string("delim_regex_pattern"),
        _tables("vocab_file", "AssociatedFile"),
    ),
    _table("ProcessUnit", _union("options", "ProcessUnitOptions")),
    _table("Stats", _scalars("max", "float"), _scalars("min", "float")),
    _table("TensorGroup", _string("name"), _strings("tensor_names")),
    _table(
        "TensorMetadata",
        _string("name"),
        _string("description"),
        _strings("dimension_names"),
        _sub("content", "Content", walk=True),
        _tables("process_units", "ProcessUnit", walk=True),
        _sub("stats", "Stats"),
        _tables("associated_files", "AssociatedFile", walk=True),
    ),
    _table("CustomMetadata", _string("name"), _scalars("data", "ubyte")),
    _table(
        "SubGraphMetadata",
        _string("name"),
        _string("description"),
        _tables("input_tensor_metadata", "TensorMetadata", walk=True),
        _tables("output_tensor_metadata", "TensorMetadata", walk=True),
        _tables("associated_files", "AssociatedFile", walk=True),
        _tables("input_process_units", "ProcessUnit", min_version="1.1.0", walk=True),
        _tables("output_process_units", "ProcessUnit", min_version="1.1.0", walk=True),
        _tables("input_tensor_groups", "TensorGroup", min_version="1.2.0"),
        _tables("output_tensor_groups", "TensorGroup", min_version="1.2.0"),
        _tables("custom_metadata", "CustomMetadata", min_version="1.5.0"),
    ),
    _table(
        "ModelMetadata",
        _string("name"),
        _string("description"),
        _string("version"),
        _tables("subgraph_metadata", "SubGraphMetadata", walk=True),
        _string("author"),
        _string("license"),
        _tables("associated_files", "AssociatedFile", walk=True),
        _string("min_parser_version"),
    ),
)

#: Every enum of the schema, by name, in declaration order.
ENUMS: dict[str, EnumDecl] = {e.name: e for e in _ENUM_LIST}
#: Every union of the schema, by name, in declaration order.
UNIONS: dict[str, UnionDecl] = {u.name: u for u in _UNION_LIST}
#: Every table of the schema, by name, in declaration order.
TABLES: dict[str, TableDecl] = {t.name: t for t in _TABLE_LIST}
