"""The ``tflite-metadata`` command: write, show, extract and check model metadata.

Usage (``tflite-metadata --help`` and ``tflite-metadata COMMAND --help`` say more)::

    tflite-metadata write audio-classifier MODEL -o OUT --sample-rate 16000 --channels 1 \\
        --labels labels.txt [--labels labels_fr.txt --locale fr] \\
        [--score-calibration calibration.txt --score-transformation LOG --default-score 0.2]
    tflite-metadata write audio-classifier MODEL -o OUT --spec spec.json   # every option
    tflite-metadata show [--json] MODEL
    tflite-metadata extract MODEL -d DIR
    tflite-metadata check [--json] MODEL
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
    calibration_entry_count,
    check,
    label_counts,
    printable,
)
from ..errors import MetadataError, MetadataValidationError
from ..fileio import (
    PathLike,
    atomic_output,
    map_file,
    map_output,
    open_mapped,
    read_file,
)
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.model_schema import tensor_type_name

__all__ = ["main"]

PROG = "tflite-metadata"

#: Score transformations by name, as the schema declares them.
_TRANSFORMATIONS = dict(schema.ENUMS["ScoreTransformationType"].values)


class UsageError(Exception):
    """The command line is wrong (exit status 2)."""


class CommandError(Exception):
    """A command failed for a reason already explained (exit status 1)."""


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are exceptions, for one-line reporting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


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


# -- the spec of an audio classifier -------------------------------------------------------

_GENERAL_KEYS = ("name", "version", "description", "author", "license")
_SPEC_KEYS = frozenset((*_GENERAL_KEYS, "input", "outputs"))
_INPUT_KEYS = frozenset(("name", "description", "sample_rate", "channels"))
_OUTPUT_KEYS = frozenset(("name", "description", "tensor_name", "labels", "score_calibration"))
_LABEL_KEYS = frozenset(("file", "labels", "name", "locale"))
_CALIBRATION_KEYS = frozenset(("file", "parameters", "name", "transformation", "default_score"))


class _Spec:
    """Validates a spec document, naming the offending key in every message."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise MetadataValidationError(f"{self.source}: {where}: {message}")

    def table(self, value: Any, where: str, keys: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a table (object), found {_json_type(value)}")
        unknown = sorted(set(value) - keys)
        if unknown:
            self.fail(
                where,
                f"unknown key {unknown[0]!r}; expected one of {', '.join(sorted(keys))}",
            )
        return value

    def text(self, table: dict[str, Any], key: str, where: str) -> Optional[str]:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(f"{where}.{key}", f"expected a string, found {_json_type(value)}")
        return value

    def count(self, table: dict[str, Any], key: str, where: str) -> Optional[int]:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key}", f"expected an integer, found {_json_type(value)}")
        if not 0 <= value <= 2**32 - 1:
            self.fail(f"{where}.{key}", f"expected an integer from 0 to 4294967295, found {value}")
        return value

    def number(self, table: dict[str, Any], key: str, where: str) -> Optional[float]:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{where}.{key}", f"expected a number, found {_json_type(value)}")
        try:
            return float(value)
        except OverflowError:  # an integer beyond the range of a float
            digits = len(str(abs(value)))
            self.fail(f"{where}.{key}", f"expected a number, found an integer of {digits} digits")

    def items(self, table: dict[str, Any], key: str, where: str) -> list[Any]:
        value = table.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(f"{where}.{key}", f"expected an array, found {_json_type(value)}")
        return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def load_spec(path: PathLike) -> dict[str, Any]:
    """Read a spec file: JSON, or TOML (``.toml``, Python 3.11 or newer).

    Raises:
        MetadataValidationError: the file is not valid JSON/TOML.
        MissingFileError: the file does not exist.
    """
    data = read_file(path)
    name = os.fspath(path)
    if name.lower().endswith(".toml"):
        try:
            import tomllib  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise MetadataValidationError(
                f"{name}: reading TOML needs Python 3.11 or newer; write the spec as JSON "
                "instead (same keys)"
            ) from None
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise MetadataValidationError(f"{name}: not valid TOML: {exc}") from None
        except RecursionError:
            raise MetadataValidationError(
                f"{name}: not a usable TOML spec: its arrays or tables nest too deeply"
            ) from None
        except ValueError as exc:  # an integer with too many digits
            raise MetadataValidationError(f"{name}: not a usable TOML spec: {exc}") from None
    else:
        try:
            document = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise MetadataValidationError(f"{name}: not UTF-8 text: {exc}") from None
        except json.JSONDecodeError as exc:
            raise MetadataValidationError(
                f"{name}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        except RecursionError:
            raise MetadataValidationError(
                f"{name}: not a usable JSON spec: its arrays or tables nest too deeply"
            ) from None
        except ValueError as exc:  # an integer with too many digits
            raise MetadataValidationError(f"{name}: not a usable JSON spec: {exc}") from None
    if not isinstance(document, dict):
        raise MetadataValidationError(
            f"{name}: expected a table (JSON object) at the top, found {_json_type(document)}"
        )
    return document


def _resolve(base: Path | None, file: str) -> str:
    """A path from a spec is relative to the spec's folder."""
    if base is None or os.path.isabs(file):
        return file
    return os.fspath(base / file)


def _transformation(value: Any, where: str, spec: _Spec) -> int:
    if isinstance(value, str):
        key = value.strip().upper()
        if key in _TRANSFORMATIONS:
            return int(_TRANSFORMATIONS[key])
    elif (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value in _TRANSFORMATIONS.values()
    ):
        return value
    choices = ", ".join(_TRANSFORMATIONS)
    spec.fail(where, f"expected one of {choices}, found {value!r}")


def _label_file_md(entry: Any, where: str, spec: _Spec, base: Path | None) -> Any:
    from ..tasks.info import LabelFileMd

    if isinstance(entry, str):
        return LabelFileMd(_resolve(base, entry))
    table = spec.table(entry, where, _LABEL_KEYS)
    file = spec.text(table, "file", where)
    locale = spec.text(table, "locale", where)
    name = spec.text(table, "name", where)
    if ("labels" in table) == (file is not None):
        spec.fail(where, "give either 'file' (a label file) or 'labels' (a list of labels)")
    if file is not None:
        if name is not None:
            spec.fail(where, "'name' goes with 'labels'; a label file keeps its own name")
        return LabelFileMd(_resolve(base, file), locale)
    labels = spec.items(table, "labels", where)
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            spec.fail(f"{where}.labels[{index}]", f"expected a string, found {_json_type(label)}")
    return LabelFileMd(name, locale, labels=labels)


def _calibration_md(entry: Any, where: str, spec: _Spec, base: Path | None) -> Any:
    from ..tasks.info import ScoreCalibrationMd

    table = spec.table(entry, where, _CALIBRATION_KEYS)
    file = spec.text(table, "file", where)
    name = spec.text(table, "name", where)
    transformation = _transformation(
        table.get("transformation", "IDENTITY"), f"{where}.transformation", spec
    )
    default_score = spec.number(table, "default_score", where)
    default_score = 0.0 if default_score is None else default_score
    if ("parameters" in table) == (file is not None):
        spec.fail(
            where, "give either 'file' (a calibration file) or 'parameters' (rows of numbers)"
        )
    if file is not None:
        if name is not None:
            spec.fail(where, "'name' goes with 'parameters'; a calibration file keeps its own name")
        return ScoreCalibrationMd(transformation, default_score, _resolve(base, file))
    parameters = spec.items(table, "parameters", where)
    return ScoreCalibrationMd(transformation, default_score, name, parameters=parameters)


def _build_writer(
    model: BufferLike, document: dict[str, Any], source: str, base: Path | None
) -> Any:
    """An ``AudioClassifierWriter`` for ``model`` from a validated spec document."""
    from ..tasks import writer as writer_module
    from ..tasks.info import ClassificationTensorMd, GeneralMd, InputAudioTensorMd
    from ..tasks.writer import AudioClassifierWriter
    from ..tasks.writer_utils import get_output_tensor_names, get_output_tensor_types

    spec = _Spec(source)
    document = spec.table(document, "spec", _SPEC_KEYS)

    def text_or(table: dict[str, Any], key: str, where: str, default: Optional[str]) -> Any:
        return spec.text(table, key, where) if key in table else default

    # Unset fields take the defaults of tflite-support's audio classifier writer.
    general = GeneralMd(
        name=text_or(document, "name", "spec", writer_module._AUDIO_MODEL_NAME),
        version=spec.text(document, "version", "spec"),
        description=text_or(
            document, "description", "spec", writer_module._AUDIO_MODEL_DESCRIPTION
        ),
        author=spec.text(document, "author", "spec"),
        licenses=spec.text(document, "license", "spec"),
    )
    input_table = spec.table(document.get("input", {}), "input", _INPUT_KEYS)
    sample_rate = spec.count(input_table, "sample_rate", "input")
    channels = spec.count(input_table, "channels", "input")
    if sample_rate is None or channels is None:
        raise UsageError(
            "the sample rate and channel count are required: give --sample-rate and "
            "--channels (or input.sample_rate and input.channels in the spec)"
        )
    input_md = InputAudioTensorMd(
        text_or(input_table, "name", "input", writer_module._AUDIO_INPUT_NAME),
        text_or(input_table, "description", "input", writer_module._AUDIO_INPUT_DESCRIPTION),
        sample_rate,
        channels,
    )

    output_names = get_output_tensor_names(model)
    output_types = get_output_tensor_types(model)
    heads = [
        spec.table(head, f"outputs[{index}]", _OUTPUT_KEYS)
        for index, head in enumerate(spec.items(document, "outputs", "spec"))
    ]
    if not heads:
        heads = [{} for _ in output_names]
    if len(heads) != len(output_names):
        described = (
            "1 classification head is"
            if len(heads) == 1
            else (f"{len(heads)} classification heads are")
        )
        raise MetadataValidationError(
            f"the model has {len(output_names)} outputs ({', '.join(map(repr, output_names))}) "
            f"but {described} described; describe one per output "
            "(--head, or 'outputs' in a spec file)"
        )
    single = len(output_names) == 1
    output_mds = []
    for index, head in enumerate(heads):
        where = f"outputs[{index}]"
        table = head
        tensor_name = spec.text(table, "tensor_name", where)
        if tensor_name is None:
            position = index
        elif tensor_name in output_names:
            position = output_names.index(tensor_name)
        else:
            spec.fail(
                f"{where}.tensor_name",
                f"the model has no output named {tensor_name!r}; its outputs are "
                f"{', '.join(map(repr, output_names))}",
            )
        # One head: tflite-support's names. Several: the model's tensor names,
        # which the writer fills in, so MediaPipe's head names stay distinct.
        default_name = writer_module._AUDIO_OUTPUT_NAME if single else None
        default_description = writer_module._AUDIO_OUTPUT_DESCRIPTION if single else None
        labels = [
            _label_file_md(entry, f"{where}.labels[{i}]", spec, base)
            for i, entry in enumerate(spec.items(table, "labels", where))
        ]
        calibration = None
        if table.get("score_calibration") is not None:
            calibration = _calibration_md(
                table["score_calibration"], f"{where}.score_calibration", spec, base
            )
        output_mds.append(
            ClassificationTensorMd(
                name=text_or(table, "name", where, default_name),
                description=text_or(table, "description", where, default_description),
                label_files=labels,
                tensor_type=output_types[position],
                score_calibration_md=calibration,
                tensor_name=tensor_name,
            )
        )
    return AudioClassifierWriter.create_from_metadata_info_for_multihead(
        model, general, input_md, output_mds
    )


# -- command-line options into a spec ------------------------------------------------------


class _HeadOption(argparse.Action):
    """An option describing the current classification head (``--head`` starts a new one)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        self.field = kwargs.pop("field")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: Optional[str] = None,
    ) -> None:
        heads: Optional[list[dict[str, Any]]] = getattr(namespace, self.dest, None)
        if heads is None:
            heads = []
            setattr(namespace, self.dest, heads)
        if self.field == "head":
            heads.append({} if values is None else {"tensor_name": values})
            return
        if not heads:
            heads.append({})
        head = heads[-1]
        number = len(heads) - 1
        if self.field == "labels":
            head.setdefault("labels", []).append({"file": values})
        elif self.field == "locale":
            labels = head.get("labels")
            if not labels:
                parser.error(f"{option_string} gives the locale of the --labels before it")
            if "locale" in labels[-1]:
                parser.error(f"{option_string} given twice for --labels {labels[-1]['file']}")
            labels[-1]["locale"] = values
        elif self.field in ("file", "transformation", "default_score"):
            calibration = head.setdefault("score_calibration", {})
            if self.field in calibration:
                parser.error(
                    f"{option_string} given twice for head {number}; start another head with --head"
                )
            calibration[self.field] = values
        else:
            if self.field in head:
                parser.error(
                    f"{option_string} given twice for head {number}; start another head with --head"
                )
            head[self.field] = values


def _count_argument(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if not 0 <= value <= 2**32 - 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 4294967295, found {value}")
    return value


def _score_argument(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, found {text!r}")
    return value


def _transformation_argument(text: str) -> str:
    key = text.strip().upper()
    if key not in _TRANSFORMATIONS:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(_TRANSFORMATIONS)}, found {text!r}"
        )
    return key


def _document_from_arguments(args: argparse.Namespace) -> tuple[dict[str, Any], str, Path | None]:
    """The spec document: the spec file's, with the command-line options over it."""
    if args.spec is not None:
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
    input_table = document.get("input")
    if input_table is None:
        input_table = document["input"] = {}
    if isinstance(input_table, dict):
        for option, key in (
            ("sample_rate", "sample_rate"),
            ("channels", "channels"),
            ("input_name", "name"),
            ("input_description", "description"),
        ):
            value = getattr(args, option)
            if value is not None:
                input_table[key] = value
    heads = args.heads or []
    for number, head in enumerate(heads):
        calibration = head.get("score_calibration")
        if calibration is not None and "file" not in calibration:
            raise UsageError(
                f"head {number}: --score-transformation and --default-score describe a "
                "score calibration; give its file with --score-calibration"
            )
    if heads:
        if document.get("outputs"):
            raise UsageError(
                "the classification heads are described twice: in the spec's 'outputs' and "
                "with --head/--labels/--score-calibration options; use one or the other"
            )
        document["outputs"] = heads
    return document, source, base


# -- commands --------------------------------------------------------------------------------


def _write_audio_classifier(args: argparse.Namespace) -> int:
    document, source, base = _document_from_arguments(args)
    from ..model.populate import open_model

    output = os.fspath(args.output)
    # The model is mapped and streamed, never loaded; the result is checked in its
    # temporary file, which replaces the output only when it passes (or --no-check).
    with warnings.catch_warnings(record=True) as caught, atomic_output(output) as stream:
        warnings.simplefilter("always")
        with open_mapped(args.model) as (handle, model):
            open_model(model)  # a junk input fails here, with tflite-support's message
            writer = _build_writer(model, document, source, base)
            size = writer.populate_to(stream, source=handle)
            del writer, model  # release the mapping before it is closed
        with map_output(stream) as populated:
            problems = check(populated)
            files = _packed_files(populated)
            del populated
        for message in caught:
            _err(f"warning: {printable(str(message.message))}")
        if problems and not args.no_check:
            for problem in problems:
                _err(f"problem: {_problem_line(problem)}")
            raise CommandError(
                f"{printable(output)} was not written: {TASK_LIBRARY} or {MEDIAPIPE} would "
                f"refuse the model ({len(problems)} problem{'s' if len(problems) != 1 else ''} "
                "above); fix them, or pass --no-check to write it anyway"
            )
        for problem in problems:
            _err(f"warning: {_problem_line(problem)}")
    summary = f"wrote {printable(output)} ({size} bytes)"
    if files:
        summary += ", with " + ", ".join(printable(name) for name, _ in files)
    _out(summary)
    return 0


def _packed_files(data: Any) -> list[tuple[str, int]]:
    """``(name, size)`` of each packed associated file, in zip order."""
    from ..archive.associated_files import find_zip

    tail = find_zip(data)
    if tail is None:
        return []
    return tail.sizes()


def _check_command(args: argparse.Namespace) -> int:
    problems = check(args.model)
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
    if args.json:
        from ..model.display import MetadataDisplayer

        displayer = MetadataDisplayer.with_model_file(args.model)
        text = displayer.get_metadata_json()
        del displayer
        sys.stdout.write(text)
        return 0
    with map_file(args.model) as data:
        lines = summarize(data)
    for line in lines:
        _out(line)
    return 0


def _extract_command(args: argparse.Namespace) -> int:
    from ..archive.associated_files import ExtractRefusedError, extract_all, find_zip
    from ..model.populate import open_model

    with map_file(args.model) as data:
        open_model(data)
        tail = find_zip(data)
        if tail is None or not tail.names():
            _out("the model has no associated files")
            return 0
        try:
            written = extract_all(tail, args.directory)
        except ExtractRefusedError as exc:
            for name, reason in exc.refusals:
                _err(f"problem: refused {printable(repr(name))}: {printable(reason)}")
            raise CommandError(
                f"nothing was extracted: {len(exc.refusals)} of {len(tail.names())} associated "
                "file names would write outside the folder"
            ) from exc
    for target in written:
        _out(f"{printable(os.fspath(target))} ({target.stat().st_size} bytes)")
    return 0


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


# -- the human summary ------------------------------------------------------------------------

_LABELS_SHOWN = 5


def _shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def summarize(data: Any) -> list[str]:
    """A human summary of a model's metadata and associated files, one line each.

    Names read from the model are escaped (see :func:`~tflite_metadata.check.printable`).

    Raises:
        ModelFormatError: the model cannot be read.
        MetadataFormatError: its metadata is malformed.
    """
    from ..format import codec
    from ..model.populate import open_model

    view = open_model(data)
    files = dict(_packed_files(data))
    lines: list[str] = []
    buffer = view.metadata_buffer()
    metadata = codec.decode(buffer) if buffer is not None and len(buffer) else None
    inputs = list(view.inputs(0))
    outputs = list(view.outputs(0))
    if metadata is None:
        lines.append("metadata: none")
    else:
        name = printable(metadata.name) if metadata.name is not None else "(no name)"
        version = f", version {printable(metadata.version)}" if metadata.version else ""
        lines.append(f"model: {name}{version}")
        for label, value in (
            ("description", metadata.description),
            ("author", metadata.author),
            ("license", metadata.license),
        ):
            if value:
                lines.append(f"{label}: {printable(value)}")
        lines.append(f"min_parser_version: {printable(metadata.minParserVersion) or '(unset)'}")
    subgraph = None
    if metadata is not None and metadata.subgraphMetadata:
        subgraph = metadata.subgraphMetadata[0]
    input_metadata = (subgraph.inputTensorMetadata if subgraph is not None else None) or []
    output_metadata = (subgraph.outputTensorMetadata if subgraph is not None else None) or []
    for index, tensor in enumerate(inputs):
        tensor_md = input_metadata[index] if index < len(input_metadata) else None
        lines.append(f"input {index}: {_tensor_heading(tensor, tensor_md)}{_audio_text(tensor_md)}")
    for index, tensor in enumerate(outputs):
        tensor_md = output_metadata[index] if index < len(output_metadata) else None
        lines.append(f"output {index}: {_tensor_heading(tensor, tensor_md)}")
        lines.extend("  " + line for line in _output_details(tensor_md, data))
    if files:
        lines.append("associated files:")
        for file_name, size in files.items():
            lines.append(f"  {printable(file_name)}: {size} bytes")
    else:
        lines.append("associated files: none")
    return lines


def _tensor_heading(tensor: Any, tensor_md: Any) -> str:
    described = ""
    if tensor_md is not None and tensor_md.name:
        described = f"{printable(tensor_md.name)} "
    return (
        f"{described}(tensor '{printable(tensor.name)}', {tensor_type_name(int(tensor.type))} "
        f"{_shape(tensor.shape)})"
    )


def _audio_text(tensor_md: Any) -> str:
    if tensor_md is None or tensor_md.content is None:
        return ""
    properties = tensor_md.content.contentProperties
    if properties is None or not hasattr(properties, "sampleRate"):
        return ""
    channels = int(properties.channels)
    return f": {int(properties.sampleRate)} Hz, {channels} channel{'s' if channels != 1 else ''}"


def _output_details(tensor_md: Any, data: Any) -> list[str]:
    from ..archive.associated_files import find_zip

    if tensor_md is None:
        return []
    tail = find_zip(data)
    packed = set(tail.names()) if tail is not None else set()

    def content(name: str) -> Optional[bytes]:
        if tail is None or name not in packed:
            return None
        return bytes(tail.read(name))

    lines = []
    for file in tensor_md.associatedFiles or []:
        name = file.name.decode("utf-8", "surrogateescape") if file.name is not None else ""
        locale = f" ({printable(file.locale)})" if file.locale else ""
        data_bytes = content(name)
        if file.type == 2:  # TENSOR_AXIS_LABELS
            if data_bytes is None:
                lines.append(f"labels {printable(name)}{locale}: not packed")
                continue
            count = label_counts(data_bytes)[0]
            first = data_bytes.split(b"\n")[:_LABELS_SHOWN]
            shown = ", ".join(printable(label) for label in first[:count])
            more = ", ..." if count > _LABELS_SHOWN else ""
            lines.append(f"labels {printable(name)}{locale}: {count} labels: {shown}{more}")
    for unit in tensor_md.processUnits or []:
        options = unit.options
        if options is None or not hasattr(options, "scoreTransformation"):
            continue
        transformation = schema.ENUMS["ScoreTransformationType"].name_of(
            int(options.scoreTransformation)
        ) or str(options.scoreTransformation)
        calibration_files = [
            f for f in tensor_md.associatedFiles or [] if f.type == 4 and f.name is not None
        ]
        where = ""
        if calibration_files:
            name = calibration_files[0].name.decode("utf-8", "surrogateescape")
            data_bytes = content(name)
            entries = (
                "not packed"
                if data_bytes is None
                else f"{calibration_entry_count(data_bytes)} entries"
            )
            where = f", {printable(name)} ({entries})"
        lines.append(
            f"score calibration: {transformation}, default score "
            f"{float(options.defaultScore):g}{where}"
        )
    return lines


# -- the parser --------------------------------------------------------------------------------


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
        description="Write metadata and associated files into a model.",
    )
    kinds = write.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    audio = kinds.add_parser(
        "audio-classifier",
        parents=[common],
        help="an audio classifier (Task Library / MediaPipe AudioClassifier)",
        description=(
            "Write audio classifier metadata into MODEL, as tflite-support's "
            "audio_classifier.MetadataWriter does, and save the result as OUT. OUT is checked "
            "against the rules of the Task Library and MediaPipe audio classifiers first, and "
            "not written if they would refuse it (unless --no-check). Options describe one "
            "classification head; for a model with several outputs, start each head with "
            "--head, or describe everything in a spec file (--spec)."
        ),
        epilog=_SPEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audio.add_argument("model", metavar="MODEL", help="the .tflite model")
    audio.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="the output model (may be MODEL)"
    )
    audio.add_argument(
        "--spec", metavar="FILE", help="a JSON (or, with Python 3.11+, TOML) spec; see below"
    )
    audio.add_argument(
        "--no-check",
        action="store_true",
        help="write OUT even if the consumers would refuse it (the problems are still printed)",
    )
    group = audio.add_argument_group("audio input")
    group.add_argument("--sample-rate", type=_count_argument, metavar="HZ")
    group.add_argument("--channels", type=_count_argument, metavar="N")
    group.add_argument("--input-name", metavar="TEXT", help="default: audio_clip")
    group.add_argument("--input-description", metavar="TEXT")
    group = audio.add_argument_group("general information")
    group.add_argument("--model-name", metavar="TEXT", help="default: AudioClassifier")
    group.add_argument("--model-version", metavar="TEXT")
    group.add_argument("--description", metavar="TEXT")
    group.add_argument("--author", metavar="TEXT")
    group.add_argument("--license", metavar="TEXT")
    group = audio.add_argument_group(
        "classification heads",
        "Each option applies to the current head; --head starts a new one.",
    )
    head_options: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
        (
            ("--head",),
            "head",
            {
                "nargs": "?",
                "metavar": "TENSOR",
                "help": "start the next head; TENSOR names its output tensor in the model",
            },
        ),
        (
            ("--labels",),
            "labels",
            {"metavar": "FILE", "help": "a label file, one label a line (repeatable)"},
        ),
        (("--locale",), "locale", {"metavar": "LOCALE", "help": "the locale of the last --labels"}),
        (("--score-calibration",), "file", {"metavar": "FILE", "help": "score calibration file"}),
        (
            ("--score-transformation",),
            "transformation",
            {
                "type": _transformation_argument,
                "metavar": "|".join(_TRANSFORMATIONS),
                "help": "applied before calibration (default: IDENTITY)",
            },
        ),
        (
            ("--default-score",),
            "default_score",
            {"type": _score_argument, "metavar": "X", "help": "default: 0.0"},
        ),
        (("--output-name",), "name", {"metavar": "TEXT", "help": "default: probability"}),
        (("--output-description",), "description", {"metavar": "TEXT"}),
    ]
    for flags, field, options in head_options:
        group.add_argument(*flags, dest="heads", action=_HeadOption, field=field, **options)
    audio.set_defaults(handler=_write_audio_classifier, heads=None)

    show = commands.add_parser(
        "show",
        parents=[common],
        help="show a model's metadata",
        description="Show a model's metadata and associated files.",
    )
    show.add_argument("model", metavar="MODEL")
    show.add_argument(
        "--json",
        action="store_true",
        help="print the metadata as JSON, exactly as MetadataDisplayer.get_metadata_json()",
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
            f"{MEDIAPIPE} audio classifiers apply when they load it. Prints one line per "
            "problem; exits with 1 if there is any, 0 if there is none."
        ),
    )
    check_parser.add_argument("model", metavar="MODEL")
    check_parser.add_argument("--json", action="store_true", help="print the problems as JSON")
    check_parser.set_defaults(handler=_check_command)

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


_SPEC_HELP = """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "AudioClassifier", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"name": "audio_clip", "description": "...",
              "sample_rate": 16000, "channels": 1},
    "outputs": [
      {"tensor_name": "scores", "name": "probability", "description": "...",
       "labels": ["labels.txt",
                  {"file": "labels_fr.txt", "locale": "fr"},
                  {"name": "labels_de.txt", "locale": "de", "labels": ["Sprache", "Musik"]}],
       "score_calibration": {"file": "calibration.txt", "transformation": "LOG",
                             "default_score": 0.2}}
    ]
  }
A calibration may give "parameters": [[scale, slope, offset(, min_score)] or null, ...]
instead of "file" (and then "name", default score_calibration.txt).
"""


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
        return handler(args)
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


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, MetadataError):
        name = exc.filename
        reason = exc.strerror or str(exc)
        return f"{name}: {reason}" if name is not None else reason
    return str(exc)
