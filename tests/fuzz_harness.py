"""The machinery of the fuzz test: seeds, mutations, the entry points run, and a worker.

Used by ``tests/test_fuzz.py`` (hypothesis picks the cases, a worker process runs
them) and by ``fuzz/atheris_target.py`` (long coverage-guided runs outside CI).

A *case* is a small JSON-able dict, so that a failure can be printed and replayed:

* ``{"target": "model", "seed": name, "ops": [...]}``: the bytes of a seed model
  (a model from the model builder or the shared test data, with or without
  metadata and a zip of associated files), changed by the mutations ``ops``;
* ``{"target": "metadata", "seed": name, "ops": [...]}``: the seed's metadata
  buffer, mutated, populated into the seed's clean model;
* ``{"target": "label" | "calibration", "seed": name, "content": hex}``: a label
  or score calibration file, read by the writer and packed raw into a model
  that records it, which is then read back;
* ``{"target": "tiny", "content": hex}``: a tiny file taken as a model;
* ``{"target": "bundle", "seed": name, "ops": [...]}``: a ``.task`` bundle of seed
  models (see :func:`build_bundle_seeds`), changed by the mutations ``ops``, read
  by the bundle reader, ``check`` and the command line;
* ``{"target": "bundle-write", "entries": [[name, size], ...]}``: a bundle written
  from hostile entry names (:data:`BUNDLE_NAMES`) and contents, then read back.

Every entry point reading the input must either succeed or raise the package's
:class:`~tflite_metadata.errors.MetadataError`; anything else escaping is an
:class:`EscapeError`, a success that produces an unreadable model is an
:class:`InvariantError`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import signal
import struct
import sys
import tempfile
import threading
import traceback
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from shared_data import TESTDATA
from tflite_metadata.check import check
from tflite_metadata.cli import main as cli_main
from tflite_metadata.errors import MetadataError
from tflite_metadata.format import codec
from tflite_metadata.format.flatbuf import FlatBufferReader
from tflite_metadata.format.model_schema import BufferField
from tflite_metadata.metadata_writers.audio_classifier import MetadataWriter as AudioWriter
from tflite_metadata.metadata_writers.bert_nl_classifier import MetadataWriter as BertWriter
from tflite_metadata.metadata_writers.image_classifier import MetadataWriter as ImageWriter
from tflite_metadata.metadata_writers.image_segmenter import MetadataWriter as SegmenterWriter
from tflite_metadata.metadata_writers.metadata_info import (
    ClassificationTensorMd,
    LabelFileMd,
    ScoreCalibrationMd,
)
from tflite_metadata.metadata_writers.nl_classifier import MetadataWriter as NLWriter
from tflite_metadata.metadata_writers.object_detector import MetadataWriter as DetectorWriter
from tflite_metadata.model.display import MetadataDisplayer, convert_to_json
from tflite_metadata.model.populate import MetadataPopulator, populate_buffer
from tflite_metadata.model.reader import ModelView

#: Shared models used as seeds when the test data is present (skipped when absent).
SHARED_MODELS = (
    "generated/small_audio.tflite",
    "generated/small_audio_offset.tflite",
    "generated/two_heads_small.tflite",
    "tflite-support/yamnet_audio_classifier_with_metadata.tflite",
    "tflite-support/model_without_metadata.tflite",
    "tflite-support/image_classifier/mobilenet_v2_1.0_224_quant.tflite",
)

#: Builder models: name -> keyword arguments of ``build_audio_classifier``.
BUILT_MODELS: dict[str, dict[str, Any]] = {
    "built-default": {},
    "built-tiny": {"input_samples": 16, "heads": (2,)},
    "built-two-heads": {"input_samples": 64, "heads": (3, 4)},
    "built-external": {"input_samples": 64, "heads": (5,), "external_buffers": True},
    "built-uint8": {"input_samples": 64, "heads": (3,), "output_type": "uint8"},
    "built-extra-fields": {"input_samples": 64, "heads": (3,), "extra_model_fields": True},
}

#: Builder image classifiers: name -> keyword arguments of ``build_image_classifier``.
BUILT_IMAGE_MODELS: dict[str, dict[str, Any]] = {
    "built-image-float32": {"height": 8, "width": 8, "classes": 3},
    "built-image-uint8": {"height": 8, "width": 8, "classes": 4, "input_type": "uint8"},
}

#: Builder text classifiers: name -> (builder function name, keyword arguments).
BUILT_TEXT_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "built-nl": (
        "build_audio_classifier",
        {"input_samples": 16, "heads": (2,), "input_type": "int32"},
    ),
    "built-bert": ("build_bert_classifier", {"seq_len": 8, "classes": 3}),
}

#: The text tokenizers' files, written once per process (the tokenizers record paths).
REGEX_VOCAB = b"<PAD> 0\n<START> 1\n<UNKNOWN> 2\nthe 3\n"
BERT_VOCAB = b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n"


@functools.cache
def text_files() -> Path:
    """A folder holding ``vocab.txt`` (regex) and ``bert_vocab.txt``, removed at exit."""
    import atexit
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="tflite-metadata-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)
    (folder / "vocab.txt").write_bytes(REGEX_VOCAB)
    (folder / "bert_vocab.txt").write_bytes(BERT_VOCAB)
    return folder


#: SSD's post-processing outputs (N = 10), in the order of its ports.
DETECTOR_OUTPUTS = (
    ("location", (1, 10, 4)),
    ("category", (1, 10)),
    ("score", (1, 10)),
    ("number of detections", (1,)),
)

#: Builder object detectors (outputs only): name -> keyword arguments of
#: ``build_detector_outputs``.
BUILT_DETECTOR_MODELS: dict[str, dict[str, Any]] = {
    "built-detector": {
        "outputs": [(name, shape, "float32") for name, shape in DETECTOR_OUTPUTS],
        "order": (3, 1, 0, 2),
    },
    "built-detector-no-shapes": {
        "outputs": [(name, (), "float32") for name, _ in DETECTOR_OUTPUTS],
    },
    # MediaPipe's custom metadata: DETECTOR_METADATA (anchors), SEGMENTER_METADATA.
    "built-raw-detector": {
        "outputs": [("raw_scores", (1, 6, 3), "float32"), ("raw_boxes", (1, 6, 4), "float32")],
    },
    "built-segmenter": {"outputs": [("masks", (1, 4, 4, 3), "float32")], "input_type": "float32"},
}

#: Seconds one case may take inside the worker before it counts as a hang.
CASE_TIME_LIMIT = float(os.environ.get("TFLITE_METADATA_FUZZ_CASE_SECONDS", "20"))


class EscapeError(Exception):
    """An exception outside the package's family escaped from an entry point."""

    def __init__(self, operation: str, exc: BaseException) -> None:
        self.operation = operation
        self.error_type = type(exc).__name__
        self.details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        super().__init__(f"{operation}: {self.error_type}: {exc}")


class InvariantError(Exception):
    """An entry point succeeded but its result is wrong (say, an unreadable model)."""


class Status(str):
    """What an operation that succeeded reports about itself (say, an exit status)."""


class CaseTimeout(BaseException):
    """Raised by the per-case alarm; a BaseException so no ``except Exception`` eats it."""


# -- seeds -------------------------------------------------------------------------------------


@dataclass
class Seed:
    """A model to mutate, what was read from it when clean, and metadata that fits it."""

    name: str
    data: bytes
    #: Metadata that fits the model (the writer's), and the files it records.
    metadata: bytes
    files: dict[str, bytes]
    #: Positions the package read from the clean model (any width), and those of
    #: 32-bit reads (offsets and lengths), for mutations that hit the structure.
    hot: list[int] = field(default_factory=list)
    hot32: list[int] = field(default_factory=list)
    #: The same for the standalone metadata buffer.
    metadata_hot: list[int] = field(default_factory=list)
    metadata_hot32: list[int] = field(default_factory=list)


def _classes(model: bytes) -> list[int]:
    return [t.shape[-1] if t.shape else 1 for t in ModelView(model).outputs()]


def _is_image_model(model: bytes) -> bool:
    inputs = ModelView(model).inputs()
    return len(inputs) == 1 and len(inputs[0].shape) == 4


def _is_detector(model: bytes) -> bool:
    return _is_image_model(model) and len(ModelView(model).outputs()) == 4


def _writer_for(model: bytes) -> Any:
    """A writer with labels (and, for one head, a score calibration) fitting ``model``."""
    classes = _classes(model)
    labels = [
        LabelFileMd(f"labels{i}.txt", labels=[f"c{c}" for c in range(n)])
        for i, n in enumerate(classes)
    ]
    inputs = ModelView(model).inputs()
    if len(inputs) == 3:
        from tflite_metadata.metadata_writers.metadata_info import BertTokenizerMd

        tokenizer = BertTokenizerMd(text_files() / "bert_vocab.txt")
        return BertWriter.create_for_inference(model, tokenizer, labels)
    if len(inputs) == 1 and inputs[0].type == 2:  # INT32: token ids
        from tflite_metadata.metadata_writers.metadata_info import RegexTokenizerMd

        regex = RegexTokenizerMd(r"[^\w\']+", text_files() / "vocab.txt")
        return NLWriter.create_for_inference(model, regex, labels)
    outputs = ModelView(model).outputs()
    if _is_image_model(model) and [len(t.shape) for t in outputs] == [3, 3]:
        return _raw_detector_writer(model)
    if _is_image_model(model) and [len(t.shape) for t in outputs] == [4]:
        from tflite_metadata.tasks.image_segmenter import Activation, SegmentationMaskMd

        masks = SegmentationMaskMd("segmentation_masks", None, labels[:1])
        return SegmenterWriter.create_from_metadata_info(
            model, output_md=masks, activation=Activation.SIGMOID
        )
    if _is_detector(model):
        label_map = LabelFileMd("labelmap.txt", labels=["a", "b", "c"])
        calibration = ScoreCalibrationMd(2, 0.2, parameters=[[1.0, 2.0, 3.0, 0.5]] * 3)
        return DetectorWriter.create_for_inference(
            model, [127.5], [127.5], [label_map], calibration
        )
    if _is_image_model(model):
        calibration = ScoreCalibrationMd(1, 0.2, parameters=[[1.0, 2.0, 3.0, 0.5]] * classes[0])
        return ImageWriter.create_for_inference(model, [127.5], [127.5], labels, calibration)
    if len(classes) == 1:
        calibration = ScoreCalibrationMd(1, 0.2, parameters=[[1.0, 2.0, 3.0, 0.5]] * classes[0])
        return AudioWriter.create_for_inference(model, 16000, 1, labels, calibration)
    heads = [ClassificationTensorMd(label_files=[label]) for label in labels]
    return AudioWriter.create_from_metadata_info_for_multihead(model, output_md_list=heads)


def _raw_detector_writer(model: bytes) -> Any:
    """MediaPipe's detector without post-processing: its anchors in DETECTOR_METADATA."""
    from tflite_metadata.mediapipe.metadata_writers import metadata_writer as mp_writer
    from tflite_metadata.mediapipe.metadata_writers import object_detector as mp_detector

    boxes = next(t.shape[1] for t in ModelView(model).outputs() if t.shape[-1] == 4)
    anchors = [mp_detector.FixedAnchor(0.1 * i, 0.5, 0.2, 0.25) for i in range(boxes)]
    decoding = mp_detector.TensorsDecodingOptions(3, boxes, 4, 0, 0, 2, 10, 10, 5, 5, True, True)
    writer = mp_detector.MetadataWriter.create_for_models_without_nms(
        model,
        [127.5],
        [127.5],
        mp_writer.Labels().add(["a", "b", "c"]),
        mp_detector.SsdAnchorsOptions(mp_detector.FixedAnchorsSchema(anchors)),
        decoding,
    )
    return writer.writer._populating_writer()


def _files_of(writer: Any) -> dict[str, bytes]:
    return dict(writer._read_associated_files())


@contextlib.contextmanager
def _tracing() -> Iterator[dict[str, tuple[set[int], set[int]]]]:
    """Record the positions every FlatBufferReader reads, keyed by what it reads."""
    seen: dict[str, tuple[set[int], set[int]]] = {}
    original = FlatBufferReader.unpack

    def unpack(self: FlatBufferReader, st: struct.Struct, pos: int, where: str) -> Any:
        positions = seen.setdefault(self.what, (set(), set()))
        positions[0].add(pos)
        if st.size == 4:
            positions[1].add(pos)
        return original(self, st, pos, where)

    FlatBufferReader.unpack = unpack  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        FlatBufferReader.unpack = original  # type: ignore[method-assign]


def metadata_span(model: bytes) -> tuple[int, int] | None:
    """Where the ``TFLITE_METADATA`` buffer's bytes lie inside ``model``, if inline."""
    view = ModelView(model)
    for entry in view.metadata_entries():
        if entry.name == b"TFLITE_METADATA":
            buffers = view.buffers_vector()
            if buffers is None or not 0 <= entry.buffer < len(buffers):
                return None
            data = buffers.table(entry.buffer).vector(BufferField.DATA, 1, "data")
            if data is None:
                return None
            return data.start, data.start + len(data)
    return None


def _make_seed(name: str, model: bytes, plain: bytes) -> Seed:
    """A seed for ``model``; ``plain`` is the same model without our metadata."""
    writer = _writer_for(plain)
    metadata = bytes(writer._metadata_buffer)
    files = _files_of(writer)
    seed = Seed(name, model, metadata, files)
    with _tracing() as seen, warnings.catch_warnings(), tempfile.TemporaryDirectory() as scratch:
        warnings.simplefilter("ignore")
        # Whatever fails here fails on the clean seed too; only the positions matter.
        for operation in MODEL_OPERATIONS.values():
            with contextlib.suppress(MetadataError):
                operation(model, seed, Path(scratch))
    model_positions = seen.get("model", (set(), set()))
    hot, hot32 = set(model_positions[0]), set(model_positions[1])
    seed.metadata_hot, seed.metadata_hot32 = _metadata_positions(metadata)
    span = metadata_span(model)
    if span is not None:
        # The metadata inside the model is read through its own reader, from 0.
        inside, inside32 = _metadata_positions(model[span[0] : span[1]])
        hot |= {span[0] + p for p in inside}
        hot32 |= {span[0] + p for p in inside32}
    seed.hot = sorted(hot)
    seed.hot32 = sorted(hot32)
    return seed


def _metadata_positions(metadata: bytes) -> tuple[list[int], list[int]]:
    with _tracing() as seen:
        with contextlib.suppress(MetadataError):
            codec.decode(metadata)
        with contextlib.suppress(MetadataError):
            convert_to_json(metadata)
    positions = seen.get("metadata", (set(), set()))
    return sorted(positions[0]), sorted(positions[1])


def build_seeds(include_shared: bool = True) -> dict[str, Seed]:
    """Every seed: builder models and the shared ones (when present), plain and populated."""
    from tflite_metadata import _model_builder as model_builder

    plain: dict[str, bytes] = {
        name: bytes(model_builder.build_audio_classifier(**kwargs))
        for name, kwargs in BUILT_MODELS.items()
    }
    plain.update(
        (name, bytes(model_builder.build_image_classifier(**kwargs)))
        for name, kwargs in BUILT_IMAGE_MODELS.items()
    )
    plain.update(
        (name, bytes(getattr(model_builder, builder)(**kwargs)))
        for name, (builder, kwargs) in BUILT_TEXT_MODELS.items()
    )
    plain.update(
        (name, bytes(model_builder.build_detector_outputs(**kwargs)))
        for name, kwargs in BUILT_DETECTOR_MODELS.items()
    )
    if include_shared:
        for relative in SHARED_MODELS:
            path = TESTDATA / relative
            if path.is_file():
                plain["shared-" + Path(relative).stem] = path.read_bytes()
    seeds = {}
    for name, model in plain.items():
        seeds[name] = _make_seed(name, model, model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            populated = bytes(_writer_for(model).populate())
        seeds[name + "+metadata"] = _make_seed(name + "+metadata", populated, model)
    seeds.update(build_bundle_seeds(seeds))
    return seeds


#: The names of the bundle seeds (see :func:`build_bundle_seeds`).
BUNDLE_SEEDS = ("bundle:hand", "bundle:nested", "bundle:mixed")


def build_bundle_seeds(seeds: dict[str, Seed]) -> dict[str, Seed]:
    """``.task`` bundles of seed models, with their zip records as the hot positions.

    ``bundle:hand`` holds two populated models (as a hand landmarker's two),
    ``bundle:nested`` a bundle and a model (as a gesture recognizer's),
    ``bundle:mixed`` a plain model, a populated one and a small text file.
    """
    from tflite_metadata.archive.bundle import write_bundle

    first = seeds["built-tiny+metadata"].data
    second = seeds["built-image-float32+metadata"].data
    plain = seeds["built-tiny"].data
    contents: dict[str, dict[str, bytes]] = {
        "bundle:hand": {"hand_detector.tflite": second, "hand_landmarks_detector.tflite": first},
    }
    date = (2026, 12, 1, 0, 0, 0)
    hand = io.BytesIO()
    write_bundle(contents["bundle:hand"], hand, date_time=date)
    contents["bundle:nested"] = {"hand_landmarker.task": hand.getvalue(), "gesture.tflite": first}
    contents["bundle:mixed"] = {"plain.tflite": plain, "m.tflite": first, "notes.txt": b"x\n"}
    built = {}
    for name in BUNDLE_SEEDS:
        stream = io.BytesIO()
        write_bundle(contents[name], stream, date_time=date)
        data = stream.getvalue()
        hot, hot32 = _zip_record_positions(data)
        built[name] = Seed(name, data, b"", {}, hot, hot32)
    return built


def _zip_record_positions(data: bytes) -> tuple[list[int], list[int]]:
    """Every byte of a sound zip's headers, and where its 32-bit sizes, CRCs and offsets are."""
    from tflite_metadata.archive.bundle import read_bundle

    bundle = read_bundle(data)
    hot: set[int] = set()
    hot32: set[int] = set()
    for entry in bundle.entries:
        hot.update(range(entry.header_offset, entry.data_offset))
        hot32.update(entry.header_offset + field for field in (14, 18, 22))
    position = bundle.central_directory_offset
    while position + 46 <= len(data) and data[position : position + 4] == b"PK\x01\x02":
        lengths = struct.unpack_from("<3H", data, position + 28)
        hot.update(range(position, position + 46 + sum(lengths)))
        hot32.update(position + field for field in (16, 20, 24, 42))
        position += 46 + sum(lengths)
    hot.update(range(position, len(data)))
    hot32.update(position + field for field in (12, 16))
    return sorted(hot), sorted(hot32)


# -- crafted zips ------------------------------------------------------------------------------


@dataclass
class RawEntry:
    """One zip entry, every field under the caller's control (for hostile archives)."""

    name: bytes
    data: bytes = b""
    method: int = 0
    flags: int = 0
    crc32: int | None = None
    compressed_size: int | None = None
    size: int | None = None
    local_name: bytes | None = None
    #: Local header offset recorded in the central directory (relative to ``base``);
    #: None: where the header really is.
    header_offset: int | None = None
    extra: bytes = b""
    #: "Version made by" (its high byte: the system, 3 Unix) and the external
    #: attributes (on Unix, the mode in the high 16 bits).
    made_by: int = 0x031E
    external_attributes: int = 0


def raw_zip(
    entries: list[RawEntry],
    base: int,
    *,
    entry_count: int | None = None,
    directory_size: int | None = None,
    directory_offset: int | None = None,
    comment: bytes = b"",
    comment_size: int | None = None,
    relative: bool = False,
) -> bytes:
    """A zip to append at offset ``base`` of a file, with every field overridable.

    Offsets are absolute (as tflite-support writes them) unless ``relative``.
    ``uncompressed`` sizes default to ``len(data)`` for stored entries.
    """
    origin = 0 if relative else base
    local = bytearray()
    central = bytearray()
    for entry in entries:
        position = origin + len(local)
        crc = zlib.crc32(entry.data) if entry.crc32 is None else entry.crc32
        compressed = len(entry.data) if entry.compressed_size is None else entry.compressed_size
        size = compressed if entry.size is None else entry.size
        local_name = entry.name if entry.local_name is None else entry.local_name
        local += struct.pack(
            "<I5H3I2H",
            0x04034B50,
            20,
            entry.flags,
            entry.method,
            0,
            0x21,
            crc & 0xFFFFFFFF,
            compressed & 0xFFFFFFFF,
            size & 0xFFFFFFFF,
            len(local_name),
            0,
        )
        local += local_name + entry.data
        offset = position if entry.header_offset is None else entry.header_offset
        central += struct.pack(
            "<I6H3I5H2I",
            0x02014B50,
            entry.made_by,
            20,
            entry.flags,
            entry.method,
            0,
            0x21,
            crc & 0xFFFFFFFF,
            compressed & 0xFFFFFFFF,
            size & 0xFFFFFFFF,
            len(entry.name),
            len(entry.extra),
            0,
            0,
            0,
            entry.external_attributes,
            offset & 0xFFFFFFFF,
        )
        central += entry.name + entry.extra
    count = len(entries) if entry_count is None else entry_count
    end = struct.pack(
        "<I4H2IH",
        0x06054B50,
        0,
        0,
        count & 0xFFFF,
        count & 0xFFFF,
        (len(central) if directory_size is None else directory_size) & 0xFFFFFFFF,
        (origin + len(local) if directory_offset is None else directory_offset) & 0xFFFFFFFF,
        (len(comment) if comment_size is None else comment_size) & 0xFFFF,
    )
    return bytes(local + central + end + comment)


_BOMB_CACHE: dict[int, bytes] = {}


def deflate_bomb(size: int = 4 << 20) -> RawEntry:
    """A deflated entry that expands to ``size`` zero bytes (a ratio near 1000)."""
    if size not in _BOMB_CACHE:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        _BOMB_CACHE[size] = compressor.compress(bytes(size)) + compressor.flush()
    data = _BOMB_CACHE[size]
    return RawEntry(b"bomb.txt", data, method=8, crc32=zlib.crc32(bytes(size)), size=size)


#: Entry names a hostile zip may carry; the first few are harmless.
ZIP_NAMES = (
    b"labels.txt",
    b"labels0.txt",
    b"score_calibration.txt",
    b"../evil.txt",
    b"/etc/evil",
    b"C:evil.txt",
    b"dir\\evil.txt",
    b"a/../../evil",
    b"a/b.txt",
    b"\xff\xfe.txt",
    b"",
    b"x" * 300,
)

#: Lies a size or offset field may tell.
LIES = (0, 1, -1, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 1 << 20)


def zip_from_spec(spec: dict[str, Any], base: int) -> bytes:
    """A hostile zip from a JSON-able description (see ``test_fuzz.zip_specs``)."""
    entries = []
    for item in spec.get("entries", []):
        if item.get("bomb"):
            entry = deflate_bomb()
        else:
            data = bytes.fromhex(item.get("data", ""))
            entry = RawEntry(ZIP_NAMES[item.get("name", 0) % len(ZIP_NAMES)], data)
            entry.method = item.get("method", 0)
            if entry.method == 8:
                compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
                entry.size = len(data)
                entry.crc32 = zlib.crc32(data)
                entry.data = compressor.compress(data) + compressor.flush()
        entry.flags = item.get("flags", 0)
        for key in ("crc32", "compressed_size", "size", "header_offset"):
            lie = item.get(key)
            if lie is not None:
                current = getattr(entry, key)
                if current is None:
                    current = len(entry.data) if key != "crc32" else zlib.crc32(entry.data)
                    if key == "header_offset":
                        current = base
                setattr(entry, key, (current + LIES[lie % len(LIES)]) & 0xFFFFFFFF)
        entries.append(entry)
    overrides: dict[str, Any] = {}
    for key in ("entry_count", "directory_size", "directory_offset", "comment_size"):
        if spec.get(key) is not None:
            overrides[key] = LIES[spec[key] % len(LIES)] + (
                len(entries) if key == "entry_count" else 0
            )
    data = raw_zip(entries, base, relative=bool(spec.get("relative")), **overrides)
    cut = spec.get("cut")
    if cut:
        data = data[: len(data) - cut % max(1, len(data))]
    return data


# -- mutations ---------------------------------------------------------------------------------


def _region(
    data: bytes | bytearray, seed: Seed | None, region: str, wide: bool, metadata: bool
) -> list[int] | range:
    size = len(data)
    if seed is not None and region == "hot":
        if metadata:
            positions = seed.metadata_hot32 if wide else seed.metadata_hot
        else:
            positions = seed.hot32 if wide else seed.hot
        positions = [p for p in positions if p < size]
        if positions:
            return positions
    if region == "head":
        return range(min(size, 512))
    if region == "tail":
        return range(max(0, size - 4096), size)
    return range(size)


def _u32_value(kind: int, raw: int, pos: int, size: int) -> int:
    values = (
        0,  # an offset to itself
        0xFFFFFFFF,
        0x80000000,
        0x7FFFFFFF,
        size,  # one past the end
        max(0, size - pos),  # exactly the end
        max(0, size - pos - 4),
        raw % 16,
        raw & 0xFFFFFFFF,
    )
    return values[kind % len(values)] & 0xFFFFFFFF


def mutate(data: bytes, ops: list[list[Any]], seed: Seed | None, metadata: bool = False) -> bytes:
    """Apply ``ops`` in order. Each is ``[kind, ...]``:

    * ``["truncate", region, index]``: cut the data at a position of ``region``;
    * ``["flip", region, index, mask]``: XOR one byte;
    * ``["u32", region, index, kind, raw]``: overwrite a 32-bit value (an offset or a
      length, when ``region`` is ``"hot"``) with a hostile one;
    * ``["u16", region, index, raw]``: overwrite a 16-bit value (vtable entries);
    * ``["append", hex]``: garbage after the end;
    * ``["zip", spec]``: a hostile zip after the end (see :func:`zip_from_spec`).

    ``region`` is ``"hot"`` (a position the package reads on the clean input),
    ``"head"``, ``"tail"`` or ``"any"``; ``index`` is taken modulo its size.
    """
    out = bytearray(data)
    for op in ops:
        kind = op[0]
        if kind == "append":
            out += bytes.fromhex(op[1])
            continue
        if kind == "zip":
            out += zip_from_spec(op[1], len(out))
            continue
        wide = kind == "u32"
        positions = _region(out, seed, op[1], wide, metadata)
        if not len(positions):
            continue
        pos = positions[op[2] % len(positions)]
        if kind == "truncate":
            del out[pos:]
        elif kind == "flip":
            out[pos] ^= (op[3] % 255) + 1
        elif kind == "u32" and pos + 4 <= len(out):
            struct.pack_into("<I", out, pos, _u32_value(op[3], op[4], pos, len(out)))
        elif kind == "u16" and pos + 2 <= len(out):
            struct.pack_into("<H", out, pos, op[3] & 0xFFFF)
    return bytes(out)


# -- the entry points --------------------------------------------------------------------------


def _expect_readable(
    model: bytes | bytearray, files: dict[str, bytes], what: str, json: bool = True
) -> None:
    """A model we populated must read back: metadata, and every file we packed.

    ``json``: whether the metadata's JSON must render too (not when the metadata
    given to populate could not render already, say a string that is not UTF-8,
    which populate keeps as tflite-support does).
    """
    try:
        displayer = MetadataDisplayer.with_model_buffer(bytes(model))
        codec.decode(displayer.get_metadata_buffer())
        if json:
            displayer.get_metadata_json()
        packed = displayer.get_packed_associated_file_list()
        for name, content in files.items():
            if name not in packed:
                raise InvariantError(f"{what}: {name!r} was not packed (packed: {packed})")
            if displayer.get_associated_file_buffer(name) != content:
                raise InvariantError(f"{what}: {name!r} reads back different bytes")
        for name in packed:
            displayer.get_associated_file_buffer(name)
    except MetadataError as exc:
        raise InvariantError(
            f"{what} succeeded but its output cannot be read: {type(exc).__name__}: {exc}"
        ) from exc


def op_writer(data: bytes, seed: Seed, workdir: Path) -> None:
    """The audio classifier writer: create_for_inference, populate, get_metadata_json."""
    labels = LabelFileMd("labels.txt", labels=["a", "b", "c"])
    calibration = ScoreCalibrationMd(1, 0.2, parameters=[[1.0, 2.0, 3.0]] * 3)
    writer = AudioWriter.create_for_inference(data, 16000, 1, [labels], calibration)
    writer.get_metadata_json()
    populated = writer.populate()
    _expect_readable(
        populated,
        {"labels.txt": labels.read(), "score_calibration.txt": calibration.content},
        "AudioClassifierWriter.populate",
    )


def op_image_writer(data: bytes, seed: Seed, workdir: Path) -> None:
    """The image classifier writer: create_for_inference, populate, get_metadata_json."""
    labels = LabelFileMd("labels.txt", labels=["a", "b", "c"])
    calibration = ScoreCalibrationMd(1, 0.2, parameters=[[1.0, 2.0, 3.0]] * 3)
    writer = ImageWriter.create_for_inference(data, [127.5], [127.5], [labels], calibration)
    writer.get_metadata_json()
    populated = writer.populate()
    _expect_readable(
        populated,
        {"labels.txt": labels.read(), "score_calibration.txt": calibration.content},
        "ImageClassifierWriter.populate",
    )


def op_segmenter_writer(data: bytes, seed: Seed, workdir: Path) -> None:
    """The image segmenter writer: create_for_inference, populate, get_metadata_json."""
    labels = LabelFileMd("labelmap.txt", labels=["background", "person"])
    writer = SegmenterWriter.create_for_inference(data, [127.5], [127.5], [labels])
    writer.get_metadata_json()
    populated = writer.populate()
    _expect_readable(populated, {"labelmap.txt": labels.read()}, "ImageSegmenterWriter.populate")


def op_text_writers(data: bytes, seed: Seed, workdir: Path) -> None:
    """The NL and BERT NL classifier writers: create_for_inference, populate, JSON."""
    from tflite_metadata.metadata_writers.metadata_info import BertTokenizerMd, RegexTokenizerMd

    labels = LabelFileMd("labels.txt", labels=["a", "b"])
    folder = text_files()
    writers = [
        lambda: NLWriter.create_for_inference(
            data, RegexTokenizerMd("[", folder / "vocab.txt"), [labels]
        ),
        lambda: BertWriter.create_for_inference(
            data, BertTokenizerMd(folder / "bert_vocab.txt"), [labels]
        ),
    ]
    for make in writers:
        try:
            writer = make()
            writer.get_metadata_json()
            populated = writer.populate()
        except MetadataError:
            continue  # the other writer may still take the model
        _expect_readable(populated, dict(writer._read_associated_files()), "text writer populate")


def op_detector_writer(data: bytes, seed: Seed, workdir: Path) -> None:
    """The object detector writer: create_for_inference, populate, get_metadata_json."""
    labels = LabelFileMd("labelmap.txt", labels=["a", "b", "c"])
    calibration = ScoreCalibrationMd(2, 0.2, parameters=[[1.0, 2.0, 3.0]] * 3)
    writer = DetectorWriter.create_for_inference(data, [127.5], [127.5], [labels], calibration)
    writer.get_metadata_json()
    populated = writer.populate()
    _expect_readable(
        populated,
        {"labelmap.txt": labels.read(), "score_calibration.txt": calibration.content},
        "ObjectDetectorWriter.populate",
    )


def op_mediapipe_builder(data: bytes, seed: Seed, workdir: Path) -> None:
    """MediaPipe's builder: a feature input per input, a head per output, populate, JSON."""
    from tflite_metadata.mediapipe.metadata_writers import metadata_writer as mp_writer
    from tflite_metadata.tasks.writer_utils import get_input_tensor_names, get_output_tensor_names

    writer = mp_writer.MetadataWriter.create(data).add_general_info("fuzz", "MediaPipe's builder")
    for _ in get_input_tensor_names(data):
        writer.add_feature_input("input")
    expected: dict[str, bytes] = {}
    for index, _ in enumerate(get_output_tensor_names(data)):
        labels = mp_writer.Labels().add(["a", "b", "c"], exported_filename=f"labels_{index}.txt")
        expected[f"labels_{index}.txt"] = b"a\nb\nc"
        calibration = None
        if index == 0:
            row = mp_writer.CalibrationParameter(1.0, 2.0, 3.0)
            calibration = mp_writer.ScoreCalibration(0, [row, None, row], 0.2)
            expected["score_calibration.txt"] = b"1.0,2.0,3.0\n\n1.0,2.0,3.0"
        writer.add_classification_output(labels, calibration, mp_writer.ScoreThresholding(0.5))
    populated, _ = writer.populate()
    _expect_readable(populated, expected, "MediaPipe's MetadataWriter.populate")


def op_populator(data: bytes, seed: Seed, workdir: Path) -> None:
    """MetadataPopulator over a buffer, with metadata that fits the clean seed."""
    populator = MetadataPopulator.with_model_buffer(data)
    populator.get_packed_associated_file_list()
    populator.load_metadata_buffer(seed.metadata)
    populator.load_associated_file_buffers(seed.files)
    populator.populate()
    _expect_readable(populator.get_model_buffer(), seed.files, "MetadataPopulator.populate")


def op_populator_keep(data: bytes, seed: Seed, workdir: Path) -> None:
    """MetadataPopulator re-populating a model's own metadata and packed files."""
    populator = MetadataPopulator.with_model_buffer(data)
    populator.load_metadata_and_associated_files(data)
    populator.populate()


def op_displayer(data: bytes, seed: Seed, workdir: Path) -> None:
    """MetadataDisplayer: JSON, and every packed file."""
    displayer = MetadataDisplayer.with_model_buffer(data)
    displayer.get_metadata_json()
    for name in displayer.get_packed_associated_file_list():
        displayer.get_associated_file_buffer(name)


def op_check(data: bytes, seed: Seed, workdir: Path) -> None:
    """check(), and the text of every problem."""
    for problem in check(data):
        str(problem)


def op_cli(data: bytes, seed: Seed, workdir: Path) -> str:
    """The command line: show, show --json, check, extract; never an internal error."""
    path = workdir / "case.tflite"
    path.write_bytes(data)
    commands = (
        ["show", str(path)],
        ["show", "--json", str(path)],
        ["check", str(path)],
        ["extract", str(path), "-d", str(workdir / "extracted")],
    )
    statuses = []
    for command in commands:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli_main(command)
        text = err.getvalue()
        if "internal error" in text or "Traceback" in text:
            raise InvariantError(f"tflite-metadata {command[0]}: {text.strip()}")
        if status not in (0, 1):
            raise InvariantError(f"tflite-metadata {command[0]} exited {status}: {text}")
        statuses.append(str(status))
    return Status("exit " + ",".join(statuses))


def op_populate_file(data: bytes, seed: Seed, workdir: Path) -> None:
    """MetadataPopulator over a file: the streamed, atomic path."""
    path = workdir / "populate.tflite"
    path.write_bytes(data)
    populator = MetadataPopulator.with_model_file(path)
    populator.load_metadata_buffer(seed.metadata)
    populator.load_associated_file_buffers(seed.files)
    try:
        populator.populate()
    except MetadataError:
        if path.read_bytes() != data:
            raise InvariantError("a failed populate changed its input file") from None
        raise
    _expect_readable(path.read_bytes(), seed.files, "MetadataPopulator.populate (file)")


#: Entry points run on every model case, in order.
MODEL_OPERATIONS: dict[str, Callable[[bytes, Seed, Path], object]] = {
    "writer": op_writer,
    "image-writer": op_image_writer,
    "segmenter-writer": op_segmenter_writer,
    "text-writers": op_text_writers,
    "detector-writer": op_detector_writer,
    "mediapipe-builder": op_mediapipe_builder,
    "populator": op_populator,
    "populator-keep": op_populator_keep,
    "displayer": op_displayer,
    "check": op_check,
    "cli": op_cli,
    "populate-file": op_populate_file,
}


# -- .task bundles -----------------------------------------------------------------------------


def op_bundle_read(data: bytes, seed: Seed, workdir: Path) -> None:
    """The bundle reader: every entry, in place and copied, the same bytes."""
    from tflite_metadata.archive.bundle import read_bundle

    bundle = read_bundle(data)
    for name in bundle.names():
        try:
            with bundle.content_view(name) as content:
                in_place = bytes(content)
        except MetadataError:
            continue
        if bundle.read(name) != in_place:
            raise InvariantError(f"bundle entry {name!r} reads differently in place and copied")


def op_bundle_cli(data: bytes, seed: Seed, workdir: Path) -> str:
    """show, show --json, check, bundle list (--json), bundle extract; extract is byte for byte."""
    from tflite_metadata.archive.bundle import read_bundle

    path = workdir / "case.task"
    path.write_bytes(data)
    folder = workdir / "entries"
    commands = (
        ["show", str(path)],
        ["show", "--json", str(path)],
        ["check", str(path)],
        ["bundle", "list", str(path)],
        ["bundle", "list", "--json", str(path)],
        ["bundle", "extract", str(path), "-d", str(folder)],
    )
    statuses = []
    for command in commands:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli_main(command)
        text = err.getvalue()
        if "internal error" in text or "Traceback" in text or status not in (0, 1):
            raise InvariantError(f"tflite-metadata {' '.join(command[:2])} exited {status}: {text}")
        statuses.append(str(status))
    if statuses[-1] == "0":
        bundle = read_bundle(data)
        for name in bundle.names():
            if (folder / name).read_bytes() != bundle.read(name):
                raise InvariantError(f"bundle extract wrote {name!r} with other bytes")
    return Status("exit " + ",".join(statuses))


def op_bundle_rewrite(data: bytes, seed: Seed, workdir: Path) -> None:
    """What reads as a bundle is written again as one, and reads back the same."""
    from tflite_metadata.archive.bundle import read_bundle, write_bundle

    bundle = read_bundle(data)
    entries = [(name, bundle.read(name)) for name in bundle.names()]
    if len(entries) < 2:
        return
    stream = io.BytesIO()
    write_bundle(entries, stream)
    _expect_bundle(stream.getvalue(), entries, "rewriting a bundle")


def _expect_bundle(data: bytes, entries: list[tuple[str, bytes]], what: str) -> None:
    """A bundle we wrote must read back: same entries, aligned, and as zipfile reads it."""
    import zipfile

    from tflite_metadata.archive.bundle import read_bundle

    try:
        bundle = read_bundle(data)
        found = [(name, bundle.read(name)) for name in bundle.names()]
    except MetadataError as exc:
        raise InvariantError(f"{what}: the bundle cannot be read: {exc}") from exc
    if found != entries:
        raise InvariantError(f"{what}: the bundle reads back other entries")
    if any(entry.data_offset % 4 for entry in bundle.entries):
        raise InvariantError(f"{what}: an entry is not 4-byte aligned")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if [(info.filename, archive.read(info)) for info in archive.infolist()] != entries:
            raise InvariantError(f"{what}: zipfile reads other entries")


#: Entry names a bundle may be asked to hold; the first few are harmless.
BUNDLE_NAMES = (
    "hand_detector.tflite",
    "a.tflite",
    "models/b.tflite",
    "caf\u00e9.tflite",
    *(name.decode("utf-8", "replace") for name in ZIP_NAMES),
    "a\x00b",
    "x/",
    "\u202ebad.tflite",
)


def op_bundle_write(entries: list[list[int]]) -> None:
    """create_model_asset_bundle with hostile names: a clear error, or a bundle that reads back."""
    from tflite_metadata.mediapipe.metadata_writers.model_asset_bundle_utils import (
        create_model_asset_bundle,
    )

    models: dict[str, bytes] = {}
    for name_index, size in entries:
        name = BUNDLE_NAMES[name_index % len(BUNDLE_NAMES)]
        models[name] = bytes((size + i) % 256 for i in range(size % 300))
    stream = io.BytesIO()
    create_model_asset_bundle(models, stream)
    _expect_bundle(stream.getvalue(), list(models.items()), "create_model_asset_bundle")


#: Entry points run on every bundle case, in order.
BUNDLE_OPERATIONS: dict[str, Callable[[bytes, Seed, Path], object]] = {
    "bundle-read": op_bundle_read,
    "check": op_check,
    "bundle-cli": op_bundle_cli,
    "bundle-rewrite": op_bundle_rewrite,
}


def metadata_operations(metadata: bytes, seed: Seed, workdir: Path) -> dict[str, Callable[[], Any]]:
    """The entry points that read a standalone metadata buffer."""
    from tflite_metadata.format.version import min_parser_version
    from tflite_metadata.tasks.base import MetadataWriter

    def populator() -> None:
        target = MetadataPopulator.with_model_buffer(seed.data)
        target.load_metadata_buffer(metadata)
        target.load_associated_file_buffers(seed.files)
        target.populate()
        try:
            convert_to_json(metadata)
            renders = True
        except MetadataError:
            renders = False
        _expect_readable(
            target.get_model_buffer(), {}, "MetadataPopulator (mutated metadata)", renders
        )

    def writer() -> None:
        target = MetadataWriter(
            seed.data, metadata, [LabelFileMd(n, content=c) for n, c in seed.files.items()]
        )
        target.get_metadata_json()
        target.populate()

    return {
        "decode": lambda: codec.decode(metadata),
        "to_json": lambda: convert_to_json(metadata),
        "min_parser_version": lambda: min_parser_version(metadata),
        "populator": populator,
        "writer": writer,
    }


def _packed_model(seed: Seed, name: str, content: bytes) -> bytes:
    """The seed's clean model with its metadata, ``name`` packed raw as ``content``."""
    files = dict(seed.files)
    files[name] = content
    return bytes(populate_buffer(seed.data, seed.metadata, files))


def file_operations(
    target: str, content: bytes, seed: Seed, workdir: Path
) -> dict[str, Callable[[], Any]]:
    """The entry points that read a label or score calibration file."""
    path = workdir / ("labels.txt" if target == "label" else "calibration.txt")
    path.write_bytes(content)
    calibration_name = "score_calibration.txt"
    label_names = [n for n in seed.files if n.startswith("labels")]

    def read() -> None:
        if target == "label":
            LabelFileMd(path).read_labels()
        else:
            ScoreCalibrationMd(1, 0.2, path).parameters  # noqa: B018 - the reading is the test

    def write() -> None:
        if target == "label":
            writer = AudioWriter.create_for_inference(seed.data, 16000, 1, [path])
        else:
            labels = LabelFileMd("labels.txt", labels=["a", "b", "c"])
            writer = AudioWriter.create_for_inference(
                seed.data, 16000, 1, [labels], ScoreCalibrationMd(1, 0.2, path)
            )
        writer.populate()

    def write_image() -> None:
        labels = [path] if target == "label" else [LabelFileMd("labels.txt", labels=["a", "b"])]
        calibration = None if target == "label" else ScoreCalibrationMd(1, 0.2, path)
        ImageWriter.create_for_inference(seed.data, [0.0], [255.0], labels, calibration).populate()

    def write_detector() -> None:
        labels = [path] if target == "label" else [LabelFileMd("labels.txt", labels=["a", "b"])]
        calibration = None if target == "label" else ScoreCalibrationMd(1, 0.2, path)
        DetectorWriter.create_for_inference(
            seed.data, [0.0], [255.0], labels, calibration
        ).populate()

    def packed() -> None:
        name = label_names[0] if target == "label" and label_names else calibration_name
        model = _packed_model(seed, name, content)
        op_check(model, seed, workdir)
        op_displayer(model, seed, workdir)
        op_cli(model, seed, workdir)

    return {
        "read": read,
        "write": write,
        "write-image": write_image,
        "write-detector": write_detector,
        "packed": packed,
    }


def op_cli_write(spec: bytes, seed: Seed, workdir: Path, kind: str = "audio-classifier") -> str:
    """``tflite-metadata write KIND --spec``: one error line, never an internal error.

    The spec may name ``labels.txt`` and ``calibration.txt``, which exist beside it.
    """
    classes = _classes(seed.data)[0] if _classes(seed.data) else 1
    (workdir / "labels.txt").write_text("".join(f"class {i}\n" for i in range(classes)))
    (workdir / "calibration.txt").write_text("1.0,2.0,3.0\n" * classes)
    model = workdir / "model.tflite"
    model.write_bytes(seed.data)
    path = workdir / ("spec.toml" if spec.startswith(b"#toml") else "spec.json")
    path.write_bytes(spec)
    output = workdir / "out.tflite"
    output.unlink(missing_ok=True)  # another kind's run may have written it
    err = io.StringIO()
    command = ["write", kind, str(model), "-o", str(output), "--spec", str(path)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = cli_main(command)
    text = err.getvalue()
    if "internal error" in text or "Traceback" in text or status not in (0, 1, 2):
        raise InvariantError(f"tflite-metadata write exited {status}: {text.strip()}")
    if status == 0:
        _expect_readable(output.read_bytes(), {}, "tflite-metadata write")
    elif output.exists():
        raise InvariantError("tflite-metadata write failed but left its output behind")
    return Status(f"exit {status}")


# -- running one case --------------------------------------------------------------------------


def seed_of(case: dict[str, Any], seeds: dict[str, Seed]) -> Seed:
    """The case's seed: named, or an index into the sorted names (taken modulo).

    Bundle cases index the bundle seeds, the others the models.
    """
    key = case.get("seed", 0)
    if isinstance(key, str):
        return seeds[key]
    bundles = case.get("target") == "bundle"
    names = sorted(name for name in seeds if name.startswith("bundle:") == bundles)
    return seeds[names[key % len(names)]]


def case_input(case: dict[str, Any], seeds: dict[str, Seed]) -> bytes:
    """The bytes a case feeds to the entry points."""
    target = case["target"]
    if "content" in case:
        return bytes.fromhex(case["content"])
    if target == "bundle-write":
        return json.dumps(case["entries"]).encode()
    seed = seed_of(case, seeds)
    if target == "metadata":
        return mutate(seed.metadata, case["ops"], seed, metadata=True)
    return mutate(seed.data, case["ops"], seed)


def _call(name: str, function: Callable[[], Any], outcomes: dict[str, str]) -> None:
    try:
        returned = function()
    except MetadataError as exc:
        if not str(exc):
            raise EscapeError(
                name, AssertionError(f"{type(exc).__name__} without a message")
            ) from exc
        outcomes[name] = type(exc).__name__
    except (CaseTimeout, InvariantError, EscapeError):
        raise
    except BaseException as exc:  # everything else is a bug, even KeyboardInterrupt-likes
        raise EscapeError(name, exc) from exc
    else:
        # An operation may describe its success (say, the command line's exit status).
        outcomes[name] = returned if isinstance(returned, Status) else "ok"


def _crash(outcomes: dict[str, str]) -> None:
    import faulthandler

    sigsegv = getattr(faulthandler, "_sigsegv", None)  # a real segmentation fault
    if sigsegv is not None:
        sigsegv()
    os.abort()


def _spin(outcomes: dict[str, str]) -> None:
    while True:
        pass


#: Cases that test the harness itself: a crash, an escape, a hang.
SELF_TESTS: dict[str, Callable[[dict[str, str]], None]] = {
    "crash": _crash,
    "escape": lambda outcomes: _call("self-test", lambda: 1 // 0, outcomes),
    "hang": _spin,
}


def run_case(case: dict[str, Any], seeds: dict[str, Seed], workdir: Path) -> dict[str, str]:
    """Run every entry point on one case; return each one's outcome.

    Raises:
        EscapeError: a non-MetadataError exception escaped.
        InvariantError: an entry point succeeded with a wrong result.
    """
    outcomes: dict[str, str] = {}
    target = case["target"]
    if target in SELF_TESTS:
        SELF_TESTS[target](outcomes)
        return outcomes
    data = case_input(case, seeds)
    seed = seed_of(case, seeds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if target in ("model", "tiny"):
            for name, operation in MODEL_OPERATIONS.items():
                _call(name, functools.partial(operation, data, seed, workdir), outcomes)
        elif target == "metadata":
            for name, function in metadata_operations(data, seed, workdir).items():
                _call(name, function, outcomes)
        elif target == "bundle":
            for name, operation in BUNDLE_OPERATIONS.items():
                _call(name, functools.partial(operation, data, seed, workdir), outcomes)
        elif target == "bundle-write":
            _call("bundle-write", functools.partial(op_bundle_write, case["entries"]), outcomes)
        elif target == "spec":
            for kind in ("audio-classifier", "image-classifier", "object-detector"):
                _call(
                    f"cli-write-{kind}",
                    functools.partial(op_cli_write, data, seed, workdir, kind),
                    outcomes,
                )
        else:
            for name, function in file_operations(target, data, seed, workdir).items():
                _call(name, function, outcomes)
    return outcomes


# -- the worker process ------------------------------------------------------------------------


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def worker_main() -> None:
    """Serve cases: one JSON case per stdin line, one JSON result per line on the real stdout.

    Results: ``{"status": "ok", "outcomes": {...}}``, or ``"escape"``/``"invariant"``/
    ``"timeout"`` with ``"message"``, ``"details"`` and ``"saved"`` (the input's path).
    """
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the worker
    failures = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    include_shared = os.environ.get("TFLITE_METADATA_FUZZ_SHARED", "1") != "0"
    _limit_memory()
    seeds = build_seeds(include_shared)
    protocol.write(json.dumps({"status": "ready", "seeds": sorted(seeds)}) + "\n")
    protocol.flush()
    use_alarm = (
        hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if use_alarm:
        signal.signal(signal.SIGALRM, _alarm)
    for number, line in enumerate(sys.stdin, 1):
        case = json.loads(line)
        result: dict[str, Any]
        with tempfile.TemporaryDirectory() as scratch:
            try:
                limit = min(CASE_TIME_LIMIT, float(case.get("limit", CASE_TIME_LIMIT)))
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    outcomes = run_case(case, seeds, Path(scratch))
                finally:
                    if use_alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                result = {"status": "ok", "outcomes": outcomes}
            except EscapeError as exc:
                result = {"status": "escape", "message": str(exc), "details": exc.details}
            except InvariantError as exc:
                result = {
                    "status": "invariant",
                    "message": str(exc),
                    "details": traceback.format_exc(),
                }
            except CaseTimeout:
                result = {
                    "status": "timeout",
                    "message": f"the case took more than {limit} s",
                    "details": traceback.format_exc(),
                }
        if result["status"] != "ok" and target_of(case) not in SELF_TESTS:
            saved = failures / f"case-{os.getpid()}-{number}.bin"
            with contextlib.suppress(Exception):
                saved.write_bytes(case_input(case, seeds))
                result["saved"] = str(saved)
        protocol.write(json.dumps(result) + "\n")
        protocol.flush()


def target_of(case: dict[str, Any]) -> str:
    return str(case.get("target"))


def _limit_memory() -> None:
    """Cap the worker's address space: a lying length that allocates fails loudly, fast."""
    limit = int(os.environ.get("TFLITE_METADATA_FUZZ_MEMORY_MB", "3072")) << 20
    try:
        import resource
    except ImportError:  # not on Windows
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


if __name__ == "__main__":
    worker_main()
