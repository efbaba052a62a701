"""Tests of tflite_metadata._model_builder: the models are well formed, and LiteRT runs them.

Structure is read back with the package's bounds-checked FlatBuffer reader
(:mod:`tflite_metadata.format.flatbuf`) and the field ids of
:mod:`tflite_metadata.format.model_schema`, independently of the builder's code.
The LiteRT interpreter (``tests/consumers/litert_runner.py``, in the MediaPipe
environment) must load every model and compute, for the float models, what a
pure-Python fully-connected layer and softmax compute from the weights stored
in the file.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

import consumer_env
from shared_data import TESTDATA
from tflite_metadata import _model_builder as model_builder
from tflite_metadata.format.flatbuf import FlatBufferReader, Table
from tflite_metadata.format.model_schema import (
    BUFFER_LOCATION_NAME,
    BUFFER_LOCATION_OUTSIDE,
    EXTERNAL_DATA_ALIGNMENT,
    BufferField,
    BuiltinOperator,
    BuiltinOptions,
    CastOptionsField,
    MetadataField,
    ModelField,
    OperatorCodeField,
    OperatorField,
    QuantizationParametersField,
    SignatureDefField,
    SoftmaxOptionsField,
    SubGraphField,
    TensorField,
    TensorMapField,
    TensorType,
)

build = model_builder.build_audio_classifier
build_image = model_builder.build_image_classifier

# -- reading a model back -------------------------------------------------------------------


@dataclass
class Tensor:
    name: str
    type: int
    shape: list[int]
    buffer: int
    quantization: Optional[tuple[list[float], list[int]]]
    table: Table


@dataclass
class Operator:
    code: int
    deprecated_code: int
    inputs: list[int]
    outputs: list[int]
    options_type: int
    options: Optional[Table]


@dataclass
class Buffer:
    table: Table
    data: Optional[bytes]
    offset: int
    size: int


class Parsed:
    """A model read back field by field."""

    def __init__(self, model: bytes | bytearray | memoryview) -> None:
        self.data = memoryview(model)
        reader = FlatBufferReader(self.data, what="model")
        self.identifier = reader.identifier()
        self.root = root = reader.root("Model")
        self.version = root.scalar(ModelField.VERSION, "uint", 0)
        self.description = root.string(ModelField.DESCRIPTION)
        subgraphs = root.vector(ModelField.SUBGRAPHS, 4)
        assert subgraphs is not None and len(subgraphs) == 1
        subgraph = subgraphs.table(0)
        self.subgraph_name = subgraph.string(SubGraphField.NAME)
        self.inputs = self._ints(subgraph, SubGraphField.INPUTS)
        self.outputs = self._ints(subgraph, SubGraphField.OUTPUTS)
        tensors = subgraph.vector(SubGraphField.TENSORS, 4)
        assert tensors is not None
        self.tensors = [self._tensor(t) for t in tensors.tables()]
        codes = root.vector(ModelField.OPERATOR_CODES, 4)
        assert codes is not None
        self.operator_codes = [
            (
                int(c.scalar(OperatorCodeField.BUILTIN_CODE, "int", 0)),
                int(c.scalar(OperatorCodeField.DEPRECATED_BUILTIN_CODE, "byte", 0)),
                int(c.scalar(OperatorCodeField.VERSION, "int", 1)),
            )
            for c in codes.tables()
        ]
        operators = subgraph.vector(SubGraphField.OPERATORS, 4)
        assert operators is not None
        self.operators = [self._operator(op) for op in operators.tables()]
        buffers = root.vector(ModelField.BUFFERS, 4)
        assert buffers is not None
        self.buffers = [self._buffer(b) for b in buffers.tables()]
        metadata = root.vector(ModelField.METADATA, 4)
        self.metadata = {
            (m.string(MetadataField.NAME) or b"").decode(): int(
                m.scalar(MetadataField.BUFFER, "uint", 0)
            )
            for m in (metadata.tables() if metadata is not None else [])
        }
        signatures = root.vector(ModelField.SIGNATURE_DEFS, 4)
        self.signatures = [
            self._signature(s) for s in (signatures.tables() if signatures is not None else [])
        ]

    @staticmethod
    def _ints(table: Table, field_id: int) -> list[int]:
        vector = table.vector(field_id, 4)
        return [int(v) for v in vector.scalars("int")] if vector is not None else []

    def _tensor(self, table: Table) -> Tensor:
        quantization = None
        params = table.table(TensorField.QUANTIZATION)
        if params is not None:
            scale = params.vector(QuantizationParametersField.SCALE, 4)
            zero_point = params.vector(QuantizationParametersField.ZERO_POINT, 8)
            # The converter writes an empty QuantizationParameters table on float tensors.
            if scale is not None and zero_point is not None:
                quantization = (
                    [float(v) for v in scale.scalars("float")],
                    [int(v) for v in zero_point.scalars("long")],
                )
        return Tensor(
            name=(table.string(TensorField.NAME) or b"").decode(),
            type=int(table.scalar(TensorField.TYPE, "byte", 0)),
            shape=self._ints(table, TensorField.SHAPE),
            buffer=int(table.scalar(TensorField.BUFFER, "uint", 0)),
            quantization=quantization,
            table=table,
        )

    def _operator(self, table: Table) -> Operator:
        index = int(table.scalar(OperatorField.OPCODE_INDEX, "uint", 0))
        code, deprecated, _ = self.operator_codes[index]
        return Operator(
            code=code,
            deprecated_code=deprecated,
            inputs=self._ints(table, OperatorField.INPUTS),
            outputs=self._ints(table, OperatorField.OUTPUTS),
            options_type=int(table.scalar(OperatorField.BUILTIN_OPTIONS_TYPE, "ubyte", 0)),
            options=table.table(OperatorField.BUILTIN_OPTIONS),
        )

    @staticmethod
    def _buffer(table: Table) -> Buffer:
        data = table.vector(BufferField.DATA, 1)
        return Buffer(
            table=table,
            data=bytes(data.bytes()) if data is not None else None,
            offset=int(table.scalar(BufferField.OFFSET, "ulong", 0)),
            size=int(table.scalar(BufferField.SIZE, "ulong", 0)),
        )

    @staticmethod
    def _signature(table: Table) -> tuple[str, dict[str, int], dict[str, int], int]:
        def maps(field_id: int) -> dict[str, int]:
            vector = table.vector(field_id, 4)
            assert vector is not None
            return {
                (m.string(TensorMapField.NAME) or b"").decode(): int(
                    m.scalar(TensorMapField.TENSOR_INDEX, "uint", 0)
                )
                for m in vector.tables()
            }

        return (
            (table.string(SignatureDefField.SIGNATURE_KEY) or b"").decode(),
            maps(SignatureDefField.INPUTS),
            maps(SignatureDefField.OUTPUTS),
            int(table.scalar(SignatureDefField.SUBGRAPH_INDEX, "uint", 0)),
        )

    # -- conveniences ---------------------------------------------------------------------

    def tensor(self, name: str) -> Tensor:
        matches = [t for t in self.tensors if t.name == name]
        assert len(matches) == 1, f"{len(matches)} tensors named {name!r}"
        return matches[0]

    def constant(self, name: str) -> bytes:
        """The bytes of a constant tensor, wherever its buffer keeps them."""
        buffer = self.buffers[self.tensor(name).buffer]
        if buffer.data is not None:
            return buffer.data
        assert buffer.offset > 1, f"{name}: buffer has neither data nor an offset"
        return bytes(self.data[buffer.offset : buffer.offset + buffer.size])

    def op_codes(self) -> list[int]:
        return [op.code for op in self.operators]

    def used_buffers(self) -> set[int]:
        return {t.buffer for t in self.tensors} | set(self.metadata.values())


def floats(data: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def reference_scores(model: bytes, samples: list[float]) -> list[list[float]]:
    """Each head's softmax, computed in Python from the weights stored in ``model``."""
    parsed = Parsed(model)
    scores = []
    for op in parsed.operators:
        if op.code != BuiltinOperator.FULLY_CONNECTED:
            continue
        weights = floats(parsed.constant(parsed.tensors[op.inputs[1]].name))
        bias = floats(parsed.constant(parsed.tensors[op.inputs[2]].name))
        size = len(weights) // len(bias)
        x = samples[:size]
        logits = [
            math.fsum(w * v for w, v in zip(weights[c * size : (c + 1) * size], x)) + bias[c]
            for c in range(len(bias))
        ]
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        total = math.fsum(exps)
        scores.append([e / total for e in exps])
    return scores


def waveform(count: int) -> list[float]:
    """A deterministic waveform in [-0.6, 0.6], as float32 values."""
    values = [
        0.3 * math.sin(2 * math.pi * 440 * t / 16000)
        + 0.3 * math.sin(2 * math.pi * (150 + t / 40) * t / 16000)
        for t in range(count)
    ]
    return floats(struct.pack(f"<{count}f", *values))


# -- structure -------------------------------------------------------------------------------


def test_default_model() -> None:
    model = build()
    parsed = Parsed(model)
    assert parsed.identifier == b"TFL3"
    assert parsed.version == 3
    assert parsed.description == b"tflite-metadata model builder"
    assert parsed.subgraph_name == b"main"
    [source] = [parsed.tensors[i] for i in parsed.inputs]
    [output] = [parsed.tensors[i] for i in parsed.outputs]
    assert (source.name, source.type, source.shape) == ("waveform", TensorType.FLOAT32, [1, 15600])
    assert (output.name, output.type, output.shape) == ("scores", TensorType.FLOAT32, [1, 7])
    assert source.quantization is None and output.quantization is None
    assert parsed.op_codes() == [BuiltinOperator.FULLY_CONNECTED, BuiltinOperator.SOFTMAX]
    fully_connected, softmax = parsed.operators
    assert fully_connected.inputs == [0, parsed.tensors.index(parsed.tensor("head_0/weights")), 2]
    assert fully_connected.options_type == BuiltinOptions.FullyConnectedOptions
    assert softmax.options_type == BuiltinOptions.SoftmaxOptions
    assert softmax.options is not None
    assert softmax.options.scalar(SoftmaxOptionsField.BETA, "float", 0.0) == 1.0
    assert softmax.outputs == parsed.outputs
    # Every operator code below 127 is in the deprecated byte field as well.
    assert all(code == deprecated for code, deprecated, _ in parsed.operator_codes)
    weights, bias = model_builder.head_parameters(0, 0, 7, 15600)
    assert parsed.tensor("head_0/weights").shape == [7, 15600]
    assert parsed.tensor("head_0/bias").shape == [7]
    assert parsed.constant("head_0/weights") == weights
    assert parsed.constant("head_0/bias") == bias
    # Buffer 0 is the empty buffer; the model has no other buffers than its constants.
    assert parsed.buffers[0].table.field_count == 0
    assert len(parsed.buffers) == 3
    assert parsed.metadata == {}
    assert parsed.signatures == [("serving_default", {"waveform": 0}, {"scores": 4}, 0)]


def test_inline_data_is_16_byte_aligned() -> None:
    parsed = Parsed(build(heads=[3, 5], input_samples=101))
    for buffer in parsed.buffers[1:]:
        assert buffer.data is not None
        vector = buffer.table.vector(BufferField.DATA, 1)
        assert vector is not None and vector.start % 16 == 0


@pytest.mark.parametrize(
    ("heads", "names", "expected"),
    [
        ([3], None, ["scores"]),
        ([3, 4, 5], None, ["scores_0", "scores_1", "scores_2"]),
        ([3, 4], ["speech", "music"], ["speech", "music"]),
    ],
)
def test_output_names(heads: list[int], names: list[str] | None, expected: list[str]) -> None:
    parsed = Parsed(build(input_samples=32, heads=heads, output_names=names))
    outputs = [parsed.tensors[i] for i in parsed.outputs]
    assert [t.name for t in outputs] == expected
    assert [t.shape for t in outputs] == [[1, c] for c in heads]
    if names is None:
        assert model_builder.default_output_names(len(heads)) == expected
    assert parsed.signatures[0][2] == dict(zip(expected, parsed.outputs))


def test_heads_have_their_own_weights() -> None:
    parsed = Parsed(build(input_samples=64, heads=[4, 4], seed=9))
    first, second = (parsed.constant(f"head_{i}/weights") for i in range(2))
    assert first != second
    assert (first, parsed.constant("head_0/bias")) == model_builder.head_parameters(9, 0, 4, 64)
    assert (second, parsed.constant("head_1/bias")) == model_builder.head_parameters(9, 1, 4, 64)


@pytest.mark.parametrize(
    ("output_type", "tensor_type", "scale", "zero_point"),
    [
        ("uint8", TensorType.UINT8, 1 / 256, 0),
        ("int8", TensorType.INT8, 1 / 256, -128),
        ("INT16", TensorType.INT16, 1 / 32768, 0),
    ],
)
def test_quantized_outputs(
    output_type: str, tensor_type: TensorType, scale: float, zero_point: int
) -> None:
    parsed = Parsed(build(input_samples=32, heads=[3, 4], output_type=output_type))
    assert parsed.op_codes() == 2 * [
        BuiltinOperator.FULLY_CONNECTED,
        BuiltinOperator.SOFTMAX,
        BuiltinOperator.QUANTIZE,
    ]
    for index, output in enumerate(parsed.outputs):
        tensor = parsed.tensors[output]
        assert (tensor.name, tensor.type) == (f"scores_{index}", tensor_type)
        assert tensor.quantization == ([scale], [zero_point])
        quantize = next(op for op in parsed.operators if op.outputs == [output])
        assert quantize.options_type == BuiltinOptions.QuantizeOptions
        probabilities = parsed.tensor(f"head_{index}/probabilities")
        assert quantize.inputs == [parsed.tensors.index(probabilities)]
        assert probabilities.type == TensorType.FLOAT32


def test_other_output_types_are_cast() -> None:
    parsed = Parsed(build(input_samples=32, output_type="float16"))
    assert parsed.op_codes()[-1] == BuiltinOperator.CAST
    cast = parsed.operators[-1]
    assert cast.options_type == BuiltinOptions.CastOptions
    assert cast.options is not None
    assert cast.options.scalar(CastOptionsField.IN_DATA_TYPE, "byte", -1) == TensorType.FLOAT32
    assert cast.options.scalar(CastOptionsField.OUT_DATA_TYPE, "byte", -1) == TensorType.FLOAT16
    output = parsed.tensors[parsed.outputs[0]]
    assert (output.type, output.quantization) == (TensorType.FLOAT16, None)


@pytest.mark.parametrize(
    ("input_type", "tensor_type", "operator", "quantization"),
    [
        ("int16", TensorType.INT16, BuiltinOperator.DEQUANTIZE, ([1 / 32768], [0])),
        ("uint8", TensorType.UINT8, BuiltinOperator.DEQUANTIZE, ([1 / 128], [128])),
        ("float16", TensorType.FLOAT16, BuiltinOperator.DEQUANTIZE, None),
        ("int32", TensorType.INT32, BuiltinOperator.CAST, None),
    ],
)
def test_input_types(
    input_type: str,
    tensor_type: TensorType,
    operator: BuiltinOperator,
    quantization: tuple[list[float], list[int]] | None,
) -> None:
    parsed = Parsed(build(input_samples=48, input_type=input_type))
    source = parsed.tensors[parsed.inputs[0]]
    assert (source.name, source.type, source.shape) == ("waveform", tensor_type, [1, 48])
    assert source.quantization == quantization
    first = parsed.operators[0]
    assert (first.code, first.inputs) == (operator, parsed.inputs)
    converted = parsed.tensors[first.outputs[0]]
    assert (converted.type, converted.shape) == (TensorType.FLOAT32, [1, 48])
    assert parsed.operators[1].inputs[0] == first.outputs[0]


@pytest.mark.parametrize("shape", [[1, 1, 400], [400], [2, 200]])
def test_input_shape(shape: list[int]) -> None:
    parsed = Parsed(build(input_shape=shape, input_samples=999))
    assert parsed.tensors[parsed.inputs[0]].shape == shape
    assert parsed.tensor("head_0/weights").shape == [7, 400]
    assert parsed.operators[0].inputs[0] == parsed.inputs[0]


def test_same_arguments_same_bytes() -> None:
    arguments: dict[str, Any] = {"input_samples": 300, "heads": [4, 6], "output_type": "uint8"}
    assert build(**arguments) == build(**arguments)
    assert build(**arguments, seed=1) == build(**arguments, seed=1)
    assert build(**arguments, seed=1) != build(**arguments)
    external = {**arguments, "external_buffers": True, "weight_bytes": 100_000}
    assert build(**external) == build(**external)


def test_no_signature() -> None:
    parsed = Parsed(build(input_samples=16, signature_key=None))
    assert parsed.signatures == []
    assert not parsed.root.has(ModelField.SIGNATURE_DEFS)


# -- external buffers ------------------------------------------------------------------------


def test_external_buffers_are_where_the_converter_puts_them() -> None:
    arguments: dict[str, Any] = {"input_samples": 250, "heads": [3, 5], "seed": 4}
    model = build(**arguments, external_buffers=True)
    parsed = Parsed(model)
    inline = Parsed(build(**arguments))
    # The converter's marker: a metadata entry whose buffer (inline) says where the data is.
    marker = parsed.buffers[parsed.metadata[BUFFER_LOCATION_NAME]]
    assert list(parsed.metadata) == [BUFFER_LOCATION_NAME]
    assert marker.data == BUFFER_LOCATION_OUTSIDE
    assert marker.offset == marker.size == 0
    # The empty buffer stays an empty table, as the converter writes it.
    assert parsed.buffers[0].table.field_count == 0
    constants = [b for i, b in enumerate(parsed.buffers) if i and b is not marker]
    assert len(constants) == 4
    end_of_flatbuffer = min(b.offset for b in constants)
    position = end_of_flatbuffer
    for buffer in constants:
        assert buffer.data is None
        assert not buffer.table.has(BufferField.DATA)
        assert buffer.offset % EXTERNAL_DATA_ALIGNMENT == 0
        # In order, packed, and the gaps (< 16 bytes) are zeros.
        assert 0 <= buffer.offset - position < EXTERNAL_DATA_ALIGNMENT
        assert not any(model[position : buffer.offset])
        position = buffer.offset + buffer.size
    assert len(model) == -(-position // 16) * 16
    assert not any(model[position:])
    # Every table the FlatBuffer holds lies before the first external byte.
    assert all(t.table.pos < end_of_flatbuffer for t in parsed.tensors)
    assert all(b.table.pos < end_of_flatbuffer for b in parsed.buffers)
    # The same tensors and data as the inline model.
    assert [(t.name, t.type, t.shape) for t in parsed.tensors] == [
        (t.name, t.type, t.shape) for t in inline.tensors
    ]
    for tensor in parsed.tensors:
        if tensor.buffer:
            assert parsed.constant(tensor.name) == inline.constant(tensor.name)
    assert [(o.code, o.inputs, o.outputs, o.options_type) for o in parsed.operators] == [
        (o.code, o.inputs, o.outputs, o.options_type) for o in inline.operators
    ]


def test_external_layout_matches_the_converters_sample() -> None:
    """Our buffer-offset models have the shape of one the TFLite converter made."""
    sample = TESTDATA / "generated" / "small_audio_offset.tflite"
    if not sample.is_file():
        pytest.skip("test data generated/small_audio_offset.tflite is absent")
    theirs = Parsed(sample.read_bytes())
    ours = Parsed(build(external_buffers=True))
    for parsed in (theirs, ours):
        assert parsed.buffers[parsed.metadata[BUFFER_LOCATION_NAME]].data == (
            BUFFER_LOCATION_OUTSIDE
        )
        external = [b for b in parsed.buffers if b.offset]
        assert external and all(b.data is None and b.size for b in external)
        assert all(b.offset % 16 == 0 for b in external)
        empty = [b for b in parsed.buffers if b.data is None and not b.offset]
        assert all(b.table.field_count == 0 for b in empty)


# -- padding -----------------------------------------------------------------------------------

PADDED = 3 * 2**20 + 5  # more than the filler's block, and not a multiple of 16


def test_weight_bytes_inline() -> None:
    model = build(input_samples=100, heads=[3], weight_bytes=PADDED, seed=2)
    parsed = Parsed(model)
    assert sum(len(b.data or b"") for b in parsed.buffers) == PADDED
    assert 0 < len(model) - PADDED < 4096
    unused = [i for i in range(1, len(parsed.buffers)) if i not in parsed.used_buffers()]
    assert len(unused) == 1
    padding = parsed.buffers[unused[0]].data
    assert padding is not None and len(padding) == PADDED - 100 * 3 * 4 - 3 * 4
    # Not a run of one byte: something a compressor or sparse file cannot shortcut.
    assert len(set(padding[:4096])) > 200
    # The rest of the model is unchanged.
    plain = Parsed(build(input_samples=100, heads=[3], seed=2))
    assert [(t.name, t.shape) for t in parsed.tensors] == [(t.name, t.shape) for t in plain.tensors]
    assert parsed.constant("head_0/weights") == plain.constant("head_0/weights")


def test_weight_bytes_external_puts_the_padding_first() -> None:
    model = build(input_samples=100, heads=[3], weight_bytes=PADDED, external_buffers=True)
    parsed = Parsed(model)
    assert sum(b.size for b in parsed.buffers) == PADDED
    used = parsed.used_buffers()
    [padding] = [b for i, b in enumerate(parsed.buffers) if i not in used]
    weights = parsed.buffers[parsed.tensor("head_0/weights").buffer]
    assert padding.offset < weights.offset
    assert weights.offset >= padding.offset + padding.size
    assert len(model) - PADDED < 4096


def test_weight_bytes_below_the_weights_add_nothing() -> None:
    assert build(input_samples=100, weight_bytes=10) == build(input_samples=100)
    assert build(input_samples=100, weight_bytes=0, external_buffers=True) == build(
        input_samples=100, external_buffers=True
    )


def test_inline_models_over_2_gib_are_refused() -> None:
    with pytest.raises(ValueError, match=r"2 GiB FlatBuffer limit; use external_buffers=True"):
        build(weight_bytes=2**31)


def test_write_audio_classifier_writes_what_build_returns(tmp_path: Path) -> None:
    arguments: dict[str, Any] = {"input_samples": 200, "heads": [3, 4], "seed": 3}
    path = tmp_path / "model.tflite"
    size = model_builder.write_audio_classifier(path, weight_bytes=PADDED, **arguments)
    expected = build(**arguments, weight_bytes=PADDED, external_buffers=True)
    assert size == len(expected) == path.stat().st_size
    assert path.read_bytes() == expected
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


# -- image classifiers ---------------------------------------------------------------------------


def test_default_image_model() -> None:
    model = build_image()
    parsed = Parsed(model)
    assert parsed.identifier == b"TFL3"
    [source] = [parsed.tensors[i] for i in parsed.inputs]
    [output] = [parsed.tensors[i] for i in parsed.outputs]
    assert (source.name, source.type, source.shape) == (
        "image",
        TensorType.FLOAT32,
        [1, 224, 224, 3],
    )
    assert (output.name, output.type, output.shape) == ("scores", TensorType.FLOAT32, [1, 5])
    assert source.quantization is None and output.quantization is None
    # FULLY_CONNECTED takes the 4-D image as it is: no RESHAPE.
    assert parsed.op_codes() == [BuiltinOperator.FULLY_CONNECTED, BuiltinOperator.SOFTMAX]
    fully_connected, softmax = parsed.operators
    assert fully_connected.inputs[0] == parsed.inputs[0]
    assert parsed.tensor("head_0/weights").shape == [5, 224 * 224 * 3]
    assert parsed.tensor("head_0/bias").shape == [5]
    assert (parsed.constant("head_0/weights"), parsed.constant("head_0/bias")) == (
        model_builder.head_parameters(0, 0, 5, 224 * 224 * 3)
    )
    assert softmax.outputs == parsed.outputs
    assert parsed.signatures == [
        ("serving_default", {"image": parsed.inputs[0]}, {"scores": parsed.outputs[0]}, 0)
    ]


def test_image_options() -> None:
    parsed = Parsed(
        build_image(
            height=24,
            width=40,
            channels=1,
            classes=9,
            input_name="pixels",
            output_name="probabilities",
            seed=7,
        )
    )
    source = parsed.tensors[parsed.inputs[0]]
    output = parsed.tensors[parsed.outputs[0]]
    assert (source.name, source.shape) == ("pixels", [1, 24, 40, 1])
    assert (output.name, output.shape) == ("probabilities", [1, 9])
    assert parsed.tensor("head_0/weights").shape == [9, 24 * 40]
    assert parsed.constant("head_0/weights") == model_builder.head_parameters(7, 0, 9, 960)[0]


def test_uint8_image_model() -> None:
    parsed = Parsed(build_image(height=8, width=8, input_type="uint8", output_type="uint8"))
    source = parsed.tensors[parsed.inputs[0]]
    output = parsed.tensors[parsed.outputs[0]]
    assert (source.type, source.shape) == (TensorType.UINT8, [1, 8, 8, 3])
    # Pixels 0..255 dequantize to [-1, 1): what mean 127.5, std 127.5 make of a float input.
    assert source.quantization == ([1 / 128], [128])
    assert (output.type, output.shape) == (TensorType.UINT8, [1, 5])
    assert output.quantization == ([1 / 256], [0])
    assert parsed.op_codes() == [
        BuiltinOperator.DEQUANTIZE,
        BuiltinOperator.FULLY_CONNECTED,
        BuiltinOperator.SOFTMAX,
        BuiltinOperator.QUANTIZE,
    ]
    dequantize, fully_connected, _, quantize = parsed.operators
    assert dequantize.inputs == parsed.inputs
    features = parsed.tensors[dequantize.outputs[0]]
    assert (features.type, features.shape) == (TensorType.FLOAT32, [1, 8, 8, 3])
    assert fully_connected.inputs[0] == dequantize.outputs[0]
    assert quantize.outputs == parsed.outputs


def test_an_image_classifier_is_the_audio_graph_on_an_image() -> None:
    arguments: dict[str, Any] = {"input_type": "uint8", "output_type": "uint8", "seed": 4}
    assert build_image(height=6, width=5, channels=3, classes=4, **arguments) == build(
        input_shape=[1, 6, 5, 3], heads=[4], input_name="image", **arguments
    )


def test_image_same_arguments_same_bytes() -> None:
    arguments: dict[str, Any] = {"height": 16, "width": 16, "classes": 3}
    assert build_image(**arguments) == build_image(**arguments)
    assert build_image(**arguments, seed=1) == build_image(**arguments, seed=1)
    assert build_image(**arguments, seed=1) != build_image(**arguments)
    assert build_image(**arguments, input_type="uint8") == build_image(
        **arguments, input_type="uint8"
    )
    external = {**arguments, "external_buffers": True, "weight_bytes": 100_000}
    assert build_image(**external) == build_image(**external)


def test_write_image_classifier_writes_what_build_returns(tmp_path: Path) -> None:
    arguments: dict[str, Any] = {"height": 16, "width": 12, "classes": 4, "input_type": "uint8"}
    path = tmp_path / "image.tflite"
    size = model_builder.write_image_classifier(path, weight_bytes=PADDED, **arguments)
    expected = build_image(**arguments, weight_bytes=PADDED, external_buffers=True)
    assert size == len(expected) == path.stat().st_size
    assert path.read_bytes() == expected
    parsed = Parsed(expected)
    assert parsed.tensors[parsed.inputs[0]].shape == [1, 16, 12, 3]
    assert [p.name for p in tmp_path.iterdir()] == ["image.tflite"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"height": 0}, "height must be >= 1, got 0"),
        ({"width": -2}, "width must be >= 1, got -2"),
        ({"channels": 0}, "channels must be >= 1, got 0"),
        ({"classes": 0}, "classes must be >= 1, got 0"),
        ({"output_name": "image"}, "tensor names must be distinct"),
        ({"input_type": "rgb"}, "input_type 'rgb' is not a TFLite tensor type"),
        ({"weight_bytes": -1}, "weight_bytes must be >= 0, got -1"),
    ],
)
def test_invalid_image_arguments(arguments: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        build_image(**{"height": 8, "width": 8, **arguments})
    with pytest.raises(ValueError, match=message):
        model_builder.write_image_classifier(tmp_path / "model.tflite", **arguments)
    assert list(tmp_path.iterdir()) == []


# -- fields newer than the schema ----------------------------------------------------------------


def test_extra_fields() -> None:
    plain = Parsed(build(input_samples=16))
    parsed = Parsed(build(input_samples=16, extra_model_fields=True, extra_tensor_fields=True))
    scalar, string = model_builder.EXTRA_SCALAR_FIELD, model_builder.EXTRA_STRING_FIELD
    assert scalar >= 16 and string >= 16
    for table in [parsed.root] + [t.table for t in parsed.tensors]:
        assert table.scalar(scalar, "uint", 0) == model_builder.EXTRA_SCALAR_VALUE
        assert table.string(string) == model_builder.EXTRA_STRING_VALUE.encode()
        assert table.field_count == string + 1
        # Nothing between the known fields and the extra ones.
        assert not any(table.has(f) for f in range(10, scalar))
    for table in [plain.root] + [t.table for t in plain.tensors]:
        assert table.field_count < 16
    assert [(t.name, t.type, t.shape) for t in parsed.tensors] == [
        (t.name, t.type, t.shape) for t in plain.tensors
    ]
    only_model = Parsed(build(input_samples=16, extra_model_fields=True))
    assert only_model.root.has(scalar)
    assert not any(t.table.has(scalar) for t in only_model.tensors)


# -- arguments -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"heads": []}, r"heads must be one or more class counts >= 1, got \[\]"),
        ({"heads": [3, 0]}, r"got \[3, 0\]"),
        ({"input_samples": 0}, "input_samples must be >= 1, got 0"),
        ({"input_shape": [1, 0]}, r"input_shape must have dimensions >= 1, got \[1, 0\]"),
        ({"input_shape": []}, "input_shape must have dimensions"),
        ({"heads": [2, 3], "output_names": ["a"]}, "1 output_names given for 2 heads"),
        ({"heads": [2, 3], "output_names": ["a", "a"]}, "tensor names must be distinct"),
        ({"output_names": ["waveform"]}, "tensor names must be distinct"),
        ({"output_type": "float33"}, "output_type 'float33' is not a TFLite tensor type"),
        ({"input_type": "pcm"}, r"input_type 'pcm' is not a TFLite tensor type \(expected one"),
        ({"weight_bytes": -1}, "weight_bytes must be >= 0, got -1"),
    ],
)
def test_invalid_arguments(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(**arguments)


def test_head_parameters_are_exact_in_float32() -> None:
    weights, bias = model_builder.head_parameters(0, 0, 5, 1000)
    values = floats(weights) + floats(bias)
    assert len(values) == 5 * 1000 + 5
    # int16 multiples of one power of two: what Python computes with them is what LiteRT sees.
    scaled = [v * 2.0**40 for v in floats(weights)]
    assert all(v.is_integer() for v in scaled)
    common = 0
    for v in scaled:
        common = math.gcd(common, int(v))
    assert common & (common - 1) == 0
    assert max(abs(int(v)) for v in scaled) // common < 32768
    assert max(abs(v) for v in floats(weights)) <= 8 / math.sqrt(1000) * 1.5
    assert all(-0.5 <= v < 0.5 for v in floats(bias))


# -- LiteRT runs them ------------------------------------------------------------------------------

SAMPLES = 400
LITERT_MODELS: dict[str, dict[str, Any]] = {
    "float32": {"input_samples": SAMPLES, "heads": [7], "seed": 1},
    "default": {},
    "two-heads": {"input_samples": SAMPLES, "heads": [5, 10], "seed": 2},
    "uint8": {"input_samples": SAMPLES, "heads": [6], "output_type": "uint8", "seed": 3},
    "int8": {"input_samples": SAMPLES, "heads": [6], "output_type": "int8", "seed": 3},
    "external": {"input_samples": SAMPLES, "seed": 1, "external_buffers": True},
    "external-padded": {
        "input_samples": SAMPLES,
        "seed": 1,
        "external_buffers": True,
        "weight_bytes": PADDED,
    },
    "padded": {"input_samples": SAMPLES, "seed": 1, "weight_bytes": PADDED},
    "extra-fields": {
        "input_samples": SAMPLES,
        "seed": 1,
        "extra_model_fields": True,
        "extra_tensor_fields": True,
    },
    "shape-1x1xN": {"input_shape": [1, 1, SAMPLES], "seed": 1},
    "shape-N": {"input_shape": [SAMPLES], "seed": 1},
    "int16-input": {"input_samples": SAMPLES, "seed": 1, "input_type": "int16"},
}
# Image classifiers (build_image_classifier), named "image-…" in the LiteRT run.
IMAGE_MODELS: dict[str, dict[str, Any]] = {
    "float32": {"height": 32, "width": 32, "classes": 5, "seed": 1},
    "gray": {"height": 24, "width": 40, "channels": 1, "classes": 3, "seed": 2},
    "uint8-in": {"height": 32, "width": 32, "classes": 5, "seed": 1, "input_type": "uint8"},
    "uint8": {
        "height": 32,
        "width": 32,
        "classes": 5,
        "seed": 1,
        "input_type": "uint8",
        "output_type": "uint8",
    },
}


def litert(paths: list[Path], inputs: Path, tmp: Path) -> dict[str, Any]:
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "LiteRT (ai-edge-litert)")
    assert python is not None
    request = {"models": [str(p) for p in paths], "inputs": str(inputs)}
    return consumer_env.run_runner(python, "litert_runner.py", request, tmp)


@pytest.fixture(scope="module")
def litert_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """name -> {"model": bytes, "answer": the runner's answer}, all in one LiteRT process."""
    folder = tmp_path_factory.mktemp("litert")
    inputs = folder / "inputs.f32"
    inputs.write_bytes(struct.pack(f"<{15600}f", *waveform(15600)))
    models = {name: bytes(build(**arguments)) for name, arguments in LITERT_MODELS.items()}
    for name, arguments in IMAGE_MODELS.items():
        models[f"image-{name}"] = bytes(build_image(**arguments))
    # A model whose external data runs past the end of the file.
    models["truncated"] = models["external"][:-64]
    paths = {}
    for name, model in models.items():
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(model)
    answers = litert(list(paths.values()), inputs, folder)
    return {name: {"model": models[name], "answer": answers[str(paths[name])]} for name in models}


def outputs_of(run: dict[str, Any], name: str) -> list[dict[str, Any]]:
    answer = run[name]["answer"]
    assert "error" not in answer, f"{name}: LiteRT failed: {answer['error']}"
    return answer["outputs"]  # type: ignore[no-any-return]


@pytest.mark.consumers
@pytest.mark.parametrize("name", ["float32", "default", "two-heads"])
def test_litert_computes_the_reference(litert_run: dict[str, Any], name: str) -> None:
    model = litert_run[name]["model"]
    outputs = outputs_of(litert_run, name)
    expected = reference_scores(model, waveform(15600))
    parsed = Parsed(model)
    assert [o["name"] for o in outputs] == [parsed.tensors[i].name for i in parsed.outputs]
    assert len(outputs) == len(expected)
    for output, scores in zip(outputs, expected):
        assert output["dtype"] == "float32"
        assert output["shape"] == [1, len(scores)]
        assert output["values"] == pytest.approx(scores, abs=1e-5)
        # Not a degenerate softmax: the test would not notice wrong weights otherwise.
        assert max(scores) - min(scores) > 0.05


@pytest.mark.consumers
@pytest.mark.parametrize(("name", "zero_point"), [("uint8", 0), ("int8", -128)])
def test_litert_quantizes_the_outputs(
    litert_run: dict[str, Any], name: str, zero_point: int
) -> None:
    [output] = outputs_of(litert_run, name)
    [scores] = reference_scores(litert_run[name]["model"], waveform(15600))
    assert output["dtype"] == name
    assert output["shape"] == [1, 6]
    expected = [min(round(s * 256), 255) + zero_point for s in scores]
    assert all(abs(v - e) <= 1 for v, e in zip(output["values"], expected)), (
        output["values"],
        expected,
    )


@pytest.mark.consumers
@pytest.mark.parametrize(
    "name",
    ["external", "external-padded", "padded", "extra-fields", "shape-1x1xN", "shape-N"],
)
def test_litert_runs_every_variant_like_the_plain_model(
    litert_run: dict[str, Any], name: str
) -> None:
    assert outputs_of(litert_run, name) == outputs_of(litert_run, "float32")


@pytest.mark.consumers
def test_litert_runs_an_int16_input(litert_run: dict[str, Any]) -> None:
    answer = litert_run["int16-input"]["answer"]
    assert answer.get("inputs") == [{"name": "waveform", "dtype": "int16", "shape": [1, SAMPLES]}]
    [output] = outputs_of(litert_run, "int16-input")
    [plain] = outputs_of(litert_run, "float32")
    # The runner quantizes the samples (scale 1/32768): close to the float model, not equal.
    assert output["values"] == pytest.approx(plain["values"], abs=1e-3)


@pytest.mark.consumers
def test_litert_refuses_external_data_past_the_end(litert_run: dict[str, Any]) -> None:
    answer = litert_run["truncated"]["answer"]
    assert "specified an out of range offset" in answer.get("error", ""), answer


def uint8_pixels(values: list[float]) -> list[float]:
    """``values`` as the runner feeds a uint8 input (scale 1/128, zero point 128), dequantized."""
    return [(min(max(round(v * 128) + 128, 0), 255) - 128) / 128 for v in values]


@pytest.mark.consumers
@pytest.mark.parametrize(
    ("name", "dtype", "shape"),
    [
        ("image-float32", "float32", [1, 32, 32, 3]),
        ("image-gray", "float32", [1, 24, 40, 1]),
        ("image-uint8-in", "uint8", [1, 32, 32, 3]),
    ],
)
def test_litert_classifies_an_image(
    litert_run: dict[str, Any], name: str, dtype: str, shape: list[int]
) -> None:
    answer = litert_run[name]["answer"]
    assert answer.get("inputs") == [{"name": "image", "dtype": dtype, "shape": shape}], answer
    [output] = outputs_of(litert_run, name)
    pixels = waveform(15600)
    if dtype == "uint8":
        pixels = uint8_pixels(pixels)
    [scores] = reference_scores(litert_run[name]["model"], pixels)
    classes = IMAGE_MODELS[name.removeprefix("image-")]["classes"]
    assert len(scores) == classes
    assert (output["name"], output["dtype"], output["shape"]) == ("scores", "float32", [1, classes])
    assert output["values"] == pytest.approx(scores, abs=1e-5)
    assert max(scores) - min(scores) > 0.05


@pytest.mark.consumers
def test_litert_runs_a_quantized_image_classifier(litert_run: dict[str, Any]) -> None:
    [output] = outputs_of(litert_run, "image-uint8")
    [scores] = reference_scores(litert_run["image-uint8"]["model"], uint8_pixels(waveform(15600)))
    assert (output["dtype"], output["shape"]) == ("uint8", [1, 5])
    expected = [min(round(s * 256), 255) for s in scores]
    assert all(abs(v - e) <= 1 for v, e in zip(output["values"], expected)), (
        output["values"],
        expected,
    )
    # The same classifier as the uint8-input model with a float output.
    [float_output] = outputs_of(litert_run, "image-uint8-in")
    assert [v / 256 for v in output["values"]] == pytest.approx(float_output["values"], abs=1 / 256)


# -- over 2 GiB ------------------------------------------------------------------------------------

_WRITE_AND_MEASURE = """
import json, resource, sys
from tflite_metadata._model_builder import write_audio_classifier
size = write_audio_classifier(sys.argv[1], weight_bytes=int(sys.argv[2]), seed=5)
try:
    # This process's own peak. Linux carries ru_maxrss over exec from the process
    # that started it (pytest, hundreds of MB after the fuzz tests): not that.
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    peak = int(line.split()[1]) * 1024
except OSError:
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    unit = 1 if sys.platform == "darwin" else 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
print(json.dumps({"size": size, "peak": peak}))
"""


@pytest.mark.slow
@pytest.mark.consumers
def test_a_model_over_2_gib_streams_in_bounded_memory_and_runs(tmp_path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("measures memory with the resource module")
    weight_bytes = 2**31 + 2**28  # 2.25 GiB
    path = tmp_path / "huge.tflite"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _WRITE_AND_MEASURE, str(path), str(weight_bytes)],
            capture_output=True,
            text=True,
            check=True,
        )
        report = json.loads(proc.stdout)
        assert report["size"] == path.stat().st_size > 2**31
        assert report["peak"] < 256 * 2**20, f"writing took {report['peak']} bytes of memory"
        with path.open("rb") as handle:
            # The FlatBuffer is the file's first few KiB; the weights are read where it says.
            parsed = Parsed(handle.read(65536))
            weights = parsed.buffers[parsed.tensor("head_0/weights").buffer]
            assert weights.offset > 2**31  # an offset that needs more than 31 bits
            handle.seek(weights.offset)
            stored = handle.read(weights.size)
        assert stored == model_builder.head_parameters(5, 0, 7, 15600)[0]
        small = tmp_path / "small.tflite"
        small.write_bytes(build(seed=5))
        inputs = tmp_path / "inputs.f32"
        inputs.write_bytes(struct.pack("<15600f", *waveform(15600)))
        answers = litert([path, small], inputs, tmp_path)
        assert "error" not in answers[str(path)], answers[str(path)]
        assert answers[str(path)] == answers[str(small)]
    finally:
        path.unlink(missing_ok=True)


def test_bert_shape_signatures_are_written_and_read_back() -> None:
    """``shape_signatures`` lands in ``Tensor.shape_signature``; the reader exposes it."""
    from tflite_metadata.model.reader import ModelView

    signatures = [[1, -1], None, [-1, 16]]
    view = ModelView(model_builder.build_bert_classifier(seq_len=16, shape_signatures=signatures))
    assert [t.shape_signature for t in view.inputs()] == [(1, -1), None, (-1, 16)]
    assert [t.shape for t in view.inputs()] == [(1, 16)] * 3
    static = ModelView(model_builder.build_bert_classifier(seq_len=16))
    assert [t.shape_signature for t in static.inputs() + static.outputs()] == [None] * 4
    with pytest.raises(ValueError, match="expected 3 shape signatures"):
        model_builder.build_bert_classifier(shape_signatures=[[1, -1]])


def test_image_segmenter_tensors() -> None:
    """The segmenter's input and outputs: masks last, after an optional quality score."""
    from tflite_metadata.model.reader import ModelView

    view = ModelView(model_builder.build_image_segmenter(input_type="uint8", classes=5))
    assert [(t.name, t.type, t.shape) for t in view.inputs()] == [
        ("image", TensorType.UINT8, (1, 16, 16, 3))
    ]
    assert [(t.name, t.type, t.shape) for t in view.outputs()] == [
        ("masks", TensorType.FLOAT32, (1, 16, 16, 5))
    ]
    view = ModelView(
        model_builder.build_image_segmenter(
            height=4, width=6, masks_shape=[4, 6, 4], output_type="int8", quality_scores=["uint8"]
        )
    )
    assert [(t.name, t.type, t.shape) for t in view.outputs()] == [
        ("quality", TensorType.UINT8, (1, 1)),
        ("masks", TensorType.INT8, (4, 6, 4)),
    ]
    with pytest.raises(ValueError, match="does not hold 1024 values"):
        model_builder.build_image_segmenter(masks_shape=[16, 16, 3])
    with pytest.raises(ValueError, match="classes must be >= 1"):
        model_builder.build_image_segmenter(classes=0)
