"""The exception family of tflite-metadata.

Every failure the package reports is a :class:`MetadataError`. It derives from
:class:`ValueError` so that code written for tflite-support, which raises plain
``ValueError``, keeps catching it.

Low-level failures (``struct.error``, ``IndexError``, ``zipfile.BadZipFile``,
``UnicodeDecodeError``, ``OSError`` …) are wrapped into one of the subclasses
below; they never escape the package's public functions.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = [
    "AssociatedFileError",
    "ConsumerCompatibilityWarning",
    "InputReadError",
    "MetadataError",
    "MetadataFormatError",
    "MetadataValidationError",
    "MissingFileError",
    "ModelFormatError",
    "OutputWriteError",
    "UsageError",
    "warn_at_caller",
]


class MetadataError(ValueError):
    """Base class of every error raised by tflite-metadata."""


class ModelFormatError(MetadataError):
    """The model is not a well-formed TFLite FlatBuffer (bad identifier, offsets, lengths…)."""


class MetadataFormatError(MetadataError):
    """A metadata buffer is not a well-formed ``M001`` FlatBuffer."""


class MetadataValidationError(MetadataError):
    """Well-formed metadata that does not fit the model or breaks a populate rule."""


class AssociatedFileError(MetadataError):
    """An associated file, the zip that carries them, a label or a calibration file is bad."""


class MissingFileError(MetadataError, FileNotFoundError):
    """A file named by the caller does not exist.

    Also a :class:`FileNotFoundError` (an ``IOError``), which is what tflite-support
    raises in this case, so both kinds of ``except`` clause keep working.
    """


class InputReadError(MetadataError):
    """An input file exists but cannot be read (a folder, no permission, a bad path)."""


class OutputWriteError(MetadataError):
    """The output could not be written (permissions, full disk…); nothing partial was left."""


class ConsumerCompatibilityWarning(UserWarning):
    """The model would be refused by a consumer (Task Library, MediaPipe).

    The Python API keeps tflite-support's permissive behaviour and only warns;
    the command line refuses such models unless ``--no-check`` is given.
    """


class UsageError(Exception):
    """A command line (or spec file) lacks what the task needs: exit status 2, not a bug."""


_PACKAGE_FOLDER = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(warning: Warning) -> None:
    """Emit ``warning`` at the user's line: the first frame outside this package.

    Every public entry point reaches a warning through a different number of
    calls (``MetadataPopulator.with_model_file`` and ``with_model_buffer`` take
    different paths); a fixed ``stacklevel`` would point inside the package on
    some of them.
    """
    frame = sys._getframe(0)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_FOLDER):
        frame = frame.f_back
        level += 1
    warnings.warn(warning, stacklevel=level)
