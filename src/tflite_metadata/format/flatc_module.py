"""flatc's Python module surface of a declared schema, assembled from its declarations.

:func:`export_schema` fills a namespace with every class and function that
flatc would generate for a schema, with flatc's names (``ModelMetadataT``,
``AssociatedFileType``, ``ModelMetadataStart`` …; ``ModelT``,
``BuiltinOptions``, ``BuiltinOptionsCreator``, ``TensorStartShapeVector`` …).

:data:`api` is the metadata schema's (``metadata_schema.fbs``): the writers
use it, and :mod:`tflite_metadata.metadata_schema_py_generated`, the drop-in at
tflite-support's import path, re-exports it. The model schema's is made by
:mod:`tflite_metadata.schema_py_generated` when it is imported.
"""

from __future__ import annotations

import keyword
import types
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from . import metadata_schema
from .codec import SLOT_METHODS, SchemaCodec, codec_for
from .declarations import Schema, TableDecl, UnionDecl
from .flatbuf import SCALAR_STRUCTS

if TYPE_CHECKING:  # pragma: no cover
    import flatbuffers

# ``flatbuffers`` (and numpy, which it imports when installed) is imported only
# where a buffer is built or a flatbuffers table is read: the reading commands
# and the descriptions' object-API values never need it.

__all__ = ["NAMES", "api", "export_metadata_schema", "export_schema", "model_schema_module"]


_Function = TypeVar("_Function", bound=Callable[..., Any])


def _as_flatc(function: _Function, name: str, *parameters: str) -> _Function:
    """``function`` named ``name``, its parameters named as flatc names them.

    flatc's functions take their arguments under the fields' names
    (``TensorAddBuffer(builder, buffer)``, ``TensorStartShapeVector(builder,
    numElems)``); callers may pass them by keyword.
    """
    code = function.__code__
    names = tuple(p + "_" if keyword.iskeyword(p) else p for p in parameters)
    assert len(names) == code.co_argcount
    renamed = types.FunctionType(
        code.replace(co_varnames=names + code.co_varnames[len(names) :], co_name=name),
        function.__globals__,
        name,
        function.__defaults__,
        function.__closure__,
    )
    renamed.__doc__ = function.__doc__
    renamed.__qualname__ = name
    return renamed  # type: ignore[return-value]


def _parameter(method_name: str) -> str:
    """flatc's parameter name for a field: its name in lower camel case."""
    return method_name[:1].lower() + method_name[1:]


def _constants(name: str, values: list[tuple[str, int]], doc: str) -> type:
    return type(name, (object,), {"__doc__": doc, **dict(values)})


def _creator(codec: SchemaCodec, union: UnionDecl) -> Callable[[int, Any], Any]:
    def create(union_type: int, table: Any) -> Any:
        from flatbuffers.table import Table

        if not isinstance(table, Table):
            return None
        member = union.member(union_type)
        if member is None or member not in codec.objects:
            return None
        return codec.objects[member].InitFromBuf(table.Bytes, table.Pos)

    create.__doc__ = f"The object-API value of a ``{union.name}`` union, or None."
    return _as_flatc(create, f"{union.name}Creator", "unionType", "table")


def _builder_functions(schema: Schema, decl: TableDecl) -> dict[str, Callable[..., Any]]:
    funcs: dict[str, Callable[..., Any]] = {}
    slots = decl.slot_count

    def start(builder: flatbuffers.Builder) -> None:
        builder.StartObject(slots)

    def end(builder: flatbuffers.Builder) -> int:
        return int(builder.EndObject())

    funcs[f"{decl.name}Start"] = _as_flatc(start, f"{decl.name}Start", "builder")
    for fdecl in decl.live_fields:
        add_name = f"{decl.name}Add{fdecl.method_name}"
        parameter = _parameter(fdecl.method_name)
        if fdecl.kind in ("scalar", "enum"):
            method = SLOT_METHODS[schema.scalar_type(fdecl)]
            funcs[add_name] = _scalar_adder(method, fdecl.id, fdecl.default)
        elif fdecl.kind == "union":
            add_type = _scalar_adder("PrependUint8Slot", fdecl.id, 0)
            funcs[f"{add_name}Type"] = _as_flatc(
                add_type, f"{add_name}Type", "builder", f"{parameter}Type"
            )
            funcs[add_name] = _offset_adder(fdecl.id + 1)
        else:
            funcs[add_name] = _offset_adder(fdecl.id)
        funcs[add_name] = _as_flatc(funcs[add_name], add_name, "builder", parameter)
        if fdecl.kind in ("scalars", "strings", "tables"):
            # flatc's Python ignores ``force_align``: elements align to their own size.
            size = SCALAR_STRUCTS[fdecl.type].size if fdecl.kind == "scalars" else 4
            starter = f"{decl.name}Start{fdecl.method_name}Vector"
            funcs[starter] = _as_flatc(_vector_starter(size), starter, "builder", "numElems")
    funcs[f"{decl.name}End"] = _as_flatc(end, f"{decl.name}End", "builder")
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


def export_schema(schema: Schema, namespace: dict[str, Any]) -> list[str]:
    """Fill ``namespace`` with every class and function flatc would generate for ``schema``.

    Returns:
        The names added, for ``__all__``.
    """
    codec = codec_for(schema)
    before = set(namespace)
    for enum in schema.enums.values():
        namespace[enum.name] = _constants(
            enum.name, list(enum.values), f"Values of the ``{enum.name}`` enum."
        )
    for union in schema.unions.values():
        members = [("NONE", 0)] + [(m, i + 1) for i, m in enumerate(union.members)]
        namespace[union.name] = _constants(
            union.name, members, f"Type values of the ``{union.name}`` union."
        )
        namespace[f"{union.name}Creator"] = _creator(codec, union)
    for decl in schema.tables.values():
        namespace[decl.name] = codec.readers[decl.name]
        namespace[f"{decl.name}T"] = codec.objects[decl.name]
        namespace.update(_builder_functions(schema, decl))
    return sorted(set(namespace) - before)


def export_metadata_schema(namespace: dict[str, Any]) -> list[str]:
    """:func:`export_schema` for the metadata schema."""
    return export_schema(metadata_schema.SCHEMA, namespace)


_NAMES: dict[str, Any] = {}
#: The names flatc's module would have, in order.
NAMES = export_metadata_schema(_NAMES)
#: flatc's module for the metadata schema, as one namespace (``api.ModelMetadataT`` …).
api = types.SimpleNamespace(**_NAMES)


def model_schema_module() -> dict[str, Any]:
    """flatc's module for the TFLite model schema (``schema.fbs``), made on first call.

    Returns:
        Every name flatc's module would have (``ModelT``, ``TensorType``,
        ``BuiltinOptionsCreator``, ``TensorStartShapeVector`` …), in name order.
    """
    if not _MODEL_NAMES:
        from . import model_schema

        namespace: dict[str, Any] = {}
        for name in export_schema(model_schema.SCHEMA, namespace):
            _MODEL_NAMES[name] = namespace[name]
    return dict(_MODEL_NAMES)


_MODEL_NAMES: dict[str, Any] = {}
