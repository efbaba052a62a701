"""Tests of tflite_metadata.fileio's copy: exact bytes on every path, aligned kernel pieces.

Failure handling (disk full, refused writes, atomicity) is attacked in
test_hostile.py; this file checks the copy itself.
"""

from __future__ import annotations

import errno
import os
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest

from tflite_metadata import fileio

PIECE = 4096  # a small piece, so that short data crosses many piece boundaries
DATA = bytes((i * 7 + i // 251) % 256 for i in range(5 * PIECE + 123))


def copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: int, end: int, prefix: bytes = b""
) -> tuple[bytes, list[tuple[int, int]]]:
    """Copy DATA[start:end] after ``prefix``; the result and each kernel call's
    (target position, byte count)."""
    source = tmp_path / "source"
    source.write_bytes(DATA)
    target_path = tmp_path / "target"
    calls: list[tuple[int, int]] = []
    original = fileio._copy_file_range

    def spy(source_fd: int, target_fd: int, position: int, count: int) -> int:
        calls.append((os.lseek(target_fd, 0, os.SEEK_CUR), count))
        return original(source_fd, target_fd, position, count)

    monkeypatch.setattr(fileio, "_copy_file_range", spy)
    with open(source, "rb") as src, open(target_path, "w+b") as target:
        target.write(prefix)
        fileio.copy_range(src, target, start, end)
    return target_path.read_bytes(), calls


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fileio, "_KERNEL_COPY_PIECE", PIECE)


@pytest.mark.parametrize("prefix", [0, 1, 100, PIECE - 1, PIECE, PIECE + 16])
@pytest.mark.parametrize(
    ("start", "end"),
    [(0, len(DATA)), (0, 0), (5, 6), (17, 3 * PIECE + 1), (PIECE, 2 * PIECE), (1, len(DATA))],
)
def test_copy_range_copies_exactly_the_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: int, start: int, end: int
) -> None:
    head = b"h" * prefix
    result, _ = copy(tmp_path, monkeypatch, start, end, head)
    assert result == head + DATA[start:end]


@pytest.mark.skipif(not hasattr(os, "copy_file_range"), reason="no copy_file_range here")
@pytest.mark.parametrize("prefix", [1, 100, PIECE - 1, PIECE + 16])
def test_kernel_pieces_end_on_piece_boundaries_of_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: int
) -> None:
    result, calls = copy(tmp_path, monkeypatch, 0, len(DATA), b"h" * prefix)
    assert result == b"h" * prefix + DATA
    assert calls, "the kernel copy was not used"
    first_position, first_count = calls[0]
    assert first_position == prefix
    assert (first_position + first_count) % PIECE == 0  # brings the target to a boundary
    for position, count in calls[1:]:
        assert position % PIECE == 0
        assert count <= PIECE


def unsupported(*args: Any) -> int:
    raise OSError(errno.ENOSYS, "not here")


def cross_device(*args: Any) -> int:
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def once_then(error: Callable[..., int]) -> Callable[..., int]:
    """A kernel copy that works once (a piece), then fails as ``error`` does."""
    calls = []

    def copy_once(source_fd: int, target_fd: int, position: int, count: int) -> int:
        calls.append(position)
        if len(calls) > 1:
            return error()
        return int(os.copy_file_range(source_fd, target_fd, count, position))

    return copy_once


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("unsupported", "real"),  # no copy_file_range: sendfile
        ("unsupported", "unsupported"),  # neither: through a buffer
        ("cross_device", "unsupported"),
        ("partial", "unsupported"),  # one piece by the kernel, the rest through a buffer
    ],
)
def test_fallbacks_copy_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str, second: str
) -> None:
    if first == "partial" and not hasattr(os, "copy_file_range"):
        pytest.skip("no copy_file_range here")
    kinds = {"unsupported": unsupported, "cross_device": cross_device}
    if first == "partial":
        monkeypatch.setattr(fileio, "_copy_file_range", once_then(unsupported))
    else:
        monkeypatch.setattr(fileio, "_copy_file_range", kinds[first])
    if second != "real":
        monkeypatch.setattr(fileio, "_sendfile", kinds[second])
    source = tmp_path / "source"
    source.write_bytes(DATA)
    with open(source, "rb") as src, open(tmp_path / "target", "w+b") as target:
        target.write(b"head")
        fileio.copy_range(src, target, 3, len(DATA) - 2)
    assert (tmp_path / "target").read_bytes() == b"head" + DATA[3:-2]


def test_a_real_error_is_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio, "_copy_file_range", full)
    source = tmp_path / "source"
    source.write_bytes(DATA)
    out = tmp_path / "target"
    with open(source, "rb") as src, open(out, "w+b") as target, pytest.raises(OSError) as error:
        fileio.copy_range(src, target, 0, len(DATA))
    assert error.value.errno == errno.ENOSPC


def test_atomic_output_syncs_what_replaces_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replacement is fsynced before the rename (a power cut leaves one version or
    the other); a new file is not waited for, as ``cp`` does not."""
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(source: Any, target: Any) -> None:
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "out.bin"
    for content in (b"first", b"second"):
        with fileio.atomic_output(out) as stream:
            stream.write(content)
        assert out.read_bytes() == content
    assert events == ["replace", "fsync", "replace"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


@pytest.mark.parametrize("exists", [False, True])
def test_writeback_starts_early_only_for_what_will_be_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    started: list[tuple[int, int]] = []
    monkeypatch.setattr(
        fileio, "_start_writeback", lambda fd, start, count: started.append((start, count))
    )
    source = tmp_path / "source"
    source.write_bytes(DATA)
    out = tmp_path / "out.bin"
    if exists:
        out.write_bytes(b"old")
    with open(source, "rb") as src, fileio.atomic_output(out) as stream:
        stream.write(b"head")
        fileio.copy_range(src, stream, 0, len(DATA))
    assert out.read_bytes() == b"head" + DATA
    if exists and hasattr(os, "copy_file_range"):
        assert sum(count for _, count in started) == len(DATA)
        assert started[0][0] == len(b"head")
    elif not exists:
        assert started == []
    assert not fileio._SYNCED_OUTPUTS  # nothing left registered


@pytest.mark.parametrize(("start", "end"), [(0, 0), (0, 1), (3, (1 << 20) + 5), (7, (3 << 20) + 1)])
def test_crc32_range_reads_a_range_in_pieces(start: int, end: int, tmp_path: Path) -> None:
    data = bytes(range(256)) * ((3 << 20) // 256 + 1)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    with open(path, "rb") as source:
        assert fileio.crc32_range(source, start, end) == zlib.crc32(data[start:end])


def test_crc32_range_past_the_end_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"short")
    with open(path, "rb") as source, pytest.raises(OSError, match="unexpected end of file at 5"):
        fileio.crc32_range(source, 0, 10)
