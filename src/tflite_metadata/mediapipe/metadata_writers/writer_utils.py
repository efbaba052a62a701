"""Drop-in for MediaPipe's ``metadata_writers.writer_utils``: the model's tensors.

A re-export of :mod:`tflite_metadata.tasks.writer_utils`. ``get_output_tensor_indices``
gives a list of ``int`` (MediaPipe: a numpy array). MediaPipe's ``get_subgraph``,
which returns flatc's generated ``SubGraph`` reader, is not provided.
"""

from __future__ import annotations

from ...tasks.writer_utils import (
    get_input_tensor_names,
    get_input_tensor_types,
    get_output_tensor_indices,
    get_output_tensor_names,
    get_output_tensor_types,
)

__all__ = [
    "get_input_tensor_names",
    "get_input_tensor_types",
    "get_output_tensor_indices",
    "get_output_tensor_names",
    "get_output_tensor_types",
]
