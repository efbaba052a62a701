"""Benchmark populate and show: tflite-metadata against tflite-support 0.4.4 and ``cp``.

Run it with the development environment's Python (it has this package and
tflite-support)::

    .venvs/reference/bin/python benchmarks/bench_populate.py            # ~4 MB .. 1 GB
    .venvs/reference/bin/python benchmarks/bench_populate.py --huge     # + 2.5 GiB external
    .venvs/reference/bin/python benchmarks/bench_populate.py --sizes 400M --json out.json

Models come from :mod:`tflite_metadata._model_builder` (audio classifiers padded
with constant data to the size asked; ``--huge`` adds one of 2.5 GiB whose data
lies after the FlatBuffer, at 64-bit offsets). For each model, each operation
runs ``--runs`` times in a child process of its own, so that its peak resident
memory is its own; the runs of all operations are interleaved, each round in
a new order (shuffled, from a fixed seed), so that a slow moment of the
machine, or what the run before left behind (memory just freed, writes still
going to disk), hits them alike. Before every run the outputs of the previous
one are deleted, dirty pages are flushed (``sync``), the machine is left alone
for ``--settle`` seconds and the input is read once, so that every run starts
equally warm: the page cache cannot be dropped without root. What a run
replaces in place (``with_model_file``, and its floor, ``cp`` + ``sync`` over an
existing file) is a copy of the model made at the end of the round before.

What is timed:

* API rows (``populate()`` of a writer, a ``MetadataPopulator``): the call only,
  measured inside the child; the model is read into memory (``bytes``) first,
  as a caller would, and that memory counts in the peak RSS.
* process rows (``write``, ``show``, ``cp``): the whole process, start-up included.

The peak RSS is GNU ``time``'s (``%M``) where it exists. Otherwise it is the
child's ``ru_maxrss`` from ``os.wait4``, which Linux floors at this script's own
peak (a child inherits its parent's high-water mark until it execs).

Children run with ``PYTHONPYCACHEPREFIX`` set to the work folder and bytecode
writing on, and one warm-up round precedes the measured ones: start-up is that
of an installed package, whose bytecode is compiled at install time.

Output: one markdown table (medians, ratios between medians of this same
invocation, the targets and whether they are met) and the machine it ran on;
``--json PATH`` also writes every sample to PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_PYTHON = ROOT / ".venvs" / "reference" / "bin" / "python"
# A child's answer is the stdout line after this marker.
MARKER = "@@bench-populate@@"
SAMPLE_RATE = 16000
CHANNELS = 1
LABELS = ["silence", "speech", "music", "noise", "dog", "cat", "bird"]
DEFAULT_SIZES = "4M,100M,400M,1G"
HUGE_SIZE = "2.5Gi"
#: tflite-support needs about six times the model in memory and ~35 s per GB.
DEFAULT_MAX_REFERENCE_SIZE = "400M"
#: The seed of the rounds' orders: the same orders on every invocation.
ORDER_SEED = 4
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "KI": 2**10, "MI": 2**20, "GI": 2**30}
_READ_CHUNK = 1 << 20

# Targets (issue 4), judged where they apply.
API_SPEEDUP_TARGET = 20.0
API_RSS_RATIO_TARGET = 2.5
#: The API targets are stated for a ~400 MB model; below, fixed costs dominate.
API_TARGET_MIN_SIZE = 400 * 10**6
FILE_RSS_TARGET = 150 * 10**6
FILE_CP_RATIO_TARGET = 3.0
FILE_WALL_FLOOR = 0.8
SHOW_WALL_TARGET = 0.5


# -- the operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One thing measured on each model."""

    key: str
    title: str
    #: "api" (timed inside the child), "file" (file to file), "show" or "floor" (cp).
    kind: str
    reference: bool = False
    #: For an API row: the key of the tflite-support row it is compared with; for a
    #: file row: the key of its durable floor (a copy that waits for the disk as it does).
    versus: Optional[str] = None


OPERATIONS = [
    Operation("cp", "`cp` (floor)", "floor"),
    Operation("cp_sync", "`cp` + `sync OUT` (durable floor)", "floor"),
    Operation(
        "cp_replace", "`cp` + `sync OUT` over an existing copy (durable in-place floor)", "floor"
    ),
    Operation(
        "write", "ours: CLI `write audio-classifier` to a new file (process)", "file", versus="cp"
    ),
    Operation(
        "with_model_file",
        "ours: `MetadataPopulator.with_model_file`, in place (call)",
        "file",
        versus="cp_replace",
    ),
    Operation("show", "ours: CLI `show` (process)", "show"),
    Operation(
        "writer",
        "ours: `create_for_inference(...).populate()` (call)",
        "api",
        versus="ref_writer",
    ),
    Operation(
        "populator",
        "ours: `MetadataPopulator.with_model_buffer` (call)",
        "api",
        versus="ref_populator",
    ),
    Operation(
        "ref_writer",
        "tflite-support: `create_for_inference(...).populate()` (call)",
        "api",
        reference=True,
    ),
    Operation(
        "ref_populator",
        "tflite-support: `MetadataPopulator.with_model_buffer` (call)",
        "api",
        reference=True,
    ),
]
_BY_KEY = {operation.key: operation for operation in OPERATIONS}
#: Operations that replace an existing copy of the model, made a round ahead (see
#: :func:`prepare_in_place`).
IN_PLACE = frozenset({"with_model_file", "cp_replace"})


@dataclass
class Model:
    """A benchmark model and the files made from it."""

    label: str
    requested: int
    external: bool
    path: Path
    #: The model with metadata (written once by our CLI), for ``show``.
    populated: Path
    size: int = 0
    samples: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Setup:
    """What every run needs."""

    workdir: Path
    python: str
    reference_python: Optional[str]
    labels: Path
    metadata: Path
    env: dict[str, str]
    gnu_time: Optional[str]
    #: Seconds of quiet before each run, after its ``sync``.
    settle: float = 0.0


# -- sizes and formatting ---------------------------------------------------------------------


def parse_size(text: str) -> int:
    """``"400M"`` -> 400_000_000, ``"2.5Gi"`` -> 2.5 * 2**30; K/M/G are decimal, Ki/Mi/Gi binary."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMG]i?)?B?\s*", text, re.IGNORECASE)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a size such as 4M, 400M, 1G or 2.5Gi, but got {text!r}"
        )
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "").upper()])


def size_label(size: int) -> str:
    """A short human label: ``"400 MB"``, ``"2.5 GiB"``."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20)):
        if size >= factor and size % (factor // 4) == 0:
            return f"{size / factor:g} {unit}"
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} B"


def _seconds(value: Optional[float]) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _megabytes(value: Optional[float]) -> str:
    return "—" if value is None else f"{value / 10**6:,.0f}"


def _ratio(value: Optional[float], suffix: str = "x") -> str:
    if value is None:
        return "—"
    return f"{value:.2f}{suffix}" if value < 10 else f"{value:.0f}{suffix}"


# -- running children -------------------------------------------------------------------------


def find_gnu_time() -> Optional[str]:
    """The path of GNU ``time`` (which reports a child's own peak RSS), if installed."""
    for candidate in ("/usr/bin/time", shutil.which("gtime"), shutil.which("time")):
        if not candidate or not os.path.isfile(candidate):
            continue
        try:
            proc = subprocess.run(
                [candidate, "--version"], capture_output=True, text=True, timeout=10
            )
        except OSError:
            continue
        if "GNU" in proc.stdout + proc.stderr:
            return candidate
    return None


def run_measured(setup: Setup, command: Sequence[str]) -> tuple[float, int, str]:
    """Run ``command``; return its wall time (s), its peak RSS (bytes) and its stdout.

    Raises:
        RuntimeError: the command failed.
    """
    stdout_file = setup.workdir / "child.out"
    stderr_file = setup.workdir / "child.err"
    rss_file = setup.workdir / "child.rss"
    argv = list(command)
    if setup.gnu_time is not None:
        argv = [setup.gnu_time, "-f", "%M", "-o", str(rss_file), *argv]
    with stdout_file.open("wb") as out, stderr_file.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=setup.env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = stdout_file.read_text(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed (exit {proc.returncode}):\n"
            f"{stdout[-2000:]}{stderr_file.read_text(errors='replace')[-4000:]}"
        )
    if setup.gnu_time is not None:
        rss = int(rss_file.read_text().split()[-1]) * 1024
    else:
        # Kilobytes on Linux, bytes on macOS.
        rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return wall, rss, stdout


def child_answer(stdout: str) -> dict[str, Any]:
    """The JSON a child printed after :data:`MARKER`."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])  # type: ignore[no-any-return]
    raise RuntimeError(f"the child gave no answer:\n{stdout[-2000:]}")


def child_command(python: str, *arguments: object) -> list[str]:
    """The command that runs this file's child mode with ``arguments``."""
    return [python, str(Path(__file__).resolve()), "--child", *(str(a) for a in arguments)]


def cli_command(python: str, *arguments: object) -> list[str]:
    """``tflite-metadata ARGUMENTS``: the console script beside ``python``, else ``-m``."""
    script = Path(python).parent / "tflite-metadata"
    prefix = [str(script)] if script.is_file() else [python, "-m", "tflite_metadata"]
    return [*prefix, *(str(a) for a in arguments)]


def write_command(setup: Setup, python: str, source: Path, out: Path) -> list[str]:
    """``tflite-metadata write audio-classifier SOURCE -o OUT`` with the benchmark's labels."""
    return cli_command(
        python,
        "write",
        "audio-classifier",
        source,
        "-o",
        out,
        "--sample-rate",
        SAMPLE_RATE,
        "--channels",
        CHANNELS,
        "--labels",
        setup.labels,
    )


def warm(path: Path) -> None:
    """Read ``path`` once, so that the run after finds it in the page cache."""
    buffer = bytearray(_READ_CHUNK)
    with path.open("rb", buffering=0) as handle:
        while handle.readinto(buffer):
            pass


def remove(*paths: Path) -> None:
    """Delete files that may exist."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def in_place_copy(setup: Setup, operation: Operation) -> Path:
    """The copy of the model that ``operation`` (one of :data:`IN_PLACE`) replaces."""
    return setup.workdir / f"in-place-{operation.key}.tflite"


def prepare_in_place(setup: Setup, model: Model, operation: Operation) -> None:
    """Copy the model for the next run of ``operation``, which replaces the copy.

    Made at the end of the round before, so that the disk has written it back by
    the time it is used: a copy made just before would still be in the disk's
    hands (on a virtual machine, the host's) and slow the run.
    """
    if operation.key in IN_PLACE:
        shutil.copyfile(model.path, in_place_copy(setup, operation))


def run_once(setup: Setup, model: Model, operation: Operation) -> dict[str, float]:
    """Measure one run of ``operation`` on ``model``."""
    out = setup.workdir / f"out-{operation.key}.tflite"
    source = model.path
    if operation.key in IN_PLACE:
        out = in_place_copy(setup, operation)
        if operation.key == "with_model_file":
            source = out
    else:
        remove(out)
    if operation.key == "show":
        source = model.populated
    os.sync()
    time.sleep(setup.settle)
    warm(source)
    python = setup.reference_python if operation.reference else setup.python
    assert python is not None
    if operation.key == "cp":
        command = ["cp", str(source), str(out)]
    elif operation.key in ("cp_sync", "cp_replace"):
        # What a durable copy costs: ours fsyncs its output before it replaces a file.
        command = ["sh", "-c", 'cp "$1" "$2" && sync "$2"', "sh", str(source), str(out)]
    elif operation.key == "write":
        command = write_command(setup, python, source, out)
    elif operation.key == "show":
        command = cli_command(python, "show", source)
    else:
        package = "reference" if operation.reference else "ours"
        api = operation.key.removeprefix("ref_")
        command = child_command(python, api, package, source, setup.labels, setup.metadata)
    wall, rss, stdout = run_measured(setup, command)
    sample = {"wall": wall, "rss": float(rss)}
    if operation.kind == "api" or operation.key == "with_model_file":
        answer = child_answer(stdout)
        sample["wall"] = answer["seconds"]
        sample["process_wall"] = wall
        sample["output_size"] = answer["output_size"]
    elif operation.key in ("write", "cp", "cp_sync", "cp_replace"):
        sample["output_size"] = out.stat().st_size
    if "output_size" in sample and sample["output_size"] < model.size:
        raise RuntimeError(
            f"{operation.key} on {model.path}: the output has {sample['output_size']:.0f} "
            f"bytes, fewer than the model's {model.size}"
        )
    remove(out)
    return sample


# -- the benchmark ----------------------------------------------------------------------------


def applicable(operation: Operation, model: Model, max_reference_size: int, setup: Setup) -> bool:
    """Whether ``operation`` runs on ``model``."""
    if not operation.reference:
        return True
    return (
        setup.reference_python is not None
        and not model.external
        and model.requested <= max_reference_size
    )


def make_model(setup: Setup, model: Model) -> None:
    """Build ``model``'s file and its populated copy (unmeasured)."""
    run_measured(
        setup,
        child_command(setup.python, "build", model.path, model.requested, int(model.external)),
    )
    model.size = model.path.stat().st_size
    run_measured(setup, write_command(setup, setup.python, model.path, model.populated))


def benchmark_model(
    setup: Setup, model: Model, runs: int, max_reference_size: int, warm_up: bool
) -> None:
    """Measure every applicable operation on ``model``, ``runs`` interleaved rounds."""
    operations = [op for op in OPERATIONS if applicable(op, model, max_reference_size, setup)]
    if setup.reference_python is not None and any(
        op.reference and op not in operations for op in OPERATIONS
    ):
        if model.external:
            model.notes.append(
                "tflite-support not run: its object API has no Buffer.offset/size, so it "
                "drops the external weights (the output is broken)"
            )
        else:
            model.notes.append(
                f"tflite-support not run: larger than --max-reference-size "
                f"({size_label(max_reference_size)})"
            )
    for operation in operations:
        prepare_in_place(setup, model, operation)
    if warm_up:
        for operation in operations:
            run_once(setup, model, operation)
            prepare_in_place(setup, model, operation)
    order = list(operations)
    shuffle = random.Random(ORDER_SEED).shuffle
    for round_index in range(runs):
        # What runs before a child (the memory it just freed, the writes it left to
        # the disk) changes its time: each round has a new order, so that no
        # operation always follows the same one (a rotation would keep neighbours).
        shuffle(order)
        for operation in order:
            progress(f"  {model.label}: round {round_index + 1}/{runs}: {operation.key}")
            sample = run_once(setup, model, operation)
            model.samples.setdefault(operation.key, []).append(sample)
        if round_index + 1 < runs:
            for operation in operations:
                prepare_in_place(setup, model, operation)
    for operation in operations:
        if operation.key in IN_PLACE:
            remove(in_place_copy(setup, operation))


def progress(text: str) -> None:
    """A progress line on stderr."""
    print(text, file=sys.stderr, flush=True)


def median(model: Model, key: str, what: str = "wall") -> Optional[float]:
    """The median of ``what`` over the runs of operation ``key``, if it ran."""
    samples = model.samples.get(key)
    if not samples:
        return None
    return statistics.median(sample[what] for sample in samples)


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    model: str
    operation: str
    wall: Optional[float]
    rss: Optional[float]
    rss_ratio: Optional[float]
    speedup: Optional[float]
    cp_ratio: Optional[float]
    cp_sync_ratio: Optional[float]
    target: str
    met: Optional[bool]


def rows_for(model: Model) -> list[Row]:
    """The table rows of one model: medians, ratios and the targets they meet."""
    rows = []
    cp = median(model, "cp")
    cp_sync = median(model, "cp_sync")
    for operation in OPERATIONS:
        wall = median(model, operation.key)
        if wall is None:
            continue
        rss = median(model, operation.key, "rss")
        rss_ratio = rss / model.size if rss is not None else None
        speedup = cp_ratio = cp_sync_ratio = None
        target, met = "", None
        if operation.kind == "api":
            reference = median(model, operation.versus) if operation.versus else None
            speedup = reference / wall if reference is not None and wall > 0 else None
            if not operation.reference and model.requested >= API_TARGET_MIN_SIZE:
                met = rss_ratio is not None and rss_ratio <= API_RSS_RATIO_TARGET
                target = f"RSS ≤ {API_RSS_RATIO_TARGET:g}x model"
                if speedup is None:
                    target += " (speed: no reference)"
                else:
                    target = f"≥ {API_SPEEDUP_TARGET:g}x faster, {target}"
                    met = met and speedup >= API_SPEEDUP_TARGET
        elif operation.kind == "file":
            floor = median(model, operation.versus) if operation.versus else None
            cp_ratio = wall / cp if cp else None
            cp_sync_ratio = wall / floor if floor else None
            allowed = max(FILE_CP_RATIO_TARGET * cp, FILE_WALL_FLOOR) if cp else FILE_WALL_FLOOR
            target = f"≤ {allowed:.2f} s, RSS ≤ {FILE_RSS_TARGET // 10**6} MB"
            met = wall <= allowed and rss is not None and rss <= FILE_RSS_TARGET
        elif operation.kind == "show":
            target = f"≤ {SHOW_WALL_TARGET:g} s"
            met = wall <= SHOW_WALL_TARGET
        elif operation.kind == "floor":
            cp_ratio = wall / cp if cp else None
            cp_sync_ratio = wall / cp_sync if cp_sync else None
        rows.append(
            Row(
                model.label,
                operation.title,
                wall,
                rss,
                rss_ratio,
                speedup,
                cp_ratio,
                cp_sync_ratio,
                target,
                met,
            )
        )
    return rows


def markdown(models: Sequence[Model], info: dict[str, Any], runs: int) -> str:
    """The report: machine, table, notes."""
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']:.1f} GB RAM, "
        f"{info['os']}; filesystem of the work folder: {info['filesystem']}.",
        f"Python {info['python']}; tflite-metadata {info['tflite_metadata']}; tflite-support "
        f"{info['tflite_support']}. Date: {info['date']}. Medians of {runs} runs; peak RSS: "
        f"{info['rss_source']}.",
        "",
        "| model | operation | wall s | peak RSS MB | RSS ÷ model | speed-up vs "
        "tflite-support | ÷ cp | ÷ same-kind floor | target | met |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    notes = []
    for model in models:
        for row in rows_for(model):
            met = "—" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(
                f"| {row.model} | {row.operation} | {_seconds(row.wall)} | {_megabytes(row.rss)} "
                f"| {_ratio(row.rss_ratio)} | {_ratio(row.speedup)} | {_ratio(row.cp_ratio)} "
                f"| {_ratio(row.cp_sync_ratio)} | {row.target or '—'} | {met} |"
            )
        notes.extend(f"{model.label}: {note}" for note in model.notes)
    lines += [
        "",
        "(call) rows time the call alone, inside the child, after the model is read into "
        "memory; (process) rows time the whole process, start-up included. Peak RSS is the "
        "whole child's. Ratios are between medians of this invocation. A file written anew "
        "is renamed into place without waiting for the disk, as `cp` leaves it; a file "
        "replaced (`with_model_file` works in place) is fsynced first, so that a power cut "
        "cannot lose it: its floor is `cp` + `sync` over an existing copy. The floors' "
        "`÷ same-kind floor` column is relative to `cp` + `sync`. "
        f"The API targets are judged from {size_label(API_TARGET_MIN_SIZE)} up, where they "
        "are stated.",
    ]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines)


def machine_info(setup: Setup) -> dict[str, Any]:
    """CPU, cores, RAM, Python and package versions, date."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024 / 10**9
    filesystem = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        output = subprocess.run(
            ["df", "--output=fstype", str(setup.workdir)], capture_output=True, text=True
        ).stdout.split()
        filesystem = output[-1] if len(output) > 1 else filesystem

    def version(python: Optional[str], module: str) -> str:
        if python is None:
            return "not available"
        code = (
            "import importlib.metadata as m, sys; "
            f"print(m.version({module!r}), sys.version.split()[0])"
        )
        proc = subprocess.run([python, "-c", code], capture_output=True, text=True, env=setup.env)
        return proc.stdout.strip() or "not available"

    ours = version(setup.python, "tflite-metadata").split()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram,
        "os": f"{platform.system()} {platform.release()}",
        "filesystem": filesystem,
        "python": ours[1] if len(ours) > 1 else platform.python_version(),
        "tflite_metadata": ours[0] if ours else "not available",
        "tflite_support": version(setup.reference_python, "tflite-support").split()[0],
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "rss_source": (
            "GNU time %M"
            if setup.gnu_time
            else "os.wait4 ru_maxrss (floored at this script's own peak)"
        ),
    }


def reference_available(python: Optional[str], env: dict[str, str]) -> Optional[str]:
    """``python`` if it can import tflite-support's metadata writers, else None."""
    if python is None or not Path(python).is_file():
        return None
    code = (
        "from tflite_support import metadata\n"
        "from tflite_support.metadata_writers import audio_classifier"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, env=env)
    return python if proc.returncode == 0 else None


def child_env(workdir: Path) -> dict[str, str]:
    """The children's environment: bytecode cached (in the work folder), quiet TensorFlow."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


@contextlib.contextmanager
def work_folder(requested: Optional[str]) -> Iterator[Path]:
    """The work folder: a new temporary one (removed after), or a folder inside ``requested``."""
    if requested is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-populate-"))
    else:
        Path(requested).mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="bench-populate-", dir=requested))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the benchmark; print the table (and write ``--json``). Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated model sizes (default {DEFAULT_SIZES}; K/M/G decimal, Ki/Mi/Gi "
        "binary)",
    )
    parser.add_argument("--runs", type=int, default=5, help="measured runs per operation")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.5,
        help="seconds of quiet before each run, after its sync (default 0.5)",
    )
    parser.add_argument(
        "--huge",
        action="store_true",
        help=f"add a {HUGE_SIZE}B model with external buffers (64-bit offsets)",
    )
    parser.add_argument(
        "--max-reference-size",
        type=parse_size,
        default=parse_size(DEFAULT_MAX_REFERENCE_SIZE),
        help="run tflite-support only on models up to this size (default "
        f"{DEFAULT_MAX_REFERENCE_SIZE}; it takes ~6x the model in memory)",
    )
    parser.add_argument("--workdir", help="make the work folder inside this one (removed after)")
    parser.add_argument(
        "--json", metavar="PATH", help="also write every sample, and the rows, to PATH as JSON"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="the Python that runs tflite-metadata"
    )
    parser.add_argument(
        "--reference-python",
        default=str(REFERENCE_PYTHON) if REFERENCE_PYTHON.is_file() else sys.executable,
        help="the Python with tflite-support 0.4.4 (default: .venvs/reference)",
    )
    parser.add_argument(
        "--no-warm-up", action="store_true", help="skip the unmeasured warm-up round"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    try:
        sizes = [parse_size(text) for text in args.sizes.split(",") if text.strip()]
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))

    with work_folder(args.workdir) as workdir:
        env = child_env(workdir)
        reference = reference_available(args.reference_python, env)
        labels = workdir / "labels.txt"
        labels.write_text("\n".join(LABELS) + "\n")
        setup = Setup(
            workdir,
            args.python,
            reference,
            labels,
            workdir / "metadata.bin",
            env,
            find_gnu_time(),
            args.settle,
        )
        info = machine_info(setup)
        if reference is None:
            progress("tflite-support is not importable: its rows are skipped")
        # The metadata buffer for the populator rows, and a warm-up of every child.
        run_measured(setup, child_command(setup.python, "metadata", labels, setup.metadata))
        models = [
            Model(size_label(size), size, False, workdir / f"m{i}.tflite", workdir / f"p{i}.tflite")
            for i, size in enumerate(sizes)
        ]
        if args.huge:
            huge = parse_size(HUGE_SIZE)
            models.append(
                Model(
                    f"{size_label(huge)} (external buffers)",
                    huge,
                    True,
                    workdir / "huge.tflite",
                    workdir / "huge-populated.tflite",
                )
            )
        warm_up = not args.no_warm_up
        for model in models:
            progress(f"{model.label}: building")
            make_model(setup, model)
            benchmark_model(setup, model, args.runs, args.max_reference_size, warm_up)
            # Only the first model needs a warm-up: bytecode is cached from then on.
            warm_up = False
            remove(model.path, model.populated)

    if args.json:
        document = {
            "machine": info,
            "runs": args.runs,
            "models": [
                {
                    "label": model.label,
                    "size": model.size,
                    "external_buffers": model.external,
                    "samples": model.samples,
                    "notes": model.notes,
                    "rows": [row.__dict__ for row in rows_for(model)],
                }
                for model in models
            ],
        }
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(markdown(models, info, args.runs))
    return 0


# -- child mode: one measured call in a fresh process -----------------------------------------


def child(arguments: Sequence[str]) -> None:
    """``--child KIND ...``: build a model, or time one populate call and report it."""
    kind, rest = arguments[0], list(arguments[1:])
    if kind == "build":
        _child_build(Path(rest[0]), int(rest[1]), rest[2] == "1")
    elif kind == "metadata":
        _child_metadata(Path(rest[0]), Path(rest[1]))
    elif kind in ("writer", "populator", "with_model_file"):
        package, model, labels, metadata = rest
        seconds, size = _child_populate(kind, package == "reference", model, labels, metadata)
        print(MARKER + json.dumps({"seconds": seconds, "output_size": size}), flush=True)
    else:
        raise SystemExit(f"unknown child kind {kind!r}")


def _child_build(path: Path, size: int, external: bool) -> None:
    from tflite_metadata import _model_builder as model_builder

    if external:
        model_builder.write_audio_classifier(path, weight_bytes=size)
    else:
        path.write_bytes(model_builder.build_audio_classifier(weight_bytes=size))


def _child_metadata(labels: Path, target: Path) -> None:
    from tflite_metadata import metadata
    from tflite_metadata._model_builder import build_audio_classifier
    from tflite_metadata.metadata_writers import audio_classifier

    writer = audio_classifier.MetadataWriter.create_for_inference(
        build_audio_classifier(), SAMPLE_RATE, CHANNELS, [str(labels)]
    )
    target.write_bytes(
        metadata.MetadataDisplayer.with_model_buffer(writer.populate()).get_metadata_buffer()
    )


def _child_populate(
    kind: str, reference: bool, model_path: str, labels: str, metadata_path: str
) -> tuple[float, int]:
    if reference:
        from tflite_support import metadata
        from tflite_support.metadata_writers import audio_classifier
    else:
        # The package imports flatbuffers where it first builds a buffer, not at import
        # (so that show and check never load it, nor numpy, which it imports when
        # installed: 0.11 s here, 5 ms without numpy). tflite-support imports it with its
        # modules. Import it here too, so that both sides' calls are timed without it.
        import flatbuffers  # noqa: F401

        from tflite_metadata import metadata  # type: ignore[no-redef]
        from tflite_metadata.metadata_writers import audio_classifier  # type: ignore[no-redef]
    metadata_buffer = Path(metadata_path).read_bytes()
    if kind == "with_model_file":
        start = time.perf_counter()
        populator = metadata.MetadataPopulator.with_model_file(model_path)
        populator.load_metadata_buffer(metadata_buffer)
        populator.load_associated_files([labels])
        populator.populate()
        seconds = time.perf_counter() - start
        return seconds, os.path.getsize(model_path)
    model = Path(model_path).read_bytes()
    start = time.perf_counter()
    if kind == "writer":
        writer = audio_classifier.MetadataWriter.create_for_inference(
            model, SAMPLE_RATE, CHANNELS, [labels]
        )
        populated = writer.populate()
    else:
        populator = metadata.MetadataPopulator.with_model_buffer(model)
        populator.load_metadata_buffer(metadata_buffer)
        populator.load_associated_files([labels])
        populator.populate()
        populated = populator.get_model_buffer()
    seconds = time.perf_counter() - start
    return seconds, len(populated)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
