"""Spec files: a task's writer described as data (JSON, or TOML with Python 3.11+).

``tflite-metadata write KIND --spec FILE`` reads a spec document; the
command-line options of KIND are merged over it; the task module then builds
its writer from the document (``Task.build_writer``), validating every key with
a :class:`Spec`, whose messages name the file and the key. Paths in a spec are
relative to its folder (:func:`resolve`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn, Optional

from ..errors import MetadataValidationError
from ..fileio import PathLike, read_file
from .base import UINT32_MAX, GeneralMd, in_uint32_range

__all__ = [
    "GENERAL_KEYS",
    "Spec",
    "general_md",
    "json_type",
    "load_spec",
    "merge_input_options",
    "resolve",
]

#: The keys of a spec's top table that give the model's general information.
GENERAL_KEYS = ("name", "version", "description", "author", "license")


class Spec:
    """Validates a spec document, naming the offending key in every message."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> NoReturn:
        raise MetadataValidationError(f"{self.source}: {where}: {message}")

    def table(self, value: Any, where: str, keys: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a table (object), found {json_type(value)}")
        unknown = sorted(set(value) - keys)
        if unknown:
            self.fail(
                where,
                f"unknown key {unknown[0]!r}; expected one of {', '.join(sorted(keys))}",
            )
        return value

    def text_or(
        self, table: dict[str, Any], key: str, where: str, default: Optional[str]
    ) -> Optional[str]:
        """The string at ``key``, or ``default`` when the key is absent (null stays null)."""
        return self.text(table, key, where) if key in table else default

    def text(self, table: dict[str, Any], key: str, where: str) -> Optional[str]:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(f"{where}.{key}", f"expected a string, found {json_type(value)}")
        return value

    def count(self, table: dict[str, Any], key: str, where: str) -> Optional[int]:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{where}.{key}", f"expected an integer, found {json_type(value)}")
        if not in_uint32_range(value):
            self.fail(
                f"{where}.{key}", f"expected an integer from 0 to {UINT32_MAX}, found {value}"
            )
        return value

    def number(self, table: dict[str, Any], key: str, where: str) -> Optional[float]:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{where}.{key}", f"expected a number, found {json_type(value)}")
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
            self.fail(f"{where}.{key}", f"expected an array, found {json_type(value)}")
        return value


def json_type(value: Any) -> str:
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
            f"{name}: expected a table (JSON object) at the top, found {json_type(document)}"
        )
    return document


def command_line_path(path: str) -> str:
    """A file named on the command line, as the spec will hold it.

    Command-line paths are relative to the working folder, and spec paths to the
    spec's folder (:func:`resolve`): an option merged into a spec is made absolute.
    """
    return os.path.abspath(path)


def resolve(base: Path | None, file: str) -> str:
    """A path from a spec is relative to the spec's folder."""
    if base is None or os.path.isabs(file):
        return file
    return os.fspath(base / file)


def general_md(
    spec: Spec, document: dict[str, Any], name: Optional[str], description: Optional[str]
) -> GeneralMd:
    """The model's general information from a spec's top table; unset keys take the defaults."""

    return GeneralMd(
        name=spec.text_or(document, "name", "spec", name),
        version=spec.text(document, "version", "spec"),
        description=spec.text_or(document, "description", "spec", description),
        author=spec.text(document, "author", "spec"),
        licenses=spec.text(document, "license", "spec"),
    )


def merge_input_options(
    args: Any, document: dict[str, Any], options: tuple[tuple[str, str], ...]
) -> None:
    """Put the parsed command-line ``options`` into a spec document's ``input`` table.

    Args:
        args: the parsed command line (an ``argparse.Namespace``).
        document: the spec document; its ``input`` table is made if missing (one
            that is not a table is left for the task's validation to report).
        options: ``(attribute of args, key of input)`` pairs; options not given
            (None) leave the spec's value.
    """
    table = document.get("input")
    if table is None:
        table = document["input"] = {}
    if not isinstance(table, dict):
        return
    for option, key in options:
        value = getattr(args, option)
        if value is not None:
            table[key] = value
