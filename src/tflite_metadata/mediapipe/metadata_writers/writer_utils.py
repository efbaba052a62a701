"""Drop-in for MediaPipe's ``metadata_writers.writer_utils``: the model's tensors.

A re-export of :mod:`tflite_metadata.tasks.writer_utils`: ``get_subgraph`` returns
the model schema's ``SubGraph`` reader, ``get_output_tensor_indices`` a numpy array,
as MediaPipe's (a list of ``int`` when numpy is not importable).
"""

from __future__ import annotations

from ...tasks.writer_utils import (
    get_input_tensor_names,
    get_input_tensor_types,
    get_output_tensor_indices,
    get_output_tensor_names,
    get_output_tensor_types,
    get_subgraph,
)

__all__ = [
    "get_input_tensor_names",
    "get_input_tensor_types",
    "get_output_tensor_indices",
    "get_output_tensor_names",
    "get_output_tensor_types",
    "get_subgraph",
]
