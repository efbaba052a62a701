"""The schemas of known custom metadata, declared once, and how to recognize their files.

A model's metadata may carry ``CustomMetadata`` entries: a name and bytes that
are a FlatBuffer of a schema of their own. MediaPipe defines two, declared here
with the classes of :mod:`~tflite_metadata.format.declarations` (facts from
MediaPipe's ``object_detector_metadata_schema.fbs`` and
``image_segmenter_metadata_schema.fbs``; neither uses structs):

* ``DETECTOR_METADATA`` (:data:`DETECTOR_SCHEMA`, root ``ObjectDetectorOptions``):
  a detector without post-processing, its SSD anchors and how to decode its
  raw boxes and scores;
* ``SEGMENTER_METADATA`` (:data:`SEGMENTER_SCHEMA`, root ``ImageSegmenterOptions``):
  the activation of a segmenter's output layer.

:data:`CUSTOM_METADATA_SCHEMAS` maps the custom metadata names to them (the
registry ``show`` decodes with). :func:`schema_of_file` recognizes the schema
*file* a caller names (MediaPipe's ``convert_to_json(..., custom_metadata_schema=)``
parses it with flatc, which this package does not have): by the schema's identity,
its namespace and root type, and only when every table and enum the file declares
is the one declared here, field for field (names and types in order). Comments,
spacing and attributes do not matter; a file of another schema, or of another
version of one of these, is refused with the difference, never decoded wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import MetadataFormatError, MetadataValidationError
from .declarations import (
    EnumDecl,
    Schema,
    TableDecl,
    enum_field,
    scalar_field,
    string_field,
    sub_field,
    table,
    tables_field,
)

__all__ = [
    "CUSTOM_METADATA_SCHEMAS",
    "DETECTOR_METADATA_NAME",
    "DETECTOR_SCHEMA",
    "SEGMENTER_METADATA_NAME",
    "SEGMENTER_SCHEMA",
    "schema_of_file",
    "schema_of_source",
]

#: The namespace both of MediaPipe's custom-metadata schemas declare.
MEDIAPIPE_NAMESPACE = "mediapipe.tasks"
#: The file identifier both of MediaPipe's custom-metadata schemas declare.
MEDIAPIPE_FILE_IDENTIFIER = b"V001"

#: The custom metadata name of a detector's anchors and decoding options.
DETECTOR_METADATA_NAME = "DETECTOR_METADATA"
#: The custom metadata name of a segmenter's activation.
SEGMENTER_METADATA_NAME = "SEGMENTER_METADATA"

_DETECTOR_TABLES: tuple[TableDecl, ...] = (
    table(
        "FixedAnchor",
        scalar_field("x_center", "float"),
        scalar_field("y_center", "float"),
        scalar_field("width", "float"),
        scalar_field("height", "float"),
    ),
    table("FixedAnchorsSchema", tables_field("anchors", "FixedAnchor")),
    table("SsdAnchorsOptions", sub_field("fixed_anchors_schema", "FixedAnchorsSchema")),
    table(
        "TensorsDecodingOptions",
        scalar_field("num_classes", "int"),
        scalar_field("num_boxes", "int"),
        scalar_field("num_coords", "int"),
        scalar_field("keypoint_coord_offset", "int"),
        scalar_field("num_keypoints", "int"),
        scalar_field("num_values_per_keypoint", "int"),
        scalar_field("x_scale", "float"),
        scalar_field("y_scale", "float"),
        scalar_field("w_scale", "float"),
        scalar_field("h_scale", "float"),
        scalar_field("apply_exponential_on_box_size", "bool"),
        scalar_field("sigmoid_score", "bool"),
    ),
    table(
        "ObjectDetectorOptions",
        string_field("min_parser_version"),
        sub_field("ssd_anchors_options", "SsdAnchorsOptions"),
        sub_field("tensors_decoding_options", "TensorsDecodingOptions"),
    ),
)

#: ``object_detector_metadata_schema.fbs``: ``DETECTOR_METADATA``.
DETECTOR_SCHEMA = Schema(
    "DETECTOR_METADATA",
    MEDIAPIPE_FILE_IDENTIFIER,
    "ObjectDetectorOptions",
    {},
    {},
    {t.name: t for t in _DETECTOR_TABLES},
    MetadataFormatError,
    namespace=MEDIAPIPE_NAMESPACE,
)

_ACTIVATION = EnumDecl("Activation", "byte", (("NONE", 0), ("SIGMOID", 1), ("SOFTMAX", 2)))

#: ``image_segmenter_metadata_schema.fbs``: ``SEGMENTER_METADATA``.
SEGMENTER_SCHEMA = Schema(
    "SEGMENTER_METADATA",
    MEDIAPIPE_FILE_IDENTIFIER,
    "ImageSegmenterOptions",
    {"Activation": _ACTIVATION},
    {},
    {
        "ImageSegmenterOptions": table(
            "ImageSegmenterOptions",
            enum_field("activation", "Activation"),
            string_field("min_parser_version"),
        )
    },
    MetadataFormatError,
    namespace=MEDIAPIPE_NAMESPACE,
)

#: Custom metadata name -> the schema of its data: what ``show`` decodes unasked.
CUSTOM_METADATA_SCHEMAS: Mapping[str, Schema] = {
    DETECTOR_METADATA_NAME: DETECTOR_SCHEMA,
    SEGMENTER_METADATA_NAME: SEGMENTER_SCHEMA,
}

#: (namespace, root type) -> schema: the schema files recognized.
_BY_IDENTITY: Mapping[tuple[str, str], Schema] = {
    (s.namespace, s.root_table): s for s in CUSTOM_METADATA_SCHEMAS.values()
}

# -- recognizing a schema file ---------------------------------------------------------

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_ATTRIBUTES = re.compile(r"\([^()]*\)")
_STATEMENT = re.compile(r"\b(namespace|root_type)\s+([A-Za-z_][\w.]*)\s*;")
_BLOCK = re.compile(r"\b(table|struct|enum|union)\s+([A-Za-z_]\w*)\s*(?::\s*(\w+)\s*)?\{([^{}]*)\}")
_FIELD = re.compile(r"^\s*([A-Za-z_]\w*)\s*:\s*(\[?\s*[\w.]+\s*\]?)")

#: flatc's synonyms of the scalar type names.
_TYPE_SYNONYMS = {
    "int8": "byte",
    "uint8": "ubyte",
    "int16": "short",
    "uint16": "ushort",
    "int32": "int",
    "uint32": "uint",
    "int64": "long",
    "uint64": "ulong",
    "float32": "float",
    "float64": "double",
}


def _summary(source: str) -> tuple[str, str, dict[str, tuple[str, ...]]]:
    """(namespace, root type, {declaration: its members}) of a schema's text."""
    text = _STRINGS.sub('""', _COMMENTS.sub(" ", source))
    namespace = root = ""
    for keyword, name in _STATEMENT.findall(text):
        if keyword == "namespace":
            namespace = name
        else:
            root = name.rsplit(".", 1)[-1]
    blocks: dict[str, tuple[str, ...]] = {}
    for kind, name, base, body in _BLOCK.findall(_ATTRIBUTES.sub("", text)):
        if kind in ("table", "struct"):
            members = []
            for statement in body.split(";"):
                match = _FIELD.match(statement)
                if match:
                    type_text = re.sub(r"\s+", "", match.group(2))
                    inner = type_text.strip("[]")
                    inner = _TYPE_SYNONYMS.get(inner, inner)
                    type_text = f"[{inner}]" if type_text.startswith("[") else inner
                    members.append(f"{match.group(1)}:{type_text}")
            blocks[f"{kind} {name}"] = tuple(members)
        else:
            values = [v.split("=")[0].strip() for v in body.split(",") if v.strip()]
            blocks[f"{kind} {name}:{_TYPE_SYNONYMS.get(base, base)}"] = tuple(values)
    return namespace, root, blocks


def _declared(schema: Schema) -> dict[str, tuple[str, ...]]:
    """The summary :func:`_summary` gives for ``schema``'s own ``.fbs`` file."""
    blocks: dict[str, tuple[str, ...]] = {}
    for enum in schema.enums.values():
        blocks[f"enum {enum.name}:{enum.base}"] = tuple(name for name, _ in enum.values)
    for decl in schema.tables.values():
        members = []
        for field in decl.fields:
            if field.kind in ("scalar", "enum", "table"):
                type_text = field.type
            elif field.kind == "string":
                type_text = "string"
            elif field.kind == "strings":
                type_text = "[string]"
            else:
                type_text = f"[{field.type}]"
            members.append(f"{field.name}:{type_text}")
        blocks[f"table {decl.name}"] = tuple(members)
    return blocks


def schema_of_source(source: str | bytes, where: str = "the schema") -> Schema:
    """The declared schema that the FlatBuffers schema text ``source`` is.

    Args:
        source: the text of a ``.fbs`` file.
        where: how to name it in messages (its path).

    Returns:
        :data:`DETECTOR_SCHEMA` or :data:`SEGMENTER_SCHEMA`.

    Raises:
        MetadataValidationError: the text is not one of them: another namespace
            or root type, or declarations that differ from these.
    """
    if isinstance(source, bytes):
        source = source.decode("utf-8", errors="replace")
    namespace, root, blocks = _summary(source)
    schema = _BY_IDENTITY.get((namespace, root))
    known = ", ".join(f"{ns}.{name}" for ns, name in _BY_IDENTITY)
    if schema is None:
        found = f"{namespace or '(no namespace)'}.{root or '(no root_type)'}"
        raise MetadataValidationError(
            f"{where}: a schema with root type {found} is not one this package declares "
            f"({known}); without flatc, only those custom metadata schemas can be decoded"
        )
    expected = _declared(schema)
    if blocks != expected:
        differences = sorted(
            name for name in set(blocks) | set(expected) if blocks.get(name) != expected.get(name)
        )
        raise MetadataValidationError(
            f"{where}: its root type is {namespace}.{root}, but its declarations differ from "
            f"the ones this package declares for {schema.what} in: {', '.join(differences)}; "
            "without flatc, it cannot be decoded with a schema that differs"
        )
    return schema


def schema_of_file(path: str) -> Schema:
    """The declared schema that the ``.fbs`` file at ``path`` is (see :func:`schema_of_source`).

    Raises:
        MetadataValidationError: the file is another schema, or cannot be read.
    """
    try:
        with open(path, "rb") as file:
            source = file.read(1 << 20)
    except OSError as exc:
        raise MetadataValidationError(
            f"cannot read the schema file '{path}': {exc.strerror or exc}"
        ) from exc
    return schema_of_source(source, f"the schema file '{path}'")
