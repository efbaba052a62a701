"""Differential tests against tflite-support: what one side's writer gives for a case."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

#: ``("ok", metadata buffer, metadata JSON)`` or ``("error", message, None)``.
Outcome = tuple[str, Any, Any]


def writer_outcome(make: Callable[[Path], Any], folder: Optional[Path] = None) -> Outcome:
    """Make a writer with ``make(folder)`` (a new temporary folder if None): its outcome.

    A ``ValueError`` (tflite-support's errors and ours are) is an outcome too,
    so that both sides can be compared on cases either refuses.
    """
    if folder is None:
        with tempfile.TemporaryDirectory() as temporary:
            return writer_outcome(make, Path(temporary))
    try:
        metadata_writer = make(folder)
    except ValueError as exc:
        return ("error", str(exc), None)
    return ("ok", bytes(metadata_writer._metadata_buffer), metadata_writer.get_metadata_json())
