"""MediaPipe metadata-writer cases as JSON, run the same way by MediaPipe's writers and ours.

A case is one plain JSON value, so that the test suite (in its own environment)
and ``mediapipe_writer_runner.py`` (in MediaPipe's) run the very same calls:

    {"model": PATH,
     "factory": ["metadata_writer", "MetadataWriter", "create"],   # module, class, method
     "args": [...], "kwargs": {...},                               # after the model buffer
     "calls": [["add_image_input", [args], {kwargs}], ...],        # builder methods, chained
     "save": PATH}                                                 # optional: write the model

Argument values are JSON, except tagged objects (a one-key dict whose key starts
with ``$``), which become the writers' helper objects:

* ``{"$labels": [["add", names, locale, exported] | ["add_from_file", path, locale, exported]]}``
* ``{"$calibration": [type, [[scale, slope, offset(, min_score)] | null, ...], default]}``
* ``{"$calibration_file": [type, path, default]}`` (``ScoreCalibration.create_from_file``)
* ``{"$thresholding": threshold}``
* ``{"$regex": [pattern, vocab_path]}``, ``{"$bert": vocab_path}``,
  ``{"$sentence_piece": [model_path, vocab_path_or_null]}``
* ``{"$order": "SCORE_LOCATION"}`` (a ``RawDetectionOutputTensorsOrder`` member)
* ``{"$custom": [name, hex_data]}`` (a ``CustomMetadataMd`` subclass giving that data)
* ``{"$anchors": [[x_center, y_center, width, height], ...]}`` (``SsdAnchorsOptions``
  of ``FixedAnchor``s), ``{"$decoding": [num_classes, ..., sigmoid_score]}``
  (``TensorsDecodingOptions``, positional), ``{"$activation": "SIGMOID"}``

:func:`run_case` takes the modules to use (MediaPipe's or ours) and returns what
populating gives: the model and the JSON string ``populate()`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

#: Packed files up to this size are given whole in a summary; larger ones by SHA-256.
SMALL_FILE = 4096


def decode(value: Any, modules: Mapping[str, ModuleType]) -> Any:
    """``value`` with its tagged objects made with ``modules``' classes."""
    writer = modules["metadata_writer"]
    info = modules["metadata_info"]
    if isinstance(value, list):
        return [decode(item, modules) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, body),) = value.items()
        if tag == "$labels":
            labels = writer.Labels()
            for step in body:
                getattr(labels, step[0])(*step[1:])
            return labels
        if tag == "$calibration":
            kind, rows, default = body
            parameters = [
                None if row is None else writer.CalibrationParameter(*row) for row in rows
            ]
            return writer.ScoreCalibration(kind, parameters, default)
        if tag == "$calibration_file":
            kind, path, default = body
            return writer.ScoreCalibration.create_from_file(kind, path, default)
        if tag == "$thresholding":
            return writer.ScoreThresholding(body)
        if tag == "$regex":
            return writer.RegexTokenizer(*body)
        if tag == "$bert":
            return writer.BertTokenizer(body)
        if tag == "$sentence_piece":
            return writer.SentencePieceTokenizer(*body)
        if tag == "$order":
            return getattr(info.RawDetectionOutputTensorsOrder, body)
        if tag == "$custom":
            name, data = body
            return _custom_metadata_md(modules, name, bytes.fromhex(data))
        if tag == "$anchors":
            detector = modules["object_detector"]
            anchors = [detector.FixedAnchor(*anchor) for anchor in body]
            return detector.SsdAnchorsOptions(detector.FixedAnchorsSchema(anchors))
        if tag == "$decoding":
            return modules["object_detector"].TensorsDecodingOptions(*body)
        if tag == "$activation":
            return modules["image_segmenter"].Activation[body]
    return {key: decode(item, modules) for key, item in value.items()}


def _custom_metadata_md(modules: Mapping[str, ModuleType], name: str, data: bytes) -> Any:
    info = modules["metadata_info"]
    schema = modules["metadata_schema"]

    class _Custom(info.CustomMetadataMd):  # type: ignore[misc, name-defined]
        def create_metadata(self) -> Any:
            custom = schema.CustomMetadataT()
            custom.name = self.name
            custom.data = list(data)
            return custom

    return _Custom(name)


def run_case(case: Mapping[str, Any], modules: Mapping[str, ModuleType]) -> tuple[Any, str]:
    """Make the case's writer, make its calls and populate: ``(model, json)``."""
    with open(case["model"], "rb") as file:
        model = bytearray(file.read())
    module_name, class_name, method = case["factory"]
    factory = getattr(getattr(modules[module_name], class_name), method)
    args = decode(case.get("args", []), modules)
    kwargs = decode(case.get("kwargs", {}), modules)
    writer = factory(model, *args, **kwargs)
    for name, call_args, call_kwargs in case.get("calls", []):
        writer = getattr(writer, name)(*decode(call_args, modules), **decode(call_kwargs, modules))
    result = writer.populate()
    populated, json_text = result
    return populated, json_text


def summary(populated: Any, json_text: str, metadata_buffer: bytes) -> dict[str, Any]:
    """What a populated model holds, for comparison: metadata, its JSON, the packed files."""
    import hashlib
    import io
    import zipfile

    files: dict[str, str] = {}
    stream = io.BytesIO(bytes(populated))
    if not zipfile.is_zipfile(stream):  # no packed files
        return {"metadata": bytes(metadata_buffer).hex(), "json": json_text, "files": files}
    with zipfile.ZipFile(stream) as archive:
        for info in archive.infolist():
            data = archive.read(info)
            # Small files whole (to compare them byte for byte), large ones by digest.
            files[info.filename] = (
                data.hex()
                if len(data) <= SMALL_FILE
                else "sha256:" + hashlib.sha256(data).hexdigest()
            )
    return {"metadata": bytes(metadata_buffer).hex(), "json": json_text, "files": files}


def outcome(case: Mapping[str, Any], modules: Mapping[str, ModuleType], metadata_of: Any) -> Any:
    """:func:`summary` of the case's result, or ``{"error": ...}`` when a call raised."""
    try:
        populated, json_text = run_case(case, modules)
    except Exception as exc:  # each case reports its own failure
        return {"error": f"{type(exc).__name__}: {exc}"}
    if case.get("save"):  # the populated model, for the consumers
        with open(case["save"], "wb") as file:
            file.write(bytes(populated))
    return summary(populated, json_text, metadata_of(populated))


# -- the public interface, to compare names, signatures and defaults ---------------------------


def _parameters(function: Any) -> Any:
    """``[[name, kind, repr(default)], ...]`` of a callable, None when it has no signature."""
    import inspect

    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in signature.parameters.values()
        if p.name not in ("self", "cls")
    ]


def interface(module: ModuleType, names: Any = None) -> dict[str, Any]:
    """The signatures of a module's public functions, classes and their methods.

    With ``names`` (another module's interface), those names, looked up here;
    else the names the module defines itself. A name the module lacks maps to
    ``"missing"``.
    """
    import enum
    import inspect

    if names is None:
        names = []
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            names.append(name)
            if inspect.isclass(value) and not issubclass(value, enum.Enum):
                for member, attribute in vars(value).items():
                    function = getattr(attribute, "__func__", attribute)
                    if callable(function) and (member == "__init__" or not member.startswith("_")):
                        names.append(f"{name}.{member}")
            elif inspect.isclass(value):
                names.extend(f"{name}.{member.name}" for member in value)
    table: dict[str, Any] = {}
    for name in names:
        value: Any = module
        for part in name.split("."):
            value = getattr(value, part, "missing")
            if value == "missing":
                break
        if value == "missing":
            table[name] = "missing"
        elif isinstance(value, enum.Enum):
            table[name] = ["member", value.value]
        elif callable(value):
            table[name] = _parameters(value)
        else:
            table[name] = repr(value)
    return table
