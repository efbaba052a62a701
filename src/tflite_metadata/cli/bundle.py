"""``.task`` bundles on the command line: ``bundle create|list|extract``, and ``show`` of a bundle.

``show`` and ``check`` take a bundle wherever they take a model (``check`` through
:func:`tflite_metadata.check.check`, which recognizes bundles); this module gives
``show`` its bundle summary and ``show --json`` its bundle document.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Callable

from ..archive.associated_files import extract_refusals
from ..archive.bundle import BUNDLE_MEMBER, MAX_NESTING, is_bundle, read_bundle
from ..errors import MetadataError, UsageError
from ..fileio import InputFile, map_file
from ..tasks.rules import printable
from .show import summarize

__all__ = ["add_bundle_command", "bundle_json", "run_bundle_command", "summarize_bundle"]


def _is_model(content: memoryview) -> bool:
    return bytes(content[4:8]) == b"TFL3"


def summarize_bundle(data: Any, depth: int = 0) -> list[str]:
    """A human summary of a ``.task`` bundle: each entry, and each model's metadata.

    Raises:
        AssociatedFileError: the bundle's zip cannot be trusted.
    """
    bundle = read_bundle(data)
    count = len(bundle.entries)
    lines = [f"bundle: {count} entr{'y' if count == 1 else 'ies'}"]
    refused = dict(extract_refusals(bundle.names()))
    for entry in bundle.entries:
        heading = f"entry {printable(entry.name)}: {entry.size} bytes at offset {entry.data_offset}"
        if entry.name in refused:
            lines.append(f"note: the name {printable(repr(entry.name))} {refused[entry.name]}")
        if not entry.is_stored or entry.kind != "file" or entry.flags & 1:
            what = entry.kind if entry.kind != "file" else f"{entry.method_name} entry"
            if entry.flags & 1:
                what = "encrypted entry"
            lines.append(f"{heading} ({what}; not read, see check)")
            continue
        try:
            # show reads only what it prints; check verifies the CRCs.
            with bundle.content_view(entry.name, verify=False) as content:
                details = _entry_lines(content, depth)
        except MetadataError as exc:
            details = [f"cannot be read: {printable(str(exc))}"]
        lines.append(heading)
        lines.extend("  " + line for line in details)
    return lines


def _entry_lines(content: memoryview, depth: int) -> list[str]:
    if _is_model(content):
        try:
            return summarize(content)
        except MetadataError as exc:
            return [f"model that cannot be read: {printable(str(exc))}"]
    if is_bundle(content):
        if depth + 1 >= MAX_NESTING:
            return [f"a bundle nested more than {MAX_NESTING} deep, not opened"]
        try:
            return summarize_bundle(content, depth + 1)
        except MetadataError as exc:
            return [f"bundle that cannot be read: {printable(str(exc))}"]
    return ["not a model"]


def bundle_json(data: Any, depth: int = 0) -> dict[str, Any]:
    """``show --json`` of a bundle: each entry with its model's metadata as JSON.

    ``{"entries": [{"name", "size", "offset", "metadata"}]}``, where ``metadata`` is
    the parsed text of ``MetadataDisplayer.get_metadata_json()`` (None for a model
    without metadata), ``"bundle"`` holds a nested bundle's document, and
    ``"error"`` says why an entry could not be read.
    """
    from ..model.display import MetadataDisplayer

    bundle = read_bundle(data)
    entries = []
    for entry in bundle.entries:
        item: dict[str, Any] = {
            "name": entry.name,
            "size": entry.size,
            "offset": entry.data_offset,
        }
        try:
            with bundle.content_view(entry.name, verify=False) as content:
                if _is_model(content):
                    try:
                        displayer = MetadataDisplayer.with_model_buffer(content)
                    except MetadataError:
                        item["metadata"] = None
                    else:
                        item["metadata"] = json.loads(displayer.get_metadata_json())
                        del displayer
                elif is_bundle(content) and depth + 1 < MAX_NESTING:
                    item["bundle"] = bundle_json(content, depth + 1)
        except MetadataError as exc:
            item["error"] = str(exc)
        entries.append(item)
    return {"entries": entries}


# -- bundle create | list | extract ------------------------------------------------------------


def _create(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    from ..archive.bundle import create_bundle

    named: list[tuple[str, str]] = [(os.path.basename(path), path) for path in args.models]
    named += [(name, path) for name, path in args.entry or []]
    if len(named) < 2:
        raise UsageError(
            f"a bundle holds at least two models, {len(named)} given "
            "(MODEL paths, or --entry NAME PATH)"
        )
    for _, path in named:
        if _same_file(path, args.output):
            raise UsageError(
                f"the bundle {printable(os.fspath(args.output))} would replace its own input "
                f"{printable(path)}; write it to another file"
            )
    files: list[InputFile] = []
    try:
        for _, path in named:
            files.append(InputFile.open(path))
        size = create_bundle([(name, file) for (name, _), file in zip(named, files)], args.output)
    finally:
        for file in files:
            file.close()
    names = ", ".join(printable(name) for name, _ in named)
    out(f"wrote {printable(os.fspath(args.output))} ({size} bytes): {names}")
    return 0


def _same_file(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # either is missing: opening the input says so
        return False


def _list(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    with map_file(args.bundle) as data:
        bundle = read_bundle(data)
        entries = bundle.entries
    if args.json:
        out(
            json.dumps(
                [
                    {
                        "name": entry.name,
                        "size": entry.size,
                        "offset": entry.data_offset,
                        "crc32": entry.crc32,
                        "method": entry.method_name,
                        "kind": entry.kind,
                    }
                    for entry in entries
                ],
                indent=2,
            )
        )
        return 0
    refused = dict(extract_refusals(entry.name for entry in entries))
    for entry in entries:
        notes = [] if entry.is_stored else [entry.method_name]
        if entry.name in refused:
            notes.append(f"unsafe name: it {refused[entry.name]}")
        if entry.kind != "file":
            notes.append(entry.kind)
        suffix = f" ({', '.join(notes)})" if notes else ""
        out(f"{printable(entry.name)}: {entry.size} bytes{suffix}")
    return 0


def run_bundle_command(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    """Run ``bundle create`` or ``bundle list`` (``bundle extract`` is ``extract``'s)."""
    run: Callable[[argparse.Namespace, Callable[[str], None]], int] = args.bundle_run
    return run(args, out)


def add_bundle_command(
    commands: Any,
    common: argparse.ArgumentParser,
    handler: Callable[[argparse.Namespace], int],
    extract_handler: Callable[[argparse.Namespace], int],
) -> None:
    """Add ``bundle create|list|extract`` to the ``tflite-metadata`` parser.

    Args:
        commands: the parser's subcommands.
        common: the options every command has.
        handler: runs ``create`` and ``list`` (through :func:`run_bundle_command`).
        extract_handler: the ``extract`` command's, which takes bundles too.
    """
    bundle = commands.add_parser(
        "bundle",
        parents=[common],
        help="create, list or extract a .task model bundle",
        description=(
            "MediaPipe Tasks model bundles (.task): a zip of models, each stored and "
            "4-byte aligned, as MediaPipe's create_model_asset_bundle writes them. "
            "'show' and 'check' also take a .task."
        ),
    )
    actions = bundle.add_subparsers(dest="bundle_action", metavar="ACTION")
    actions.required = True
    create = actions.add_parser(
        "create",
        parents=[common],
        help="write models into a new .task bundle",
        description=(
            "Write MODEL files (at least two in all) into the bundle OUT, each under its "
            "file name, or under NAME with --entry NAME PATH (MediaPipe's tasks find "
            "their models by name: hand_detector.tflite …). OUT is replaced only when "
            "complete."
        ),
    )
    create.add_argument("output", metavar="OUT", type=Path, help="the .task bundle to write")
    create.add_argument("models", metavar="MODEL", nargs="*", help="a model (or any file)")
    create.add_argument(
        "--entry",
        nargs=2,
        action="append",
        metavar=("NAME", "PATH"),
        help="add the file PATH as the entry NAME (after the MODEL files; repeatable)",
    )
    create.set_defaults(handler=handler, bundle_run=_create)
    listing = actions.add_parser(
        "list",
        parents=[common],
        help="list the entries of a .task bundle",
        description="List the entries of BUNDLE: name and size (and more with --json).",
    )
    listing.add_argument("bundle", metavar="BUNDLE")
    listing.add_argument("--json", action="store_true", help="print the entries as JSON")
    listing.set_defaults(handler=handler, bundle_run=_list)
    extract = actions.add_parser(
        "extract",
        parents=[common],
        help="write the entries of a .task bundle into a folder",
        description=(
            f"Write every {BUNDLE_MEMBER} of BUNDLE into DIR, byte for byte. Names that "
            "would write outside DIR (.., absolute paths, drive letters, backslashes) "
            "and entries that are links or special files are refused, and then nothing "
            "is written."
        ),
    )
    extract.add_argument("model", metavar="BUNDLE")
    extract.add_argument("-d", "--directory", required=True, metavar="DIR")
    extract.set_defaults(handler=extract_handler)
