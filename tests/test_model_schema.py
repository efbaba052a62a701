"""The TFLite model schema declaration and ``tflite_metadata.schema_py_generated``.

Checked against tflite-support 0.4.4's generated ``schema_py_generated``: the
same names, enum values and object-API defaults (ours a superset); for random
object trees of 0.4.4's classes, byte-identical ``Pack`` output, identical
decoding of each other's buffers and identical accessor values, with numpy and
without; and identical ``ModelT`` trees for real models.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import flatbuffers
import pytest

import consumer_env
import model_schema_trees as trees
import shared_data
from tflite_metadata import schema_py_generated as ours
from tflite_metadata.errors import ModelFormatError
from tflite_metadata.format import model_schema

pytestmark = pytest.mark.reference

TESTDATA = shared_data.TESTDATA / "tflite-support"
HERE = Path(__file__).resolve().parent
#: Random trees checked in this process (numpy importable) and in a child without numpy.
TREES_WITH_NUMPY = 200
TREES_WITHOUT_NUMPY = 200


def reference() -> Any:
    try:
        return trees.reference_module()
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tensorflow_lite_support)")


def _public(module: Any) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    }


# -- the declaration --------------------------------------------------------------------


def test_every_reference_name_exists() -> None:
    theirs = reference()
    public = _public(theirs)
    assert len(public) > 800
    assert sorted(name for name in public if not hasattr(ours, name)) == []


def test_functions_take_flatcs_parameter_names() -> None:
    """``TensorAddBuffer(builder, buffer=…)``, ``TensorStartShapeVector(builder, numElems=…)``."""
    import inspect

    theirs = reference()
    functions = {n: v for n, v in _public(theirs).items() if inspect.isfunction(v)}
    assert len(functions) > 500
    differ = {
        name: (str(inspect.signature(getattr(ours, name))), str(inspect.signature(function)))
        for name, function in functions.items()
        if inspect.signature(getattr(ours, name)) != inspect.signature(function)
    }
    assert differ == {}
    builder = flatbuffers.Builder(0)
    ours.TensorStartShapeVector(builder, numElems=2)


def test_enums_and_unions_extend_the_references() -> None:
    theirs = reference()
    classes = [n for n, v in _public(theirs).items() if isinstance(v, type) and n[-1] != "T"]
    constants = [n for n in classes if not hasattr(getattr(theirs, n), "Init")]
    assert "TensorType" in constants and "BuiltinOptions" in constants
    for name in constants:
        their_values = {k: v for k, v in vars(getattr(theirs, name)).items() if k[0] != "_"}
        my_values = {k: v for k, v in vars(getattr(ours, name)).items() if k[0] != "_"}
        assert {k: my_values.get(k) for k in their_values} == their_values, name


def test_the_schema_is_newer_than_the_references() -> None:
    assert {"offset", "size"} <= set(vars(ours.BufferT()))
    assert ours.OperatorT().builtinOptions2Type == 0
    assert ours.BuiltinOptions2.StablehloConcatenateOptions == 1
    assert ours.BuiltinOperator.STABLEHLO_ADD == 163
    assert ours.TensorType.FLOAT8_E5M2 == 22
    assert ours.QuantizationDetails.MultiAxisQuantization == 3


def test_object_defaults_match_the_references() -> None:
    theirs = reference()
    tables = [n[:-1] for n, v in _public(theirs).items() if isinstance(v, type) and n[-1] == "T"]
    assert len(tables) > 140
    for table in tables:
        their_object, my_object = getattr(theirs, table + "T")(), getattr(ours, table + "T")()
        for attribute, value in vars(their_object).items():
            mine = getattr(my_object, attribute)
            assert type(mine) is type(value) and mine == value, (table, attribute)


def test_field_ids_come_from_the_declaration() -> None:
    tensor = model_schema.TABLES["Tensor"]
    assert model_schema.TensorField.SHAPE_SIGNATURE == tensor.field("shape_signature").id == 7
    assert model_schema.OperatorField.BUILTIN_OPTIONS_TYPE == 3
    assert model_schema.OperatorField.BUILTIN_OPTIONS == 4
    assert model_schema.BufferField.SIZE == 2
    assert model_schema.SignatureDefField.DEPRECATED_TAG == 3
    assert model_schema.SignatureDefField.SUBGRAPH_INDEX == 4
    assert model_schema.ModelField.VERSION not in model_schema.MODEL_OFFSET_FIELDS
    assert model_schema.ModelField.METADATA in model_schema.MODEL_OFFSET_FIELDS
    assert model_schema.tensor_type_name(21) == "FLOAT8_E4M3FN"
    assert model_schema.tensor_type_name(99) == "99"


def test_deprecated_fields_keep_their_slot_and_have_no_attribute() -> None:
    signature = ours.SignatureDefT()
    signature.signatureKey = "serving_default"
    signature.subgraphIndex = 7
    assert not hasattr(signature, "deprecatedTag")
    builder = flatbuffers.Builder(0)
    builder.Finish(signature.Pack(builder))
    reader = ours.SignatureDef.GetRootAs(builder.Output(), 0)
    assert reader.SubgraphIndex() == 7
    assert reader._tab.field_pos(3) == 0 and reader._tab.field_pos(4) != 0


# -- random trees -------------------------------------------------------------------------


def _coverage(summary: dict[str, Any]) -> None:
    members = summary["members"]
    builtin = [m for m in members if m.startswith("BuiltinOptions.")]
    assert len(builtin) >= 40, builtin
    for member in (
        "QuantizationDetails.CustomQuantization",
        "SparseIndexVector.Int32Vector",
        "SparseIndexVector.Uint16Vector",
        "SparseIndexVector.Uint8Vector",
    ):
        assert members.get(member, 0) >= 1, member
    assert summary["accessor_calls"] > 10 * summary["trees"]
    # Besides the models: trees rooted at every one of 0.4.4's 143 tables, five each.
    assert summary["table_trees"] >= 5 * 143


def test_random_trees_pack_and_read_alike_with_numpy() -> None:
    reference()
    pytest.importorskip("numpy")
    summary = trees.run(0, TREES_WITH_NUMPY)
    assert summary["numpy"] and summary["reference_numpy"]
    # Both ways of giving a vector: a list (prepended one by one) and an array.
    assert summary["vector_kinds"]["numpy"] > 100 and summary["vector_kinds"]["list"] > 100
    _coverage(summary)


def test_random_trees_pack_and_read_alike_without_numpy(tmp_path: Path) -> None:
    """The numpy-less path of both sides: a child whose ``sys.path`` has no numpy."""
    theirs = reference()
    site = Path(flatbuffers.__file__).resolve().parent.parent
    reference_package = Path(theirs.__file__).resolve().parent.parent
    for package in (site / "flatbuffers", reference_package):
        (tmp_path / package.name).symlink_to(package)
    src = Path(ours.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(src), str(HERE)])}
    result = subprocess.run(
        [
            sys.executable,
            "-S",
            str(HERE / "model_schema_trees.py"),
            "1000",
            f"{TREES_WITHOUT_NUMPY}",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["trees"] == TREES_WITHOUT_NUMPY
    assert not summary["numpy"] and not summary["reference_numpy"]
    assert set(summary["vector_kinds"]) == {"list"}
    _coverage(summary)


def test_a_difference_is_caught() -> None:
    """The comparison fails on a tree that packs differently (the test can fail)."""
    theirs = reference()
    tree = trees.TreeMaker(theirs, random.Random(5)).table("Model")
    tree.version = 3
    mine = trees.to_ours(tree)
    mine.version = 4
    assert trees.pack(tree) != trees.pack(mine)
    with pytest.raises(AssertionError):
        trees.assert_same_tree(
            theirs.ModelT.InitFromPackedBuf(trees.pack(tree)),
            ours.ModelT.InitFromPackedBuf(trees.pack(mine)),
        )


# -- real models ------------------------------------------------------------------------


def _real_models() -> list[str]:
    found = sorted(str(p.relative_to(TESTDATA)) for p in TESTDATA.glob("**/*.tflite"))
    return found or ["(no shared test models)"]


@pytest.mark.parametrize("name", _real_models())
def test_real_models_decode_alike(name: str) -> None:
    theirs = reference()
    path = TESTDATA / name
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    pytest.importorskip("numpy")
    buf = path.read_bytes()
    their_tree = theirs.ModelT.InitFromObj(theirs.Model.GetRootAsModel(buf, 0))
    my_tree = ours.ModelT.InitFromObj(ours.Model.GetRootAsModel(buf, 0))
    trees.assert_same_tree(their_tree, my_tree)
    assert len(my_tree.subgraphs[0].tensors) > 10
    assert trees.pack(my_tree) == trees.pack(their_tree)


# -- our readers on bad input ------------------------------------------------------------


def test_readers_refuse_a_malformed_model() -> None:
    model = ours.ModelT()
    subgraph = ours.SubGraphT()
    subgraph.tensors = [ours.TensorT()]
    model.subgraphs = [subgraph]
    buf = bytearray(trees.pack(model))
    reader = ours.Model.GetRootAsModel(buf, 0)
    with pytest.raises(ModelFormatError, match="out of range"):
        reader.Subgraphs(1)
    buf[0:4] = (len(buf) + 100).to_bytes(4, "little")
    with pytest.raises(ModelFormatError):
        ours.ModelT.InitFromPackedBuf(bytes(buf))


# -- against LiteRT's schema ---------------------------------------------------------------


@pytest.mark.consumers
def test_the_declaration_is_litert_s_schema(tmp_path: Path) -> None:
    """Every table, field slot, default, vector layout, enum and union LiteRT's generated
    module has (ai-edge-litert 2.3.0) is declared here alike: the schema is the current one."""
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "LiteRT (ai-edge-litert)")
    assert python is not None
    theirs = consumer_env.run_runner(python, "litert_schema_runner.py", {}, tmp_path)
    declared = {**model_schema.ENUMS, **model_schema.UNIONS}
    assert set(theirs["constants"]) <= set(declared)
    for name, values in theirs["constants"].items():
        mine = getattr(ours, name)
        assert {k: getattr(mine, k, None) for k in values} == values, name
    assert len(theirs["tables"]) >= 170
    assert set(theirs["tables"]) <= set(model_schema.TABLES)
    for name, table in theirs["tables"].items():
        decl = model_schema.TABLES[name]
        assert table["slots"] == decl.slot_count, name
        adders, vectors = {}, {}
        for field in decl.live_fields:
            if field.kind == "union":
                adders[field.method_name + "Type"] = [field.id, 0.0]
                adders[field.method_name] = [field.id + 1, 0.0]
            else:
                adders[field.method_name] = [field.id, float(field.default)]
            if field.kind in ("scalars", "strings", "tables"):
                size = codec_size(field.type) if field.kind == "scalars" else 4
                vectors[field.method_name] = [size, size]
        assert table["adders"] == adders, name
        assert table["vectors"] == vectors, name
        assert vars(getattr(ours, name + "T")()) == table["attributes"], name


def codec_size(scalar_type: str) -> int:
    from tflite_metadata.format.flatbuf import SCALAR_STRUCTS

    return SCALAR_STRUCTS[scalar_type].size


def _walk(reader: Any, table: str) -> int:
    """Call every accessor of ``reader`` and of the tables it reaches; how many calls."""
    calls = 0
    for field in model_schema.TABLES[table].live_fields:
        method = getattr(reader, field.method_name)
        calls += 1
        if field.kind == "table":
            sub = method()
            if sub is not None:
                calls += _walk(sub, field.type)
        elif field.kind == "union":
            member = model_schema.UNIONS[field.type].member(
                getattr(reader, field.method_name + "Type")()
            )
            value = method()
            if value is not None and member in model_schema.TABLES:
                sub = getattr(ours, member)()
                sub.Init(value.Bytes, value.Pos)
                calls += _walk(sub, member)
        elif field.kind in ("scalars", "strings", "tables"):
            for j in range(getattr(reader, field.method_name + "Length")()):
                item = method(j)
                if field.kind == "tables":
                    calls += _walk(item, field.type)
        else:
            method()
    return calls


def test_damaged_models_raise_model_format_error_only() -> None:
    """Bytes flipped at random in packed trees: decoding and every accessor either work
    or raise ModelFormatError, never a raw struct.error, IndexError or a hang."""
    theirs = reference()
    rng = random.Random(13)
    outcomes = {"decoded": 0, "refused": 0}
    for seed in range(60):
        tree = trees.TreeMaker(theirs, random.Random(seed)).table("Model")
        clean = trees.pack(trees.to_ours(tree))
        for _ in range(5):
            damaged = bytearray(clean)
            for _ in range(rng.choice([1, 2, 8])):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            try:
                ours.ModelT.InitFromPackedBuf(bytes(damaged), 0)
                _walk(ours.Model.GetRootAsModel(bytes(damaged), 0), "Model")
            except ModelFormatError:
                outcomes["refused"] += 1
            else:
                outcomes["decoded"] += 1
    assert outcomes["refused"] > 20 and outcomes["decoded"] > 20, outcomes
