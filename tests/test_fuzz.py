"""Fuzzing every entry point that reads untrusted input.

Hypothesis describes cases (see :mod:`fuzz_harness`): mutations of real models
(from the model builder, and the shared test data when present; plain, and with
metadata and a zip of associated files populated by our writer), mutated
metadata buffers, label and score calibration files, tiny random files, CLI
spec files, mutated ``.task`` bundles and bundles written from hostile entry
names. A worker process runs each case through the writer, the populator,
the displayer, ``check()``, the bundle reader and writer, and the command line.
A case passes when every entry point succeeds, with a readable result, or raises a
:class:`~tflite_metadata.errors.MetadataError` with a message. Any other
exception, a hang (a per-case time limit) or a crash of the worker (the test
survives it) fails the test, and the input is saved.

Runs about 2,400 cases, derandomized, in CI. For a longer run::

    TFLITE_METADATA_FUZZ_EXAMPLES=50000 .venvs/reference/bin/python -m pytest tests/test_fuzz.py

Other knobs: ``TFLITE_METADATA_FUZZ_SHARED=0`` (builder models only),
``TFLITE_METADATA_FUZZ_CASE_SECONDS`` (time limit of one case, default 20),
``TFLITE_METADATA_FUZZ_MEMORY_MB`` (the worker's address space, default 3072).
"""

from __future__ import annotations

import collections
import json
import math
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_harness

HERE = Path(__file__).resolve().parent

#: Cases in all, shared between the targets below by weight.
TOTAL_EXAMPLES = int(os.environ.get("TFLITE_METADATA_FUZZ_EXAMPLES", "2400"))
WEIGHTS = {
    "model": 11,
    "metadata": 4,
    "label": 1,
    "calibration": 1,
    "tiny": 2,
    "spec": 2,
    "bundle": 2,
    "bundle-write": 1,
}


def examples(target: str) -> int:
    return max(1, math.ceil(TOTAL_EXAMPLES * WEIGHTS[target] / sum(WEIGHTS.values())))


def fuzz_settings(target: str) -> settings:
    return settings(
        max_examples=examples(target),
        derandomize=True,  # the same cases on every run: CI failures reproduce
        database=None,
        deadline=None,  # the worker enforces a time limit per case
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


#: Seconds the test waits for one case before it kills the worker (a hang the
#: worker's own alarm cannot interrupt, such as a long call into C).
HARD_LIMIT = fuzz_harness.CASE_TIME_LIMIT + 30
#: Seconds the worker may take to build its seeds.
STARTUP_LIMIT = 600

# -- the worker -----------------------------------------------------------------------------


class Worker:
    """A child process running cases; restarted after a hang or a crash."""

    def __init__(self, failures: Path) -> None:
        self.failures = failures
        self.counts: collections.Counter[str] = collections.Counter()
        self.outcomes: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self._start()

    def _start(self) -> None:
        self.stderr_path = self.failures / f"worker-{len(list(self.failures.iterdir()))}.log"
        self._stderr: IO[bytes] = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "fuzz_harness.py"), str(self.failures)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            cwd=self.failures,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        stdout = self.process.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                self.lines.put(line)
            self.lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        ready = self._read(STARTUP_LIMIT)
        if ready is None or ready.get("status") != "ready":
            raise RuntimeError(f"the fuzz worker did not start: {ready}\n{self._stderr_tail()}")
        self.seeds: list[str] = ready["seeds"]

    def _read(self, timeout: float) -> dict[str, Any] | None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return {"status": "hang"}
        return None if line is None else json.loads(line)

    def _stderr_tail(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-4000:]

    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        """Run one case; a hang or a crash is reported as a result, never raised."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(case) + "\n")
            self.process.stdin.flush()
            result = self._read(HARD_LIMIT)
        except (BrokenPipeError, OSError):
            result = None
        if result is None or result["status"] == "hang":
            if result is None:
                self.process.wait()
                result = {
                    "status": "crash",
                    "message": f"the worker died (exit status {self.process.returncode})",
                    "details": self._stderr_tail(),
                }
            else:
                result["message"] = f"no answer within {HARD_LIMIT} s"
                result["details"] = ""
            self.close()
            self._start()
        self.counts[result["status"]] += 1
        for operation, outcome in result.get("outcomes", {}).items():
            self.outcomes[(case["target"], operation, outcome)] += 1
        return result

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    failures = tmp_path_factory.mktemp("fuzz-failures")
    running = Worker(failures)
    yield running
    running.close()
    summary = ", ".join(f"{count} {status}" for status, count in sorted(running.counts.items()))
    print(
        f"\nfuzz: {sum(running.counts.values())} cases ({summary}); inputs of failures: {failures}"
    )
    succeeded: collections.Counter[tuple[str, str]] = collections.Counter()
    ran: collections.Counter[tuple[str, str]] = collections.Counter()
    for (target, operation, outcome), count in running.outcomes.items():
        ran[(target, operation)] += count
        if outcome == "ok" or outcome.startswith("exit 0"):
            succeeded[(target, operation)] += count
    for key in sorted(ran):
        print(f"  {key[0]:>11} {key[1]:<18} {succeeded[key]:>5} of {ran[key]:>5} succeeded")


def run(worker: Worker, case: dict[str, Any]) -> None:
    result = worker.run(case)
    if result["status"] != "ok":
        pytest.fail(
            f"{result['status']}: {result.get('message')}\n"
            f"case: {json.dumps(case)}\n"
            f"input saved as: {result.get('saved', '(not saved)')}\n"
            f"{result.get('details', '')}",
            pytrace=False,
        )


# -- the strategies -------------------------------------------------------------------------

regions = st.sampled_from(["hot", "hot", "hot", "head", "tail", "any"])
positions = st.integers(0, 2**32 - 1)

zip_entry = st.one_of(
    st.fixed_dictionaries(
        {
            "name": st.integers(0, len(fuzz_harness.ZIP_NAMES) - 1),
            "data": st.binary(max_size=24).map(bytes.hex),
            "method": st.sampled_from([0, 0, 8, 12]),
        },
        optional={
            "flags": st.sampled_from([0, 1, 8, 0x800]),
            "crc32": st.integers(0, 6),
            "compressed_size": st.integers(0, 6),
            "size": st.integers(0, 6),
            "header_offset": st.integers(0, 6),
        },
    ),
    st.just({"bomb": True}),
)
zip_spec = st.fixed_dictionaries(
    {"entries": st.lists(zip_entry, max_size=3)},
    optional={
        "entry_count": st.integers(0, 6),
        "directory_size": st.integers(0, 6),
        "directory_offset": st.integers(0, 6),
        "comment_size": st.integers(0, 6),
        "relative": st.booleans(),
        "cut": st.integers(1, 200),
    },
)

mutation = st.one_of(
    st.tuples(st.just("truncate"), regions, positions),
    st.tuples(st.just("flip"), regions, positions, st.integers(0, 254)),
    st.tuples(st.just("u32"), regions, positions, st.integers(0, 8), positions),
    st.tuples(st.just("u16"), regions, positions, st.integers(0, 0xFFFF)),
    st.tuples(st.just("append"), st.binary(max_size=48).map(bytes.hex)),
    st.tuples(st.just("zip"), zip_spec),
).map(list)

seeds = st.integers(0, 1000)


@st.composite
def model_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "target": "model",
        "seed": draw(seeds),
        "ops": draw(st.lists(mutation, min_size=1, max_size=4)),
    }


@st.composite
def metadata_cases(draw: st.DrawFn) -> dict[str, Any]:
    metadata_mutation = mutation.filter(lambda op: op[0] not in ("zip",))
    return {
        "target": "metadata",
        "seed": draw(seeds),
        "ops": draw(st.lists(metadata_mutation, min_size=1, max_size=3)),
    }


LABEL_SAMPLES = [
    b"a\nb\nc\n",
    b"a\r\nb\r\nc",
    b"",
    b"\n",
    b"\xef\xbb\xbfa\nb\nc",
    "é\nü\n".encode(),
]
CALIBRATION_SAMPLES = [
    b"1.0,2.0,3.0\n" * 3,
    b"1.0,2.0,3.0,0.5\n\n1,2,3",
    b"nan,1,2\n",
    b"1,inf,2\n",
    b"-1,2,3\n",
    b"1e999,2,3\n",
    b"1,2\n",
    b"",
    b'"1,2",3,4\n',
]


@st.composite
def file_cases(draw: st.DrawFn, target: str) -> dict[str, Any]:
    samples = LABEL_SAMPLES if target == "label" else CALIBRATION_SAMPLES
    content = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["set", "insert", "cut"]))
        at = draw(st.integers(0, len(content)))
        if kind == "set" and content:
            content[at % len(content)] = draw(st.integers(0, 255))
        elif kind == "insert":
            content[at:at] = draw(st.binary(min_size=1, max_size=6))
        else:
            del content[at:]
    return {"target": target, "seed": draw(seeds), "content": bytes(content).hex()}


@st.composite
def tiny_cases(draw: st.DrawFn) -> dict[str, Any]:
    content = draw(st.binary(max_size=64))
    if len(content) >= 8 and draw(st.booleans()):
        content = content[:4] + b"TFL3" + content[8:]
    return {"target": "tiny", "content": content.hex()}


SPEC_KEYS = [
    "name", "version", "description", "author", "license", "input", "outputs", "sample_rate",
    "channels", "tensor_name", "labels", "file", "locale", "score_calibration",
    "transformation", "default_score", "parameters", "unknown", "mean", "std", "color_space",
]  # fmt: skip
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 3, -1, 16000, 2**32, 2**64, 10**400]),
    st.integers(),
    st.floats(),
    st.sampled_from(["LOG", "IDENTITY", "labels.txt", "calibration.txt", "../x", "/", "\x00"]),
    st.sampled_from(["RGB", "GRAYSCALE", "UNKNOWN", "rgb"]),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(SPEC_KEYS), children, max_size=4)
    ),
    max_leaves=16,
)
outputs = st.fixed_dictionaries(
    {},
    optional={
        "labels": st.lists(
            st.sampled_from(["labels.txt", "labels.txt", "missing.txt", "."])
            | st.fixed_dictionaries({"name": json_values, "labels": json_values})
            | json_values,
            max_size=3,
        ),
        "score_calibration": st.fixed_dictionaries(
            {},
            optional={
                "file": st.just("calibration.txt") | json_values,
                "parameters": json_values,
                "transformation": json_values,
                "default_score": json_values,
            },
        ),
        "tensor_name": json_values,
        "name": json_values,
    },
)
specs = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "input": st.fixed_dictionaries(
            {},
            optional={
                "sample_rate": st.just(16000) | json_values,
                "channels": st.just(1) | json_values,
                # The image classifier's input: NaN, infinities and zeros among the values.
                "mean": st.lists(st.floats() | st.just(127.5), max_size=4) | json_values,
                "std": st.lists(st.floats() | st.just(0.0), max_size=4) | json_values,
                "color_space": json_values,
            },
        )
        | json_values,
        "outputs": st.lists(outputs | json_values, max_size=3) | json_values,
        "unknown": json_values,
    },
)


@st.composite
def spec_cases(draw: st.DrawFn) -> dict[str, Any]:
    text = json.dumps(draw(specs)).encode()
    variant = draw(st.sampled_from(["json", "json", "json", "deep", "cut", "toml"]))
    if variant == "deep":  # nesting past the recursion limit
        text = b'{"outputs": ' + b"[" * draw(st.integers(500, 5000)) + b"}"
    elif variant == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif variant == "toml":
        text = b"#toml\n" + draw(
            st.sampled_from(
                [
                    b"a = " + b"[" * 3000,
                    b"a = 1" + b"0" * 5000,
                    b'name = "x"\n[input]\nsample_rate = 1e999',
                ]
            )
        )
    return {"target": "spec", "seed": draw(seeds), "content": text.hex()}


@st.composite
def bundle_cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "target": "bundle",
        "seed": draw(seeds),
        "ops": draw(st.lists(mutation, min_size=1, max_size=4)),
    }


bundle_name = st.integers(0, 3) | st.integers(0, len(fuzz_harness.BUNDLE_NAMES) - 1)


@st.composite
def bundle_write_cases(draw: st.DrawFn) -> dict[str, Any]:
    entries = draw(st.lists(st.tuples(bundle_name, st.integers(0, 1000)).map(list), max_size=6))
    return {"target": "bundle-write", "entries": entries}


# -- the tests ------------------------------------------------------------------------------


@fuzz_settings("model")
@given(case=model_cases())
def test_fuzz_models(worker: Worker, case: dict[str, Any]) -> None:
    """Mutated models (truncated, bytes flipped, offsets and lengths overwritten, hostile zips)."""
    run(worker, case)


@fuzz_settings("metadata")
@given(case=metadata_cases())
def test_fuzz_metadata_buffers(worker: Worker, case: dict[str, Any]) -> None:
    """Mutated metadata buffers: decode, JSON, min_parser_version, populate."""
    run(worker, case)


@fuzz_settings("label")
@given(case=file_cases("label"))
def test_fuzz_label_files(worker: Worker, case: dict[str, Any]) -> None:
    """Label files: read by the writer, and packed raw then read by check/show."""
    run(worker, case)


@fuzz_settings("calibration")
@given(case=file_cases("calibration"))
def test_fuzz_calibration_files(worker: Worker, case: dict[str, Any]) -> None:
    """Score calibration files: read by the writer, and packed raw then read by check/show."""
    run(worker, case)


@fuzz_settings("tiny")
@given(case=tiny_cases())
def test_fuzz_tiny_files(worker: Worker, case: dict[str, Any]) -> None:
    """Tiny random files taken as models."""
    run(worker, case)


@fuzz_settings("spec")
@given(case=spec_cases())
def test_fuzz_cli_spec_files(worker: Worker, case: dict[str, Any]) -> None:
    """Spec files of ``tflite-metadata write``: wrong types, huge numbers, deep nesting."""
    run(worker, case)


@fuzz_settings("bundle")
@given(case=bundle_cases())
def test_fuzz_task_bundles(worker: Worker, case: dict[str, Any]) -> None:
    """Mutated ``.task`` bundles (zip records hit, truncated, hostile zips appended)."""
    run(worker, case)


@fuzz_settings("bundle-write")
@given(case=bundle_write_cases())
def test_fuzz_bundle_entry_names(worker: Worker, case: dict[str, Any]) -> None:
    """``create_model_asset_bundle`` with hostile entry names: refused, or read back whole."""
    run(worker, case)


def test_worker_survives_a_crash_and_reports_it(worker: Worker) -> None:
    """The harness itself: a worker that dies mid-case is a failed case, not a dead test run."""
    result = worker.run({"target": "crash"})
    assert result["status"] == "crash"
    assert "died" in result["message"]
    # The restarted worker runs cases again.
    assert worker.run({"target": "tiny", "content": ""})["status"] == "ok"


def test_worker_reports_a_hang(worker: Worker) -> None:
    """The harness itself: a case over its time limit is a failed case, and the worker goes on."""
    result = worker.run({"target": "hang", "limit": 0.2})
    assert result["status"] == "timeout"
    assert worker.run({"target": "tiny", "content": ""})["status"] == "ok"


def test_worker_reports_an_escape(worker: Worker) -> None:
    """The harness itself: an exception outside the family is reported with its traceback."""
    result = worker.run({"target": "escape"})
    assert result["status"] == "escape"
    assert "ZeroDivisionError" in result["message"] and "Traceback" in result["details"]
