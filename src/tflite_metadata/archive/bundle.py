"""``.task`` model asset bundles: MediaPipe's zip of models, written and read safely.

A MediaPipe Tasks bundle (``hand_landmarker.task`` …) is a zip archive of
models (and sometimes other files, or bundles), every entry stored
uncompressed, each entry's data starting at a multiple of 4 bytes so that the
models can be used in place from a mapped file. MediaPipe writes it with
``model_asset_bundle_utils.create_model_asset_bundle`` (Python's
:mod:`zipfile`, with zero bytes before each local header) and reads it in C++
with minizip, serving each entry by name as a view of the bundle's bytes.

This module writes the same bytes as MediaPipe's function, through the
project's own zip writer (:func:`~tflite_metadata.archive.associated_files.write_zip`
in MediaPipe's :class:`~tflite_metadata.archive.associated_files.ZipLayout`),
and reads bundles with the project's zip reader and its protections (names,
sizes, counts, overlaps, CRCs; see
:mod:`~tflite_metadata.archive.associated_files`), so that an entry is never
served from bytes that lie outside the bundle, as MediaPipe's reader would.

Example::

    from tflite_metadata.archive.bundle import create_bundle, read_bundle

    create_bundle({"hand_detector.tflite": detector, "hand_landmarks_detector.tflite": landmarks},
                  "hand_landmarker.task")
    with open("hand_landmarker.task", "rb") as f:
        bundle = read_bundle(f.read())
    print(bundle.names())
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from typing import IO, Union

from ..errors import AssociatedFileError, MetadataValidationError
from ..fileio import PathLike, atomic_output
from .associated_files import (
    ContentToPack,
    ZipLayout,
    ZipLimits,
    ZipSource,
    ZipTail,
    find_zip,
    write_zip,
)

__all__ = [
    "ALIGNMENT",
    "BUNDLE_LIMITS",
    "BUNDLE_MEMBER",
    "MAX_NESTING",
    "BundleModels",
    "create_bundle",
    "create_model_asset_bundle",
    "is_bundle",
    "mediapipe_layout",
    "read_bundle",
    "write_bundle",
]

#: Every entry's data starts at a multiple of this many bytes (MediaPipe's ``_ALIGNMENT``).
ALIGNMENT = 4
#: Bundles inside bundles that ``check`` and ``show`` open (MediaPipe's gesture
#: recognizer holds two bundles); deeper ones are not opened.
MAX_NESTING = 4
#: What a bundle's entry is called in messages.
BUNDLE_MEMBER = "bundle entry"
#: A bundle's limits. Its stored entries are served as views of the bundle,
#: never copied, and must lie inside it, so their sizes need no bound but the
#: bundle's own (models of several GiB are common); the entry count and the
#: inflation of compressed entries keep the associated files' bounds.
BUNDLE_LIMITS = ZipLimits(max_file_size=1 << 40, max_total_size=1 << 42)
#: The zero bytes MediaPipe's writer may put before the first local header.
_PADDING_SEEN = ALIGNMENT
#: The signatures a bundle may start with: a local header, or the end record of
#: an empty zip.
_FIRST_RECORDS = (b"PK\x03\x04", b"PK\x05\x06")
#: MediaPipe's error when fewer than two models are given.
_TOO_FEW = "Needs at least two input models for model asset bundle."

#: Python's zipfile writes a Zip64 extra field into the local header of an entry
#: whose size, times 1.05, exceeds 2**31 - 1: from this size on.
_ZIPFILE_LOCAL_ZIP64_FROM = 2_045_222_521
#: Python's zipfile uses Zip64 fields for values above 2**31 - 1, and the Zip64
#: end records for more than 65,535 entries.
_ZIPFILE_ZIP64_ABOVE = (1 << 31) - 1
_ZIPFILE_COUNT_ABOVE = 0xFFFF
#: zipfile's "version made by" of the Zip64 end record: 4.5, no system byte.
_ZIPFILE_ZIP64_END_MADE_BY = 45
#: zipfile's attributes for ``writestr``: ``rw-------``, no file type bits.
_ZIPFILE_ATTRIBUTES = 0o600 << 16

#: Models to bundle: entry name to content, in order, or ``(name, content)`` pairs.
#: A ``str`` content is encoded as UTF-8, as zipfile's ``writestr`` does.
BundleModels = Union[
    Mapping[str, Union[ContentToPack, str]], Iterable[tuple[str, Union[ContentToPack, str]]]
]


def mediapipe_layout(
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> ZipLayout:
    """The layout of MediaPipe's ``create_model_asset_bundle``, for :func:`write_zip`.

    Args:
        date_time: the time recorded for every entry; default: now, in local
            time, as MediaPipe records it.
    """
    if date_time is None:
        date_time = _now()
    return ZipLayout(
        alignment=ALIGNMENT,
        date_time=date_time,
        external_attributes=_ZIPFILE_ATTRIBUTES,
        zip64_above=_ZIPFILE_ZIP64_ABOVE,
        zip64_count_above=_ZIPFILE_COUNT_ABOVE,
        local_zip64_from=_ZIPFILE_LOCAL_ZIP64_FROM,
        zip64_end_made_by=_ZIPFILE_ZIP64_END_MADE_BY,
        base_names_only=False,
        member=BUNDLE_MEMBER,
        archive="the .task bundle",
    )


def _now() -> tuple[int, int, int, int, int, int]:
    year, month, day, hour, minute, second = time.localtime(time.time())[:6]
    return (year, month, day, hour, minute, second)


_EXPECTED = "a mapping of entry name to content (bytes), or (name, content) pairs"


def _pairs(models: BundleModels) -> list[tuple[str, ContentToPack]]:
    if isinstance(models, (str, bytes, bytearray, memoryview)):
        raise AssociatedFileError(
            f"the models of a bundle must be {_EXPECTED}, got {type(models).__name__}"
        )
    try:
        items = list(models.items()) if isinstance(models, Mapping) else list(models)
    except TypeError as exc:
        raise AssociatedFileError(
            f"the models of a bundle must be {_EXPECTED}, got {type(models).__name__}"
        ) from exc
    pairs = []
    for index, item in enumerate(items):
        if not isinstance(item, tuple) or len(item) != 2:
            raise AssociatedFileError(
                f"the models of a bundle must be {_EXPECTED}; item {index} is a "
                f"{type(item).__name__}, not a (name, content) pair"
            )
        pairs.append(item)
    return [
        (name, content.encode("utf-8") if isinstance(content, str) else content)
        for name, content in pairs
    ]


def write_bundle(
    models: BundleModels,
    out: IO[bytes],
    *,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> int:
    """Write ``models`` to ``out`` as a ``.task`` bundle, byte for byte as MediaPipe.

    Args:
        models: entry name to content (bytes-like, a ``str`` encoded as UTF-8,
            or :class:`~tflite_metadata.fileio.InputFile`, copied from its file
            by the kernel and never held), in order; at least two.
        out: a binary stream at the position where the bundle starts (offsets
            are counted from there).
        date_time: the time recorded for every entry (default: now, local time).

    Returns:
        The number of bytes written.

    Raises:
        MetadataValidationError: fewer than two models.
        AssociatedFileError: an entry name that is not safe to extract
            (``..``, an absolute path, a drive letter, a backslash, a control
            character, empty) or given twice, or a content that is not bytes.
        OutputWriteError: ``out`` refused the write.
    """
    pairs = _pairs(models)
    if len(pairs) < 2:
        raise MetadataValidationError(_TOO_FEW)
    return write_zip(pairs, 0, out, mediapipe_layout(date_time))


def create_bundle(
    models: BundleModels,
    output_path: PathLike,
    *,
    date_time: tuple[int, int, int, int, int, int] | None = None,
) -> int:
    """Write ``models`` into the file ``output_path`` as a ``.task`` bundle, atomically.

    The bundle is written to a temporary file beside ``output_path`` and
    renamed over it only when complete: a failure leaves neither a partial
    bundle nor a damaged file (see :func:`~tflite_metadata.fileio.atomic_output`).

    Returns:
        The bundle's size in bytes.

    Raises:
        As :func:`write_bundle`; and
        OutputWriteError: the file cannot be written.
    """
    pairs = _pairs(models)
    if len(pairs) < 2:
        raise MetadataValidationError(_TOO_FEW)
    layout = mediapipe_layout(date_time)
    with atomic_output(output_path) as stream:
        return write_zip(pairs, 0, stream, layout)


def create_model_asset_bundle(
    input_models: Mapping[str, bytes], output_path: Union[str, IO[bytes]]
) -> None:
    """Creates the model asset bundle (MediaPipe's function, same bytes).

    Args:
      input_models: A dict of input models with key as the model file name and
        value as the model content.
      output_path: The output file path to save the model asset bundle (or,
        as with MediaPipe's, a binary file object to write it to).

    Raises:
      ValueError: (a :class:`~tflite_metadata.errors.MetadataError`) fewer than
        two models ("Needs at least two input models for model asset
        bundle."), ``input_models`` that is not a dict, an entry name that
        would lead outside a folder when the bundle is extracted, or a content
        that is not bytes.
    """
    if not input_models or len(input_models) < 2:
        raise MetadataValidationError(_TOO_FEW)
    if not isinstance(input_models, Mapping):
        # MediaPipe's reads input_models.items(): anything else is an AttributeError there.
        raise MetadataValidationError(
            "input_models must be a dict of model file name to model content (bytes), "
            f"got {type(input_models).__name__}"
        )
    if isinstance(output_path, (str, os.PathLike)):
        create_bundle(input_models, output_path)
    else:
        write_bundle(input_models, output_path)


def is_bundle(data: ZipSource) -> bool:
    """Whether ``data`` is taken as a ``.task`` bundle rather than a model.

    A bundle is a zip from its first byte: it starts with a local header (after
    the 1 to 4 zero bytes MediaPipe's writer puts before it) or, empty, with the
    end record. A TFLite model starts with its root table's offset and carries
    ``TFL3`` at bytes 4 to 8; its associated files are a zip at its end, which
    does not make it a bundle.
    """
    with memoryview(data) as view:
        head = bytes(view.cast("B")[: _PADDING_SEEN + 4]) if view.nbytes else b""
    for padding in range(_PADDING_SEEN + 1):
        if head[:padding] == bytes(padding) and head[padding : padding + 4] in _FIRST_RECORDS:
            return True
    return False


def read_bundle(data: ZipSource, *, limits: ZipLimits = BUNDLE_LIMITS) -> ZipTail:
    """Parse the ``.task`` bundle ``data`` (bytes, memoryview or mmap; not copied).

    Every record and local header is checked (see
    :func:`~tflite_metadata.archive.associated_files.find_zip`); entries are
    read, CRC-checked, with :meth:`ZipTail.read` or, without a copy,
    :meth:`ZipTail.content_view`.

    Raises:
        AssociatedFileError: ``data`` is a TFLite model, holds no zip, or one
            that cannot be trusted
            (a :class:`~tflite_metadata.archive.associated_files.ZipFormatError`
            whose ``fault`` says why).
    """
    try:
        with memoryview(data) as view:
            identifier = bytes(view.cast("B")[4:8]) if view.nbytes else b""
    except (TypeError, ValueError):
        identifier = b""  # find_zip says what is wrong with it
    if identifier == b"TFL3" and not is_bundle(data):
        raise AssociatedFileError(
            "not a .task bundle: it is a TFLite model (a FlatBuffer with the 'TFL3' "
            "identifier; any associated files it carries are listed by 'show' and "
            "written by 'extract')"
        )
    tail = find_zip(data, limits=limits, member=BUNDLE_MEMBER)
    if tail is None:
        raise AssociatedFileError(
            "not a .task bundle: it holds no zip end of central directory record"
        )
    return tail
