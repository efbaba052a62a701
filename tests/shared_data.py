"""The shared test data, ``../shared/testdata`` beside the checkout: read in place.

Tests that need a file skip when it is absent (a fresh clone without it still
runs the rest of the suite); the data is never copied into the repository.
"""

from __future__ import annotations

from pathlib import Path

#: The shared test data folder (its README says what each file is).
TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def read_testdata(relative: str) -> bytes:
    """The bytes of ``TESTDATA / relative``; the test skips when the file is absent."""
    import pytest  # here: the fuzz harness imports this module without pytest

    path = TESTDATA / relative
    if not path.is_file():
        pytest.skip(f"test data {relative} is absent")
    return path.read_bytes()


def shared_path(relative: str) -> str:
    """The path of ``TESTDATA / relative``, as a string; the test skips when it is absent."""
    read_testdata(relative)
    return str(TESTDATA / relative)
