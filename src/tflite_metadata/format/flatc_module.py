"""flatc's Python module surface of the metadata schema, assembled from its declarations.

:data:`api` holds every class and function that flatc would generate for
``metadata_schema.fbs``, with flatc's names (``ModelMetadataT``,
``AssociatedFileType``, ``ModelMetadataStart`` …). The writers use it;
:mod:`tflite_metadata.metadata_schema_py_generated`, the drop-in at
tflite-support's import path, re-exports it.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any, Callable

from . import codec
from . import metadata_schema as schema

if TYPE_CHECKING:  # pragma: no cover
    import flatbuffers

# ``flatbuffers`` (and numpy, which it imports when installed) is imported only
# where a buffer is built or a flatbuffers table is read: the reading commands
# and the descriptions' object-API values never need it.


def _constants(name: str, values: list[tuple[str, int]], doc: str) -> type:
    return type(name, (object,), {"__doc__": doc, **dict(values)})


def _creator(union: schema.UnionDecl) -> Callable[[int, Any], Any]:
    def create(union_type: int, table: Any) -> Any:
        from flatbuffers.table import Table

        if not isinstance(table, Table):
            return None
        member = union.member(union_type)
        if member is None:
            return None
        return codec.object_class(member).InitFromBuf(table.Bytes, table.Pos)

    create.__name__ = f"{union.name}Creator"
    create.__doc__ = f"The object-API value of a ``{union.name}`` union, or None."
    return create


def _builder_functions(decl: schema.TableDecl) -> dict[str, Callable[..., Any]]:
    funcs: dict[str, Callable[..., Any]] = {}
    slots = decl.slot_count

    def start(builder: flatbuffers.Builder) -> None:
        builder.StartObject(slots)

    def end(builder: flatbuffers.Builder) -> int:
        return int(builder.EndObject())

    funcs[f"{decl.name}Start"] = start
    funcs[f"{decl.name}End"] = end
    for fdecl in decl.fields:
        add_name = f"{decl.name}Add{fdecl.method_name}"
        if fdecl.kind in ("scalar", "enum"):
            stype = schema.ENUMS[fdecl.type].base if fdecl.kind == "enum" else fdecl.type
            funcs[add_name] = _scalar_adder(codec.SLOT_METHODS[stype], fdecl.id, fdecl.default)
        elif fdecl.kind == "union":
            funcs[f"{add_name}Type"] = _scalar_adder("PrependUint8Slot", fdecl.id, 0)
            funcs[add_name] = _offset_adder(fdecl.id + 1)
        else:
            funcs[add_name] = _offset_adder(fdecl.id)
        if fdecl.kind in ("scalars", "strings", "tables"):
            size = 1 if fdecl.kind == "scalars" and fdecl.type == "ubyte" else 4
            funcs[f"{decl.name}Start{fdecl.method_name}Vector"] = _vector_starter(size)
    return funcs


def _scalar_adder(method: str, slot: int, default: int | float) -> Callable[..., None]:
    def add(builder: flatbuffers.Builder, value: Any) -> None:
        getattr(builder, method)(slot, value, default)

    return add


def _offset_adder(slot: int) -> Callable[..., None]:
    def add(builder: flatbuffers.Builder, value: int) -> None:
        from flatbuffers.number_types import UOffsetTFlags

        builder.PrependUOffsetTRelativeSlot(slot, UOffsetTFlags.py_type(value), 0)

    return add


def _vector_starter(size: int) -> Callable[..., Any]:
    def start(builder: flatbuffers.Builder, count: int) -> Any:
        return builder.StartVector(size, count, size)

    return start


def export_metadata_schema(namespace: dict[str, Any]) -> list[str]:
    """Fill ``namespace`` with every class and function flatc would generate.

    Returns:
        The names added, for ``__all__``.
    """
    before = set(namespace)
    for enum in schema.ENUMS.values():
        namespace[enum.name] = _constants(
            enum.name, list(enum.values), f"Values of the ``{enum.name}`` enum."
        )
    for union in schema.UNIONS.values():
        members = [("NONE", 0)] + [(m, i + 1) for i, m in enumerate(union.members)]
        namespace[union.name] = _constants(
            union.name, members, f"Type values of the ``{union.name}`` union."
        )
        namespace[f"{union.name}Creator"] = _creator(union)
    for decl in schema.TABLES.values():
        namespace[decl.name] = codec.reader_class(decl.name)
        namespace[f"{decl.name}T"] = codec.object_class(decl.name)
        namespace.update(_builder_functions(decl))
    return sorted(set(namespace) - before)


_NAMES: dict[str, Any] = {}
#: The names flatc's module would have, in order.
NAMES = export_metadata_schema(_NAMES)
#: flatc's module for the metadata schema, as one namespace (``api.ModelMetadataT`` …).
api = types.SimpleNamespace(**_NAMES)
