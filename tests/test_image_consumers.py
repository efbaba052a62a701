"""The real image classifiers run what we populate exactly as what tflite-support populates.

Two parts, both against the consumers themselves (each in a child process of its
own environment, see ``consumer_env``):

* **The migration.** For each model (the shared MobileNet v2 quantized model
  when the shared test data is there, and small float32 and uint8 models from
  the project's builder), with and without a score calibration, the same writer
  code runs twice: once with ``tflite_support``'s modules, once with
  ``tflite_metadata``'s. The Task Library ``ImageClassifier`` (tflite-support
  0.4.4) and MediaPipe's ``ImageClassifier`` must then classify the images
  identically (every category, every score, exactly) for both models, and LiteRT
  must compute from ours exactly the outputs of the original model.
* **The rules.** Models with the metadata (or the model) the consumers refuse or
  accept, one change each: each consumer must load and classify the image as
  measured when the rules were researched (``VARIANTS``), and
  ``check(model, task="image-classifier")`` must name the consumer in a problem
  exactly when the consumer refuses the model.

The image is ``burger.jpg`` from the shared test data, and always a small PNG
written here, so that the tests run on a fresh clone too.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

import consumer_env
import shared_data
from tflite_metadata import _model_builder as model_builder
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY

TESTDATA = shared_data.TESTDATA / "tflite-support"
MOBILENET = TESTDATA / "image_classifier" / "mobilenet_v2_1.0_224_quant.tflite"
MOBILENET_LABELS = TESTDATA / "image_classifier" / "labels.txt"
BURGER = TESTDATA / "images" / "burger.jpg"

CONSUMERS = (TASK_LIBRARY, MEDIAPIPE)
MEAN = [127.5]
STD = [127.5]
# Consumer runs in parallel (MediaPipe runs one process per model).
WORKERS = max(1, min(2, os.cpu_count() or 1))

pytestmark = pytest.mark.consumers


# -- writers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Modules:
    """One package's writer modules, as a user imports them."""

    image_classifier: Any
    metadata_info: Any
    metadata_writer: Any
    writer_utils: Any
    fb: Any


def reference_modules() -> Modules:
    try:
        from tensorflow_lite_support.metadata.python.metadata_writers import metadata_writer
        from tflite_support import metadata_schema_py_generated as fb
        from tflite_support.metadata_writers import image_classifier, metadata_info, writer_utils
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    return Modules(image_classifier, metadata_info, metadata_writer, writer_utils, fb)


def our_modules() -> Modules:
    from tflite_metadata import metadata_schema_py_generated as fb
    from tflite_metadata.metadata_writers import (
        image_classifier,
        metadata_info,
        metadata_writer,
        writer_utils,
    )

    return Modules(image_classifier, metadata_info, metadata_writer, writer_utils, fb)


def modules(which: str) -> Modules:
    return our_modules() if which == "ours" else reference_modules()


def label_text(classes: int) -> str:
    return "".join(f"class {c}\n" for c in range(classes))


def calibration_text(classes: int) -> str:
    """One row per class, no trailing newline; a blank row (the default score) and a min score."""
    rows = [f"{1.0 + c / 100},{0.5 + c / 1000},{c / 10000}" for c in range(classes)]
    rows[1] = ""
    rows[-1] += ",0.125"
    return "\n".join(rows)


def populate_with(
    package: Modules,
    model: bytes,
    folder: Path,
    *,
    labels: Optional[str],
    calibration: Optional[str] = None,
    mean: Sequence[float] = MEAN,
    std: Sequence[float] = STD,
) -> bytes:
    """The user's code (tflite-support's documented example), given one or the other package.

    ``labels`` and ``calibration`` are the texts of the files to pack (None: no file).
    """
    folder.mkdir(parents=True, exist_ok=True)
    label_paths = []
    if labels is not None:
        (folder / "labels.txt").write_text(labels, newline="")
        label_paths.append(str(folder / "labels.txt"))
    calibration_md = None
    if calibration is not None:
        (folder / "calibration.txt").write_text(calibration, newline="")
        calibration_md = package.metadata_info.ScoreCalibrationMd(
            package.fb.ScoreTransformationType.LOG, 0.25, str(folder / "calibration.txt")
        )
    writer = package.image_classifier.MetadataWriter.create_for_inference(
        model, list(mean), list(std), label_paths, calibration_md
    )
    with warnings.catch_warnings():
        # Ours warns of what the consumers refuse; the variants below are made to be refused.
        warnings.simplefilter("ignore")
        return bytes(writer.populate())


def populate_heads(
    package: Modules,
    model: bytes,
    folder: Path,
    labels: Sequence[str],
    color_space: str = "RGB",
) -> bytes:
    """``model`` with an image input of ``color_space`` and one labelled head per output."""
    folder.mkdir(parents=True, exist_ok=True)
    info, utils = package.metadata_info, package.writer_utils
    input_md = info.InputImageTensorMd(
        name="image",
        description="Input image to be classified.",
        norm_mean=MEAN,
        norm_std=STD,
        color_space_type=getattr(package.fb.ColorSpaceType, color_space),
        tensor_type=utils.get_input_tensor_types(model)[0],
    )
    output_md = []
    for index, (text, tensor_type) in enumerate(zip(labels, utils.get_output_tensor_types(model))):
        path = folder / f"labels_{index}.txt"
        path.write_text(text)
        output_md.append(
            info.ClassificationTensorMd(
                name=f"probability {index}",
                label_files=[info.LabelFileMd(file_path=str(path))],
                tensor_type=tensor_type,
            )
        )
    if len(output_md) == 1:
        writer = package.image_classifier.MetadataWriter.create_from_metadata_info(
            model, input_md=input_md, output_md=output_md[0]
        )
    else:
        writer = package.metadata_writer.MetadataWriter.create_from_metadata_info(
            model,
            general_md=info.GeneralMd(name="Two heads"),
            input_md=[input_md],
            output_md=output_md,
            associated_files=[str(folder / f"labels_{i}.txt") for i in range(len(labels))],
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(writer.populate())


def edited(
    model: bytes,
    change: Optional[Callable[[Any], None]] = None,
    files: Optional[dict[str, bytes]] = None,
) -> bytes:
    """``model`` with its metadata changed through the object API, its packed files kept.

    ``change`` is given the ``ModelMetadataT``; ``files`` replace packed files of
    the same names (for contents the writers refuse to pack). The result is
    populated again with the drop-in ``MetadataPopulator``.
    """
    import flatbuffers

    from tflite_metadata import metadata_schema_py_generated as fb
    from tflite_metadata.archive.associated_files import find_zip
    from tflite_metadata.metadata import MetadataPopulator, get_metadata_buffer

    buffer = get_metadata_buffer(model)
    assert buffer is not None
    metadata = fb.ModelMetadataT.InitFromObj(fb.ModelMetadata.GetRootAsModelMetadata(buffer, 0))
    if change is not None:
        change(metadata)
    builder = flatbuffers.Builder(0)
    builder.Finish(metadata.Pack(builder), b"M001")
    populator = MetadataPopulator.with_model_buffer(model)
    populator.load_metadata_buffer(bytes(builder.Output()))
    tail = find_zip(model)
    packed = {} if tail is None else {n: bytes(tail.read(n)) for n in tail.names()}
    populator.load_associated_file_buffers({**packed, **(files or {})})
    populator.populate()
    return bytes(populator.get_model_buffer())


def image_input(metadata: Any) -> Any:
    return metadata.subgraphMetadata[0].inputTensorMetadata[0]


def normalization(mean: list[float], std: list[float]) -> Any:
    from tflite_metadata import metadata_schema_py_generated as fb

    unit = fb.ProcessUnitT()
    unit.optionsType = fb.ProcessUnitOptions.NormalizationOptions
    unit.options = fb.NormalizationOptionsT()
    unit.options.mean = mean
    unit.options.std = std
    return unit


def set_normalization(mean: list[float], std: list[float]) -> Callable[[Any], None]:
    def change(metadata: Any) -> None:
        image_input(metadata).processUnits = [normalization(mean, std)]

    return change


def compressed(model: bytes) -> bytes:
    """``model`` with its packed files deflated (the consumers read stored files only)."""
    from tflite_metadata.archive.associated_files import find_zip

    tail = find_zip(model)
    assert tail is not None
    files = {name: bytes(tail.read(name)) for name in tail.names()}
    stream = io.BytesIO(model[: tail.start])
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return stream.getvalue()


def patched(make: Callable[[Path], bytes], old: bytes, new: bytes) -> Callable[[Path], bytes]:
    """A variant: ``make``'s model with ``old`` (once in its metadata) replaced by ``new``."""

    def patch(folder: Path) -> bytes:
        from tflite_metadata.metadata import get_metadata_buffer

        model = make(folder)
        metadata = get_metadata_buffer(model)
        assert metadata is not None and metadata.count(old) == 1 and len(old) == len(new)
        at = model.find(metadata) + metadata.find(old)
        return model[:at] + new + model[at + len(old) :]

    return patch


def repacked(make: Callable[[Path], bytes], name: str, content: str) -> Callable[[Path], bytes]:
    """A variant: ``make``'s model with the packed file ``name`` holding ``content``."""
    return lambda folder: edited(make(folder), files={name: content.encode()})


def unpacked(model: bytes) -> bytes:
    """``model`` without its packed files (the metadata still records them)."""
    from tflite_metadata.archive.associated_files import find_zip

    tail = find_zip(model)
    assert tail is not None
    return model[: tail.start]


# -- images and raw inputs -------------------------------------------------------------------------


def png_bytes(width: int, height: int, alpha: bool = False) -> bytes:
    """A deterministic RGB PNG (gradients and stripes), in pure Python; RGBA with ``alpha``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter type: none
        for x in range(width):
            row += bytes(((x * 255) // width, (y * 255) // height, 255 * ((x // 4 + y // 6) % 2)))
            row += b"\xff" if alpha else b""
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def image_files(folder: Path) -> list[Path]:
    """burger.jpg when the shared test data is there, and always a generated PNG."""
    png = folder / "pattern.png"
    png.write_bytes(png_bytes(72, 56))
    return [BURGER, png] if BURGER.is_file() else [png]


def raw_input_file(folder: Path, count: int) -> Path:
    """A deterministic input tensor for LiteRT, as raw float32.

    Values are normalized pixels (p - 128) / 128: a uint8 input with the
    quantization of the builder and of MobileNet (scale 1/128, zero point 128)
    receives exactly the pixels p.
    """
    values = [((i * 37 + (i // 97) * 11) % 256 - 128) / 128 for i in range(count)]
    path = folder / "input.f32"
    path.write_bytes(struct.pack(f"<{count}f", *values))
    return path


# -- running the consumers -------------------------------------------------------------------------


def classify(consumer: str, paths: Sequence[Path], images: Sequence[Path], tmp: Path) -> dict:
    """model path -> the consumer's answer: ``{"images": [...]}`` or ``{"error", "stage"}``."""
    if consumer == TASK_LIBRARY:
        python, runner = consumer_env.reference_python(), "task_library_runner.py"
    else:
        python, runner = consumer_env.mediapipe_python(), "mediapipe_runner.py"
    consumer_env.require(python is not None, consumer)
    assert python is not None
    # The Task Library runs every model in one process; MediaPipe one process per
    # model: after a failed graph run, its next classifier may never return.
    batches = [list(paths)] if consumer == TASK_LIBRARY else [[p] for p in paths]

    def run(numbered: tuple[int, list[Path]]) -> dict[str, Any]:
        number, batch = numbered
        folder = tmp / f"{runner[:-3]}-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        request = {
            "task": "image",
            "models": [str(p) for p in batch],
            "images": [str(p) for p in images],
        }
        return consumer_env.run_runner(python, runner, request, folder, timeout=300)

    answers: dict[str, Any] = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        for answer in pool.map(run, enumerate(batches)):
            answers.update(answer)
    return answers


def litert(paths: Sequence[Path], inputs: Path, tmp: Path) -> dict[str, Any]:
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "LiteRT (ai-edge-litert)")
    assert python is not None
    request = {"models": [str(p) for p in paths], "inputs": str(inputs)}
    return consumer_env.run_runner(python, "litert_runner.py", request, tmp)


# -- the migration: ours and theirs classify alike -------------------------------------------------


def migration_models() -> dict[str, tuple[bytes, str]]:
    """name -> (model, its labels): built float32 and uint8 models, and MobileNet if present."""
    models = {
        "built_float32": (
            bytes(
                model_builder.build_image_classifier(
                    height=32, width=32, channels=3, classes=10, input_type="float32", seed=21
                )
            ),
            label_text(10),
        ),
        "built_uint8": (
            bytes(
                model_builder.build_image_classifier(
                    height=24,
                    width=40,
                    channels=3,
                    classes=6,
                    input_type="uint8",
                    output_type="uint8",
                    seed=22,
                )
            ),
            label_text(6),
        ),
    }
    if MOBILENET.is_file() and MOBILENET_LABELS.is_file():
        models["mobilenet_v2_quant"] = (MOBILENET.read_bytes(), MOBILENET_LABELS.read_text())
    return models


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """name -> {"original", "ours", "theirs": model paths, "labels": label list}."""
    reference = reference_modules()
    ours = our_modules()
    folder = tmp_path_factory.mktemp("image-consumers")
    entries: dict[str, dict[str, Any]] = {}
    for name, (model, labels) in migration_models().items():
        classes = len(labels.splitlines())
        for calibrate in (False, True):
            key = f"{name}{'+calibration' if calibrate else ''}"
            work = folder / key
            work.mkdir()
            entry: dict[str, Any] = {"original": work / "original.tflite"}
            entry["original"].write_bytes(model)
            entry["labels"] = labels.splitlines()
            calibration = calibration_text(classes) if calibrate else None
            for label, package in (("ours", ours), ("theirs", reference)):
                entry[label] = work / f"{label}.tflite"
                data = populate_with(
                    package, model, work / label, labels=labels, calibration=calibration
                )
                entry[label].write_bytes(data)
            entries[key] = entry
    return entries


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_consumers_classify_ours_exactly_like_theirs(
    consumer: str, populated: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    images = image_files(tmp_path)
    models = [p for entry in populated.values() for p in (entry["ours"], entry["theirs"])]
    answers = classify(consumer, models, images, tmp_path)
    for name, entry in populated.items():
        ours, theirs = answers[str(entry["ours"])], answers[str(entry["theirs"])]
        assert "error" not in ours, f"{name}: {consumer} refused ours: {ours}"
        assert ours == theirs, f"{name}: {consumer} classifies ours differently"
        assert len(ours["images"]) == len(images)
        for result in ours["images"]:
            (head,) = result["heads"]
            categories = head["categories"]
            assert categories, f"{name}: {consumer} found no category"
            if consumer == MEDIAPIPE:
                # MediaPipe answers every category (max_results -1).
                assert sorted(c[0] for c in categories) == list(range(len(entry["labels"])))
            assert [c[3] for c in categories] == sorted((c[3] for c in categories), reverse=True)
            # The labels were read from the packed file.
            assert all(c[1] == entry["labels"][c[0]] for c in categories), name


def test_litert_outputs_are_the_originals(
    populated: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    inputs = raw_input_file(tmp_path, 224 * 224 * 3)
    models = [p for entry in populated.values() for p in (entry["original"], entry["ours"])]
    answers = litert(models, inputs, tmp_path)
    for name, entry in populated.items():
        original, ours = answers[str(entry["original"])], answers[str(entry["ours"])]
        assert "error" not in original, f"{name}: {original}"
        assert ours == original, f"{name}: LiteRT computes other outputs after populate"


# -- the rules: check() names exactly the consumers that refuse ------------------------------------

SIZE = 16
CLASSES = 5


def build(
    input_type: str = "uint8",
    *,
    channels: int = 3,
    output_type: str = "float32",
) -> bytes:
    """A small image classifier from the project's builder, without metadata."""
    return bytes(
        model_builder.build_image_classifier(
            height=SIZE,
            width=SIZE,
            channels=channels,
            classes=CLASSES,
            input_type=input_type,
            output_type=output_type,
            seed=7,
        )
    )


def two_heads(second_labels: int = 4) -> Callable[[Path], bytes]:
    def make(folder: Path) -> bytes:
        model = bytes(
            model_builder.build_audio_classifier(
                input_shape=[1, SIZE, SIZE, 3],
                heads=[CLASSES, 4],
                input_type="uint8",
                input_name="image",
                seed=8,
            )
        )
        labels = [label_text(CLASSES), label_text(second_labels)]
        return populate_heads(our_modules(), model, folder, labels)

    return make


def written(
    which: str,
    input_type: str = "uint8",
    *,
    channels: int = 3,
    output_type: str = "float32",
    labels: Optional[str] = label_text(CLASSES),
    calibration: Optional[str] = None,
    mean: Sequence[float] = MEAN,
    std: Sequence[float] = STD,
    then: Optional[Callable[[Any], None]] = None,
) -> Callable[[Path], bytes]:
    """A variant: a built model populated by ``which`` writer (then edited, if ``then``)."""

    def make(folder: Path) -> bytes:
        model = build(input_type, channels=channels, output_type=output_type)
        data = populate_with(
            modules(which),
            model,
            folder,
            labels=labels,
            calibration=calibration,
            mean=mean,
            std=std,
        )
        return data if then is None else edited(data, then)

    return make


def rank_3_input(folder: Path) -> bytes:
    model = bytes(
        model_builder.build_audio_classifier(
            input_shape=[1, SIZE, SIZE * 3],
            heads=[CLASSES],
            input_type="uint8",
            input_name="image",
            seed=9,
        )
    )
    return populate_with(our_modules(), model, folder, labels=label_text(CLASSES))


def with_color_space(which: str, color_space: str) -> Callable[[Path], bytes]:
    def make(folder: Path) -> bytes:
        return populate_heads(modules(which), build(), folder, [label_text(CLASSES)], color_space)

    return make


def without_image_properties(metadata: Any) -> None:
    image_input(metadata).content = None


def two_normalization_units(metadata: Any) -> None:
    image_input(metadata).processUnits = [normalization(MEAN, STD), normalization(MEAN, STD)]


@dataclass(frozen=True)
class Variant:
    """A model, and whether each consumer loads it and classifies the image."""

    make: Callable[[Path], bytes]
    task_library: bool
    mediapipe: bool

    def accepted_by(self, consumer: str) -> bool:
        return self.task_library if consumer == TASK_LIBRARY else self.mediapipe


CALIBRATED = written("ours", calibration=calibration_text(CLASSES))
PER_CHANNEL = ([120.0, 127.5, 135.0], [60.0, 64.0, 70.0])
# What each consumer does with each model, as measured (Task Library 0.4.4, MediaPipe 1.2.2).
VARIANTS: dict[str, Variant] = {
    # Models the consumers take.
    "good_uint8_theirs": Variant(written("theirs"), True, True),
    "good_uint8_ours": Variant(written("ours"), True, True),
    "good_float32_theirs": Variant(written("theirs", "float32"), True, True),
    "good_float32_ours": Variant(written("ours", "float32"), True, True),
    "good_float32_calibrated": Variant(
        written("ours", "float32", calibration=calibration_text(CLASSES)), True, True
    ),
    "uint8_in_uint8_out": Variant(written("ours", output_type="uint8"), True, True),
    "float32_in_uint8_out": Variant(written("ours", "float32", output_type="uint8"), True, True),
    "uint8_without_normalization": Variant(written("ours", mean=[], std=[]), True, True),
    "uint8_per_channel": Variant(
        written("ours", mean=PER_CHANNEL[0], std=PER_CHANNEL[1]), True, True
    ),
    "uint8_std_0": Variant(written("theirs", std=[0.0]), True, True),
    "float32_per_channel_equal": Variant(
        written("ours", "float32", mean=[127.5] * 3, std=[127.5] * 3), True, True
    ),
    "no_image_properties": Variant(written("ours", then=without_image_properties), True, True),
    "labels_crlf": Variant(
        written("ours", labels=label_text(CLASSES).replace("\n", "\r\n")), True, True
    ),
    "no_metadata_uint8": Variant(lambda folder: build(), True, True),
    "two_outputs": Variant(two_heads(), True, True),
    "two_outputs_no_metadata": Variant(
        lambda folder: bytes(
            model_builder.build_audio_classifier(
                input_shape=[1, SIZE, SIZE, 3], heads=[CLASSES, 4], input_type="uint8", seed=8
            )
        ),
        True,
        True,
    ),
    # One consumer only.
    "float32_per_channel": Variant(
        written("ours", "float32", mean=PER_CHANNEL[0], std=PER_CHANNEL[1]), True, False
    ),
    "label_blank_last_line": Variant(
        written("ours", labels=label_text(CLASSES) + "\n"), False, True
    ),
    "min_parser_version_9": Variant(patched(written("ours"), b"1.0.0", b"9.0.0"), True, False),
    "calibration_without_labels": Variant(
        written("ours", labels=None, calibration=calibration_text(CLASSES)), False, True
    ),
    # Neither.
    "float32_without_normalization": Variant(
        written("ours", "float32", mean=[], std=[]), False, False
    ),
    "no_metadata_float32": Variant(lambda folder: build("float32"), False, False),
    "float32_mean_std_2": Variant(
        written("ours", "float32", mean=MEAN * 2, std=STD * 2), False, False
    ),
    "uint8_mean_std_2": Variant(written("theirs", mean=MEAN * 2, std=STD * 2), False, False),
    "float32_mean_3_std_1": Variant(
        written("ours", "float32", then=set_normalization([127.5] * 3, [127.5])), False, False
    ),
    # The Task Library refuses it when it classifies, MediaPipe when it loads it.
    "float32_std_0": Variant(
        written("ours", "float32", then=set_normalization(MEAN, [0.0])), False, False
    ),
    "float32_std_0_in_one_channel": Variant(
        written("ours", "float32", then=set_normalization([127.5] * 3, [127.5, 0.0, 127.5])),
        False,
        False,
    ),
    "two_normalization_units": Variant(written("ours", then=two_normalization_units), False, False),
    "grayscale": Variant(with_color_space("ours", "GRAYSCALE"), False, False),
    "unknown_color_space": Variant(with_color_space("theirs", "UNKNOWN"), False, False),
    "one_channel": Variant(written("ours", channels=1), False, False),
    # MediaPipe loads 4 channels, then fails to classify: its image tensor has 3.
    "four_channels": Variant(written("ours", channels=4), False, False),
    "four_channels_float32": Variant(written("ours", "float32", channels=4), False, False),
    "rank_3_input": Variant(rank_3_input, False, False),
    "int8_input": Variant(written("ours", "int8"), False, False),
    "int8_output": Variant(written("ours", output_type="int8"), False, False),
    "label_count": Variant(written("ours", labels=label_text(CLASSES - 1)), False, False),
    "labels_empty": Variant(written("theirs", labels=""), False, False),
    "calibration_count": Variant(
        written("ours", labels=label_text(CLASSES), calibration=calibration_text(CLASSES - 1)),
        False,
        False,
    ),
    "calibration_trailing_newline": Variant(
        written("ours", calibration=calibration_text(CLASSES) + "\n"), False, False
    ),
    "calibration_negative_scale": Variant(
        repacked(CALIBRATED, "calibration.txt", "-1.0,0.5,0.0\n" + calibration_text(CLASSES - 1)),
        False,
        False,
    ),
    "calibration_short_line": Variant(
        repacked(CALIBRATED, "calibration.txt", "1.0,0.5\n" + calibration_text(CLASSES - 1)),
        False,
        False,
    ),
    "compressed": Variant(lambda folder: compressed(written("ours")(folder)), False, False),
    "labels_not_packed": Variant(lambda folder: unpacked(written("ours")(folder)), False, False),
    "metadata_identifier_m002": Variant(patched(written("ours"), b"M001", b"M002"), False, False),
    "two_outputs_label_count": Variant(two_heads(second_labels=3), False, False),
}


@pytest.fixture(scope="module")
def variant_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """name -> {"path": the variant's model, "answers": {consumer: its answer}}."""
    folder = tmp_path_factory.mktemp("image-variants")
    paths = {}
    for name, variant in VARIANTS.items():
        data = variant.make(folder / name)
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(data)
    image = image_files(folder)[0]
    answers = {
        consumer: classify(consumer, list(paths.values()), [image], folder / consumer)
        for consumer in CONSUMERS
    }
    return {
        name: {
            "path": path,
            "answers": {consumer: answers[consumer][str(path)] for consumer in CONSUMERS},
        }
        for name, path in paths.items()
    }


CASES = [
    pytest.param(name, consumer, id=f"{name}-{consumer}")
    for name in VARIANTS
    for consumer in CONSUMERS
]


@pytest.mark.parametrize(("name", "consumer"), CASES)
def test_the_consumers_take_the_variants_as_measured(
    name: str, consumer: str, variant_runs: dict[str, Any]
) -> None:
    answer = variant_runs[name]["answers"][consumer]
    accepted = "error" not in answer
    assert accepted == VARIANTS[name].accepted_by(consumer), (
        f"{name}: {consumer} {'accepts' if accepted else 'refuses'} it: {answer}"
    )


@pytest.mark.parametrize(("name", "consumer"), CASES)
def test_check_names_exactly_the_consumers_that_refuse(
    name: str, consumer: str, variant_runs: dict[str, Any]
) -> None:
    from tflite_metadata.check import check

    run = variant_runs[name]
    answer = run["answers"][consumer]
    accepted = "error" not in answer
    problems = check(run["path"], task="image-classifier")
    named = [p for p in problems if consumer in p.consumers]
    assert accepted != bool(named), (
        f"{name}: {consumer} {'accepts' if accepted else 'refuses'} it "
        f"({answer.get('stage')}: {answer.get('error')}); check() reports "
        f"{[f'{p} [{p.code}] {p.consumers}' for p in problems]}"
    )
