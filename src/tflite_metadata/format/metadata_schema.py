"""The TFLite metadata schema (``metadata_schema.fbs`` 1.5.0), declared once, as data.

Everything that depends on the schema is driven from the declarations here:

* encoding and decoding (:mod:`tflite_metadata.format.codec`), including the
  ``…T`` object-API classes of :mod:`tflite_metadata.metadata_schema_py_generated`;
* the flatc-compatible JSON text (:mod:`tflite_metadata.format.json_format`);
* the minimum metadata parser version (:mod:`tflite_metadata.format.version`).

The declaration classes are those of :mod:`tflite_metadata.format.declarations`
(field ids follow declaration order; a union takes two ids, its type first).

Version annotations reproduce tflite-support's ``metadata_version.cc``: a field
with ``min_version`` bumps the version when it is present; an enum value or
union member listed in ``min_versions`` bumps it when a walked table holds that
value; the rule descends only into fields marked ``walk=True`` (it does not,
for instance, look at the files inside tokenizer options).
"""

from __future__ import annotations

from ..errors import MetadataFormatError
from .declarations import (
    EnumDecl,
    FieldDecl,
    Schema,
    TableDecl,
    UnionDecl,
    enum_field,
    lower_camel,
    scalar_field,
    scalars_field,
    string_field,
    strings_field,
    sub_field,
    table,
    tables_field,
    union_field,
    upper_camel,
)

__all__ = [
    "ENUMS",
    "FILE_IDENTIFIER",
    "ROOT_TABLE",
    "SCHEMA",
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


def _scalar(name: str, type_: str) -> FieldDecl:
    return scalar_field(name, type_)


def _string(name: str, *, min_version: str | None = None) -> FieldDecl:
    return string_field(name, min_version=min_version)


def _tables(
    name: str, table_name: str, *, min_version: str | None = None, walk: bool = False
) -> FieldDecl:
    return tables_field(name, table_name, min_version=min_version, walk=walk)


_table = table
_enum = enum_field
_sub = sub_field
_union = union_field
_scalars = scalars_field
_strings = strings_field


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

#: The whole schema, for :mod:`tflite_metadata.format.codec` and
#: :mod:`tflite_metadata.format.flatc_module`.
SCHEMA = Schema("metadata", FILE_IDENTIFIER, ROOT_TABLE, ENUMS, UNIONS, TABLES, MetadataFormatError)
