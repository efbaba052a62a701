"""A corpus of hand-made hostile inputs, each a regression test of one attack.

Every input is made here, in code, deterministically and small; each test's
docstring says what it attacks. Each asserts the exact exception class and the
words of its message that say what is wrong and where. The property-based
counterpart is ``tests/test_fuzz.py``.

Groups: the model's FlatBuffer, the metadata buffer, work bounds (shared
offsets, deep nesting, lying lengths), the zip of associated files, ``.task``
bundles, label and score calibration files, CLI spec files, and writing
(unwritable folders, a disk that fills up midway).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import struct
import sys
import tempfile
import tracemalloc
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import flatbuffers
import pytest

import fuzz_harness
from fuzz_harness import RawEntry, deflate_bomb, raw_zip
from tflite_metadata import _model_builder as model_builder
from tflite_metadata import fileio
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata.archive.associated_files import (
    ExtractRefusedError,
    extract_all,
    find_zip,
    salvage_zip_start,
    write_zip,
)
from tflite_metadata.check import check
from tflite_metadata.cli import main
from tflite_metadata.errors import (
    AssociatedFileError,
    ConsumerCompatibilityWarning,
    InputReadError,
    MetadataError,
    MetadataFormatError,
    MetadataValidationError,
    ModelFormatError,
    OutputWriteError,
)
from tflite_metadata.format import codec
from tflite_metadata.format.flatbuf import MAX_DEPTH, FlatBufferReader, Table
from tflite_metadata.format.model_schema import (
    BufferField,
    MetadataField,
    ModelField,
    SubGraphField,
    TensorField,
)
from tflite_metadata.format.version import min_parser_version
from tflite_metadata.metadata_writers.metadata_info import LabelFileMd, ScoreCalibrationMd
from tflite_metadata.model.display import MetadataDisplayer, convert_to_json
from tflite_metadata.model.populate import MetadataPopulator, populate_buffer, populate_file
from tflite_metadata.model.reader import ModelView
from tflite_metadata.tasks.audio_classifier import AudioClassifierWriter
from tflite_metadata.tasks.image_classifier import ImageClassifierWriter
from tflite_metadata.tasks.object_detector import ObjectDetectorWriter
from tflite_metadata.tasks.spec import load_spec

LABELS = b"cat\ndog\nbird\n"

#: Bytes a hostile input may make the package allocate while failing: far less
#: than any lying length below would cost if it were believed.
MEMORY_BOUND = 32 << 20

# -- inputs ---------------------------------------------------------------------------------


def small_model(**kwargs: Any) -> bytes:
    """A three-class audio classifier from the model builder (a few KB)."""
    options = {"input_samples": 16, "heads": (3,), **kwargs}
    return bytes(model_builder.build_audio_classifier(**options))


def writer_for(model: bytes) -> AudioClassifierWriter:
    return AudioClassifierWriter.create_for_inference(
        model, 16000, 1, [LabelFileMd("labels.txt", content=LABELS)]
    )


def metadata_for(model: bytes) -> bytes:
    buffer = writer_for(model)._metadata_buffer
    assert buffer is not None
    return bytes(buffer)


def populated_model(**kwargs: Any) -> bytes:
    """The small model with metadata and a zip holding ``labels.txt``."""
    return bytes(writer_for(small_model(**kwargs)).populate())


def patched(data: bytes, pos: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, pos, value)
    return bytes(out)


def root_of(data: bytes) -> Table:
    return ModelView(data).root


def subgraph_of(data: bytes) -> Table:
    subgraphs = root_of(data).vector(ModelField.SUBGRAPHS, 4, "subgraphs")
    assert subgraphs is not None
    return subgraphs.table(0)


@contextlib.contextmanager
def bounded_memory(limit: int = MEMORY_BOUND) -> Iterator[None]:
    """Fail when the block allocates more than ``limit`` bytes at its peak."""
    tracemalloc.start()
    try:
        yield
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < limit, f"allocated {peak} bytes at the peak, expected < {limit}"


def every_reader(data: bytes) -> list[Callable[[], Any]]:
    """The public entry points that read a model's tensors (the displayer reads none)."""

    def populator() -> None:
        populator = MetadataPopulator.with_model_buffer(data)
        populator.load_metadata_buffer(metadata_for(small_model()))

    return [
        lambda: check(data),
        lambda: writer_for(data),
        populator,
        lambda: populate_buffer(data, metadata_for(small_model()), {"labels.txt": LABELS}),
    ]


def assert_every_reader_refuses(data: bytes, error: type[MetadataError], *fragments: str) -> None:
    """Each public reader raises ``error`` whose message holds every fragment."""
    for read in every_reader(data):
        with pytest.raises(error) as caught:
            read()
        for fragment in fragments:
            assert fragment in str(caught.value)


def metadata_dag(copies: int, name_length: int) -> bytes:
    """Metadata whose ``associated_files`` are ``copies`` offsets to one table with a long name."""
    builder = flatbuffers.Builder(0)
    name = builder.CreateString("x" * name_length)
    fb.AssociatedFileStart(builder)
    fb.AssociatedFileAddName(builder, name)
    shared = fb.AssociatedFileEnd(builder)
    fb.ModelMetadataStartAssociatedFilesVector(builder, copies)
    for _ in range(copies):
        builder.PrependUOffsetTRelative(shared)
    files = builder.EndVector()
    fb.ModelMetadataStart(builder)
    fb.ModelMetadataAddAssociatedFiles(builder, files)
    builder.Finish(fb.ModelMetadataEnd(builder), b"M001")
    return bytes(builder.Output())


def crafted_model(copies: int, name_length: int, shape: tuple[int, ...] = (1, 3)) -> bytes:
    """A model whose subgraph lists tensor 0 (its name ``name_length`` bytes, its shape
    ``shape``) ``copies`` times as its inputs, and once as its output."""
    builder = flatbuffers.Builder(0)
    name = builder.CreateString("t" * name_length)
    builder.StartVector(4, len(shape), 4)
    for dimension in reversed(shape):
        builder.PrependInt32(dimension)
    shape_vector = builder.EndVector()
    builder.StartObject(len(TensorField))
    builder.PrependUOffsetTRelativeSlot(TensorField.SHAPE, shape_vector, 0)
    builder.PrependUOffsetTRelativeSlot(TensorField.NAME, name, 0)
    tensor = builder.EndObject()

    def offsets(items: list[int]) -> int:
        builder.StartVector(4, len(items), 4)
        for item in reversed(items):
            builder.PrependUOffsetTRelative(item)
        return int(builder.EndVector())

    def ints(items: list[int]) -> int:
        builder.StartVector(4, len(items), 4)
        for item in reversed(items):
            builder.PrependInt32(item)
        return int(builder.EndVector())

    tensors = offsets([tensor])
    inputs = ints([0] * copies)
    outputs = ints([0])
    builder.StartObject(len(SubGraphField))
    builder.PrependUOffsetTRelativeSlot(SubGraphField.TENSORS, tensors, 0)
    builder.PrependUOffsetTRelativeSlot(SubGraphField.INPUTS, inputs, 0)
    builder.PrependUOffsetTRelativeSlot(SubGraphField.OUTPUTS, outputs, 0)
    subgraph = builder.EndObject()
    subgraphs = offsets([subgraph])
    builder.StartObject(len(ModelField))
    builder.PrependUint32Slot(ModelField.VERSION, 3, 0)
    builder.PrependUOffsetTRelativeSlot(ModelField.SUBGRAPHS, subgraphs, 0)
    builder.Finish(builder.EndObject(), b"TFL3")
    return bytes(builder.Output())


# -- the model's FlatBuffer -------------------------------------------------------------------


def test_truncated_model() -> None:
    """Attacks every offset at once: the model cut short, its tables now past the end."""
    model = small_model()
    subgraph_pos = subgraph_of(model).pos
    assert_every_reader_refuses(
        model[: subgraph_pos + 2], ModelFormatError, "model: ", "past the end"
    )


def test_not_a_model() -> None:
    """Attacks the identifier check: a metadata buffer given as a model."""
    hostile = metadata_for(small_model())
    assert_every_reader_refuses(hostile, ModelFormatError, "identifier")
    with pytest.raises(ModelFormatError, match="does not have the expected identifier"):
        MetadataDisplayer.with_model_buffer(hostile)


def test_self_pointing_offset() -> None:
    """Attacks offset following: subgraph 0's offset is 0, pointing at itself (a cycle)."""
    model = small_model()
    subgraphs = root_of(model).vector(ModelField.SUBGRAPHS, 4, "subgraphs")
    assert subgraphs is not None
    hostile = patched(model, subgraphs.start, "<I", 0)
    assert_every_reader_refuses(hostile, ModelFormatError, "subgraphs[0]", "invalid size 0")


def test_vtable_offset_outside_the_buffer() -> None:
    """Attacks the vtable lookup: the root table's signed vtable offset points far away."""
    model = small_model()
    hostile = patched(model, root_of(model).pos, "<i", -0x7FFFFFFF)
    assert_every_reader_refuses(hostile, ModelFormatError, "Model vtable", "past the end")


def test_vector_length_of_2_to_the_32() -> None:
    """Attacks allocation: the subgraphs vector claims 2**32 - 1 elements."""
    model = small_model()
    length_pos = root_of(model).reader.deref(
        root_of(model).field_pos(ModelField.SUBGRAPHS, 4), "subgraphs"
    )
    hostile = patched(model, length_pos, "<I", 0xFFFFFFFF)
    with bounded_memory():
        assert_every_reader_refuses(
            hostile, ModelFormatError, "subgraphs (4294967295 elements)", "past the end"
        )


def test_tensor_index_out_of_range() -> None:
    """Attacks index checks: the subgraph's input is tensor 999 of a handful."""
    model = small_model()
    inputs = subgraph_of(model).vector(SubGraphField.INPUTS, 4, "inputs")
    assert inputs is not None
    hostile = patched(model, inputs.start, "<i", 999)
    # The writers need the tensors: a clear error.
    with pytest.raises(ModelFormatError, match=r"inputs\[0\] is tensor 999"):
        writer_for(hostile)
    # Populate counts the inputs only, as tflite-support; check reports the index.
    out = populate_buffer(hostile, metadata_for(small_model()), {"labels.txt": LABELS})
    assert MetadataDisplayer.with_model_buffer(out).get_packed_associated_file_list() == [
        "labels.txt"
    ]
    assert [(p.code, p.location) for p in check(out)] == [("tensor-index", "input 0")]


def test_metadata_buffer_index_out_of_range() -> None:
    """Attacks Model.metadata: the TFLITE_METADATA entry names buffer 999."""
    model = populated_model()
    view = ModelView(model)
    (entry,) = [e for e in view.metadata_entries() if e.name == b"TFLITE_METADATA"]
    table = Table(view.reader, entry.table_pos, "metadata", 0)
    hostile = patched(model, table.field_pos(MetadataField.BUFFER, 4), "<I", 999)
    with pytest.raises(ModelFormatError, match="no buffer 999"):
        MetadataDisplayer.with_model_buffer(hostile)
    with pytest.raises(ModelFormatError, match="no buffer 999"):
        check(hostile)
    with pytest.raises(ModelFormatError, match="names buffer 999"):
        populate_buffer(hostile, metadata_for(small_model()), {"labels.txt": LABELS})


def test_external_buffer_offset_past_the_end() -> None:
    """Attacks external weights: a Buffer.offset beyond the end of the file."""
    model = small_model(external_buffers=True)
    view = ModelView(model)
    (index, info) = next(
        (i, view.buffer_info(i))
        for i in range(view.buffer_count)
        if view.buffer_info(i).is_external
    )
    hostile = patched(model, info.offset_field_pos, "<Q", len(model) + 16)
    message = f"buffer {index} keeps {info.size} bytes at file offset {len(model) + 16}"
    with pytest.raises(ModelFormatError, match=message):
        ModelView(hostile).buffer_info(index)
    with pytest.raises(ModelFormatError, match="past the end of the model"):
        populate_buffer(hostile, metadata_for(small_model()), {"labels.txt": LABELS})


def test_external_buffer_size_of_2_to_the_64() -> None:
    """Attacks allocation and overflow: an external buffer of 2**64 - 1 bytes."""
    model = small_model(external_buffers=True)
    view = ModelView(model)
    info = next(
        view.buffer_info(i) for i in range(view.buffer_count) if view.buffer_info(i).is_external
    )
    size_pos = Table(view.reader, info.table_pos, "buffer", 0).field_pos(BufferField.SIZE, 8)
    hostile = patched(model, size_pos, "<Q", 2**64 - 1)
    with bounded_memory(), pytest.raises(ModelFormatError, match="past the end of the model"):
        populate_buffer(hostile, metadata_for(small_model()), {"labels.txt": LABELS})


# -- the metadata buffer ---------------------------------------------------------------------


def test_union_value_of_an_unknown_type_is_not_read() -> None:
    """Attacks union decoding: type 52 (no such member) over a table whose vtable is garbage.

    Like flatc's verifier (which tflite-support runs) and version.py, decoding does
    not read a value of no known type; the JSON, which must name the type, refuses it.
    """
    metadata = fb.ModelMetadataT()
    subgraph = fb.SubGraphMetadataT()
    tensor = fb.TensorMetadataT()
    tensor.content = fb.ContentT()
    tensor.content.contentPropertiesType = fb.ContentProperties.FeatureProperties
    tensor.content.contentProperties = fb.FeaturePropertiesT()
    subgraph.inputTensorMetadata = [tensor]
    metadata.subgraphMetadata = [subgraph]
    buffer = codec.encode(metadata)
    content = fb.ModelMetadata.GetRootAs(buffer).SubgraphMetadata(0).InputTensorMetadata(0)
    table = content.Content()._tab
    value = table.reader.deref(table.field_pos(1, 4), "value")
    hostile = patched(patched(buffer, table.field_pos(0, 1), "<B", 52), value, "<i", -0x7FFFFFFF)
    decoded = codec.decode(hostile).subgraphMetadata[0].inputTensorMetadata[0].content
    assert (decoded.contentPropertiesType, decoded.contentProperties) == (52, None)
    assert min_parser_version(hostile) == "1.0.0"
    with pytest.raises(
        MetadataFormatError, match="a ContentProperties value is stored with type 52"
    ):
        convert_to_json(hostile)


# -- work bounds ------------------------------------------------------------------------------


def test_shared_offsets_in_metadata_do_not_multiply_the_work() -> None:
    """Attacks work bounds: 20,000 offsets to one table with a 100 KB name (a 180 KB buffer).

    Believed, decoding would copy the name 20,000 times: 2 GB and seconds of work.
    """
    hostile = metadata_dag(20_000, 100_000)
    assert len(hostile) < 200_000
    readers: list[Callable[[], Any]] = [
        lambda: codec.decode(hostile),
        lambda: convert_to_json(hostile),
        lambda: MetadataPopulator.with_model_buffer(small_model()).load_metadata_buffer(hostile),
    ]
    for read in readers:
        with bounded_memory(), pytest.raises(MetadataFormatError) as caught:
            read()
        assert "associated_files[" in str(caught.value)
        assert "more objects than its size allows" in str(caught.value)


def test_shared_offsets_in_metadata_within_the_budget_are_read() -> None:
    """The bound is proportional, not a ban on sharing: a few shared references decode."""
    files = codec.decode(metadata_dag(3, 100)).associatedFiles
    assert [f.name for f in files] == [b"x" * 100] * 3
    assert min_parser_version(metadata_dag(3, 100)) == "1.0.0"


def test_shared_offsets_in_a_model_do_not_multiply_the_work() -> None:
    """Attacks work bounds in the model: 20,000 inputs, all tensor 0, whose name is 50 KB."""
    hostile = crafted_model(20_000, 50_000)
    with bounded_memory(), pytest.raises(ModelFormatError) as caught:
        ModelView(hostile).inputs()
    assert "more objects than its size allows" in str(caught.value)
    with bounded_memory(), pytest.raises(ModelFormatError, match="more objects than"):
        writer_for(hostile)


def test_problems_do_not_grow_with_the_square_of_a_shape() -> None:
    """Attacks the report's size: an input of 30,000 dimensions, all below 1.

    One problem per bad dimension, each showing the whole shape, made 30,000
    messages of 30,000 numbers (minutes of work from a 120 KB model).
    """
    hostile = crafted_model(1, 1, (-1,) * 30_000)
    with bounded_memory():
        problems = [p for p in check(hostile, task="audio-classifier") if p.code == "input-shape"]
    assert [p.message for p in problems] == [
        "shape [-1, -1, -1, -1, -1, -1, -1, -1, … (30000 dimensions)] has 30000 dimensions; "
        "expected 1 or 2",
        "dimension 0 of shape [-1, -1, -1, -1, -1, -1, -1, -1, … (30000 dimensions)] is -1 "
        "(and 29999 other dimensions below 1); every dimension should be at least 1",
    ]


def test_reader_api_serves_any_number_of_calls() -> None:
    """Regression: the flatc-style accessors must not run out of budget on a valid buffer."""
    buffer = metadata_dag(3, 10)
    metadata = fb.ModelMetadata.GetRootAsModelMetadata(buffer, 0)
    for index in range(100_000):
        assert metadata.AssociatedFiles(index % 3).Name() == b"x" * 10
    # The object API, from the same reader, still has a budget of its own.
    assert len(fb.ModelMetadataT.InitFromObj(metadata).associatedFiles) == 3
    hostile = fb.ModelMetadata.GetRootAsModelMetadata(metadata_dag(20_000, 100_000), 0)
    with bounded_memory(), pytest.raises(MetadataFormatError, match="more objects than"):
        fb.ModelMetadataT.InitFromObj(hostile)


def test_model_view_serves_any_number_of_queries() -> None:
    """Regression: a long-lived ModelView answers every query, each with its own budget."""
    view = ModelView(small_model())
    for _ in range(20_000):
        assert len(view.inputs()) == 1
        assert view.buffer_info(0) is not None


def test_deep_nesting_is_bounded() -> None:
    """Attacks recursion: 200 tables nested through field 0 (the schemas nest a few levels)."""
    builder = flatbuffers.Builder(0)
    child = None
    for _ in range(200):
        builder.StartObject(1)
        if child is not None:
            builder.PrependUOffsetTRelativeSlot(0, child, 0)
        child = builder.EndObject()
    builder.Finish(child)
    reader = FlatBufferReader(bytes(builder.Output()), what="deep", error=MetadataFormatError)
    table: Table | None = reader.root("Root")
    with pytest.raises(MetadataFormatError, match=f"nest deeper than {MAX_DEPTH} levels"):
        while table is not None:
            table = table.table(0, "child")


# -- the zip of associated files --------------------------------------------------------------


def with_zip(entries: list[RawEntry], **kwargs: Any) -> bytes:
    """The populated small model whose zip is replaced by a crafted one."""
    model = populated_model()
    tail = find_zip(model)
    assert tail is not None
    body = model[: tail.start]
    return body + raw_zip(entries, len(body), **kwargs)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.txt", "has a '..' component"),
        ("a/../../evil.txt", "has a '..' component"),
        ("/etc/evil.txt", "is an absolute path"),
        ("C:evil.txt", "starts with a drive letter"),
        ("dir\\evil.txt", "contains a backslash"),
    ],
)
def test_zip_slip_is_refused_on_extract(name: str, reason: str, tmp_path: Path) -> None:
    """Attacks extraction (zip slip): an entry name that leads out of the folder."""
    hostile = with_zip([RawEntry(b"labels.txt", LABELS), RawEntry(name.encode(), b"owned")])
    folder = tmp_path / "out"
    with pytest.raises(ExtractRefusedError) as caught:
        tail = find_zip(hostile)
        assert tail is not None
        extract_all(tail, folder)
    assert f"{name!r} {reason}" in str(caught.value)
    model = tmp_path / "model.tflite"
    model.write_bytes(hostile)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["extract", str(model), "-d", str(folder)]) == 1
    assert "nothing was extracted" in err.getvalue()
    assert not folder.exists() or not any(folder.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite"]


def test_zip_bomb_is_refused_on_read() -> None:
    """Attacks memory: one deflated entry of 4 MiB of zeros (a ratio near 1000)."""
    bomb = deflate_bomb()
    hostile = with_zip([RawEntry(b"labels.txt", LABELS), bomb])
    displayer = MetadataDisplayer.with_model_buffer(hostile)
    with bounded_memory(), pytest.raises(AssociatedFileError) as caught:
        displayer.get_associated_file_buffer("bomb.txt")
    assert "'bomb.txt' would expand" in str(caught.value)
    assert "refusing a likely zip bomb" in str(caught.value)
    assert displayer.get_associated_file_buffer("labels.txt") == LABELS


def test_many_small_bombs_are_refused_together() -> None:
    """Attacks memory and time: 40 deflated entries of 1 MiB, each under the per-entry check."""
    data = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = compressor.compress(data) + compressor.flush()
    entries = [
        RawEntry(f"part{i}.txt".encode(), packed, method=8, crc32=zlib.crc32(data), size=len(data))
        for i in range(40)
    ]
    hostile = with_zip(entries)
    tail = find_zip(hostile)
    assert tail is not None
    with bounded_memory(), pytest.raises(AssociatedFileError) as caught:
        tail.read("part0.txt")
    assert "compressed entries together would expand" in str(caught.value)


def test_duplicate_zip_names() -> None:
    """Attacks name lookup: two entries called labels.txt with different contents."""
    hostile = with_zip([RawEntry(b"labels.txt", LABELS), RawEntry(b"labels.txt", b"evil\n")])
    with pytest.raises(AssociatedFileError, match="duplicate names are ambiguous"):
        MetadataDisplayer.with_model_buffer(hostile)
    (problem,) = [p for p in check(hostile) if p.code == "zip-malformed"]
    assert "is already used by entry 0" in problem.message


def test_truncated_central_directory() -> None:
    """Attacks the central directory walk: the end record counts two entries, there is one."""
    hostile = with_zip([RawEntry(b"labels.txt", LABELS)], entry_count=2)
    with pytest.raises(AssociatedFileError, match="declares 2 entries in a central directory"):
        MetadataDisplayer.with_model_buffer(hostile)


def test_end_record_pointing_outside() -> None:
    """Attacks the end record: its central directory size runs before the start of the file."""
    hostile = with_zip([RawEntry(b"labels.txt", LABELS)], directory_size=0x7FFFFFFF)
    with pytest.raises(AssociatedFileError, match="which does not fit before it"):
        MetadataDisplayer.with_model_buffer(hostile)


def test_huge_declared_entry_count() -> None:
    """Attacks allocation: an end record declaring 65,535 entries in a tiny archive."""
    hostile = with_zip([], entry_count=0xFFFF, directory_size=0)
    with bounded_memory(), pytest.raises(AssociatedFileError, match="declares 65535 entries"):
        MetadataDisplayer.with_model_buffer(hostile)


def test_lying_stored_size() -> None:
    """Attacks allocation: a stored entry claiming 2 GiB of data it does not have."""
    entry = RawEntry(b"labels.txt", LABELS, compressed_size=2**31, size=2**31)
    with bounded_memory(), pytest.raises(AssociatedFileError, match="runs past"):
        MetadataDisplayer.with_model_buffer(with_zip([entry]))


# -- .task bundles ----------------------------------------------------------------------------


def run_cli_quietly(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(list(argv))
    return status, err.getvalue()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.tflite", "has a '..' component"),
        ("/etc/evil.tflite", "is an absolute path"),
        ("C:evil.tflite", "starts with a drive letter"),
        ("dir\\evil.tflite", "contains a backslash"),
        ("a/./b.tflite", "has a '.' component"),
    ],
)
def test_bundle_slip_is_refused_on_extract(name: str, reason: str, tmp_path: Path) -> None:
    """Attacks extraction: a bundle entry whose name leads out of the folder."""
    bundle = raw_zip([RawEntry(b"a.tflite", small_model()), RawEntry(name.encode(), b"owned")], 0)
    path = tmp_path / "hostile.task"
    path.write_bytes(bundle)
    folder = tmp_path / "out"
    for command in (["bundle", "extract"], ["extract"]):
        status, err = run_cli_quietly(*command, str(path), "-d", str(folder))
        assert status == 1
        assert f"problem: refused {name!r}: {reason}" in err
        assert "error: nothing was extracted: 1 of 2 bundle entry names" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.task"]


@pytest.mark.parametrize("zip64", [False, True])
def test_bundle_entry_that_lies_about_its_size(zip64: bool, tmp_path: Path) -> None:
    """Attacks allocation (and MediaPipe's reader, which crashes on it): 1 TiB (Zip64) or 4 GiB."""
    lie = 1 << 40
    if zip64:
        extra = struct.pack("<HHQQ", 1, 16, lie, lie)
        entry = RawEntry(
            b"a.tflite", b"small", size=0xFFFFFFFF, compressed_size=0xFFFFFFFF, extra=extra
        )
    else:
        entry = RawEntry(b"a.tflite", b"small", size=0xFFFFFFF0)
    bundle = raw_zip([entry, RawEntry(b"b.tflite", b"other")], 0)
    path = tmp_path / "hostile.task"
    path.write_bytes(bundle)
    with bounded_memory():
        (problem,) = check(bundle)
        status, err = run_cli_quietly("show", str(path))
    assert problem.code == "entry-size"
    assert "crashes (segmentation fault)" in problem.message
    assert status == 1 and err.startswith("error: ") and "a.tflite" in err


def test_bundle_of_too_many_entries(tmp_path: Path) -> None:
    """Attacks time and memory: an end record declaring 65,535 entries in a tiny bundle."""
    bundle = raw_zip([RawEntry(b"a", b"1")], 0, entry_count=0xFFFF)
    with bounded_memory():
        (problem,) = check(bundle)
    assert problem.code == "zip-malformed"
    assert "declares 65535 entries" in problem.message


def test_a_bundle_that_contains_itself(tmp_path: Path) -> None:
    """Attacks recursion: an entry that declares the bundle's own records as its data."""
    first = RawEntry(b"self.task", b"")
    inner = raw_zip([first, RawEntry(b"b", b"x")], 0)
    # The first entry declares every byte after its header, the bundle's own records included.
    covered = len(inner) - 30 - len(b"self.task")
    outer = raw_zip([RawEntry(b"self.task", b"", size=covered, compressed_size=covered)], 0)
    with bounded_memory():
        problems = check(outer)
    assert [p.code for p in problems] == ["entry-size"]


def test_bundles_nested_forty_deep() -> None:
    """Attacks recursion: bundles inside bundles inside bundles; only 4 levels are opened."""
    data = b"core"
    for level in range(40):
        data = raw_zip([RawEntry(f"l{level}.task".encode(), data), RawEntry(b"x", b"")], 0)
    with bounded_memory():
        problems = check(data)
    assert [p.code for p in problems] == ["file-not-checked"]


def corrupt_zips() -> dict[str, Callable[[bytes, Any], bytes]]:
    """Ways to break a model's zip, by the part they break."""

    def flip_central_signature(model: bytes, tail: Any) -> bytes:
        return patched(model, tail.central_directory_offset, "<I", 0x41414141)

    def end_record_outside(model: bytes, tail: Any) -> bytes:
        return patched(model, len(model) - 6, "<I", 0xFFFFFF00)

    def corrupt_local_header(model: bytes, tail: Any) -> bytes:
        return patched(model, tail.start, "<I", 0x41414141)

    def truncated_end_record(model: bytes, tail: Any) -> bytes:
        return model[:-10]

    return {
        "central directory signature": flip_central_signature,
        "end record pointing outside": end_record_outside,
        "local header signature": corrupt_local_header,
        "truncated end record": truncated_end_record,
    }


@pytest.mark.parametrize("corruption", sorted(corrupt_zips()))
def test_a_corrupt_zip_is_replaced_on_populate(corruption: str) -> None:
    """Attacks populate: a model whose zip does not parse.

    Reading it is an error; populating over it writes a clean zip holding only the
    new files, and none of the old archive's bytes.
    """
    model = populated_model()
    tail = find_zip(model)
    assert tail is not None
    hostile = corrupt_zips()[corruption](model, tail)
    with pytest.raises(AssociatedFileError):
        find_zip(hostile)
    assert salvage_zip_start(hostile) == tail.start
    new_labels = b"lion\ntiger\nbear\n"
    before = bytes(hostile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        out = populate_buffer(hostile, metadata_for(small_model()), {"labels.txt": new_labels})
    assert hostile == before
    out_tail = find_zip(out)
    assert out_tail is not None
    assert out_tail.names() == ["labels.txt"]
    assert out_tail.read("labels.txt") == new_labels
    assert out.count(b"PK\x01\x02") == 1 and out.count(b"PK\x05\x06") == 1
    assert [p.code for p in check(out)] == []


def test_unconfirmed_garbage_after_a_model_is_kept_but_shadowed() -> None:
    """Attacks populate: an end record signature followed by garbage that confirms nothing.

    Nothing shows where such garbage begins (the signature may be in the model's
    own weights), so its bytes are kept; the new zip after them is what every
    reader finds.
    """
    hostile = small_model() + b"PK\x05\x06" + bytes(range(1, 41))
    with pytest.raises(AssociatedFileError):
        find_zip(hostile)
    assert salvage_zip_start(hostile) is None
    out = populate_buffer(hostile, metadata_for(small_model()), {"labels.txt": LABELS})
    tail = find_zip(out)
    assert tail is not None and tail.names() == ["labels.txt"]
    # With no file to pack, an empty archive still shadows the garbage.
    without_files = AudioClassifierWriter.create_for_inference(small_model(), 16000, 1, [])
    assert without_files._metadata_buffer is not None
    out = populate_buffer(hostile, without_files._metadata_buffer)
    tail = find_zip(out)
    assert tail is not None and tail.names() == []


def test_a_corrupt_zip_cannot_supply_recorded_files() -> None:
    """Attacks populate: the new metadata records a file that only the corrupt zip held."""
    model = populated_model()
    tail = find_zip(model)
    assert tail is not None
    hostile = patched(model, tail.central_directory_offset, "<I", 0x41414141)
    with pytest.raises(MetadataValidationError) as caught:
        populate_buffer(hostile, metadata_for(small_model()), {})
    assert "File, 'labels.txt', is recorded in the metadata" in str(caught.value)
    assert "zip of associated files cannot be read" in str(caught.value)
    with pytest.raises(MetadataValidationError, match="cannot be read"):
        populate_buffer(hostile, None, {})


# -- label and score calibration files ----------------------------------------------------------


def test_label_file_not_utf8(tmp_path: Path) -> None:
    """Attacks decoding: a label file in Latin-1; the error names the file, line and byte."""
    path = tmp_path / "labels.txt"
    path.write_bytes(b"cat\ndog\nb\xe9te\n")
    expected = f"Label file '{path}' is not valid UTF-8: line 3, column 2 has byte 0xe9"
    with pytest.raises(AssociatedFileError, match=expected):
        LabelFileMd(path).read_labels()
    with pytest.raises(AssociatedFileError, match=expected):
        AudioClassifierWriter.create_for_inference(small_model(), 16000, 1, [path]).populate()


@pytest.mark.parametrize(
    ("content", "line", "position", "token"),
    [
        (b"1.0,2.0,3.0\n1.0,nan,3.0\n", 2, 2, "nan"),
        (b"1.0,2.0,3.0\n\n1.0,2.0,inf\n", 3, 3, "inf"),
        (b"1.0,2.0,-Infinity\n", 1, 3, "-Infinity"),
        (b"1.0,two,3.0\n", 1, 2, "two"),
        (b"1e999,2.0,3.0\n", 1, 1, "1e999"),
    ],
)
def test_calibration_values_not_finite(
    content: bytes, line: int, position: int, token: str, tmp_path: Path
) -> None:
    """Attacks the calibration parser: NaN, infinities and words; the error names file and line."""
    path = tmp_path / "calibration.txt"
    path.write_bytes(content)
    expected = (
        f"Score calibration file '{path}', line {line}: parameter {position} should be a "
        f"finite number, but got '{token}'."
    )
    with pytest.raises(AssociatedFileError) as caught:
        ScoreCalibrationMd(1, 0.2, path)
    assert str(caught.value) == expected


def test_calibration_numbers_beyond_a_float() -> None:
    """Attacks number conversion: a default score and a parameter of 10**400 (OverflowError)."""
    with pytest.raises(MetadataValidationError, match="default_score should be a finite number"):
        ScoreCalibrationMd(1, 10**400, parameters=[[1.0, 2.0, 3.0]])
    with pytest.raises(MetadataValidationError, match="parameter 1 should be a finite number"):
        ScoreCalibrationMd(1, 0.2, parameters=[[10**400, 2.0, 3.0]])


def test_empty_label_file_is_reported(tmp_path: Path) -> None:
    """Attacks the consumers' contract: an empty label file is written, and reported."""
    path = tmp_path / "labels.txt"
    path.write_bytes(b"")
    with pytest.warns(ConsumerCompatibilityWarning, match="label file 'labels.txt' is empty"):
        out = AudioClassifierWriter.create_for_inference(small_model(), 16000, 1, [path]).populate()
    (problem,) = check(out)
    assert (problem.code, problem.location) == ("label-empty", "output 0")


def test_label_that_cannot_be_utf8() -> None:
    """Attacks encoding: an in-memory label holding a lone surrogate (UnicodeEncodeError)."""
    with pytest.raises(MetadataValidationError, match=r"label 1 .* cannot be written as UTF-8"):
        LabelFileMd(labels=["cat", "\ud800"])


def test_label_path_with_a_nul_character() -> None:
    """Attacks path handling: a label path holding NUL (ValueError from open)."""
    with pytest.raises(AssociatedFileError, match="embedded null byte"):
        LabelFileMd("labels\0.txt").read()


# -- CLI spec files -----------------------------------------------------------------------------


def run_write(tmp_path: Path, spec_text: str, suffix: str = ".json") -> tuple[int, str, Path]:
    model = tmp_path / "model.tflite"
    model.write_bytes(small_model())
    spec = tmp_path / f"spec{suffix}"
    spec.write_text(spec_text)
    out = tmp_path / "out.tflite"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(
            ["write", "audio-classifier", str(model), "-o", str(out), "--spec", str(spec)]
        )
    return status, err.getvalue(), out


# TOML specs need tomllib (Python 3.11+); older Pythons refuse them with their own message.
@pytest.mark.parametrize("suffix", [".json", *([".toml"] if sys.version_info >= (3, 11) else [])])
def test_deep_nesting_in_a_spec(suffix: str, tmp_path: Path) -> None:
    """Attacks the spec parser's recursion: 100,000 nested arrays (RecursionError)."""
    text = "[" * 100_000 if suffix == ".json" else "a = " + "[" * 100_000
    status, err, out = run_write(tmp_path, text, suffix)
    assert status == 1 and "internal error" not in err
    assert "its arrays or tables nest too deeply" in err
    assert not out.exists()
    with pytest.raises(MetadataValidationError, match="nest too deeply"):
        load_spec(tmp_path / f"spec{suffix}")


def test_huge_integers_in_a_spec(tmp_path: Path) -> None:
    """Attacks number conversion: 5,000 digits (ValueError) and 10**400 as a float."""
    status, err, _ = run_write(tmp_path, '{"name": ' + "9" * 5000 + "}")
    assert status == 1 and "not a usable JSON spec: Exceeds the limit" in err
    spec = {
        "input": {"sample_rate": 16000, "channels": 1},
        "outputs": [
            {"score_calibration": {"parameters": [[1, 2, 3]] * 3, "default_score": 10**400}}
        ],
    }
    status, err, out = run_write(tmp_path, json.dumps(spec))
    assert status == 1 and "internal error" not in err
    assert "score_calibration.default_score: expected a number, found an integer of 401" in err
    assert not out.exists()


# -- the image classifier's input ----------------------------------------------------------------


def small_image_model(channels: int = 3, input_type: str = "float32") -> bytes:
    return bytes(
        model_builder.build_image_classifier(
            height=4, width=4, channels=channels, classes=3, input_type=input_type
        )
    )


def run_image_write(tmp_path: Path, model: bytes, *options: str) -> tuple[int, str, Path]:
    source = tmp_path / "model.tflite"
    source.write_bytes(model)
    out = tmp_path / "out.tflite"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["write", "image-classifier", str(source), "-o", str(out), *options])
    return status, err.getvalue(), out


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
@pytest.mark.parametrize("which", ["mean", "std"])
def test_image_normalization_not_finite(which: str, value: str, tmp_path: Path) -> None:
    """Attacks the normalization values: NaN and infinities, from Python, options and spec."""
    number = float(value)
    mean, std = ([number], [127.5]) if which == "mean" else ([127.5], [number])
    with pytest.raises(MetadataValidationError, match=f"norm_{which}\\[0\\] should be a finite"):
        ImageClassifierWriter.create_for_inference(small_image_model(), mean, std, [])
    options = ["--mean", "127.5", "--std", "127.5"]
    options[1 if which == "mean" else 3] = value
    status, err, out = run_image_write(tmp_path, small_image_model(), *options)
    assert status in (1, 2) and "internal error" not in err and err.count("\n") == 1
    assert not out.exists()
    # Python's json reads NaN and Infinity; a spec may hold them.
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"input": {"mean": mean, "std": std}}))
    status, err, out = run_image_write(tmp_path, small_image_model(), "--spec", str(spec))
    assert status in (1, 2) and "internal error" not in err and "finite" in err
    assert not out.exists()


def test_image_normalization_std_zero_and_huge_vectors(tmp_path: Path) -> None:
    """Attacks the stats' division: a std of 0, and a mean of 100,000 values."""
    with pytest.raises(MetadataValidationError, match="std"):
        ImageClassifierWriter.create_for_inference(small_image_model(), [127.5], [0.0], [])
    huge = [127.5] * 100_000
    with bounded_memory():
        writer = ImageClassifierWriter.create_for_inference(small_image_model(), huge, huge, [])
        with pytest.warns(ConsumerCompatibilityWarning, match=r"\[normalization\]"):
            populated = writer.populate()
    assert any(p.code == "normalization" for p in check(populated))


@pytest.mark.parametrize("channels", [1, 2, 4, 5])
def test_image_input_with_a_wrong_number_of_channels(channels: int, tmp_path: Path) -> None:
    """Attacks the input's shape: channels other than 3; written on --no-check, and reported."""
    model = small_image_model(channels)
    status, err, out = run_image_write(tmp_path, model, "--mean", "127.5", "--std", "127.5")
    assert status == 1 and "[input-channels]" in err and not out.exists()
    status, err, out = run_image_write(
        tmp_path, model, "--mean", "127.5", "--std", "127.5", "--no-check"
    )
    assert status == 0 and out.exists()
    assert "input-channels" in {p.code for p in check(out.read_bytes())}


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00junk", b"\x00" * 1000, bytes(range(256)), b"a\r\nb\rc\n\n\n"],
    ids=["utf16-bom", "nul", "all-bytes", "mixed-line-ends"],
)
def test_image_writer_with_junk_label_files(content: bytes, tmp_path: Path) -> None:
    """Attacks the label file: binary junk is a clear error; odd but valid text is reported."""
    path = tmp_path / "labels.txt"
    path.write_bytes(content)
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(AssociatedFileError, match="is not valid UTF-8"):
            ImageClassifierWriter.create_for_inference(
                small_image_model(input_type="uint8"), None, None, [path]
            ).populate()
        status, err, out = run_image_write(
            tmp_path, small_image_model(input_type="uint8"), "--labels", str(path)
        )
        assert status == 1 and "not valid UTF-8" in err and not out.exists()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        populated = ImageClassifierWriter.create_for_inference(
            small_image_model(input_type="uint8"), None, None, [path]
        ).populate()
    problems = check(populated)
    assert {p.code for p in problems} <= {"label-count", "label-empty"}


# -- text writers: vocabularies, SentencePiece models, regex patterns ----------------------------


def run_task_write(tmp_path: Path, kind: str, model: bytes, *options: str) -> tuple[int, str, Path]:
    source = tmp_path / "model.tflite"
    source.write_bytes(model)
    out = tmp_path / "out.tflite"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["write", kind, str(source), "-o", str(out), *options])
    return status, err.getvalue(), out


def small_text_model() -> bytes:
    return bytes(
        model_builder.build_audio_classifier(input_samples=8, heads=[2], input_type="int32")
    )


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00junk", b"\x00" * 1000, bytes(range(256)), b"<PAD> 0\n<UNKNOWN> x\n"],
    ids=["utf16-bom", "nul", "all-bytes", "word-id"],
)
def test_nl_writer_with_junk_vocabularies(content: bytes, tmp_path: Path) -> None:
    """Attacks the regex vocabulary: junk is packed as given and check names the problem."""
    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes(content)
    status, err, out = run_task_write(
        tmp_path, "nl-classifier", small_text_model(), "--regex", " ", "--vocab", str(vocab)
    )
    assert status == 1 and "[vocabulary]" in err and not out.exists()
    status, err, out = run_task_write(
        tmp_path,
        "nl-classifier",
        small_text_model(),
        "--regex",
        " ",
        "--vocab",
        str(vocab),
        "--no-check",
    )
    assert status == 0 and content in out.read_bytes()
    assert {p.code for p in check(out.read_bytes())} == {"vocabulary"}


def test_nl_writer_with_a_huge_vocabulary(tmp_path: Path) -> None:
    """Attacks the vocabulary's size: one over 64 MiB is streamed, and reported unchecked."""
    vocab = tmp_path / "vocab.txt"
    with vocab.open("wb") as handle:
        handle.write(b"<PAD> 0\n<UNKNOWN> 1\n")
        handle.truncate(65 << 20)  # sparse: no disk or memory for the zeros
    tracemalloc.start()
    try:
        status, err, out = run_task_write(
            tmp_path,
            "nl-classifier",
            small_text_model(),
            "--regex",
            " ",
            "--vocab",
            str(vocab),
            "--no-check",
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 0, err
    assert peak < 32 << 20
    assert "[file-not-checked]" in err
    assert out.stat().st_size > 65 << 20


@pytest.mark.parametrize(
    "content", [b"", b"not a sentencepiece model", b"\x0a\xff\xff\xff\xff\x0f", b"\x12\x00"]
)
def test_bert_writer_with_sentence_piece_models_that_are_not(
    content: bytes, tmp_path: Path
) -> None:
    """Attacks the SentencePiece model: what the consumers would abort on is refused."""
    model = tmp_path / "sp.model"
    model.write_bytes(content)
    bert = bytes(model_builder.build_bert_classifier())
    status, err, out = run_task_write(
        tmp_path, "bert-nl-classifier", bert, "--sentence-piece-model", str(model)
    )
    assert status == 1 and "is not a SentencePiece model" in err and not out.exists()


@pytest.mark.parametrize("pattern", ["(", "[", "(?<name>x)", "\\", "\x00", "a" * 100_000])
def test_regex_patterns_are_stored_never_compiled(pattern: str, tmp_path: Path) -> None:
    """Attacks the regex pattern: invalid or huge patterns are data, stored byte for byte."""
    from tflite_metadata.metadata_writers import metadata_info
    from tflite_metadata.metadata_writers.nl_classifier import MetadataWriter as NLWriter

    vocab = tmp_path / "vocab.txt"
    vocab.write_bytes(b"<PAD> 0\n<UNKNOWN> 1\n")
    metadata_writer = NLWriter.create_for_inference(
        small_text_model(), metadata_info.RegexTokenizerMd(pattern, vocab), []
    )
    metadata = codec.decode(metadata_writer._metadata_buffer)
    unit = metadata.subgraphMetadata[0].inputTensorMetadata[0].processUnits[0]
    assert unit.options.delimRegexPattern == pattern.encode()


# -- the object detector ------------------------------------------------------------------------


def small_detector(outputs: int = 4, input_type: str = "float32") -> bytes:
    shapes = [(1, 10, 4), (1, 10), (1, 10), (1,), (1, 3), (1, 7)]
    return bytes(
        model_builder.build_detector_outputs(
            outputs=[(f"out_{i}", shapes[i % 6], "float32") for i in range(outputs)],
            input_type=input_type,
        )
    )


def run_detector_write(tmp_path: Path, model: bytes, *options: str) -> tuple[int, str, Path]:
    source = tmp_path / "model.tflite"
    source.write_bytes(model)
    out = tmp_path / "out.tflite"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["write", "object-detector", str(source), "-o", str(out), *options])
    return status, err.getvalue(), out


@pytest.mark.parametrize("value", ["nan", "inf", "1e999"])
def test_detector_normalization_not_finite(value: str, tmp_path: Path) -> None:
    """Attacks the detector's normalization: NaN and infinities, from Python and options."""
    with pytest.raises(MetadataValidationError, match="norm_mean\\[0\\] should be a finite"):
        ObjectDetectorWriter.create_for_inference(small_detector(), [float(value)], [1.0], [])
    status, err, out = run_detector_write(
        tmp_path, small_detector(), "--mean", value, "--std", "127.5"
    )
    assert status in (1, 2) and "internal error" not in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("outputs", [0, 1, 2, 3, 5, 6, 40])
def test_detector_with_other_output_counts(outputs: int, tmp_path: Path) -> None:
    """Attacks the detector's outputs: anything but four is one clear error, nothing written."""
    with pytest.raises(MetadataValidationError, match=f"but the model has {outputs}"):
        ObjectDetectorWriter.create_for_inference(small_detector(outputs), [0.0], [1.0], [])
    status, err, out = run_detector_write(
        tmp_path, small_detector(outputs), "--mean", "0", "--std", "1"
    )
    assert status == 1 and f"but the model has {outputs}" in err and not out.exists()
    assert err.count("\n") == 1 and "internal error" not in err


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00junk", b"\x00" * 1000, b"", b"a\r\nb\rc\n\n\n"],
    ids=["utf16-bom", "nul", "empty", "mixed-line-ends"],
)
def test_detector_writer_with_junk_label_maps(content: bytes, tmp_path: Path) -> None:
    """Attacks the label map: binary junk is a clear error; an empty one is reported."""
    path = tmp_path / "labelmap.txt"
    path.write_bytes(content)
    model = small_detector(input_type="uint8")
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(AssociatedFileError, match="is not valid UTF-8"):
            ObjectDetectorWriter.create_for_inference(model, None, None, [path]).populate()
        status, err, out = run_detector_write(tmp_path, model, "--labels", str(path))
        assert status == 1 and "not valid UTF-8" in err and not out.exists()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        populated = ObjectDetectorWriter.create_for_inference(model, None, None, [path]).populate()
    codes = {p.code for p in check(populated)}
    assert codes == ({"label-empty"} if not content else set())


# -- writing ----------------------------------------------------------------------------------


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_output_folder_is_a_file(tmp_path: Path) -> None:
    """Attacks output paths: the output's parent is a file (unwritable even for root)."""
    source = tmp_path / "model.tflite"
    source.write_bytes(small_model())
    (tmp_path / "a_file").write_bytes(b"x")
    before = files_in(tmp_path)
    with pytest.raises(OutputWriteError, match=r"a_file/out\.tflite'.*Not a directory"):
        populate_file(
            source,
            tmp_path / "a_file" / "out.tflite",
            metadata_for(small_model()),
            {"labels.txt": LABELS},
        )
    assert files_in(tmp_path) == before
    tail = find_zip(populated_model())
    assert tail is not None
    with pytest.raises(OutputWriteError, match="Not a directory"):
        extract_all(tail, tmp_path / "a_file" / "extracted")
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("step", ["create", "rename"])
def test_permission_denied(step: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attacks atomicity: the folder refuses the temporary file, or the final rename.

    Tests run as root, whom chmod does not stop: the refusals are monkeypatched.
    """
    source = tmp_path / "model.tflite"
    source.write_bytes(small_model())
    destination = tmp_path / "out.tflite"
    destination.write_bytes(b"the old output")
    before = files_in(tmp_path)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied")

    if step == "create":
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    else:
        monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputWriteError, match=r"out\.tflite'.*Permission denied"):
        populate_file(source, destination, metadata_for(small_model()), {"labels.txt": LABELS})
    assert files_in(tmp_path) == before


def fail_kernel_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kernel copy of the model's bytes fails as a full disk does."""

    def full(*args: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio, "_copy_file_range", full)
    monkeypatch.setattr(fileio, "_sendfile", full)


def test_disk_full_while_copying_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attacks atomicity: the disk fills up while the model's bytes are copied."""
    source = tmp_path / "model.tflite"
    source.write_bytes(populated_model())
    before = files_in(tmp_path)
    fail_kernel_copies(monkeypatch)
    with pytest.raises(OutputWriteError, match="No space left on device"):
        populate_file(
            source, tmp_path / "out.tflite", metadata_for(small_model()), {"labels.txt": LABELS}
        )
    # In place: the model must come out of it unchanged.
    populator = MetadataPopulator.with_model_file(source)
    populator.load_metadata_buffer(metadata_for(small_model()))
    populator.load_associated_file_buffers({"labels.txt": b"new\nlabels\nhere\n"})
    with pytest.raises(OutputWriteError, match="No space left on device"):
        populator.populate()
    status = main(
        [
            "write",
            "audio-classifier",
            str(source),
            "-o",
            str(tmp_path / "cli.tflite"),
            "--sample-rate",
            "16000",
            "--channels",
            "1",
            "--no-check",
        ]
    )
    assert status == 1
    assert files_in(tmp_path) == before  # no partial output, no temporary file


def test_disk_full_while_writing_the_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attacks atomicity: half of the zip is written, then the disk is full."""
    source = tmp_path / "model.tflite"
    source.write_bytes(small_model())
    before = files_in(tmp_path)
    real_write_zip = write_zip

    def half_then_full(files: Any, base: int, out: Any) -> int:
        data = io.BytesIO()
        real_write_zip(files, base, data)
        out.write(data.getvalue()[: len(data.getvalue()) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("tflite_metadata.model.populate.write_zip", half_then_full)
    with pytest.raises(OutputWriteError, match="No space left on device"):
        populate_file(
            source, tmp_path / "out.tflite", metadata_for(small_model()), {"labels.txt": LABELS}
        )
    assert files_in(tmp_path) == before


def test_model_path_is_a_folder_for_the_displayer(tmp_path: Path) -> None:
    """Attacks input paths: a folder given as the model file (IsADirectoryError)."""
    with pytest.raises(InputReadError, match=f"cannot read the model file '{tmp_path}'"):
        MetadataDisplayer.with_model_file(tmp_path)


@pytest.mark.parametrize(
    "read",
    [
        lambda path: check(path),
        lambda path: MetadataPopulator.with_model_file(path),
        lambda path: AudioClassifierWriter.create_for_inference(path, 16000, 1, []),
    ],
    ids=["check", "populator", "writer"],
)
def test_model_path_is_a_folder(read: Callable[[Path], Any], tmp_path: Path) -> None:
    """Attacks input paths: a folder given as the model file (IsADirectoryError)."""
    with pytest.raises(MetadataError, match=str(tmp_path)):
        read(tmp_path)


def test_missing_input_is_not_reported_as_an_output_error(tmp_path: Path) -> None:
    """Attacks error reporting: populate_file from a model that does not exist."""
    with pytest.raises(MetadataError) as caught:
        populate_file(
            tmp_path / "missing.tflite", tmp_path / "out.tflite", metadata_for(small_model()), {}
        )
    assert not isinstance(caught.value, OutputWriteError)


def test_the_fuzz_corpus_helpers_are_deterministic() -> None:
    """The crafted zips of the fuzz harness are byte-for-byte reproducible."""
    spec = {"entries": [{"name": 3, "data": "6869", "method": 8}], "cut": 7}
    assert fuzz_harness.zip_from_spec(spec, 100) == fuzz_harness.zip_from_spec(spec, 100)
