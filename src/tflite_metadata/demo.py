"""The first run: metadata written into a small sample audio classifier.

The package carries a tiny audio classifier without metadata,
``data/sample_audio_classifier.tflite``. It is made by the project's own model
builder (:func:`tflite_metadata._model_builder.build_audio_classifier`), from the
parameters below; :func:`build_sample` makes it again, and a test fails when
the bundled file and a fresh build differ. After changing the builder or the
parameters, regenerate the file with::

    python -m tflite_metadata.demo --regenerate

``tflite-metadata demo`` (:func:`write_demo`) writes the sample's metadata (its
sample rate, channel count and labels) with the same writer users call, as
tflite-support's ``audio_classifier.MetadataWriter.create_for_inference`` would.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .fileio import PathLike, atomic_output

__all__ = [
    "CHANNELS",
    "DEFAULT_OUTPUT",
    "LABELS",
    "SAMPLE_FILE",
    "SAMPLE_RATE",
    "DemoResult",
    "build_sample",
    "sample_model",
    "write_demo",
]

#: The classes of the sample classifier, in output order.
LABELS: tuple[str, ...] = (
    "silence",
    "speech",
    "music",
    "dog bark",
    "door knock",
    "rain",
    "applause",
    "siren",
)
#: The audio the sample expects: one second of 16 kHz mono.
SAMPLE_RATE = 16000
CHANNELS = 1
INPUT_SAMPLES = 16000
#: The bundled sample, inside the package.
SAMPLE_FILE = Path(__file__).resolve().parent / "data" / "sample_audio_classifier.tflite"
#: Where ``tflite-metadata demo`` writes its result unless told otherwise.
DEFAULT_OUTPUT = "tflite_metadata_demo.tflite"


def build_sample() -> bytes:
    """Build the sample audio classifier (no metadata) with the project's model builder.

    Returns:
        The model's bytes; identical, byte for byte, to the bundled sample.
    """
    from ._model_builder import build_audio_classifier

    return bytes(build_audio_classifier(input_samples=INPUT_SAMPLES, heads=[len(LABELS)]))


def sample_model() -> bytes:
    """The bundled sample audio classifier (no metadata).

    Raises:
        MissingFileError: the package was installed without its data file.
    """
    from .fileio import read_file

    return read_file(SAMPLE_FILE)


@dataclass(frozen=True)
class DemoResult:
    """What :func:`write_demo` wrote."""

    output: Path
    model: bytes
    classes: int
    sample_rate: int
    channels: int


def write_demo(output: PathLike = DEFAULT_OUTPUT) -> DemoResult:
    """Write the sample's metadata and labels into a copy of it at ``output``.

    Args:
        output: where to write the result (atomically).

    Returns:
        The result and what it describes.

    Raises:
        MetadataError: (a subclass) the output cannot be written.
    """
    from .tasks.audio_classifier import AudioClassifierWriter
    from .tasks.base import LabelFileMd

    writer = AudioClassifierWriter.create_for_inference(
        sample_model(),
        sample_rate=SAMPLE_RATE,
        channels=CHANNELS,
        label_file_paths=[LabelFileMd(labels=list(LABELS))],
    )
    model = bytes(writer.populate())
    with atomic_output(output) as stream:
        stream.write(model)
    return DemoResult(Path(output), model, len(LABELS), SAMPLE_RATE, CHANNELS)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m tflite_metadata.demo --regenerate``: rebuild the bundled sample."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments != ["--regenerate"]:
        sys.stderr.write("usage: python -m tflite_metadata.demo --regenerate\n")
        return 2
    data = build_sample()
    SAMPLE_FILE.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(SAMPLE_FILE) as stream:
        stream.write(data)
    sys.stdout.write(f"wrote {SAMPLE_FILE} ({len(data)} bytes)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
