"""The ``tflite-metadata`` command: write, show, extract and check model metadata.

Usage (``tflite-metadata --help`` and ``tflite-metadata COMMAND --help`` say more)::

    tflite-metadata write audio-classifier MODEL -o OUT --sample-rate 16000 --channels 1 \\
        --labels labels.txt [--labels labels_fr.txt --locale fr] \\
        [--score-calibration calibration.txt --score-transformation LOG --default-score 0.2]
    tflite-metadata write audio-classifier MODEL -o OUT --spec spec.json   # every option
    tflite-metadata write image-classifier MODEL -o OUT --mean 127.5 --std 127.5 \\
        --labels labels.txt [--color-space RGB] [--score-calibration calibration.txt ...]
    tflite-metadata show [--json] MODEL|BUNDLE
    tflite-metadata extract MODEL|BUNDLE -d DIR
    tflite-metadata check [--json] MODEL|BUNDLE
    tflite-metadata bundle create OUT MODEL... [--entry NAME PATH]
    tflite-metadata bundle list [--json] BUNDLE
    tflite-metadata bundle extract BUNDLE -d DIR
    tflite-metadata demo [-o OUT]

:func:`main` takes the arguments and returns the exit status, so it can be
called in-process. Errors are one line on stderr, ``error: …``, with status 1
(2 for usage errors), and no traceback unless ``--traceback`` is given.
Outputs are written atomically: a failed run leaves neither a partial output
nor a damaged input, even when the output is the input itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Callable, NoReturn, Optional

from .. import __version__
from ..check import (
    MEDIAPIPE,
    TASK_LIBRARY,
    Problem,
    check,
    printable,
)
from ..errors import MetadataError, UsageError
from ..fileio import (
    atomic_output,
    map_file,
    map_output,
    open_mapped,
)
from ..format import metadata_schema as schema
from ..tasks import TASKS, Task, load_task
from ..tasks.rules import Code
from .show import packed_files, summarize

__all__ = ["main"]

PROG = "tflite-metadata"

#: Score transformations by name, as the schema declares them.


class CommandError(Exception):
    """A command failed for a reason already explained (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are exceptions, for one-line reporting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def parse_args(  # type: ignore[override]
        self, args: Optional[Sequence[str]] = None, namespace: Optional[argparse.Namespace] = None
    ) -> argparse.Namespace:
        """Parse ``args``; an unknown argument names the help of the (sub)command it follows."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            words = [getattr(parsed, "command", None), getattr(parsed, "kind", None)]
            prog = " ".join([self.prog, *(word for word in words if isinstance(word, str))])
            raise UsageError(f"unrecognized arguments: {' '.join(extras)} (see '{prog} --help')")
        return parsed


# -- output ------------------------------------------------------------------------------


def _write_line(stream: IO[str], text: str) -> None:
    """Write one line; characters the stream cannot encode are escaped, not fatal."""
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")


def _out(text: str = "") -> None:
    _write_line(sys.stdout, text)


def _err(text: str) -> None:
    _write_line(sys.stderr, text)


def _problem_line(problem: Problem) -> str:
    return f"{problem} ({', '.join(problem.consumers)}) [{problem.code}]"


# -- commands --------------------------------------------------------------------------------


def _document_from_arguments(
    args: argparse.Namespace, task: Task
) -> tuple[dict[str, Any], str, Path | None]:
    """The spec document: the spec file's, with the command-line options over it."""
    if args.spec is not None:
        from ..tasks.spec import load_spec

        document = load_spec(args.spec)
        source = os.fspath(args.spec)
        base: Path | None = Path(args.spec).parent
    else:
        document, source, base = {}, "command line", None
    for option, key in (
        ("model_name", "name"),
        ("model_version", "version"),
        ("description", "description"),
        ("author", "author"),
        ("license", "license"),
    ):
        value = getattr(args, option)
        if value is not None:
            document[key] = value
    task.merge_arguments(args, document)
    return document, source, base


def _write_command(args: argparse.Namespace) -> int:
    from ..tasks.spec import Spec

    task = load_task(args.kind)
    document, source, base = _document_from_arguments(args, task)
    from ..model.reader import open_model

    output = os.fspath(args.output)
    # The model is mapped and streamed, never loaded; the result is checked in its
    # temporary file, which replaces the output only when it passes (or --no-check).
    with warnings.catch_warnings(record=True) as caught, atomic_output(output) as stream:
        warnings.simplefilter("always")
        with open_mapped(args.model) as (handle, model):
            open_model(model)  # a junk input fails here, with tflite-support's message
            writer = task.build_writer(model, document, Spec(source), base)
            size = writer.populate_to(stream, source=handle)
            del writer, model  # release the mapping before it is closed
        with map_output(stream) as populated:
            problems = check(populated, task=task.name)
            files = packed_files(populated)
            del populated
        for message in caught:
            _err(f"warning: {printable(str(message.message))}")
        if problems and not args.no_check:
            for problem in problems:
                _err(f"problem: {_problem_line(problem)}")
            raise CommandError(
                f"{printable(output)} was not written: {_refusal(problems)} "
                f"({len(problems)} problem{'s' if len(problems) != 1 else ''} "
                "above); fix them, or pass --no-check to write it anyway"
            )
        for problem in problems:
            _err(f"warning: {_problem_line(problem)}")
    summary = f"wrote {printable(output)} ({size} bytes)"
    if files:
        summary += ", with " + ", ".join(printable(name) for name, _ in files)
    _out(summary)
    return 0


def _refusal(problems: Sequence[Problem]) -> str:
    """Why ``write`` refuses a model with ``problems``."""
    unchecked = sum(1 for problem in problems if problem.code == Code.FILE_NOT_CHECKED)
    if not unchecked:
        return f"{TASK_LIBRARY} or {MEDIAPIPE} would refuse the model"
    if unchecked == len(problems):
        return f"the model could not be fully checked; {TASK_LIBRARY} or {MEDIAPIPE} may refuse it"
    return (
        f"{TASK_LIBRARY} or {MEDIAPIPE} would refuse the model, and it could not be fully checked"
    )


def _check_command(args: argparse.Namespace) -> int:
    problems = check(args.model, task=args.task)
    if args.json:
        _out(
            json.dumps(
                [
                    {
                        "code": p.code,
                        "location": p.location,
                        "message": p.message,
                        "consumers": list(p.consumers),
                    }
                    for p in problems
                ],
                indent=2,
            )
        )
    elif problems:
        for problem in problems:
            _out(_problem_line(problem))
    else:
        _out(f"{printable(os.fspath(args.model))}: no problems found ({TASK_LIBRARY}, {MEDIAPIPE})")
    return 1 if problems else 0


def _show_command(args: argparse.Namespace) -> int:
    from ..archive.bundle import is_bundle

    with map_file(args.model) as data:
        if is_bundle(data):
            from .bundle import bundle_json, summarize_bundle

            if args.json:
                _out(json.dumps(bundle_json(data), indent=2))
                return 0
            for line in summarize_bundle(data):
                _out(line)
            return 0
    if args.json:
        from ..model.display import MetadataDisplayer

        displayer = MetadataDisplayer.with_model_file(args.model)
        text = _decoded_json(displayer.get_metadata_buffer(), displayer.get_metadata_json())
        del displayer
        sys.stdout.write(text)
        return 0
    with map_file(args.model) as data:
        lines = summarize(data)
    for line in lines:
        _out(line)
    return 0


def _decoded_json(buffer: Any, text: str) -> str:
    """``text``, or MediaPipe's JSON with the known custom metadata decoded when it has some."""
    from ..model.display import custom_metadata_json, known_custom_metadata

    known = known_custom_metadata(buffer)
    if not known:
        return text
    try:
        return custom_metadata_json(buffer, known) + "\n"
    except MetadataError as exc:
        _err(
            f"note: cannot decode custom metadata {', '.join(known)} ({printable(str(exc))}); "
            "its data is shown as bytes"
        )
        return text


def _extract_command(args: argparse.Namespace) -> int:
    from ..archive.associated_files import ExtractRefusedError, extract_all, find_zip
    from ..archive.bundle import is_bundle, read_bundle
    from ..model.reader import open_model

    with open_mapped(args.model) as (source, data):
        if is_bundle(data):
            tail = read_bundle(data)
        else:
            open_model(data)
            found = find_zip(data)
            if found is None or not found.names():
                _out("the model has no associated files")
                return 0
            tail = found
        try:
            written = extract_all(tail, args.directory, source)
        except ExtractRefusedError as exc:
            for name, reason in exc.refusals:
                _err(f"problem: refused {printable(repr(name))}: {printable(reason)}")
            raise CommandError(_refusal_summary(exc.refusals, tail)) from exc
    for target in written:
        _out(f"{printable(os.fspath(target))} ({target.stat().st_size} bytes)")
    return 0


def _refusal_summary(refusals: list[tuple[str, str]], tail: Any) -> str:
    """``extract``'s one-line summary of why nothing was extracted, by kind of refusal."""
    from ..archive.associated_files import CLASH_REASON, name_problem

    total = len(tail.names())
    kinds = {entry.name: entry.kind for entry in tail.entries}
    unsafe = {name for name, _ in refusals if name_problem(name) is not None}
    clashes = {name for name, reason in refusals if reason == CLASH_REASON}
    not_files = {name for name, _ in refusals if kinds.get(name, "file") != "file"}
    member = tail.member
    parts = []
    if unsafe:
        parts.append(f"{len(unsafe)} of {total} {member} names would write outside the folder")
    if clashes:
        parts.append(
            f"{len(clashes)} of {total} {member} names are both a file and the folder of "
            "another entry"
        )
    if not_files:
        parts.append(f"{len(not_files)} of {total} entries are not files")
    elsewhere = {name for name, _ in refusals} - unsafe - clashes - not_files
    if elsewhere:
        parts.append(
            f"{len(elsewhere)} of {total} {member} names would be written through a link "
            "or a file inside the folder"
        )
    return "nothing was extracted: " + "; ".join(parts)


def _demo_command(args: argparse.Namespace) -> int:
    from .. import demo

    output = Path(args.output) if args.output is not None else Path(demo.DEFAULT_OUTPUT)
    result = demo.write_demo(output)
    _out(
        f"The sample audio classifier ({result.classes} classes, {result.sample_rate} Hz, "
        f"{result.channels} channel) now carries metadata and its label file:"
    )
    _out()
    for line in summarize(result.model):
        _out("  " + line)
    _out()
    problems = check(result.model)
    if problems:  # pragma: no cover - the demo's own output must pass its own checks
        for problem in problems:
            _out(f"problem: {_problem_line(problem)}")
        raise CommandError("the demo model does not pass the consumer checks")
    _out(f"check: no problems found ({TASK_LIBRARY}, {MEDIAPIPE})")
    where = printable(os.fspath(output.resolve()))
    _out(f"Result written to {where}")
    _out()
    _out("Next:")
    _out(f"  {PROG} show {printable(os.fspath(output))}")
    _out(f"  {PROG} show --json {printable(os.fspath(output))}")
    _out(f"  {PROG} extract {printable(os.fspath(output))} -d extracted")
    _out(f"  {PROG} check {printable(os.fspath(output))}")
    return 0


# -- the parser --------------------------------------------------------------------------------


class _TaskParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """``write KIND``: KIND's options come from its task module, imported only when chosen.

    So that ``tflite-metadata show`` (or ``write audio-classifier``) imports no other
    task's module, however many tasks there are.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: Optional[str] = None,
    ) -> None:
        name = values[0] if values else None
        kind = self._name_parser_map.get(name) if isinstance(name, str) else None
        if kind is not None and not getattr(kind, "task_arguments_added", False):
            _add_write_arguments(kind, load_task(str(name)))
            kind.task_arguments_added = True
        super().__call__(parser, namespace, values, option_string)


def _add_write_arguments(parser: argparse.ArgumentParser, task: Task) -> None:
    """The options of ``write KIND``: those of every task, then the task's own."""
    parser.description = task.description
    parser.epilog = task.spec_help
    parser.add_argument("model", metavar="MODEL", help="the .tflite model")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="the output model (may be MODEL)"
    )
    parser.add_argument(
        "--spec", metavar="FILE", help="a JSON (or, with Python 3.11+, TOML) spec; see below"
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="write OUT even if the consumers would refuse it (the problems are still printed)",
    )
    group = parser.add_argument_group("general information")
    group.add_argument("--model-name", metavar="TEXT", help=f"default: {task.model_name}")
    group.add_argument("--model-version", metavar="TEXT")
    group.add_argument("--description", metavar="TEXT")
    group.add_argument("--author", metavar="TEXT")
    group.add_argument("--license", metavar="TEXT")
    task.add_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``tflite-metadata``."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--traceback",
        action="store_true",
        default=argparse.SUPPRESS,
        help="on an error, print the Python traceback too",
    )
    parser = _Parser(
        prog=PROG,
        description="Write, show, extract and check TensorFlow Lite model metadata.",
        epilog=f"Run '{PROG} demo' for a first run on a bundled sample model.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__} (metadata schema {schema.SCHEMA_VERSION})",
    )
    parser.add_argument(
        "--traceback", action="store_true", help="on an error, print the Python traceback too"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    write = commands.add_parser(
        "write",
        parents=[common],
        help="write metadata into a model",
        description="Write metadata and associated files into a model. KIND is its task.",
    )
    kinds = write.add_subparsers(dest="kind", metavar="KIND", action=_TaskParsers)
    kinds.required = True
    for name, entry in TASKS.items():
        kind = kinds.add_parser(
            name,
            parents=[common],
            help=entry.summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        kind.set_defaults(handler=_write_command)
    show = commands.add_parser(
        "show",
        parents=[common],
        help="show a model's metadata",
        description=(
            "Show a model's metadata and associated files; of a .task bundle, each entry "
            "and each model's."
        ),
    )
    show.add_argument("model", metavar="MODEL")
    show.add_argument(
        "--json",
        action="store_true",
        help="print the metadata as JSON, exactly as MetadataDisplayer.get_metadata_json() "
        "(with MediaPipe's DETECTOR_METADATA or SEGMENTER_METADATA: MediaPipe's JSON, decoded)",
    )
    show.set_defaults(handler=_show_command)

    extract = commands.add_parser(
        "extract",
        parents=[common],
        help="write a model's associated files into a folder",
        description=(
            "Write the associated files packed in MODEL into DIR. Names that would write "
            "outside DIR (.., absolute paths, drive letters, backslashes) are refused, and "
            "then nothing is written."
        ),
    )
    extract.add_argument("model", metavar="MODEL")
    extract.add_argument("-d", "--directory", required=True, metavar="DIR")
    extract.set_defaults(handler=_extract_command)

    check_parser = commands.add_parser(
        "check",
        parents=[common],
        help="check a model against the rules of its consumers",
        description=(
            f"Check MODEL against the rules the {TASK_LIBRARY} (tflite-support 0.4.4) and "
            f"{MEDIAPIPE} apply when they load it: the rules common to every model, and those "
            "of its task (--task, or the task its metadata describes). Prints one line per "
            "problem; exits with 1 if there is any, 0 if there is none. A .task bundle gets "
            "the rules of MediaPipe's bundle reader, then each model inside gets these."
        ),
    )
    check_parser.add_argument("model", metavar="MODEL")
    check_parser.add_argument("--json", action="store_true", help="print the problems as JSON")
    check_parser.add_argument(
        "--task",
        choices=list(TASKS),
        metavar="KIND",
        help=(
            "the task whose consumers load MODEL: "
            + ", ".join(TASKS)
            + " (default: the task its metadata describes)"
        ),
    )
    check_parser.set_defaults(handler=_check_command)

    from .bundle import add_bundle_command, run_bundle_command

    add_bundle_command(
        commands, common, lambda args: run_bundle_command(args, _out), _extract_command
    )

    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="write metadata into the bundled sample model and show it",
        description=(
            "Write metadata (sample rate, channels, labels) into a small sample audio "
            "classifier bundled with the package, show the result and check it."
        ),
    )
    demo.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="where to write the result (default: ./tflite_metadata_demo.tflite)",
    )
    demo.set_defaults(handler=_demo_command)
    return parser


# -- main --------------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``tflite-metadata`` with ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 on an error or (``check``) a problem
        found, 2 on a usage error.
    """
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(arguments)
    except UsageError as exc:
        _err(f"error: {printable(str(exc))}")
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        status = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:  # the reader stopped (``show … | head``): not an error of ours
        _discard_stdout()
        return 128 + 13  # as a shell reports a process ended by SIGPIPE
    except UsageError as exc:
        _err(f"error: {printable(str(exc))}")
        return 2
    except CommandError as exc:
        _err(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _err("error: interrupted")
        return 130
    except (MetadataError, OSError) as exc:
        if getattr(args, "traceback", False):
            traceback.print_exc()
        _err(f"error: {printable(_error_text(exc))}")
        return 1
    except Exception as exc:  # a bug: still one line, unless --traceback
        if getattr(args, "traceback", False):
            traceback.print_exc()
        _err(
            f"error: internal error ({type(exc).__name__}: {printable(str(exc))}); "
            "run again with --traceback and report it"
        )
        return 1


def _discard_stdout() -> None:
    """Point standard output at the null device, so that the flush at exit cannot fail."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # no file descriptor behind it (an in-memory stream)
        pass


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, MetadataError):
        name = exc.filename
        reason = exc.strerror or str(exc)
        return f"{name}: {reason}" if name is not None else reason
    return str(exc)
