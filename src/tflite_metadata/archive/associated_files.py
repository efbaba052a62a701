"""Associated files: the zip archive appended after a model's bytes.

A TFLite model carries its associated files (label files, score calibration
files…) as a zip archive written after the FlatBuffer. tflite-support 0.4.4
appends it with Python's :mod:`zipfile` in append mode over the model file, so
every offset in the archive (local headers, central directory) is an absolute
offset in the model file, and every entry is stored uncompressed. The
consumers (Task Library, MediaPipe) open the zip over the whole model buffer
with minizip and serve the stored bytes in place, which is why they refuse
compressed entries.

This module reads and writes that archive itself, over ``bytes``,
``bytearray``, ``memoryview`` or ``mmap`` without copying the model:

* :func:`find_zip` locates the end of central directory record in the last
  65,557 bytes, follows Zip64 records, parses the central directory and every
  local header, and returns a :class:`ZipTail` (or None when the model carries
  no zip). Every offset and length is checked before use, declared counts and
  sizes are bounded (:class:`ZipLimits`) before anything is allocated, and
  entries may not overlap. Archives whose offsets are relative to their own
  start (a zip made separately and appended) are read too.
* :meth:`ZipTail.read` returns one file's bytes after checking the size limits,
  the compression ratio (deflated entries are accepted on read, with a bound
  against zip bombs) and the CRC; :meth:`ZipTail.content_view` serves a stored
  entry, CRC-checked, as a view of the buffer, without a copy.
* :func:`check_extract_name`, :func:`safe_member_path` and :func:`extract_all`
  keep extraction inside one folder, and extract files only (an entry's
  :attr:`ZipEntry.kind` tells symbolic links, folders and special files).
* :func:`write_zip` writes a deterministic stored archive with absolute offsets,
  laid out as a :class:`ZipLayout` says: the associated files' by default, or
  MediaPipe's ``.task`` bundles' (:mod:`tflite_metadata.archive.bundle`).
* :func:`salvage_zip_start` finds where a corrupt archive begins, so that
  populate can replace it.

Every failure is an :class:`~tflite_metadata.errors.AssociatedFileError` (or an
:class:`~tflite_metadata.errors.OutputWriteError` when the disk refuses a write)
whose message says what was expected, what was found and at which offset; one
about the archive itself is a :class:`ZipFormatError`, whose :class:`ZipFault`
says what kind of problem it is (sizes, duplicates, overlaps, CRC …).

Why the reading is not done with :mod:`zipfile` (measured with CPython 3.9.18,
3.11.7 and 3.13.0, ``zipfile.ZipFile`` over a read-only, no-copy file object
on an ``mmap`` of the model):

* It allocates before it validates. ``ZipFile`` reads the whole central
  directory at the size the end record declares: on a 200 MiB model whose end
  record declares a 200 MiB directory, it allocates 200 MiB (tracemalloc peak)
  before failing on the first header, where :func:`find_zip` refuses with
  0.06 MiB. It ignores the declared entry count: a directory of 100,000
  entries behind an end record declaring 1 is parsed whole (48 MiB, 0.3-0.6 s),
  where :func:`find_zip` stops after the one declared entry.
* It opens, without complaint, archives that :func:`find_zip` refuses: duplicate
  names (both read), entries and end records on other disks (read), a local
  header naming another file, a saturated offset without a Zip64 field and a
  stored entry whose two sizes differ (each refused only when that entry is
  opened, the last as a CRC error), and overlapping entries (read on 3.9.18 and
  3.11.7; refused on open from 3.9.19, 3.11.8 and 3.12.2). A deflate stream
  longer than its declared size is read, cut at that size, on every version.
  Names are cut at their first NUL.
* Its failures are not all ``BadZipFile`` (``UnicodeDecodeError`` for a bad
  UTF-8 name, ``NotImplementedError`` for a high "version needed",
  ``RuntimeError`` for encrypted entries, ``OSError`` from seeks), vary
  between versions, and name neither the entry nor the offset.

Keeping the guarantees on top of ``zipfile`` would therefore keep all of the
code below (end records, a walk of the central directory before ``zipfile``
reads it, every local header, overlaps, bounded inflation) and add a second,
redundant parse. On a model with 10,000 entries, one of them 200 MB stored, the
directory costs about the same either way (:func:`find_zip`, which also checks
every local header, 50-105 ms and 3.7-4.2 MiB peak; ``ZipFile`` alone 32-40 ms and
5.4-5.6 MiB, and 50-95 ms once the local headers and overlaps are checked), and
reading the 200 MB entry is one copy in both (120-180 ms, 204 MiB peak).
"""

from __future__ import annotations

import contextlib
import enum
import io
import mmap
import os
import re
import stat
import struct
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple, Protocol, Union

from ..errors import AssociatedFileError, MetadataError, OutputWriteError
from ..fileio import PathLike, atomic_output, copy_range, crc32_range

__all__ = [
    "ASSOCIATED_FILES_LAYOUT",
    "DEFAULT_LIMITS",
    "EOCD_SEARCH_SIZE",
    "ExtractRefusedError",
    "FileContent",
    "FilesToWrite",
    "ZipEntry",
    "ZipFault",
    "ZipFormatError",
    "ZipLayout",
    "ZipLimits",
    "ZipSource",
    "ZipTail",
    "build_zip",
    "check_extract_name",
    "destination_problem",
    "extract_all",
    "extract_refusals",
    "find_zip",
    "name_problem",
    "safe_member_path",
    "salvage_zip_start",
    "write_zip",
]

#: Anything that exposes its bytes through the buffer protocol: bytes,
#: bytearray, memoryview, mmap.
ZipSource = Union[bytes, bytearray, memoryview, mmap.mmap]
#: The content of one associated file.
FileContent = Union[bytes, bytearray, memoryview]
#: Associated files to write: name to content, in order, or ``(name, content)`` pairs.
FilesToWrite = Union[Mapping[str, FileContent], Iterable[tuple[str, FileContent]]]

# -- the format (PKWARE APPNOTE.TXT 6.3) ----------------------------------------------------

_LOCAL_SIGNATURE = 0x04034B50  # b"PK\x03\x04"
_CENTRAL_SIGNATURE = 0x02014B50  # b"PK\x01\x02"
_END_SIGNATURE = 0x06054B50  # b"PK\x05\x06"
_ZIP64_END_SIGNATURE = 0x06064B50  # b"PK\x06\x06"
_ZIP64_LOCATOR_SIGNATURE = 0x07064B50  # b"PK\x06\x07"
_END_SIGNATURE_BYTES = struct.pack("<I", _END_SIGNATURE)

# signature, version needed, flags, method, time, date, crc-32, compressed size,
# uncompressed size, name length, extra length
_LOCAL = struct.Struct("<I5H3I2H")
# signature, version made by, version needed, flags, method, time, date, crc-32,
# compressed size, uncompressed size, name length, extra length, comment length,
# disk number start, internal attributes, external attributes, local header offset
_CENTRAL = struct.Struct("<I6H3I5H2I")
# signature, this disk, disk of the central directory, entries on this disk,
# entries in total, central directory size, central directory offset, comment length
_END = struct.Struct("<I4H2IH")
# signature, disk holding the Zip64 end record, its offset, number of disks
_ZIP64_LOCATOR = struct.Struct("<IIQI")
# signature, size of the rest of the record, version made by, version needed,
# this disk, disk of the central directory, entries on this disk, entries in total,
# central directory size, central directory offset
_ZIP64_END = struct.Struct("<IQ2H2I4Q")
_EXTRA_HEADER = struct.Struct("<2H")


class _CentralHeader(NamedTuple):
    signature: int
    version_made_by: int
    version_needed: int
    flags: int
    method: int
    time: int
    date: int
    crc32: int
    compressed_size: int
    size: int
    name_size: int
    extra_size: int
    comment_size: int
    disk: int
    internal_attributes: int
    external_attributes: int
    header_offset: int


_U32 = struct.Struct("<I")

_ZIP64_EXTRA_ID = 0x0001
_FLAG_ENCRYPTED = 0x0001
#: The CRC-32 and sizes follow the data, in a data descriptor; the local header holds zeros.
_FLAG_DATA_DESCRIPTOR = 0x0008
_FLAG_UTF8 = 0x0800
_MAX_U16 = 0xFFFF
_MAX_U32 = 0xFFFFFFFF

#: The end of central directory record may be followed by a comment of up to
#: 65,535 bytes, so it starts within the last 22 + 65,535 bytes.
EOCD_SEARCH_SIZE = _END.size + _MAX_U16

STORED = 0
DEFLATED = 8
_METHOD_NAMES = {
    0: "stored",
    8: "deflated",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstandard",
    95: "xz",
    99: "AES-encrypted",
}

# What write_zip records: version 2.0 (stored entries), 4.5 when Zip64 fields are
# needed; "made by" Unix (3) so that unzip gives the files ordinary permissions.
_VERSION = 20
_VERSION_ZIP64 = 45
_SYSTEM_UNIX = 3
_MADE_BY_UNIX = _SYSTEM_UNIX << 8
_DOS_DIRECTORY = 0x10
_FILE_ATTRIBUTES = (stat.S_IFREG | 0o644) << 16


def _method_name(method: int) -> str:
    return _METHOD_NAMES.get(method, "unknown")


class ZipFault(str, enum.Enum):
    """What kind of problem a :class:`ZipFormatError` is, for rules that tell them apart.

    MediaPipe's ``.task`` reader reacts differently to each (``check`` on a bundle
    reports them under different codes): it crashes on sizes that lie, keeps the
    last of duplicate names, and reads overlapping, encrypted or corrupt entries
    without a word.
    """

    #: Records that cannot be parsed: truncated, bad signatures, offsets outside.
    MALFORMED = "malformed"
    #: An entry's declared sizes do not fit its data (past the archive, or
    #: stored sizes that differ, Zip64 or not).
    SIZE = "size"
    #: Two entries of one name.
    DUPLICATE = "duplicate"
    #: Two entries sharing bytes.
    OVERLAP = "overlap"
    #: An encrypted entry.
    ENCRYPTED = "encrypted"
    #: A compression method that cannot be read.
    METHOD = "method"
    #: Content whose CRC-32 differs from the recorded one.
    CRC = "crc"
    #: A local header whose CRC-32, sizes, method or flags differ from the
    #: central directory's (minizip, MediaPipe's reader, refuses the entry).
    HEADER = "header"
    #: Beyond :class:`ZipLimits` (counts, sizes, compression ratio).
    LIMIT = "limit"

    def __str__(self) -> str:
        return self.value


class ZipFormatError(AssociatedFileError):
    """A zip (of associated files, or a ``.task`` bundle) that cannot be trusted.

    Attributes:
        fault: what kind of problem it is (:class:`ZipFault`).
    """

    def __init__(self, message: str, fault: ZipFault = ZipFault.MALFORMED) -> None:
        super().__init__(message)
        self.fault = fault


def _fail(message: str, fault: ZipFault = ZipFault.MALFORMED) -> ZipFormatError:
    return ZipFormatError(message, fault)


# -- limits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipLimits:
    """Bounds that keep a hostile archive from costing unbounded memory or time.

    Attributes:
        max_entries: the most entries an archive may declare; checked before the
            central directory is read.
        max_file_size: the largest uncompressed size :meth:`ZipTail.read` returns.
        max_total_size: the largest sum of the uncompressed sizes of all entries
            (what extracting everything would write).
        max_ratio: the largest uncompressed/compressed size ratio of a compressed
            entry bigger than ``ratio_free_size``, and of all the compressed
            entries of an archive together once they exceed it; protects against
            zip bombs, including many small entries that are each under the limit.
        ratio_free_size: compressed entries up to this uncompressed size (in
            total) are not ratio-checked (a small, very repetitive file is harmless).
    """

    max_entries: int = 10_000
    max_file_size: int = 2 << 30
    max_total_size: int = 8 << 30
    max_ratio: int = 100
    ratio_free_size: int = 1 << 20


#: The limits used when none are given.
DEFAULT_LIMITS = ZipLimits()


# -- views over the caller's buffer ----------------------------------------------------------


class _ByteView:
    """A flat, unsigned-byte memoryview of a buffer, released on exit.

    Views are taken for the duration of one operation only: holding one longer
    would keep a caller's ``mmap`` from being closed.
    """

    __slots__ = ("_outer", "view")

    def __init__(self, data: object) -> None:
        try:
            self._outer = memoryview(data)  # type: ignore[arg-type]
        except TypeError as exc:
            raise _fail(
                "expected the model as bytes, bytearray, memoryview or mmap, "
                f"got {type(data).__name__}"
            ) from exc
        except ValueError as exc:  # a closed mmap
            raise _fail(f"cannot read the model buffer: {exc}") from exc
        try:
            self.view = self._outer.cast("B")
        except (TypeError, ValueError) as exc:
            self._outer.release()
            raise _fail(f"the model buffer must be contiguous bytes: {exc}") from exc

    def __enter__(self) -> memoryview:
        return self.view

    def __exit__(self, *exc_info: object) -> None:
        self.view.release()
        self._outer.release()


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipEntry:
    """One entry of the central directory, with its offsets resolved.

    Attributes:
        name: the decoded name (UTF-8 when flag bit 11 is set, else code page 437).
        index: position in the central directory (archive order).
        method: compression method (0 stored, 8 deflated, …).
        flags: general purpose bit flags.
        crc32: CRC-32 of the uncompressed content.
        compressed_size: bytes of (compressed) data in the file.
        size: uncompressed size.
        header_offset: absolute offset of the local file header in the model.
        data_offset: absolute offset of the entry's data in the model.
        made_by: the "version made by" field; its high byte is the system whose
            file attributes ``external_attributes`` holds (3: Unix).
        external_attributes: the external file attributes (on Unix, the file's
            ``st_mode`` in the high 16 bits).
    """

    name: str
    index: int
    method: int
    flags: int
    crc32: int
    compressed_size: int
    size: int
    header_offset: int
    data_offset: int
    made_by: int = _MADE_BY_UNIX | _VERSION
    external_attributes: int = 0

    @property
    def kind(self) -> str:
        """``"file"``, or what else the entry's attributes say it is.

        ``"symbolic link"``, ``"folder"`` or ``"special file"`` (a device, a FIFO,
        a socket), from the Unix mode of an entry made on Unix, or the MS-DOS
        folder attribute. Unzip tools recreate such entries as what they are;
        readers that serve entries by name (minizip, as the consumers use it)
        serve their bytes (a link's target path) as a file's.
        """
        if self.external_attributes & _DOS_DIRECTORY:
            return "folder"
        if self.made_by >> 8 == _SYSTEM_UNIX:
            mode = self.external_attributes >> 16
            file_type = stat.S_IFMT(mode)
            if file_type in (0, stat.S_IFREG):
                return "file"
            if file_type == stat.S_IFLNK:
                return "symbolic link"
            if file_type == stat.S_IFDIR:
                return "folder"
            return "special file"
        return "file"

    @property
    def method_name(self) -> str:
        """``"stored"``, ``"deflated"``, … (``"unknown"`` for other methods)."""
        return _method_name(self.method)

    @property
    def is_stored(self) -> bool:
        """Whether the entry is stored uncompressed, as the consumers require."""
        return self.method == STORED

    @property
    def data_end(self) -> int:
        """Absolute offset just after the entry's data."""
        return self.data_offset + self.compressed_size


class ZipTail:
    """The zip of associated files found at the end of a model.

    Made by :func:`find_zip`; holds a reference to the model buffer, not a copy,
    and no view of it between calls.

    Attributes:
        start: absolute offset where the archive begins (its lowest local header,
            or its central directory when it has no entry): where the model
            proper ends.
        end: absolute offset just after the end of central directory record and
            its comment. Bytes after it, if any, belong to no one.
        central_directory_offset: absolute offset of the central directory.
        base_offset: what the archive's own offsets are relative to: 0 when they
            are absolute (as tflite-support writes them), the archive's start
            when it was made separately and appended.
        zip64: whether the archive has Zip64 end records.
        comment: the archive comment.
        entries: the entries, in archive (central directory) order.
        limits: the limits :meth:`read` applies.
        member: what an entry is called in messages (``"associated file"``,
            ``"bundle entry"``).
    """

    __slots__ = (
        "_by_name",
        "_compressed_total",
        "_data",
        "_inflated_total",
        "base_offset",
        "central_directory_offset",
        "comment",
        "end",
        "entries",
        "limits",
        "member",
        "start",
        "zip64",
    )

    def __init__(
        self,
        data: ZipSource,
        entries: Iterable[ZipEntry],
        *,
        start: int,
        end: int,
        central_directory_offset: int,
        base_offset: int,
        zip64: bool,
        comment: bytes,
        limits: ZipLimits,
        member: str = "associated file",
    ) -> None:
        self._data = data
        self.entries: tuple[ZipEntry, ...] = tuple(entries)
        self._by_name = {entry.name: entry for entry in self.entries}
        compressed = [entry for entry in self.entries if entry.method != STORED]
        self._inflated_total = sum(entry.size for entry in compressed)
        self._compressed_total = sum(entry.compressed_size for entry in compressed)
        self.start = start
        self.end = end
        self.central_directory_offset = central_directory_offset
        self.base_offset = base_offset
        self.zip64 = zip64
        self.comment = comment
        self.limits = limits
        self.member = member

    def __repr__(self) -> str:
        return (
            f"<ZipTail {len(self.entries)} entries, start={self.start}, end={self.end}, "
            f"base_offset={self.base_offset}>"
        )

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def names(self) -> list[str]:
        """Names of the entries, in archive order."""
        return [entry.name for entry in self.entries]

    def sizes(self) -> list[tuple[str, int]]:
        """``(name, uncompressed size)`` of each entry, in archive order."""
        return [(entry.name, entry.size) for entry in self.entries]

    def compression_methods(self) -> list[tuple[str, int]]:
        """``(name, compression method)`` of each entry (0 stored, 8 deflated…)."""
        return [(entry.name, entry.method) for entry in self.entries]

    def entry(self, name: str) -> ZipEntry:
        """The entry called ``name``.

        Raises:
            AssociatedFileError: there is no such entry.
        """
        entry = self._by_name.get(name) if isinstance(name, str) else None
        if entry is None:
            listed = ", ".join(repr(n) for n in self.names()[:10])
            more = ", …" if len(self.entries) > 10 else ""
            raise AssociatedFileError(
                f"no {self.member} named {name!r} in the zip (it holds "
                f"{len(self.entries)}: {listed or 'none'}{more})"
            )
        return entry

    def check_entry(self, name: str) -> ZipEntry:
        """Check, without reading its data, that :meth:`read` may read ``name``.

        Returns:
            The entry.

        Raises:
            AssociatedFileError: no such entry, an encrypted entry, an unsupported
                compression method, or a declared size beyond :attr:`limits`.
        """
        entry = self.entry(name)
        limits = self.limits
        where = f"{self.member} {entry.name!r}"
        if entry.flags & _FLAG_ENCRYPTED:
            raise _fail(
                f"{where} is encrypted; encrypted zip entries are not supported", ZipFault.ENCRYPTED
            )
        if entry.method not in (STORED, DEFLATED):
            raise _fail(
                f"{where} uses compression method {entry.method} ({entry.method_name}); "
                "only stored (0) and deflated (8) entries can be read, and the consumers "
                "read only stored ones",
                ZipFault.METHOD,
            )
        if entry.size > limits.max_file_size:
            raise _fail(
                f"{where} declares {entry.size} bytes uncompressed, more than the limit of "
                f"{limits.max_file_size} bytes for one file",
                ZipFault.LIMIT,
            )
        if (
            entry.method != STORED
            and entry.size > limits.ratio_free_size
            and entry.size > entry.compressed_size * limits.max_ratio
        ):
            raise _fail(
                f"{where} would expand {entry.compressed_size} compressed bytes to "
                f"{entry.size} (more than {limits.max_ratio} times); refusing a likely "
                "zip bomb",
                ZipFault.LIMIT,
            )
        if (
            entry.method != STORED
            and self._inflated_total > limits.ratio_free_size
            and self._inflated_total > self._compressed_total * limits.max_ratio
        ):
            # Each entry may be small enough to escape the check above; reading
            # them all must still cost work in proportion to the archive.
            raise _fail(
                f"{where}: the zip's compressed entries together would expand "
                f"{self._compressed_total} compressed bytes to {self._inflated_total} "
                f"(more than {limits.max_ratio} times); refusing a likely zip bomb",
                ZipFault.LIMIT,
            )
        return entry

    def read(self, name: str) -> bytes:
        """The content of the associated file ``name``.

        Args:
            name: an entry name, as :meth:`names` gives it.

        Returns:
            Its uncompressed bytes, CRC-checked.

        Raises:
            AssociatedFileError: no such entry, a limit of :attr:`limits` is
                exceeded, the data is corrupt (CRC, deflate stream, sizes), or
                the model buffer changed or was closed since :func:`find_zip`.
        """
        entry = self.check_entry(name)
        where = f"{self.member} {entry.name!r}"
        try:
            with _ByteView(self._data) as view:
                if entry.data_end > len(view):
                    raise _fail(
                        f"{where}: its data ends at offset {entry.data_end}, but the model "
                        f"is now {len(view)} bytes long (was it changed after the zip was read?)"
                    )
                raw = view[entry.data_offset : entry.data_end]
                try:
                    if entry.method == STORED:
                        content = bytes(raw)
                    else:
                        content = _inflate(raw, entry.size, where)
                finally:
                    raw.release()
        except MetadataError:
            raise
        except (zlib.error, ValueError, OverflowError, MemoryError, BufferError) as exc:
            raise _fail(f"{where} at offset {entry.data_offset} cannot be read: {exc}") from exc
        self._check_crc(entry, zlib.crc32(content) & _MAX_U32)
        return content

    def verify(self, name: str, source: IO[bytes] | None = None) -> ZipEntry:
        """Check ``name`` as :meth:`read` does, its CRC-32 included, without keeping its bytes.

        Args:
            name: the entry.
            source: the open file the buffer maps, if it is one: a stored
                entry's bytes are then read from it in pieces (see
                :func:`~tflite_metadata.fileio.crc32_range`), not through the
                mapping, so that verifying a large entry costs no memory.

        Returns:
            The entry.

        Raises:
            AssociatedFileError: as :meth:`read`.
        """
        entry = self.check_entry(name)
        if source is None or entry.method != STORED:
            with self.content_view(name):
                return entry
        try:
            crc = crc32_range(source, entry.data_offset, entry.data_end)
        except OSError as exc:
            raise _fail(
                f"{self.member} {entry.name!r} at offset {entry.data_offset} cannot be read: "
                f"{exc.strerror or exc}"
            ) from exc
        self._check_crc(entry, crc)
        return entry

    def _check_crc(self, entry: ZipEntry, crc: int) -> None:
        if crc != entry.crc32:
            raise _fail(
                f"{self.member} {entry.name!r} at offset {entry.data_offset} is corrupt: its "
                f"CRC-32 is {crc:#010x}, the zip records {entry.crc32:#010x}",
                ZipFault.CRC,
            )

    @contextlib.contextmanager
    def content_view(self, name: str, *, verify: bool = True) -> Iterator[memoryview]:
        """The content of ``name`` as a memoryview valid inside the ``with``.

        A stored entry's content is a view of the buffer given to :func:`find_zip`,
        not a copy (a model of any size inside a ``.task`` bundle costs no
        memory); a compressed entry's is :meth:`read`'s.

        Args:
            name: the entry.
            verify: whether to check the CRC-32 of a stored entry first (a pass
                over all of its bytes); a compressed entry's is always checked.

        Raises:
            AssociatedFileError: as :meth:`read`.
        """
        entry = self.check_entry(name)
        if entry.method != STORED:
            content = memoryview(self.read(name))
            try:
                yield content
            finally:
                content.release()
            return
        where = f"{self.member} {entry.name!r}"
        with _ByteView(self._data) as whole:
            if entry.data_end > len(whole):
                raise _fail(
                    f"{where}: its data ends at offset {entry.data_end}, but the buffer is now "
                    f"{len(whole)} bytes long (was it changed after the zip was read?)"
                )
            raw = whole[entry.data_offset : entry.data_end]
            try:
                if verify:
                    self._check_crc(entry, zlib.crc32(raw) & _MAX_U32)
                yield raw
            finally:
                raw.release()


def _inflate(raw: memoryview, size: int, where: str) -> bytes:
    # Ask for one byte more than declared: getting it proves the declared size
    # is a lie, and never asking for more keeps a lying stream from allocating.
    inflater = zlib.decompressobj(-15)
    content = inflater.decompress(raw, size + 1)
    if len(content) > size:
        raise _fail(
            f"{where} inflates to more than the {size} bytes its entry declares", ZipFault.SIZE
        )
    if not inflater.eof:
        raise _fail(
            f"{where}: its deflate stream is truncated (it gives {len(content)} of "
            f"{size} declared bytes before its compressed data ends)",
            ZipFault.SIZE,
        )
    if len(content) != size:
        raise _fail(
            f"{where} inflates to {len(content)} bytes, its entry declares {size}", ZipFault.SIZE
        )
    return content


def find_zip(
    data: ZipSource, *, limits: ZipLimits = DEFAULT_LIMITS, member: str = "associated file"
) -> ZipTail | None:
    """Find and parse the zip of associated files at the end of a model.

    Only the last :data:`EOCD_SEARCH_SIZE` bytes are searched for the end of
    central directory record; the last signature found is used, as Python's
    zipfile and minizip do. The central directory and every local header are
    then parsed and checked; the entries' data is not read until
    :meth:`ZipTail.read`.

    Args:
        data: the whole model (bytes, bytearray, memoryview or mmap; not copied).
        limits: bounds on entry count and sizes.
        member: what an entry is called in messages.

    Returns:
        The archive, or None when the data holds no end of central directory
        signature (a model without associated files).

    Raises:
        AssociatedFileError: the signature is there but what follows is not a
            well-formed zip (truncated records, offsets outside the file,
            overlapping or duplicate entries, too many entries, multi-disk
            archives…), or ``data`` is not a buffer.

    Example::

        tail = find_zip(model_bytes)
        if tail is not None:
            labels = tail.read("labels.txt")
            model_proper = memoryview(model_bytes)[: tail.start]
    """
    with _ByteView(data) as view:
        try:
            return _parse_zip(data, view, limits, member)
        except MetadataError:
            raise
        except (struct.error, IndexError, ValueError, OverflowError, MemoryError) as exc:
            # Every read above is bounds-checked; this is a last line of defence.
            raise _fail(f"the zip of associated files cannot be parsed: {exc}") from exc


def salvage_zip_start(data: ZipSource) -> int | None:
    """Where a zip that :func:`find_zip` refuses begins, as far as its own records show.

    For replacing a corrupt zip of associated files with a new one. Only
    positions that the archive's records confirm are candidates, because the
    bytes before the archive are the model's (and an end record signature can
    occur by chance in a model's weights):

    * the end of central directory record, when its comment ends exactly at the
      end of ``data`` or the record is cut short by it; Zip64 records right
      before it, by their signatures;
    * the central directory: where the end record places it (by its size or by
      its offset) when a central header signature is there, or when walking its
      entries from there ends exactly at the end record; else the lowest central
      header signature in the last :data:`EOCD_SEARCH_SIZE` bytes from which
      such a walk ends exactly at the end record;
    * the local header of each entry of a confirmed directory, by its signature
      or by the entry's name repeated after it.

    Args:
        data: the whole model (bytes, bytearray, memoryview or mmap; not copied).

    Returns:
        The lowest confirmed offset, or None when nothing is confirmed (no end
        record signature in the last :data:`EOCD_SEARCH_SIZE` bytes, or one whose
        fields match nothing).

    Raises:
        AssociatedFileError: ``data`` is not a buffer.
    """
    with _ByteView(data) as view:
        try:
            return _salvage_start(view)
        except (struct.error, ValueError, OverflowError):  # pragma: no cover - all checked
            return None


#: Central directory entries :func:`salvage_zip_start` walks at most, in all.
_SALVAGE_STEPS = 200_000


def _signature_at(view: memoryview, position: int, signature: int, end: int) -> bool:
    if not 0 <= position <= end - 4:
        return False
    return bool(_U32.unpack_from(view, position)[0] == signature)


class _Walk:
    """Walks of a damaged central directory, with one budget for them all."""

    def __init__(self, view: memoryview, end: int) -> None:
        self.view = view
        self.end = end
        self.steps = _SALVAGE_STEPS

    def entries(self, start: int, *, first_signed: bool) -> list[tuple[int, _CentralHeader]] | None:
        """The entries from ``start`` when walking them ends exactly at ``end``, else None."""
        found: list[tuple[int, _CentralHeader]] = []
        offset = start
        while offset < self.end and self.steps > 0:
            self.steps -= 1
            signed = _signature_at(self.view, offset, _CENTRAL_SIGNATURE, self.end)
            if (not signed and (found or first_signed)) or offset + _CENTRAL.size > self.end:
                return None
            header = _CentralHeader._make(_CENTRAL.unpack_from(self.view, offset))
            found.append((offset, header))
            offset += _CENTRAL.size + header.name_size + header.extra_size + header.comment_size
        return found if offset == self.end else None


def _local_headers(
    view: memoryview, entries: list[tuple[int, _CentralHeader]], directory: int, base: int
) -> list[int]:
    """Local headers that the entries point at, confirmed by signature or by name."""
    confirmed = []
    for offset, header in entries:
        name_start = offset + _CENTRAL.size
        name = bytes(view[name_start : name_start + header.name_size])
        for local in {header.header_offset, base + header.header_offset}:
            if not 0 <= local <= directory - _LOCAL.size:
                continue
            local_name = view[local + _LOCAL.size : local + _LOCAL.size + len(name)]
            if _signature_at(view, local, _LOCAL_SIGNATURE, directory) or (
                name and bytes(local_name) == name
            ):
                confirmed.append(local)
    return confirmed


def _search_window(view: memoryview) -> tuple[int, bytes, int]:
    """Where the end record search window starts, its bytes, and the last end
    record signature's offset in the model (-1 when there is none)."""
    window_start = max(0, len(view) - EOCD_SEARCH_SIZE)
    window = bytes(view[window_start:])
    found = window.rfind(_END_SIGNATURE_BYTES)
    return window_start, window, -1 if found < 0 else window_start + found


def _salvage_start(view: memoryview) -> int | None:
    size = len(view)
    window_start, window, position = _search_window(view)
    if position < 0:
        return None
    candidates = []
    directory_end = position
    declared: tuple[int, ...] = ()
    if position + _END.size > size:
        # Cut short by the end of the file: a signature there is no coincidence.
        candidates.append(position)
    else:
        fields = _END.unpack_from(view, position)
        directory_size, directory_offset, comment_size = fields[5], fields[6], fields[7]
        if position + _END.size + comment_size == size:
            candidates.append(position)
        declared = (position - directory_size, directory_offset)
        locator = position - _ZIP64_LOCATOR.size
        if _signature_at(view, locator, _ZIP64_LOCATOR_SIGNATURE, position):
            candidates.append(locator)
            directory_end = locator
            record = locator - _ZIP64_END.size
            if _signature_at(view, record, _ZIP64_END_SIGNATURE, locator):
                candidates.append(record)
                directory_end = record
    walk = _Walk(view, directory_end)
    directory = None
    entries: list[tuple[int, _CentralHeader]] = []
    for start in declared:
        walked = walk.entries(start, first_signed=False) if 0 <= start < directory_end else None
        if walked is not None or _signature_at(view, start, _CENTRAL_SIGNATURE, directory_end):
            directory, entries = start, walked or []
            break
    if directory is None:
        signature = struct.pack("<I", _CENTRAL_SIGNATURE)
        at = window.find(signature)
        while at >= 0 and window_start + at < directory_end and walk.steps > 0:
            walked = walk.entries(window_start + at, first_signed=True)
            if walked is not None:
                directory, entries = window_start + at, walked
                break
            at = window.find(signature, at + 1)
    if directory is not None:
        candidates.append(directory)
        recorded = declared[1] if declared else directory
        candidates += _local_headers(view, entries, directory, directory - recorded)
    if not candidates:
        return None
    return min(candidates)


@dataclass(frozen=True)
class _EndRecord:
    position: int  # where the (Zip64) end record starts: the central directory ends here
    end: int  # just after the classic end record and its comment
    entries: int
    directory_size: int
    directory_offset: int  # as recorded: relative to the archive's base
    zip64: bool
    comment: bytes

    @property
    def label(self) -> str:
        return "Zip64 end record" if self.zip64 else "end record"


def _parse_zip(data: ZipSource, view: memoryview, limits: ZipLimits, member: str) -> ZipTail | None:
    record = _find_end_record(view)
    if record is None:
        return None
    if record.entries > limits.max_entries:
        raise _fail(
            f"the zip's {record.label} at offset {record.position} declares {record.entries} "
            f"entries, more than the limit of {limits.max_entries}",
            ZipFault.LIMIT,
        )
    if record.entries * _CENTRAL.size > record.directory_size:
        raise _fail(
            f"the zip's {record.label} at offset {record.position} declares {record.entries} "
            f"entries in a central directory of {record.directory_size} bytes; each needs "
            f"at least {_CENTRAL.size}"
        )
    directory_start = record.position - record.directory_size
    if directory_start < 0:
        raise _fail(
            f"the zip's {record.label} at offset {record.position} declares a central directory "
            f"of {record.directory_size} bytes, which does not fit before it"
        )
    # Offsets are absolute when the directory sits where the end record says
    # (tflite-support); a positive difference means the archive was made on its
    # own and appended, and its offsets count from its own start.
    base_offset = directory_start - record.directory_offset
    if base_offset < 0:
        raise _fail(
            f"the zip's {record.label} at offset {record.position} places the central "
            f"directory at offset {record.directory_offset} ({record.directory_size} bytes, "
            f"ending at {record.directory_offset + record.directory_size}), past the end "
            "record itself or the end of the file"
        )
    entries = _read_central_directory(view, record, directory_start, base_offset)
    total = sum(entry.size for entry in entries)
    if total > limits.max_total_size:
        raise _fail(
            f"the zip's entries declare {total} bytes uncompressed in total, more than the "
            f"limit of {limits.max_total_size}",
            ZipFault.LIMIT,
        )
    _check_no_overlap(entries)
    start = min((entry.header_offset for entry in entries), default=directory_start)
    return ZipTail(
        data,
        entries,
        start=start,
        end=record.end,
        central_directory_offset=directory_start,
        base_offset=base_offset,
        zip64=record.zip64,
        comment=record.comment,
        limits=limits,
        member=member,
    )


def _find_end_record(view: memoryview) -> _EndRecord | None:
    size = len(view)
    position = _search_window(view)[2]
    if position < 0:
        return None
    if position + _END.size > size:
        raise _fail(
            f"the zip's end of central directory record at offset {position} is truncated: "
            f"{size - position} of {_END.size} bytes"
        )
    fields = _END.unpack_from(view, position)
    disk, directory_disk, disk_entries, entries, directory_size, directory_offset = fields[1:7]
    comment_size = fields[7]
    end = min(size, position + _END.size + comment_size)
    comment = bytes(view[position + _END.size : end])
    locator = position - _ZIP64_LOCATOR.size
    if _signature_at(view, locator, _ZIP64_LOCATOR_SIGNATURE, position):
        return _read_zip64_end(view, locator, end, comment)
    _check_one_disk("end record", position, disk, directory_disk, disk_entries, entries)
    return _EndRecord(position, end, entries, directory_size, directory_offset, False, comment)


def _check_one_disk(
    label: str, position: int, disk: int, directory_disk: int, disk_entries: int, entries: int
) -> None:
    if disk != 0 or directory_disk != 0 or disk_entries != entries:
        raise _fail(
            f"the zip's {label} at offset {position} describes a multi-disk archive "
            f"(disk {disk}, central directory on disk {directory_disk}, {disk_entries} of "
            f"{entries} entries on this disk), which is not supported"
        )


def _read_zip64_end(view: memoryview, locator: int, end: int, comment: bytes) -> _EndRecord:
    _, record_disk, recorded_offset, disks = _ZIP64_LOCATOR.unpack_from(view, locator)
    if record_disk != 0 or disks != 1:
        raise _fail(
            f"the zip's Zip64 locator at offset {locator} describes a multi-disk archive "
            f"({disks} disks, end record on disk {record_disk}), which is not supported"
        )
    # The locator's offset is relative to the archive's base like every other
    # offset; when the archive was appended it is off by that base, so fall back
    # to the record right before the locator, where writers put it.
    position = None
    for candidate in (recorded_offset, locator - _ZIP64_END.size):
        if 0 <= candidate <= locator - _ZIP64_END.size:
            signature, rest = struct.unpack_from("<IQ", view, candidate)
            if signature == _ZIP64_END_SIGNATURE and candidate + 12 + rest == locator:
                position = candidate
                break
    if position is None:
        raise _fail(
            f"the zip's Zip64 locator at offset {locator} points at offset {recorded_offset}, "
            "where there is no Zip64 end of central directory record ending at the locator"
        )
    # Skip the signature, record size and versions.
    fields = _ZIP64_END.unpack_from(view, position)[4:]
    disk, directory_disk, disk_entries, entries, directory_size, directory_offset = fields
    _check_one_disk("Zip64 end record", position, disk, directory_disk, disk_entries, entries)
    return _EndRecord(position, end, entries, directory_size, directory_offset, True, comment)


def _read_central_directory(
    view: memoryview, record: _EndRecord, directory_start: int, base_offset: int
) -> list[ZipEntry]:
    directory_end = record.position
    entries: list[ZipEntry] = []
    seen: dict[str, int] = {}
    offset = directory_start
    for index in range(record.entries):
        where = f"central directory entry {index} at offset {offset}"
        if offset + _CENTRAL.size > directory_end:
            raise _fail(
                f"{where} is truncated: the central directory ends at offset {directory_end}, "
                f"{directory_end - offset} bytes on, and an entry needs {_CENTRAL.size}"
            )
        header = _CentralHeader._make(_CENTRAL.unpack_from(view, offset))
        if header.signature != _CENTRAL_SIGNATURE:
            raise _fail(
                f"{where}: expected the signature PK\\x01\\x02, found "
                f"{bytes(view[offset : offset + 4])!r}"
            )
        name_start = offset + _CENTRAL.size
        extra_start = name_start + header.name_size
        next_offset = extra_start + header.extra_size + header.comment_size
        if next_offset > directory_end:
            raise _fail(
                f"{where}: its name, extra field and comment ({header.name_size} + "
                f"{header.extra_size} + {header.comment_size} bytes) run past the end of the "
                f"central directory at offset {directory_end}"
            )
        raw_name = bytes(view[name_start:extra_start])
        name = _decode_name(raw_name, header.flags, where)
        where = f"central directory entry {index} ({name!r}) at offset {offset}"
        size, compressed_size, header_offset, disk = _apply_zip64_extra(
            bytes(view[extra_start : extra_start + header.extra_size]),
            header.size,
            header.compressed_size,
            header.header_offset,
            header.disk,
            where,
        )
        if disk != 0:
            raise _fail(f"{where} starts on disk {disk}; multi-disk archives are not supported")
        if name in seen:
            raise _fail(
                f"{where}: the name {name!r} is already used by entry {seen[name]}; "
                "duplicate names are ambiguous",
                ZipFault.DUPLICATE,
            )
        seen[name] = index
        if (
            header.method == STORED
            and not header.flags & _FLAG_ENCRYPTED
            and compressed_size != size
        ):
            raise _fail(
                f"{where} is stored (uncompressed) but declares {compressed_size} bytes of "
                f"data for {size} bytes of content",
                ZipFault.SIZE,
            )
        data_offset = _check_local_header(
            view,
            base_offset + header_offset,
            raw_name,
            (header, compressed_size, size),
            directory_start,
            where,
        )
        entries.append(
            ZipEntry(
                name=name,
                index=index,
                method=header.method,
                flags=header.flags,
                crc32=header.crc32,
                compressed_size=compressed_size,
                size=size,
                header_offset=base_offset + header_offset,
                data_offset=data_offset,
                made_by=header.version_made_by,
                external_attributes=header.external_attributes,
            )
        )
        offset = next_offset
    if offset != directory_end:
        raise _fail(
            f"the central directory holds {directory_end - offset} bytes after its "
            f"{record.entries} declared entries (it ends at offset {directory_end})"
        )
    return entries


def _decode_name(raw: bytes, flags: int, where: str) -> str:
    if flags & _FLAG_UTF8:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(
                f"{where}: its name is flagged UTF-8 but is not valid UTF-8 ({exc.reason} at "
                f"byte {exc.start})"
            ) from exc
    # Without the flag, zip names are code page 437, which decodes every byte.
    return raw.decode("cp437")


def _apply_zip64_extra(
    extra: bytes,
    size: int,
    compressed_size: int,
    header_offset: int,
    disk: int,
    where: str,
) -> tuple[int, int, int, int]:
    """Replace the fields that are saturated with their Zip64 values."""
    values = (size, compressed_size, header_offset, disk)
    found_zip64 = False
    position = 0
    while position + _EXTRA_HEADER.size <= len(extra):
        field_id, field_size = _EXTRA_HEADER.unpack_from(extra, position)
        body = position + _EXTRA_HEADER.size
        if body + field_size > len(extra):
            raise _fail(
                f"{where}: extra field {field_id:#06x} declares {field_size} bytes, but "
                f"only {len(extra) - body} remain in the extra data"
            )
        if field_id == _ZIP64_EXTRA_ID and not found_zip64:
            found_zip64 = True
            values = _zip64_values(values, extra[body : body + field_size], where)
        position = body + field_size
    if not found_zip64:
        values = _zip64_values(values, None, where)
    return values


def _zip64_values(
    values: tuple[int, int, int, int], zip64: bytes | None, where: str
) -> tuple[int, int, int, int]:
    # A saturated field means "see the Zip64 extra field" (writers never store the
    # saturated value itself), which holds, in this order, only those values.
    replaced = []
    cursor = 0
    for value, saturated, width, label in zip(
        values,
        (_MAX_U32, _MAX_U32, _MAX_U32, _MAX_U16),
        (8, 8, 8, 4),
        ("uncompressed size", "compressed size", "local header offset", "disk number"),
    ):
        if value == saturated:
            problem = f"{where}: its {label} is 0x{saturated:X} but"
            fault = ZipFault.SIZE if label.endswith("size") else ZipFault.MALFORMED
            if zip64 is None:
                raise _fail(f"{problem} it has no Zip64 extra field to hold the real value", fault)
            if cursor + width > len(zip64):
                raise _fail(f"{problem} its Zip64 extra field does not hold the real value", fault)
            value = int.from_bytes(zip64[cursor : cursor + width], "little")
            cursor += width
        replaced.append(value)
    size, compressed_size, header_offset, disk = replaced
    return size, compressed_size, header_offset, disk


def _check_local_header(
    view: memoryview,
    header: int,
    raw_name: bytes,
    central: tuple[_CentralHeader, int, int],
    directory_start: int,
    where: str,
) -> int:
    """Check the local header at ``header`` and return where its data starts.

    ``central``: the entry's central directory record, and its compressed and
    uncompressed sizes (Zip64 values applied).
    """
    record, compressed_size, size = central
    if header + _LOCAL.size > directory_start:
        raise _fail(
            f"{where}: its local header offset {header} is outside the archive's data, "
            f"which ends where the central directory starts, at offset {directory_start}"
        )
    fields = _LOCAL.unpack_from(view, header)
    signature, name_size, extra_size = fields[0], fields[9], fields[10]
    if signature != _LOCAL_SIGNATURE:
        raise _fail(
            f"{where}: expected a local header (PK\\x03\\x04) at offset {header}, found "
            f"{bytes(view[header : header + 4])!r}"
        )
    _check_local_fields(fields, record, compressed_size, size, header, where)
    name_start = header + _LOCAL.size
    data_offset = name_start + name_size + extra_size
    if data_offset + compressed_size > directory_start:
        raise _fail(
            f"{where}: its data ({compressed_size} bytes from offset {data_offset}) runs past "
            f"the start of the central directory at offset {directory_start}",
            ZipFault.SIZE,
        )
    local_name = bytes(view[name_start : name_start + name_size])
    if local_name != raw_name:
        raise _fail(
            f"{where}: the local header at offset {header} names {local_name!r}, the "
            f"central directory {raw_name!r}"
        )
    return int(data_offset)


def _check_local_fields(
    fields: tuple[int, ...],
    record: _CentralHeader,
    compressed_size: int,
    size: int,
    header: int,
    where: str,
) -> None:
    """Refuse a local header that disagrees with the central directory, as minizip does.

    minizip (MediaPipe's and the Task Library's reader) compares the method
    always, and the CRC-32 and sizes unless the local header's flag bit 3 puts
    them in a data descriptor after the data; a local size of 0xFFFFFFFF defers
    to the Zip64 extra field. The flags are compared here too: readers that
    follow the local header and readers that follow the central directory
    would otherwise read the entry differently.
    """
    flags, method, crc, local_compressed, local_size = (fields[i] for i in (2, 3, 6, 7, 8))
    differences = []
    if flags != record.flags:
        differences.append(f"flags {flags:#06x}, the central directory {record.flags:#06x}")
    if method != record.method:
        differences.append(f"method {method}, the central directory {record.method}")
    if not flags & _FLAG_DATA_DESCRIPTOR:
        if crc != record.crc32:
            differences.append(f"CRC-32 {crc:#010x}, the central directory {record.crc32:#010x}")
        for label, local, central in (
            ("compressed size", local_compressed, compressed_size),
            ("uncompressed size", local_size, size),
        ):
            if local != _MAX_U32 and local != central:
                differences.append(f"{label} {local}, the central directory {central}")
    if differences:
        raise _fail(
            f"{where}: its local header at offset {header} records " + "; ".join(differences),
            ZipFault.HEADER,
        )


def _check_no_overlap(entries: list[ZipEntry]) -> None:
    # Entries that share data let a small archive declare a huge total (a
    # "non-recursive zip bomb"), and no writer produces them.
    ordered = sorted(entries, key=lambda entry: entry.header_offset)
    for before, after in zip(ordered, ordered[1:]):
        if before.data_end > after.header_offset:
            raise _fail(
                f"the zip entries {before.name!r} (data up to offset {before.data_end}) and "
                f"{after.name!r} (local header at offset {after.header_offset}) overlap",
                ZipFault.OVERLAP,
            )


# -- extraction ------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def name_problem(name: str) -> str | None:
    """Why ``name`` may not be extracted, or None when it is safe.

    A safe name is relative, uses ``/`` between components, and has no empty,
    ``.`` or ``..`` component, no backslash, no colon and no control character,
    so it names a file inside the extraction folder on every operating system.

    Args:
        name: an entry name.

    Returns:
        A reason such as ``"has a '..' component, which would leave the folder"``,
        or None.
    """
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not a string"
    if not name:
        return "is empty"
    for character in name:
        if unicodedata.category(character) == "Cc":
            return f"contains the control character U+{ord(character):04X}"
    if "\\" in name:
        return "contains a backslash, a path separator on Windows"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    if ":" in name:
        return "contains a colon, which Windows reads as a drive or a data stream name"
    if name.endswith("/"):
        return "names a directory, not a file"
    for component in name.split("/"):
        if component == "..":
            return "has a '..' component, which would leave the folder"
        if component == ".":
            return "has a '.' component"
        if not component:
            return "has an empty path component ('//')"
    return None


def check_extract_name(name: str) -> None:
    """Raise unless ``name`` is safe to extract (see :func:`name_problem`).

    Raises:
        AssociatedFileError: with the reason, e.g. ``"associated file name
            '../x' has a '..' component, which would leave the folder"``.
    """
    problem = name_problem(name)
    if problem is not None:
        raise _fail(f"associated file name {name!r} {problem}")


#: Why a name that is also the folder of another name (``a`` and ``a/b``) is refused.
CLASH_REASON = "is both a file and the folder of another entry"


def _parent_folders(name: str) -> list[str]:
    """The folders ``name`` is in: ``["a", "a/b"]`` for ``"a/b/c"``."""
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def extract_refusals(names: Iterable[str]) -> list[tuple[str, str]]:
    """``(name, reason)`` for every name of ``names`` that may not be extracted.

    A name is refused when :func:`name_problem` finds it unsafe, or when it is
    also the folder of another name (``a`` beside ``a/b``: a file and a folder
    cannot have one path; the reason is :data:`CLASH_REASON`).
    """
    listed = list(names)
    folders = {
        folder for name in listed if isinstance(name, str) for folder in _parent_folders(name)
    }
    refusals = []
    for name in listed:
        problem = name_problem(name)
        if problem is None and name in folders:
            problem = CLASH_REASON
        if problem is not None:
            refusals.append((name, problem))
    return refusals


def safe_member_path(directory: PathLike, name: str, member: str = "associated file") -> Path:
    """The path inside ``directory`` where the entry ``name`` is extracted.

    Args:
        directory: the extraction folder (it need not exist yet).
        name: an entry name.
        member: what an entry is called in messages.

    Returns:
        ``directory`` joined with the components of ``name``.

    Raises:
        AssociatedFileError: ``name`` is unsafe (see :func:`name_problem`), or one of
            its parent components inside ``directory`` exists and is a symbolic link
            or not a folder, which could lead outside ``directory``.
    """
    check_extract_name(name)
    problem = destination_problem(directory, name)
    if problem is not None:
        raise _fail(f"{member} {name!r} {problem}")
    return Path(directory).joinpath(*name.split("/"))


def destination_problem(directory: PathLike, name: str) -> str | None:
    """Why the safe name ``name`` cannot be written inside ``directory`` as it is now, or None.

    A parent folder of ``name`` that exists inside ``directory`` as a symbolic
    link (which may lead outside it) or as something other than a folder.
    """
    target = Path(directory)
    for component in name.split("/")[:-1]:
        target = target / component
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            return None  # nothing below a missing folder exists either
        except OSError as exc:
            return f"cannot be written: cannot inspect {os.fspath(target)!r}: {exc}"
        if stat.S_ISLNK(mode):
            return (
                f"would be written through the symbolic link {os.fspath(target)!r}, which "
                "may lead outside the folder"
            )
        if not stat.S_ISDIR(mode):
            return f"needs {os.fspath(target)!r} to be a folder, but it is not"
    return None


class ExtractRefusedError(AssociatedFileError):
    """Some entry names are unsafe to extract, or clash; nothing was extracted.

    Attributes:
        refusals: ``(name, reason)`` for every refused name.
    """

    def __init__(
        self, refusals: list[tuple[str, str]], total: int, member: str = "associated file"
    ) -> None:
        self.refusals = refusals
        details = "; ".join(f"{name!r} {reason}" for name, reason in refusals)
        super().__init__(
            f"nothing was extracted: {len(refusals)} of {total} {member} names are "
            f"unsafe: {details}"
        )


def _make_folders(directory: Path, name: str, member: str) -> None:
    """Create the parent folders of ``name`` inside ``directory``, never through a link."""
    folder = directory
    for component in name.split("/")[:-1]:
        folder = folder / component
        try:
            os.mkdir(folder)
        except FileExistsError:
            pass
        except OSError as exc:
            raise OutputWriteError(f"cannot create {os.fspath(folder)!r}: {exc}") from exc
        try:
            mode = os.lstat(folder).st_mode
        except OSError as exc:
            raise OutputWriteError(f"cannot inspect {os.fspath(folder)!r}: {exc}") from exc
        if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
            raise _fail(
                f"{member} {name!r}: {os.fspath(folder)!r} is not a plain folder, "
                "refusing to write through it"
            )


def extract_all(tail: ZipTail, directory: PathLike, source: IO[bytes] | None = None) -> list[Path]:
    """Write every associated file of ``tail`` into ``directory``.

    All or nothing on names: when any name is unsafe (see :func:`name_problem`),
    an :class:`ExtractRefusedError` listing each refused name and its reason is
    raised before anything is written; :func:`extract_refusals` gives the same
    list without raising. Every entry is also checked against the limits first.

    Entries that are not files (symbolic links, folders, devices, FIFOs, by
    their attributes) are refused in the same way: they are only ever written
    as plain files, so their content would mislead.

    Each file is CRC-checked completely (a stored one in place, without a
    copy), then written to a temporary
    file in its folder and renamed over the target (``os.replace``), so a failure
    never leaves a partial file. An existing file of the same name is replaced;
    an existing symbolic link is replaced, not followed. Parent folders of nested
    names are created, and never followed through symbolic links.

    Args:
        tail: the archive, from :func:`find_zip`.
        directory: the folder to write into; created if missing.
        source: the open file that ``tail``'s buffer maps, if it is one: stored
            entries are then verified by reading it in pieces and copied from
            it by the kernel (``copy_file_range``), never through the mapping,
            so that a model of gigabytes is extracted in bounded memory.

    Returns:
        The paths written, in archive order.

    Raises:
        ExtractRefusedError: unsafe names, entries that are not files, a name
            that is also another entry's folder, or a destination whose folder
            inside ``directory`` is a symbolic link or a file (nothing written).
        AssociatedFileError: an entry is unreadable or over the limits; files
            written before it stay.
        OutputWriteError: the disk refused a write.
    """
    names = tail.names()
    refusals = extract_refusals(names)
    refusals += [
        (entry.name, f"is a {entry.kind}, not a file; only files are extracted")
        for entry in tail.entries
        if entry.kind != "file"
    ]
    if refusals:
        raise ExtractRefusedError(refusals, len(names), tail.member)
    for name in names:
        tail.check_entry(name)
    folder = Path(directory)
    if os.path.lexists(folder) and not folder.is_dir():
        raise OutputWriteError(f"cannot extract into {os.fspath(folder)!r}: it is not a folder")
    # Every destination is checked before anything is written.
    refusals = [
        (name, problem)
        for name in names
        for problem in [destination_problem(folder, name)]
        if problem is not None
    ]
    if refusals:
        raise ExtractRefusedError(refusals, len(names), tail.member)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputWriteError(f"cannot create {os.fspath(folder)!r}: {exc}") from exc
    written = []
    for name in names:
        _make_folders(folder, name, tail.member)
        target = safe_member_path(folder, name, tail.member)
        entry = tail.entry(name)
        if source is not None and entry.is_stored:
            tail.verify(name, source)
            with atomic_output(target) as stream:
                copy_range(source, stream, entry.data_offset, entry.data_end)
        else:
            with tail.content_view(name) as content, atomic_output(target) as stream:
                stream.write(content)
        written.append(target)
    return written


# -- writing ---------------------------------------------------------------------------------


class _Writable(Protocol):
    def write(self, data: bytes | memoryview, /) -> object: ...


class StreamedContent(Protocol):
    """An associated file packed from where it is, not from memory.

    :class:`tflite_metadata.fileio.InputFile` is one: a file on disk, whose
    bytes the kernel copies into the output and whose CRC-32 is computed while
    reading it in pieces. :func:`write_zip` never holds such a file whole.
    """

    @property
    def size(self) -> int:
        """The number of bytes to pack."""

    def crc32(self) -> int:
        """The CRC-32 of those bytes."""

    def copy_to(self, target: _Writable) -> None:
        """Write those bytes to ``target``, in bounded memory."""


@dataclass(frozen=True)
class ZipLayout:
    """How :func:`write_zip` lays an archive out: everything but the files themselves.

    The default is the zip of associated files after a model (deterministic:
    every entry dated 1980-01-01, ``rw-r--r--``, Zip64 fields only where a value
    does not fit 32 bits). A ``.task`` bundle uses MediaPipe's layout, which is
    Python's :mod:`zipfile` with padding before each local header (see
    :mod:`tflite_metadata.archive.bundle`).

    Attributes:
        alignment: None: entries follow each other. An integer: before each
            local header, ``alignment - (offset + header size) % alignment``
            zero bytes (1 to ``alignment``, never 0, as MediaPipe's writer pads),
            so that every entry's data starts at a multiple of ``alignment``.
        date_time: the modification time recorded for every entry, ``(year,
            month, day, hour, minute, second)``, from 1980 to 2107.
        external_attributes: the external attributes of every entry (on Unix,
            its mode in the high 16 bits).
        zip64_above: sizes, offsets and central directory sizes above this go
            in Zip64 fields (the central directory's sizes and offsets, the end
            records).
        zip64_count_above: an entry count above this needs the Zip64 end records.
        local_zip64_from: an entry of this size or more gets a Zip64 extra field
            in its local header.
        zip64_end_made_by: the "version made by" of the Zip64 end record.
        base_names_only: whether names may not contain ``/`` (associated files are
            base names; bundle entries may sit in folders).
        member: what an entry is called in messages.
        archive: what the archive is called in messages.
    """

    alignment: int | None = None
    date_time: tuple[int, int, int, int, int, int] = (1980, 1, 1, 0, 0, 0)
    external_attributes: int = _FILE_ATTRIBUTES
    zip64_above: int = _MAX_U32 - 1
    zip64_count_above: int = _MAX_U16 - 1
    local_zip64_from: int = _MAX_U32
    zip64_end_made_by: int = _MADE_BY_UNIX | _VERSION_ZIP64
    base_names_only: bool = True
    member: str = "associated file"
    archive: str = "the zip of associated files"

    def __post_init__(self) -> None:
        if self.alignment is not None and self.alignment < 1:
            raise _fail(f"the zip alignment must be at least 1, got {self.alignment}")
        if not 1980 <= self.date_time[0] <= 2107:
            raise _fail(f"a zip records years from 1980 to 2107, got {self.date_time[0]}")

    @property
    def dos_time(self) -> int:
        _, _, _, hour, minute, second = self.date_time
        return hour << 11 | minute << 5 | second // 2

    @property
    def dos_date(self) -> int:
        year, month, day = self.date_time[:3]
        return (year - 1980) << 9 | month << 5 | day


#: The layout of the zip of associated files.
ASSOCIATED_FILES_LAYOUT = ZipLayout()

#: One associated file to pack: its bytes, or a :class:`StreamedContent`.
ContentToPack = Union[FileContent, StreamedContent]
#: Associated files to pack: name to content, in order, or ``(name, content)`` pairs.
FilesToPack = Union[Mapping[str, ContentToPack], Iterable[tuple[str, ContentToPack]]]


@dataclass(frozen=True)
class _Planned:
    name: bytes
    flags: int
    content: memoryview | StreamedContent
    size: int
    crc32: int
    header_offset: int
    padding: int
    local_zip64: bool


def _encode_name(name: str, layout: ZipLayout) -> tuple[bytes, int]:
    member = layout.member
    if not isinstance(name, str):
        raise _fail(f"{member} names must be strings, got {type(name).__name__}")
    problem = name_problem(name)
    if problem is None and layout.base_names_only and "/" in name:
        problem = "is not a base name (it contains '/')"
    if problem is not None:
        raise _fail(f"cannot pack the {member} name {name!r}: it {problem}")
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        pass
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _fail(
            f"cannot pack the {member} name {name!r}: it cannot be encoded as UTF-8 ({exc.reason})"
        ) from exc
    return encoded, _FLAG_UTF8


def _is_streamed(content: object) -> bool:
    return not isinstance(content, (bytes, bytearray, memoryview, mmap.mmap)) and all(
        hasattr(content, attribute) for attribute in ("size", "crc32", "copy_to")
    )


def _content_view(name: str, content: object, member: str) -> memoryview:
    try:
        view = memoryview(content)  # type: ignore[arg-type]
        return view.cast("B") if view.format != "B" or view.ndim != 1 else view
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"the content of {member} {name!r} must be bytes, bytearray or a "
            f"contiguous memoryview, got {type(content).__name__}"
        ) from exc


def _file_pairs(files: FilesToPack, archive: str) -> list[tuple[str, ContentToPack]]:
    try:
        if isinstance(files, Mapping):
            return list(files.items())
        return [(name, content) for name, content in files]
    except (TypeError, ValueError) as exc:
        raise _fail(
            f"the files of {archive} must be a mapping of name to bytes or (name, bytes) "
            f"pairs: {exc}"
        ) from exc


def write_zip(
    files: FilesToPack,
    base_offset: int,
    out: _Writable,
    layout: ZipLayout = ASSOCIATED_FILES_LAYOUT,
) -> int:
    """Write ``files`` as a stored zip archive whose offsets are absolute.

    The archive is what the consumers expect after a model: every entry stored
    (uncompressed), every offset counted from the start of the final file, of
    which the archive is the end. It is deterministic: every entry is dated
    1980-01-01 00:00:00 (tflite-support records the current time), made by Unix
    with permissions ``rw-r--r--``, and entries keep the order of ``files``.
    Names that are not ASCII are written as UTF-8 with flag bit 11 set. Zip64
    records are added only when a size or offset reaches 0xFFFFFFFF, or the
    entry count 0xFFFF.

    Args:
        files: name to content, in the order to write them (a mapping, or an
            iterable of ``(name, content)`` pairs). Names must be base names
            that :func:`name_problem` accepts; contents are bytes-like, or
            :class:`StreamedContent` (a file on disk, copied into ``out``, by
            the kernel when ``out`` is a file, and never held whole).
        base_offset: where the archive starts in the final file (the size of the
            model before it).
        out: a binary stream positioned at ``base_offset`` of the final file
            (only ``write`` is used).
        layout: dates, attributes, alignment and Zip64 thresholds (the
            associated files' by default; see :class:`ZipLayout`).

    Returns:
        The number of bytes written.

    Raises:
        AssociatedFileError: an unsafe, non-base or duplicate name, a name that
            is also the folder of another (``a`` and ``a/b``), or a content
            that is not bytes-like, or a negative ``base_offset``; nothing is
            written then.
        OutputWriteError: ``out`` refused the write.
        MetadataError: (a subclass) a streamed file cannot be read, or changed
            while it was packed.

    Example::

        with open("model.tflite", "ab") as stream:
            write_zip({"labels.txt": b"cat\\ndog"}, model_size, stream)
    """
    if isinstance(base_offset, bool) or not isinstance(base_offset, int) or base_offset < 0:
        raise _fail(f"base_offset must be a non-negative integer, got {base_offset!r}")
    member = layout.member
    planned = []
    seen: set[str] = set()
    folders: dict[str, str] = {}  # folder -> the first name inside it
    offset = base_offset
    for name, content in _file_pairs(files, layout.archive):
        encoded, flags = _encode_name(name, layout)
        if name in seen:
            raise _fail(f"the {member} name {name!r} is given twice")
        parents = _parent_folders(name)
        clash = folders.get(name) or next((p for p in parents if p in seen), None)
        if clash is not None:
            raise _fail(
                f"cannot pack the {member} names {clash!r} and {name!r}: one would be both "
                "a file and the folder of the other, and the bundle could not be extracted"
            )
        seen.add(name)
        for parent in parents:
            folders.setdefault(parent, name)
        if len(encoded) > _MAX_U16:
            raise _fail(
                f"the {member} name {name[:40]!r}… is {len(encoded)} bytes long; a zip "
                f"name holds at most {_MAX_U16}"
            )
        data: memoryview | StreamedContent
        if _is_streamed(content):
            streamed: StreamedContent = content  # type: ignore[assignment]
            data, size = streamed, int(streamed.size)
        else:
            data = _content_view(name, content, member)
            size = len(data)
        local_zip64 = size >= layout.local_zip64_from
        padding = 0
        if layout.alignment is not None:
            # The header's size as MediaPipe's writer measures it: without the
            # Zip64 field below 2**31 bytes; that field's 20 bytes keep the
            # alignment anyway.
            header = _LOCAL.size + len(encoded) + (20 if size > layout.zip64_above else 0)
            padding = layout.alignment - (offset + header) % layout.alignment
        crc = zlib.crc32(data) if isinstance(data, memoryview) else data.crc32()
        planned.append(
            _Planned(
                encoded, flags, data, size, crc & _MAX_U32, offset + padding, padding, local_zip64
            )
        )
        offset += padding + _local_size(planned[-1])
    try:
        return _write_planned(planned, offset, base_offset, out, layout)
    except OSError as exc:
        raise OutputWriteError(f"cannot write {layout.archive}: {exc.strerror or exc}") from exc


def build_zip(
    files: FilesToPack, base_offset: int = 0, layout: ZipLayout = ASSOCIATED_FILES_LAYOUT
) -> bytes:
    """The bytes :func:`write_zip` writes (for small archives built in memory)."""
    stream = io.BytesIO()
    write_zip(files, base_offset, stream, layout)
    return stream.getvalue()


def _local_size(entry: _Planned) -> int:
    extra = 4 + 16 if entry.local_zip64 else 0
    return _LOCAL.size + len(entry.name) + extra + entry.size


def _write_planned(
    planned: list[_Planned], directory_offset: int, base: int, out: _Writable, layout: ZipLayout
) -> int:
    for entry in planned:
        size = entry.size
        big = entry.local_zip64
        extra = (
            _EXTRA_HEADER.pack(_ZIP64_EXTRA_ID, 16) + struct.pack("<2Q", size, size) if big else b""
        )
        recorded = _MAX_U32 if big else size
        if entry.padding:
            out.write(bytes(entry.padding))
        out.write(
            _LOCAL.pack(
                _LOCAL_SIGNATURE,
                _VERSION_ZIP64 if big else _VERSION,
                entry.flags,
                STORED,
                layout.dos_time,
                layout.dos_date,
                entry.crc32,
                recorded,
                recorded,
                len(entry.name),
                len(extra),
            )
            + entry.name
            + extra
        )
        if isinstance(entry.content, memoryview):
            out.write(entry.content)
        else:
            entry.content.copy_to(out)
    directory_size = 0
    for entry in planned:
        record = _central_record(entry, layout)
        out.write(record)
        directory_size += len(record)
    end = _end_records(len(planned), directory_size, directory_offset, layout)
    out.write(end)
    return directory_offset + directory_size + len(end) - base


def _central_record(entry: _Planned, layout: ZipLayout) -> bytes:
    size = entry.size
    zip64_values = []
    recorded_size = size
    if size > layout.zip64_above:
        # Uncompressed then compressed size, as the Zip64 extra field orders them.
        zip64_values += [size, size]
        recorded_size = _MAX_U32
    recorded_offset = entry.header_offset
    if entry.header_offset > layout.zip64_above:
        zip64_values.append(entry.header_offset)
        recorded_offset = _MAX_U32
    extra = b""
    if zip64_values:
        extra = _EXTRA_HEADER.pack(_ZIP64_EXTRA_ID, 8 * len(zip64_values)) + struct.pack(
            f"<{len(zip64_values)}Q", *zip64_values
        )
    version = _VERSION_ZIP64 if zip64_values or entry.local_zip64 else _VERSION
    return (
        _CENTRAL.pack(
            _CENTRAL_SIGNATURE,
            _MADE_BY_UNIX | version,
            version,
            entry.flags,
            STORED,
            layout.dos_time,
            layout.dos_date,
            entry.crc32,
            recorded_size,
            recorded_size,
            len(entry.name),
            len(extra),
            0,
            0,
            0,
            layout.external_attributes,
            recorded_offset,
        )
        + entry.name
        + extra
    )


def _end_records(
    count: int, directory_size: int, directory_offset: int, layout: ZipLayout
) -> bytes:
    records = b""
    if (
        count > layout.zip64_count_above
        or directory_size > layout.zip64_above
        or directory_offset > layout.zip64_above
    ):
        zip64_end_offset = directory_offset + directory_size
        records += _ZIP64_END.pack(
            _ZIP64_END_SIGNATURE,
            _ZIP64_END.size - 12,
            layout.zip64_end_made_by,
            _VERSION_ZIP64,
            0,
            0,
            count,
            count,
            directory_size,
            directory_offset,
        )
        records += _ZIP64_LOCATOR.pack(_ZIP64_LOCATOR_SIGNATURE, 0, zip64_end_offset, 1)
    records += _END.pack(
        _END_SIGNATURE,
        0,
        0,
        min(count, _MAX_U16),
        min(count, _MAX_U16),
        min(directory_size, _MAX_U32),
        min(directory_offset, _MAX_U32),
        0,
    )
    return records
