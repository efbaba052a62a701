"""``.task`` model bundles: MediaPipe's layout, byte for byte, and what MediaPipe does with them.

* The writer (``archive.bundle``, and the drop-in
  ``tflite_metadata.mediapipe.metadata_writers.model_asset_bundle_utils``):
  stored, 4-byte aligned entries that :mod:`zipfile` reads back; MediaPipe's
  error for fewer than two models; names that would leave a folder refused;
  atomic output.
* Differential: randomized bundles written by MediaPipe's own
  ``create_model_asset_bundle`` (in the MediaPipe environment, through
  ``tests/consumers/bundle_runner.py``, the clock fixed) and by ours are
  byte-identical; MediaPipe's bundles are shown, listed, extracted byte for byte
  and pass ``check``.
* Consumers: MediaPipe Tasks (``HandLandmarker``, ``GestureRecognizer``) reads
  our bundles as it reads its own; and on crafted bundles it crashes (lying sizes,
  plain and Zip64) or reads them without a word (duplicates, bad CRCs,
  encryption, overlaps, symbolic links), each of which ``check`` reports. The
  crafted bundles go to MediaPipe only in a child process.
"""

from __future__ import annotations

import contextlib
import io
import json
import mmap
import random
import stat
import struct
import sys
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

import consumer_env
from fuzz_harness import RawEntry, raw_zip
from tflite_metadata import _model_builder as model_builder
from tflite_metadata.archive import bundle as bundle_module
from tflite_metadata.archive.associated_files import (
    ExtractRefusedError,
    ZipFault,
    extract_all,
    find_zip,
)
from tflite_metadata.archive.bundle import create_bundle, is_bundle, read_bundle, write_bundle
from tflite_metadata.check import check
from tflite_metadata.cli import main
from tflite_metadata.errors import AssociatedFileError, MetadataValidationError, OutputWriteError
from tflite_metadata.fileio import InputFile
from tflite_metadata.mediapipe.metadata_writers import model_asset_bundle_utils
from tflite_metadata.metadata_writers import audio_classifier, image_classifier
from tflite_metadata.metadata_writers.metadata_info import LabelFileMd

#: A fixed clock for both writers: bundles record the time they are written.
FIXED_TIME = 1_764_633_607.0

DETECTOR = "hand_detector.tflite"
LANDMARKS = "hand_landmarks_detector.tflite"


def image_model() -> bytes:
    """A small image classifier with metadata and a packed label file."""
    model = bytes(model_builder.build_image_classifier(height=32, width=32))
    writer = image_classifier.MetadataWriter.create_for_inference(
        model, [127.5], [127.5], [LabelFileMd("labels.txt", labels=list("abcde"))]
    )
    return bytes(writer.populate())


def audio_model() -> bytes:
    """A small audio classifier with metadata and a packed label file."""
    model = bytes(model_builder.build_audio_classifier(input_samples=16, heads=(3,)))
    writer = audio_classifier.MetadataWriter.create_for_inference(
        model, 16000, 1, [LabelFileMd("labels.txt", labels=["x", "y", "z"])]
    )
    return bytes(writer.populate())


@pytest.fixture(scope="module")
def models() -> dict[str, bytes]:
    return {DETECTOR: image_model(), LANDMARKS: audio_model()}


@contextlib.contextmanager
def fixed_clock() -> Any:
    real = time.time
    time.time = lambda: FIXED_TIME
    try:
        yield
    finally:
        time.time = real


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


# -- the writer --------------------------------------------------------------------------------


def test_entries_are_stored_and_aligned_as_mediapipe_checks(tmp_path: Path) -> None:
    """MediaPipe's own test of its writer, on ours: every entry's data is 4-byte aligned."""
    path = tmp_path / "test.task"
    model_asset_bundle_utils.create_model_asset_bundle(
        {"1.tflite": b"\x11\x22", "2.tflite": b"\x33"}, str(path)
    )
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == ["1.tflite", "2.tflite"]
        assert archive.read("1.tflite") == b"\x11\x22"
        assert archive.read("2.tflite") == b"\x33"
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED
            offset = info.header_offset + len(info.FileHeader())
            assert offset % model_asset_bundle_utils._ALIGNMENT == 0
    entries = read_bundle(path.read_bytes()).entries
    assert [entry.data_offset % 4 for entry in entries] == [0, 0]


@pytest.mark.parametrize("given", [{}, {"only.tflite": b"x"}, None])
def test_fewer_than_two_models_is_mediapipes_error(given: Any, tmp_path: Path) -> None:
    path = tmp_path / "out.task"
    with pytest.raises(ValueError) as caught:
        model_asset_bundle_utils.create_model_asset_bundle(given, str(path))
    assert isinstance(caught.value, MetadataValidationError)
    assert str(caught.value) == "Needs at least two input models for model asset bundle."
    assert not path.exists()


@pytest.mark.consumers
def test_the_drop_in_has_mediapipes_interface(tmp_path: Path) -> None:
    """Every public name of MediaPipe's module, with its parameters and defaults, but AlignZipFile.

    (MediaPipe's ``zipfile.ZipFile`` subclass is not provided: see the README.)
    """
    if str(consumer_env.RUNNERS) not in sys.path:
        sys.path.append(str(consumer_env.RUNNERS))
    import mp_writer_cases

    theirs = mediapipe_run({"interface": True}, tmp_path)["interface"]
    ours = mp_writer_cases.interface(model_asset_bundle_utils, list(theirs))
    compared = {name for name in theirs if name.split(".")[0] != "AlignZipFile"}
    assert "create_model_asset_bundle" in compared
    assert {name: ours[name] for name in compared} == {name: theirs[name] for name in compared}
    assert all(ours[name] == "missing" for name in set(theirs) - compared)


def test_the_drop_in_is_the_bundle_modules_function() -> None:
    assert (
        model_asset_bundle_utils.create_model_asset_bundle
        is bundle_module.create_model_asset_bundle
    )
    # As MediaPipe's package, the module is an attribute of its package.
    from tflite_metadata.mediapipe import metadata_writers

    assert metadata_writers.model_asset_bundle_utils is model_asset_bundle_utils


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.tflite", "has a '..' component"),
        ("a/../../evil.tflite", "has a '..' component"),
        ("/etc/evil.tflite", "is an absolute path"),
        ("C:evil.tflite", "starts with a drive letter"),
        ("dir\\evil.tflite", "contains a backslash"),
        ("", "is empty"),
        ("a\x00b.tflite", "contains the control character U+0000"),
        ("folder/", "names a directory"),
    ],
)
def test_entry_names_that_leave_a_folder_are_refused(
    name: str, reason: str, tmp_path: Path
) -> None:
    """MediaPipe's writer stores these names (or raises IndexError for an empty one)."""
    path = tmp_path / "out.task"
    path.write_bytes(b"the old bundle")
    with pytest.raises(AssociatedFileError) as caught:
        model_asset_bundle_utils.create_model_asset_bundle(
            {"good.tflite": b"x", name: b"y"}, str(path)
        )
    assert f"cannot pack the bundle entry name {name!r}: it {reason}" in str(caught.value)
    assert path.read_bytes() == b"the old bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.task"]


def test_names_in_folders_and_text_content(tmp_path: Path) -> None:
    path = tmp_path / "out.task"
    model_asset_bundle_utils.create_model_asset_bundle(
        {"models/a.tflite": b"a", "caf\u00e9.txt": "\u00e9t\u00e9"}, str(path)
    )
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["models/a.tflite", "caf\u00e9.txt"]
        assert archive.read("caf\u00e9.txt") == "\u00e9t\u00e9".encode()


def test_a_file_object_as_output() -> None:
    stream = io.BytesIO()
    with fixed_clock():
        model_asset_bundle_utils.create_model_asset_bundle({"a": b"1", "b": b"22"}, stream)
        assert stream.getvalue() == _bundle_bytes({"a": b"1", "b": b"22"})


def _bundle_bytes(models: dict[str, bytes]) -> bytes:
    stream = io.BytesIO()
    write_bundle(models, stream)
    return stream.getvalue()


def test_a_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up after the first entry: the old bundle stays, no temporary file is left."""
    path = tmp_path / "out.task"
    path.write_bytes(b"the old bundle")
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(1 << 16))

    def full(self: InputFile, target: Any) -> None:
        target.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(InputFile, "copy_to", full)
    with InputFile.open(source) as big, pytest.raises(OutputWriteError, match="No space left"):
        create_bundle([("a.tflite", b"a"), ("big.bin", big)], path)
    assert path.read_bytes() == b"the old bundle"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin", "out.task"]


def test_models_are_streamed_from_files(tmp_path: Path, models: dict[str, bytes]) -> None:
    """From files (as the command line packs them) the bytes are those of in-memory models."""
    paths = []
    for name, content in models.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(content)
    with fixed_clock():
        expected = _bundle_bytes(models)
        files = [InputFile.open(path) for path in paths]
        try:
            create_bundle([(p.name, f) for p, f in zip(paths, files)], tmp_path / "out.task")
        finally:
            for file in files:
                file.close()
    assert (tmp_path / "out.task").read_bytes() == expected


def test_bundles_and_models_are_told_apart(models: dict[str, bytes]) -> None:
    bundle = _bundle_bytes(models)
    assert is_bundle(bundle)
    # A model with a zip of associated files is still a model.
    assert not is_bundle(models[DETECTOR])
    # ... even when its identifier is damaged: check then says it is no model.
    damaged = models[DETECTOR][:4] + b"XXXX" + models[DETECTOR][8:]
    assert not is_bundle(damaged)
    assert not is_bundle(b"")
    assert is_bundle(_bundle_bytes({"a": b"", "b": b""}))
    assert is_bundle(zipfile_bytes())
    # A bundle cut short is still one, and refused as such.
    assert is_bundle(b"PK\x03\x04 no end record")
    with pytest.raises(AssociatedFileError, match=r"not a \.task bundle"):
        read_bundle(b"PK\x03\x04 no end record")


def zipfile_bytes() -> bytes:
    """A zip written by Python's zipfile (no padding before its first header)."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("a.tflite", b"a")
        archive.writestr("b.tflite", b"b")
    return stream.getvalue()


# -- valid bundles on the command line ---------------------------------------------------------


def test_cli_create_list_show_check_extract(tmp_path: Path, models: dict[str, bytes]) -> None:
    for name, content in models.items():
        (tmp_path / name).write_bytes(content)
    out = tmp_path / "hand.task"
    status, text, err = run_cli(
        "bundle", "create", str(out), str(tmp_path / DETECTOR),
        "--entry", "landmarks.tflite", str(tmp_path / LANDMARKS),
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert text == f"wrote {out} ({out.stat().st_size} bytes): {DETECTOR}, landmarks.tflite\n"
    status, text, _ = run_cli("bundle", "list", str(out))
    assert status == 0
    assert text.splitlines() == [
        f"{DETECTOR}: {len(models[DETECTOR])} bytes",
        f"landmarks.tflite: {len(models[LANDMARKS])} bytes",
    ]
    status, text, _ = run_cli("bundle", "list", "--json", str(out))
    listed = json.loads(text)
    assert [(e["name"], e["size"], e["method"], e["kind"]) for e in listed] == [
        (DETECTOR, len(models[DETECTOR]), "stored", "file"),
        ("landmarks.tflite", len(models[LANDMARKS]), "stored", "file"),
    ]
    assert all(e["offset"] % 4 == 0 for e in listed)
    status, text, _ = run_cli("show", str(out))
    lines = text.splitlines()
    assert lines[0] == "bundle: 2 entries"
    assert lines[1].startswith(f"entry {DETECTOR}: {len(models[DETECTOR])} bytes at offset ")
    assert "  model: ImageClassifier" in lines
    assert "  model: AudioClassifier" in lines
    status, text, _ = run_cli("show", "--json", str(out))
    document = json.loads(text)
    assert [e["metadata"]["name"] for e in document["entries"]] == [
        "ImageClassifier",
        "AudioClassifier",
    ]
    assert run_cli("check", str(out)) == (
        0,
        f"{out}: no problems found (Task Library, MediaPipe)\n",
        "",
    )
    for command in (["bundle", "extract"], ["extract"]):
        folder = tmp_path / ("x-" + command[0])
        status, text, _ = run_cli(*command, str(out), "-d", str(folder))
        assert status == 0
        assert (folder / DETECTOR).read_bytes() == models[DETECTOR]
        assert (folder / "landmarks.tflite").read_bytes() == models[LANDMARKS]


def test_cli_create_needs_two_models(tmp_path: Path, models: dict[str, bytes]) -> None:
    (tmp_path / DETECTOR).write_bytes(models[DETECTOR])
    status, _, err = run_cli("bundle", "create", str(tmp_path / "o.task"), str(tmp_path / DETECTOR))
    assert status == 2
    assert "a bundle holds at least two models, 1 given" in err
    assert not (tmp_path / "o.task").exists()


def test_check_reports_the_problems_of_each_model_by_entry(tmp_path: Path) -> None:
    """A model inside a bundle is checked as on its own; its problems name the entry."""
    plain = bytes(model_builder.build_audio_classifier(input_samples=16, heads=(3,)))
    bundle = _bundle_bytes({"a.tflite": audio_model(), "plain.tflite": plain, "notes.txt": b"x"})
    problems = check(bundle)
    assert [(p.code, p.location) for p in problems] == [("no-metadata", "plain.tflite: model")]


def test_nested_bundles_are_checked_and_shown(models: dict[str, bytes]) -> None:
    inner = _bundle_bytes(models)
    plain = bytes(model_builder.build_audio_classifier(input_samples=16, heads=(3,)))
    outer = _bundle_bytes(
        {"hand_landmarker.task": inner, "x.task": _bundle_bytes({"p.tflite": plain, "q": b""})}
    )
    assert [(p.code, p.location) for p in check(outer)] == [
        ("no-metadata", "x.task: p.tflite: model")
    ]


def test_bundles_nested_too_deep_are_not_checked() -> None:
    data = b"innermost"
    for depth in range(6):
        data = _bundle_bytes({f"level{depth}.task": data, "pad": b""})
    problems = check(data)
    assert [p.code for p in problems] == ["file-not-checked"]
    assert "bundles are opened 4 deep at most" in problems[0].message


# -- hostile bundles ---------------------------------------------------------------------------


def hostile_bundles(detector: bytes, landmarks: bytes) -> dict[str, tuple[bytes, str]]:
    """Crafted bundles of the two hand models, each with the code ``check`` reports."""
    d, lm = DETECTOR.encode(), LANDMARKS.encode()
    link = (stat.S_IFLNK | 0o777) << 16
    zip64 = struct.pack("<HHQQ", 1, 16, 1 << 40, 1 << 40)
    valid = raw_zip([RawEntry(d, detector), RawEntry(lm, landmarks)], 0)
    # The detector's entry declares (and checksums) the landmarks' whole record too.
    covered = len(detector) + 30 + len(lm) + len(landmarks)
    spanning = valid[30 + len(d) : 30 + len(d) + covered]
    second = RawEntry(lm, landmarks)
    deflated = zlib.compress(detector)[2:-4]  # a raw deflate stream
    cases: dict[str, tuple[list[RawEntry], str]] = {
        "size-plain": ([RawEntry(d, detector, size=0x7FFFFFF0), second], "entry-size"),
        "size-zip64": (
            [RawEntry(d, detector, size=0xFFFFFFFF, compressed_size=0xFFFFFFFF, extra=zip64)],
            "entry-size",
        ),
        "duplicate": (
            [RawEntry(d, b"not a model"), RawEntry(d, detector), second],
            "entry-duplicate",
        ),
        "crc": ([RawEntry(d, detector, crc32=zlib.crc32(detector) ^ 1), second], "entry-crc"),
        "encrypted": ([RawEntry(d, detector, flags=1), second], "entry-encrypted"),
        "symlink": ([RawEntry(d, detector, external_attributes=link), second], "entry-link"),
        "overlap": (
            [
                RawEntry(
                    d, detector, size=covered, compressed_size=covered, crc32=zlib.crc32(spanning)
                ),
                second,
            ],
            "entry-overlap",
        ),
        "deflated": (
            [
                RawEntry(d, deflated, method=8, size=len(detector), crc32=zlib.crc32(detector)),
                second,
            ],
            "file-compressed",
        ),
    }
    cases["size-zip64"][0].append(second)
    built = {name: (raw_zip(entries, 0), code) for name, (entries, code) in cases.items()}
    # The first local header (at offset 0) disagrees with the central directory.
    for name, offset, fmt, values in (
        ("local-crc", 14, "<I", (0xDEADBEEF,)),
        ("local-sizes", 18, "<II", (0x7FFFFFF0, 0x7FFFFFF0)),
        ("local-method", 8, "<H", (8,)),
        ("local-flags", 6, "<H", (0x800,)),  # minizip ignores it; readers disagree
    ):
        patched = bytearray(valid)
        struct.pack_into(fmt, patched, offset, *values)
        built[name] = (bytes(patched), "entry-header")
    return built


HOSTILE_CASES = [
    "size-plain",
    "size-zip64",
    "duplicate",
    "crc",
    "encrypted",
    "symlink",
    "overlap",
    "deflated",
    "local-crc",
    "local-sizes",
    "local-method",
    "local-flags",
]


@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_check_reports_what_would_crash_or_mislead_mediapipe(
    case: str, models: dict[str, bytes], tmp_path: Path
) -> None:
    data, code = hostile_bundles(models[DETECTOR], models[LANDMARKS])[case]
    codes = [p.code for p in check(data)]
    assert code in codes
    # The raw builder does not align entries: the models it places are reported too.
    assert set(codes) <= {code, "entry-alignment"}
    assert all(p.consumers == ("MediaPipe",) for p in check(data))
    path = tmp_path / f"{case}.task"
    path.write_bytes(data)
    status, text, err = run_cli("check", str(path))
    assert (status, err) == (1, "")
    assert f"[{code}]" in text
    # show, list and extract: a clear refusal or a faithful result, never a crash.
    for command in (["show"], ["show", "--json"], ["bundle", "list"]):
        status, _, err = run_cli(*command, str(path))
        assert status in (0, 1) and "internal error" not in err
    folder = tmp_path / "out"
    status, _, err = run_cli("bundle", "extract", str(path), "-d", str(folder))
    if case == "deflated":  # readable, only not by MediaPipe: extracted as it inflates
        assert status == 0
        assert (folder / DETECTOR).read_bytes() == models[DETECTOR]
    else:
        assert status == 1 and err.startswith(("error: ", "problem: "))
        assert not folder.exists() or not any(folder.iterdir())


def test_extract_refuses_links_and_special_files(models: dict[str, bytes], tmp_path: Path) -> None:
    fifo = (stat.S_IFIFO | 0o644) << 16
    data = raw_zip(
        [RawEntry(b"a.tflite", b"a"), RawEntry(b"pipe", b"", external_attributes=fifo)], 0
    )
    with pytest.raises(ExtractRefusedError) as caught:
        extract_all(read_bundle(data), tmp_path / "out")
    assert caught.value.refusals == [
        ("pipe", "is a special file, not a file; only files are extracted")
    ]
    assert not (tmp_path / "out").exists()


def test_lying_sizes_are_a_size_fault(models: dict[str, bytes]) -> None:
    for case in ("size-plain", "size-zip64"):
        data, _ = hostile_bundles(models[DETECTOR], models[LANDMARKS])[case]
        with pytest.raises(AssociatedFileError) as caught:
            read_bundle(data)
        assert getattr(caught.value, "fault", None) == ZipFault.SIZE


# -- against MediaPipe -------------------------------------------------------------------------


def mediapipe_run(request: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "the MediaPipe environment")
    assert python is not None
    return consumer_env.run_runner(python, "bundle_runner.py", request, tmp_path)


NAME_PIECES = ["model", "hand_detector", "a", "Z9", "caf\u00e9", "\u6a21\u578b", "x-y_z", "dir/sub"]


def random_cases(count: int, seed: int = 12) -> list[dict[str, bytes]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        models: dict[str, bytes] = {}
        for index in range(rng.randint(2, 6)):
            name = f"{rng.choice(NAME_PIECES)}{index}{rng.choice(['.tflite', '.task', '', '.txt'])}"
            size = rng.choice([0, 1, 2, 3, 4, 5, rng.randint(0, 70), rng.randint(0, 5000)])
            models[name] = rng.randbytes(size)
        cases.append(models)
    return cases


@pytest.mark.consumers
def test_mediapipes_writer_and_ours_write_the_same_bytes(
    tmp_path: Path, models: dict[str, bytes]
) -> None:
    """60 randomized bundles (2-6 entries, 0-5000 bytes, names with folders and non-ASCII)."""
    cases = [*random_cases(59), models]
    jobs = []
    for number, case in enumerate(cases):
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        paths = []
        for index, (name, content) in enumerate(case.items()):
            path = folder / f"entry{index}"
            path.write_bytes(content)
            paths.append([name, str(path)])
        jobs.append({"models": paths, "output": str(folder / "mediapipe.task"), "time": FIXED_TIME})
    answer = mediapipe_run({"create": jobs}, tmp_path)
    assert answer["create"] == [{"written": True}] * len(cases)
    for number, case in enumerate(cases):
        folder = tmp_path / f"case{number}"
        ours = folder / "ours.task"
        with fixed_clock():
            model_asset_bundle_utils.create_model_asset_bundle(case, str(ours))
        theirs = (folder / "mediapipe.task").read_bytes()
        assert ours.read_bytes() == theirs, f"case {number}: {list(case)}"
    # MediaPipe's own bundle of two models: listed, shown, extracted byte for byte, checked.
    theirs_path = tmp_path / f"case{len(cases) - 1}" / "mediapipe.task"
    bundle = read_bundle(theirs_path.read_bytes())
    assert bundle.sizes() == [(name, len(content)) for name, content in models.items()]
    assert run_cli("check", str(theirs_path))[0] == 0
    status, text, _ = run_cli("show", str(theirs_path))
    assert status == 0 and "  model: ImageClassifier" in text.splitlines()
    status, _, _ = run_cli("bundle", "extract", str(theirs_path), "-d", str(tmp_path / "x"))
    assert status == 0
    for name, content in models.items():
        assert (tmp_path / "x" / name).read_bytes() == content


@pytest.mark.consumers
@pytest.mark.slow
def test_zip64_bundles_are_mediapipes_bytes(tmp_path: Path) -> None:
    """A 2 GiB model and a small one: Zip64 sizes, offsets and end records, as zipfile has them."""
    big = tmp_path / "big.tflite"
    with open(big, "wb") as stream:  # sparse: no disk, and the kernel copies it
        stream.truncate(1 << 31)
        stream.seek(12345)
        stream.write(b"not all zeros")
    small = tmp_path / "small.tflite"
    small.write_bytes(b"small model")
    theirs = tmp_path / "mediapipe.task"
    job = {
        "models": [["big.tflite", str(big)], ["small.tflite", str(small)]],
        "output": str(theirs),
        "time": FIXED_TIME,
    }
    assert mediapipe_run({"create": [job]}, tmp_path)["create"] == [{"written": True}]
    ours = tmp_path / "ours.task"
    with fixed_clock(), InputFile.open(big) as first, InputFile.open(small) as second:
        create_bundle([("big.tflite", first), ("small.tflite", second)], ours)
    assert ours.stat().st_size == theirs.stat().st_size
    with open(ours, "rb") as a, open(theirs, "rb") as b:
        piece = 64 << 20
        for start in range(0, ours.stat().st_size, piece):
            assert a.read(piece) == b.read(piece), f"the bundles differ after byte {start}"
    with open(ours, "rb") as a, mmap.mmap(a.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        bundle = read_bundle(mapped)
        assert bundle.zip64
        assert bundle.sizes() == [("big.tflite", 1 << 31), ("small.tflite", 11)]
        assert [entry.data_offset % 4 for entry in bundle.entries] == [0, 0]
        assert bundle.read("small.tflite") == b"small model"
        del bundle


@pytest.mark.consumers
def test_mediapipe_tasks_read_our_bundles_as_their_own(
    tmp_path: Path, models: dict[str, bytes]
) -> None:
    """HandLandmarker and GestureRecognizer open our bundles and MediaPipe's alike.

    The small models are no hand models, so the tasks stop after reading them; the
    same message for both bundles shows that MediaPipe found the same entries with
    the same bytes (and, for the gesture recognizer, a bundle inside a bundle).
    """
    sources = []
    for name, content in models.items():
        sources.append([name, str(tmp_path / name)])
        (tmp_path / name).write_bytes(content)
    theirs = tmp_path / "theirs.task"
    ours = tmp_path / "ours.task"
    create_bundle(models, ours)
    other_names = tmp_path / "names.task"
    create_bundle({"a.tflite": models[DETECTOR], "b.tflite": models[LANDMARKS]}, other_names)
    gesture = tmp_path / "gesture.task"
    create_bundle(
        {
            "hand_landmarker.task": ours.read_bytes(),
            "hand_gesture_recognizer.task": ours.read_bytes(),
        },
        gesture,
    )
    answer = mediapipe_run(
        {
            "create": [{"models": sources, "output": str(theirs), "time": FIXED_TIME}],
            "load": [
                {"path": str(theirs)},
                {"path": str(ours)},
                {"path": str(other_names)},
                {"path": str(gesture), "task": "gesture"},
            ],
        },
        tmp_path,
    )
    loaded_theirs, loaded_ours, listed, nested = answer["load"]
    assert loaded_ours == loaded_theirs
    # The detector was read and parsed: the task failed on the model itself.
    assert "error" in loaded_ours and "No file with name" not in loaded_ours["error"]
    # MediaPipe lists the entries it read from our bundle (in its hash map's order).
    prefix = (
        "FileNotFoundError: No file with name: hand_detector.tflite. "
        "All files in the model asset bundle are: "
    )
    assert listed["error"].startswith(prefix)
    assert sorted(listed["error"][len(prefix) :].rstrip(".").split(", ")) == [
        "a.tflite",
        "b.tflite",
    ]
    # Inside the gesture bundle, MediaPipe opened our hand landmarker bundle.
    assert "error" in nested and "hand_landmarker.task" not in nested["error"]


@pytest.mark.consumers
def test_mediapipe_crashes_on_or_is_misled_by_what_check_reports(
    tmp_path: Path, models: dict[str, bytes]
) -> None:
    """Each crafted bundle, loaded by HandLandmarker in a child process, against ``check``.

    MediaPipe's reader crashes (SIGSEGV) on the sizes that lie, refuses the
    compressed entry and local headers whose CRC, sizes or method disagree
    with the central directory, and reads every other bundle (flags that disagree
    included) as if it were sound, reaching the same point as with the valid
    bundle; ``check`` reports each of them (see
    ``test_check_reports_what_would_crash_or_mislead_mediapipe``).
    """
    valid = tmp_path / "valid.task"
    create_bundle(models, valid)
    hostile = hostile_bundles(models[DETECTOR], models[LANDMARKS])
    jobs = [{"path": str(valid)}]
    for name, (data, _) in hostile.items():
        (tmp_path / f"{name}.task").write_bytes(data)
        jobs.append({"path": str(tmp_path / f"{name}.task")})
    results = dict(zip(["valid", *hostile], mediapipe_run({"load": jobs}, tmp_path)["load"]))
    sound = results.pop("valid")
    assert "error" in sound  # as above: the small models are no hand models
    assert results.pop("size-plain") == {"signal": 11}
    assert results.pop("size-zip64") == {"signal": 11}
    # A compressed entry is the one thing it refuses.
    assert results.pop("deflated") == {"error": "RuntimeError: Expected uncompressed zip archive."}
    # minizip compares each local header with the central directory.
    for name in ("local-crc", "local-sizes", "local-method"):
        assert results.pop(name) == {
            "error": "RuntimeError: Unable to read the file in zip archive."
        }, name
    for name, result in results.items():
        assert result == sound, name
    assert check(valid) == []


def _peak_rss_of(*argv: str) -> tuple[int, int]:
    """Run ``tflite-metadata ARGV`` as the only child of a fresh process.

    Returns:
        Its exit status and peak RSS in KiB.
    """
    import subprocess
    import sys

    wrapper = (
        "import resource, subprocess, sys\n"
        "status = subprocess.run([sys.executable, '-m', 'tflite_metadata', *sys.argv[1:]],"
        " stdout=subprocess.DEVNULL).returncode\n"
        "print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), int(out[1])


@pytest.mark.slow
def test_a_gigabyte_bundle_in_bounded_memory(tmp_path: Path) -> None:
    """create, check, show and extract never hold (nor map in) a 1 GiB model: < 100 MB peak RSS."""
    big = tmp_path / "big.tflite"
    with open(big, "wb") as stream:
        stream.truncate(1 << 30)
        stream.seek(4)
        stream.write(b"TFL3")  # taken for a model: check and show read it as one
    (tmp_path / "small.bin").write_bytes(b"small")
    bundle = tmp_path / "b.task"
    limit = 100 << 10
    status, peak = _peak_rss_of(
        "bundle", "create", str(bundle), str(big), str(tmp_path / "small.bin")
    )
    assert (status, peak < limit) == (0, True), peak
    for command in (["check", str(bundle)], ["show", str(bundle)]):
        status, peak = _peak_rss_of(*command)
        assert status in (0, 1) and peak < limit, (command, peak)
    status, peak = _peak_rss_of("bundle", "extract", str(bundle), "-d", str(tmp_path / "out"))
    assert (status, peak < limit) == (0, True), peak
    assert (tmp_path / "out" / "big.tflite").stat().st_size == 1 << 30
    with open(tmp_path / "out" / "big.tflite", "rb") as stream:
        assert stream.read(8) == b"\0\0\0\0TFL3"


@pytest.mark.consumers
def test_mediapipes_writer_stores_names_that_leave_the_folder(tmp_path: Path) -> None:
    """The README's claim: MediaPipe's writer stores ``../`` names (ours refuses them), and
    raises IndexError for an empty name. Extracting its bundle is refused, nothing written."""
    model = tmp_path / "m.tflite"
    model.write_bytes(b"model")
    jobs = [
        {
            "models": [["a.tflite", str(model)], [name, str(model)]],
            "output": str(tmp_path / f"{i}.task"),
            "time": FIXED_TIME,
        }
        for i, name in enumerate(["../evil.tflite", ""])
    ]
    evil, empty = mediapipe_run({"create": jobs}, tmp_path)["create"]
    assert evil == {"written": True}
    assert empty == {"error": "IndexError: string index out of range"}
    assert read_bundle((tmp_path / "0.task").read_bytes()).names() == ["a.tflite", "../evil.tflite"]
    status, _, err = run_cli(
        "bundle", "extract", str(tmp_path / "0.task"), "-d", str(tmp_path / "x")
    )
    assert status == 1 and "refused '../evil.tflite': has a '..' component" in err
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "evil.tflite").exists()


def _patched_first_header(data: bytes, offset: int, fmt: str, *values: int) -> bytes:
    patched = bytearray(data)
    struct.pack_into(fmt, patched, offset, *values)
    return bytes(patched)


def test_local_headers_are_compared_with_the_central_directory_as_minizip_does() -> None:
    """CRC, sizes, method and flags; not the CRC and sizes a data descriptor holds."""
    entries = [RawEntry(b"a.tflite", b"abcd"), RawEntry(b"b.tflite", b"efgh")]
    sound = raw_zip(entries, 0)
    assert read_bundle(sound).names() == ["a.tflite", "b.tflite"]
    # A local size of 0xFFFFFFFF defers to a Zip64 extra field, as minizip reads it.
    assert read_bundle(_patched_first_header(sound, 18, "<II", 0xFFFFFFFF, 0xFFFFFFFF))
    # Flag bit 3, in both headers: the local CRC and sizes are zeros (a data descriptor).
    described = raw_zip([RawEntry(b"a.tflite", b"abcd", flags=8), entries[1]], 0)
    assert read_bundle(_patched_first_header(described, 14, "<III", 0, 0, 0)).read("a.tflite")
    for offset, fmt, value, said in (
        (14, "<I", 0xDEADBEEF, "CRC-32 0xdeadbeef, the central directory"),
        (18, "<I", 3, "compressed size 3, the central directory 4"),
        (22, "<I", 5, "uncompressed size 5, the central directory 4"),
        (8, "<H", 8, "method 8, the central directory 0"),
        (6, "<H", 1, "flags 0x0001, the central directory 0x0000"),
    ):
        with pytest.raises(AssociatedFileError) as caught:
            read_bundle(_patched_first_header(sound, offset, fmt, value))
        assert getattr(caught.value, "fault", None) == ZipFault.HEADER
        assert f"'a.tflite') at offset 84: its local header at offset 0 records {said}" in str(
            caught.value
        )


def test_a_models_associated_files_get_the_same_comparison() -> None:
    """The Task Library and MediaPipe read associated files with minizip too."""
    model = audio_model()
    zipped = raw_zip([RawEntry(b"labels.txt", b"a\nb")], len(model))
    assert find_zip(model + zipped) is not None
    lying = _patched_first_header(model + zipped, len(model) + 14, "<I", 0xDEADBEEF)
    with pytest.raises(AssociatedFileError) as caught:
        find_zip(lying)
    assert getattr(caught.value, "fault", None) == ZipFault.HEADER
    assert "zip-malformed" in [p.code for p in check(lying)]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../evil.tflite", "has a '..' component"),
        ("/etc/evil.tflite", "is an absolute path"),
        ("a\\..\\..\\evil.tflite", "contains a backslash"),
    ],
)
def test_check_list_and_show_flag_names_that_leave_the_folder(
    name: str, reason: str, models: dict[str, bytes], tmp_path: Path
) -> None:
    data = _bundle_bytes(models)
    hostile = raw_zip([RawEntry(b"good.txt", b"x"), RawEntry(name.encode(), b"owned")], 0)
    path = tmp_path / "names.task"
    path.write_bytes(hostile)
    problem, not_a_model = check(hostile)
    assert (problem.code, problem.location) == ("entry-name", f"bundle entry '{name}'")
    assert not_a_model.code == "entry-model"
    assert problem.message.startswith(reason)
    assert check(data) == []
    status, text, _ = run_cli("bundle", "list", str(path))
    assert status == 0
    assert text.splitlines()[1].startswith(f"{name}: 5 bytes (unsafe name: it {reason}")
    status, text, _ = run_cli("show", str(path))
    assert f"note: the name {name!r} {reason}" in text


def test_create_refuses_a_name_that_is_the_folder_of_another(
    tmp_path: Path, models: dict[str, bytes]
) -> None:
    (tmp_path / "a.tflite").write_bytes(models[DETECTOR])
    (tmp_path / "b.tflite").write_bytes(models[LANDMARKS])
    out = tmp_path / "x.task"
    for entries in (["x", "x/y"], ["x/y", "x"], ["d/x", "d/x/y/z"]):
        status, _, err = run_cli(
            "bundle", "create", str(out),
            "--entry", entries[0], str(tmp_path / "a.tflite"),
            "--entry", entries[1], str(tmp_path / "b.tflite"),
        )  # fmt: skip
        assert status == 1, entries
        assert (
            f"cannot pack the bundle entry names {entries[0]!r} and {entries[1]!r}: one would be "
            "both a file and the folder of the other" in err
        )
        assert not out.exists()
    with pytest.raises(AssociatedFileError):
        model_asset_bundle_utils.create_model_asset_bundle({"x": b"1", "x/y": b"2"}, str(out))
    assert not out.exists()


def test_extract_says_why_a_clash_is_refused(tmp_path: Path) -> None:
    data = raw_zip([RawEntry(b"x", b"1"), RawEntry(b"x/y", b"2")], 0)
    path = tmp_path / "clash.task"
    path.write_bytes(data)
    assert [p.code for p in check(data)] == ["entry-name"]
    status, _, err = run_cli("bundle", "extract", str(path), "-d", str(tmp_path / "out"))
    assert status == 1
    assert err.splitlines() == [
        "problem: refused 'x': is both a file and the folder of another entry",
        "error: nothing was extracted: 1 of 2 bundle entry names are both a file and the "
        "folder of another entry",
    ]
    assert not (tmp_path / "out").exists()


def test_extract_checks_every_destination_before_writing(
    tmp_path: Path, models: dict[str, bytes]
) -> None:
    """A subfolder of the destination that is a link: refused, and nothing written."""
    bundle = tmp_path / "b.task"
    create_bundle({"a.tflite": models[DETECTOR], "sub/x.tflite": models[LANDMARKS]}, bundle)
    folder = tmp_path / "so2"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (folder / "sub").symlink_to(elsewhere)
    for command in (["bundle", "extract"], ["extract"]):
        status, text, err = run_cli(*command, str(bundle), "-d", str(folder))
        assert (status, text) == (1, "")
        assert err.splitlines() == [
            f"problem: refused 'sub/x.tflite': would be written through the symbolic link "
            f"'{folder / 'sub'}', which may lead outside the folder",
            "error: nothing was extracted: 1 of 2 bundle entry names would be written through "
            "a link or a file inside the folder",
        ]
        assert sorted(p.name for p in folder.iterdir()) == ["sub"]
        assert list(elsewhere.iterdir()) == []
    with pytest.raises(ExtractRefusedError) as caught:
        extract_all(read_bundle(bundle.read_bytes()), folder)
    assert "bundle entry names" in str(caught.value)
    assert "associated file" not in str(caught.value)


def test_clear_messages_for_misused_commands(tmp_path: Path, models: dict[str, bytes]) -> None:
    for name, content in models.items():
        (tmp_path / name).write_bytes(content)
    detector, landmarks = str(tmp_path / DETECTOR), str(tmp_path / LANDMARKS)
    # A folder as the output.
    status, _, err = run_cli("bundle", "create", str(tmp_path), detector, landmarks)
    assert (status, err) == (1, f"error: cannot write '{tmp_path}': it is a folder\n")
    # The output is one of the inputs: refused, the input kept.
    status, _, err = run_cli("bundle", "create", detector, detector, landmarks)
    assert status == 2
    assert f"would replace its own input {detector}" in err
    assert (tmp_path / DETECTOR).read_bytes() == models[DETECTOR]
    # A file as the folder to extract into.
    bundle = tmp_path / "b.task"
    create_bundle(models, bundle)
    (tmp_path / "l.txt").write_text("keep")
    status, _, err = run_cli("bundle", "extract", str(bundle), "-d", str(tmp_path / "l.txt"))
    assert status == 1
    assert err == f"error: cannot extract into '{tmp_path / 'l.txt'}': it is not a folder\n"
    assert (tmp_path / "l.txt").read_text() == "keep"
    # A model given to bundle list.
    status, _, err = run_cli("bundle", "list", detector)
    assert status == 1
    assert "not a .task bundle: it is a TFLite model" in err
    # A list of models, not a dict.
    with pytest.raises(MetadataValidationError) as caught:
        model_asset_bundle_utils.create_model_asset_bundle(
            [models[DETECTOR], models[LANDMARKS]], str(tmp_path / "o.task")
        )
    assert str(caught.value) == (
        "input_models must be a dict of model file name to model content (bytes), got list"
    )
    with pytest.raises(AssociatedFileError) as pairs_caught:
        create_bundle([models[DETECTOR], models[LANDMARKS]], tmp_path / "o.task")
    assert "item 0 is a bytes, not a (name, content) pair" in str(pairs_caught.value)
    assert not (tmp_path / "o.task").exists()
