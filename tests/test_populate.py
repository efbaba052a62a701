"""Tests of populate: the model reader, the splice, and populate's rules.

Lossless: every byte of the original model is found again, in order, after the
new head (external buffer offsets excepted, which are shifted by exactly the
head's length); the head keeps the original alignment; ``Model`` fields newer
than our schema survive. Rules: replacing metadata, which files are packed,
the validation messages. Interoperability: tflite-support 0.4.4 reads what we
populate, and we read what it populates, to the same JSON and files.
Differential: every public method of ``MetadataPopulator`` and
``MetadataDisplayer`` (and the module's functions) runs through scenarios with
both packages, which must agree, or differ as ``DIFFERENCES`` states.
"""

from __future__ import annotations

import io
import os
import re
import reprlib
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import consumer_env
from shared_data import TESTDATA
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


def _zip_of(entries: dict[str, bytes]) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return stream.getvalue()


@pytest.mark.parametrize("metadata", [False, True])
def test_dropping_a_zip_does_not_bring_back_one_it_hid(metadata: bool, tmp_path: Path) -> None:
    """A model ending in two zips: readers see the last. Emptying it must not expose the first.

    Found by the fuzzer (the first zip a zip bomb: the output could not be read).
    """
    model = bytes(model_builder.build_audio_classifier(heads=[3]))
    hidden = _zip_of({"hidden.txt": b"from an earlier zip"})
    data = model + hidden + _zip_of({})
    assert zip_names(data) == []
    # Metadata recording no file, or none at all: nothing is packed either way.
    buffer = metadata_variant(model, "no-files") if metadata else None
    out = populate_buffer(data, buffer, {})
    assert zip_names(out) == []
    assert hidden in out  # the bytes before the old zip are kept, as always
    source, target = tmp_path / "in.tflite", tmp_path / "out.tflite"
    source.write_bytes(data)
    populate_file(source, target, buffer, {})
    assert target.read_bytes() == out


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


# -- every public method of MetadataPopulator and MetadataDisplayer, against 0.4.4 ---------------
#
# Each scenario runs once with ``tflite_metadata.metadata`` and once with tflite-support's,
# each in a fresh folder holding the same files (paths in messages are relative, so they
# are the same too). Their outcomes (the value, or the exception's type and message, and
# the warnings) must be equal: ours may raise a subclass of 0.4.4's exception type (every
# ``MetadataError`` is a ``ValueError``), never another type. Where 0.4.4 is wrong (it
# crashes with a raw error, or writes a broken model) the case says so, checks both sides
# against what is stated, and the README lists the difference.


@dataclass(frozen=True)
class Outcome:
    """What one call did: its value, or its exception; and the warnings it gave."""

    value: Any = None
    error: type[BaseException] | None = None
    message: str = ""
    warnings: tuple[str, ...] = ()

    def describe(self, full: bool = False) -> str:
        if self.error is not None:
            return f"{self.error.__name__}: {self.message}"
        return f"value {repr(self.value) if full else reprlib.repr(self.value)}"


@dataclass
class Env:
    """One side's run: the module under test and the fixtures, in the current folder."""

    module: Any
    model: bytes
    metadata: bytes
    files: dict[str, bytes]
    #: What tflite-support 0.4.4 writes when nothing is loaded: a metadata entry
    #: whose buffer has no data.
    broken: bytes

    def populator(self) -> Any:
        return self.module.MetadataPopulator.with_model_buffer(self.model)

    def populated(self) -> bytes:
        """The model populated with its metadata and files (by this side)."""
        populator = self.module.MetadataPopulator.with_model_buffer(self.model)
        populator.load_metadata_buffer(self.metadata)
        populator.load_associated_file_buffers(self.files)
        populator.populate()
        return bytes(populator.get_model_buffer())


def summary(model: Any) -> tuple[str, str | None, dict[str, bytes]]:
    """A model as both sides should agree on it: its type, metadata JSON and packed files.

    Read by this package's reader, which the tests above prove reads what either
    side writes. The JSON is ``"(empty)"`` for a metadata entry with an empty buffer.
    """
    from tflite_metadata.model.display import get_metadata_buffer

    data = bytes(model)
    metadata = get_metadata_buffer(data)
    text = None if metadata is None else (to_json(metadata) if metadata else "(empty)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
    except zipfile.BadZipFile:
        files = {}
    return type(model).__name__, text, files


def metadata_variant(model: bytes, change: str) -> bytes:
    """A metadata buffer for ``model`` changed as ``change`` says (built with the object API)."""
    import flatbuffers

    from tflite_metadata import metadata_schema_py_generated as fb

    metadata, _ = metadata_for(model)
    tree = fb.ModelMetadataT.InitFromPackedBuf(metadata, 0)
    subgraph = tree.subgraphMetadata[0]
    if change == "no-subgraph":
        tree.subgraphMetadata = []
    elif change == "two-subgraphs":
        tree.subgraphMetadata = [subgraph, subgraph]
    elif change == "extra-output":
        subgraph.outputTensorMetadata.append(fb.TensorMetadataT())
    elif change == "no-input":
        subgraph.inputTensorMetadata = []
    elif change == "paths":
        subgraph.outputTensorMetadata[0].associatedFiles[0].name = "deep/dir/labels0.txt"
    elif change == "no-files":
        subgraph.outputTensorMetadata[0].associatedFiles = None
    elif change == "nameless-file":
        subgraph.outputTensorMetadata[0].associatedFiles[0].name = None
    else:
        raise AssertionError(change)
    builder = flatbuffers.Builder(0)
    builder.Finish(tree.Pack(builder), b"M001")
    return bytes(builder.Output())


def dangling_model(model: bytes) -> bytes:
    """``model`` with its subgraph's first input naming tensor 999, which it does not have."""
    data = bytearray(model)
    inputs = ModelView(data)._subgraph(0).vector(1, 4, "inputs")
    assert inputs is not None
    struct.pack_into("<i", data, inputs.start, 999)
    return bytes(data)


Scenario = Callable[[Env], Any]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        assert name not in SCENARIOS, name
        SCENARIOS[name] = function
        return function

    return register


def _load(env: Env, metadata: Any) -> list[str]:
    populator = env.populator()
    populator.load_metadata_buffer(metadata)
    return populator.get_recorded_associated_file_list()


# MetadataPopulator.with_model_file / with_model_buffer


@scenario("with_model_file: missing")
def _(env: Env) -> Any:
    return env.module.MetadataPopulator.with_model_file("missing.tflite")


@scenario("with_model_file: a folder")
def _(env: Env) -> Any:
    return env.module.MetadataPopulator.with_model_file("folder")


@scenario("with_model_file: empty file")
def _(env: Env) -> Any:
    return env.module.MetadataPopulator.with_model_file("empty.bin")


@scenario("with_model_file: not a model")
def _(env: Env) -> Any:
    return env.module.MetadataPopulator.with_model_file("text.txt")


@scenario("with_model_file: populate in place")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_file("model.tflite")
    populator.load_metadata_file("metadata.bin")
    populator.load_associated_files(["labels0.txt"])
    populator.populate()
    return summary(Path("model.tflite").read_bytes()), summary(populator.get_model_buffer())


@scenario("with_model_file: the file removed before populate")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_file("model.tflite")
    populator.load_metadata_file("metadata.bin")
    populator.load_associated_files(["labels0.txt"])
    os.remove("model.tflite")
    populator.populate()


@scenario("with_model_file: pathlib.Path")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_file(Path("model.tflite"))
    return summary(populator.get_model_buffer()), populator.get_packed_associated_file_list()


for _name, _argument in [
    ("empty bytes", b""),
    ("None", None),
    ("empty bytearray", bytearray()),
    ("a str path", "model.tflite"),
    ("not a model", b"not a model, only words"),
    ("three bytes", b"abc"),
]:

    def _with_model_buffer(env: Env, argument: Any = _argument) -> Any:
        return env.module.MetadataPopulator.with_model_buffer(argument)

    scenario(f"with_model_buffer: {_name}")(_with_model_buffer)


@scenario("with_model_buffer: list of ints")
def _(env: Env) -> Any:
    return env.module.MetadataPopulator.with_model_buffer(list(env.model))


@scenario("with_model_buffer: bytearray, memoryview")
def _(env: Env) -> Any:
    results = []
    for model in (bytearray(env.model), memoryview(env.model)):
        populator = env.module.MetadataPopulator.with_model_buffer(model)
        populator.load_metadata_buffer(env.metadata)
        populator.load_associated_file_buffers(env.files)
        populator.populate()
        results.append(summary(populator.get_model_buffer()))
    return results


for _kind in ["float32", "two-heads"]:

    def _populate_built(env: Env, kind: str = _kind) -> Any:
        """The populator's whole flow over a model built here, with one label file per head."""
        model = interop_model(kind)
        metadata, files = metadata_for(model)
        populator = env.module.MetadataPopulator.with_model_buffer(model)
        populator.load_metadata_buffer(metadata)
        populator.load_associated_file_buffers(files)
        populator.populate()
        out = populator.get_model_buffer()
        return summary(out), summary(out)[1] == to_json(metadata)

    scenario(f"with_model_buffer: populate a {_kind} model")(_populate_built)


# The populator's state before anything is loaded


@scenario("fresh populator: get_* methods")
def _(env: Env) -> Any:
    populator = env.populator()
    return (
        summary(populator.get_model_buffer()),
        populator.get_model_buffer() == env.model,
        populator.get_packed_associated_file_list(),
        populator.get_recorded_associated_file_list(),
    )


@scenario("populated model: get_* methods")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(env.populated())
    return (
        populator.get_packed_associated_file_list(),
        populator.get_recorded_associated_file_list(),
    )


# load_metadata_buffer / load_metadata_file

for _name, _argument in [
    ("empty list", []),
    ("empty bytes", b""),
    ("None", None),
    ("empty bytearray", bytearray()),
    ("empty str", ""),
    ("a str", "M001 is not enough"),
    ("no identifier", b"\x00" * 16),
    ("two bytes", b"ab"),
    ("an int", 5),
    ("a float", 3.5),
]:

    def _load_metadata_buffer(env: Env, argument: Any = _argument) -> Any:
        return _load(env, argument)

    scenario(f"load_metadata_buffer: {_name}")(_load_metadata_buffer)


@scenario("load_metadata_buffer: bytes, bytearray, memoryview")
def _(env: Env) -> Any:
    return [
        _load(env, buffer)
        for buffer in (env.metadata, bytearray(env.metadata), memoryview(env.metadata))
    ]


@scenario("load_metadata_buffer: list of ints")
def _(env: Env) -> Any:
    return _load(env, list(env.metadata))


for _change in [
    "no-subgraph",
    "two-subgraphs",
    "extra-output",
    "no-input",
    "paths",
    "nameless-file",
]:

    def _load_variant(env: Env, change: str = _change) -> Any:
        return _load(env, metadata_variant(env.model, change))

    scenario(f"load_metadata_buffer: {_change}")(_load_variant)


@scenario("load_metadata_buffer: paths, then populate")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_buffer(metadata_variant(env.model, "paths"))
    populator.load_associated_file_buffers({"other/dir/labels0.txt": b"a\nb\nc\n"})
    populator.populate()
    return summary(populator.get_model_buffer())


for _name, _path in [
    ("missing", "missing.bin"),
    ("a folder", "folder"),
    ("empty file", "empty.bin"),
    ("a file", "metadata.bin"),
]:

    def _load_metadata_file(env: Env, path: str = _path) -> Any:
        populator = env.populator()
        populator.load_metadata_file(path)
        return populator.get_recorded_associated_file_list()

    scenario(f"load_metadata_file: {_name}")(_load_metadata_file)


# load_associated_files / load_associated_file_buffers, then populate


def _populate_with(env: Env, files: Any = None, paths: Any = None, metadata: bool = True) -> Any:
    populator = env.populator()
    if metadata:
        populator.load_metadata_buffer(env.metadata)
    if paths is not None:
        populator.load_associated_files(paths)
    if files is not None:
        populator.load_associated_file_buffers(files)
    populator.populate()
    return summary(populator.get_model_buffer())


for _name, _paths in [
    ("missing", ["missing.txt"]),
    ("a folder", ["folder"]),
    ("a str, not a list", "labels0.txt"),
    ("a file", ["labels0.txt"]),
    ("a pathlib.Path", [Path("labels0.txt")]),
    ("a path in a folder", ["folder/labels0.txt"]),
    ("two paths, one name, different contents", ["labels0.txt", "folder/labels0.txt"]),
    ("two paths, one name, same contents", ["labels0.txt", "same/labels0.txt"]),
    ("the same path twice", ["labels0.txt", "labels0.txt"]),
    ("empty list", []),
]:

    def _load_paths(env: Env, paths: Any = _paths) -> Any:
        return _populate_with(env, paths=paths)

    scenario(f"load_associated_files: {_name}")(_load_paths)


for _name, _files in [
    ("bytes", {"labels0.txt": b"x\ny\nz\n"}),
    ("bytearray", {"labels0.txt": bytearray(b"x\ny\nz\n")}),
    ("memoryview", {"labels0.txt": memoryview(b"x\ny\nz\n")}),
    ("str content", {"labels0.txt": "x\ny\nz\n"}),
    ("non-ASCII str content", {"labels0.txt": "é\nü\nß\n"}),
    ("None content", {"labels0.txt": None}),
    ("int content", {"labels0.txt": 5}),
    ("list content", {"labels0.txt": [120, 10]}),
    ("a path as name", {"folder/labels0.txt": b"x\n"}),
    ("an empty name", {"labels0.txt": b"x\n", "": b"y"}),
    ("a folder as name", {"labels0.txt": b"x\n", "folder/": b"y"}),
    ("a bytes name", {b"labels0.txt": b"x\n"}),
    ("a list of pairs", [("labels0.txt", b"x\n")]),
    ("empty content", {"labels0.txt": b""}),
    ("an unrecorded file", {"labels0.txt": b"x\n", "notes.txt": b"n"}),
    ("nothing", {}),
]:

    def _load_buffers(env: Env, files: Any = _files) -> Any:
        return _populate_with(env, files=files)

    scenario(f"load_associated_file_buffers: {_name}")(_load_buffers)


@scenario("load_associated_file_buffers: one name twice, different contents")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_buffer(env.metadata)
    populator.load_associated_file_buffers({"labels0.txt": b"first\n"})
    populator.load_associated_file_buffers({"dir/labels0.txt": b"second\n"})
    populator.populate()
    return summary(populator.get_model_buffer())


# populate


@scenario("populate: nothing loaded")
def _(env: Env) -> Any:
    return _populate_with(env, metadata=False)


@scenario("populate: files, no metadata")
def _(env: Env) -> Any:
    return _populate_with(env, files=env.files, metadata=False)


@scenario("populate: files, no metadata, over a populated model")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(env.populated())
    populator.load_associated_file_buffers({"notes.txt": b"n"})
    populator.populate()
    return summary(populator.get_model_buffer())


@scenario("populate: a recorded file not loaded")
def _(env: Env) -> Any:
    return _populate_with(env, files={})


@scenario("populate: twice")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_buffer(env.metadata)
    populator.load_associated_file_buffers(env.files)
    populator.populate()
    populator.populate()
    return summary(populator.get_model_buffer())


@scenario("populate: twice, metadata only")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_buffer(metadata_variant(env.model, "no-files"))
    populator.populate()
    populator.populate()
    return summary(populator.get_model_buffer())


@scenario("populate: new metadata over a populated model, files not loaded again")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(env.populated())
    populator.load_metadata_buffer(env.metadata)
    populator.populate()
    return summary(populator.get_model_buffer())


@scenario("populate: new metadata over a populated model, files loaded again")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(env.populated())
    populator.load_metadata_buffer(env.metadata)
    populator.load_associated_file_buffers(env.files)
    populator.populate()
    return summary(populator.get_model_buffer())


@scenario("load_metadata_and_associated_files, then populate")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_and_associated_files(env.populated())
    recorded = populator.get_recorded_associated_file_list()
    populator.populate()
    return recorded, summary(populator.get_model_buffer())


@scenario("load_metadata_and_associated_files: a model without metadata")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_and_associated_files(env.model)
    return populator.get_recorded_associated_file_list()


@scenario("dangling input tensor index: populate, display")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(dangling_model(env.model))
    populator.load_metadata_buffer(env.metadata)
    populator.load_associated_file_buffers(env.files)
    populator.populate()
    out = populator.get_model_buffer()
    displayer = env.module.MetadataDisplayer.with_model_buffer(out)
    return summary(out), displayer.get_packed_associated_file_list()


def model_without_subgraphs() -> bytes:
    """A ``Model`` whose ``subgraphs`` vector is empty (version 3, one empty buffer)."""
    import flatbuffers

    builder = flatbuffers.Builder(0)
    builder.StartObject(1)  # Buffer
    buffer = builder.EndObject()
    builder.StartVector(4, 1, 4)
    builder.PrependUOffsetTRelative(buffer)
    buffers = builder.EndVector()
    builder.StartVector(4, 0, 4)
    subgraphs = builder.EndVector()
    builder.StartObject(5)  # Model: version, operator_codes, subgraphs, description, buffers
    builder.PrependUint32Slot(0, 3, 0)
    builder.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
    builder.PrependUOffsetTRelativeSlot(4, buffers, 0)
    builder.Finish(builder.EndObject(), b"TFL3")
    return bytes(builder.Output())


@scenario("a model without subgraphs: load_metadata_buffer")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(model_without_subgraphs())
    populator.load_metadata_buffer(env.metadata)


@scenario("a model without subgraphs: populate files only")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(model_without_subgraphs())
    populator.load_associated_file_buffers({"notes.txt": b"n"})
    populator.populate()
    return summary(populator.get_model_buffer())


# MetadataDisplayer and the module's functions


for _name, _path in [
    ("missing", "missing.tflite"),
    ("a folder", "folder"),
    ("empty file", "empty.bin"),
    ("not a model", "text.txt"),
    ("no metadata", "model.tflite"),
    ("populated", "populated.tflite"),
]:

    def _displayer_file(env: Env, path: str = _path) -> Any:
        Path("populated.tflite").write_bytes(env.populated())
        displayer = env.module.MetadataDisplayer.with_model_file(path)
        return displayer.get_metadata_json(), displayer.get_packed_associated_file_list()

    scenario(f"MetadataDisplayer.with_model_file: {_name}")(_displayer_file)


for _name, _model in [
    ("empty bytes", b""),
    ("None", None),
    ("not a model", b"not a model, only words"),
    ("a str path", "model.tflite"),
]:

    def _displayer_buffer(env: Env, model: Any = _model) -> Any:
        return env.module.MetadataDisplayer.with_model_buffer(model)

    scenario(f"MetadataDisplayer.with_model_buffer: {_name}")(_displayer_buffer)


@scenario("MetadataDisplayer.with_model_buffer: no metadata")
def _(env: Env) -> Any:
    return env.module.MetadataDisplayer.with_model_buffer(env.model)


@scenario("MetadataDisplayer: every getter")
def _(env: Env) -> Any:
    populated = env.populated()
    results = []
    for model in (populated, bytearray(populated)):
        displayer = env.module.MetadataDisplayer.with_model_buffer(model)
        buffer = displayer.get_metadata_buffer()
        files = displayer.get_packed_associated_file_list()
        files.append("mutated")  # a copy: the displayer's list is unchanged
        results.append(
            (
                type(buffer).__name__,
                to_json(buffer),
                displayer.get_metadata_json(),
                displayer.get_packed_associated_file_list(),
                {n: displayer.get_associated_file_buffer(n) for n in env.files},
            )
        )
    return results


@scenario("MetadataDisplayer.get_associated_file_buffer: unknown name")
def _(env: Env) -> Any:
    displayer = env.module.MetadataDisplayer.with_model_buffer(env.populated())
    return displayer.get_associated_file_buffer("unknown.txt")


@scenario("MetadataDisplayer: metadata but no files")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_buffer(metadata_variant(env.model, "no-files"))
    populator.populate()
    displayer = env.module.MetadataDisplayer.with_model_buffer(populator.get_model_buffer())
    return displayer.get_packed_associated_file_list(), displayer.get_metadata_json()


@scenario("MetadataDisplayer(): constructor")
def _(env: Env) -> Any:
    populated = env.populated()
    metadata = env.module.get_metadata_buffer(populated)
    displayer = env.module.MetadataDisplayer(populated, metadata, ["labels0.txt"])
    return displayer.get_metadata_json(), displayer.get_packed_associated_file_list()


@scenario("MetadataDisplayer(): bytearray buffers")
def _(env: Env) -> Any:
    populated = bytearray(env.populated())
    metadata = bytearray(env.module.get_metadata_buffer(bytes(populated)))
    displayer = env.module.MetadataDisplayer(populated, metadata, ["labels0.txt"])
    buffer = displayer.get_metadata_buffer()
    return type(buffer).__name__, bytes(buffer) == metadata, displayer.get_metadata_json()


@scenario("MetadataDisplayer(): a listed file that is not packed")
def _(env: Env) -> Any:
    populated = env.populated()
    metadata = env.module.get_metadata_buffer(populated)
    displayer = env.module.MetadataDisplayer(populated, metadata, ["labels0.txt", "ghost.txt"])
    return displayer.get_associated_file_buffer("ghost.txt")


@scenario("MetadataDisplayer(): a listed file, no zip")
def _(env: Env) -> Any:
    populated = env.populated()
    metadata = env.module.get_metadata_buffer(populated)
    displayer = env.module.MetadataDisplayer(env.model, metadata, ["labels0.txt"])
    return displayer.get_associated_file_buffer("labels0.txt")


@scenario("MetadataDisplayer(): metadata without identifier")
def _(env: Env) -> Any:
    return env.module.MetadataDisplayer(env.model, b"\x00" * 16, [])


@scenario("MetadataDisplayer(): model without identifier")
def _(env: Env) -> Any:
    return env.module.MetadataDisplayer(b"\x00" * 16, env.metadata, [])


@scenario("get_metadata_buffer, convert_to_json")
def _(env: Env) -> Any:
    populated = env.populated()
    buffer = env.module.get_metadata_buffer(populated)
    return (
        env.module.get_metadata_buffer(env.model),
        type(buffer).__name__,
        env.module.convert_to_json(buffer),
    )


for _name, _buffer in [
    ("empty", b""),
    ("zeros", b"\x00" * 12),
    ("only an identifier", b"\x00\x00\x00\x00M001"),
]:

    def _convert_to_json(env: Env, buffer: bytes = _buffer) -> Any:
        return env.module.convert_to_json(buffer)

    scenario(f"convert_to_json: {_name}")(_convert_to_json)


@scenario("get_metadata_buffer, convert_to_json: bytearray")
def _(env: Env) -> Any:
    populated = bytearray(env.populated())
    buffer = env.module.get_metadata_buffer(populated)
    return type(buffer).__name__, env.module.convert_to_json(bytearray(buffer))


@scenario("module attributes")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator
    return (
        populator.METADATA_FIELD_NAME,
        populator.TFLITE_FILE_IDENTIFIER,
        populator.METADATA_FILE_IDENTIFIER,
        os.path.basename(env.module.get_path_to_datafile("data.txt")),
        os.path.dirname(env.module.get_path_to_datafile("data.txt")) == os.path.dirname(__file__),
    )


@scenario("load_associated_file_buffers: one name from two paths, different contents")
def _(env: Env) -> Any:
    return _populate_with(env, files={"labels0.txt": b"a\n", "dir/labels0.txt": b"b\n"})


@scenario("MetadataDisplayer: a metadata entry without data (tflite-support's populate output)")
def _(env: Env) -> Any:
    return env.module.MetadataDisplayer.with_model_buffer(env.broken)


@scenario("get_metadata_buffer: a metadata entry without data")
def _(env: Env) -> Any:
    return env.module.get_metadata_buffer(env.broken)


@scenario("populate: new metadata recording no file, over a populated model")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(env.populated())
    populator.load_metadata_buffer(metadata_variant(env.model, "no-files"))
    populator.populate()
    return summary(populator.get_model_buffer())


@scenario("populate: metadata over tflite-support's entry without data")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_buffer(env.broken)
    populator.load_metadata_buffer(env.metadata)
    populator.load_associated_file_buffers(env.files)
    populator.populate()
    return summary(populator.get_model_buffer())


@scenario("load_associated_file_buffers: a non-ASCII name")
def _(env: Env) -> Any:
    return _populate_with(env, files={**env.files, "étiquettes.txt": "chat\nchien\n"})


@scenario("load_metadata_file, MetadataDisplayer.with_model_file: pathlib.Path")
def _(env: Env) -> Any:
    populator = env.module.MetadataPopulator.with_model_file(Path("model.tflite"))
    populator.load_metadata_file(Path("metadata.bin"))
    populator.load_associated_files([Path("labels0.txt")])
    populator.populate()
    displayer = env.module.MetadataDisplayer.with_model_file(Path("model.tflite"))
    return displayer.get_metadata_json(), displayer.get_packed_associated_file_list()


@scenario("load_metadata_and_associated_files: tflite-support's entry without data")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_and_associated_files(env.broken)
    return populator.get_recorded_associated_file_list()


for _name, _source in [("empty bytes", b""), ("not a model", b"not a model, only words")]:

    def _load_from(env: Env, source: bytes = _source) -> Any:
        env.populator().load_metadata_and_associated_files(source)

    scenario(f"load_metadata_and_associated_files: {_name}")(_load_from)

    def _get_metadata_buffer(env: Env, source: bytes = _source) -> Any:
        return env.module.get_metadata_buffer(source)

    scenario(f"get_metadata_buffer: {_name}")(_get_metadata_buffer)


def _corrupt_tails(populated: bytes) -> dict[str, bytes]:
    end = populated.rfind(b"PK\x05\x06")
    assert end > 0
    return {
        "junk after the model": populated + b"junk" * 10,
        "a zip end record whose directory is elsewhere": populated[: end + 16]
        + struct.pack("<I", 7)
        + populated[end + 20 :],
        "a zip cut short": populated[: end - 10] + populated[end:],
    }


for _name in _corrupt_tails(b"x" + b"PK\x05\x06" + bytes(18)):

    def _tail_populator(env: Env, name: str = _name) -> Any:
        model = _corrupt_tails(env.populated())[name]
        populator = env.module.MetadataPopulator.with_model_buffer(model)
        return populator.get_packed_associated_file_list()

    def _tail_displayer(env: Env, name: str = _name) -> Any:
        model = _corrupt_tails(env.populated())[name]
        displayer = env.module.MetadataDisplayer.with_model_buffer(model)
        return displayer.get_packed_associated_file_list()

    def _tail_file(env: Env, name: str = _name) -> Any:
        model = _corrupt_tails(env.populated())[name]
        displayer = env.module.MetadataDisplayer.with_model_buffer(model)
        return displayer.get_associated_file_buffer("labels0.txt")

    scenario(f"get_associated_file_buffer, {_name}")(_tail_file)
    scenario(f"get_packed_associated_file_list, {_name}: populator")(_tail_populator)
    scenario(f"get_packed_associated_file_list, {_name}: displayer")(_tail_displayer)


@scenario("/dev/null: with_model_file")
def _(env: Env) -> Any:
    return env.module.MetadataPopulator.with_model_file(os.devnull)


@scenario("/dev/null: MetadataDisplayer.with_model_file")
def _(env: Env) -> Any:
    return env.module.MetadataDisplayer.with_model_file(os.devnull)


@scenario("/dev/null: load_associated_files")
def _(env: Env) -> Any:
    return _populate_with(env, paths=["labels0.txt", os.devnull])


@scenario("load_metadata_buffer twice: the second wins")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_buffer(env.metadata)
    first = populator.get_recorded_associated_file_list()
    populator.load_metadata_buffer(metadata_variant(env.model, "no-files"))
    populator.populate()
    return (
        first,
        populator.get_recorded_associated_file_list(),
        summary(populator.get_model_buffer()),
    )


@scenario("load_associated_file_buffers twice: the second wins")
def _(env: Env) -> Any:
    populator = env.populator()
    populator.load_metadata_buffer(env.metadata)
    populator.load_associated_files(["labels0.txt"])
    populator.load_associated_file_buffers({"labels0.txt": b"later\n"})
    populator.populate()
    return summary(populator.get_model_buffer())


for _name, _argument in [
    ("None", None),
    ("[None]", [None]),
    ("[1.5]", [1.5]),
    ("[b'labels0.txt']", [b"labels0.txt"]),
]:

    def _load_files_of(env: Env, argument: Any = _argument) -> Any:
        populator = env.populator()
        populator.load_associated_files(argument)
        populator.load_metadata_buffer(env.metadata)
        populator.populate()
        return summary(populator.get_model_buffer())

    scenario(f"load_associated_files: {_name}")(_load_files_of)


for _name, _argument in [
    ("None", None),
    ("a str", "labels0.txt"),
    ("a list of names", ["labels0.txt"]),
    ("a list of triples", [("labels0.txt", b"x", b"y")]),
]:

    def _load_buffers_of(env: Env, argument: Any = _argument) -> Any:
        env.populator().load_associated_file_buffers(argument)

    scenario(f"load_associated_file_buffers: {_name}")(_load_buffers_of)


def _run_side(module: Any, folder: Path, name: str, broken: bytes) -> Outcome:
    model = bytes(model_builder.build_audio_classifier(heads=[3]))
    metadata, files = metadata_for(model)
    folder.mkdir()
    (folder / "folder").mkdir()
    (folder / "same").mkdir()
    (folder / "model.tflite").write_bytes(model)
    (folder / "metadata.bin").write_bytes(metadata)
    (folder / "empty.bin").write_bytes(b"")
    (folder / "text.txt").write_text("not a model, only words")
    for name_, content in files.items():
        (folder / name_).write_bytes(content)
        (folder / "same" / name_).write_bytes(content)
        (folder / "folder" / name_).write_bytes(content + b"other\n")
    env = Env(module, model, metadata, files, broken)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = SCENARIOS[name](env)
            except Exception as exc:
                return Outcome(error=type(exc), message=str(exc), warnings=_messages(caught))
            if isinstance(value, (module.MetadataPopulator, module.MetadataDisplayer)):
                value = type(value).__name__
            return Outcome(value=value, warnings=_messages(caught))
    finally:
        os.chdir(cwd)


def _messages(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    # tflite-support leaves files open (ResourceWarning): not part of its interface.
    return tuple(
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, ResourceWarning)
    )


@dataclass(frozen=True)
class Differs:
    """A scenario where we differ from 0.4.4 on purpose: what each side does (regexes).

    Each pattern must match the whole of :meth:`Outcome.describe` (with the value's
    full ``repr``); ``why`` is the gist of the README's line.
    """

    ours: str
    theirs: str
    why: str


_FOLDER = Differs(
    r"InputReadError: cannot read (the model )?file 'folder': it is a folder, not a regular file",
    r"IsADirectoryError: \[Errno 21\] Is a directory: 'folder'",
    "a path that is not a regular file is refused with a clear error (a raw OSError)",
)
_NOT_BYTES = Differs(
    r"MetadataValidationError: model_bu(f|ffer) should be the model's bytes \(bytes, bytearray "
    r"or memoryview\), but got (str|list)\.",
    r"TypeError: .*",
    "a model that is not bytes-like is refused with a clear error (a raw TypeError)",
)
_CONTENT = Differs(
    r"AssociatedFileError: File, 'labels0\.txt', should be given as bytes, bytearray, "
    r"memoryview or str, but got \w+\.",
    r"TypeError: .*",
    "a file content that is not bytes-like or str: a clear error (a raw TypeError)",
)
_NO_NAME = Differs(
    r"AssociatedFileError: associated file '(folder/)?' has no file name",
    r"IndexError: string index out of range",
    "a file name without a base name: a clear error (a raw IndexError)",
)
_NOT_A_MODEL = Differs(
    r"ModelFormatError: The model provided does not have the expected identifier, and may not "
    r"be a valid TFLite model\.",
    r"error: unpack_from requires a buffer of at least \d+ bytes.*",
    "a displayer of a file that is not a model: the identifier error (a raw struct.error)",
)
_DEVICE = Differs(
    r"InputReadError: cannot read (the model )?file '/dev/null': it is a character device, "
    r"not a regular file",
    r"ValueError: (The model provided does not have the expected identifier, and may not be "
    r"a valid TFLite model|model_buffer cannot be empty)\.",
    "a path that is not a regular file is refused at once (0.4.4 reads it: a FIFO blocks, "
    "/dev/zero never ends, /dev/null is packed as an empty file)",
)
_FILE_PATH = Differs(
    r"AssociatedFileError: an associated file should be named by a str, bytes or os.PathLike, "
    r"but got \w+\.",
    r"TypeError: stat: path should be string, bytes, os.PathLike or integer, not NoneType",
    # (Not run with an int: 0.4.4 takes it for a file descriptor, reads and closes it.)
    "a file path that is not a path: a clear error (0.4.4: a raw TypeError)",
)
_FILES_ARGUMENT = Differs(
    r"AssociatedFileError: associated files should be a dict of file names to contents \(or "
    r"\(name, content\) pairs\), but got .*",
    r"AttributeError: '\w+' object has no attribute 'items'",
    "associated files that are not a dict (or pairs): a clear error (a raw AttributeError)",
)
_BROKEN_ZIP_LISTED = Differs(
    r"ZipFormatError: (central directory entry 0 \('labels0\.txt'\) .* is outside the "
    r"archive's data.*|the zip's end record at offset \d+ places the central directory .*)",
    r"value \['labels0\.txt'\]",
    "a zip of associated files that cannot be read is an error, not an empty list or names "
    "whose files cannot be read",
)
_NO_METADATA_WRITTEN = (
    "without a loaded metadata buffer the model keeps its metadata, or has none "
    "(0.4.4 writes a TFLITE_METADATA entry with no data, which its own displayer cannot read)"
)
_REPACKED = (
    "a file packed again is replaced (0.4.4: 'has already been packed', so it cannot update a "
    "label file)"
)
_JSON = r"""'\{\\n  "name": "AudioClassifier".*\}\\n'"""
_LABELS = r"\{'labels0\.txt': b'class 0\\nclass 1\\nclass 2\\n'"

DIFFERENCES: dict[str, Differs] = {
    "with_model_file: a folder": _FOLDER,
    "load_metadata_file: a folder": _FOLDER,
    "load_associated_files: a folder": Differs(
        _FOLDER.ours.replace("(the model )?", ""), _FOLDER.theirs, _FOLDER.why
    ),
    "MetadataDisplayer.with_model_file: a folder": _FOLDER,
    "with_model_buffer: a str path": _NOT_BYTES,
    "with_model_buffer: list of ints": _NOT_BYTES,
    "MetadataDisplayer.with_model_buffer: a str path": _NOT_BYTES,
    "load_associated_file_buffers: None content": _CONTENT,
    "load_associated_file_buffers: int content": _CONTENT,
    "load_associated_file_buffers: list content": _CONTENT,
    "load_associated_file_buffers: an empty name": _NO_NAME,
    "load_associated_file_buffers: a folder as name": _NO_NAME,
    "MetadataDisplayer.with_model_file: not a model": _NOT_A_MODEL,
    "MetadataDisplayer.with_model_buffer: not a model": _NOT_A_MODEL,
    "load_metadata_and_associated_files: empty bytes": _NOT_A_MODEL,
    "load_metadata_and_associated_files: not a model": _NOT_A_MODEL,
    "get_metadata_buffer: empty bytes": _NOT_A_MODEL,
    "get_metadata_buffer: not a model": _NOT_A_MODEL,
    "get_packed_associated_file_list, a zip end record whose directory is elsewhere: populator": (
        _BROKEN_ZIP_LISTED
    ),
    "get_packed_associated_file_list, a zip end record whose directory is elsewhere: displayer": (
        _BROKEN_ZIP_LISTED
    ),
    "get_packed_associated_file_list, a zip cut short: populator": Differs(
        _BROKEN_ZIP_LISTED.ours,
        r"BadZipFile: Bad magic number for central directory",
        _BROKEN_ZIP_LISTED.why,
    ),
    "get_packed_associated_file_list, a zip cut short: displayer": Differs(
        _BROKEN_ZIP_LISTED.ours, r"value \[\]", _BROKEN_ZIP_LISTED.why
    ),
    "get_associated_file_buffer, a zip end record whose directory is elsewhere": Differs(
        _BROKEN_ZIP_LISTED.ours, r"BadZipFile: Truncated file header", _BROKEN_ZIP_LISTED.why
    ),
    "get_associated_file_buffer, a zip cut short": Differs(
        _BROKEN_ZIP_LISTED.ours,
        r"ValueError: The file, labels0\.txt, does not exist in the model\.",
        _BROKEN_ZIP_LISTED.why,
    ),
    "/dev/null: with_model_file": _DEVICE,
    "/dev/null: MetadataDisplayer.with_model_file": _DEVICE,
    "/dev/null: load_associated_files": Differs(
        _DEVICE.ours,
        rf"value \('bytes', {_JSON}, {_LABELS}, 'null': b''\}}\)",
        _DEVICE.why,
    ),
    "load_associated_files: [None]": _FILE_PATH,
    "load_associated_files: [1.5]": Differs(
        _FILE_PATH.ours, r"TypeError: .*float.*", _FILE_PATH.why
    ),
    "load_associated_file_buffers: None": _FILES_ARGUMENT,
    "load_associated_file_buffers: a str": _FILES_ARGUMENT,
    "load_associated_file_buffers: a list of names": _FILES_ARGUMENT,
    "load_associated_file_buffers: a list of triples": _FILES_ARGUMENT,
    "load_associated_files: [b'labels0.txt']": Differs(
        rf"value \('bytes', {_JSON}, {_LABELS}\}}\)",
        r"ValueError: File, 'labels0\.txt', is recorded in the metadata, but has not been "
        r"loaded into the populator\.",
        "a file name given as bytes is the same name as its str",
    ),
    "load_associated_file_buffers: a bytes name": Differs(
        rf"value \('bytes', {_JSON}, \{{'labels0\.txt': b'x\\n'\}}\)",
        r"ValueError: File, 'labels0\.txt', is recorded in the metadata, but has not been "
        r"loaded into the populator\.",
        "a file name given as bytes is the same name as its str",
    ),
    "MetadataDisplayer(): a listed file that is not packed": Differs(
        r"AssociatedFileError: no associated file named 'ghost\.txt' in the zip \(it holds 1: "
        r"'labels0\.txt'\)",
        r"KeyError: \"There is no item named 'ghost\.txt' in the archive\"",
        "a file listed to the displayer but not packed: a clear error (a raw KeyError)",
    ),
    "MetadataDisplayer(): a listed file, no zip": Differs(
        r"AssociatedFileError: The file, labels0\.txt, does not exist in the model\.",
        r"BadZipFile: File is not a zip file",
        "a file listed to the displayer of a model without a zip: 0.4.4's own message for "
        "a missing file (a raw BadZipFile)",
    ),
    "a model without subgraphs: load_metadata_buffer": Differs(
        r"ModelFormatError: model: has 0 subgraphs, no subgraph 0",
        r"TypeError: bad number -?\d+ for type uint32",
        "a model without subgraphs: a clear error (a raw TypeError)",
    ),
    "a model without subgraphs: populate files only": Differs(
        r"value \('bytes', None, \{'notes\.txt': b'n'\}\)",
        r"value \('bytes', '\(empty\)', \{'notes\.txt': b'n'\}\)",
        _NO_METADATA_WRITTEN,
    ),
    "load_metadata_and_associated_files: tflite-support's entry without data": Differs(
        r"value \[\]",
        r"AttributeError: 'int' object has no attribute 'tobytes'",
        _NO_METADATA_WRITTEN,
    ),
    **{
        f"load_metadata_buffer: {name}": Differs(
            rf"MetadataValidationError: The metadata to be populated should be a metadata "
            rf"buffer \(bytes, bytearray or memoryview\), but got {kind}\.",
            rf"TypeError: '{kind}' object is not subscriptable",
            "metadata that is not a buffer: a clear error (a raw TypeError)",
        )
        for name, kind in (("an int", "int"), ("a float", "float"))
    },
    **{
        f"convert_to_json: {name}": Differs(
            r"MetadataFormatError: .*",
            r"value '\{\\n\}\\n'",
            "a buffer that is not metadata is an error, not an empty JSON object",
        )
        for name in ("empty", "zeros", "only an identifier")
    },
    "with_model_file: the file removed before populate": Differs(
        r"MissingFileError: File, 'model\.tflite', does not exist\.",
        r"FileNotFoundError: \[Errno 2\] No such file or directory: 'model\.tflite'",
        "a model file removed before populate: tflite-support's message for a missing file "
        "(a FileNotFoundError too)",
    ),
    "load_metadata_buffer: nameless-file": Differs(
        r"MetadataValidationError: The metadata records an associated file without a name; .*",
        r"TypeError: expected str, bytes or os.PathLike object, not NoneType",
        "an associated file without a name in the metadata: a clear error (a raw TypeError)",
    ),
    "load_associated_file_buffers: a list of pairs": Differs(
        rf"value \('bytes', {_JSON}, \{{'labels0\.txt': b'x\\n'\}}\)",
        r"AttributeError: 'list' object has no attribute 'items'",
        "files may also be given as (name, content) pairs",
    ),
    "load_associated_file_buffers: one name from two paths, different contents": Differs(
        r"AssociatedFileError: File, 'labels0\.txt', would be packed twice with different "
        r"contents .*",
        rf"value \('bytes', {_JSON}, \{{'labels0\.txt': b'b\\n'\}}\)",
        "one name for two different contents in one call is an error, not 'last one wins'",
    ),
    "populate: nothing loaded": Differs(
        r"value \('bytes', None, \{\}\)",
        r"value \('bytes', '\(empty\)', \{\}\)",
        _NO_METADATA_WRITTEN,
    ),
    "populate: files, no metadata": Differs(
        rf"value \('bytes', None, {_LABELS}\}}\)",
        rf"value \('bytes', '\(empty\)', {_LABELS}\}}\)",
        _NO_METADATA_WRITTEN,
    ),
    "populate: files, no metadata, over a populated model": Differs(
        rf"value \('bytes', {_JSON}, {_LABELS}, 'notes\.txt': b'n'\}}\)",
        rf"value \('bytes', '\(empty\)', {_LABELS}, 'notes\.txt': b'n'\}}\)",
        _NO_METADATA_WRITTEN,
    ),
    "populate: twice": Differs(
        rf"value \('bytes', {_JSON}, {_LABELS}\}}\)",
        r"ValueError: File, 'labels0\.txt', has already been packed\.",
        _REPACKED,
    ),
    "populate: new metadata over a populated model, files loaded again": Differs(
        rf"value \('bytes', {_JSON}, {_LABELS}\}}\)",
        r"ValueError: File, 'labels0\.txt', has already been packed\.",
        _REPACKED,
    ),
    "populate: new metadata recording no file, over a populated model": Differs(
        rf"value \('bytes', {_JSON}, \{{\}}\)",
        rf"value \('bytes', {_JSON}, {_LABELS}\}}\)",
        "the packed files are those the new metadata records, plus the loaded ones (0.4.4 "
        "keeps every old file)",
    ),
    "MetadataDisplayer: a metadata entry without data (tflite-support's populate output)": Differs(
        r"MetadataValidationError: The model does not have metadata\.",
        r"AttributeError: 'int' object has no attribute 'tobytes'",
        _NO_METADATA_WRITTEN,
    ),
    "get_metadata_buffer: a metadata entry without data": Differs(
        r"value b''",
        r"AttributeError: 'int' object has no attribute 'tobytes'",
        _NO_METADATA_WRITTEN,
    ),
}


@pytest.fixture(scope="module")
def reference_broken_model() -> bytes:
    """tflite-support's populate with nothing loaded: an entry without metadata data."""
    ref = reference_metadata()
    populator = ref.MetadataPopulator.with_model_buffer(
        bytes(model_builder.build_audio_classifier(heads=[3]))
    )
    populator.populate()
    return bytes(populator.get_model_buffer())


@pytest.mark.reference
# tflite-support's populator over a buffer fails in __del__ when its constructor failed.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_metadata_module_as_the_reference(
    name: str, tmp_path: Path, reference_broken_model: bytes
) -> None:
    """Same value, or same exception message with ours a subclass of 0.4.4's type."""
    from tflite_metadata import metadata as ours_module

    ref = reference_metadata()
    ours = _run_side(ours_module, tmp_path / "ours", name, reference_broken_model)
    theirs = _run_side(ref, tmp_path / "theirs", name, reference_broken_model)
    difference = DIFFERENCES.get(name)
    if difference is not None:
        assert re.fullmatch(difference.ours, ours.describe(full=True), re.DOTALL), ours
        assert re.fullmatch(difference.theirs, theirs.describe(full=True), re.DOTALL), theirs
        return
    if theirs.error is None:
        assert ours == theirs
        return
    assert ours.error is not None and issubclass(ours.error, theirs.error), (ours, theirs)
    assert (ours.message, ours.warnings) == (theirs.message, theirs.warnings)


def test_every_declared_difference_is_a_scenario() -> None:
    assert set(DIFFERENCES) <= set(SCENARIOS)


# -- the same rules, without tflite-support ------------------------------------------------------


def test_populating_without_metadata_keeps_the_model_and_packs_the_files() -> None:
    model = bytes(model_builder.build_audio_classifier(heads=[3]))
    populator = MetadataPopulator.with_model_buffer(model)
    populator.populate()
    assert populator.get_model_buffer() == model
    with pytest.warns(UserWarning, match="'notes.txt', does not exist in the metadata"):
        populator.load_associated_file_buffers({"notes.txt": "ünïcode"})
        populator.populate()
    out = populator.get_model_buffer()
    assert out[: len(model)] == model
    assert ModelView(out).metadata_buffer() is None
    with zipfile.ZipFile(io.BytesIO(out)) as archive:
        assert archive.read("notes.txt") == "ünïcode".encode()
    # Over a populated model: its metadata and recorded files stay.
    metadata, files = metadata_for(model)
    populated = populate_buffer(model, metadata, files)
    with pytest.warns(UserWarning):
        again = populate_buffer(populated, None, {"notes.txt": b"n"})
    assert bytes(ModelView(again).metadata_buffer() or b"") == metadata
    assert sorted(zip_names(again)) == ["labels0.txt", "notes.txt"]


@pytest.mark.parametrize("content", [None, 5, [120, 10], 1.5])
def test_file_contents_must_be_bytes_or_str(content: Any) -> None:
    populator = MetadataPopulator.with_model_buffer(
        bytes(model_builder.build_audio_classifier(heads=[3]))
    )
    message = (
        f"should be given as bytes, bytearray, memoryview or str, but got {type(content).__name__}"
    )
    with pytest.raises(MetadataError, match=message):
        populator.load_associated_file_buffers({"labels.txt": content})


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ([], "The metadata to be populated is empty."),
        ("", "The metadata to be populated is empty."),
        (None, "The metadata to be populated is empty."),
        ("M001", "does not have the expected identifier"),
        ([0, 0, 0, 0, 77, 48, 48, 49], "does not have the expected identifier"),
    ],
)
def test_metadata_that_is_not_a_buffer(metadata: Any, message: str) -> None:
    populator = MetadataPopulator.with_model_buffer(
        bytes(model_builder.build_audio_classifier(heads=[3]))
    )
    with pytest.raises(MetadataError, match=re.escape(message)):
        populator.load_metadata_buffer(metadata)


def test_dangling_tensor_indices_are_counted_not_read() -> None:
    model = bytes(model_builder.build_audio_classifier(heads=[3]))
    tensors = ModelView(model)._subgraph(0).vector(0, 4, "tensors")
    assert tensors is not None
    metadata, files = metadata_for(model)
    out = populate_buffer(dangling_model(model), metadata, files)
    assert bytes(ModelView(out).metadata_buffer() or b"") == metadata
    assert ModelView(out).dangling_tensor_indices() == [("input", 0, 999, len(tensors))]
    assert ModelView(model).dangling_tensor_indices() == []
