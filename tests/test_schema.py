"""The metadata schema declarations and the flatc-compatible modules made from them.

Checked against tflite-support 0.4.4's generated ``metadata_schema_py_generated``:
the same names, enum values and object-API defaults, and, for random object trees
generated from our declarations, byte-identical ``Pack`` output and identical
decoding of each other's buffers.
"""

from __future__ import annotations

import math
from typing import Any

import flatbuffers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import consumer_env
from tflite_metadata import metadata_schema_py_generated as ours
from tflite_metadata.errors import MetadataFormatError
from tflite_metadata.format import codec
from tflite_metadata.format import metadata_schema as schema

pytestmark = pytest.mark.reference


def reference() -> Any:
    try:
        from tflite_support import metadata_schema_py_generated as theirs
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    return theirs


# -- the declarations -------------------------------------------------------------------


def test_every_reference_name_exists() -> None:
    theirs = reference()
    public = {
        n
        for n, v in vars(theirs).items()
        if not n.startswith("_") and getattr(v, "__module__", None) == theirs.__name__
    }
    assert len(public) > 100
    missing = sorted(n for n in public if not hasattr(ours, n))
    assert missing == []


def test_functions_take_flatcs_parameter_names() -> None:
    """``ModelMetadataAddName(builder, name=…)``, as flatc's module."""
    import inspect

    theirs = reference()
    functions = {
        n: v
        for n, v in vars(theirs).items()
        if inspect.isfunction(v) and v.__module__ == theirs.__name__ and not n.startswith("_")
    }
    assert len(functions) > 100
    differ = {
        name: (str(inspect.signature(getattr(ours, name))), str(inspect.signature(function)))
        for name, function in functions.items()
        if inspect.signature(getattr(ours, name)) != inspect.signature(function)
    }
    assert differ == {}


def test_enums_and_unions_have_the_reference_values() -> None:
    theirs = reference()
    for name in [*schema.ENUMS, *schema.UNIONS]:
        expected = {k: v for k, v in vars(getattr(theirs, name)).items() if not k.startswith("_")}
        actual = {k: v for k, v in vars(getattr(ours, name)).items() if not k.startswith("_")}
        assert actual == expected, name


def test_object_api_defaults_match() -> None:
    theirs = reference()
    for name in schema.TABLES:
        assert vars(getattr(ours, name + "T")()) == vars(getattr(theirs, name + "T")()), name


def test_reader_methods_exist() -> None:
    theirs = reference()
    for name in schema.TABLES:
        expected = {m for m in dir(getattr(theirs, name)) if not m.startswith("_")}
        expected -= {m for m in expected if m.endswith("AsNumpy")}
        actual = set(dir(getattr(ours, name)))
        assert expected - actual == set(), name


# -- random object trees ------------------------------------------------------------------

_INT_RANGES = {
    "byte": (-128, 127),
    "ubyte": (0, 255),
    "int": (-(2**31), 2**31 - 1),
    "uint": (0, 2**32 - 1),
}
_floats = st.floats(width=32, allow_nan=False) | st.sampled_from([0.0, -0.0, 1e-45, 3.4e38])
_text = st.text(max_size=12)


def _scalar(kind: str) -> st.SearchStrategy[Any]:
    if kind == "float":
        return _floats
    low, high = _INT_RANGES[kind]
    return st.integers(low, high)


def _field_value(decl: schema.FieldDecl, depth: int) -> st.SearchStrategy[Any]:
    kind = decl.kind
    if kind == "scalar":
        return _scalar(decl.type)
    if kind == "enum":
        enum = schema.ENUMS[decl.type]
        return st.sampled_from([v for _, v in enum.values]) | _scalar(enum.base)
    if kind == "string":
        return st.none() | _text
    if kind == "scalars":
        return st.none() | st.lists(_scalar(decl.type), max_size=4)
    if kind == "strings":
        return st.none() | st.lists(_text, max_size=3)
    if depth > 3:
        return st.none()
    if kind == "table":
        return st.none() | table_objects(decl.type, depth + 1)
    if kind == "tables":
        return st.none() | st.lists(table_objects(decl.type, depth + 1), max_size=2)
    raise AssertionError(kind)  # unions are drawn in table_objects


@st.composite
def table_objects(draw: st.DrawFn, name: str, depth: int = 0) -> Any:
    decl = schema.TABLES[name]
    obj = codec.object_class(name)()
    for fdecl in decl.fields:
        if fdecl.kind == "union":
            union = schema.UNIONS[fdecl.type]
            type_value = draw(st.integers(0, len(union.members)))
            member = union.member(type_value)
            value = None
            if member is not None and depth <= 3:
                value = draw(table_objects(member, depth + 1))
            setattr(obj, fdecl.python_name + "Type", type_value if value is not None else 0)
            setattr(obj, fdecl.python_name, value)
        else:
            setattr(obj, fdecl.python_name, draw(_field_value(fdecl, depth)))
    return obj


def to_reference(obj: Any, theirs: Any) -> Any:
    """The same tree built from tflite-support's classes."""
    if obj is None:
        return None
    copy = getattr(theirs, type(obj).__name__)()
    for key, value in vars(obj).items():
        if isinstance(value, list):
            value = [to_reference(v, theirs) if hasattr(v, "_decl") else v for v in value]
        elif hasattr(value, "_decl"):
            value = to_reference(value, theirs)
        setattr(copy, key, value)
    return copy


def pack(obj: Any) -> bytes:
    builder = flatbuffers.Builder(0)
    builder.Finish(obj.Pack(builder), b"M001")
    return bytes(builder.Output())


def normalized(obj: Any) -> Any:
    """An object tree as plain data: strings as bytes, floats as float32, numpy as lists."""
    if obj is None or isinstance(obj, (int, bytes)):
        return obj
    if isinstance(obj, str):
        return obj.encode("utf-8")
    if isinstance(obj, float):
        import struct

        value = struct.unpack("<f", struct.pack("<f", obj))[0]
        return ("float", value, math.copysign(1.0, value))
    if hasattr(obj, "tolist"):
        return [normalized(v) for v in obj.tolist()]
    if isinstance(obj, list):
        return [normalized(v) for v in obj]
    return (type(obj).__name__, {k: normalized(v) for k, v in sorted(vars(obj).items())})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_objects("ModelMetadata"))
def test_pack_is_byte_identical_and_decoding_agrees(obj: Any) -> None:
    theirs = reference()
    reference_obj = to_reference(obj, theirs)
    buffer = pack(obj)
    assert buffer == pack(reference_obj)
    decoded = codec.decode(buffer)
    their_decoded = theirs.ModelMetadataT.InitFromObj(
        theirs.ModelMetadata.GetRootAsModelMetadata(buffer, 0)
    )
    assert normalized(decoded) == normalized(their_decoded)
    assert pack(decoded) == buffer


def test_readers_match_the_reference_on_a_written_buffer() -> None:
    theirs = reference()
    obj = ours.ModelMetadataT()
    obj.name = "model"
    subgraph = ours.SubGraphMetadataT()
    tensor = ours.TensorMetadataT()
    tensor.name = "scores"
    stats = ours.StatsT()
    stats.max, stats.min = [1.0], [0.0]
    tensor.stats = stats
    subgraph.outputTensorMetadata = [tensor]
    obj.subgraphMetadata = [subgraph]
    buffer = pack(obj)
    mine = ours.ModelMetadata.GetRootAsModelMetadata(buffer, 0)
    yours = theirs.ModelMetadata.GetRootAsModelMetadata(buffer, 0)
    assert ours.ModelMetadata.ModelMetadataBufferHasIdentifier(buffer, 0)
    assert mine.Name() == yours.Name() == b"model"
    assert mine.SubgraphMetadataLength() == yours.SubgraphMetadataLength() == 1
    mine_tensor = mine.SubgraphMetadata(0).OutputTensorMetadata(0)
    yours_tensor = yours.SubgraphMetadata(0).OutputTensorMetadata(0)
    assert mine_tensor.Name() == yours_tensor.Name()
    assert mine_tensor.Stats().Max(0) == yours_tensor.Stats().Max(0) == 1.0
    assert mine.SubgraphMetadata(0).InputTensorMetadataLength() == 0


def test_readers_bounds_check() -> None:
    buffer = bytearray(pack(ours.ModelMetadataT()))
    buffer[0:4] = (len(buffer) + 100).to_bytes(4, "little")
    with pytest.raises(MetadataFormatError, match="past the end"):
        ours.ModelMetadata.GetRootAsModelMetadata(bytes(buffer), 0)
