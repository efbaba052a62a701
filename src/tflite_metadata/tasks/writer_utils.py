"""Helpers for the metadata writers: the core of ``metadata_writers.writer_utils``.

The tensor queries read the model lazily through :class:`~tflite_metadata.model.reader.ModelView`
and look at its first subgraph, as tflite-support does. Their results have
tflite-support's types: names are ``str``, types are plain ``int`` values of
TFLite's ``TensorType``, and a shape is an ``array.array`` of ``int`` (where
tflite-support gives a numpy array; both index, iterate and compare the same
way, and numpy is not needed).
"""

from __future__ import annotations

import array
import os
from collections.abc import Iterable
from typing import IO, Any, Optional, Union

from ..errors import MetadataValidationError, OutputWriteError
from ..fileio import PathLike, atomic_write, read_file
from ..format.flatbuf import BufferLike

__all__ = [
    "compute_flat_size",
    "get_input_tensor_names",
    "get_input_tensor_shape",
    "get_input_tensor_shapes",
    "get_input_tensor_types",
    "get_output_tensor_indices",
    "get_output_tensor_names",
    "get_output_tensor_shape",
    "get_output_tensor_shapes",
    "get_output_tensor_types",
    "get_subgraph",
    "get_tokenizer_associated_files",
    "load_file",
    "save_file",
]


def compute_flat_size(tensor_shape: Optional[Iterable[int]]) -> int:
    """The number of elements of a tensor of shape ``tensor_shape``.

    Args:
        tensor_shape: the shape (any sequence of ints), or None.

    Returns:
        The product of the dimensions; 0 when ``tensor_shape`` is None or empty.

    Raises:
        MetadataValidationError: a dimension is not an integer.
    """
    if tensor_shape is None:
        return 0
    dims = list(tensor_shape)
    if not dims:
        return 0
    size = 1
    for dim in dims:
        try:
            size *= int(dim)
        except (TypeError, ValueError):
            raise MetadataValidationError(
                f"tensor shape dimensions should be integers, but got {dim!r} in {dims!r}"
            ) from None
    return size


def _tensors(model_buffer: BufferLike, output: bool) -> list[Any]:
    # Imported here so that this module (and the writers) import without the
    # model reader; it is needed only when a model is actually read.
    from ..model.reader import ModelView

    view = ModelView(model_buffer)
    return list(view.outputs(0) if output else view.inputs(0))


def get_input_tensor_names(model_buffer: BufferLike) -> list[str]:
    """The names of the first subgraph's input tensors, in order.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return [tensor.name for tensor in _tensors(model_buffer, output=False)]


def get_output_tensor_names(model_buffer: BufferLike) -> list[str]:
    """The names of the first subgraph's output tensors, in order.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return [tensor.name for tensor in _tensors(model_buffer, output=True)]


def get_output_tensor_indices(model_buffer: BufferLike) -> Any:
    """The indices (in the first subgraph's tensors) of its output tensors, in order.

    As MediaPipe's ``writer_utils``: the subgraph's ``OutputsAsNumpy()``, an
    int32 numpy array (0 when the subgraph has no outputs vector); a list of
    ``int`` when numpy is not importable.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    try:
        import numpy  # noqa: F401
    except ImportError:
        return [tensor.index for tensor in _tensors(model_buffer, output=True)]
    return get_subgraph(model_buffer).OutputsAsNumpy()


def get_subgraph(model_buffer: BufferLike) -> Any:
    """The model's first subgraph, as flatc's ``SubGraph`` reader (MediaPipe's ``get_subgraph``).

    The reader is the model schema's (:mod:`tflite_metadata.schema_py_generated`),
    bounds-checked: an access beyond the buffer raises rather than reading garbage.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model, or has no subgraph.
    """
    from ..errors import ModelFormatError
    from ..format import model_schema
    from ..format.codec import codec_for
    from ..model.reader import model_bytes

    data = model_bytes(model_buffer, paths=False)
    model = codec_for(model_schema.SCHEMA).readers["Model"].GetRootAs(data, 0)
    if model.SubgraphsLength() == 0:
        raise ModelFormatError("model: the model has no subgraph")
    return model.Subgraphs(0)


def get_input_tensor_types(model_buffer: BufferLike) -> list[int]:
    """The ``TensorType`` values (plain ints) of the first subgraph's inputs.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return [int(tensor.type) for tensor in _tensors(model_buffer, output=False)]


def get_output_tensor_types(model_buffer: BufferLike) -> list[int]:
    """The ``TensorType`` values (plain ints) of the first subgraph's outputs.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return [int(tensor.type) for tensor in _tensors(model_buffer, output=True)]


def get_input_tensor_shapes(model_buffer: BufferLike) -> list[tuple[int, ...]]:
    """The shapes of the first subgraph's inputs, as tuples.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return [tuple(tensor.shape) for tensor in _tensors(model_buffer, output=False)]


def get_output_tensor_shapes(model_buffer: BufferLike) -> list[tuple[int, ...]]:
    """The shapes of the first subgraph's outputs, as tuples.

    Raises:
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return [tuple(tensor.shape) for tensor in _tensors(model_buffer, output=True)]


def _shape_at(model_buffer: BufferLike, tensor_index: int, output: bool) -> array.array[int]:
    tensors = _tensors(model_buffer, output)
    kind = "output" if output else "input"
    if not isinstance(tensor_index, int) or not 0 <= tensor_index < len(tensors):
        raise MetadataValidationError(
            f"{kind} tensor index should be in [0, {len(tensors)}) for this model, "
            f"but got {tensor_index!r}."
        )
    return array.array("i", tensors[tensor_index].shape)


def get_input_tensor_shape(model_buffer: BufferLike, tensor_index: int) -> array.array[int]:
    """The shape of input ``tensor_index`` of the first subgraph.

    Returns:
        An ``array.array("i")`` (tflite-support returns a numpy int32 array).

    Raises:
        MetadataValidationError: there is no such input.
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return _shape_at(model_buffer, tensor_index, output=False)


def get_output_tensor_shape(model_buffer: BufferLike, tensor_index: int) -> array.array[int]:
    """The shape of output ``tensor_index`` of the first subgraph.

    Returns:
        An ``array.array("i")``.

    Raises:
        MetadataValidationError: there is no such output.
        ModelFormatError: the buffer is not a readable TFLite model.
    """
    return _shape_at(model_buffer, tensor_index, output=True)


def load_file(file_path: PathLike, mode: str = "rb") -> Union[str, bytes]:
    """Load a file.

    Args:
        file_path: the file's path.
        mode: ``"rb"`` for bytes, ``"r"``/``"rt"`` for UTF-8 text.

    Returns:
        The file's contents, ``bytes`` or ``str`` according to ``mode``.

    Raises:
        MissingFileError: the file does not exist (also a ``FileNotFoundError``).
        AssociatedFileError: the file cannot be read, or is not UTF-8 in text mode.
        MetadataValidationError: ``mode`` is not a read mode.
    """
    from ..errors import AssociatedFileError

    if mode not in ("rb", "r", "rt", "br", "tr"):
        raise MetadataValidationError(
            f"mode should be 'rb' (bytes) or 'r'/'rt' (text), but got {mode!r}."
        )
    data = read_file(file_path, error=AssociatedFileError)
    if "b" in mode:
        return data
    try:
        # Universal newlines, as open(..., "r") gives.
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise AssociatedFileError(
            f"file '{os.fspath(file_path)}' is not valid UTF-8 (line {line}); "
            "load it with mode='rb'"
        ) from None


def save_file(
    file_bytes: Union[bytes, bytearray, memoryview, str],
    save_to_path: PathLike,
    mode: str = "wb",
) -> None:
    """Save bytes (or text) to a file, atomically.

    The data goes to a temporary file in the target folder, which then replaces
    ``save_to_path``: a failure leaves the previous file (if any) untouched and
    nothing partial behind.

    Args:
        file_bytes: the bytes to save (a ``str`` in text mode, saved as UTF-8).
        save_to_path: the file's path.
        mode: ``"wb"`` for bytes, ``"w"``/``"wt"`` for text.

    Raises:
        OutputWriteError: the file cannot be written.
        MetadataValidationError: ``mode`` is not a write mode, or the data does
            not match it.
    """
    if mode not in ("wb", "w", "wt", "bw", "tw"):
        raise MetadataValidationError(
            f"mode should be 'wb' (bytes) or 'w'/'wt' (text), but got {mode!r}."
        )
    if "b" in mode:
        if isinstance(file_bytes, str):
            raise MetadataValidationError("save_file: mode 'wb' needs bytes, but got a str.")
        try:
            data: Any = memoryview(file_bytes)
        except TypeError:
            raise MetadataValidationError(
                "save_file: expected bytes, bytearray or memoryview, "
                f"but got {type(file_bytes).__name__}."
            ) from None
    else:
        if not isinstance(file_bytes, str):
            raise MetadataValidationError(
                f"save_file: text mode {mode!r} needs a str, but got {type(file_bytes).__name__}."
            )
        data = file_bytes.encode("utf-8")

    def write(stream: IO[bytes]) -> None:
        stream.write(data)

    try:
        atomic_write(save_to_path, write)
    except OutputWriteError:
        raise
    except OSError as exc:  # pragma: no cover - atomic_write wraps OSError itself
        raise OutputWriteError(
            f"cannot write {os.fspath(save_to_path)!r}: {exc.strerror or exc}"
        ) from exc


def get_tokenizer_associated_files(tokenizer_options: Any) -> list[Optional[str]]:
    """The names of the files packed in tokenizer options.

    Args:
        tokenizer_options: a ``BertTokenizerOptionsT``, ``RegexTokenizerOptionsT``
            or ``SentencePieceTokenizerOptionsT`` (anything else gives ``[]``).

    Returns:
        The vocabulary file names, then (SentencePiece) the model file names.
    """
    from ..format.flatc_module import api as _fb

    if not tokenizer_options:
        return []

    def names(files: Any) -> list[Optional[str]]:
        return [file.name for file in files or []]

    if isinstance(tokenizer_options, (_fb.BertTokenizerOptionsT, _fb.RegexTokenizerOptionsT)):
        return names(tokenizer_options.vocabFile)
    if isinstance(tokenizer_options, _fb.SentencePieceTokenizerOptionsT):
        return names(tokenizer_options.vocabFile) + names(tokenizer_options.sentencePieceModel)
    return []
