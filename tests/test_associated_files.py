"""Tests of tflite_metadata.archive.associated_files: the zip appended after a model.

Round trips against Python's zipfile (it reads what we write; we read what it
writes, with absolute and relative offsets, stored and deflated, Zip64), the
real tflite-support model in /work/shared/testdata, tflite-support's own
``MetadataDisplayer`` on our archives, golden bytes, safe extraction, and
hostile archives: small hand-made byte strings, each saying what it attacks,
plus a property test that mutates valid archives. Every failure must be an
AssociatedFileError.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import consumer_env
from shared_data import TESTDATA
from tflite_metadata.archive.associated_files import (
    EOCD_SEARCH_SIZE,
    ExtractRefusedError,
    FileContent,
    ZipLimits,
    ZipTail,
    build_zip,
    check_extract_name,
    extract_all,
    extract_refusals,
    find_zip,
    name_problem,
    safe_member_path,
    write_zip,
)
from tflite_metadata.errors import AssociatedFileError, MetadataError

YAMNET = TESTDATA / "tflite-support" / "yamnet_audio_classifier_with_metadata.tflite"
YAMNET_LABELS = TESTDATA / "tflite-support" / "yamnet_521_labels.txt"

#: Stands in for the model bytes before the zip; its content is irrelevant to the zip.
MODEL = bytes(range(256)) * 4


def tail_of(data: Any, **kwargs: Any) -> ZipTail:
    tail = find_zip(data, **kwargs)
    assert tail is not None
    return tail


def read_all(data: Any) -> dict[str, bytes]:
    tail = tail_of(data)
    return {name: tail.read(name) for name in tail.names()}


def zipfile_archive(
    files: dict[str, bytes], compression: int = zipfile.ZIP_STORED, comment: bytes = b""
) -> bytes:
    """An archive written by zipfile on its own: offsets relative to its start."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        archive.comment = comment
    return stream.getvalue()


def zipfile_appended(model: bytes, files: dict[str, bytes]) -> bytes:
    """What tflite-support does: zipfile in append mode over the model (absolute offsets)."""
    stream = io.BytesIO(model)
    with zipfile.ZipFile(stream, "a") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return stream.getvalue()


# -- hand-made records (APPNOTE field order), for the hostile cases -------------------------


def local_header(
    name: bytes,
    data: bytes,
    *,
    method: int = 0,
    flags: int = 0,
    crc: int | None = None,
    sizes: tuple[int, int] | None = None,
) -> bytes:
    crc = zlib.crc32(data) if crc is None else crc
    compressed, size = sizes if sizes is not None else (len(data), len(data))
    return (
        struct.pack(
            "<I5H3I2H", 0x04034B50, 20, flags, method, 0, 0x21, crc, compressed, size, len(name), 0
        )
        + name
        + data
    )


def central_header(
    name: bytes,
    *,
    offset: int,
    crc: int = 0,
    sizes: tuple[int, int] = (0, 0),
    method: int = 0,
    flags: int = 0,
    extra: bytes = b"",
    disk: int = 0,
) -> bytes:
    compressed, size = sizes
    return (
        struct.pack(
            "<I6H3I5H2I",
            0x02014B50,
            0x0314,
            20,
            flags,
            method,
            0,
            0x21,
            crc,
            compressed,
            size,
            len(name),
            len(extra),
            0,
            disk,
            0,
            0,
            offset,
        )
        + name
        + extra
    )


def end_record(
    count: int,
    directory_size: int,
    directory_offset: int,
    *,
    disk: int = 0,
    directory_disk: int = 0,
    disk_count: int | None = None,
    comment: bytes = b"",
) -> bytes:
    disk_count = count if disk_count is None else disk_count
    return (
        struct.pack(
            "<I4H2IH",
            0x06054B50,
            disk,
            directory_disk,
            disk_count,
            count,
            directory_size,
            directory_offset,
            len(comment),
        )
        + comment
    )


def stored_archive(
    entries: list[tuple[bytes, bytes]], base: int = len(MODEL), **end_fields: Any
) -> bytes:
    """A plain stored archive of hand-made records whose offsets count from ``base``."""
    locals_, centrals = b"", b""
    for name, data in entries:
        centrals += central_header(
            name, offset=base + len(locals_), crc=zlib.crc32(data), sizes=(len(data), len(data))
        )
        locals_ += local_header(name, data)
    return (
        locals_
        + centrals
        + end_record(len(entries), len(centrals), base + len(locals_), **end_fields)
    )


def assert_refused(data: Any, *fragments: str) -> AssociatedFileError:
    with pytest.raises(AssociatedFileError) as info:
        tail = find_zip(data)
        assert tail is not None
        for name in tail.names():
            tail.read(name)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return info.value


# -- writing: golden bytes, and zipfile reads what we write -----------------------------------


def test_write_zip_golden_bytes() -> None:
    expected = bytes.fromhex(
        # local header: PK\3\4, version 2.0, flags 0, stored, 00:00:00, 1980-01-01,
        # CRC-32 of b"hi", sizes 2 and 2, name 5 bytes, no extra; the name; the data
        "504b0304 1400 0000 0000 0000 2100 ac2a93d8 02000000 02000000 0500 0000"
        "612e747874 6869"
        # central header: made by Unix 2.0, needs 2.0, same fields, no extra/comment,
        # disk 0, internal 0, external rw-r--r-- regular file, local header at 16
        "504b0102 1403 1400 0000 0000 0000 2100 ac2a93d8 02000000 02000000 0500 0000 0000"
        "0000 0000 0000a481 10000000 612e747874"
        # end record: disk 0/0, 1 entry, directory of 51 bytes at absolute offset 53
        "504b0506 0000 0000 0100 0100 33000000 35000000 0000"
    )
    assert build_zip({"a.txt": b"hi"}, 16) == expected
    stream = io.BytesIO()
    assert write_zip({"a.txt": b"hi"}, 16, stream) == len(expected)
    assert stream.getvalue() == expected


def test_zipfile_reads_our_archive_from_the_whole_file() -> None:
    files = {"labels.txt": b"cat\ndog", "étiquettes.txt": b"chat\nchien", "empty.txt": b""}
    full = MODEL + build_zip(files, len(MODEL))
    with zipfile.ZipFile(io.BytesIO(full)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == list(files)
        infos = archive.infolist()
        for info in infos:
            assert archive.read(info) == files[info.filename]
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
        # Absolute offsets: the first local header is right after the model.
        assert infos[0].header_offset == len(MODEL)
        assert infos[1].flag_bits & 0x800  # UTF-8 name flag, for the non-ASCII name only
        assert not infos[0].flag_bits & 0x800
    assert read_all(full) == files
    assert tail_of(full).start == len(MODEL)
    assert tail_of(full).base_offset == 0


def test_write_zip_is_deterministic_and_keeps_order() -> None:
    files = [("b.txt", b"2"), ("a.txt", b"1")]
    first = build_zip(files, 100)
    assert first == build_zip(dict(files), 100)
    assert tail_of(b"\0" * 100 + first).names() == ["b.txt", "a.txt"]


def test_write_zip_accepts_bytearray_and_memoryview_contents() -> None:
    data = bytearray(b"abc")
    files: dict[str, FileContent] = {"x": data, "y": memoryview(b"defg")[1:]}
    full = build_zip(files, 0)
    assert read_all(full) == {"x": b"abc", "y": b"efg"}


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ([("a.txt", b"1"), ("a.txt", b"2")], "given twice"),
        ({"sub/a.txt": b""}, "not a base name"),
        ({"../a.txt": b""}, "'..' component"),
        ({"": b""}, "is empty"),
        ({"a\\b": b""}, "backslash"),
        ({"C:x": b""}, "drive letter"),
        ({"a\x00b": b""}, "control character U+0000"),
        ({"\ud800": b""}, "UTF-8"),
        ({"a" * 70000: b""}, "at most 65535"),
        ({"a.txt": "text"}, "must be bytes"),
        ({1: b""}, "must be strings"),
        (42, "mapping of name to bytes"),
    ],
)
def test_write_zip_refuses_bad_input(files: Any, fragment: str) -> None:
    stream = io.BytesIO()
    with pytest.raises(AssociatedFileError, match=None) as info:
        write_zip(files, 0, stream)
    assert fragment in str(info.value)
    assert stream.getvalue() == b""  # nothing is written before everything is checked


@pytest.mark.parametrize("base", [-1, 1.5, True, "0"])
def test_write_zip_refuses_bad_base_offset(base: Any) -> None:
    with pytest.raises(AssociatedFileError, match="base_offset"):
        write_zip({"a": b""}, base, io.BytesIO())


def test_write_zip_wraps_stream_failures() -> None:
    class Full(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            raise OSError(28, "No space left on device")

    with pytest.raises(MetadataError, match="No space left on device"):
        write_zip({"a": b"x"}, 0, Full())


def test_zip64_offsets_beyond_4_gib(tmp_path: Path) -> None:
    # A sparse file: 5 GiB of hole (the "model"), then our zip at an offset
    # that needs the Zip64 extra field and Zip64 end records.
    base = (5 << 30) + 3
    path = tmp_path / "big.tflite"
    with open(path, "wb") as stream:
        stream.truncate(base)
        stream.seek(base)
        write_zip({"labels.txt": b"a\nb", "b.txt": b"xyz"}, base, stream)
    if os.stat(path).st_blocks * 512 > (64 << 20):
        pytest.skip("the file system does not support sparse files")
    with open(path, "rb") as stream:
        with zipfile.ZipFile(stream) as archive:
            assert archive.infolist()[0].header_offset == base
            assert archive.read("b.txt") == b"xyz"
        mapping = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            tail = tail_of(mapping)
            assert tail.zip64
            assert tail.start == base
            assert tail.read("labels.txt") == b"a\nb"
            del tail
        finally:
            mapping.close()


def test_zip64_entry_count() -> None:
    files = {f"f{i}": b"" for i in range(0x10000)}
    full = b"0123456789" + build_zip(files, 10)
    with zipfile.ZipFile(io.BytesIO(full)) as archive:
        assert len(archive.namelist()) == 0x10000
    assert_refused(full, "declares 65536 entries, more than the limit of 10000")
    tail = tail_of(full, limits=ZipLimits(max_entries=0x10000))
    assert tail.zip64
    assert len(tail) == 0x10000
    assert tail.read("f65535") == b""


# -- reading what zipfile and tflite-support write ------------------------------------------


def test_reads_zipfile_append_mode_absolute_offsets() -> None:
    files = {"labels.txt": b"a\nb\nc", "calibration.txt": b"1.0,2.0,3.0,4.0"}
    full = zipfile_appended(MODEL, files)
    tail = tail_of(full)
    assert tail.base_offset == 0
    assert tail.start == len(MODEL)
    assert tail.end == len(full)
    assert read_all(full) == files


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_reads_appended_archive_with_relative_offsets(compression: int) -> None:
    files = {"labels.txt": b"label\n" * 500, "é.txt": b"x"}
    full = MODEL + zipfile_archive(files, compression, comment=b"a comment")
    tail = tail_of(full)
    assert tail.base_offset == len(MODEL)
    assert tail.start == len(MODEL)
    assert tail.comment == b"a comment"
    assert tail.compression_methods() == [(name, compression) for name in files]
    assert tail.sizes() == [(name, len(content)) for name, content in files.items()]
    assert read_all(full) == files


def test_reads_zipfile_zip64_records(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lowering zipfile's thresholds makes it write Zip64 extra fields and end
    # records for a small archive; appended, so its offsets are relative too.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 0)
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    files = {"a.txt": b"first", "b.txt": b"second"}
    archive = zipfile_archive(files)
    monkeypatch.undo()
    assert b"PK\x06\x06" in archive
    for full in (archive, MODEL + archive):
        tail = tail_of(full)
        assert tail.zip64
        assert read_all(full) == files


def test_empty_archive_starts_at_its_central_directory() -> None:
    full = MODEL + zipfile_archive({})
    tail = tail_of(full)
    assert tail.names() == []
    assert tail.start == len(MODEL)
    full = zipfile_appended(MODEL, {})
    assert tail_of(full).start == len(MODEL)


def test_no_zip_is_none() -> None:
    assert find_zip(MODEL) is None
    assert find_zip(b"") is None
    assert find_zip(b"PK\x03\x04 a local header but no end record") is None


def test_buffer_kinds_agree(tmp_path: Path) -> None:
    full = zipfile_appended(MODEL, {"a.txt": b"alpha"})
    path = tmp_path / "model.tflite"
    path.write_bytes(full)
    with open(path, "rb") as stream:
        mapping = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        for data in (full, bytearray(full), memoryview(full), mapping):
            tail = tail_of(data)
            assert (tail.start, tail.read("a.txt")) == (len(MODEL), b"alpha")
            del tail
        # The tail holds no view between calls, so the mapping can be closed...
        tail = tail_of(mapping)
    finally:
        mapping.close()
    # ...and reading afterwards is an AssociatedFileError, not a ValueError from mmap.
    with pytest.raises(AssociatedFileError, match="cannot read the model buffer"):
        tail.read("a.txt")


def test_model_shortened_after_find_zip() -> None:
    data = bytearray(zipfile_appended(MODEL, {"a.txt": b"alpha"}))
    tail = tail_of(data)
    del data[len(MODEL) + 10 :]
    with pytest.raises(AssociatedFileError, match=r"the model is now 1034 bytes long"):
        tail.read("a.txt")


def test_entry_lookup() -> None:
    tail = tail_of(MODEL + build_zip({"a.txt": b"1"}, len(MODEL)))
    assert "a.txt" in tail
    assert list(tail) == ["a.txt"]
    entry = tail.entry("a.txt")
    assert (entry.method_name, entry.is_stored, entry.data_end) == (
        "stored",
        True,
        entry.data_offset + 1,
    )
    with pytest.raises(AssociatedFileError, match=r"no associated file named 'b.txt'.*'a.txt'"):
        tail.read("b.txt")


def test_not_a_buffer() -> None:
    with pytest.raises(AssociatedFileError, match="got str"):
        find_zip("model.tflite")  # type: ignore[arg-type]
    with pytest.raises(AssociatedFileError, match="contiguous"):
        find_zip(memoryview(MODEL)[::2])


# -- the real model ---------------------------------------------------------------------------


def yamnet() -> bytes:
    if not YAMNET.exists():
        pytest.skip(f"{YAMNET} is not available")
    return YAMNET.read_bytes()


def test_real_tflite_support_model() -> None:
    data = yamnet()
    tail = tail_of(data)
    assert tail.names() == ["yamnet_label_list.txt"]
    assert (tail.start, tail.base_offset, tail.end) == (4120440, 0, len(data))
    assert tail.compression_methods() == [("yamnet_label_list.txt", 0)]
    labels = tail.read("yamnet_label_list.txt")
    assert labels == YAMNET_LABELS.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("yamnet_label_list.txt") == labels
        assert archive.infolist()[0].header_offset == tail.start


def test_real_model_repacked_is_read_by_zipfile() -> None:
    data = yamnet()
    tail = tail_of(data)
    body = data[: tail.start]
    files = {"yamnet_label_list.txt": tail.read("yamnet_label_list.txt"), "ü.txt": b"z"}
    repacked = body + build_zip(files, len(body))
    with zipfile.ZipFile(io.BytesIO(repacked)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == files
    assert read_all(repacked) == files


_DISPLAYER_SCRIPT = """
import json, sys
from tflite_support import metadata
displayer = metadata.MetadataDisplayer.with_model_file(sys.argv[1])
names = displayer.get_packed_associated_file_list()
print("@@" + json.dumps({n: displayer.get_associated_file_buffer(n).hex() for n in names}))
"""


@pytest.mark.reference
def test_tflite_support_displayer_reads_our_zip(tmp_path: Path) -> None:
    data = yamnet()
    python = consumer_env.reference_python()
    consumer_env.require(python is not None, "tflite-support 0.4.4")
    assert python is not None
    body = data[: tail_of(data).start]
    files = {"yamnet_label_list.txt": YAMNET_LABELS.read_bytes(), "étiquettes.txt": b"a\nb"}
    model = tmp_path / "model.tflite"
    model.write_bytes(body + build_zip(files, len(body)))
    proc = subprocess.run(
        [python, "-c", _DISPLAYER_SCRIPT, str(model)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    answers = [line[2:] for line in proc.stdout.splitlines() if line.startswith("@@")]
    assert answers, proc.stderr[-3000:]
    shown = json.loads(answers[0])
    assert list(shown) == list(files)
    assert {name: bytes.fromhex(value) for name, value in shown.items()} == files


# -- names and extraction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.txt", "has a '..' component, which would leave the folder"),  # zip slip
        ("sub/../../evil.txt", "has a '..' component, which would leave the folder"),
        ("..", "has a '..' component, which would leave the folder"),
        ("/etc/passwd", "is an absolute path"),
        ("C:evil.txt", "starts with a drive letter"),
        ("c:/windows/evil.txt", "starts with a drive letter"),
        ("..\\evil.txt", "contains a backslash, a path separator on Windows"),
        ("sub\\evil.txt", "contains a backslash, a path separator on Windows"),
        (
            "labels.txt:hidden",
            "contains a colon, which Windows reads as a drive or a data stream name",
        ),
        ("", "is empty"),
        ("evil\x00.txt", "contains the control character U+0000"),  # truncates C paths
        ("evil\n.txt", "contains the control character U+000A"),
        ("\x1b[2Jevil", "contains the control character U+001B"),  # terminal escapes
        ("evil\x85", "contains the control character U+0085"),
        ("sub/", "names a directory, not a file"),
        ("sub//evil.txt", "has an empty path component ('//')"),
        ("./evil.txt", "has a '.' component"),
    ],
)
def test_unsafe_names(name: str, reason: str) -> None:
    assert name_problem(name) == reason
    with pytest.raises(AssociatedFileError) as info:
        check_extract_name(name)
    assert str(info.value) == f"associated file name {name!r} {reason}"
    with pytest.raises(AssociatedFileError):
        safe_member_path("out", name)


@pytest.mark.parametrize(
    "name", ["labels.txt", "sub/labels.txt", "é.txt", "...", "..a", "a..b", "a b"]
)
def test_safe_names(name: str, tmp_path: Path) -> None:
    assert name_problem(name) is None
    check_extract_name(name)
    assert safe_member_path(tmp_path, name) == tmp_path.joinpath(*name.split("/"))


def test_extract_all_writes_inside_the_folder(tmp_path: Path) -> None:
    files = {"labels.txt": b"a\nb", "sub/deeper/c.txt": b"c", "é.txt": b""}
    tail = tail_of(MODEL + zipfile_archive(files))
    written = extract_all(tail, tmp_path / "out")
    assert written == [
        tmp_path / "out" / "labels.txt",
        tmp_path / "out/sub/deeper/c.txt",
        tmp_path / "out" / "é.txt",
    ]
    for path, content in zip(written, files.values()):
        assert path.read_bytes() == content
    # Atomic writes leave no temporary files behind.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["labels.txt", "sub", "é.txt"]


def test_extract_all_refuses_hostile_names_and_writes_nothing(tmp_path: Path) -> None:
    # A zip slip archive: one good name, two that escape the folder.
    names = [b"good.txt", b"../evil.txt", b"/tmp/evil.txt"]
    tail = tail_of(MODEL + stored_archive([(name, b"x") for name in names]))
    assert extract_refusals(tail.names()) == [
        ("../evil.txt", "has a '..' component, which would leave the folder"),
        ("/tmp/evil.txt", "is an absolute path"),
    ]
    with pytest.raises(ExtractRefusedError) as info:
        extract_all(tail, tmp_path / "out")
    assert info.value.refusals == extract_refusals(tail.names())
    assert "2 of 3 associated file names are unsafe" in str(info.value)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_extract_all_replaces_a_symlink_instead_of_following_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "labels.txt").symlink_to(outside)
    extract_all(tail_of(build_zip({"labels.txt": b"new"}, 0)), folder)
    assert outside.read_bytes() == b"precious"
    assert not (folder / "labels.txt").is_symlink()
    assert (folder / "labels.txt").read_bytes() == b"new"


def test_extract_all_never_writes_through_a_symlinked_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "sub").symlink_to(elsewhere, target_is_directory=True)
    tail = tail_of(MODEL + zipfile_archive({"sub/evil.txt": b"x"}))
    with pytest.raises(AssociatedFileError, match="symbolic link"):
        safe_member_path(folder, "sub/evil.txt")
    with pytest.raises(ExtractRefusedError, match="symbolic link"):
        extract_all(tail, folder)
    assert list(elsewhere.iterdir()) == []


def test_extract_all_refuses_a_name_that_is_also_a_folder(tmp_path: Path) -> None:
    tail = tail_of(MODEL + zipfile_archive({"a": b"1", "a/b": b"2"}))
    with pytest.raises(ExtractRefusedError, match="both a file and the folder"):
        extract_all(tail, tmp_path)


def test_extract_all_checks_limits_before_writing(tmp_path: Path) -> None:
    files = {"a.txt": b"1", "b.txt": b"0" * 5000}
    tail = tail_of(MODEL + zipfile_archive(files), limits=ZipLimits(max_file_size=100))
    with pytest.raises(AssociatedFileError, match="more than the limit of 100 bytes"):
        extract_all(tail, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_safe_member_path_refuses_a_file_as_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").write_bytes(b"")
    with pytest.raises(AssociatedFileError, match="to be a folder"):
        safe_member_path(tmp_path, "sub/a.txt")


# -- hostile archives -------------------------------------------------------------------------


def test_zip_bomb_is_refused_on_read() -> None:
    # Attacks memory: 64 MiB of zeros deflate to ~64 KiB (ratio ~1000:1).
    bomb = zipfile_archive({"bomb.txt": bytes(64 << 20)}, zipfile.ZIP_DEFLATED)
    assert len(bomb) < 100_000
    tail = tail_of(MODEL + bomb)
    assert tail.sizes() == [("bomb.txt", 64 << 20)]  # listing is harmless
    with pytest.raises(AssociatedFileError, match=r"more than 100 times.*likely zip bomb"):
        tail.read("bomb.txt")
    # The same entry is read when the ratio is allowed, which shows the check is what refused.
    relaxed = tail_of(MODEL + bomb, limits=ZipLimits(max_ratio=10_000))
    assert relaxed.read("bomb.txt") == bytes(64 << 20)


def test_small_repetitive_deflated_file_is_read() -> None:
    # Under ratio_free_size the ratio is not checked: a small repetitive label file is fine.
    full = MODEL + zipfile_archive({"a.txt": b"0" * 100_000}, zipfile.ZIP_DEFLATED)
    assert tail_of(full).read("a.txt") == b"0" * 100_000


def test_deflate_stream_longer_than_declared() -> None:
    # Attacks the size bound: the entry declares 10 bytes but inflates to 1000;
    # inflation stops one byte past the declared size.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressor.compress(b"A" * 1000) + compressor.flush()
    name = b"a.txt"
    crc = zlib.crc32(b"A" * 10)
    local = local_header(name, stream, method=8, crc=crc, sizes=(len(stream), 10))
    central = central_header(name, offset=len(MODEL), crc=crc, sizes=(len(stream), 10), method=8)
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "inflates to more than the 10 bytes its entry declares")


def test_deflate_stream_truncated() -> None:
    # Attacks the inflater: a deflate stream cut in the middle.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    content = os.urandom(5000)
    stream = (compressor.compress(content) + compressor.flush())[:100]
    crc = zlib.crc32(content)
    local = local_header(b"a", stream, method=8, crc=crc, sizes=(len(stream), 5000))
    central = central_header(b"a", offset=len(MODEL), crc=crc, sizes=(len(stream), 5000), method=8)
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "deflate stream is truncated")


def test_invalid_deflate_data() -> None:
    # Attacks zlib: bytes that are not a deflate stream at all (zlib.error must not escape).
    garbage = b"\xff" * 64
    local = local_header(b"a", garbage, method=8, crc=0, sizes=(64, 100))
    central = central_header(b"a", offset=len(MODEL), crc=0, sizes=(64, 100), method=8)
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "'a' at offset", "cannot be read")


def test_crc_mismatch() -> None:
    # Attacks integrity: the central directory records another CRC than the data has.
    local = local_header(b"a.txt", b"data", crc=0x12345678)  # both headers agree
    central = central_header(b"a.txt", offset=len(MODEL), crc=0x12345678, sizes=(4, 4))
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "is corrupt: its CRC-32 is", "the zip records 0x12345678")


def test_duplicate_names() -> None:
    # Attacks name lookups: two entries called "labels.txt", which one is read?
    full = MODEL + stored_archive([(b"labels.txt", b"one"), (b"labels.txt", b"two")])
    assert_refused(full, "the name 'labels.txt' is already used by entry 0")


def test_huge_declared_entry_count_does_not_allocate() -> None:
    # Attacks memory and time: an end record claiming 65535 entries in 46 bytes.
    full = MODEL + end_record(0xFFFF, 46, len(MODEL))
    assert_refused(full, "declares 65535 entries, more than the limit of 10000")
    # Within the limit, but far more than the directory can hold.
    full = MODEL + end_record(5000, 46, len(MODEL))
    assert_refused(full, "declares 5000 entries in a central directory of 46 bytes")


def test_huge_declared_stored_size_does_not_allocate() -> None:
    # Attacks memory: a stored entry claiming 4 GiB - 16 bytes of data in a tiny file.
    size = 0xFFFFFFF0
    local = local_header(b"a", b"xy", crc=0, sizes=(size, size))
    central = central_header(b"a", offset=len(MODEL), sizes=(size, size))
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(
        full, "its data (4294967280 bytes from offset", "runs past the start of the central"
    )


def test_huge_declared_zip64_sizes_are_bounded() -> None:
    # Attacks memory: a deflated entry whose Zip64 field claims 1 TiB uncompressed.
    zip64 = struct.pack("<2HQ", 1, 8, 1 << 40)
    local = local_header(b"a", b"\x03\x00", method=8, crc=0, sizes=(2, 0xFFFFFFFF))
    central = central_header(b"a", offset=len(MODEL), sizes=(2, 0xFFFFFFFF), method=8, extra=zip64)
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "declare 1099511627776 bytes uncompressed in total, more than the limit")


def test_huge_declared_central_directory_size() -> None:
    # Attacks bounds: a central directory "4 GiB" long in front of a 22-byte record.
    full = MODEL + end_record(1, 0xFFFFFFFF, 0)
    assert_refused(full, "declares a central directory of 4294967295 bytes, which does not fit")


def test_truncated_central_directory() -> None:
    # Attacks parsing: the directory is cut short, the record still counts two entries.
    archive = stored_archive([(b"a" * 30, b"1"), (b"b.txt", b"2")])
    directory_start = archive.index(b"PK\x01\x02")
    second = archive.index(b"PK\x01\x02", directory_start + 1)
    cut = archive[: second + 20]
    directory_size = len(cut) - directory_start
    full = MODEL + cut + end_record(2, directory_size, len(MODEL) + directory_start)
    assert_refused(full, "central directory entry 1 at offset", "is truncated")


def test_central_directory_name_runs_past_its_end() -> None:
    # Attacks bounds: an entry whose name length reaches past the directory.
    local = local_header(b"a", b"")
    central = central_header(b"a", offset=len(MODEL))
    central = central[:28] + struct.pack("<H", 5000) + central[30:]
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "run past the end of the central directory")


def test_end_record_points_outside_the_file() -> None:
    # Attacks bounds: the directory "starts" at 1 GB in a 1 KiB file.
    archive = stored_archive([(b"a.txt", b"1")])
    directory_size = len(archive) - archive.index(b"PK\x01\x02") - 22
    full = MODEL + archive[:-22] + end_record(1, directory_size, 10**9)
    assert_refused(full, "places the central directory at offset 1000000000", "past the end record")


def test_local_header_offset_outside_the_file() -> None:
    # Attacks bounds: an entry whose local header "is" at 3 GB.
    central = central_header(b"a", offset=3 << 30)
    full = MODEL + central + end_record(1, len(central), len(MODEL))
    assert_refused(full, "local header offset 3221225472 is outside the archive's data")


def test_local_header_offset_at_garbage() -> None:
    # Attacks trust in offsets: the header offset points into the model bytes.
    archive = stored_archive([(b"a", b"1")])
    full = MODEL + archive.replace(
        struct.pack("<I", len(MODEL)) + b"a", struct.pack("<I", 5) + b"a"
    )
    assert_refused(full, "expected a local header (PK\\x03\\x04) at offset 5")


def test_local_and_central_names_differ() -> None:
    # Attacks name checks: the central directory says "safe.txt", the local header "../evil".
    local = local_header(b"../evil", b"x")
    central = central_header(b"safe.txt", offset=len(MODEL), crc=zlib.crc32(b"x"), sizes=(1, 1))
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "names b'../evil', the central directory b'safe.txt'")


def test_entries_sharing_one_local_header() -> None:
    # Attacks size limits: two directory entries pointing at one local header and
    # its data (a "non-recursive" zip bomb multiplies one compressed block this
    # way). The second entry's name does not match the header it points at.
    local = local_header(b"a", b"x" * 100)
    crc = zlib.crc32(b"x" * 100)
    central = central_header(b"a", offset=len(MODEL), crc=crc, sizes=(100, 100)) + central_header(
        b"b", offset=len(MODEL), crc=crc, sizes=(100, 100)
    )
    full = MODEL + local + central + end_record(2, len(central), len(MODEL) + len(local))
    assert_refused(
        full, "central directory entry 1 ('b')", "names b'a', the central directory b'b'"
    )


def test_overlapping_entries_with_distinct_headers() -> None:
    # Attacks size limits: entry b's local header lies inside entry a's data.
    inner = local_header(b"b", b"yy")
    outer = local_header(b"a", b"x" + inner)
    directory = central_header(
        b"a", offset=len(MODEL), crc=zlib.crc32(b"x" + inner), sizes=(len(inner) + 1,) * 2
    ) + central_header(b"b", offset=len(MODEL) + 31 + 1, crc=zlib.crc32(b"yy"), sizes=(2, 2))
    full = MODEL + outer + directory + end_record(2, len(directory), len(MODEL) + len(outer))
    assert_refused(full, "the zip entries 'a'", "and 'b'", "overlap")


def test_name_flagged_utf8_but_invalid() -> None:
    # Attacks decoding: UnicodeDecodeError must not escape.
    local = local_header(b"\xff\xfe", b"", flags=0x800)
    central = central_header(b"\xff\xfe", offset=len(MODEL), flags=0x800)
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "its name is flagged UTF-8 but is not valid UTF-8")


def test_cp437_names_decode_as_zipfile_does() -> None:
    full = MODEL + stored_archive([(b"caf\x82.txt", b"")])
    assert tail_of(full).names() == ["café.txt"]
    with zipfile.ZipFile(io.BytesIO(full)) as archive:
        assert archive.namelist() == ["café.txt"]


def test_encrypted_and_unsupported_methods_are_listed_but_not_read() -> None:
    local = local_header(b"enc", b"x", flags=1) + local_header(b"bz", b"y", method=12)
    central = central_header(
        b"enc", offset=len(MODEL), crc=zlib.crc32(b"x"), sizes=(1, 1), flags=1
    ) + central_header(b"bz", offset=len(MODEL) + 34, crc=zlib.crc32(b"y"), sizes=(1, 1), method=12)
    full = MODEL + local + central + end_record(2, len(central), len(MODEL) + len(local))
    tail = tail_of(full)
    assert tail.compression_methods() == [("enc", 0), ("bz", 12)]
    with pytest.raises(AssociatedFileError, match="is encrypted"):
        tail.read("enc")
    with pytest.raises(AssociatedFileError, match=r"compression method 12 \(bzip2\)"):
        tail.read("bz")


def test_stored_entry_with_different_sizes() -> None:
    # Attacks the stored invariant: 1 byte of data claiming 1000 bytes of content.
    local = local_header(b"a", b"x", sizes=(1, 1000))
    central = central_header(b"a", offset=len(MODEL), sizes=(1, 1000))
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "is stored (uncompressed) but declares 1 bytes of data for 1000")


def test_multi_disk_archive() -> None:
    # Attacks assumptions: an archive that says it spans several disks.
    archive = stored_archive([(b"a", b"1")], disk=1, directory_disk=1)
    assert_refused(MODEL + archive, "multi-disk archive")


def test_entry_on_another_disk() -> None:
    local = local_header(b"a", b"")
    central = central_header(b"a", offset=len(MODEL), disk=2)
    full = MODEL + local + central + end_record(1, len(central), len(MODEL) + len(local))
    assert_refused(full, "starts on disk 2")


def test_zip64_locator_pointing_nowhere() -> None:
    # Attacks Zip64 parsing: a locator whose record is not there.
    locator = struct.pack("<IIQI", 0x07064B50, 0, 123456789, 1)
    full = MODEL + locator + end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    assert_refused(full, "Zip64 locator at offset", "points at offset 123456789")


def test_zip64_extra_field_missing() -> None:
    # Attacks Zip64 parsing: the offset is saturated but no Zip64 field carries it.
    central = central_header(b"a", offset=0xFFFFFFFF)
    full = MODEL + central + end_record(1, len(central), len(MODEL))
    assert_refused(full, "its local header offset is 0xFFFFFFFF but it has no Zip64 extra field")
    # ...or a Zip64 field too short to carry it.
    central = central_header(b"a", offset=0xFFFFFFFF, extra=struct.pack("<2HI", 1, 4, 0))
    full = MODEL + central + end_record(1, len(central), len(MODEL))
    assert_refused(full, "its local header offset is 0xFFFFFFFF but its Zip64 extra field does not")


def test_extra_field_longer_than_its_room() -> None:
    central = central_header(b"a", offset=len(MODEL), extra=struct.pack("<2H", 0x5455, 200))
    full = MODEL + local_header(b"a", b"") + central
    full += end_record(1, len(central), len(full) - len(central))
    assert_refused(full, "extra field 0x5455 declares 200 bytes, but only 0 remain")


def test_bytes_after_the_last_entry() -> None:
    archive = stored_archive([(b"a", b"1")])
    local_size = archive.index(b"PK\x01\x02")
    directory = archive[local_size:-22] + b"junk"
    full = MODEL + archive[:local_size] + directory
    full += end_record(1, len(directory), len(MODEL) + local_size)
    assert_refused(full, "the central directory holds 4 bytes after its 1 declared entries")


def test_garbage_tail() -> None:
    # A tail of random bytes without the signature is simply not a zip...
    assert find_zip(MODEL + bytes(range(200, 256)) * 100) is None
    # ...but a signature followed by garbage claims to be one and is refused.
    assert_refused(MODEL + b"PK\x05\x06" + b"\xee" * 40, "end record at offset")
    # A signature too close to the end to hold a record is a truncated record.
    assert_refused(MODEL + b"PK\x05\x06\x00\x00", "is truncated: 6 of 22 bytes")


def test_signature_beyond_the_search_window_is_ignored() -> None:
    # The end record starts within the last 65,557 bytes; earlier signatures are not it.
    archive = stored_archive([(b"a", b"1")], base=0)
    assert find_zip(archive + b"\0" * (EOCD_SEARCH_SIZE - 22)) is not None
    assert find_zip(archive + b"\0" * (EOCD_SEARCH_SIZE - 21)) is None


def test_truncations_of_a_valid_model_never_escape() -> None:
    full = MODEL + build_zip({"a.txt": b"alpha", "b.txt": b"beta"}, len(MODEL))
    for end in range(len(MODEL), len(full)):
        try:
            tail = find_zip(full[:end])
        except AssociatedFileError:
            continue
        assert tail is None or all(tail.read(name) is not None for name in tail.names())


# -- property test: mutated archives give success or AssociatedFileError, nothing else --------


def _bases() -> list[bytes]:
    deflated = zipfile_archive(
        {"labels.txt": b"speech\nmusic\n" * 40, "c.txt": b"1.0,2.0"}, zipfile.ZIP_DEFLATED
    )
    return [
        MODEL + build_zip({"labels.txt": b"a\nb\nc", "é.txt": b"1.0,2.0,3.0,4.0"}, len(MODEL)),
        MODEL + deflated,
        zipfile_appended(MODEL, {"x.txt": b"x" * 300, "y/z.txt": b""}),
        b"\0" * 10 + build_zip({f"f{i}": bytes([i]) * i for i in range(8)}, 10),
    ]


BASES = _bases()
INTERESTING = [0, 1, 0x7F, 0xFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF, len(MODEL), 46, 22]


@st.composite
def mutated(draw: Callable[..., Any]) -> bytes:
    data = bytearray(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "delete", "insert"]))
        # Mutate mostly the zip (the last ~600 bytes), sometimes anywhere.
        low = draw(st.sampled_from([max(0, len(data) - 600), 0]))
        if len(data) <= low:
            break
        at = draw(st.integers(low, len(data) - 1))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "overwrite":
            width = draw(st.sampled_from([2, 4, 8]))
            value = draw(st.sampled_from(INTERESTING) | st.integers(0, (1 << (8 * width)) - 1))
            data[at : at + width] = (value % (1 << (8 * width))).to_bytes(width, "little")
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 50))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=50))
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_archives_fail_only_with_associated_file_error(data: bytes) -> None:
    try:
        tail = find_zip(data)
    except AssociatedFileError:
        return
    if tail is None:
        return
    assert 0 <= tail.start <= tail.central_directory_offset <= len(data)
    for entry in tail.entries:
        assert tail.start <= entry.header_offset < entry.data_offset <= entry.data_end
        assert entry.data_end <= tail.central_directory_offset
        name_problem(entry.name)
        try:
            content = tail.read(entry.name)
        except AssociatedFileError:
            continue
        assert len(content) == entry.size
