"""The task-generic core of every writer: descriptions, the model argument, tensor order.

Everything here is shared by the task modules (:mod:`.audio_classifier`,
:mod:`.image_classifier` …):

* the descriptions that every task uses (:class:`GeneralMd`,
  :class:`AssociatedFileMd`, :class:`LabelFileMd`, :class:`TensorMd`), the core
  of tflite-support's ``metadata_info``: each turns into object-API values
  (``ModelMetadataT``, ``TensorMetadataT`` …) with ``create_metadata()``, with
  tflite-support 0.4.4's constructors, defaults, results and messages;
* :class:`MetadataWriter`, tflite-support's ``metadata_writer.MetadataWriter``:
  it puts descriptions in the model's tensor order, encodes the metadata and
  populates it (through :mod:`tflite_metadata.model.populate`) with its files;
* :func:`model_bytes`, the one place a model argument becomes bytes.

Beyond tflite-support, label files can be given in memory instead of as files::

    LabelFileMd(labels=["speech", "music"])                 # named "labels.txt"
    LabelFileMd("labels_fr.txt", locale="fr", labels=["parole", "musique"])
    LabelFileMd("labels.txt", content=b"speech\\nmusic\\n")  # raw bytes
    AssociatedFileMd("vocab.txt", "Vocabulary.", content=b"...")

When values are given in memory, ``file_path`` is only the name the file gets in
the model (its basename is used, as for a path). Nothing is written to disk.
Label files must be UTF-8; failures are
:class:`~tflite_metadata.errors.MetadataError` subclasses (hence ``ValueError``)
that name the file and the line.

A file given by path must be a regular file (or a symbolic link to one): a
folder, a device (``/dev/zero``), a FIFO or a socket is refused at once, with an
error naming the path and what it is, and a FIFO is never waited on (see
:func:`tflite_metadata.fileio.open_input`). Each file is opened once when the
model is populated. Populating to a file (:meth:`MetadataWriter.populate_to`,
the command line's ``write``) copies it from disk into the output in bounded
memory, whatever its size: a label file is checked to be UTF-8 in one pass over
it, piece by piece, which also computes the CRC-32 the zip records, and the
kernel then copies it. :meth:`MetadataWriter.populate` returns the model as
``bytes``, and so holds the files too.

Interface and output are tflite-support 0.4.4's. The differences are on purpose:

* the caller's lists and metadata objects are never modified (tflite-support
  filled in tensor names and appended to label lists in place);
* ``tensor_name`` reordering pairs each description with its own name (with
  some names missing tflite-support paired them by position, wrongly);
* the model may be ``bytes``, ``bytearray``, ``memoryview`` or a path;
* populating goes through :func:`tflite_metadata.model.populate.populate_buffer`:
  no temporary files, the model bytes are copied, not re-packed.
"""

from __future__ import annotations

import abc
import codecs
import collections
import contextlib
import copy
import math
import numbers
import os
from collections.abc import Iterable, Sequence
from typing import IO, Any, Optional, Union

from ..errors import AssociatedFileError, MetadataValidationError
from ..fileio import InputFile, PathLike, read_file, same_content
from ..format import codec
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.flatc_module import api as _fb
from ..format.json_format import to_json
from ..model.populate import FileSource, populate_buffer, populate_to
from ..model.reader import ModelView, model_bytes
from .writer_utils import get_input_tensor_names, get_output_tensor_names

#: In-memory file content: any bytes-like object.
FileContent = Union[bytes, bytearray, memoryview]

#: The range of a UINT8 tensor: the stats tflite-support writes for one.
UINT8_MIN = 0
UINT8_MAX = 255

#: The largest value of the metadata schema's uint32 fields.
UINT32_MAX = 2**32 - 1


def in_uint32_range(value: int) -> bool:
    """Whether ``value`` fits a uint32 field of the metadata (sample rate, channels …)."""
    return 0 <= value <= UINT32_MAX


# -- helpers --------------------------------------------------------------------


def content_bytes(content: Any, what: str) -> bytes:
    """``content`` as bytes, or a validation error naming ``what``."""
    if isinstance(content, str):
        raise MetadataValidationError(
            f"{what}: content must be bytes, found str; encode it first "
            "(for example content.encode('utf-8'))"
        )
    try:
        return bytes(memoryview(content))
    except TypeError:
        raise MetadataValidationError(
            f"{what}: content must be bytes, bytearray or memoryview, "
            f"found {type(content).__name__}"
        ) from None


def check_path(file_path: Any, what: str) -> None:
    if not isinstance(file_path, (str, os.PathLike)):
        raise MetadataValidationError(
            f"{what}: file_path must be a str or os.PathLike, found {type(file_path).__name__}"
        )


def plain_file_name(name: Any, what: str) -> str:
    """``name``, checked to name a file without leaving the folder it is written in.

    The one check of the names files are packed under that a caller chooses
    (MediaPipe's ``exported_filename``, the ``name`` of in-memory files in a spec).

    Raises:
        MetadataValidationError: a name that is not a ``str``, that holds a path
            separator or a NUL, or that is ``.`` or ``..``.
    """
    if not isinstance(name, str):
        raise MetadataValidationError(
            f"{what} should be a file name (str), but got {type(name).__name__} ({name!r})."
        )
    if name in (".", "..") or any(char in name for char in ("/", "\\", "\0")):
        raise MetadataValidationError(
            f"{what} {name!r} is not a plain file name: the file is packed under this name, "
            "which may not hold a folder, '..', an absolute path or a NUL. Give a name such "
            "as 'labels_en.txt'."
        )
    return name


def file_basename(file_path: PathLike) -> str:
    return os.path.basename(os.fspath(file_path))


def read_path(file_path: PathLike) -> bytes:
    """Read a file named by the caller; missing files raise ``MissingFileError``."""
    return read_file(file_path, error=AssociatedFileError)


def _line_of(data: bytes, position: int) -> int:
    """1-based line number of byte ``position`` (lines end at ``\\n``)."""
    return data.count(b"\n", 0, position) + 1


def decode_utf8(data: bytes, kind: str, where: str) -> str:
    """Decode ``data`` as UTF-8, naming the file and line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise _not_utf8(kind, where, line, column, data[exc.start]) from None


def _not_utf8(kind: str, where: str, line: int, column: int, byte: int) -> AssociatedFileError:
    return AssociatedFileError(
        f"{kind} '{where}' is not valid UTF-8: line {line}, column {column} "
        f"has byte 0x{byte:02x}. Save the file as UTF-8."
    )


def check_utf8_file(file: InputFile, kind: str, where: str) -> None:
    """Check that a file is UTF-8, reading it piece by piece: memory stays bounded.

    The error is :func:`decode_utf8`'s, naming the same line, column and byte.
    The pass also computes the file's CRC-32 (see :meth:`InputFile.crc32`).

    Raises:
        AssociatedFileError: the file is not UTF-8, or cannot be read.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    start = 0  # where the current piece starts in the file
    lines = 1  # the line the current piece starts on
    line_start = 0  # where that line starts in the file
    for piece in file.chunks():
        data = piece.tobytes()
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the last piece
        try:
            if pending or not data.isascii():
                decoder.decode(data)
        except UnicodeDecodeError as exc:
            # exc.object is the pending bytes, then this piece; they hold no newline.
            bad = start - pending + exc.start
            before = exc.object[: exc.start]
            newline = before.rfind(b"\n")
            column = bad - (start - pending + newline if newline >= 0 else line_start - 1)
            raise _not_utf8(
                kind, where, lines + before.count(b"\n"), column, exc.object[exc.start]
            ) from None
        newline = data.rfind(b"\n")
        if newline >= 0:
            lines += data.count(b"\n")
            line_start = start + newline + 1
        start += len(data)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # the file ends inside a character
        bad = start - len(exc.object) + exc.start
        raise _not_utf8(kind, where, lines, bad - line_start + 1, exc.object[exc.start]) from None


def is_finite_real(value: Any) -> bool:
    """Whether ``value`` is a real number (not a bool) that a float holds, finite."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (OverflowError, ValueError, TypeError):  # an int beyond 1.8e308, odd Real types
        return False


def enum_value(enum: str, value: Any, argument: str) -> int:
    """Check that ``value`` is a value of the schema enum ``enum``."""
    decl = schema.ENUMS[enum]
    if (
        isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and decl.name_of(int(value)) is not None
    ):
        return int(value)
    choices = ", ".join(f"{name} ({number})" for name, number in decl.values)
    raise MetadataValidationError(
        f"{argument} should be one of {enum}'s values: {choices}; but got {value!r}."
    )


# -- general ----------------------------------------------------------------------


class GeneralMd:
    """A container for common metadata information of a model.

    Attributes:
        name: name of the model.
        version: version of the model.
        description: description of what the model does.
        author: author of the model.
        licenses: licenses of the model.
    """

    def __init__(
        self,
        name: Optional[str] = None,
        version: Optional[str] = None,
        description: Optional[str] = None,
        author: Optional[str] = None,
        licenses: Optional[str] = None,
    ) -> None:
        self.name = name
        self.version = version
        self.description = description
        self.author = author
        self.licenses = licenses

    def create_metadata(self) -> Any:
        """Create the model metadata from the general model information.

        Returns:
            A ``ModelMetadataT`` holding name, version, description, author and license.
        """
        model_metadata = _fb.ModelMetadataT()
        model_metadata.name = self.name
        model_metadata.version = self.version
        model_metadata.description = self.description
        model_metadata.author = self.author
        model_metadata.license = self.licenses
        return model_metadata


# -- associated files -------------------------------------------------------------


class AssociatedFileMd:
    """A container for common associated file metadata information.

    The file is either on disk at ``file_path`` (read when the model is
    populated), or given in memory as ``content``, in which case ``file_path``
    only names it.

    Attributes:
        file_path: path to the associated file, or its name when ``content`` is given.
        description: description of the associated file.
        file_type: the ``AssociatedFileType`` of the file.
        locale: locale of the associated file (e.g. ``"en"``).
        content: the file's bytes when given in memory, else None.

    Args:
        file_path: as the attribute.
        description: as the attribute.
        file_type: as the attribute.
        locale: as the attribute.
        content: (keyword only) the file's bytes, instead of reading ``file_path``.

    Raises:
        MetadataValidationError: ``file_path`` is not a path, or ``content`` is
            given but is not bytes-like or ``file_path`` names no file.
    """

    def __init__(
        self,
        file_path: PathLike,
        description: Optional[str] = None,
        file_type: Optional[int] = _fb.AssociatedFileType.UNKNOWN,
        locale: Optional[str] = None,
        *,
        content: Optional[FileContent] = None,
    ) -> None:
        check_path(file_path, type(self).__name__)
        self.file_path = file_path
        self.description = description
        self.file_type = file_type
        self.locale = locale
        self.content: Optional[bytes] = None
        if content is not None:
            self.content = content_bytes(content, f"{type(self).__name__} '{os.fspath(file_path)}'")
            if not file_basename(file_path):
                raise MetadataValidationError(
                    f"{type(self).__name__}: a file given as content needs a file name, "
                    f"but file_path is {os.fspath(file_path)!r}"
                )

    @property
    def name(self) -> str:
        """The name the file has in the model: the basename of ``file_path``."""
        return file_basename(self.file_path)

    def read(self) -> bytes:
        """The bytes to pack into the model.

        Returns:
            ``content`` when given, else the contents of ``file_path``.

        Raises:
            MissingFileError: the file does not exist (also a ``FileNotFoundError``).
            AssociatedFileError: the file cannot be read, or its content is invalid.
        """
        if self.content is not None:
            return self.content
        return read_path(self.file_path)

    def open_source(self) -> FileSource:
        """What to pack: ``content`` when given, else the file at ``file_path``, opened.

        A file is opened once, refused at once if it is not a regular file, and
        not read: populate copies it into the output (see :class:`InputFile`).
        The caller closes it.

        Raises:
            MissingFileError: the file does not exist (also a ``FileNotFoundError``).
            AssociatedFileError: it is not a regular file (a folder, a device, a
                FIFO …) or cannot be opened.
        """
        if self.content is not None:
            return self.content
        return InputFile.open(self.file_path, AssociatedFileError)

    def create_metadata(self) -> Any:
        """Create the associated file metadata.

        Returns:
            An ``AssociatedFileT`` named after the basename of ``file_path``.
        """
        file_metadata = _fb.AssociatedFileT()
        file_metadata.name = self.name
        file_metadata.description = self.description
        file_metadata.type = self.file_type
        file_metadata.locale = self.locale
        return file_metadata


def _labels_text(labels: Iterable[str], what: str) -> bytes:
    """Label file bytes: one label a line, each line ending in ``\\n``."""
    if isinstance(labels, (str, bytes)):
        raise MetadataValidationError(
            f"{what}: labels must be a list of strings, found a single {type(labels).__name__}"
        )
    lines = []
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            raise MetadataValidationError(
                f"{what}: label {index} must be a str, found {type(label).__name__} ({label!r})"
            )
        if "\n" in label or "\r" in label:
            raise MetadataValidationError(
                f"{what}: label {index} ({label!r}) contains a line break; a label file holds "
                "one label a line"
            )
        try:
            lines.append((label + "\n").encode("utf-8"))
        except UnicodeEncodeError as exc:  # a lone surrogate, from a bad decode upstream
            raise MetadataValidationError(
                f"{what}: label {index} ({label!r}) cannot be written as UTF-8: "
                f"{exc.reason} at character {exc.start}"
            ) from None
    return b"".join(lines)


class LabelFileMd(AssociatedFileMd):
    """A container for label file metadata information.

    The labels come from the file at ``file_path``, or from memory: a list of
    ``labels`` (written one a line, UTF-8, each line ending in a newline), or
    the raw ``content`` of a label file. In memory, ``file_path`` names the file
    in the model and defaults to ``"labels.txt"``.

    Label files must be UTF-8. In-memory labels are checked here; a file on
    disk is checked when it is read (see :meth:`read`).

    Args:
        file_path: path of the label file, or its name for in-memory labels.
        locale: locale of the label file (e.g. ``"en"``).
        labels: (keyword only) the labels, in class order.
        content: (keyword only) the bytes of a label file.

    Raises:
        MetadataValidationError: no source or two sources are given, a label is
            not a string or holds a line break.
        AssociatedFileError: ``content`` is not UTF-8 (the message names the line).

    Example::

        LabelFileMd("labels_en.txt", locale="en", labels=["speech", "music"])
    """

    _LABEL_FILE_DESCRIPTION = "Labels for categories that the model can recognize."
    _FILE_TYPE = _fb.AssociatedFileType.TENSOR_AXIS_LABELS
    #: The name of in-memory labels given without a ``file_path``.
    DEFAULT_NAME = "labels.txt"

    def __init__(
        self,
        file_path: Optional[PathLike] = None,
        locale: Optional[str] = None,
        *,
        labels: Optional[Iterable[str]] = None,
        content: Optional[FileContent] = None,
    ) -> None:
        if labels is not None and content is not None:
            raise MetadataValidationError("LabelFileMd: give labels or content, not both")
        in_memory = labels is not None or content is not None
        if file_path is None:
            if not in_memory:
                raise MetadataValidationError(
                    "LabelFileMd needs a label file: give file_path, labels or content"
                )
            file_path = self.DEFAULT_NAME
        if labels is not None:
            content = _labels_text(labels, f"LabelFileMd '{os.fspath(file_path)}'")
        super().__init__(
            file_path, self._LABEL_FILE_DESCRIPTION, self._FILE_TYPE, locale, content=content
        )
        if self.content is not None:
            decode_utf8(self.content, "Label file", os.fspath(self.file_path))

    def read(self) -> bytes:
        """The label file's bytes, checked to be UTF-8.

        Raises:
            MissingFileError: the file does not exist.
            AssociatedFileError: the file cannot be read or is not UTF-8 (the
                message names the file and the line).
        """
        data = super().read()
        decode_utf8(data, "Label file", os.fspath(self.file_path))
        return data

    def open_source(self) -> FileSource:
        """The label file to pack, checked to be UTF-8 (see :meth:`AssociatedFileMd.open_source`).

        A file on disk is checked in one pass over it, in bounded memory, which
        also computes its CRC-32; it is not held.

        Raises:
            MissingFileError: the file does not exist.
            AssociatedFileError: it is not a regular file, cannot be read or is
                not UTF-8 (the message names the file and the line).
        """
        source = super().open_source()
        if isinstance(source, InputFile):
            try:
                check_utf8_file(source, "Label file", os.fspath(self.file_path))
            except BaseException:
                source.close()
                raise
        return source

    def read_labels(self) -> list[str]:
        """The labels, one per line (a final newline does not start another label).

        Raises:
            As :meth:`read`.
        """
        text = self.read().decode("utf-8")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return lines


# -- tensors ----------------------------------------------------------------------

_CONTENT_PROPERTIES_CLASSES = {
    _fb.ContentProperties.FeatureProperties: "FeaturePropertiesT",
    _fb.ContentProperties.ImageProperties: "ImagePropertiesT",
    _fb.ContentProperties.BoundingBoxProperties: "BoundingBoxPropertiesT",
    _fb.ContentProperties.AudioProperties: "AudioPropertiesT",
}


class ValueRangeMd:
    """A container for a value range: the ``range`` of a tensor's content (as MediaPipe's).

    Attributes:
        min_value: the first dimension of the content (inclusive).
        max_value: the last dimension of the content (inclusive).
    """

    def __init__(self, min_value: int, max_value: int) -> None:
        self.min_value = min_value
        self.max_value = max_value

    def create_metadata(self) -> Any:
        """Create the value range.

        Returns:
            A ``ValueRangeT`` holding ``min`` and ``max``.
        """
        value_range = _fb.ValueRangeT()
        value_range.min = self.min_value
        value_range.max = self.max_value
        return value_range


class TensorGroupMd:
    """A container for a group of output tensors (``TensorGroup``, as MediaPipe's).

    Attributes:
        name: name of the group.
        tensor_names: the names of the grouped tensors' metadata (``TensorMetadata.name``).
    """

    def __init__(
        self, name: Optional[str] = None, tensor_names: Optional[list[str]] = None
    ) -> None:
        self.name = name
        self.tensor_names = tensor_names

    def create_metadata(self) -> Any:
        """Create the tensor group.

        Returns:
            A ``TensorGroupT``.
        """
        group = _fb.TensorGroupT()
        group.name = self.name
        group.tensorNames = None if self.tensor_names is None else list(self.tensor_names)
        return group


class CustomMetadataMd(abc.ABC):
    """A container for custom metadata (MediaPipe's abstract ``CustomMetadataMd``).

    Subclasses implement :meth:`create_metadata`, which returns a ``CustomMetadataT``
    named :attr:`name` whose ``data`` is their own FlatBuffer.

    Attributes:
        name: the custom metadata's name (the key its consumer finds it by).
    """

    def __init__(self, name: Optional[str] = None) -> None:
        self.name = name

    @abc.abstractmethod
    def create_metadata(self) -> Any:
        """Create the custom metadata (a ``CustomMetadataT``)."""

    def _custom_metadata(self, data: bytes) -> Any:
        """A ``CustomMetadataT`` named :attr:`name` holding ``data`` (for create_metadata)."""
        custom = _fb.CustomMetadataT()
        custom.name = self.name
        custom.data = data
        return custom


class TensorMd:
    """A container for common tensor metadata information.

    Attributes:
        name: name of the tensor metadata (shown to users).
        description: description of what the tensor is.
        min_values: per-channel minimum value of the tensor.
        max_values: per-channel maximum value of the tensor.
        content_type: the ``ContentProperties`` type of the tensor.
        associated_files: :class:`AssociatedFileMd` of the tensor.
        tensor_name: name of the corresponding tensor in the TFLite model; when
            set, it decides which model tensor this metadata describes, whatever
            the order of the list it is given in.
        content_range_md: the :class:`ValueRangeMd` of the content, if any
            (MediaPipe's addition: the dimensions that hold the content).
    """

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        min_values: Optional[list[float]] = None,
        max_values: Optional[list[float]] = None,
        content_type: int = _fb.ContentProperties.FeatureProperties,
        associated_files: Optional[list[AssociatedFileMd]] = None,
        tensor_name: Optional[str] = None,
        content_range_md: Optional[ValueRangeMd] = None,
    ) -> None:
        self.name = name
        self.description = description
        self.min_values = min_values
        self.max_values = max_values
        self.content_type = content_type
        self.associated_files = associated_files
        self.tensor_name = tensor_name
        self.content_range_md = content_range_md

    def create_metadata(self) -> Any:
        """Create the tensor metadata.

        Returns:
            A ``TensorMetadataT`` with name, description, stats (always present,
            possibly empty), content and associated files.
        """
        tensor_metadata = _fb.TensorMetadataT()
        tensor_metadata.name = self.name
        tensor_metadata.description = self.description

        stats = _fb.StatsT()
        stats.max = None if self.max_values is None else list(self.max_values)
        stats.min = None if self.min_values is None else list(self.min_values)
        tensor_metadata.stats = stats

        content = _fb.ContentT()
        class_name = _CONTENT_PROPERTIES_CLASSES.get(self.content_type)
        if class_name is not None:
            content.contentProperties = getattr(_fb, class_name)()
        content.contentPropertiesType = self.content_type
        # getattr: subclasses made before MediaPipe's addition may not set it.
        content_range_md = getattr(self, "content_range_md", None)
        if content_range_md:
            content.range = content_range_md.create_metadata()
        tensor_metadata.content = content

        if self.associated_files:
            tensor_metadata.associatedFiles = [f.create_metadata() for f in self.associated_files]
        return tensor_metadata


#: A model: its bytes (any buffer-protocol object) or the path of its file.
ModelSource = Union[BufferLike, PathLike]
#: An associated file to pack: a path, or an :class:`AssociatedFileMd` (possibly in memory).
AssociatedFileSource = Union[PathLike, AssociatedFileMd]


def require_attributes(
    items: list[Any], attributes: tuple[str, ...], expected: str, argument: str
) -> None:
    """Check that every item has ``attributes`` (duck typing, as tflite-support's objects pass)."""
    for index, item in enumerate(items):
        if not all(hasattr(item, attribute) for attribute in attributes):
            raise MetadataValidationError(
                f"{argument}[{index}] should be a {expected}, but got {type(item).__name__}."
            )


def _fill_default_tensor_names(
    tensor_metadata: list[Any], names_from_model: list[str]
) -> list[Any]:
    """Copies of ``tensor_metadata`` whose empty names are the model's tensor names."""
    filled = []
    for index, metadata in enumerate(tensor_metadata):
        item = copy.copy(metadata)
        if index < len(names_from_model):
            item.name = item.name or names_from_model[index]
        filled.append(item)
    return filled


def order_tensor_md(tensor_md: list[TensorMd], names_from_model: list[str]) -> list[TensorMd]:
    """``tensor_md`` in the model's tensor order, when its items carry ``tensor_name``.

    Raises:
        MetadataValidationError: the names given do not match the model's
            (tflite-support's message), or only some items have a name.
    """
    names_from_arguments = [md.tensor_name for md in tensor_md if md.tensor_name is not None]
    if not names_from_arguments:
        return list(tensor_md)
    if collections.Counter(names_from_arguments) != collections.Counter(names_from_model):
        raise MetadataValidationError(
            f"The tensor names from arguments ({names_from_arguments}) do not match the tensor "
            f"names read from the model ({names_from_model})."
        )
    if len(names_from_arguments) != len(tensor_md):
        unnamed = [i for i, md in enumerate(tensor_md) if md.tensor_name is None]
        raise MetadataValidationError(
            f"Either every tensor metadata or none should have a tensor_name, but the items "
            f"at {unnamed} have none while the others name every tensor of the model "
            f"({names_from_model})."
        )
    # A queue per name keeps the order of repeated names (the model may repeat one).
    by_name: dict[str, collections.deque[TensorMd]] = collections.defaultdict(collections.deque)
    for md in tensor_md:
        by_name[md.tensor_name].append(md)  # type: ignore[index]
    return [by_name[name].popleft() for name in names_from_model]


def _comparable(source: FileSource) -> bytes | InputFile:
    return source if isinstance(source, (bytes, InputFile)) else bytes(source)


def _associated_file_name(source: AssociatedFileSource) -> str:
    if isinstance(source, AssociatedFileMd):
        return source.name
    return os.path.basename(os.fspath(source))


class MetadataWriter:
    """Writes the metadata and associated files into a TFLite model.

    Args:
        model_buffer: the model: ``bytes``, ``bytearray``, ``memoryview`` or a path.
        metadata_buffer: the metadata FlatBuffer (``M001``).
        associated_files: the files to pack: paths, or :class:`AssociatedFileMd`
            (which may hold their content in memory).

    Raises:
        MetadataValidationError: ``model_buffer`` is empty or not a buffer or path,
            or ``associated_files`` holds something else than paths and ``AssociatedFileMd``.
        MissingFileError: ``model_buffer`` is a path that does not exist.
    """

    #: The task whose consumer rules :meth:`populate` checks the result against
    #: (a name of :data:`tflite_metadata.tasks.TASKS`); None: the task the
    #: metadata describes, if any, else only the rules common to every task.
    task: Optional[str] = None

    def __init__(
        self,
        model_buffer: ModelSource,
        metadata_buffer: Optional[BufferLike] = None,
        associated_files: Optional[Sequence[AssociatedFileSource]] = None,
    ) -> None:
        self._model_buffer = model_bytes(model_buffer)
        self._metadata_buffer = metadata_buffer
        files = list(associated_files) if associated_files else []
        for source in files:
            if not isinstance(source, (str, os.PathLike, AssociatedFileMd)):
                raise MetadataValidationError(
                    "associated_files should hold file paths or AssociatedFileMd, "
                    f"but got {type(source).__name__} ({source!r})."
                )
        self._associated_files: list[AssociatedFileSource] = files
        self._populated_model_buffer: Optional[bytes] = None

    @classmethod
    def create_from_metadata_info(
        cls,
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[list[TensorMd]] = None,
        output_md: Optional[list[TensorMd]] = None,
        associated_files: Optional[Sequence[AssociatedFileSource]] = None,
    ) -> MetadataWriter:
        """Create a writer from the typed descriptions of :mod:`tflite_metadata.tasks`.

        Descriptions that set ``tensor_name`` are put in the model's tensor order.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: empty).
            input_md: the input tensors' descriptions (default: none).
            output_md: the output tensors' descriptions (default: none).
            associated_files: the files to pack (paths or :class:`AssociatedFileMd`).

        Returns:
            A writer of this class.

        Raises:
            MetadataValidationError: the ``tensor_name`` values do not match the
                model's tensor names, or a description holds an invalid value.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        if general_md is None:
            general_md = GeneralMd()
        require_attributes([general_md], ("create_metadata",), "GeneralMd", "general_md")
        require_attributes(
            list(input_md or []), ("create_metadata", "tensor_name"), "TensorMd", "input_md"
        )
        require_attributes(
            list(output_md or []), ("create_metadata", "tensor_name"), "TensorMd", "output_md"
        )
        ordered_input = order_tensor_md(list(input_md or []), get_input_tensor_names(model))
        ordered_output = order_tensor_md(list(output_md or []), get_output_tensor_names(model))
        return cls.create_from_metadata(
            model,
            general_md.create_metadata(),
            [md.create_metadata() for md in ordered_input],
            [md.create_metadata() for md in ordered_output],
            associated_files,
        )

    @classmethod
    def create_from_metadata(
        cls,
        model_buffer: ModelSource,
        model_metadata: Optional[Any] = None,
        input_metadata: Optional[list[Any]] = None,
        output_metadata: Optional[list[Any]] = None,
        associated_files: Optional[Sequence[AssociatedFileSource]] = None,
        input_process_units: Optional[list[Any]] = None,
        output_process_units: Optional[list[Any]] = None,
        *,
        output_tensor_groups: Optional[list[Any]] = None,
        custom_metadata: Optional[list[Any]] = None,
    ) -> MetadataWriter:
        """Create a writer from object-API values (``ModelMetadataT`` …).

        The subgraph metadata is made of the given tensor metadata and process
        units; a missing or empty tensor list becomes one empty
        ``TensorMetadataT`` per model tensor, and empty tensor names are filled
        with the model's. The objects passed in are not modified.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            model_metadata: a ``ModelMetadataT``; its ``subgraphMetadata`` is replaced.
            input_metadata: ``TensorMetadataT`` of the inputs.
            output_metadata: ``TensorMetadataT`` of the outputs.
            associated_files: the files to pack (paths or :class:`AssociatedFileMd`).
            input_process_units: ``ProcessUnitT`` of the subgraph's inputs.
            output_process_units: ``ProcessUnitT`` of the subgraph's outputs.
            output_tensor_groups: (keyword only) ``TensorGroupT`` of the outputs.
            custom_metadata: (keyword only) ``CustomMetadataT`` of the subgraph.

        Returns:
            A writer of this class.

        Raises:
            MetadataValidationError: a value cannot be encoded.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        input_names = get_input_tensor_names(model)
        output_names = get_output_tensor_names(model)
        # Empty tensor metadata per tensor, so that populate's count check passes.
        if not input_metadata:
            input_metadata = [_fb.TensorMetadataT() for _ in input_names]
        if not output_metadata:
            output_metadata = [_fb.TensorMetadataT() for _ in output_names]
        require_attributes(
            list(input_metadata), ("name", "Pack"), "TensorMetadataT", "input_metadata"
        )
        require_attributes(
            list(output_metadata), ("name", "Pack"), "TensorMetadataT", "output_metadata"
        )
        if model_metadata is not None:
            require_attributes([model_metadata], ("Pack",), "ModelMetadataT", "model_metadata")

        subgraph_metadata = _fb.SubGraphMetadataT()
        subgraph_metadata.inputTensorMetadata = _fill_default_tensor_names(
            list(input_metadata), input_names
        )
        subgraph_metadata.outputTensorMetadata = _fill_default_tensor_names(
            list(output_metadata), output_names
        )
        subgraph_metadata.inputProcessUnits = input_process_units
        subgraph_metadata.outputProcessUnits = output_process_units
        subgraph_metadata.outputTensorGroups = output_tensor_groups
        subgraph_metadata.customMetadata = custom_metadata

        model_metadata = (
            _fb.ModelMetadataT() if model_metadata is None else copy.copy(model_metadata)
        )
        model_metadata.subgraphMetadata = [subgraph_metadata]
        return cls(model, codec.encode(model_metadata), associated_files)

    def populate(self) -> bytes:
        """Populate the metadata and associated files into (a copy of) the model.

        The result is computed once; later calls return the same buffer. As
        tflite-support, this writes metadata that the Task Library or MediaPipe
        would refuse (say, 3 labels for 7 classes), but it then emits one
        :class:`~tflite_metadata.errors.ConsumerCompatibilityWarning` per problem
        (see :func:`tflite_metadata.check.check`).

        Returns:
            The model with its metadata and associated files.

        Raises:
            MetadataValidationError: there is no metadata, it does not fit the
                model, or it records a file that is not given.
            MissingFileError: an associated file does not exist.
            AssociatedFileError: an associated file cannot be read or is invalid,
                or two different files have the same name.
            ModelFormatError: the model cannot be read.
        """
        if self._populated_model_buffer is not None:
            return self._populated_model_buffer
        with contextlib.ExitStack() as files:
            populated = populate_buffer(self._model_buffer, *self._metadata_and_files(files))
        self._populated_model_buffer = populated
        # tflite-support writes models its consumers then refuse; keep writing
        # them, but say why (ConsumerCompatibilityWarning, at the caller's line).
        # The check runs over every task, a layer above: imported when used.
        from ..check import check, warn_for_problems

        warn_for_problems(check(populated, task=self.task))
        return populated

    def populate_to(self, stream: IO[bytes], source: IO[bytes] | None = None) -> int:
        """Stream the populated model to ``stream`` instead of returning it.

        For large models: memory stays bounded whatever the model's size when the
        writer's model is a mapped file (see :func:`tflite_metadata.fileio.open_mapped`),
        and ``source``, that file, lets the kernel copy the model's bytes. Associated
        files given by path are copied from disk likewise, whatever their size
        (label files are checked to be UTF-8 piece by piece first). Unlike
        :meth:`populate`, this does not warn about consumer problems: run
        :func:`tflite_metadata.check.check` on the result.

        Returns:
            The number of bytes written.

        Raises:
            As :meth:`populate`; ``OSError`` when writing fails.
        """
        with contextlib.ExitStack() as files:
            return populate_to(
                stream, self._model_buffer, *self._metadata_and_files(files), source=source
            )

    def _metadata_and_files(
        self, stack: contextlib.ExitStack
    ) -> tuple[BufferLike, dict[str, FileSource]]:
        if self._metadata_buffer is None:
            raise MetadataValidationError("The metadata to be populated is empty.")
        return self._metadata_buffer, self._open_associated_files(stack)

    def _read_associated_files(self) -> dict[str, bytes]:
        """Every associated file, read whole (see :meth:`_open_associated_files`)."""
        with contextlib.ExitStack() as stack:
            return {
                name: source.read() if isinstance(source, InputFile) else bytes(source)
                for name, source in self._open_associated_files(stack).items()
            }

    def _open_associated_files(self, stack: contextlib.ExitStack) -> dict[str, FileSource]:
        """Every associated file by name: its content, or its file, opened and checked.

        Files are closed when ``stack`` is.
        """
        files: dict[str, FileSource] = {}
        origins: dict[str, str] = {}
        for source in self._associated_files:
            if isinstance(source, AssociatedFileMd):
                data = source.open_source()
                origin = os.fspath(source.file_path)
            else:
                data = AssociatedFileMd(source).open_source()
                origin = os.fspath(source)
            if isinstance(data, InputFile):
                stack.callback(data.close)
            name = _associated_file_name(source)
            if name in files and not same_content(_comparable(files[name]), _comparable(data)):
                raise AssociatedFileError(
                    f"File, '{name}', is given twice with different contents (from "
                    f"'{origins[name]}' and '{origin}'); associated file names must be unique."
                )
            files[name] = data
            origins[name] = origin
        return files

    def get_metadata_json(self) -> str:
        """The JSON of the metadata buffer, as it is before populating.

        Populating adds fields (``min_parser_version``); see
        :meth:`get_populated_metadata_json`.

        Returns:
            flatc's JSON text of the metadata, identical to tflite-support's.

        Raises:
            MetadataValidationError: the writer has no metadata.
            MetadataFormatError: the metadata buffer is malformed.
        """
        if self._metadata_buffer is None:
            raise MetadataValidationError("The writer has no metadata buffer to convert to JSON.")
        return to_json(self._metadata_buffer)

    def get_populated_metadata_json(self) -> str:
        """The JSON of the metadata as populated into the model.

        Returns:
            flatc's JSON text of the populated model's metadata.

        Raises:
            As :meth:`populate`.
        """
        metadata = ModelView(self.populate()).metadata_buffer()
        if metadata is None:  # pragma: no cover - populate always writes metadata
            raise MetadataValidationError("The populated model has no metadata.")
        return to_json(metadata)


class MetadataWriterBase:
    """The base of MediaPipe's task writers: a builder, ready to populate.

    MediaPipe's ``metadata_writer.MetadataWriterBase``: a task writer
    (``image_classifier.MetadataWriter`` …) fills a builder
    (:class:`tflite_metadata.tasks.builder.MetadataWriter`) and wraps it.

    Attributes:
        writer: the builder holding the task's descriptions.
    """

    #: The custom metadata names MediaPipe's task writer decodes in the JSON
    #: ``populate()`` returns (the detector's, the segmenter's), with their schemas
    #: declared in :mod:`tflite_metadata.format.custom_metadata`; None: the builder's JSON.
    CUSTOM_METADATA_NAMES: Optional[tuple[str, ...]] = None

    def __init__(self, writer: Any) -> None:
        self.writer = writer

    def populate(self) -> tuple[bytes, str]:
        """``(model, metadata_json)``: the builder's ``populate()``.

        With :attr:`CUSTOM_METADATA_NAMES`, the JSON is MediaPipe's
        ``convert_to_json(..., custom_metadata_schema)``: ``json.dumps(..., indent=2)``.
        """
        populated, metadata_json = self.writer.populate()
        if self.CUSTOM_METADATA_NAMES is not None:
            from ..format.custom_metadata import CUSTOM_METADATA_SCHEMAS
            from ..model.display import custom_metadata_json

            metadata = ModelView(populated).metadata_buffer()
            if metadata is None:  # pragma: no cover - populate always writes metadata
                raise MetadataValidationError("The populated model has no metadata.")
            schemas = {name: CUSTOM_METADATA_SCHEMAS[name] for name in self.CUSTOM_METADATA_NAMES}
            metadata_json = custom_metadata_json(metadata, schemas)
        return populated, metadata_json
