"""Drop-in for ``tflite_support.metadata_writers.writer_utils``.

A re-export of :mod:`tflite_metadata.tasks.writer_utils`.
"""

from __future__ import annotations

from ..tasks.writer_utils import (
    compute_flat_size,
    get_input_tensor_names,
    get_input_tensor_shape,
    get_input_tensor_shapes,
    get_input_tensor_types,
    get_output_tensor_names,
    get_output_tensor_shape,
    get_output_tensor_shapes,
    get_output_tensor_types,
    get_tokenizer_associated_files,
    load_file,
    save_file,
)

__all__ = [
    "compute_flat_size",
    "get_input_tensor_names",
    "get_input_tensor_shape",
    "get_input_tensor_shapes",
    "get_input_tensor_types",
    "get_output_tensor_names",
    "get_output_tensor_shape",
    "get_output_tensor_shapes",
    "get_output_tensor_types",
    "get_tokenizer_associated_files",
    "load_file",
    "save_file",
]
