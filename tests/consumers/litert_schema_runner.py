"""Describe LiteRT's generated model schema module (``ai_edge_litert.schema_py_generated``).

Run with the MediaPipe environment's Python (it has ``ai-edge-litert``):

    python litert_schema_runner.py REQUEST.json

The request is ignored (``{}``). The answer is one JSON line on stdout, after a
marker: ``{"constants": {class: {name: value}}, "tables": {table: {"slots": N,
"adders": {field method: [slot, default]}, "vectors": {field method: [element
size, alignment]}, "attributes": {attribute: default}}}}``, read from the
generated functions' code and from a fresh ``…T()`` object, so that the test can
hold our declaration of the schema against the one LiteRT ships.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from typing import Any

from ai_edge_litert import schema_py_generated as generated

MARKER = "@@tflite-metadata-result@@"


def describe() -> dict[str, Any]:
    constants: dict[str, dict[str, int]] = {}
    tables: dict[str, dict[str, Any]] = {}
    for name, value in vars(generated).items():
        if not isinstance(value, type) or value.__module__ != generated.__name__:
            continue
        if name.endswith("T") and hasattr(value, "Pack"):
            table = name[:-1]
            start = inspect.getsource(getattr(generated, table + "Start"))
            slots = int(re.search(r"StartObject\((\d+)\)", start).group(1))  # type: ignore[union-attr]
            adders: dict[str, list[Any]] = {}
            vectors: dict[str, list[int]] = {}
            for function_name, function in vars(generated).items():
                if function_name.startswith(table + "Add") and callable(function):
                    code = inspect.getsource(function)
                    found = re.search(r"Slot\((\d+), [^,]+, ([^)]+)\)", code)
                    if found:
                        adders[function_name[len(table) + 3 :]] = [
                            int(found.group(1)),
                            float(found.group(2)),
                        ]
                vector = re.fullmatch(re.escape(table) + r"Start(\w+)Vector", function_name)
                if vector and callable(function):
                    sizes = re.search(
                        r"StartVector\((\d+), numElems, (\d+)\)", inspect.getsource(function)
                    )
                    vectors[vector.group(1)] = [int(sizes.group(1)), int(sizes.group(2))]  # type: ignore[union-attr]
            attributes = vars(value())
            tables[table] = {
                "slots": slots,
                "adders": adders,
                "vectors": vectors,
                "attributes": attributes,
            }
        elif not hasattr(value, "Init"):
            constants[name] = {k: v for k, v in vars(value).items() if not k.startswith("_")}
    return {"constants": constants, "tables": tables}


if __name__ == "__main__":
    with open(sys.argv[1]) as request:
        json.load(request)  # nothing to read in it
    print(MARKER + json.dumps(describe()))
