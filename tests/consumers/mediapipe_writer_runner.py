"""Run metadata-writer cases through MediaPipe's own writers.

Run with the MediaPipe environment's Python:

    python mediapipe_writer_runner.py REQUEST.json

The request holds ``extension``, the path of tflite-support's
``_pywrap_metadata_version`` extension, and ``cases`` (see ``mp_writer_cases.py``).
The answer is one JSON line on stdout, after a marker: one outcome per case (or,
for a request with ``interface``, a list of module names, those modules' names and
signatures: see ``mp_writer_cases.interface``).

The published mediapipe wheel cannot import its metadata writers: their
``mediapipe.tasks.cc.metadata.python._pywrap_metadata_version`` extension is
missing from it. tflite-support's extension of the same name exports the same
function (``GetMinimumMetadataParserVersion``, over the same metadata schema), so
this test runner loads it under MediaPipe's module name before importing the
writers. Only here, for the reference run: never in the product.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
import types

import mp_writer_cases

MARKER = "@@tflite-metadata-result@@"
EXTENSION_NAME = "mediapipe.tasks.cc.metadata.python._pywrap_metadata_version"


def provide_extension(path: str) -> None:
    """Load tflite-support's extension at ``path`` as MediaPipe's missing one."""
    import mediapipe.tasks  # the real parent packages first

    loader = importlib.machinery.ExtensionFileLoader(EXTENSION_NAME, path)
    spec = importlib.util.spec_from_file_location(EXTENSION_NAME, path, loader=loader)
    assert spec is not None
    extension = importlib.util.module_from_spec(spec)
    loader.exec_module(extension)
    parent: types.ModuleType = mediapipe.tasks
    parts = EXTENSION_NAME.split(".")
    for depth in range(3, len(parts)):
        name = ".".join(parts[:depth])
        package = sys.modules.get(name)
        if package is None:
            package = types.ModuleType(name)
            package.__path__ = []
            sys.modules[name] = package
        setattr(parent, parts[depth - 1], package)
        parent = package
    sys.modules[EXTENSION_NAME] = extension
    setattr(parent, parts[-1], extension)


def main() -> None:
    with open(sys.argv[1]) as file:
        request = json.load(file)
    provide_extension(request["extension"])
    from mediapipe.tasks.metadata import metadata_schema_py_generated
    from mediapipe.tasks.python.metadata import metadata
    from mediapipe.tasks.python.metadata.metadata_writers import (
        image_classifier,
        image_segmenter,
        metadata_info,
        metadata_writer,
        object_detector,
        text_classifier,
    )

    modules = {
        "metadata_writer": metadata_writer,
        "metadata_info": metadata_info,
        "metadata_schema": metadata_schema_py_generated,
        "image_classifier": image_classifier,
        "image_segmenter": image_segmenter,
        "object_detector": object_detector,
        "text_classifier": text_classifier,
    }
    if request.get("interface"):  # the modules' names and signatures instead
        import importlib

        prefix = "mediapipe.tasks.python.metadata."
        answer = {
            name: mp_writer_cases.interface(importlib.import_module(prefix + name))
            for name in request["interface"]
        }
        print(MARKER + json.dumps(answer), flush=True)
        return
    outcomes = [
        mp_writer_cases.outcome(case, modules, metadata.get_metadata_buffer)
        for case in request["cases"]
    ]
    print(MARKER + json.dumps(outcomes), flush=True)


if __name__ == "__main__":
    main()
