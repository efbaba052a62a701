"""Reading inputs and writing outputs safely.

Inputs are mapped, not read, so a large model costs no memory to open. Outputs
are written to a temporary file in the destination folder and renamed over the
destination only when complete: a failure leaves neither a partial output nor a
damaged input, even when the output path names the input itself.

Every input named by a path is opened by :func:`open_input`: once, without
blocking (a FIFO with no writer would otherwise hang the open), and refused at
once unless the open file is a regular file. A device such as ``/dev/zero``
would be read until memory runs out, a FIFO would block, and a folder cannot be
read; each gets an error naming the path and what it is. The check is made on
the open descriptor (``fstat``), so nothing can be swapped in between the check
and the read.

Associated files given by path are packed through :class:`InputFile`: the open
file, whose bytes are read in bounded pieces or copied by the kernel into the
output, and whose CRC-32 is computed piece by piece, never by holding the file.
"""

from __future__ import annotations

import contextlib
import errno
import io
import mmap
import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Callable, Union

from .errors import InputReadError, MetadataError, MissingFileError, OutputWriteError

__all__ = [
    "READ_CHUNK",
    "InputFile",
    "PathLike",
    "atomic_output",
    "atomic_write",
    "copy_range",
    "crc32_range",
    "file_kind",
    "get_path_to_datafile",
    "map_file",
    "map_output",
    "open_input",
    "open_mapped",
    "read_file",
    "same_content",
]

PathLike = Union[str, "os.PathLike[str]"]


@contextlib.contextmanager
def map_file(path: PathLike) -> Iterator[memoryview]:
    """Map ``path`` read-only and yield a memoryview of its bytes.

    Raises:
        MissingFileError: the file does not exist (message as tflite-support's).
    """
    with open_mapped(path) as (_, view):
        yield view


@contextlib.contextmanager
def open_mapped(path: PathLike) -> Iterator[tuple[IO[bytes], memoryview]]:
    """Open ``path`` for reading and map it; yield the open file and the mapping's view.

    The file is there for :func:`copy_range`, which copies from it without
    touching the mapping (and so without growing this process's memory).

    Raises:
        MissingFileError: the file does not exist (message as tflite-support's).
        InputReadError: it is not a regular file (a folder, a device, a FIFO …)
            or cannot be opened.
    """
    handle = open_input(path)
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            yield handle, memoryview(b"")
            return
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        view = memoryview(mapping)
        try:
            yield handle, view
        finally:
            view.release()
            # A caller may still hold a slice of the mapping; it is closed when that
            # slice is collected.
            with contextlib.suppress(BufferError):
                mapping.close()


@contextlib.contextmanager
def map_output(stream: IO[bytes]) -> Iterator[memoryview]:
    """Map what has been written to ``stream`` (from :func:`atomic_output`) for reading."""
    stream.flush()
    if os.fstat(stream.fileno()).st_size == 0:
        yield memoryview(b"")
        return
    mapping = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapping)
    try:
        yield view
    finally:
        view.release()
        with contextlib.suppress(BufferError):
            mapping.close()


def read_file(path: PathLike, error: type[MetadataError] = InputReadError) -> bytes:
    """Read a whole (small) file.

    Raises:
        MissingFileError: the file does not exist (tflite-support's message).
        MetadataError: (``error``, :class:`InputReadError` by default) it cannot be
            read: not a regular file (a folder, a device, a FIFO …), no
            permission, a NUL character in the path.
    """
    with open_input(path, error) as handle:
        try:
            return handle.read()
        except OSError as exc:
            raise _input_error(path, exc, error) from exc


#: Flags of :func:`open_input`: read only, never block (a FIFO with no writer
#: would block the open), no controlling terminal, not inherited, binary (Windows).
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
#: Whether the open is non-blocking, and must be made blocking again afterwards.
_NONBLOCKING_OPEN = hasattr(os, "O_NONBLOCK")


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, for a message: ``"a folder"``, ``"a FIFO"`` …"""
    for test, kind in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return f"a special file (type {stat.S_IFMT(mode):#o})"


def open_input(
    path: PathLike, error: type[MetadataError] = InputReadError, what: str = "file"
) -> IO[bytes]:
    """Open ``path`` for reading, refusing at once anything but a regular file.

    The file is opened once, with ``O_NONBLOCK`` where the platform has it, so
    that a FIFO with no writer cannot block the open; then the open descriptor
    is examined (``fstat``, so that nothing can be swapped in between) and
    anything that is not a regular file is closed and refused: a device such as
    ``/dev/zero`` would never end, a FIFO would block, a folder cannot be read.
    A symbolic link is followed, and judged by what it leads to. The returned
    file blocks again as usual.

    Args:
        path: the file's path.
        error: the error raised when the file cannot be read.
        what: what the file is, for messages (``"cannot read {what} 'PATH': …"``).

    Returns:
        The file, open for reading in binary mode; the caller closes it.

    Raises:
        MissingFileError: the file does not exist (tflite-support's message).
        MetadataError: (``error``) it is not a regular file (the message names
            the path and what it is: a folder, a character device, a FIFO …),
            or it cannot be opened (no permission, a NUL character in the path).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError, TypeError) as exc:
        raise _input_error(path, exc, error, what) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = file_kind(mode)
            if os.path.islink(path):  # only for the message: the open file was judged
                kind = "a symbolic link to " + kind
            raise error(f"cannot read {what} '{os.fspath(path)}': it is {kind}, not a regular file")
        if _NONBLOCKING_OPEN:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, OSError) and not isinstance(exc, MetadataError):
            raise _input_error(path, exc, error, what) from exc
        raise


def _input_error(
    path: PathLike,
    exc: OSError | ValueError | TypeError,
    error: type[MetadataError] = InputReadError,
    what: str = "file",
) -> MetadataError:
    """The package's error for an input file that cannot be opened or read."""
    if isinstance(exc, FileNotFoundError):
        return MissingFileError(f"File, '{os.fspath(path)}', does not exist.")
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if isinstance(exc, ValueError) and "null" in reason:
        # A NUL in the path: os.open words it differently from one Python to the next
        # ("embedded null character in path" on 3.13); say it as open() always has.
        reason = "embedded null byte"
    if isinstance(exc, PermissionError):
        # Windows refuses to open a folder as a file ("Permission denied"): say what it is.
        with contextlib.suppress(OSError, ValueError, TypeError):
            mode = os.stat(path).st_mode
            if not stat.S_ISREG(mode):
                reason = f"it is {file_kind(mode)}, not a regular file"
    return error(f"cannot read {what} '{os.fspath(path)}': {reason}")


#: Bytes read at a time when a file is read through this process's memory.
READ_CHUNK = 1 << 20

#: ``os.preadv`` where the platform has it (reads at a position, leaving the file's
#: own position alone); elsewhere a seek and a read.
_PREADV: Callable[..., int] | None = getattr(os, "preadv", None)


class InputFile:
    """A regular file named by the caller, open for reading, to be packed where it is.

    Made by :meth:`open` (through :func:`open_input`, so never a device, a FIFO
    or a folder). Its size is the size it had when opened. Its bytes are never
    held whole: :meth:`chunks` reads them in pieces of :data:`READ_CHUNK`,
    :meth:`copy_to` has the kernel copy them into another file where it can
    (:func:`copy_range`), and the CRC-32 the zip records is computed piece by
    piece while reading (:meth:`crc32`). :meth:`read` returns them whole, for
    the in-memory populate, which holds its result anyway.

    A file that changes while it is packed is reported, not packed half-old,
    half-new: its size and modification time must stay what they were when it
    was opened (:meth:`check_unchanged`), and it must not end early.

    Use it as a context manager, or :meth:`close` it.
    """

    def __init__(self, handle: IO[bytes], path: PathLike, error: type[MetadataError]) -> None:
        self._handle = handle
        self.path = os.fspath(path)
        self._error = error
        opened = os.fstat(handle.fileno())
        self._identity = (opened.st_dev, opened.st_ino)
        self._version = (opened.st_size, opened.st_mtime_ns)
        #: The size in bytes when the file was opened: the bytes that are packed.
        self.size: int = opened.st_size
        self._crc: int | None = None

    @classmethod
    def open(cls, path: PathLike, error: type[MetadataError] = InputReadError) -> InputFile:
        """Open the regular file ``path`` (see :func:`open_input`).

        Raises:
            MissingFileError: the file does not exist.
            MetadataError: (``error``) not a regular file, or it cannot be opened.
        """
        handle = open_input(path, error)
        try:
            return cls(handle, path, error)
        except OSError as exc:
            handle.close()
            raise _input_error(path, exc, error) from exc

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<InputFile {self.path!r}, {self.size} bytes>"

    def close(self) -> None:
        """Close the file."""
        self._handle.close()

    def same_file(self, other: InputFile) -> bool:
        """Whether ``other`` is the same file (device and inode), opened again."""
        return self._identity == other._identity

    def chunks(self, size: int | None = None) -> Iterator[memoryview]:
        """The file's bytes in order, in pieces of ``size`` (default :data:`READ_CHUNK`).

        The pieces are views of one reused buffer: each is valid until the next
        one is asked for. A complete pass also computes the CRC-32 (see
        :meth:`crc32`). Passes may interleave: each reads at its own positions.

        Raises:
            MetadataError: (the error given at open) reading fails, or the
                file ends before the size it had when opened.
        """
        buffer = bytearray(max(1, min(size or READ_CHUNK, self.size)))
        view = memoryview(buffer)
        crc = 0
        position = 0
        while position < self.size:
            piece = view[: min(len(buffer), self.size - position)]
            filled = 0
            while filled < len(piece):
                count = self._read_at(position + filled, piece[filled:])
                if not count:
                    raise self._changed(f"it ended after {position + filled} of {self.size} bytes")
                filled += count
            crc = zlib.crc32(piece, crc)
            yield piece
            position += len(piece)
        self._crc = crc & 0xFFFFFFFF

    def _read_at(self, position: int, into: memoryview) -> int:
        """Read into ``into`` from ``position``; the count read (0 at the end of the file)."""
        try:
            if _PREADV is not None:
                return int(_PREADV(self._handle.fileno(), [into], position))
            self._handle.seek(position)
            return int(self._handle.readinto(into))  # type: ignore[attr-defined]
        except OSError as exc:
            raise _input_error(self.path, exc, self._error) from exc

    def crc32(self) -> int:
        """The CRC-32 of the file's bytes, computed once, reading the file in pieces."""
        if self._crc is None:
            for _ in self.chunks():
                pass
        assert self._crc is not None
        return self._crc

    def read(self) -> bytes:
        """The whole file (for in-memory results; streaming callers use :meth:`copy_to`).

        Raises:
            MetadataError: as :meth:`chunks`.
        """
        try:
            self._handle.seek(0)
            data = self._handle.read(self.size)
        except OSError as exc:
            raise _input_error(self.path, exc, self._error) from exc
        if len(data) != self.size:
            raise self._changed(f"it ended after {len(data)} of {self.size} bytes")
        if self._crc is None:
            self._crc = zlib.crc32(data) & 0xFFFFFFFF
        return data

    def copy_to(self, target: Any) -> None:
        """Append the file's bytes to ``target``, in bounded memory.

        Into a file (anything with a working ``fileno()``) the kernel copies them
        (:func:`copy_range`); into anything else (a ``BytesIO`` …) they are
        written piece by piece. Afterwards the file must be as it was when
        opened (:meth:`check_unchanged`).

        Raises:
            MetadataError: (the error given at open) the file changed or ended early.
            OSError: writing failed.
        """
        if _has_fileno(target):
            try:
                copy_range(self._handle, target, 0, self.size)
            except OSError:
                self.check_unchanged()
                raise
        else:
            for piece in self.chunks():
                target.write(piece)
        self.check_unchanged()

    def check_unchanged(self) -> None:
        """Raise unless the file still has the size and modification time it had when opened.

        Raises:
            MetadataError: (the error given at open) it changed.
        """
        try:
            now = os.fstat(self._handle.fileno())
        except OSError as exc:
            raise _input_error(self.path, exc, self._error) from exc
        if (now.st_size, now.st_mtime_ns) != self._version:
            raise self._changed(
                f"it was {self._version[0]} bytes when opened and is now {now.st_size}"
                if now.st_size != self._version[0]
                else "it was modified"
            )

    def _changed(self, how: str) -> MetadataError:
        return self._error(
            f"file '{self.path}' changed while it was being packed ({how}); "
            "packing it again reads it anew"
        )


def crc32_range(source: IO[bytes], start: int, end: int) -> int:
    """The CRC-32 of bytes ``[start, end)`` of the file ``source``, in bounded memory.

    Read in pieces of :data:`READ_CHUNK` into one buffer, never through a
    mapping: a multi-gigabyte model inside a ``.task`` bundle is verified without
    its pages ever counting in this process's memory.

    Raises:
        OSError: reading failed, or the file ends before ``end`` (callers wrap it).
    """
    buffer = bytearray(max(1, min(READ_CHUNK, end - start)))
    view = memoryview(buffer)
    crc = 0
    position = start
    while position < end:
        piece = view[: min(len(buffer), end - position)]
        if _PREADV is not None:
            count = int(_PREADV(source.fileno(), [piece], position))
        else:
            source.seek(position)
            count = int(source.readinto(piece))  # type: ignore[attr-defined]
        if count <= 0:
            raise OSError(errno.EIO, f"unexpected end of file at {position} (expected {end})")
        crc = zlib.crc32(piece[:count], crc)
        position += count
    return crc & 0xFFFFFFFF


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False
    return True


def same_content(first: bytes | InputFile, second: bytes | InputFile) -> bool:
    """Whether two associated files hold the same bytes, comparing files piece by piece."""
    if isinstance(first, InputFile) and isinstance(second, InputFile):
        if first.size != second.size:
            return False
        if first.same_file(second):
            return True
        return all(a == b for a, b in zip(first.chunks(), second.chunks()))
    if isinstance(first, InputFile) or isinstance(second, InputFile):
        file, data = (first, second) if isinstance(first, InputFile) else (second, first)
        assert isinstance(file, InputFile) and not isinstance(data, InputFile)
        if file.size != len(data):
            return False
        position = 0
        for piece in file.chunks():
            if piece != data[position : position + len(piece)]:
                return False
            position += len(piece)
        return True
    return bytes(first) == bytes(second)


def atomic_write(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``path`` through ``write(stream)``, atomically (see :func:`atomic_output`).

    Raises:
        OutputWriteError: the folder is not writable, the disk is full, … (the
            original ``OSError`` is chained).
    """
    with atomic_output(path) as stream:
        write(stream)


@contextlib.contextmanager
def atomic_output(path: PathLike) -> Iterator[IO[bytes]]:
    """Yield a stream whose bytes replace ``path`` when the ``with`` block completes.

    The data goes to a temporary file beside ``path``, which replaces ``path``
    only once the block has exited without an exception; on any failure the
    temporary file is removed and ``path`` is left as it was. Inputs read inside
    the block are closed before the rename, which some platforms need to replace
    a file that was open.

    When ``path`` exists already (an in-place populate replaces its own input),
    the new data is flushed to disk (``fsync``) before the rename, so that even
    a power cut leaves the old file or the new one there, never neither. A new
    file is renamed into place as soon as it is written, as ``cp`` leaves its
    copy: every process sees it whole at once, but a power cut before the
    kernel writes it back may leave it incomplete (the input is untouched).
    Waiting for the disk would cost more than the copy: on the benchmark
    machine, 1 GB took 0.32-0.35 s to copy and 0.71-0.80 s to copy and sync.

    Raises:
        OutputWriteError: ``path`` is a folder, the folder is not writable, the
            disk is full, … (the original ``OSError`` is chained).
    """
    target = Path(path)
    if target.is_dir():
        raise OutputWriteError(f"cannot write {os.fspath(path)!r}: it is a folder")
    folder = target.parent if str(target.parent) else Path(".")
    replacing = target.exists()
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputWriteError(f"cannot write {os.fspath(path)!r}: {exc.strerror or exc}") from exc
    try:
        # Readable too, so that the output can be checked before it replaces anything.
        with os.fdopen(fd, "w+b") as stream:
            if replacing:
                _SYNCED_OUTPUTS.add(fd)
            try:
                yield stream
                stream.flush()
                if replacing:
                    os.fsync(fd)
            finally:
                _SYNCED_OUTPUTS.discard(fd)
        if target.exists():
            # Keep the permission bits of the file being replaced.
            os.chmod(temp_name, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp_name, 0o666 & ~umask)
        os.replace(temp_name, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        # An input's error raised inside the block (MissingFileError is an OSError too)
        # is about that input, not about the output.
        if isinstance(exc, OSError) and not isinstance(exc, MetadataError):
            raise OutputWriteError(
                f"cannot write {os.fspath(path)!r}: {exc.strerror or exc}"
            ) from exc
        raise


#: The open outputs of :func:`atomic_output` that are fsynced before they replace
#: a file: :func:`copy_range` starts the disk's writes early for them.
_SYNCED_OUTPUTS: set[int] = set()

#: Bytes per read when a range is copied through this process's memory.
_COPY_BUFFER = 1 << 20


def copy_range(source: IO[bytes], target: IO[bytes], start: int, end: int) -> None:
    """Append bytes ``[start, end)`` of the file ``source`` to the file ``target``.

    The kernel copies them (``copy_file_range``, else ``sendfile``) where the
    platform allows, so they never pass through this process's memory; elsewhere
    they go through a small buffer. Either way memory stays bounded.

    The kernel copies go in pieces of :data:`_KERNEL_COPY_PIECE`. Into an output
    that :func:`atomic_output` will fsync, the disk write of each piece is
    started as soon as it is copied, so that the disk works while the next
    pieces are copied and the ``fsync`` finds little left to write (measured,
    1 GB: 0.51-0.54 s instead of 0.71-0.80 s); into any other file that would
    only slow the copy (0.41-0.43 s instead of 0.32-0.35 s). Each piece ends on a
    multiple of the piece size in ``target``, so that every piece but the first
    starts there: the kernel then fills the target's page cache in whole large
    blocks. Measured on Linux 6.18 (ext4), 1 GB copied behind a 4096-byte
    head took 0.36-0.40 s that way and 0.49-0.56 s in pieces that each
    started 4096 bytes past a boundary (``cp``: 0.32-0.33 s).

    Raises:
        OSError: reading or writing failed (callers wrap it).
    """
    target.flush()
    source_fd, target_fd = source.fileno(), target.fileno()
    writeback = target_fd in _SYNCED_OUTPUTS
    position = start
    for kernel_copy in (_copy_file_range, _sendfile):
        while position < end:
            written_at = _tell(target_fd)
            count = min(end - position, _KERNEL_COPY_PIECE)
            if written_at is not None:
                count = min(count, _KERNEL_COPY_PIECE - written_at % _KERNEL_COPY_PIECE)
            try:
                copied = kernel_copy(source_fd, target_fd, position, count)
            except OSError as exc:
                if exc.errno not in _NOT_SUPPORTED:
                    raise
                break
            if copied == 0:
                break
            if writeback and written_at is not None:
                _start_writeback(target_fd, written_at, copied)
            position += copied
        if position >= end:
            return
    buffer = bytearray(min(_COPY_BUFFER, end - position))
    view = memoryview(buffer)
    while position < end:
        source.seek(position)
        count = source.readinto(view[: min(len(buffer), end - position)])  # type: ignore[attr-defined]
        if count <= 0:
            raise OSError(errno.EIO, f"unexpected end of file at {position} (expected {end})")
        _write_all(target_fd, view[:count])
        position += count


_NOT_SUPPORTED = {errno.ENOSYS, errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}

#: Bytes per kernel copy call. Small enough that the disk starts writing early
#: (see :func:`copy_range`); measured on Linux, 16 MiB beat 64 and 256 MiB.
_KERNEL_COPY_PIECE = 16 << 20


def _copy_file_range(source_fd: int, target_fd: int, position: int, count: int) -> int:
    copy = getattr(os, "copy_file_range", None)
    if copy is None:
        raise OSError(errno.ENOSYS, "copy_file_range is not available")
    return int(copy(source_fd, target_fd, count, position))


def _sendfile(source_fd: int, target_fd: int, position: int, count: int) -> int:
    if not sys.platform.startswith("linux"):  # elsewhere sendfile needs a socket
        raise OSError(errno.ENOSYS, "sendfile to a file is not available")
    return int(os.sendfile(target_fd, source_fd, position, count))


def _tell(fd: int) -> int | None:
    """The file position of ``fd``; None for a pipe or a socket."""
    try:
        return os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return None


def _start_writeback(fd: int, start: int, count: int) -> None:
    """Have the kernel start writing ``[start, start + count)`` of ``fd`` to disk, not wait.

    Python has no ``sync_file_range``; on Linux ``POSIX_FADV_DONTNEED`` starts the
    writeback of dirty pages, and nearly all of them stay cached, as they are
    still being written when it would drop them. Elsewhere this does nothing:
    ``fsync`` writes it all later.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        advise(fd, start, count, os.POSIX_FADV_DONTNEED)


def _write_all(fd: int, data: memoryview) -> None:
    while len(data):
        written = os.write(fd, data)
        data = data[written:]


def get_path_to_datafile(path: str) -> str:
    """``path`` relative to the folder of the file that calls this function.

    tflite-support's ``metadata.get_path_to_datafile`` (a stand-in for
    TensorFlow's ``resource_loader.get_path_to_datafile``): the folder of the
    caller's source file joined with ``path``, which is neither checked nor
    normalized.

    Example::

        labels = get_path_to_datafile("testdata/labels.txt")  # beside this script
    """
    caller = sys._getframe(1)
    return os.path.join(os.path.dirname(caller.f_code.co_filename), path)
