"""Benchmark start-up: what a command costs before it does any work.

Run it with the development environment's Python (or any Python with the package)::

    .venvs/reference/bin/python benchmarks/bench_startup.py            # 21 runs each
    .venvs/reference/bin/python benchmarks/bench_startup.py --runs 51 --json out.json

What is measured, each in a fresh process, interleaved in a new (seeded) order
each round so that a slow moment of the machine hits them alike:

* ``python -c pass``: the interpreter alone, the floor;
* ``tflite-metadata show MODEL`` and ``check MODEL`` on a small model (the
  bundled sample with metadata written by ``demo``), the whole process, as the
  console script runs it (``python -m tflite_metadata``);
* ``import tflite_metadata.metadata_writers.KIND`` for each writer module, timed
  inside the child around the import alone (after the interpreter started).

Targets (issue 10): ``show`` and ``check`` finish in at most 0.1 s; importing one
writer module takes at most 60 ms; adding tasks moves neither (the table lists
the modules each command imports, so a task module that sneaks in shows).

Children run with ``PYTHONPYCACHEPREFIX`` set to a work folder and one warm-up
round precedes the measured ones: start-up is that of an installed package,
whose bytecode is compiled at install time. Output: a markdown table of
medians and spreads, targets and whether they are met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ORDER_SEED = 10
#: The limits of issue 10, in seconds.
COMMAND_TARGET = 0.100
IMPORT_TARGET = 0.060
MARKER = "@@bench-startup@@"

_IMPORT_CHILD = """
import sys, time, json
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
tasks = sorted(m for m in sys.modules if m.startswith("tflite_metadata.tasks."))
print({marker!r} + json.dumps([elapsed, tasks]))
"""

_LOADED_CHILD = """
import sys, json, io, contextlib
from tflite_metadata.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main({argv!r})
ours = [m for m in sys.modules if m.startswith("tflite_metadata.")]
ours += [m for m in ("flatbuffers", "numpy") if m in sys.modules]
print({marker!r} + json.dumps(sorted(ours)))
"""


def writer_modules() -> list[str]:
    """Every writer module at tflite-support's import path, from the task registry."""
    from tflite_metadata.tasks import TASKS

    return [f"tflite_metadata.metadata_writers.{entry.module}" for entry in TASKS.values()]


def run_timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_answer(argv: list[str], env: dict[str, str]) -> Any:
    out = subprocess.run(argv, check=True, env=env, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith(MARKER))
    return json.loads(line[len(MARKER) :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--json", metavar="PATH", help="also write every sample to PATH")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(work / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    python = sys.executable
    model = work / "demo.tflite"
    subprocess.run(
        [python, "-m", "tflite_metadata", "demo", "-o", str(model)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    processes: dict[str, list[str]] = {
        "python -c pass (floor)": [python, "-c", "pass"],
        "tflite-metadata show MODEL": [python, "-m", "tflite_metadata", "show", str(model)],
        "tflite-metadata check MODEL": [python, "-m", "tflite_metadata", "check", str(model)],
    }
    imports = {
        f"import {module}": [python, "-c", _IMPORT_CHILD.format(module=module, marker=MARKER)]
        for module in writer_modules()
    }
    samples: dict[str, list[float]] = {name: [] for name in (*processes, *imports)}
    tasks_imported: dict[str, list[str]] = {}
    order = list(samples)
    shuffle = random.Random(ORDER_SEED)
    for round_number in range(args.runs + 1):  # round 0 warms up
        shuffle.shuffle(order)
        for name in order:
            if name in processes:
                elapsed = run_timed(processes[name], env)
            else:
                elapsed, tasks = run_answer(imports[name], env)
                tasks_imported[name] = tasks
            if round_number:
                samples[name].append(elapsed)
    loaded = {
        command: run_answer(
            [python, "-c", _LOADED_CHILD.format(argv=[command, str(model)], marker=MARKER)], env
        )
        for command in ("show", "check")
    }

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}."
    )
    print(f"Medians of {args.runs} runs (min to max), seconds.\n")
    print("| what | median s | min..max s | target | met |")
    print("|---|--:|--:|---|---|")
    for name, values in samples.items():
        median = statistics.median(values)
        if name.startswith("import "):
            target, met = f"≤ {IMPORT_TARGET:.3f} s", median <= IMPORT_TARGET
        elif "tflite-metadata" in name:
            target, met = f"≤ {COMMAND_TARGET:.3f} s", median <= COMMAND_TARGET
        else:
            target, met = "—", None
        shown = "—" if met is None else ("yes" if met else "**no**")
        print(
            f"| {name} | {median:.3f} | {min(values):.3f}..{max(values):.3f} | {target} | {shown} |"
        )
    print()
    for command, modules in loaded.items():
        print(f"- `{command}` imports {len(modules)} package modules: {', '.join(modules)}")
    for name, tasks in tasks_imported.items():
        print(f"- `{name}` imports task modules: {', '.join(tasks) or 'none'}")
    if args.json:
        Path(args.json).write_text(json.dumps({"samples": samples, "loaded": loaded}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
