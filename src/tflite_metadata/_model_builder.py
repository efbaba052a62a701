"""Build small, real TFLite models: the project's fixtures, demo sample and benchmark models.

The models are audio classifiers of the simplest kind a runtime will still run:
one input waveform and, per classification head, a ``FULLY_CONNECTED`` layer
followed by a ``SOFTMAX``::

    waveform [1, N] ─┬─ FULLY_CONNECTED(weights [C0, N], bias [C0]) ─ SOFTMAX ─ scores_0 [1, C0]
                     └─ FULLY_CONNECTED(weights [C1, N], bias [C1]) ─ SOFTMAX ─ scores_1 [1, C1]

and image classifiers, the same graph with one head and an image input, which
``FULLY_CONNECTED`` flattens itself (its weights have ``H * W * C`` columns)::

    image [1, H, W, C] ── FULLY_CONNECTED(weights [K, H*W*C], bias [K]) ─ SOFTMAX ─ scores [1, K]

Other tasks' models, each in a section of its own: a BERT-shaped text classifier
(:func:`build_bert_classifier`; its inputs may carry the converter's
``shape_signature``), an image segmenter that classifies each pixel
(:func:`build_image_segmenter`), and detector-shaped models whose outputs are
constants (:func:`build_detector_outputs`). Any of them can list its subgraph more
than once (``subgraphs``), a model MediaPipe refuses.

They are written with the ``flatbuffers`` package's ``Builder`` and the field
ids, ``BuiltinOperator`` and ``BuiltinOptions`` values derived from the schema
declared in :mod:`tflite_metadata.format.model_schema`; no converter, no TensorFlow.
The LiteRT interpreter loads and runs them, and the TFLite Task Library and
MediaPipe ``AudioClassifier`` (``ImageClassifier``) accept them once metadata is
added, so the test suite needs no model files of its own.

Two entry points per kind of model, one for bytes and one for files, that make the same bytes:

* :func:`build_audio_classifier` and :func:`build_image_classifier` return the
  model as a ``bytearray``;
* :func:`write_audio_classifier` and :func:`write_image_classifier` stream a model
  whose constant data lives after the FlatBuffer (the converter's "buffer offset"
  mode) to a file, in bounded memory, however large: this is how benchmark models
  over 2 GiB are made.

Every build is deterministic: the same arguments give the same bytes.

What the options produce:

* ``output_type="uint8"`` / ``"int8"`` / ``"int16"`` adds a ``QUANTIZE`` after each
  softmax (scale 1/256 with zero point 0 or -128; int16: 1/32768 and 0); any
  other type a ``CAST``, which gives a well-formed model that runtimes need not run.
* ``input_type="uint8"`` / ``"int8"`` / ``"int16"`` / ``"float16"`` adds a
  ``DEQUANTIZE`` after the input (with the quantization of :data:`INPUT_QUANTIZATION`);
  any other type a ``CAST`` to float32. For an image, uint8's scale 1/128 and zero
  point 128 map pixels 0…255 to [-1, 1), the normalization (mean 127.5, std 127.5)
  a float32 image classifier's metadata asks for, within half a step.
* ``external_buffers=True`` stores every constant buffer after the FlatBuffer,
  as TFLite's converter does with ``_experimental_use_buffer_offset``: each
  ``Buffer`` has no ``data``, and its ``offset``/``size`` give the absolute
  position of its bytes in the file, 16-byte aligned; ``Model.metadata`` gets the
  converter's ``buffer_location`` entry ("outside flatbuffers").
* ``weight_bytes`` pads the constant data to that many bytes with an extra
  constant buffer that no tensor uses. With external buffers it comes first in
  the file, so that beyond 2 GiB the weights the model computes with lie at
  offsets that need 64 bits.
* ``extra_model_fields`` / ``extra_tensor_fields`` add two fields that no TFLite
  schema has (ids :data:`EXTRA_SCALAR_FIELD` and :data:`EXTRA_STRING_FIELD`) to
  ``Model`` and to every ``Tensor``, to check that a rewrite keeps fields newer
  than the schema it knows.

Example::

    from tflite_metadata._model_builder import build_audio_classifier

    model = build_audio_classifier(input_samples=16000, heads=[5, 10], output_type="uint8")
    Path("two_heads.tflite").write_bytes(model)

    image_model = build_image_classifier(height=32, width=32, classes=5, input_type="uint8")
"""

from __future__ import annotations

import functools
import hashlib
import math
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Optional

import flatbuffers

from .fileio import PathLike, atomic_output
from .format.model_schema import (
    BUFFER_LOCATION_NAME,
    BUFFER_LOCATION_OUTSIDE,
    EXTERNAL_DATA_ALIGNMENT,
    FILE_IDENTIFIER,
    MODEL_SCHEMA_VERSION,
    BufferField,
    BuiltinOperator,
    BuiltinOptions,
    CastOptionsField,
    FullyConnectedOptionsField,
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

__all__ = [
    "EXTRA_SCALAR_FIELD",
    "EXTRA_SCALAR_VALUE",
    "EXTRA_STRING_FIELD",
    "EXTRA_STRING_VALUE",
    "INPUT_QUANTIZATION",
    "OUTPUT_QUANTIZATION",
    "build_audio_classifier",
    "build_image_classifier",
    "default_output_names",
    "head_parameters",
    "write_audio_classifier",
    "write_image_classifier",
]

#: Field id of the unknown ``uint`` field ``extra_model_fields``/``extra_tensor_fields`` add.
#: Far beyond the last field of ``Model`` (9) and ``Tensor`` (10) in TFLite's schema, so that
#: no reader, now or after a few schema revisions, gives it a meaning.
EXTRA_SCALAR_FIELD = 40
#: Field id of the unknown string field.
EXTRA_STRING_FIELD = 41
#: The unknown ``uint`` field's value. Larger than any test model, so a reader that
#: mistook it for an offset would point outside the file rather than at real data.
EXTRA_SCALAR_VALUE = 0xC0DEF00D
#: The unknown string field's value.
EXTRA_STRING_VALUE = "a field newer than the schema"

#: (scale, zero point) of a quantized output: probabilities in [0, 1) over the type's range.
OUTPUT_QUANTIZATION: dict[TensorType, tuple[float, int]] = {
    TensorType.UINT8: (1 / 256, 0),
    TensorType.INT8: (1 / 256, -128),
    TensorType.INT16: (1 / 32768, 0),
}
#: (scale, zero point) of a quantized input: samples in [-1, 1) over the type's range.
INPUT_QUANTIZATION: dict[TensorType, tuple[float, int]] = {
    TensorType.UINT8: (1 / 128, 128),
    TensorType.INT8: (1 / 128, 0),
    TensorType.INT16: (1 / 32768, 0),
}

_SIGNATURE_KEY = "serving_default"
_DESCRIPTION = "tflite-metadata model builder"
# The largest FlatBuffer the flatbuffers package builds (32-bit offsets).
_MAX_FLATBUFFER = 2**31 - 1
# The filler of padding buffers repeats one block of this size.
_FILLER_BLOCK = 1 << 20

# -- the graph ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Constant:
    """The bytes of one constant buffer: given, or ``size`` bytes of filler."""

    size: int
    data: Optional[bytes] = None
    filler_seed: int = 0

    def pieces(self) -> Iterator[memoryview]:
        """The bytes in pieces of at most a few MiB (the filler is never materialized)."""
        if self.data is not None:
            yield memoryview(self.data)
            return
        block = memoryview(_filler_block(self.filler_seed))
        remaining = self.size
        while remaining:
            piece = block[: min(remaining, len(block))]
            yield piece
            remaining -= len(piece)


@dataclass(frozen=True)
class _Tensor:
    name: str
    type: TensorType
    shape: tuple[int, ...]
    buffer: int = 0
    quantization: Optional[tuple[float, int]] = None
    # Tensor.shape_signature (-1: a dimension that may change); None: not written.
    shape_signature: Optional[tuple[int, ...]] = None


@dataclass(frozen=True)
class _Operator:
    code: BuiltinOperator
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options_type: BuiltinOptions
    # (field id, schema scalar kind, value) of the options table; all other fields default.
    options: tuple[tuple[int, str, float], ...] = ()


@dataclass
class _Graph:
    """Everything the FlatBuffer holds, before serialization."""

    tensors: list[_Tensor] = field(default_factory=list)
    operators: list[_Operator] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    # Buffer i + 1 (buffer 0 is the empty buffer every runtime expects).
    constants: list[_Constant] = field(default_factory=list)
    # Model.metadata entries: name -> bytes, stored inline after the constants' buffers.
    metadata: list[tuple[str, bytes]] = field(default_factory=list)
    signature_key: Optional[str] = _SIGNATURE_KEY
    # How many times Model.subgraphs lists the one subgraph (more: a model some consumers
    # refuse; the signature names the first).
    subgraph_count: int = 1
    extra_model_fields: bool = False
    extra_tensor_fields: bool = False

    def add_tensor(self, tensor: _Tensor) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def add_constant(self, constant: _Constant) -> int:
        self.constants.append(constant)
        return len(self.constants)


# -- deterministic data ------------------------------------------------------------------------


def _random_int16(key: str, count: int) -> array[int]:
    """``count`` pseudo-random int16 values, a pure function of ``key`` (SHAKE-256 output)."""
    values = array("h", hashlib.shake_256(key.encode()).digest(2 * count))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _float32_bytes(values: Iterable[float]) -> bytes:
    """Little-endian float32 bytes of ``values``."""
    floats = array("f", values)
    if sys.byteorder == "big":
        floats.byteswap()
    return floats.tobytes()


def head_parameters(seed: int, head: int, classes: int, input_size: int) -> tuple[bytes, bytes]:
    """The weights and bias of one head, as the builder stores them.

    Values are multiples of a power of two (int16 times ``2**-k``), exactly
    representable in float32, so a reference computation in Python floats sees
    the same numbers as the runtime. The weights' range shrinks with
    ``sqrt(input_size)`` so the logits stay of order 1 for audio in [-1, 1].

    Args:
        seed: the model's seed.
        head: the head's index.
        classes: the head's class count (rows of the weights).
        input_size: the number of input samples (columns of the weights).

    Returns:
        ``(weights, bias)``: little-endian float32 bytes, ``classes * input_size``
        and ``classes`` values, the weights row-major (``[classes, input_size]``).
    """
    step = 2.0 ** -round(math.log2(32768 * math.sqrt(input_size) / 8))
    weights = _random_int16(f"tflite-metadata/{seed}/head-{head}/weights", classes * input_size)
    bias = _random_int16(f"tflite-metadata/{seed}/head-{head}/bias", classes)
    return (
        _float32_bytes(v * step for v in weights),
        _float32_bytes(v / 65536 for v in bias),
    )


@functools.lru_cache(maxsize=4)
def _filler_block(seed: int) -> bytes:
    return hashlib.shake_256(f"tflite-metadata/{seed}/padding".encode()).digest(_FILLER_BLOCK)


# -- options -----------------------------------------------------------------------------------


def _tensor_type(name: str, what: str) -> TensorType:
    try:
        return TensorType[name.upper()]
    except KeyError:
        known = ", ".join(t.name.lower() for t in TensorType)
        raise ValueError(
            f"{what} {name!r} is not a TFLite tensor type (expected one of {known})"
        ) from None


def default_output_names(head_count: int) -> list[str]:
    """The output tensor names the builder gives by default.

    Args:
        head_count: the number of classification heads.

    Returns:
        ``["scores"]`` for one head, ``["scores_0", "scores_1", …]`` for several.
    """
    if head_count == 1:
        return ["scores"]
    return [f"scores_{index}" for index in range(head_count)]


@dataclass(frozen=True)
class _Options:
    input_shape: tuple[int, ...]
    heads: tuple[int, ...]
    input_type: TensorType
    output_type: TensorType
    input_name: str
    output_names: tuple[str, ...]
    seed: int
    weight_bytes: Optional[int]
    signature_key: Optional[str]
    extra_model_fields: bool
    extra_tensor_fields: bool

    @property
    def input_size(self) -> int:
        return math.prod(self.input_shape)


def _options(
    *,
    input_samples: int,
    heads: Sequence[int],
    input_type: str,
    input_shape: Sequence[int] | None,
    output_type: str,
    input_name: str,
    output_names: Sequence[str] | None,
    seed: int,
    weight_bytes: int | None,
    signature_key: str | None,
    extra_model_fields: bool,
    extra_tensor_fields: bool,
) -> _Options:
    """Check the public arguments and gather them."""
    head_list = tuple(int(classes) for classes in heads)
    if not head_list or min(head_list) < 1:
        raise ValueError(f"heads must be one or more class counts >= 1, got {list(heads)}")
    if input_shape is None:
        if int(input_samples) < 1:
            raise ValueError(f"input_samples must be >= 1, got {input_samples}")
        shape: tuple[int, ...] = (1, int(input_samples))
    else:
        shape = tuple(int(dim) for dim in input_shape)
        if not shape or min(shape) < 1:
            raise ValueError(f"input_shape must have dimensions >= 1, got {list(input_shape)}")
    names = tuple(default_output_names(len(head_list)) if output_names is None else output_names)
    if len(names) != len(head_list):
        raise ValueError(f"{len(names)} output_names given for {len(head_list)} heads")
    if len(set(names)) != len(names) or input_name in names:
        raise ValueError(
            f"tensor names must be distinct: input {input_name!r}, outputs {list(names)}"
        )
    if weight_bytes is not None and weight_bytes < 0:
        raise ValueError(f"weight_bytes must be >= 0, got {weight_bytes}")
    return _Options(
        input_shape=shape,
        heads=head_list,
        input_type=_tensor_type(input_type, "input_type"),
        output_type=_tensor_type(output_type, "output_type"),
        input_name=input_name,
        output_names=names,
        seed=int(seed),
        weight_bytes=weight_bytes,
        signature_key=signature_key,
        extra_model_fields=extra_model_fields,
        extra_tensor_fields=extra_tensor_fields,
    )


def _image_options(
    *,
    height: int,
    width: int,
    channels: int,
    classes: int,
    input_type: str,
    output_type: str,
    input_name: str,
    output_name: str,
    seed: int,
    weight_bytes: int | None,
    signature_key: str | None,
    extra_model_fields: bool,
    extra_tensor_fields: bool,
) -> _Options:
    """Check an image classifier's arguments and gather them as the audio builder's."""
    for what, value in (
        ("height", height),
        ("width", width),
        ("channels", channels),
        ("classes", classes),
    ):
        if int(value) < 1:
            raise ValueError(f"{what} must be >= 1, got {value}")
    return _options(
        input_samples=1,
        heads=(int(classes),),
        input_type=input_type,
        input_shape=(1, int(height), int(width), int(channels)),
        output_type=output_type,
        input_name=input_name,
        output_names=(output_name,),
        seed=seed,
        weight_bytes=weight_bytes,
        signature_key=signature_key,
        extra_model_fields=extra_model_fields,
        extra_tensor_fields=extra_tensor_fields,
    )


def _graph(options: _Options, external: bool) -> _Graph:
    """The classifier's tensors, operators and constants."""
    graph = _Graph(
        signature_key=options.signature_key,
        extra_model_fields=options.extra_model_fields,
        extra_tensor_fields=options.extra_tensor_fields,
    )
    size = options.input_size
    weights = [
        head_parameters(options.seed, index, classes, size)
        for index, classes in enumerate(options.heads)
    ]
    # Padding first: in an external-buffer file it then lies before the real weights,
    # which therefore sit at the largest offsets.
    if options.weight_bytes is not None:
        used = sum(len(w) + len(b) for w, b in weights)
        if options.weight_bytes > used:
            graph.add_constant(
                _Constant(size=options.weight_bytes - used, filler_seed=options.seed)
            )

    features = _float_input(graph, options.input_name, options.input_type, options.input_shape)

    for index, (classes, name, (weight_data, bias_data)) in enumerate(
        zip(options.heads, options.output_names, weights)
    ):
        prefix = f"head_{index}"
        weight = graph.add_tensor(
            _Tensor(
                f"{prefix}/weights",
                TensorType.FLOAT32,
                (classes, size),
                graph.add_constant(_Constant(len(weight_data), weight_data)),
            )
        )
        bias = graph.add_tensor(
            _Tensor(
                f"{prefix}/bias",
                TensorType.FLOAT32,
                (classes,),
                graph.add_constant(_Constant(len(bias_data), bias_data)),
            )
        )
        logits = graph.add_tensor(_Tensor(f"{prefix}/logits", TensorType.FLOAT32, (1, classes)))
        graph.operators.append(
            _Operator(
                BuiltinOperator.FULLY_CONNECTED,
                (features, weight, bias),
                (logits,),
                # Every FullyConnectedOptions field at its default: no fused activation,
                # default weights format, num dims not kept.
                BuiltinOptions.FullyConnectedOptions,
            )
        )
        target = options.output_type
        softmax_name = name if target == TensorType.FLOAT32 else f"{prefix}/probabilities"
        probabilities = graph.add_tensor(_Tensor(softmax_name, TensorType.FLOAT32, (1, classes)))
        graph.operators.append(
            _Operator(
                BuiltinOperator.SOFTMAX,
                (logits,),
                (probabilities,),
                BuiltinOptions.SoftmaxOptions,
                # The schema's default beta is 0, which would make every score equal.
                ((SoftmaxOptionsField.BETA, "float", 1.0),),
            )
        )
        output = probabilities
        if target != TensorType.FLOAT32:
            output = graph.add_tensor(
                _Tensor(name, target, (1, classes), quantization=OUTPUT_QUANTIZATION.get(target))
            )
            if target in OUTPUT_QUANTIZATION:
                graph.operators.append(
                    _Operator(
                        BuiltinOperator.QUANTIZE,
                        (probabilities,),
                        (output,),
                        BuiltinOptions.QuantizeOptions,
                    )
                )
            else:
                graph.operators.append(_cast(probabilities, output, TensorType.FLOAT32, target))
        graph.outputs.append(output)

    if external:
        graph.metadata.append((BUFFER_LOCATION_NAME, BUFFER_LOCATION_OUTSIDE))
    return graph


def _float_input(graph: _Graph, name: str, source: TensorType, shape: tuple[int, ...]) -> int:
    """Add the graph's input ``name``; return the float32 tensor the layers read.

    Other than float32, a ``DEQUANTIZE`` (quantized types, with
    :data:`INPUT_QUANTIZATION`, and float16) or a ``CAST`` follows the input.
    """
    quantization = INPUT_QUANTIZATION.get(source)
    input_index = graph.add_tensor(_Tensor(name, source, shape, quantization=quantization))
    graph.inputs.append(input_index)
    if source == TensorType.FLOAT32:
        return input_index
    features = graph.add_tensor(_Tensor(f"{name}/float32", TensorType.FLOAT32, shape))
    if source in INPUT_QUANTIZATION or source == TensorType.FLOAT16:
        graph.operators.append(
            _Operator(
                BuiltinOperator.DEQUANTIZE,
                (input_index,),
                (features,),
                BuiltinOptions.DequantizeOptions,
            )
        )
    else:
        graph.operators.append(_cast(input_index, features, source, TensorType.FLOAT32))
    return features


def _cast(source: int, target: int, from_type: TensorType, to_type: TensorType) -> _Operator:
    return _Operator(
        BuiltinOperator.CAST,
        (source,),
        (target,),
        BuiltinOptions.CastOptions,
        (
            (CastOptionsField.IN_DATA_TYPE, "byte", int(from_type)),
            (CastOptionsField.OUT_DATA_TYPE, "byte", int(to_type)),
        ),
    )


# -- serialization ---------------------------------------------------------------------------


def _byte_vector(builder: flatbuffers.Builder, size: int, pieces: Iterable[memoryview]) -> int:
    """A ``[ubyte]`` vector whose data is 16-byte aligned in the finished buffer.

    What ``Builder.CreateByteVector`` does, with two differences: the data gets
    the converter's alignment, and it is copied in piece by piece, so a large
    buffer is never held twice.
    """
    builder.StartVector(1, size, EXTERNAL_DATA_ALIGNMENT)
    builder.head -= size
    pos = builder.head
    for piece in pieces:
        builder.Bytes[pos : pos + len(piece)] = piece
        pos += len(piece)
    return int(builder.EndVector())


def _scalar_vector(builder: flatbuffers.Builder, kind: str, values: Sequence[float]) -> int:
    """A vector of ``int`` (``"int"``), ``long`` (``"long"``) or ``float`` (``"float"``)."""
    prepend, size = {
        "int": (builder.PrependInt32, 4),
        "long": (builder.PrependInt64, 8),
        "float": (builder.PrependFloat32, 4),
    }[kind]
    builder.StartVector(size, len(values), size)
    for value in reversed(values):
        prepend(value)
    return int(builder.EndVector())


def _offset_vector(builder: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    builder.StartVector(4, len(offsets), 4)
    for offset in reversed(offsets):
        builder.PrependUOffsetTRelative(offset)
    return int(builder.EndVector())


_PREPEND = {
    "byte": "PrependInt8",
    "ubyte": "PrependUint8",
    "int": "PrependInt32",
    "uint": "PrependUint32",
    "ulong": "PrependUint64",
    "float": "PrependFloat32",
}


def _add_scalar(builder: flatbuffers.Builder, field_id: int, kind: str, value: float) -> None:
    """Add scalar field ``field_id`` of schema type ``kind`` to the table being built.

    The value is written even when it equals the schema's default (which
    ``Prepend…Slot`` would omit): what the builder writes is then explicit.
    """
    getattr(builder, _PREPEND[kind])(value)
    builder.Slot(field_id)


def _extra_string(builder: flatbuffers.Builder) -> int:
    """Create the unknown string field's value, before the table that holds it."""
    return int(builder.CreateString(EXTRA_STRING_VALUE))


def _add_extra_fields(builder: flatbuffers.Builder, string: int) -> None:
    """Add both unknown fields to the table being built (``string`` from :func:`_extra_string`)."""
    _add_scalar(builder, EXTRA_SCALAR_FIELD, "uint", EXTRA_SCALAR_VALUE)
    builder.PrependUOffsetTRelativeSlot(EXTRA_STRING_FIELD, string, 0)


def _serialize(graph: _Graph, locations: Sequence[tuple[int, int]] | None) -> bytearray:
    """The model's FlatBuffer.

    Args:
        graph: the model.
        locations: ``None`` to store the constants inline (in ``Buffer.data``);
            else the absolute ``(offset, size)`` of each constant in the file.
    """
    inline_size = 0 if locations is not None else sum(c.size for c in graph.constants)
    # Sized up front, so the builder never grows (and copies) a large buffer.
    estimate = inline_size + EXTERNAL_DATA_ALIGNMENT * len(graph.constants) + 65536
    if estimate > _MAX_FLATBUFFER:
        raise ValueError(
            f"a model with {inline_size} bytes of constant data stored inline would exceed "
            "the 2 GiB FlatBuffer limit; use external_buffers=True (or write_audio_classifier, "
            "write_image_classifier)"
        )
    builder = flatbuffers.Builder(estimate)

    # Buffers: their data first, so it ends up at the end of the FlatBuffer, as the
    # converter places it.
    buffers = [_buffer(builder, None, None)]
    for index, constant in enumerate(graph.constants):
        if locations is None:
            data = _byte_vector(builder, constant.size, constant.pieces())
            buffers.append(_buffer(builder, data, None))
        else:
            buffers.append(_buffer(builder, None, locations[index]))
    metadata_buffers = []
    for _, content in graph.metadata:
        data = _byte_vector(builder, len(content), [memoryview(content)])
        metadata_buffers.append(len(buffers))
        buffers.append(_buffer(builder, data, None))

    tensors = [_tensor(builder, tensor, graph.extra_tensor_fields) for tensor in graph.tensors]
    codes: list[BuiltinOperator] = []
    for op in graph.operators:
        if op.code not in codes:
            codes.append(op.code)
    operators = [_operator(builder, op, codes.index(op.code)) for op in graph.operators]

    tensor_vector = _offset_vector(builder, tensors)
    input_vector = _scalar_vector(builder, "int", graph.inputs)
    output_vector = _scalar_vector(builder, "int", graph.outputs)
    operator_vector = _offset_vector(builder, operators)
    subgraph_name = builder.CreateString("main")
    builder.StartObject(len(SubGraphField))
    builder.PrependUOffsetTRelativeSlot(SubGraphField.TENSORS, tensor_vector, 0)
    builder.PrependUOffsetTRelativeSlot(SubGraphField.INPUTS, input_vector, 0)
    builder.PrependUOffsetTRelativeSlot(SubGraphField.OUTPUTS, output_vector, 0)
    builder.PrependUOffsetTRelativeSlot(SubGraphField.OPERATORS, operator_vector, 0)
    builder.PrependUOffsetTRelativeSlot(SubGraphField.NAME, subgraph_name, 0)
    subgraphs = _offset_vector(builder, [builder.EndObject()] * graph.subgraph_count)

    operator_codes = []
    for code in codes:
        builder.StartObject(len(OperatorCodeField))
        # Every code the builder emits is below 127, so the deprecated byte field
        # (which older runtimes read) holds it too.
        _add_scalar(builder, OperatorCodeField.DEPRECATED_BUILTIN_CODE, "byte", int(code))
        _add_scalar(builder, OperatorCodeField.VERSION, "int", 1)
        _add_scalar(builder, OperatorCodeField.BUILTIN_CODE, "int", int(code))
        operator_codes.append(builder.EndObject())
    operator_code_vector = _offset_vector(builder, operator_codes)

    metadata_vector = 0
    if graph.metadata:
        entries = []
        for (name, _), buffer_index in zip(graph.metadata, metadata_buffers):
            name_offset = builder.CreateString(name)
            builder.StartObject(len(MetadataField))
            builder.PrependUOffsetTRelativeSlot(MetadataField.NAME, name_offset, 0)
            _add_scalar(builder, MetadataField.BUFFER, "uint", buffer_index)
            entries.append(builder.EndObject())
        metadata_vector = _offset_vector(builder, entries)

    signature_vector = 0
    if graph.signature_key is not None:
        signature_vector = _offset_vector(builder, [_signature(builder, graph)])

    buffer_vector = _offset_vector(builder, buffers)
    description = builder.CreateString(_DESCRIPTION)
    extra_string = _extra_string(builder) if graph.extra_model_fields else 0
    builder.StartObject(EXTRA_STRING_FIELD + 1 if graph.extra_model_fields else len(ModelField))
    _add_scalar(builder, ModelField.VERSION, "uint", MODEL_SCHEMA_VERSION)
    builder.PrependUOffsetTRelativeSlot(ModelField.OPERATOR_CODES, operator_code_vector, 0)
    builder.PrependUOffsetTRelativeSlot(ModelField.SUBGRAPHS, subgraphs, 0)
    builder.PrependUOffsetTRelativeSlot(ModelField.DESCRIPTION, description, 0)
    builder.PrependUOffsetTRelativeSlot(ModelField.BUFFERS, buffer_vector, 0)
    if metadata_vector:
        builder.PrependUOffsetTRelativeSlot(ModelField.METADATA, metadata_vector, 0)
    if signature_vector:
        builder.PrependUOffsetTRelativeSlot(ModelField.SIGNATURE_DEFS, signature_vector, 0)
    if graph.extra_model_fields:
        _add_extra_fields(builder, extra_string)
    builder.Finish(builder.EndObject(), file_identifier=FILE_IDENTIFIER)

    # The finished FlatBuffer is the tail of the builder's array: drop the unused
    # head in place (cheap for a bytearray) rather than copy it out with Output().
    out: bytearray = builder.Bytes
    del out[: builder.Head()]
    return out


def _buffer(
    builder: flatbuffers.Builder, data: int | None, location: tuple[int, int] | None
) -> int:
    builder.StartObject(len(BufferField))
    if data is not None:
        builder.PrependUOffsetTRelativeSlot(BufferField.DATA, data, 0)
    if location is not None:
        # Size first: the builder writes backwards, so this puts ``offset`` first in
        # the table, as the converter's tables have it.
        _add_scalar(builder, BufferField.SIZE, "ulong", location[1])
        _add_scalar(builder, BufferField.OFFSET, "ulong", location[0])
    return int(builder.EndObject())


def _tensor(builder: flatbuffers.Builder, tensor: _Tensor, extra_fields: bool) -> int:
    shape = _scalar_vector(builder, "int", tensor.shape)
    signature = 0
    if tensor.shape_signature is not None:
        signature = _scalar_vector(builder, "int", tensor.shape_signature)
    name = builder.CreateString(tensor.name)
    quantization = 0
    if tensor.quantization is not None:
        scale, zero_point = tensor.quantization
        scales = _scalar_vector(builder, "float", [scale])
        zero_points = _scalar_vector(builder, "long", [zero_point])
        builder.StartObject(len(QuantizationParametersField))
        builder.PrependUOffsetTRelativeSlot(QuantizationParametersField.SCALE, scales, 0)
        builder.PrependUOffsetTRelativeSlot(QuantizationParametersField.ZERO_POINT, zero_points, 0)
        quantization = builder.EndObject()
    extra_string = _extra_string(builder) if extra_fields else 0
    builder.StartObject(EXTRA_STRING_FIELD + 1 if extra_fields else len(TensorField))
    builder.PrependUOffsetTRelativeSlot(TensorField.SHAPE, shape, 0)
    _add_scalar(builder, TensorField.TYPE, "byte", int(tensor.type))
    if tensor.buffer:
        _add_scalar(builder, TensorField.BUFFER, "uint", tensor.buffer)
    builder.PrependUOffsetTRelativeSlot(TensorField.NAME, name, 0)
    if quantization:
        builder.PrependUOffsetTRelativeSlot(TensorField.QUANTIZATION, quantization, 0)
    if tensor.shape_signature is not None:
        builder.PrependUOffsetTRelativeSlot(TensorField.SHAPE_SIGNATURE, signature, 0)
    if extra_fields:
        _add_extra_fields(builder, extra_string)
    return int(builder.EndObject())


def _operator(builder: flatbuffers.Builder, op: _Operator, opcode_index: int) -> int:
    inputs = _scalar_vector(builder, "int", op.inputs)
    outputs = _scalar_vector(builder, "int", op.outputs)
    builder.StartObject(max((f for f, _, _ in op.options), default=-1) + 1)
    for field_id, kind, value in op.options:
        _add_scalar(builder, field_id, kind, value)
    options = builder.EndObject()
    builder.StartObject(OperatorField.CUSTOM_OPTIONS)
    _add_scalar(builder, OperatorField.OPCODE_INDEX, "uint", opcode_index)
    builder.PrependUOffsetTRelativeSlot(OperatorField.INPUTS, inputs, 0)
    builder.PrependUOffsetTRelativeSlot(OperatorField.OUTPUTS, outputs, 0)
    _add_scalar(builder, OperatorField.BUILTIN_OPTIONS_TYPE, "ubyte", int(op.options_type))
    builder.PrependUOffsetTRelativeSlot(OperatorField.BUILTIN_OPTIONS, options, 0)
    return int(builder.EndObject())


def _signature(builder: flatbuffers.Builder, graph: _Graph) -> int:
    """The ``serving_default`` signature: every input and output under its tensor's name."""

    def tensor_maps(indices: Sequence[int]) -> int:
        maps = []
        for index in indices:
            name = builder.CreateString(graph.tensors[index].name)
            builder.StartObject(len(TensorMapField))
            builder.PrependUOffsetTRelativeSlot(TensorMapField.NAME, name, 0)
            _add_scalar(builder, TensorMapField.TENSOR_INDEX, "uint", index)
            maps.append(builder.EndObject())
        return _offset_vector(builder, maps)

    inputs = tensor_maps(graph.inputs)
    outputs = tensor_maps(graph.outputs)
    key = builder.CreateString(graph.signature_key or "")
    builder.StartObject(SignatureDefField.SUBGRAPH_INDEX + 1)
    builder.PrependUOffsetTRelativeSlot(SignatureDefField.INPUTS, inputs, 0)
    builder.PrependUOffsetTRelativeSlot(SignatureDefField.OUTPUTS, outputs, 0)
    builder.PrependUOffsetTRelativeSlot(SignatureDefField.SIGNATURE_KEY, key, 0)
    _add_scalar(builder, SignatureDefField.SUBGRAPH_INDEX, "uint", 0)
    return int(builder.EndObject())


# -- layout -------------------------------------------------------------------------------------


def _align(value: int) -> int:
    return -(-value // EXTERNAL_DATA_ALIGNMENT) * EXTERNAL_DATA_ALIGNMENT


@dataclass(frozen=True)
class _Layout:
    """A model with external buffers: the FlatBuffer, then each constant at its offset."""

    flatbuffer: bytearray
    constants: list[tuple[int, _Constant]]
    size: int

    def pieces(self) -> Iterator[memoryview]:
        """Every byte of the file, in order, in pieces of bounded size."""
        yield memoryview(self.flatbuffer)
        pos = len(self.flatbuffer)
        for offset, constant in self.constants:
            yield memoryview(bytes(offset - pos))
            yield from constant.pieces()
            pos = offset + constant.size
        yield memoryview(bytes(self.size - pos))


def _external_layout(graph: _Graph) -> _Layout:
    """Place the constants after the FlatBuffer, as the converter's buffer-offset mode does."""
    # The offsets' values do not change the FlatBuffer's size (a ulong field is 8
    # bytes whatever it holds, and no value is 0, which would omit it), so one build
    # with placeholders measures it, and a second writes the real offsets.
    placeholder = [(EXTERNAL_DATA_ALIGNMENT, c.size) for c in graph.constants]
    start = _align(len(_serialize(graph, placeholder)))
    locations = []
    pos = start
    for constant in graph.constants:
        locations.append((pos, constant.size))
        pos = _align(pos + constant.size)
    flatbuffer = _serialize(graph, locations)
    if _align(len(flatbuffer)) != start:
        raise AssertionError("the FlatBuffer changed size when its offsets were filled in")
    return _Layout(
        flatbuffer=flatbuffer,
        constants=[(offset, c) for (offset, _), c in zip(locations, graph.constants)],
        size=pos,
    )


# -- public API -----------------------------------------------------------------------------------


def build_audio_classifier(
    *,
    input_samples: int = 15600,
    heads: Sequence[int] = (7,),
    input_type: str = "float32",
    input_shape: Sequence[int] | None = None,
    output_type: str = "float32",
    input_name: str = "waveform",
    output_names: Sequence[str] | None = None,
    seed: int = 0,
    external_buffers: bool = False,
    weight_bytes: int | None = None,
    signature_key: str | None = _SIGNATURE_KEY,
    extra_model_fields: bool = False,
    extra_tensor_fields: bool = False,
) -> bytearray:
    """Build an audio classifier (see the module's documentation for the graph).

    Args:
        input_samples: the input's sample count; the input is ``[1, input_samples]``.
        heads: each head's class count; one output per head, in this order.
        input_type: the input tensor's type (a ``TensorType`` name, any case);
            other than ``"float32"``, a ``DEQUANTIZE`` or ``CAST`` follows the input.
        input_shape: the input tensor's shape instead of ``[1, input_samples]``
            (e.g. ``[1, 1, 16000]`` or ``[15600]``); the layers see the product of
            its dimensions as the sample count, and ``input_samples`` is ignored.
        output_type: the outputs' type; other than ``"float32"``, a ``QUANTIZE``
            (uint8, int8, int16) or ``CAST`` follows each softmax.
        input_name: the input tensor's name.
        output_names: the output tensors' names; default :func:`default_output_names`.
        seed: selects the pseudo-random weights.
        external_buffers: store the constant data after the FlatBuffer, located
            by ``Buffer.offset``/``Buffer.size`` (the converter's buffer-offset mode).
        weight_bytes: pad the constant data to this many bytes (the file is a few
            KiB larger) with a buffer no tensor uses; no padding when the weights
            are already as large.
        signature_key: the key of the model's one ``SignatureDef`` (naming the input
            and outputs by their tensor names); ``None`` for no signature.
        extra_model_fields: add fields unknown to every TFLite schema to ``Model``:
            a ``uint`` (:data:`EXTRA_SCALAR_FIELD`, :data:`EXTRA_SCALAR_VALUE`) and a
            string (:data:`EXTRA_STRING_FIELD`, :data:`EXTRA_STRING_VALUE`).
        extra_tensor_fields: add the same two fields to every ``Tensor``.

    Returns:
        The model's bytes.

    Raises:
        ValueError: an argument is out of range (no heads, a class count or a
            dimension below 1, an unknown type name, duplicate tensor names…), or
            the constant data would not fit in a FlatBuffer without ``external_buffers``.
    """
    options = _options(
        input_samples=input_samples,
        heads=heads,
        input_type=input_type,
        input_shape=input_shape,
        output_type=output_type,
        input_name=input_name,
        output_names=output_names,
        seed=seed,
        weight_bytes=weight_bytes,
        signature_key=signature_key,
        extra_model_fields=extra_model_fields,
        extra_tensor_fields=extra_tensor_fields,
    )
    return _build(options, external_buffers)


def write_audio_classifier(
    path: PathLike,
    *,
    weight_bytes: int | None = None,
    input_samples: int = 15600,
    heads: Sequence[int] = (7,),
    input_type: str = "float32",
    input_shape: Sequence[int] | None = None,
    output_type: str = "float32",
    input_name: str = "waveform",
    output_names: Sequence[str] | None = None,
    seed: int = 0,
    signature_key: str | None = _SIGNATURE_KEY,
    extra_model_fields: bool = False,
    extra_tensor_fields: bool = False,
) -> int:
    """Write an audio classifier with external buffers to ``path``, in bounded memory.

    The file is the one ``build_audio_classifier(external_buffers=True, ...)``
    returns for the same arguments, byte for byte, but the padding is streamed:
    a model of any size (over 2 GiB, with 64-bit offsets) costs a few MiB of memory.
    The file appears complete or not at all (it is written beside ``path`` and
    renamed).

    Args:
        path: where to write the model.
        weight_bytes: the size of the constant data, as for :func:`build_audio_classifier`.
        input_samples, heads, input_type, input_shape, output_type, input_name,
            output_names, seed, signature_key, extra_model_fields,
            extra_tensor_fields: as for :func:`build_audio_classifier`.

    Returns:
        The file's size in bytes.

    Raises:
        ValueError: an argument is out of range (see :func:`build_audio_classifier`).
        OutputWriteError: the file could not be written.
    """
    options = _options(
        input_samples=input_samples,
        heads=heads,
        input_type=input_type,
        input_shape=input_shape,
        output_type=output_type,
        input_name=input_name,
        output_names=output_names,
        seed=seed,
        weight_bytes=weight_bytes,
        signature_key=signature_key,
        extra_model_fields=extra_model_fields,
        extra_tensor_fields=extra_tensor_fields,
    )
    return _write(path, options)


def build_image_classifier(
    *,
    height: int = 224,
    width: int = 224,
    channels: int = 3,
    classes: int = 5,
    input_type: str = "float32",
    output_type: str = "float32",
    input_name: str = "image",
    output_name: str = "scores",
    seed: int = 0,
    external_buffers: bool = False,
    weight_bytes: int | None = None,
    signature_key: str | None = _SIGNATURE_KEY,
    extra_model_fields: bool = False,
    extra_tensor_fields: bool = False,
) -> bytearray:
    """Build an image classifier: input ``[1, height, width, channels]``, output ``[1, classes]``.

    The graph is the audio classifier's with one head (see the module's
    documentation): ``FULLY_CONNECTED`` flattens the image itself, then ``SOFTMAX``.
    The result is the model ``build_audio_classifier(input_shape=[1, height, width,
    channels], heads=[classes], input_name=input_name, output_names=[output_name], ...)``
    makes, byte for byte; its weights are ``head_parameters(seed, 0, classes,
    height * width * channels)``. At the default size the weights take
    ``5 * 224 * 224 * 3 * 4`` bytes (2.9 MiB); a 32x32 image is enough for consumers,
    which resize what they classify.

    Args:
        height: the input's height in pixels.
        width: the input's width in pixels.
        channels: the input's channels (the Task Library takes 3, RGB; MediaPipe 3 or 4;
            both refuse 1).
        classes: the class count: the output's size.
        input_type: the input tensor's type. ``"float32"`` expects pixels already
            normalized to about [-1, 1] (metadata mean 127.5, std 127.5); ``"uint8"``
            takes pixels as they are, with :data:`INPUT_QUANTIZATION` (scale 1/128,
            zero point 128) and a ``DEQUANTIZE``; other types as for
            :func:`build_audio_classifier`.
        output_type: the output's type; ``"uint8"`` quantizes the probabilities with
            :data:`OUTPUT_QUANTIZATION` (a ``QUANTIZE`` after the softmax).
        input_name: the input tensor's name.
        output_name: the output tensor's name.
        seed, external_buffers, weight_bytes, signature_key, extra_model_fields,
            extra_tensor_fields: as for :func:`build_audio_classifier`.

    Returns:
        The model's bytes.

    Raises:
        ValueError: an argument is out of range (a dimension or ``classes`` below 1,
            an unknown type name, the same name for input and output…), or the
            constant data would not fit in a FlatBuffer without ``external_buffers``.
    """
    options = _image_options(
        height=height,
        width=width,
        channels=channels,
        classes=classes,
        input_type=input_type,
        output_type=output_type,
        input_name=input_name,
        output_name=output_name,
        seed=seed,
        weight_bytes=weight_bytes,
        signature_key=signature_key,
        extra_model_fields=extra_model_fields,
        extra_tensor_fields=extra_tensor_fields,
    )
    return _build(options, external_buffers)


def write_image_classifier(
    path: PathLike,
    *,
    weight_bytes: int | None = None,
    height: int = 224,
    width: int = 224,
    channels: int = 3,
    classes: int = 5,
    input_type: str = "float32",
    output_type: str = "float32",
    input_name: str = "image",
    output_name: str = "scores",
    seed: int = 0,
    signature_key: str | None = _SIGNATURE_KEY,
    extra_model_fields: bool = False,
    extra_tensor_fields: bool = False,
) -> int:
    """Write an image classifier with external buffers to ``path``, in bounded memory.

    The file is the one ``build_image_classifier(external_buffers=True, ...)``
    returns for the same arguments, byte for byte, written as
    :func:`write_audio_classifier` writes (streamed, complete or not at all).

    Args:
        path: where to write the model.
        weight_bytes: the size of the constant data, as for :func:`build_audio_classifier`.
        height, width, channels, classes, input_type, output_type, input_name,
            output_name, seed, signature_key, extra_model_fields,
            extra_tensor_fields: as for :func:`build_image_classifier`.

    Returns:
        The file's size in bytes.

    Raises:
        ValueError: an argument is out of range (see :func:`build_image_classifier`).
        OutputWriteError: the file could not be written.
    """
    options = _image_options(
        height=height,
        width=width,
        channels=channels,
        classes=classes,
        input_type=input_type,
        output_type=output_type,
        input_name=input_name,
        output_name=output_name,
        seed=seed,
        weight_bytes=weight_bytes,
        signature_key=signature_key,
        extra_model_fields=extra_model_fields,
        extra_tensor_fields=extra_tensor_fields,
    )
    return _write(path, options)


def _build(options: _Options, external_buffers: bool) -> bytearray:
    """The model's bytes, its constants inline or (``external_buffers``) after the FlatBuffer."""
    graph = _graph(options, external_buffers)
    if not external_buffers:
        return _serialize(graph, None)
    layout = _external_layout(graph)
    out = bytearray(layout.size)
    pos = 0
    for piece in layout.pieces():
        out[pos : pos + len(piece)] = piece
        pos += len(piece)
    return out


def _write(path: PathLike, options: _Options) -> int:
    """Stream the model with external buffers to ``path`` (atomically); return its size."""
    layout = _external_layout(_graph(options, True))
    with atomic_output(path) as stream:
        _write_pieces(stream, layout.pieces())
    return layout.size


def _write_pieces(stream: IO[bytes], pieces: Iterable[memoryview]) -> None:
    for piece in pieces:
        stream.write(piece)


#: The input tensor names of Model Maker's BERT classifiers, in the order their models
#: take them (ids, segment ids, mask), as ``build_bert_classifier`` names its inputs.
BERT_INPUT_NAMES = (
    "serving_default_input_word_ids:0",
    "serving_default_input_type_ids:0",
    "serving_default_input_mask:0",
)


def build_bert_classifier(
    *,
    seq_len: int = 16,
    classes: int = 2,
    input_names: Sequence[str] = BERT_INPUT_NAMES,
    output_name: str = "StatefulPartitionedCall:0",
    seed: int = 0,
    shape_signatures: Sequence[Sequence[int] | None] | None = None,
    input_type: str = "int32",
    outputs: int = 1,
    subgraphs: int = 1,
    input_shapes: Sequence[Sequence[int]] | None = None,
) -> bytearray:
    """Build a BERT-shaped classifier: three INT32 inputs ``[1, seq_len]``, output ``[1, classes]``.

    The first input (the token ids) is cast to float32 and classified as the audio
    classifier's waveform is (``FULLY_CONNECTED``, then ``SOFTMAX``); the other two
    (by default the segment ids, then the mask: Model Maker's order) are inputs the
    graph does not read, which runtimes accept. So the scores depend on the ids
    the tokenizer makes, and a consumer that feeds the wrong tensor gives others.

    Args:
        seq_len: the inputs' length (the Task Library needs at least 2).
        classes: the class count.
        input_names: the input tensors' names, in the model's input order (three,
            unless a model the consumers refuse is wanted); the first is the one
            that is read.
        output_name: the output tensor's name.
        seed: selects the weights (``head_parameters(seed, 0, classes, seq_len)``).
        shape_signatures: each input's ``shape_signature`` (None: none written), as
            the converter writes ``[1, -1]`` for a dynamic sequence length. When one
            has a -1, the inputs may be resized, which the ``FULLY_CONNECTED`` over
            ``seq_len`` ids could not follow: the graph then reads no input, and its
            scores are the softmax of constant logits, whatever the text.
        input_type: the inputs' type (the consumers take INT32 only); other than
            INT32, a ``CAST`` of the ids to float32 still runs.
        outputs: the number of outputs; each is the same softmax, the second
            and later named ``output_name`` followed by ``/1``, ``/2`` …
        subgraphs: how many times ``Model.subgraphs`` lists the subgraph (MediaPipe
            refuses more than one).
        input_shapes: each input's shape instead of ``[1, seq_len]``; when one
            differs, the graph reads no input (constant logits, as for a dynamic
            length).

    Returns:
        The model's bytes; the same arguments give the same bytes.

    Raises:
        ValueError: a size below 1, names that are not distinct, not one signature
            per input, or an unknown type.
    """
    if int(seq_len) < 1 or int(classes) < 1 or int(outputs) < 1:
        raise ValueError(
            f"seq_len, classes and outputs must be >= 1, got {seq_len}, {classes} and {outputs}"
        )
    names = tuple(input_names)
    if not names or len({*names, output_name}) != len(names) + 1:
        raise ValueError(
            f"expected distinct input names and another output name, got {list(names)} "
            f"and {output_name!r}"
        )
    signatures = [None] * len(names) if shape_signatures is None else list(shape_signatures)
    if len(signatures) != len(names):
        raise ValueError(
            f"expected {len(names)} shape signatures (one per input), got {len(signatures)}"
        )
    kind = _tensor_type(input_type, "input_type")
    graph = _Graph(subgraph_count=int(subgraphs))
    shape = (1, int(seq_len))
    shapes = [shape] * len(names) if input_shapes is None else [tuple(s) for s in input_shapes]
    if len(shapes) != len(names):
        raise ValueError(f"expected {len(names)} input shapes (one per input), got {len(shapes)}")
    for name, signature, input_shape in zip(names, signatures, shapes):
        graph.inputs.append(
            graph.add_tensor(
                _Tensor(
                    name,
                    kind,
                    input_shape,
                    shape_signature=None if signature is None else tuple(signature),
                )
            )
        )
    weight_data, bias_data = head_parameters(int(seed), 0, int(classes), int(seq_len))
    dynamic = any(-1 in (signature or ()) for signature in signatures)
    if dynamic or any(input_shape != shape for input_shape in shapes):
        # A dynamic length, or other shapes: softmax of constant logits (the bias),
        # reading no input.
        logits = graph.add_tensor(
            _Tensor(
                "head/bias",
                TensorType.FLOAT32,
                (1, int(classes)),
                graph.add_constant(_Constant(len(bias_data), bias_data)),
            )
        )
    else:
        features = graph.add_tensor(_Tensor("ids/float32", TensorType.FLOAT32, shape))
        graph.operators.append(_cast(graph.inputs[0], features, kind, TensorType.FLOAT32))
        weight = graph.add_tensor(
            _Tensor(
                "head/weights",
                TensorType.FLOAT32,
                (int(classes), int(seq_len)),
                graph.add_constant(_Constant(len(weight_data), weight_data)),
            )
        )
        bias = graph.add_tensor(
            _Tensor(
                "head/bias",
                TensorType.FLOAT32,
                (int(classes),),
                graph.add_constant(_Constant(len(bias_data), bias_data)),
            )
        )
        logits = graph.add_tensor(_Tensor("head/logits", TensorType.FLOAT32, (1, int(classes))))
        graph.operators.append(
            _Operator(
                BuiltinOperator.FULLY_CONNECTED,
                (features, weight, bias),
                (logits,),
                BuiltinOptions.FullyConnectedOptions,
            )
        )
    for number in range(int(outputs)):
        name = output_name if number == 0 else f"{output_name}/{number}"
        _softmax_output(graph, logits, name, int(classes))
    return _serialize(graph, None)


def _softmax_output(graph: _Graph, logits: int, name: str, classes: int) -> _Graph:
    """Add ``name`` = ``SOFTMAX(logits)`` (``[1, classes]``) as an output of the graph."""
    scores = graph.add_tensor(_Tensor(name, TensorType.FLOAT32, (1, classes)))
    graph.operators.append(
        _Operator(
            BuiltinOperator.SOFTMAX,
            (logits,),
            (scores,),
            BuiltinOptions.SoftmaxOptions,
            ((SoftmaxOptionsField.BETA, "float", 1.0),),
        )
    )
    graph.outputs.append(scores)
    return graph


# -- image segmenters --------------------------------------------------------------------------


def _int32_bytes(values: Iterable[int]) -> bytes:
    """Little-endian int32 bytes of ``values``."""
    ints = array("i", values)
    if sys.byteorder == "big":
        ints.byteswap()
    return ints.tobytes()


def _reshape(graph: _Graph, source: int, target: int, shape: Sequence[int]) -> None:
    """Add ``target = RESHAPE(source)`` to ``shape`` (a constant INT32 shape input)."""
    data = _int32_bytes(shape)
    new_shape = graph.add_tensor(
        _Tensor(
            f"{graph.tensors[target].name}/shape",
            TensorType.INT32,
            (len(shape),),
            graph.add_constant(_Constant(len(data), data)),
        )
    )
    graph.operators.append(
        _Operator(
            BuiltinOperator.RESHAPE, (source, new_shape), (target,), BuiltinOptions.ReshapeOptions
        )
    )


def _dense(
    graph: _Graph,
    features: int,
    name: str,
    units: int,
    inputs: int,
    shape: tuple[int, ...],
    weights: tuple[bytes, bytes],
    keep_num_dims: bool = False,
) -> int:
    """Add ``FULLY_CONNECTED(features)`` with ``units`` outputs; return its ``shape`` output.

    ``inputs`` is the weights' column count: the features' size, or (``keep_num_dims``)
    their last dimension, each position of the others getting its own ``units`` values.
    """
    weight_data, bias_data = weights
    weight = graph.add_tensor(
        _Tensor(
            f"{name}/weights",
            TensorType.FLOAT32,
            (units, inputs),
            graph.add_constant(_Constant(len(weight_data), weight_data)),
        )
    )
    bias = graph.add_tensor(
        _Tensor(
            f"{name}/bias",
            TensorType.FLOAT32,
            (units,),
            graph.add_constant(_Constant(len(bias_data), bias_data)),
        )
    )
    output = graph.add_tensor(_Tensor(f"{name}/logits", TensorType.FLOAT32, shape))
    graph.operators.append(
        _Operator(
            BuiltinOperator.FULLY_CONNECTED,
            (features, weight, bias),
            (output,),
            BuiltinOptions.FullyConnectedOptions,
            ((FullyConnectedOptionsField.KEEP_NUM_DIMS, "ubyte", 1),) if keep_num_dims else (),
        )
    )
    return output


def _typed_output(graph: _Graph, source: int, name: str, kind: TensorType) -> int:
    """The output ``name``: ``source`` (float32) renamed, or quantized or cast to ``kind``."""
    shape = graph.tensors[source].shape
    if kind == TensorType.FLOAT32:
        graph.tensors[source] = replace(graph.tensors[source], name=name)
        return source
    output = graph.add_tensor(
        _Tensor(name, kind, shape, quantization=OUTPUT_QUANTIZATION.get(kind))
    )
    if kind in OUTPUT_QUANTIZATION:
        graph.operators.append(
            _Operator(
                BuiltinOperator.QUANTIZE, (source,), (output,), BuiltinOptions.QuantizeOptions
            )
        )
    else:
        graph.operators.append(_cast(source, output, TensorType.FLOAT32, kind))
    return output


def build_image_segmenter(
    *,
    height: int = 16,
    width: int = 16,
    channels: int = 3,
    classes: int = 4,
    input_type: str = "float32",
    output_type: str = "float32",
    masks_shape: Sequence[int] | None = None,
    quality_scores: Sequence[str] = (),
    seed: int = 0,
    subgraphs: int = 1,
    inputs: int = 1,
) -> bytearray:
    """Build an image segmenter: image ``[1, H, W, channels]``, masks ``[1, H, W, classes]``.

    Each pixel is classified on its own, a 1x1 convolution made of a
    ``FULLY_CONNECTED`` that keeps the image's dimensions (weights ``[classes,
    channels]``), then ``SOFTMAX`` over the classes::

        image ─ FULLY_CONNECTED(keep_num_dims) ─ SOFTMAX ─ RESHAPE / QUANTIZE ─ masks

    With ``quality_scores``, first an output ``quality`` ``[1, 1]`` (a
    ``FULLY_CONNECTED`` over the whole image), as MediaPipe's segmenters with a
    quality score have it: then the masks are the second output. (More than one
    quality output, ``quality_1`` …, make a model the consumers refuse.)

    Args:
        height: the image's (and the masks') height.
        width: the image's (and the masks') width.
        channels: the image's channels.
        classes: the masks' classes (their last dimension).
        input_type: the image's type, as for :func:`build_image_classifier`.
        output_type: the masks' type: ``"float32"``, or quantized (``"uint8"``,
            ``"int8"``: :data:`OUTPUT_QUANTIZATION`) or cast to another type.
        masks_shape: the masks' shape instead of ``[1, height, width, classes]``
            (a ``RESHAPE``: as many values, e.g. ``[height, width, classes]``).
        quality_scores: each quality output's type (``"float32"``, ``"uint8"`` …);
            none by default.
        seed: selects the weights.
        subgraphs: as for :func:`build_bert_classifier`.
        inputs: the number of image inputs, as for :func:`build_detector_outputs`
            (only the first is read).

    Returns:
        The model's bytes; the same arguments give the same bytes.

    Raises:
        ValueError: a size below 1, an unknown type, or a ``masks_shape`` of
            another size.
    """
    for what, value in (
        ("height", height),
        ("width", width),
        ("channels", channels),
        ("classes", classes),
    ):
        if int(value) < 1:
            raise ValueError(f"{what} must be >= 1, got {value}")
    image_shape = (1, int(height), int(width), int(channels))
    pixel_shape = (1, int(height), int(width), int(classes))
    shape = pixel_shape if masks_shape is None else tuple(int(d) for d in masks_shape)
    if math.prod(shape) != math.prod(pixel_shape) or min(shape, default=0) < 1:
        raise ValueError(
            f"masks_shape {list(shape)} does not hold {math.prod(pixel_shape)} values "
            f"({list(pixel_shape)})"
        )
    graph = _Graph(subgraph_count=int(subgraphs))
    features = _float_input(graph, "image", _tensor_type(input_type, "input_type"), image_shape)
    for number in range(1, int(inputs)):
        graph.inputs.append(
            graph.add_tensor(_Tensor(f"image_{number}", TensorType.FLOAT32, image_shape))
        )
    size = math.prod(image_shape)
    for number, quality in enumerate(quality_scores):
        name = "quality" if number == 0 else f"quality_{number}"
        score = _dense(
            graph, features, name, 1, size, (1, 1), head_parameters(seed, 1 + number, 1, size)
        )
        graph.outputs.append(
            _typed_output(graph, score, name, _tensor_type(quality, "quality_scores"))
        )
    logits = _dense(
        graph,
        features,
        "masks",
        int(classes),
        int(channels),
        pixel_shape,
        head_parameters(seed, 0, int(classes), int(channels)),
        keep_num_dims=True,
    )
    probabilities = graph.add_tensor(_Tensor("masks/softmax", TensorType.FLOAT32, pixel_shape))
    graph.operators.append(
        _Operator(
            BuiltinOperator.SOFTMAX,
            (logits,),
            (probabilities,),
            BuiltinOptions.SoftmaxOptions,
            ((SoftmaxOptionsField.BETA, "float", 1.0),),
        )
    )
    if shape != pixel_shape:
        reshaped = graph.add_tensor(_Tensor("masks/reshaped", TensorType.FLOAT32, shape))
        _reshape(graph, probabilities, reshaped, shape)
        probabilities = reshaped
    graph.outputs.append(
        _typed_output(graph, probabilities, "masks", _tensor_type(output_type, "output_type"))
    )
    return _serialize(graph, None)


# -- detector-shaped models (tensors only) ------------------------------------------------------

#: The SSD post-processing outputs, in the order of its ports: name, shape for N = 10, type.
DETECTOR_OUTPUTS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("location", (1, 10, 4)),
    ("category", (1, 10)),
    ("score", (1, 10)),
    ("number of detections", (1,)),
)


def build_detector_outputs(
    *,
    outputs: Sequence[tuple[str, Sequence[int], str]],
    order: Sequence[int] | None = None,
    height: int = 8,
    width: int = 8,
    channels: int = 3,
    input_type: str = "uint8",
    input_name: str = "image",
    values: Sequence[Sequence[float]] | None = None,
    subgraphs: int = 1,
    inputs: int = 1,
) -> bytearray:
    """A model with one image input and the given outputs: no operators, or constant outputs.

    Without ``values`` it is not run: it has the tensors a detector's metadata
    writer and ``check`` read. With ``values``, each output is a ``RESHAPE`` of a
    constant holding its values, whatever the image (which no operator reads):
    runtimes run it, and consumers detect the boxes the values say. The output
    tensors are created in the order of ``outputs`` (so their tensor indices grow
    in that order, as an SSD's post-processing outputs do), and listed in the
    subgraph's outputs in ``order`` (default: the same order).

    Args:
        outputs: each output's tensor name, shape and type (a ``TensorType`` name).
        order: positions in ``outputs``, in the order the subgraph lists them.
        height: the image's height.
        width: the image's width.
        channels: the image's channels.
        input_type: the image's type.
        input_name: the image tensor's name.
        values: each output's values, as many as its shape holds, row-major. A
            FLOAT32 output stores them as they are; another type rounds them,
            a UINT8 or INT8 one quantized (scale 1/255 when every value lies in
            [0, 1], else 1; zero point 0).
        subgraphs: as for :func:`build_bert_classifier`.
        inputs: the number of image inputs (more than one: a model the consumers
            refuse), the second and later named ``input_name`` followed by ``_1`` …

    Returns:
        The model's bytes.

    Raises:
        ValueError: ``values`` not one list per output of the output's size, or
            a type the constants cannot hold (other than FLOAT32, INT32, UINT8, INT8).
    """
    graph = _Graph(subgraph_count=int(subgraphs))
    for number in range(int(inputs)):
        graph.inputs.append(
            graph.add_tensor(
                _Tensor(
                    input_name if number == 0 else f"{input_name}_{number}",
                    _tensor_type(input_type, "input_type"),
                    (1, height, width, channels),
                )
            )
        )
    if values is not None and len(values) != len(outputs):
        raise ValueError(f"{len(values)} lists of values for {len(outputs)} outputs")
    indices = []
    for position, (name, shape, kind) in enumerate(outputs):
        tensor = _Tensor(name, _tensor_type(kind, "output type"), tuple(shape))
        if values is not None:
            tensor = replace(tensor, quantization=_constant_quantization(tensor, values[position]))
        indices.append(graph.add_tensor(tensor))
    for index, data in zip(indices, values or ()):
        tensor = graph.tensors[index]
        encoded = _constant_bytes(tensor, data)
        constant = graph.add_tensor(
            _Tensor(
                f"{tensor.name}/values",
                tensor.type,
                tensor.shape,
                graph.add_constant(_Constant(len(encoded), encoded)),
                tensor.quantization,
            )
        )
        _reshape(graph, constant, index, tensor.shape)
    positions = range(len(indices)) if order is None else order
    graph.outputs.extend(indices[position] for position in positions)
    return _serialize(graph, None)


def _constant_quantization(tensor: _Tensor, values: Sequence[float]) -> Optional[tuple[float, int]]:
    """The quantization of a constant UINT8 or INT8 output holding ``values``."""
    if tensor.type not in (TensorType.UINT8, TensorType.INT8):
        return None
    return (1 / 255 if all(0 <= v <= 1 for v in values) else 1.0, 0)


def _constant_bytes(tensor: _Tensor, values: Sequence[float]) -> bytes:
    """``values`` stored as ``tensor``'s type (quantized with its quantization)."""
    if len(values) != math.prod(tensor.shape):
        raise ValueError(
            f"{len(values)} values for output {tensor.name!r} of shape {list(tensor.shape)}"
        )
    if tensor.type == TensorType.FLOAT32:
        return _float32_bytes(values)
    scale = tensor.quantization[0] if tensor.quantization is not None else 1.0
    codes = {TensorType.INT32: "i", TensorType.UINT8: "B", TensorType.INT8: "b"}
    if tensor.type not in codes:
        raise ValueError(
            f"output {tensor.name!r}: constants of type {tensor.type.name} are not built"
        )
    stored = array(codes[tensor.type], (round(v / scale) for v in values))
    if sys.byteorder == "big":
        stored.byteswap()
    return stored.tobytes()
