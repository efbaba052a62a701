"""Associated files (and every other input) given by path, for every writer and command.

Three groups:

* paths that name no regular file: a character device (``/dev/null``, and
  ``/dev/zero``, which never ends), a FIFO, a folder, a symbolic link to a
  device. Every entry point (command line, spec file, Python API) must refuse
  them at once with an error naming the path and what it is. ``/dev/zero`` runs
  in a child process with a memory limit and a timeout, and a FIFO is released
  by a watchdog after a grace period: a regression fails the test instead of
  taking the machine's memory or hanging the suite.
* packed files too large to examine (just over
  :data:`~tflite_metadata.tasks.rules.MAX_EXAMINED_FILE_SIZE`, sparse, so the
  tests stay fast): ``check`` reports them as ``file-not-checked`` and never
  reads them, ``show`` does not read them, ``ScoreCalibrationMd`` refuses them.
* streaming: a file given by path is copied into the output from disk, in
  bounded memory, and the output is byte for byte the in-memory one.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tflite_metadata
from tflite_metadata import _model_builder as model_builder
from tflite_metadata import fileio
from tflite_metadata.archive.associated_files import ZipTail, find_zip
from tflite_metadata.check import Code, check, warn_for_problems
from tflite_metadata.cli import main
from tflite_metadata.errors import (
    AssociatedFileError,
    ConsumerCompatibilityWarning,
    MetadataError,
)
from tflite_metadata.fileio import InputFile
from tflite_metadata.metadata_writers.metadata_info import (
    AssociatedFileMd,
    LabelFileMd,
    ScoreCalibrationMd,
)
from tflite_metadata.model.display import MetadataDisplayer
from tflite_metadata.model.populate import MetadataPopulator, populate_buffer, populate_file
from tflite_metadata.tasks import writer_utils
from tflite_metadata.tasks.audio_classifier import AudioClassifierWriter
from tflite_metadata.tasks.base import MetadataWriter, check_utf8_file, decode_utf8
from tflite_metadata.tasks.rules import MAX_EXAMINED_FILE_SIZE, Problem

LABELS = b"cat\ndog\nbird\n"
CALIBRATION = b"1.0,2.0,3.0\n1.0,2.0,3.0\n1.0,2.0,3.0"

#: How long a test may wait on a FIFO before the watchdog plays its writer.
FIFO_GRACE = 5.0


def small_model() -> bytes:
    """A three-class audio classifier (a few KB)."""
    return bytes(model_builder.build_audio_classifier(input_samples=16, heads=(3,)))


def metadata_for(model: bytes, calibration: bool = False) -> bytes:
    """Metadata recording ``labels.txt`` (and ``score_calibration.txt``)."""
    score = ScoreCalibrationMd(1, 0.2, parameters=[[1.0, 2.0, 3.0]] * 3) if calibration else None
    writer = AudioClassifierWriter.create_for_inference(
        model, 16000, 1, [LabelFileMd("labels.txt", content=LABELS)], score
    )
    assert writer._metadata_buffer is not None
    return bytes(writer._metadata_buffer)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with the model, good label and calibration files, and an output place."""
    (tmp_path / "model.tflite").write_bytes(small_model())
    (tmp_path / "good_labels.txt").write_bytes(LABELS)
    (tmp_path / "good_calibration.txt").write_bytes(CALIBRATION)
    return tmp_path


# -- entry points ---------------------------------------------------------------------------

#: What an entry point did: ``"exit N: stderr"`` for the command line,
#: ``"raised Class: message"`` or ``"no error"`` for the Python API.
Outcome = str


def cli(*argv: Any) -> Outcome:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = main([os.fspath(a) for a in argv])
    return f"exit {status}: {err.getvalue()}"


def api(call: Callable[[], Any]) -> Outcome:
    try:
        call()
    except MetadataError as exc:
        return f"raised {type(exc).__name__}: {exc}"
    return "no error"


def write_cli(work: Path, *options: Any, model: Any = None) -> Outcome:
    model = work / "model.tflite" if model is None else model
    out = work / "out.tflite"
    return cli(
        "write",
        "audio-classifier",
        model,
        "-o",
        out,
        "--sample-rate",
        "16000",
        "--channels",
        "1",
        *options,
    )


def spec_cli(work: Path, document: dict[str, Any]) -> Outcome:
    spec = work / "spec.json"
    spec.write_text(json.dumps({"input": {"sample_rate": 16000, "channels": 1}, **document}))
    return cli(
        "write",
        "audio-classifier",
        work / "model.tflite",
        "-o",
        work / "out.tflite",
        "--spec",
        spec,
    )


def model_of(work: Path) -> bytes:
    return (work / "model.tflite").read_bytes()


def populator_files(work: Path, path: Path) -> None:
    populator = MetadataPopulator.with_model_file(work / "model.tflite")
    populator.load_associated_files([path])


def populator_metadata(work: Path, path: Path) -> None:
    populator = MetadataPopulator.with_model_file(work / "model.tflite")
    populator.load_metadata_file(path)


def writer_populate_to(work: Path, path: Path) -> None:
    writer = AudioClassifierWriter.create_for_inference(model_of(work), 16000, 1, [path])
    with open(work / "streamed.tflite", "wb") as stream:
        writer.populate_to(stream)


#: Every way a path reaches the package; each takes the path and the work folder.
ENTRY_POINTS: dict[str, Callable[[Path, Path], Outcome]] = {
    "cli --labels": lambda path, work: write_cli(work, "--labels", path),
    "cli --score-calibration": lambda path, work: write_cli(
        work, "--labels", work / "good_labels.txt", "--score-calibration", path
    ),
    "cli spec labels": lambda path, work: spec_cli(work, {"outputs": [{"labels": [str(path)]}]}),
    "cli spec calibration": lambda path, work: spec_cli(
        work,
        {
            "outputs": [
                {
                    "labels": [str(work / "good_labels.txt")],
                    "score_calibration": {"file": str(path)},
                }
            ]
        },
    ),
    "cli --spec": lambda path, work: cli(
        "write",
        "audio-classifier",
        work / "model.tflite",
        "-o",
        work / "out.tflite",
        "--spec",
        path,
    ),
    "cli write MODEL": lambda path, work: write_cli(work, model=path),
    "cli check": lambda path, work: cli("check", path),
    "cli show": lambda path, work: cli("show", path),
    "cli show --json": lambda path, work: cli("show", "--json", path),
    "cli extract": lambda path, work: cli("extract", path, "-d", work / "extracted"),
    "LabelFileMd, populate": lambda path, work: api(
        lambda: AudioClassifierWriter.create_for_inference(
            model_of(work), 16000, 1, [LabelFileMd(path)]
        ).populate()
    ),
    "label path, populate": lambda path, work: api(
        lambda: AudioClassifierWriter.create_for_inference(
            model_of(work), 16000, 1, [path]
        ).populate()
    ),
    "label path, populate_to": lambda path, work: api(lambda: writer_populate_to(work, path)),
    "LabelFileMd.read": lambda path, work: api(lambda: LabelFileMd(path).read()),
    "LabelFileMd.read_labels": lambda path, work: api(lambda: LabelFileMd(path).read_labels()),
    "AssociatedFileMd.read": lambda path, work: api(lambda: AssociatedFileMd(path).read()),
    "ScoreCalibrationMd": lambda path, work: api(lambda: ScoreCalibrationMd(1, 0.2, path)),
    "MetadataWriter associated_files path": lambda path, work: api(
        lambda: MetadataWriter.create_from_metadata(
            model_of(work), associated_files=[path]
        ).populate()
    ),
    "MetadataWriter associated_files AssociatedFileMd": lambda path, work: api(
        lambda: MetadataWriter.create_from_metadata(
            model_of(work), associated_files=[AssociatedFileMd(path)]
        ).populate()
    ),
    "MetadataPopulator.load_associated_files": lambda path, work: api(
        lambda: populator_files(work, path)
    ),
    "MetadataPopulator.load_metadata_file": lambda path, work: api(
        lambda: populator_metadata(work, path)
    ),
    "MetadataPopulator.with_model_file": lambda path, work: api(
        lambda: MetadataPopulator.with_model_file(path)
    ),
    "MetadataDisplayer.with_model_file": lambda path, work: api(
        lambda: MetadataDisplayer.with_model_file(path)
    ),
    "writer_utils.load_file": lambda path, work: api(lambda: writer_utils.load_file(path)),
    "check()": lambda path, work: api(lambda: check(path)),
    "AudioClassifierWriter model path": lambda path, work: api(
        lambda: AudioClassifierWriter.create_for_inference(path, 16000, 1, [])
    ),
}


def assert_refused(outcome: Outcome, path: Path, kind: str, entry: str) -> None:
    """The outcome is one clear error naming ``path`` and what it is."""
    expected = f" '{path}': it is {kind}, not a regular file"
    assert expected in outcome, f"{entry}: {outcome!r}"
    if outcome.startswith("exit"):
        assert outcome.startswith("exit 1: error: cannot read "), f"{entry}: {outcome!r}"
        assert outcome.count("\n") == 1, f"{entry}: {outcome!r}"
    else:
        assert outcome.startswith(
            ("raised AssociatedFileError: cannot read ", "raised InputReadError: cannot read ")
        ), f"{entry}: {outcome!r}"


# -- not a regular file ----------------------------------------------------------------------


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_folder_is_refused(entry: str, work: Path) -> None:
    folder = work / "labels_folder"
    folder.mkdir()
    assert_refused(ENTRY_POINTS[entry](folder, work), folder, "a folder", entry)


needs_dev_null = pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")


@needs_dev_null
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_character_device_is_refused(entry: str, work: Path) -> None:
    # /dev/null ends at once, so a regression fails here without harm; /dev/zero
    # (which never ends) is tried in a child process below.
    device = Path("/dev/null")
    assert_refused(ENTRY_POINTS[entry](device, work), device, "a character device", entry)


@needs_dev_null
@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_symbolic_link_to_a_device_is_refused(entry: str, work: Path) -> None:
    link = work / "labels_link.txt"
    link.symlink_to("/dev/null")
    kind = "a symbolic link to a character device"
    assert_refused(ENTRY_POINTS[entry](link, work), link, kind, entry)


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO nobody writes to; after :data:`FIFO_GRACE` s, a watchdog plays its writer.

    A regression that opens the FIFO and waits would hang the suite; the
    watchdog opens and closes the writing end, so that the open returns and the
    read finds the end of the file, and the test then fails on its assertions.
    """
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = tmp_path / "labels_fifo.txt"
    os.mkfifo(path)
    stop = threading.Event()

    def release() -> None:
        if stop.wait(FIFO_GRACE):
            return
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader waiting
                time.sleep(0.05)
                continue
            os.close(fd)

    watchdog = threading.Thread(target=release, daemon=True)
    watchdog.start()
    yield path
    stop.set()
    watchdog.join()


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_a_fifo_is_refused_without_waiting(entry: str, work: Path, fifo: Path) -> None:
    started = time.monotonic()
    outcome = ENTRY_POINTS[entry](fifo, work)
    elapsed = time.monotonic() - started
    assert elapsed < FIFO_GRACE, f"{entry} waited {elapsed:.1f} s on the FIFO: {outcome!r}"
    assert_refused(outcome, fifo, "a FIFO (named pipe)", entry)


#: Address space for the child that reads /dev/zero: a regression runs out of it
#: (MemoryError) in a second instead of taking the machine's memory.
DEV_ZERO_ADDRESS_SPACE = 2 << 30


def _dev_zero_child(work: str) -> None:
    """In the child process: every entry point on /dev/zero; one JSON line of outcomes."""
    outcomes = {}
    for entry, call in ENTRY_POINTS.items():
        try:
            outcomes[entry] = call(Path("/dev/zero"), Path(work))
        except MemoryError:
            outcomes[entry] = "MemoryError"
    sys.__stdout__.write(json.dumps(outcomes) + "\n")


@pytest.mark.skipif(
    not os.path.exists("/dev/zero") or not sys.platform.startswith("linux"),
    reason="needs /dev/zero and RLIMIT_AS (Linux)",
)
def test_dev_zero_is_refused_at_once(work: Path) -> None:
    """The issue's reproducer: ``--labels /dev/zero`` read until the kernel killed it."""
    package_root = Path(tflite_metadata.__file__).resolve().parent.parent
    tests = Path(__file__).resolve().parent
    script = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({DEV_ZERO_ADDRESS_SPACE}, "
        f"{DEV_ZERO_ADDRESS_SPACE}))\n"
        "import test_paths\n"
        "test_paths._dev_zero_child(sys.argv[1])\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_root), str(tests)])}
    result = subprocess.run(
        [sys.executable, "-c", script, str(work)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(outcomes) == set(ENTRY_POINTS)
    for entry, outcome in outcomes.items():
        assert_refused(outcome, Path("/dev/zero"), "a character device", entry)


def test_missing_files_are_still_missing_file_errors(work: Path) -> None:
    missing = work / "missing.txt"
    message = f"File, '{missing}', does not exist."
    entries = [
        "label path, populate",
        "label path, populate_to",
        "ScoreCalibrationMd",
        "MetadataPopulator.load_associated_files",
        "AssociatedFileMd.read",
    ]
    for entry in entries:
        assert ENTRY_POINTS[entry](missing, work) == f"raised MissingFileError: {message}"
    assert write_cli(work, "--labels", missing) == f"exit 1: error: {message}\n"
    with pytest.raises(FileNotFoundError):
        LabelFileMd(missing).open_source()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files on Linux")
def test_the_refusal_closes_what_it_opened(work: Path) -> None:
    folder = work / "folder"
    folder.mkdir()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        with pytest.raises(AssociatedFileError, match="it is a folder"):
            InputFile.open(folder, AssociatedFileError)
        with pytest.raises(MetadataError, match="it is a folder"):
            fileio.read_file(folder)
    assert len(os.listdir("/proc/self/fd")) == before


# -- files too large to examine ----------------------------------------------------------------

JUST_OVER = MAX_EXAMINED_FILE_SIZE + 1


def sparse_file(path: Path, head: bytes, size: int) -> Path:
    """``head``, then zeros up to ``size`` bytes, as a hole: fast to make, no disk used."""
    with open(path, "wb") as stream:
        stream.write(head)
        stream.truncate(size)
    return path


def packed_large(work: Path, name: str, calibration: bool = False) -> Path:
    """The model with metadata, and its file ``name`` packed just over the limit.

    The large file still fits the model: three labels ("a", "b" and a long run
    of NULs), or three calibration entries. A check that read it would then
    find nothing wrong, so a regression fails the tests below.
    """
    model = model_of(work)
    head = b"a\nb\n" if name == "labels.txt" else b"1.0,2.0,3.0\n1.0,2.0,3.0\n"
    big = sparse_file(work / f"big_{name}", head, JUST_OVER)
    out = work / "large.tflite"
    files: dict[str, Any] = {"labels.txt": LABELS}
    if calibration:
        files["score_calibration.txt"] = CALIBRATION
    with InputFile.open(big) as file:
        files[name] = file
        populate_file(work / "model.tflite", out, metadata_for(model, calibration), files)
    return out


@pytest.fixture
def no_large_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a packed file larger than the limit is read."""
    original = ZipTail.read

    def read(self: ZipTail, name: str) -> bytes:
        assert self.entry(name).size <= MAX_EXAMINED_FILE_SIZE, f"{name} was read whole"
        return original(self, name)

    monkeypatch.setattr(ZipTail, "read", read)


@pytest.mark.parametrize(
    ("name", "what"),
    [("labels.txt", "label file"), ("score_calibration.txt", "score calibration file")],
)
def test_a_file_too_large_to_examine_is_reported(
    name: str, what: str, work: Path, no_large_reads: None
) -> None:
    model = packed_large(work, name, calibration=True)
    problems = check(model)
    assert [(p.code, p.location) for p in problems] == [(Code.FILE_NOT_CHECKED, "output 0")]
    message = problems[0].message
    assert message.startswith(f"{what} '{name}' is {JUST_OVER} bytes (64.0 MiB), more than the ")
    assert f"{MAX_EXAMINED_FILE_SIZE} bytes (64 MiB)" in message
    assert "not checked" in message
    # The command line: a problem, so exit status 1.
    status = cli("check", model)
    assert status.startswith("exit 1: ")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["check", "--json", str(model)]) == 1
    assert [p["code"] for p in json.loads(out.getvalue())] == ["file-not-checked"]


def test_show_does_not_read_a_file_too_large(work: Path, no_large_reads: None) -> None:
    model = packed_large(work, "labels.txt")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["show", str(model)]) == 0
    text = out.getvalue()
    assert (
        f"  labels labels.txt: {JUST_OVER} bytes (64.0 MiB), not read (more than "
        f"{MAX_EXAMINED_FILE_SIZE} bytes (64 MiB); see check)\n" in text
    )
    assert f"  labels.txt: {JUST_OVER} bytes\n" in text


def test_write_refuses_a_file_it_cannot_check(work: Path) -> None:
    big = sparse_file(work / "labels.txt", b"a\nb\n", JUST_OVER)
    outcome = write_cli(work, "--labels", big)
    assert outcome.startswith("exit 1: problem: output 0: label file 'labels.txt' is ")
    assert "[file-not-checked]" in outcome
    assert "was not written: the model could not be fully checked" in outcome
    assert not (work / "out.tflite").exists()
    outcome = write_cli(work, "--labels", big, "--no-check")
    assert outcome.startswith("exit 0: warning: output 0: label file 'labels.txt' is ")
    assert (work / "out.tflite").stat().st_size > JUST_OVER


def test_an_unreadable_packed_file_is_reported_not_passed(work: Path) -> None:
    model = bytearray(
        AudioClassifierWriter.create_for_inference(
            model_of(work), 16000, 1, [LabelFileMd("labels.txt", content=LABELS)]
        ).populate()
    )
    tail = find_zip(bytes(model))
    assert tail is not None
    model[tail.entry("labels.txt").data_offset] ^= 0x01  # "bat" for "cat": the CRC fails
    problems = check(bytes(model))
    assert [(p.code, p.location) for p in problems] == [(Code.FILE_NOT_CHECKED, "output 0")]
    assert problems[0].message.startswith("label file 'labels.txt' cannot be read, so it was not")
    assert "CRC-32" in problems[0].message


def test_a_calibration_file_too_large_is_refused(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = sparse_file(work / "calibration.txt", b"1.0,2.0,3.0\n", JUST_OVER)

    def no_read(self: InputFile) -> bytes:
        raise AssertionError("the calibration file was read")

    monkeypatch.setattr(InputFile, "read", no_read)
    with pytest.raises(AssociatedFileError) as caught:
        ScoreCalibrationMd(1, 0.2, big)
    assert str(caught.value) == (
        f"Score calibration file '{big}' is {JUST_OVER} bytes (64.0 MiB), more than the limit "
        f"of {MAX_EXAMINED_FILE_SIZE} bytes (64 MiB) for a calibration file, which is read "
        "whole to be checked (it holds a short line per class)."
    )


def test_a_calibration_file_at_the_limit_is_read(work: Path) -> None:
    # 64 MiB exactly: the limit is inclusive (and the file is then parsed as usual).
    at_limit = sparse_file(work / "calibration.txt", b"1.0,2.0,3.0\n", MAX_EXAMINED_FILE_SIZE)
    # Read and parsed: its second line, 64 MiB of NULs, is what is wrong with it.
    with pytest.raises(AssociatedFileError, match=r"calibration.txt', line 2: "):
        ScoreCalibrationMd(1, 0.2, at_limit)


def test_not_checked_warns_that_consumers_may_refuse() -> None:
    problem = Problem(Code.FILE_NOT_CHECKED, "output 0", "label file 'x' was not checked")
    with pytest.warns(ConsumerCompatibilityWarning) as caught:
        warn_for_problems([problem])
    assert str(caught[0].message) == (
        "output 0: label file 'x' was not checked (Task Library and MediaPipe may refuse "
        "the model) [file-not-checked]"
    )


# -- streaming -------------------------------------------------------------------------------


def content_of(size: int) -> bytes:
    """``size`` bytes of UTF-8 text (multi-byte characters cross every piece boundary)."""
    text = "".join(f"label {i} é€😀\n" for i in range(size // 10 + 2)).encode()
    cut = text[:size]
    while cut and not _is_utf8(cut):
        cut = cut[:-1]
    return cut + b"x" * (size - len(cut))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read and copy in pieces of 4 KiB, so that small files cross many boundaries."""
    monkeypatch.setattr(fileio, "READ_CHUNK", 4096)
    monkeypatch.setattr(fileio, "_KERNEL_COPY_PIECE", 4096)


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count kernel copies of associated files and whole reads of them."""
    counts = {"copy_to": 0, "read": 0}
    copy_to, read = InputFile.copy_to, InputFile.read

    def counted_copy_to(self: InputFile, target: Any) -> None:
        counts["copy_to"] += 1
        copy_to(self, target)

    def counted_read(self: InputFile) -> bytes:
        counts["read"] += 1
        return read(self)

    monkeypatch.setattr(InputFile, "copy_to", counted_copy_to)
    monkeypatch.setattr(InputFile, "read", counted_read)
    return counts


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096 + 5, 70_000])
def test_streamed_packing_is_byte_identical(
    size: int, work: Path, small_pieces: None, spies: dict[str, int]
) -> None:
    labels = content_of(size)
    other = bytes(range(256)) * (size // 256 + 1)
    (work / "labels.txt").write_bytes(labels)
    (work / "vocab.bin").write_bytes(other)
    model = model_of(work)
    metadata = metadata_for(model)
    with pytest.warns(UserWarning, match="vocab.bin"):
        in_memory = populate_buffer(model, metadata, {"labels.txt": labels, "vocab.bin": other})
    out = work / "streamed.tflite"
    with contextlib.ExitStack() as stack:
        files = {
            "labels.txt": stack.enter_context(InputFile.open(work / "labels.txt")),
            "vocab.bin": stack.enter_context(InputFile.open(work / "vocab.bin")),
        }
        with pytest.warns(UserWarning, match="vocab.bin"):
            populate_file(work / "model.tflite", out, metadata, files)
    assert out.read_bytes() == in_memory
    assert spies == {"copy_to": 2, "read": 0}


@pytest.mark.filterwarnings("ignore::tflite_metadata.errors.ConsumerCompatibilityWarning")
@pytest.mark.parametrize("size", [0, 5, 4096 * 2 + 3])
def test_writers_stream_label_files_given_by_path(
    size: int, work: Path, small_pieces: None, spies: dict[str, int]
) -> None:
    labels = content_of(size) if size else b""
    path = work / "labels.txt"
    path.write_bytes(labels)
    model = model_of(work)
    expected = AudioClassifierWriter.create_for_inference(
        model, 16000, 1, [LabelFileMd("labels.txt", content=labels)]
    ).populate()
    # The writer's populate_to, from a path.
    with open(work / "api.tflite", "wb") as stream:
        AudioClassifierWriter.create_for_inference(model, 16000, 1, [path]).populate_to(stream)
    assert (work / "api.tflite").read_bytes() == expected
    assert spies == {"copy_to": 1, "read": 0}
    # The command line.
    assert write_cli(work, "--labels", path, "--no-check").startswith("exit 0")
    assert (work / "out.tflite").read_bytes() == expected
    assert spies == {"copy_to": 2, "read": 0}


def test_the_populator_streams_files_loaded_by_path(
    work: Path, small_pieces: None, spies: dict[str, int]
) -> None:
    labels = content_of(20_000)
    path = work / "labels.txt"
    path.write_bytes(labels)
    model = model_of(work)
    metadata = metadata_for(model)
    in_place = work / "model.tflite"
    populator = MetadataPopulator.with_model_file(in_place)
    populator.load_metadata_buffer(metadata)
    populator.load_associated_files([path])
    populator.populate()
    assert spies == {"copy_to": 1, "read": 0}
    assert in_place.read_bytes() == populate_buffer(model, metadata, {"labels.txt": labels})
    # In memory, the file is read (the result holds it anyway).
    buffered = MetadataPopulator.with_model_buffer(model)
    buffered.load_metadata_buffer(metadata)
    buffered.load_associated_files([path])
    buffered.populate()
    assert buffered.get_model_buffer() == in_place.read_bytes()


@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="reads the peak RSS (VmHWM) from /proc"
)
def test_writing_a_large_label_file_keeps_memory_bounded(work: Path) -> None:
    """256 MiB of labels (sparse): the old writer held several copies of them.

    The peak is the child's own (``VmHWM``): ``ru_maxrss`` would also count the
    peak of this test process, which Linux carries across the child's ``exec``.
    """
    size = 256 << 20
    labels = sparse_file(work / "labels.txt", b"a\nb\n", size)
    package_root = Path(tflite_metadata.__file__).resolve().parent.parent
    script = (
        "import sys\n"
        "from tflite_metadata.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "peak = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')]\n"
        "print(status, peak[0].split()[1])\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "write",
            "audio-classifier",
            str(work / "model.tflite"),
            "-o",
            str(work / "out.tflite"),
            "--sample-rate",
            "16000",
            "--channels",
            "1",
            "--labels",
            str(labels),
            "--no-check",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONPATH": str(package_root)},
    )
    status, peak_kib = map(int, result.stdout.splitlines()[-1].split())
    assert status == 0, result.stderr
    assert peak_kib < 100 << 10, f"peak RSS {peak_kib} KiB for a {size >> 20} MiB label file"
    with fileio.map_file(work / "out.tflite") as data:
        found = find_zip(data)
        assert found is not None and found.sizes() == [("labels.txt", size)]


def test_a_file_that_changes_while_packed_is_refused(work: Path) -> None:
    path = work / "labels.txt"
    path.write_bytes(LABELS)
    model = model_of(work)
    for change in ("grow", "shrink"):
        path.write_bytes(LABELS)
        with InputFile.open(path) as file:
            if change == "grow":
                with open(path, "ab") as stream:
                    stream.write(b"fish\n")
            else:
                os.truncate(path, 4)
            with pytest.raises(MetadataError) as caught:
                populate_file(
                    work / "model.tflite",
                    work / "out.tflite",
                    metadata_for(model),
                    {"labels.txt": file},
                )
        assert f"file '{path}' changed while it was being packed" in str(caught.value)
        assert not (work / "out.tflite").exists()


def test_two_different_files_under_one_name_are_refused(work: Path) -> None:
    (work / "a").mkdir()
    (work / "b").mkdir()
    first, second = work / "a" / "labels.txt", work / "b" / "labels.txt"
    first.write_bytes(LABELS)
    second.write_bytes(LABELS.replace(b"cat", b"cow"))
    writer = MetadataWriter.create_from_metadata(model_of(work), associated_files=[first, second])
    refused = pytest.raises(AssociatedFileError, match="is given twice with different contents")
    with open(work / "out.tflite", "wb") as stream, refused:
        writer.populate_to(stream)
    # The same bytes twice (another file, or the same one) are one file.
    second.write_bytes(LABELS)
    for files in ([first, second], [first, first]):
        writer = MetadataWriter.create_from_metadata(model_of(work), associated_files=files)
        with pytest.warns(UserWarning, match="does not exist in the metadata"):
            populated = writer.populate()
        tail = find_zip(populated)
        assert tail is not None and tail.sizes() == [("labels.txt", len(LABELS))]


# -- UTF-8, piece by piece --------------------------------------------------------------------


def utf8_error(data: bytes, piece: int) -> str | None:
    """The error of :func:`check_utf8_file` over ``data`` read ``piece`` bytes at a time."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "labels.txt"
        path.write_bytes(data)
        with InputFile.open(path) as file:
            original = file.chunks
            file.chunks = lambda size=None: original(piece)  # type: ignore[method-assign]
            try:
                check_utf8_file(file, "Label file", "labels.txt")
            except AssociatedFileError as exc:
                return str(exc)
    return None


def whole_error(data: bytes) -> str | None:
    try:
        decode_utf8(data, "Label file", "labels.txt")
    except AssociatedFileError as exc:
        return str(exc)
    return None


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [
                b"a",
                b"\n",
                b"\xc3\xa9",
                b"\xe2\x82\xac",
                b"\xf0\x9f\x98\x80",
                b"\xff",
                b"\xc3",
                b"\xe2\x82",
                b"\x80",
                b"\xed\xa0\x80",
            ]
        ),
        max_size=30,
    ).map(b"".join),
    piece=st.integers(1, 9),
)
def test_utf8_piece_by_piece_is_utf8_whole(data: bytes, piece: int) -> None:
    """Same verdict, line, column and byte as decoding the whole file."""
    assert utf8_error(data, piece) == whole_error(data)


@pytest.mark.parametrize(
    ("data", "piece"),
    [
        (b"cat\ndog\nb\xe9te\n", 1),  # the error of test_hostile, one byte at a time
        (b"caf\xc3", 2),  # the file ends inside a character
        (b"ab\ncd\xe2\x82", 4),  # ends inside a character cut by a piece
        (b"\xe2\x82\n", 2),  # a character cut by a newline
    ],
)
def test_utf8_errors_across_pieces(data: bytes, piece: int) -> None:
    assert whole_error(data) is not None
    assert utf8_error(data, piece) == whole_error(data)


@pytest.mark.parametrize(
    "data",
    [
        b"abc\xe2\x82\xac\n\xff",  # a character cut by a piece, a newline, then the error
        b"x\n\xc3\xa9\xf0\x9f\x98\x80\n\xe9t\n",
        b"\xf0\x9f\x98\x80\xf0\x9f\x98",
        "é\n€\n😀\n".encode() * 3 + b"\xc3\xc3",
    ],
)
def test_utf8_errors_for_every_piece_size(data: bytes) -> None:
    assert whole_error(data) is not None
    for piece in range(1, len(data) + 1):
        assert utf8_error(data, piece) == whole_error(data), f"pieces of {piece} bytes"
