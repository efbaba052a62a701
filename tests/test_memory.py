"""Tests of tflite_metadata.model._memory: joining buffers into one large ``bytes``.

The fast path (a ``calloc``-ed ``bytes`` faulted in by ``madvise`` and filled
through a view) must give exactly ``b"".join``, for any pieces; the size from
which it is used is lowered here so that small inputs take it.
"""

from __future__ import annotations

import mmap
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tflite_metadata.model import _memory

FAST_PATH = sys.implementation.name == "cpython" and sys.platform.startswith("linux")


@pytest.fixture
def always_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_memory, "PREFAULT_MIN_SIZE", 0)


def as_kind(data: bytes, kind: str) -> Any:
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(b"<" + data + b">")[1:-1]
    return data


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(
        st.tuples(st.binary(max_size=9000), st.sampled_from(["bytes", "bytearray", "memoryview"])),
        max_size=6,
    )
)
def test_concatenate_is_join(pieces: list[tuple[bytes, str]]) -> None:
    expected = b"".join(data for data, _ in pieces)
    saved = _memory.PREFAULT_MIN_SIZE
    _memory.PREFAULT_MIN_SIZE = 0  # hypothesis runs the body many times per fixture
    try:
        result = _memory.concatenate(as_kind(data, kind) for data, kind in pieces)
    finally:
        _memory.PREFAULT_MIN_SIZE = saved
    assert type(result) is bytes
    assert result == expected


@pytest.mark.skipif(not FAST_PATH, reason="the prefaulted path is CPython on Linux only")
def test_the_fast_path_is_taken_where_it_exists(always_fast: None) -> None:
    assert _memory._madvise() is not None
    fresh = _memory._new_prefaulted_bytes(3 * mmap.PAGESIZE + 5)
    assert fresh is not None
    result, window = fresh
    with window:
        window[:] = b"\x07" * len(window)
    assert result == b"\x07" * (3 * mmap.PAGESIZE + 5)


def test_the_result_owns_its_bytes(always_fast: None) -> None:
    source = bytearray(b"abc" * 50_000)
    result = _memory.concatenate([b"head", source, memoryview(source)[:10]])
    source[:] = b"x" * len(source)
    assert result == b"head" + b"abc" * 50_000 + b"abcabcabca"
    again = _memory.concatenate([b"head", b"abc" * 50_000, b"abcabcabca"])
    assert again == result and again is not result


def test_concatenate_reads_an_mmap(always_fast: None, tmp_path: Any) -> None:
    path = tmp_path / "data"
    path.write_bytes(bytes(range(256)) * 100)
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        assert _memory.concatenate([memoryview(m)[10:], b"!"]) == path.read_bytes()[10:] + b"!"


def test_a_large_result_with_the_default_threshold() -> None:
    block = bytes(range(256)) * 4096  # 1 MiB
    pieces = [b"start", *(block for _ in range(_memory.PREFAULT_MIN_SIZE >> 20)), b"end"]
    result = _memory.concatenate(pieces)
    assert len(result) == _memory.PREFAULT_MIN_SIZE + 8
    assert result == b"".join(pieces)


@pytest.mark.parametrize("cores", [1, 2, 3, 7])
@pytest.mark.parametrize("pages", [1, 2, 5, 64, 1001])
def test_prefault_covers_the_range_once(
    monkeypatch: pytest.MonkeyPatch, cores: int, pages: int
) -> None:
    calls: list[tuple[int, int, int]] = []
    all_cores = set(range(cores))
    monkeypatch.setattr(_memory.os, "sched_getaffinity", lambda pid: all_cores, raising=False)
    page = mmap.PAGESIZE
    start = 1000 * page
    end = start + pages * page
    _memory._prefault(lambda a, n, advice: calls.append((a, n, advice)), start, end)
    assert all(advice == _memory.MADV_POPULATE_WRITE for _, _, advice in calls)
    assert all(a % page == 0 and n % page == 0 and n > 0 for a, n, _ in calls)
    covered = sorted((a, a + n) for a, n, _ in calls)
    assert covered[0][0] == start and covered[-1][1] == end
    assert all(left[1] == right[0] for left, right in zip(covered, covered[1:]))
    threads = min(cores, _memory.PREFAULT_MAX_THREADS)
    assert len(calls) <= threads
    # Balanced: no part larger than an even share, rounded up to a page.
    assert max(n for _, n, _ in calls) == -(-pages // threads) * page


def test_prefault_without_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process out of threads faults every part in itself."""

    def refuse(self: Any) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(_memory.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    monkeypatch.setattr(_memory.threading.Thread, "start", refuse)
    calls: list[tuple[int, int]] = []
    page = mmap.PAGESIZE
    _memory._prefault(lambda a, n, advice: calls.append((a, n)), 0, 9 * page)
    assert sorted(calls) == [(0, 3 * page), (3 * page, 3 * page), (6 * page, 3 * page)]
