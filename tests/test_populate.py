"""Tests of populate: the model reader, the splice, and populate's rules.

Lossless: every byte of the original model is found again, in order, after the
new head (external buffer offsets excepted, which are shifted by exactly the
head's length); the head keeps the original alignment; ``Model`` fields newer
than our schema survive. Rules: replacing metadata, which files are packed,
the validation messages. Interoperability: tflite-support 0.4.4 reads what we
populate, and we read what it populates, to the same JSON and files.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

import consumer_env
from tflite_metadata import _model_builder as model_builder
from tflite_metadata.errors import (
    MetadataError,
    MetadataFormatError,
    MetadataValidationError,
    ModelFormatError,
)
from tflite_metadata.format.json_format import to_json
from tflite_metadata.format.model_schema import BufferField, ModelField
from tflite_metadata.metadata_writers.metadata_info import LabelFileMd
from tflite_metadata.model.populate import (
    MetadataPopulator,
    populate_buffer,
    populate_file,
    prepare_metadata,
)
from tflite_metadata.model.reader import ModelView
from tflite_metadata.model.splice import HEAD_ALIGNMENT, plan_splice
from tflite_metadata.tasks.audio_classifier import AudioClassifierWriter

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def shared(relative: str) -> bytes:
    path = TESTDATA / relative
    if not path.is_file():
        pytest.skip(f"test data {relative} is absent")
    return path.read_bytes()


def metadata_for(model: bytes, prefix: str = "class") -> tuple[bytes, dict[str, bytes]]:
    """A metadata buffer for ``model`` (one label file per output) and its files.

    The buffer is as populate stores it (``min_parser_version`` set), so that tests
    can compare it with what they read back.
    """
    classes = [shape[-1] for shape in (t.shape for t in ModelView(model).outputs())]
    label_files = [
        LabelFileMd(f"labels{i}.txt", labels=[f"{prefix} {c}" for c in range(n)])
        for i, n in enumerate(classes)
    ]
    if len(classes) == 1:
        writer = AudioClassifierWriter.create_for_inference(model, 16000, 1, label_files)
    else:
        from tflite_metadata.metadata_writers import metadata_info as info

        heads = [info.ClassificationTensorMd(label_files=[f]) for f in label_files]
        writer = AudioClassifierWriter.create_from_metadata_info_for_multihead(
            model, output_md_list=heads
        )
    buffer = writer._metadata_buffer
    assert buffer is not None
    files = {f.file_path: f.read() for f in label_files}
    return prepare_metadata(buffer, ModelView(model)).buffer, files


def external_patches(model: bytes) -> dict[int, int]:
    """Position of each external Buffer.offset field -> its value."""
    view = ModelView(model)
    return {
        info.offset_field_pos: info.offset
        for info in (view.buffer_info(i) for i in range(view.buffer_count))
        if info.is_external
    }


BUILT = {
    "float32": {},
    "two-heads": {"heads": [5, 10]},
    "external": {"external_buffers": True},
    "uint8": {"output_type": "uint8"},
}


@pytest.fixture(params=list(BUILT))
def built(request: pytest.FixtureRequest) -> bytes:
    return bytes(model_builder.build_audio_classifier(**BUILT[request.param]))


# -- the reader ---------------------------------------------------------------------------


def test_model_view_reads_tensors() -> None:
    model = bytes(model_builder.build_audio_classifier(input_samples=800, heads=[3, 4]))
    view = ModelView(model)
    assert view.subgraph_count == 1
    assert [t.shape for t in view.inputs()] == [(1, 800)]
    assert sorted(t.shape for t in view.outputs()) == [(1, 3), (1, 4)]
    assert view.metadata_buffer() is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "too small"),
        (b"\x08\x00\x00\x00TFL3", "points to 8, past the end"),
        (b"\x08\x00\x00\x00M001\x00\x00\x00\x00", "expected b'TFL3'"),
        (b"\xff\xff\xff\x7fTFL3\x00\x00\x00\x00", "past the end"),
    ],
)
def test_model_view_rejects_garbage(data: bytes, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        ModelView(data).outputs()


def test_model_view_bad_tensor_index() -> None:
    model = bytearray(model_builder.build_audio_classifier(input_samples=16, heads=[2]))
    view = ModelView(model)
    subgraph = view._subgraph(0)
    inputs = subgraph.vector(1, 4, "inputs")
    assert inputs is not None
    struct.pack_into("<i", model, inputs.start, 999)
    with pytest.raises(ModelFormatError, match="tensor 999"):
        ModelView(model).inputs()


# -- the splice: lossless ---------------------------------------------------------------


def test_original_bytes_follow_the_head_untouched(built: bytes) -> None:
    metadata, files = metadata_for(built)
    out = populate_buffer(built, metadata, files)
    plan = plan_splice(ModelView(built), metadata, len(built))
    shift = len(plan.head)
    # A whole number of pages: every alignment of the original bytes is kept, and
    # the kernel copies them page for page (fileio.copy_range).
    assert shift % HEAD_ALIGNMENT == 0 and HEAD_ALIGNMENT == 4096
    body = bytearray(out[shift : shift + len(built)])
    patches = external_patches(built)
    for pos, offset in patches.items():
        assert struct.unpack_from("<Q", body, pos)[0] == offset + shift
        struct.pack_into("<Q", body, pos, offset)
    assert body == built
    # The external weights are where the shifted offsets say.
    view = ModelView(out)
    for index in range(view.buffer_count):
        info = view.buffer_info(index)
        if info.is_external:
            assert info.offset % 16 == 0
            original = ModelView(built).buffer_data(index)
            assert original is not None
            assert view.buffer_data(index) == original
    assert bytes(view.metadata_buffer() or b"") == metadata


def test_reader_sees_the_same_model_after_populate(built: bytes) -> None:
    metadata, files = metadata_for(built)
    before, after = ModelView(built), ModelView(populate_buffer(built, metadata, files))
    assert after.inputs() == before.inputs()
    assert after.outputs() == before.outputs()
    assert after.buffer_count == before.buffer_count + 1
    names = [e.name for e in after.metadata_entries()]
    assert names == [e.name for e in before.metadata_entries()] + [b"TFLITE_METADATA"]
    for index in range(before.buffer_count):
        assert after.buffer_data(index) == before.buffer_data(index)


def test_external_alignment_is_kept() -> None:
    model = bytes(model_builder.build_audio_classifier(external_buffers=True))
    offsets = list(external_patches(model).values())
    assert offsets
    common = 0
    for offset in offsets:
        common |= offset
    alignment = common & -common
    metadata, files = metadata_for(model)
    out = populate_buffer(model, metadata, files)
    for offset in external_patches(bytes(out)).values():
        assert offset % min(alignment, 4096) == 0


def test_repopulating_replaces_the_metadata_in_place(built: bytes) -> None:
    metadata, files = metadata_for(built)
    once = bytes(populate_buffer(built, metadata, files))
    new_metadata, new_files = metadata_for(built, prefix="new")
    twice = bytes(populate_buffer(once, new_metadata, new_files))
    view = ModelView(twice)
    assert [e.name for e in view.metadata_entries()].count(b"TFLITE_METADATA") == 1
    assert view.buffer_count == ModelView(once).buffer_count
    assert bytes(view.metadata_buffer() or b"") == new_metadata
    # Populating does not grow the model by more than the new head.
    assert len(twice) - len(once) < 4 * len(new_metadata) + 4096


def test_unknown_model_fields_survive() -> None:
    # A model whose root has fields this package does not know: build it with the
    # builder's hook, then check the fields read back identically after populate.
    model = bytes(model_builder.build_audio_classifier(extra_model_fields=True))
    view = ModelView(model)
    unknown = [f for f in range(len(ModelField), view.root.field_count) if view.root.has(f)]
    assert unknown, "the builder did not add unknown Model fields"
    before = {f: _raw_field(view, f) for f in unknown}
    metadata, files = metadata_for(model)
    after_view = ModelView(populate_buffer(model, metadata, files))
    assert {f: _raw_field(after_view, f) for f in unknown} == before


def _raw_field(view: ModelView, field_id: int) -> bytes:
    """A field's value: a string's bytes when it is an offset to one, else 4 raw bytes."""
    pos = view.root.field_pos(field_id, 4)
    raw = bytes(view.data[pos : pos + 4])
    target = pos + struct.unpack("<I", raw)[0]
    if target + 4 < len(view.data):
        length = struct.unpack_from("<I", view.data, target)[0]
        if 0 < length < 256 and target + 4 + length <= len(view.data):
            return b"string:" + bytes(view.data[target + 4 : target + 4 + length])
    return b"raw:" + raw


def test_populate_file_streams_the_same_bytes(built: bytes, tmp_path: Path) -> None:
    metadata, files = metadata_for(built)
    source = tmp_path / "model.tflite"
    source.write_bytes(built)
    populate_file(source, tmp_path / "out.tflite", metadata, files)
    assert (tmp_path / "out.tflite").read_bytes() == populate_buffer(built, metadata, files)
    assert source.read_bytes() == built


def test_populate_file_in_place(tmp_path: Path) -> None:
    model = bytes(model_builder.build_audio_classifier(external_buffers=True))
    metadata, files = metadata_for(model)
    path = tmp_path / "model.tflite"
    path.write_bytes(model)
    populate_file(path, path, metadata, files)
    assert path.read_bytes() == populate_buffer(model, metadata, files)
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


# -- populate's rules --------------------------------------------------------------------


def zip_names(model: bytes | bytearray) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(bytes(model))) as archive:
        return archive.namelist()


def test_replacing_keeps_recorded_files_and_drops_stale_ones() -> None:
    model = bytes(model_builder.build_audio_classifier(heads=[3]))
    metadata, files = metadata_for(model)
    extra = {"notes.txt": b"not recorded"}
    with pytest.warns(UserWarning, match="does not exist in the metadata"):
        once = populate_buffer(model, metadata, {**files, **extra})
    assert sorted(zip_names(once)) == ["labels0.txt", "notes.txt"]
    # New metadata recording the same label file, supplied again with new content.
    twice = populate_buffer(bytes(once), metadata, {"labels0.txt": b"a\nb\nc\n"})
    assert zip_names(twice) == ["labels0.txt"]
    with zipfile.ZipFile(io.BytesIO(bytes(twice))) as archive:
        assert archive.read("labels0.txt") == b"a\nb\nc\n"
    # Not supplied again: the packed copy is kept, because the metadata records it.
    thrice = populate_buffer(bytes(twice), metadata, {})
    assert zip_names(thrice) == ["labels0.txt"]


@pytest.mark.parametrize("path", ["buffer", "file", "function", "function_file"])
def test_the_unrecorded_file_warning_points_at_the_callers_line(path: str, tmp_path: Path) -> None:
    """Each entry point reaches the warning through other calls; it names this file every time."""
    model = bytes(model_builder.build_audio_classifier(heads=[3]))
    metadata, files = metadata_for(model)
    files = {**files, "notes.txt": b"not recorded"}
    source = tmp_path / "model.tflite"
    source.write_bytes(model)
    with pytest.warns(UserWarning, match="does not exist in the metadata") as record:
        if path in ("buffer", "file"):
            populator = (
                MetadataPopulator.with_model_buffer(model)
                if path == "buffer"
                else MetadataPopulator.with_model_file(source)
            )
            populator.load_metadata_buffer(metadata)
            populator.load_associated_file_buffers(files)
            populator.populate()
        elif path == "function":
            populate_buffer(model, metadata, files)
        else:
            populate_file(source, tmp_path / "out.tflite", metadata, files)
    assert [w.filename for w in record] == [__file__]


def test_missing_recorded_file() -> None:
    model = bytes(model_builder.build_audio_classifier(heads=[3]))
    metadata, _ = metadata_for(model)
    with pytest.raises(MetadataValidationError, match=r"'labels0\.txt', is recorded in"):
        populate_buffer(model, metadata, {})


def test_file_names_are_reduced_to_basenames(tmp_path: Path) -> None:
    model = bytes(model_builder.build_audio_classifier(heads=[2]))
    labels = tmp_path / "deep" / "labels.txt"
    labels.parent.mkdir()
    labels.write_text("a\nb\n")
    writer = AudioClassifierWriter.create_for_inference(model, 16000, 1, [str(labels)])
    out = writer.populate()
    assert zip_names(out) == ["labels.txt"]
    assert '"name": "labels.txt"' in writer.get_populated_metadata_json()


@pytest.mark.parametrize(
    ("metadata", "error", "message"),
    [
        (b"", MetadataValidationError, "empty"),
        (b"\x00" * 16, MetadataFormatError, "expected identifier"),
    ],
)
def test_bad_metadata(metadata: bytes, error: type[MetadataError], message: str) -> None:
    model = bytes(model_builder.build_audio_classifier(heads=[2]))
    with pytest.raises(error, match=message):
        populate_buffer(model, metadata, {})


def test_metadata_entry_naming_a_missing_buffer() -> None:
    model = bytes(model_builder.build_audio_classifier(heads=[2]))
    metadata, files = metadata_for(model)
    out = bytearray(populate_buffer(model, metadata, files))
    view = ModelView(out)
    entry = next(e for e in view.metadata_entries() if e.name == b"TFLITE_METADATA")
    table = view.reader.table_at(entry.table_pos, "metadata", 0)
    struct.pack_into("<I", out, table.field_pos(1, 4), 4000)
    with pytest.raises(ModelFormatError, match="buffer 4000"):
        populate_buffer(bytes(out), metadata, files)


def test_external_buffer_past_the_end() -> None:
    model = bytearray(model_builder.build_audio_classifier(external_buffers=True))
    pos = next(iter(external_patches(bytes(model))))
    struct.pack_into("<Q", model, pos, len(model) + 16)
    metadata, files = metadata_for(bytes(model))
    with pytest.raises(ModelFormatError, match="past the end of the model"):
        populate_buffer(bytes(model), metadata, files)


def test_the_input_is_never_modified(built: bytes) -> None:
    metadata, files = metadata_for(built)
    mutable = bytearray(built)
    populate_buffer(mutable, metadata, files)
    populate_buffer(memoryview(mutable), metadata, files)
    assert mutable == built


def test_buffer_field_ids_are_the_schemas() -> None:
    # Guard against a renumbering slip: Buffer.offset/size follow data.
    assert (BufferField.DATA, BufferField.OFFSET, BufferField.SIZE) == (0, 1, 2)
    assert ModelField.METADATA == 6


# -- interoperability with tflite-support 0.4.4 --------------------------------------------


def reference_metadata() -> Any:
    try:
        from tflite_support import metadata
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    return metadata


INTEROP_SHARED = ["generated/small_audio.tflite", "generated/two_heads_small.tflite"]


def interop_model(name: str) -> bytes:
    if name in BUILT:
        return bytes(model_builder.build_audio_classifier(**BUILT[name]))
    return shared(name)


@pytest.mark.reference
@pytest.mark.parametrize("name", [*BUILT, *INTEROP_SHARED])
def test_reference_reads_what_we_populate(name: str) -> None:
    ref = reference_metadata()
    model = interop_model(name)
    metadata, files = metadata_for(model)
    ours = bytes(populate_buffer(model, metadata, files))
    displayer = ref.MetadataDisplayer.with_model_buffer(ours)
    assert displayer.get_metadata_json() == to_json(metadata)
    assert sorted(displayer.get_packed_associated_file_list()) == sorted(files)
    for name, content in files.items():
        assert displayer.get_associated_file_buffer(name) == content


@pytest.mark.reference
@pytest.mark.parametrize("name", ["float32", "two-heads"])
def test_populator_with_model_buffer_as_the_reference(name: str) -> None:
    """Same calls, same kind of result (``bytes``), same metadata and files read back."""
    from tflite_metadata import metadata as ours_module

    ref = reference_metadata()
    model = interop_model(name)
    metadata, files = metadata_for(model)
    results = []
    for module in (ours_module, ref):
        populator = module.MetadataPopulator.with_model_buffer(model)
        populator.load_metadata_buffer(metadata)
        populator.load_associated_file_buffers(files)
        populator.populate()
        results.append(populator.get_model_buffer())
    ours, theirs = results
    assert type(ours) is type(theirs) is bytes
    for data in (ours, theirs):
        displayer = ref.MetadataDisplayer.with_model_buffer(data)
        assert displayer.get_metadata_json() == to_json(metadata)
        assert {n: displayer.get_associated_file_buffer(n) for n in files} == files


@pytest.mark.reference
# Not the external-buffer model: tflite-support destroys it (see test_consumers).
@pytest.mark.parametrize("name", [*(n for n in BUILT if n != "external"), *INTEROP_SHARED])
def test_we_read_what_the_reference_populates(name: str) -> None:
    from tflite_metadata.metadata import MetadataDisplayer

    ref = reference_metadata()
    model = interop_model(name)
    metadata, files = metadata_for(model)
    populator = ref.MetadataPopulator.with_model_buffer(model)
    populator.load_metadata_buffer(metadata)
    populator.load_associated_file_buffers(files)
    populator.populate()
    theirs = bytes(populator.get_model_buffer())
    displayer = MetadataDisplayer.with_model_buffer(theirs)
    expected = ref.MetadataDisplayer.with_model_buffer(theirs)
    assert displayer.get_metadata_json() == expected.get_metadata_json()
    assert sorted(displayer.get_packed_associated_file_list()) == sorted(files)
    for name, content in files.items():
        assert displayer.get_associated_file_buffer(name) == content
    # And our populate over theirs replaces their metadata.
    again = bytes(populate_buffer(theirs, metadata, files))
    assert ref.MetadataDisplayer.with_model_buffer(again).get_metadata_json() == to_json(metadata)
