"""A model with more than 2 GiB of external data, through file-to-file populate and show.

The model keeps its weights after the FlatBuffer (the converter's buffer-offset
mode), the real ones beyond 2 GiB, so their ``Buffer.offset`` needs more than
31 bits. It is populated twice, by :func:`~tflite_metadata.model.populate.populate_file`
and by ``tflite-metadata write``, without ever being read into memory. Each
output must hold every external buffer at its old offset plus one common
shift, with the same bytes there (checked on samples: the files are not read
whole), must show its metadata and labels, and must run in LiteRT with outputs
identical to the original's.

The three files take about 6.5 GB of disk for the module's duration and are
deleted after it.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import consumer_env
from tflite_metadata._model_builder import build_audio_classifier, write_audio_classifier
from tflite_metadata.cli import main
from tflite_metadata.fileio import map_file
from tflite_metadata.metadata_writers import audio_classifier
from tflite_metadata.model.display import MetadataDisplayer
from tflite_metadata.model.populate import populate_file
from tflite_metadata.model.reader import BufferInfo, ModelView

pytestmark = pytest.mark.slow

#: Just over 2 GiB of constant data: the heads' weights come after it, past 2**31.
WEIGHT_BYTES = 2**31 + 2**26
SEED = 11
SAMPLES = 15600
SAMPLE_RATE = 16000
LABELS = [f"class {index}" for index in range(7)]
#: Bytes compared at each sampled place of a buffer.
WINDOW = 64 * 1024


@dataclass(frozen=True)
class Populated:
    """The large model and what populating it made."""

    source: Path
    labels: Path
    #: Written by ``populate_file``.
    by_function: Path
    #: Written by ``tflite-metadata write audio-classifier``.
    by_cli: Path
    cli_status: int
    cli_stdout: str
    cli_stderr: str


def metadata_for_the_model(labels: Path) -> bytes:
    """The audio classifier metadata of the builder's models, from a small one of the same shape."""
    small = build_audio_classifier(input_samples=SAMPLES, seed=SEED)
    writer = audio_classifier.MetadataWriter.create_for_inference(
        small, SAMPLE_RATE, 1, [str(labels)]
    )
    return MetadataDisplayer.with_model_buffer(writer.populate()).get_metadata_buffer()


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Populated]:
    folder = tmp_path_factory.mktemp("large")
    source = folder / "source.tflite"
    by_function = folder / "populated.tflite"
    by_cli = folder / "cli.tflite"
    labels = folder / "labels.txt"
    labels.write_text("".join(f"{label}\n" for label in LABELS))
    try:
        write_audio_classifier(source, weight_bytes=WEIGHT_BYTES, seed=SEED)
        populate_file(
            source, by_function, metadata_for_the_model(labels), {"labels.txt": labels.read_bytes()}
        )
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            status = main(
                [
                    "write",
                    "audio-classifier",
                    str(source),
                    "-o",
                    str(by_cli),
                    "--sample-rate",
                    str(SAMPLE_RATE),
                    "--channels",
                    "1",
                    "--labels",
                    str(labels),
                ]
            )
        yield Populated(
            source, labels, by_function, by_cli, status, stdout.getvalue(), stderr.getvalue()
        )
    finally:
        for path in (source, by_function, by_cli):
            path.unlink(missing_ok=True)


def external_buffers(model: ModelView) -> dict[int, BufferInfo]:
    """Index -> location of every buffer whose data lies outside the FlatBuffer."""
    infos = {index: model.buffer_info(index) for index in range(model.buffer_count)}
    return {index: info for index, info in infos.items() if info.is_external}


def windows(offset: int, size: int) -> list[tuple[int, int]]:
    """The whole range when small, else its start, middle and end."""
    if size <= 3 * WINDOW:
        return [(offset, offset + size)]
    middle = offset + size // 2
    return [
        (offset, offset + WINDOW),
        (middle, middle + WINDOW),
        (offset + size - WINDOW, offset + size),
    ]


def assert_weights_moved(source: Path, output: Path) -> None:
    """Every external buffer of ``source`` is in ``output`` at one common shift, bytes intact."""
    with map_file(source) as old_data, map_file(output) as new_data:
        old = external_buffers(ModelView(old_data))
        new_model = ModelView(new_data)
        assert max(info.offset for info in old.values()) > 2**31, "the test model is too small"
        new = {index: new_model.buffer_info(index) for index in old}
        assert all(info.is_external for info in new.values())
        assert [info.size for info in new.values()] == [info.size for info in old.values()]
        shifts = {new[index].offset - old[index].offset for index in old}
        assert len(shifts) == 1, f"the buffers moved by different amounts: {sorted(shifts)}"
        [shift] = shifts
        assert shift > 0
        assert shift % 16 == 0  # the data keeps its alignment
        for index, info in old.items():
            for start, end in windows(info.offset, info.size):
                assert bytes(new_data[start + shift : end + shift]) == bytes(old_data[start:end]), (
                    f"buffer {index}: bytes {start}..{end} differ after the shift"
                )
        # The model ends where it did, shifted; the associated files follow.
        assert len(new_data) > len(old_data) + shift
        tail = len(old_data) - WINDOW
        assert bytes(new_data[tail + shift : len(old_data) + shift]) == bytes(old_data[tail:])


def test_populate_file_moves_the_external_weights(populated: Populated) -> None:
    assert_weights_moved(populated.source, populated.by_function)


def test_cli_write_moves_the_external_weights(populated: Populated) -> None:
    assert populated.cli_status == 0, populated.cli_stderr
    assert populated.cli_stdout.startswith(f"wrote {populated.by_cli}")
    assert_weights_moved(populated.source, populated.by_cli)


@pytest.mark.parametrize("which", ["by_function", "by_cli"])
def test_show_reads_the_populated_model(
    populated: Populated, which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = getattr(populated, which)
    assert main(["show", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    audio = "input 0: audio_clip (tensor 'waveform', FLOAT32 [1, 15600]): 16000 Hz, 1 channel"
    assert audio in lines
    assert f"  labels labels.txt: 7 labels: {', '.join(LABELS[:5])}, ..." in lines
    assert f"  labels.txt: {populated.labels.stat().st_size} bytes" in lines

    assert main(["show", "--json", str(path)]) == 0
    shown = capsys.readouterr().out
    displayer = MetadataDisplayer.with_model_file(path)
    assert shown == displayer.get_metadata_json()
    [input_metadata] = json.loads(shown)["subgraph_metadata"][0]["input_tensor_metadata"]
    assert input_metadata["content"]["content_properties"] == {
        "sample_rate": SAMPLE_RATE,
        "channels": 1,
    }
    assert displayer.get_packed_associated_file_list() == ["labels.txt"]
    assert displayer.get_associated_file_buffer("labels.txt") == populated.labels.read_bytes()


def test_both_ways_write_the_same_metadata(populated: Populated) -> None:
    by_function = MetadataDisplayer.with_model_file(populated.by_function)
    by_cli = MetadataDisplayer.with_model_file(populated.by_cli)
    assert by_function.get_metadata_buffer() == by_cli.get_metadata_buffer()


def waveform(count: int) -> bytes:
    """A deterministic input in [-0.6, 0.6], as little-endian float32."""
    values = [
        0.3 * math.sin(2 * math.pi * 440 * t / SAMPLE_RATE)
        + 0.3 * math.sin(2 * math.pi * 3 * t / SAMPLE_RATE)
        for t in range(count)
    ]
    return struct.pack(f"<{count}f", *values)


@pytest.mark.consumers
def test_litert_runs_the_populated_models_like_the_original(
    populated: Populated, tmp_path: Path
) -> None:
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "LiteRT (ai-edge-litert)")
    assert python is not None
    inputs = tmp_path / "inputs.f32"
    inputs.write_bytes(waveform(SAMPLES))
    paths = [populated.source, populated.by_function, populated.by_cli]
    request = {"models": [str(path) for path in paths], "inputs": str(inputs)}
    answers: dict[str, Any] = consumer_env.run_runner(python, "litert_runner.py", request, tmp_path)
    original = answers[str(populated.source)]
    assert "error" not in original, original
    [output] = original["outputs"]
    assert output["shape"] == [1, len(LABELS)]
    assert sum(output["values"]) == pytest.approx(1.0, abs=1e-5)  # a softmax: weights were read
    for path in paths[1:]:
        assert answers[str(path)] == original, f"{path.name} runs differently"
