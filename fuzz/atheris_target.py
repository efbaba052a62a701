"""Coverage-guided fuzzing of tflite-metadata with atheris, for long runs outside CI.

The same entry points and checks as ``tests/test_fuzz.py`` (see
``tests/fuzz_harness.py``), driven by libFuzzer instead of hypothesis. The first
byte of each input picks what the rest is taken as: a model, a metadata buffer,
a label file, a score calibration file, a CLI spec file or a ``.task`` bundle. Anything other than
success or a ``MetadataError`` is reported by libFuzzer as a crash, with the
input saved.

Usage (atheris needs a Python built with clang's libFuzzer, see its README)::

    pip install atheris
    mkdir -p fuzz/corpus
    python fuzz/atheris_target.py fuzz/corpus -max_len=65536 -timeout=20

Seed the corpus with small models for a faster start, e.g. the output of
``tflite-metadata demo -o fuzz/corpus/demo.tflite`` prefixed with a zero byte (a
bundle, from ``tflite-metadata bundle create``, prefixed with the byte 5).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

#: What the rest of an input is taken as, by its first byte (modulo).
TARGETS = ("model", "metadata", "label", "calibration", "spec", "bundle")

_seeds: dict[str, Any] = {}
_scratch = Path(tempfile.mkdtemp(prefix="tflite-metadata-atheris-"))


def test_one_input(data: bytes) -> None:
    """Run one input through every entry point; raise on anything but MetadataError."""
    import fuzz_harness

    if not data:
        return
    target = TARGETS[data[0] % len(TARGETS)]
    body = data[1:]
    if target == "model":
        case: dict[str, Any] = {"target": "tiny", "content": body.hex()}
    elif target == "metadata":
        # A metadata buffer given directly: mutate nothing, feed the bytes.
        case = {"target": "metadata", "seed": 0, "ops": [], "content": body.hex()}
    else:  # a file of its own kind (a bundle's seed is the first bundle seed)
        case = {"target": target, "seed": 0, "content": body.hex()}
    fuzz_harness.run_case(case, _seeds, _scratch)


def main() -> None:
    """Build the seeds, then hand over to libFuzzer."""
    import atheris

    with atheris.instrument_imports():
        import fuzz_harness
        import tflite_metadata  # noqa: F401 - instrumented by being imported here

    _seeds.update(fuzz_harness.build_seeds(include_shared=False))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
