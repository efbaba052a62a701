"""Random TFLite model object trees, and comparisons against tflite-support 0.4.4.

Shared by ``tests/test_model_schema.py`` and the child process it runs with numpy
hidden (to exercise the object API's numpy-less path on both sides): a tree is
made with 0.4.4's classes (so that it holds only what they can express), copied
into ours, and both are packed, decoded and read back through the accessors.

Run as a script (``python model_schema_trees.py FIRST_SEED COUNT``), it checks
COUNT trees and prints a JSON summary.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from collections import Counter
from typing import Any

import flatbuffers

from tflite_metadata import schema_py_generated as ours
from tflite_metadata.format import model_schema
from tflite_metadata.format.codec import NUMPY_DTYPES
from tflite_metadata.format.declarations import FieldDecl

try:
    import numpy
except ImportError:
    numpy = None

#: How deep a tree goes (Model > SubGraph > Tensor > SparsityParameters > DimensionMetadata
#: > Int32Vector is 6); beyond, sub-tables are left out.
MAX_DEPTH = 7

_RANGES = {
    "byte": (-(2**7), 2**7 - 1),
    "ubyte": (0, 2**8 - 1),
    "short": (-(2**15), 2**15 - 1),
    "ushort": (0, 2**16 - 1),
    "int": (-(2**31), 2**31 - 1),
    "uint": (0, 2**32 - 1),
    "long": (-(2**63), 2**63 - 1),
    "ulong": (0, 2**64 - 1),
}


def reference_module() -> Any:
    """tflite-support 0.4.4's generated model schema module."""
    from tensorflow_lite_support.metadata import schema_py_generated

    return schema_py_generated


class TreeMaker:
    """Random object trees of 0.4.4's classes, driven by our declaration.

    Args:
        theirs: 0.4.4's module.
        rng: the source of randomness (seeded by the caller).
    """

    def __init__(self, theirs: Any, rng: random.Random) -> None:
        self.theirs = theirs
        self.rng = rng
        #: Which union members the trees hold, by union name.
        self.members: Counter[tuple[str, str]] = Counter()
        #: How many vectors of scalars were numpy arrays, lists.
        self.vector_kinds: Counter[str] = Counter()

    def table(self, name: str, depth: int = 0) -> Any:
        """A random ``…T`` object of 0.4.4's class for table ``name``."""
        obj = getattr(self.theirs, name + "T")()
        present = vars(obj)
        for decl in model_schema.TABLES[name].live_fields:
            if decl.python_name not in present:
                continue  # newer than 0.4.4's schema
            if self.rng.random() < 0.3:
                continue  # left at its default (None for offsets)
            if decl.kind == "union":
                value = self._union(decl, depth)
                if value is not None:
                    setattr(obj, decl.python_name + "Type", value[0])
                    setattr(obj, decl.python_name, value[1])
                continue
            value = self._value(decl, depth)
            if decl.kind in ("scalar", "enum") and self.rng.random() < 0.25:
                # 0.4.4's own default, which its Pack leaves out: so must ours.
                value = present[decl.python_name]
            if value is not None or decl.kind not in ("scalar", "enum"):
                setattr(obj, decl.python_name, value)
        return obj

    def _union(self, decl: FieldDecl, depth: int) -> tuple[int, Any] | None:
        their_union = getattr(self.theirs, decl.type)
        members = sorted(
            (value, name) for name, value in vars(their_union).items() if not name.startswith("_")
        )
        type_value, member = self.rng.choice([m for m in members if m[0] != 0])
        if depth >= MAX_DEPTH:
            return None
        self.members[(decl.type, member)] += 1
        return type_value, self.table(member, depth + 1)

    def scalar(self, stype: str) -> Any:
        """A random value of scalar type ``stype``."""
        rng = self.rng
        if stype == "bool":
            return rng.random() < 0.5
        if stype == "float":
            return struct.unpack("<f", struct.pack("<f", rng.uniform(-1e6, 1e6)))[0]
        if stype == "double":
            return rng.uniform(-1e12, 1e12)
        low, high = _RANGES[stype]
        return rng.choice([low, high, 0, 1, rng.randint(low, high)])

    def _value(self, decl: FieldDecl, depth: int) -> Any:
        rng = self.rng
        kind = decl.kind
        if kind == "scalar":
            if rng.random() < 0.2:
                return decl.default
            return self.scalar(decl.type)
        if kind == "enum":
            values = [v for _, v in model_schema.ENUMS[decl.type].values]
            return rng.choice([*values, decl.default])
        if kind == "string":
            return rng.choice(["", "x", "tensor/name:0", "é ünïcode ✓", "a" * 40, b"raw bytes"])
        if kind == "table":
            return None if depth >= MAX_DEPTH else self.table(decl.type, depth + 1)
        if kind == "scalars":
            length = rng.choice([0, 1, 2, 3, 5, 17])
            items = [self.scalar(decl.type) for _ in range(length)]
            if numpy is not None and rng.random() < 0.4:
                self.vector_kinds["numpy"] += 1
                return numpy.array(items, dtype=NUMPY_DTYPES[decl.type])
            self.vector_kinds["list"] += 1
            return items
        if kind == "strings":
            return [rng.choice(["", "a", "bc"]) for _ in range(rng.randint(0, 3))]
        if depth >= MAX_DEPTH:
            return None
        return [self.table(decl.type, depth + 1) for _ in range(rng.choice([0, 1, 2, 3]))]


def to_ours(obj: Any) -> Any:
    """The same tree made of our classes (vectors and arrays shared, not copied)."""
    if isinstance(obj, list):
        return [to_ours(item) for item in obj]
    if type(obj).__name__.endswith("T") and hasattr(obj, "Pack"):
        copy = getattr(ours, type(obj).__name__)()
        for name, value in vars(obj).items():
            setattr(copy, name, to_ours(value))
        return copy
    return obj


def pack(tree: Any) -> bytes:
    """``tree`` packed with its own classes, finished with ``TFL3``."""
    builder = flatbuffers.Builder(0)
    builder.Finish(tree.Pack(builder), b"TFL3")
    return bytes(builder.Output())


def _is_array(value: object) -> bool:
    return numpy is not None and isinstance(value, numpy.ndarray)


def assert_same_tree(theirs: Any, mine: Any, where: str = "Model") -> None:
    """Two decoded trees hold the same values, of the same types.

    Our fields newer than 0.4.4's schema must hold their defaults.
    """
    if _is_array(theirs) or _is_array(mine):
        assert _is_array(theirs) and _is_array(mine), where
        assert theirs.dtype == mine.dtype, (where, theirs.dtype, mine.dtype)
        assert theirs.tolist() == mine.tolist(), where
        return
    if isinstance(theirs, list):
        assert isinstance(mine, list) and len(theirs) == len(mine), where
        for index, (a, b) in enumerate(zip(theirs, mine)):
            assert_same_tree(a, b, f"{where}[{index}]")
        return
    if hasattr(theirs, "Pack"):
        assert type(theirs).__name__ == type(mine).__name__, where
        for name, value in vars(theirs).items():
            assert_same_tree(value, getattr(mine, name), f"{where}.{name}")
        newer = set(vars(mine)) - set(vars(theirs))
        fresh = type(mine)()
        for name in newer:
            assert getattr(mine, name) == getattr(fresh, name), f"{where}.{name}"
        return
    assert type(theirs) is type(mine), (where, theirs, mine)
    assert theirs == mine, (where, theirs, mine)


def assert_same_readers(theirs: Any, mine: Any, table: str, where: str = "Model") -> int:
    """Every accessor 0.4.4's reader has gives the same value on ours; returns the calls made."""
    calls = 0
    decl = model_schema.TABLES[table]
    for fdecl in decl.live_fields:
        method = fdecl.method_name
        if not hasattr(theirs, method):
            continue
        here = f"{where}.{method}"
        kind = fdecl.kind
        if kind in ("scalar", "enum", "string"):
            a, b = getattr(theirs, method)(), getattr(mine, method)()
            assert type(a) is type(b) and a == b, (here, a, b)
            calls += 1
        elif kind == "table":
            a, b = getattr(theirs, method)(), getattr(mine, method)()
            assert (a is None) == (b is None), here
            if a is not None:
                calls += assert_same_readers(a, b, fdecl.type, here)
        elif kind == "union":
            type_value = getattr(theirs, method + "Type")()
            assert type_value == getattr(mine, method + "Type")(), here
            a, b = getattr(theirs, method)(), getattr(mine, method)()
            assert (a is None) == (b is None), here
            member = model_schema.UNIONS[fdecl.type].member(type_value)
            if a is not None and member is not None:
                assert a.Pos == b.Pos, here
                their_reader = getattr(reference_module(), member)()
                their_reader.Init(a.Bytes, a.Pos)
                my_reader = getattr(ours, member)()
                my_reader.Init(b.Bytes, b.Pos)
                calls += assert_same_readers(their_reader, my_reader, member, here)
        else:
            length = getattr(theirs, method + "Length")()
            assert length == getattr(mine, method + "Length")(), here
            assert getattr(theirs, method + "IsNone")() == getattr(mine, method + "IsNone")()
            for j in range(length):
                a, b = getattr(theirs, method)(j), getattr(mine, method)(j)
                if kind == "tables":
                    calls += assert_same_readers(a, b, fdecl.type, f"{here}({j})")
                else:
                    assert type(a) is type(b) and a == b, (f"{here}({j})", a, b)
                    calls += 1
            if kind == "scalars" and numpy is not None:
                a, b = getattr(theirs, method + "AsNumpy")(), getattr(mine, method + "AsNumpy")()
                if length or not getattr(theirs, method + "IsNone")():
                    assert a.dtype == b.dtype and a.tolist() == b.tolist(), here
                else:
                    assert a == b == 0, here
    return calls


def check_tree(theirs_module: Any, tree: Any) -> dict[str, int]:
    """Pack, decode and read one tree both ways; raise AssertionError on a difference."""
    their_bytes = pack(tree)
    my_tree = to_ours(tree)
    my_bytes = pack(my_tree)
    assert my_bytes == their_bytes
    # Each side decodes the other's buffer (the same bytes, read by different code).
    their_decoded = theirs_module.ModelT.InitFromPackedBuf(my_bytes, 0)
    my_decoded = ours.ModelT.InitFromPackedBuf(their_bytes, 0)
    assert_same_tree(their_decoded, my_decoded)
    via_reader = ours.ModelT.InitFromObj(ours.Model.GetRootAsModel(their_bytes, 0))
    assert_same_tree(their_decoded, via_reader)
    # Decoded trees hold numpy arrays where numpy is importable: they pack alike too.
    assert pack(my_decoded) == pack(their_decoded)
    assert ours.Model.ModelBufferHasIdentifier(their_bytes, 0)
    calls = assert_same_readers(
        theirs_module.Model.GetRootAsModel(my_bytes, 0),
        ours.Model.GetRootAsModel(their_bytes, 0),
        "Model",
    )
    return {"bytes": len(their_bytes), "accessor_calls": calls}


def check_every_table(theirs_module: Any, seed: int) -> int:
    """One random tree rooted at each of 0.4.4's tables, checked as :func:`check_tree`
    checks models; returns how many tables were checked."""
    names = [
        name[:-1]
        for name, value in vars(theirs_module).items()
        if name.endswith("T") and isinstance(value, type) and hasattr(value, "Pack")
    ]
    for offset, name in enumerate(names):
        maker = TreeMaker(theirs_module, random.Random(seed * 1000 + offset))
        tree = maker.table(name)
        their_bytes = pack(tree)
        my_bytes = pack(to_ours(tree))
        assert my_bytes == their_bytes, f"{name} (seed {seed})"
        their_class = getattr(theirs_module, name + "T")
        my_class = getattr(ours, name + "T")
        their_decoded = their_class.InitFromPackedBuf(my_bytes, 0)
        my_decoded = my_class.InitFromPackedBuf(their_bytes, 0)
        assert_same_tree(their_decoded, my_decoded, name)
        assert pack(my_decoded) == pack(their_decoded), name
        assert_same_readers(
            getattr(theirs_module, name).GetRootAs(my_bytes, 0),
            getattr(ours, name).GetRootAs(their_bytes, 0),
            name,
            name,
        )
    return len(names)


def run(first_seed: int, count: int, table_rounds: int = 5) -> dict[str, Any]:
    """Check ``count`` model trees seeded ``first_seed``, ``first_seed + 1`` …, then
    ``table_rounds`` trees rooted at each table; a summary."""
    theirs = reference_module()
    tables = sum(check_every_table(theirs, first_seed + r) for r in range(table_rounds))
    members: Counter[tuple[str, str]] = Counter()
    vector_kinds: Counter[str] = Counter()
    total_calls = 0
    sizes = []
    for seed in range(first_seed, first_seed + count):
        maker = TreeMaker(theirs, random.Random(seed))
        tree = maker.table("Model")
        try:
            result = check_tree(theirs, tree)
        except AssertionError as exc:
            raise AssertionError(f"tree of seed {seed}: {exc}") from exc
        members.update(maker.members)
        vector_kinds.update(maker.vector_kinds)
        total_calls += result["accessor_calls"]
        sizes.append(result["bytes"])
    return {
        "trees": count,
        "table_trees": tables,
        "numpy": numpy is not None,
        "reference_numpy": theirs.np is not None,
        "members": {f"{u}.{m}": n for (u, m), n in sorted(members.items())},
        "vector_kinds": dict(vector_kinds),
        "accessor_calls": total_calls,
        "largest": max(sizes),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]), int(sys.argv[2]))))
