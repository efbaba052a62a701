"""``tflite-metadata show``: a human summary of a model's metadata and associated files.

Generic over the metadata schema, not over tasks: an input's content properties
(audio, image), its normalization, each output's label files and score
calibration, are shown whatever the task. Names read from the model are escaped
(see :func:`~tflite_metadata.tasks.rules.printable`). Packed files too large to
examine are shown by their size, never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from ..format import metadata_schema as schema
from ..format.model_schema import tensor_type_name
from ..model.populate import file_name
from ..tasks.rules import (
    CALIBRATION_FILE,
    LABELS_FILE,
    MAX_EXAMINED_FILE_SIZE,
    calibration_entry_count,
    label_counts,
    printable,
    size_text,
)

__all__ = ["custom_metadata_lines", "packed_files", "summarize"]


def packed_files(data: Any) -> list[tuple[str, int]]:
    """``(name, size)`` of each packed associated file, in zip order."""
    from ..archive.associated_files import find_zip

    tail = find_zip(data)
    if tail is None:
        return []
    return tail.sizes()


_LABELS_SHOWN = 5
_VALUE_LABELS_FILE = schema.ENUMS["AssociatedFileType"].value_of("TENSOR_VALUE_LABELS")
#: The elements of a box in each BoundingBoxType's default order (the schema's).
_BOX_ELEMENTS = {
    "BOUNDARIES": ("left", "top", "right", "bottom"),
    "UPPER_LEFT": ("left", "top", "width", "height"),
    "CENTER": ("center x", "center y", "width", "height"),
}


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def summarize(data: Any) -> list[str]:
    """A human summary of a model's metadata and associated files, one line each.

    Names read from the model are escaped (see :func:`~tflite_metadata.check.printable`).

    Raises:
        ModelFormatError: the model cannot be read.
        MetadataFormatError: its metadata is malformed.
    """
    from ..format import codec
    from ..model.reader import open_model

    view = open_model(data)
    files = dict(packed_files(data))
    lines: list[str] = []
    buffer = view.metadata_buffer()
    metadata = codec.decode(buffer) if buffer is not None and len(buffer) else None
    inputs = list(view.inputs(0))
    outputs = list(view.outputs(0))
    if metadata is None:
        lines.append("metadata: none")
    else:
        name = printable(metadata.name) if metadata.name is not None else "(no name)"
        version = f", version {printable(metadata.version)}" if metadata.version else ""
        lines.append(f"model: {name}{version}")
        for label, value in (
            ("description", metadata.description),
            ("author", metadata.author),
            ("license", metadata.license),
        ):
            if value:
                lines.append(f"{label}: {printable(value)}")
        lines.append(f"min_parser_version: {printable(metadata.minParserVersion) or '(unset)'}")
    subgraph = None
    if metadata is not None and metadata.subgraphMetadata:
        subgraph = metadata.subgraphMetadata[0]
    input_metadata = (subgraph.inputTensorMetadata if subgraph is not None else None) or []
    output_metadata = (subgraph.outputTensorMetadata if subgraph is not None else None) or []
    for index, tensor in enumerate(inputs):
        tensor_md = input_metadata[index] if index < len(input_metadata) else None
        lines.append(
            f"input {index}: {_tensor_heading(tensor, tensor_md)}{_input_text(tensor, tensor_md)}"
        )
        units = (tensor_md.processUnits if tensor_md is not None else None) or []
        lines.extend("  " + line for line in _tokenizer_lines(units, data))
    subgraph_units = (subgraph.inputProcessUnits if subgraph is not None else None) or []
    tokenizers = _tokenizer_lines(subgraph_units, data)
    if tokenizers:
        lines.append("inputs:")
        lines.extend("  " + line for line in tokenizers)
    for index, tensor in enumerate(outputs):
        tensor_md = output_metadata[index] if index < len(output_metadata) else None
        lines.append(
            f"output {index}: {_tensor_heading(tensor, tensor_md)}{_output_text(tensor, tensor_md)}"
        )
        lines.extend("  " + line for line in _output_details(tensor_md, data))
    for kind, groups in (
        ("input", None if subgraph is None else subgraph.inputTensorGroups),
        ("output", None if subgraph is None else subgraph.outputTensorGroups),
    ):
        for group in groups or []:
            names = ", ".join(printable(name) for name in group.tensorNames or [])
            lines.append(
                f"{kind} tensor group {printable(group.name) or '(no name)'}: {names or '(empty)'}"
            )
    for entry in (subgraph.customMetadata if subgraph is not None else None) or []:
        lines.extend(custom_metadata_lines(entry))
    if files:
        lines.append("associated files:")
        for file_name, size in files.items():
            lines.append(f"  {printable(file_name)}: {size} bytes")
    else:
        lines.append("associated files: none")
    return lines


def _tensor_heading(tensor: Any, tensor_md: Any) -> str:
    described = ""
    if tensor_md is not None and tensor_md.name:
        described = f"{printable(tensor_md.name)} "
    return (
        f"{described}(tensor '{printable(tensor.name)}', {tensor_type_name(int(tensor.type))} "
        f"{_shape(tensor.shape)})"
    )


def _input_text(tensor: Any, tensor_md: Any) -> str:
    """What an input's content properties and normalization say, after a colon (or nothing)."""
    if tensor_md is None:
        return ""
    parts = []
    content = tensor_md.content
    properties = None if content is None else content.contentProperties
    kind = (
        None
        if content is None
        else schema.UNIONS["ContentProperties"].member(int(content.contentPropertiesType or 0))
    )
    if properties is not None and kind == "AudioProperties":
        channels = int(properties.channels)
        parts.append(
            f"{int(properties.sampleRate)} Hz, {channels} channel{'s' if channels != 1 else ''}"
        )
    elif properties is not None and kind == "ImageProperties":
        parts.append(_image_text(tensor.shape, properties))
    normalization = _normalization_text(tensor_md)
    if normalization:
        parts.append(normalization)
    return (": " + "; ".join(parts)) if parts else ""


def _output_text(tensor: Any, tensor_md: Any) -> str:
    """An image output (a segmenter's masks): its size, classes, color space and range."""
    content = None if tensor_md is None else tensor_md.content
    if content is None or content.contentProperties is None:
        return ""
    kind = schema.UNIONS["ContentProperties"].member(int(content.contentPropertiesType or 0))
    if kind != "ImageProperties":
        return ""
    color_space = int(content.contentProperties.colorSpace or 0)
    name = schema.ENUMS["ColorSpaceType"].name_of(color_space) or str(color_space)
    dim_range = content.range
    over = ""
    if dim_range is not None:
        over = f" over dimensions {int(dim_range.min)} to {int(dim_range.max)}"
    shape = tensor.shape
    if len(shape) == 4:
        # [1, height, width, classes]: one mask per class.
        classes = int(shape[3])
        text = (
            f"{classes} mask{'s' if classes != 1 else ''} of {int(shape[1])}x{int(shape[2])} "
            f"({name} images{over})"
        )
    else:
        text = f"{name} image{over}"
    return ": " + text


_TOKENIZERS = {
    "RegexTokenizerOptions": "regex tokenizer",
    "BertTokenizerOptions": "BERT (word-piece) tokenizer",
    "SentencePieceTokenizerOptions": "SentencePiece tokenizer",
}


def _tokenizer_lines(units: Sequence[Any], data: Any) -> list[str]:
    """One line per tokenizer among ``units``: its kind, pattern and files."""
    from ..archive.associated_files import find_zip

    tail = find_zip(data)
    packed = dict(tail.sizes()) if tail is not None else {}

    def describe(files: Any, what: str) -> list[str]:
        parts = []
        for file in files or []:
            name = file_name(file, strict=False)
            size = packed.get(name)
            if size is None:
                state = "not packed"
            elif size > MAX_EXAMINED_FILE_SIZE or what != "vocabulary" or tail is None:
                state = f"{size} bytes"
            else:
                entries = sum(1 for line in bytes(tail.read(name)).split(b"\n") if line.strip())
                state = f"{entries} entries"
            parts.append(f"{what} {printable(name)} ({state})")
        return parts

    lines = []
    for unit in units:
        kind = schema.UNIONS["ProcessUnitOptions"].member(int(unit.optionsType or 0))
        if kind not in _TOKENIZERS:
            continue
        options = unit.options
        parts = [_TOKENIZERS[kind]]
        if options is not None and kind == "RegexTokenizerOptions":
            pattern = options.delimRegexPattern
            parts.append(
                "no delimiter pattern" if pattern is None else f"delimiter {printable(pattern)!s}"
            )
        if options is not None and kind == "SentencePieceTokenizerOptions":
            parts.extend(describe(options.sentencePieceModel, "model"))
        if options is not None:
            parts.extend(describe(options.vocabFile, "vocabulary"))
        lines.append(", ".join(parts))
    return lines


def _image_text(shape: Sequence[int], properties: Any) -> str:
    """``224x224, 3 channels, RGB``: the size from the tensor (NHWC), the color space."""
    color_space = int(properties.colorSpace or 0)
    name = schema.ENUMS["ColorSpaceType"].name_of(color_space) or str(color_space)
    if len(shape) == 4:
        channels = int(shape[3])
        size = f"{int(shape[1])}x{int(shape[2])}, {channels} channel{'s' if channels != 1 else ''}"
        return f"{size}, {name} image"
    return f"{name} image"


def _normalization_text(tensor_md: Any) -> str:
    """``normalization mean [127.5], std [127.5]`` from a NormalizationOptions process unit."""
    for unit in tensor_md.processUnits or []:
        options = unit.options
        if options is None or not hasattr(options, "mean"):
            continue
        return f"normalization mean {_numbers(options.mean)}, std {_numbers(options.std)}"
    return ""


def _numbers(values: Optional[Sequence[float]]) -> str:
    if values is None:
        return "(none)"
    shown = ", ".join(f"{float(value):g}" for value in values[:_LABELS_SHOWN])
    return f"[{shown}{', ...' if len(values) > _LABELS_SHOWN else ''}]"


def _content_details(tensor_md: Any) -> list[str]:
    """An output's box layout (BoundingBoxProperties) and value range, one line each."""
    content = tensor_md.content
    if content is None:
        return []
    lines = []
    kind = schema.UNIONS["ContentProperties"].member(int(content.contentPropertiesType or 0))
    properties = content.contentProperties
    if kind == "BoundingBoxProperties" and properties is not None:
        box_type = schema.ENUMS["BoundingBoxType"].name_of(int(properties.type or 0))
        coordinates = schema.ENUMS["CoordinateType"].name_of(int(properties.coordinateType or 0))
        elements = _BOX_ELEMENTS.get(box_type or "")
        index = list(properties.index) if properties.index is not None else [0, 1, 2, 3]
        if elements is not None and sorted(index) == [0, 1, 2, 3]:
            layout = "[" + ", ".join(elements[int(i)] for i in index) + "]"
        else:
            layout = f"index {_shape(index)}"
        lines.append(
            f"boxes {layout} as {box_type or properties.type}, "
            f"{coordinates or properties.coordinateType} coordinates"
        )
    value_range = content.range
    # An image output's range is shown with its image (see _output_text).
    if value_range is not None and kind != "ImageProperties":
        low, high = int(value_range.min or 0), int(value_range.max or 0)
        span = f"dimension {low}" if low == high else f"dimensions {low} to {high}"
        lines.append(f"values along {span}")
    return lines


def _output_details(tensor_md: Any, data: Any) -> list[str]:
    from ..archive.associated_files import find_zip

    if tensor_md is None:
        return []
    tail = find_zip(data)
    packed = dict(tail.sizes()) if tail is not None else {}

    def too_large(name: str) -> Optional[str]:
        """Why a packed file is not read: it is larger than check reads."""
        size = packed.get(name)
        if size is None or size <= MAX_EXAMINED_FILE_SIZE:
            return None
        return (
            f"{size_text(size)}, not read (more than {size_text(MAX_EXAMINED_FILE_SIZE)}; "
            "see check)"
        )

    def content(name: str) -> Optional[bytes]:
        if tail is None or name not in packed or too_large(name) is not None:
            return None
        return bytes(tail.read(name))

    lines = _content_details(tensor_md)
    for file in tensor_md.associatedFiles or []:
        name = file_name(file, strict=False)
        locale = f" ({printable(file.locale)})" if file.locale else ""
        if file.type in (LABELS_FILE, _VALUE_LABELS_FILE):
            what = "labels" if file.type == LABELS_FILE else "value labels"
            unread = too_large(name)
            if unread is not None:
                lines.append(f"{what} {printable(name)}{locale}: {unread}")
                continue
            data_bytes = content(name)
            if data_bytes is None:
                lines.append(f"{what} {printable(name)}{locale}: not packed")
                continue
            count = label_counts(data_bytes)[0]
            first = data_bytes.split(b"\n")[:_LABELS_SHOWN]
            shown = ", ".join(printable(label) for label in first[:count])
            more = ", ..." if count > _LABELS_SHOWN else ""
            lines.append(f"{what} {printable(name)}{locale}: {count} labels: {shown}{more}")
    for unit in tensor_md.processUnits or []:
        options = unit.options
        if options is not None and hasattr(options, "globalScoreThreshold"):
            lines.append(f"score threshold: {float(options.globalScoreThreshold):g}")
            continue
        if options is None or not hasattr(options, "scoreTransformation"):
            continue
        transformation = schema.ENUMS["ScoreTransformationType"].name_of(
            int(options.scoreTransformation)
        ) or str(options.scoreTransformation)
        calibration_files = [
            f
            for f in tensor_md.associatedFiles or []
            if f.type == CALIBRATION_FILE and f.name is not None
        ]
        where = ""
        if calibration_files:
            name = file_name(calibration_files[0], strict=False)
            data_bytes = content(name)
            unread = too_large(name)
            if unread is not None:
                entries = unread
            elif data_bytes is None:
                entries = "not packed"
            else:
                entries = f"{calibration_entry_count(data_bytes)} entries"
            where = f", {printable(name)} ({entries})"
        lines.append(
            f"score calibration: {transformation}, default score "
            f"{float(options.defaultScore):g}{where}"
        )
    return lines


# -- custom metadata ---------------------------------------------------------------------------

_ITEMS_SHOWN = 3


def custom_metadata_lines(entry: Any) -> list[str]:
    """A custom metadata entry: decoded when its name has a declared schema, else its size.

    The schemas are those of
    :data:`~tflite_metadata.format.custom_metadata.CUSTOM_METADATA_SCHEMAS`
    (``DETECTOR_METADATA``, ``SEGMENTER_METADATA``), printed from their declarations:
    a table's scalars on one line, its sub-tables indented, a vector of tables by its
    count and first entries. Only what is printed is read (a detector's thousands of
    anchors are counted, not decoded); data that cannot be read gives a
    ``cannot decode`` line.
    """
    from ..errors import MetadataError
    from ..format.codec import codec_for
    from ..format.custom_metadata import CUSTOM_METADATA_SCHEMAS

    raw_name = entry.name
    name = printable(raw_name) if raw_name is not None else "(no name)"
    data = bytes(entry.data if entry.data is not None else b"")
    key = raw_name.decode("utf-8", "replace") if isinstance(raw_name, bytes) else raw_name
    data_schema = CUSTOM_METADATA_SCHEMAS.get(key or "")
    heading = f"custom metadata {name}: "
    if data_schema is None or not data:
        return [heading + f"{len(data)} bytes"]
    try:
        root = codec_for(data_schema).root(data, check_identifier=False)
        decl = data_schema.tables[data_schema.root_table]
        inline, nested = _table_text(data_schema, decl, root)
    except MetadataError as exc:
        return [heading + f"cannot decode ({printable(str(exc))})"]
    first = heading + _words(decl.name) + (": " + inline if inline else "")
    return [first] + ["  " + line for line in nested]


def _words(name: str) -> str:
    """``ObjectDetectorOptions`` -> ``object detector options``."""
    out: list[str] = []
    for char in name:
        if char.isupper() and out:
            out.append(" ")
        out.append(char.lower())
    return "".join(out)


def _scalar_text(data_schema: Any, field: Any, value: Any) -> str:
    if field.kind == "enum":
        enum = data_schema.enums[field.type]
        return enum.name_of(int(value)) or str(int(value))
    if data_schema.scalar_type(field) == "bool":
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table_text(data_schema: Any, decl: Any, table: Any) -> tuple[str, list[str]]:
    """(a table's scalars and strings on one line, one line per sub-table or vector).

    ``table`` is a bounds-checked :class:`~tflite_metadata.format.flatbuf.Table`;
    a vector's first entries only are read.
    """
    from ..format.codec import default_value
    from ..format.flatbuf import SCALAR_STRUCTS

    parts: list[str] = []
    nested: list[str] = []
    for field in decl.live_fields:
        kind = field.kind
        if kind in ("scalar", "enum"):
            stype = data_schema.scalar_type(field)
            value = table.scalar(field.id, stype, default_value(data_schema, field), field.name)
            parts.append(f"{field.name} {_scalar_text(data_schema, field, value)}")
        elif kind == "string":
            raw = table.string(field.id, field.name)
            if raw is not None:
                parts.append(f"{field.name} {printable(raw)}")
        elif kind == "table":
            sub = table.table(field.id, field.name)
            if sub is not None:
                inline, deeper = _table_text(data_schema, data_schema.tables[field.type], sub)
                nested.append(field.name + (f": {inline}" if inline else ""))
                nested.extend("  " + line for line in deeper)
        elif kind == "tables":
            vector = table.vector(field.id, 4, field.name)
            if vector is None:
                continue
            sub_decl = data_schema.tables[field.type]
            count = len(vector)
            shown = [
                "(" + _table_text(data_schema, sub_decl, vector.table(index))[0] + ")"
                for index in range(min(count, _ITEMS_SHOWN))
            ]
            more = ", ..." if count > _ITEMS_SHOWN else ""
            singular = field.name[:-1] if field.name.endswith("s") else field.name
            counted = f"{count} {singular if count == 1 else field.name}"
            nested.append(counted + (f": {', '.join(shown)}{more}" if shown else ""))
        elif kind in ("scalars", "strings"):
            size = SCALAR_STRUCTS[field.type].size if kind == "scalars" else 4
            vector = table.vector(field.id, size, field.name)
            if vector is None:
                continue
            if kind == "scalars":
                values = vector.scalars(field.type)[:_ITEMS_SHOWN]
                items = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
            else:
                count = min(len(vector), _ITEMS_SHOWN)
                items = [printable(vector.string(index)) for index in range(count)]
            more = ", ..." if len(vector) > _ITEMS_SHOWN else ""
            nested.append(f"{field.name}: [{', '.join(items)}{more}]")
    return ", ".join(parts), nested
