"""The TFLite model format (``schema.fbs``): the constants this package needs, declared once.

Only the parts of the model schema that reading, splicing and building models
touch are declared: field ids of a few tables, :class:`TensorType` and the
handful of operators the model builder emits. Everything else in a model is
passed through as opaque bytes and never decoded.

Field ids are declaration order in TFLite's ``schema.fbs`` (a union takes two
ids, its type first).
"""

from __future__ import annotations

import enum

__all__ = [
    "BUFFER_LOCATION_NAME",
    "BUFFER_LOCATION_OUTSIDE",
    "EXTERNAL_DATA_ALIGNMENT",
    "FILE_IDENTIFIER",
    "METADATA_NAME",
    "MODEL_SCHEMA_VERSION",
    "BufferField",
    "BuiltinOperator",
    "BuiltinOptions",
    "CastOptionsField",
    "FullyConnectedOptionsField",
    "MetadataField",
    "ModelField",
    "OperatorCodeField",
    "OperatorField",
    "QuantizationParametersField",
    "SignatureDefField",
    "SoftmaxOptionsField",
    "SubGraphField",
    "TensorField",
    "TensorMapField",
    "TensorType",
    "tensor_type_name",
]

#: The FlatBuffer file identifier of a TFLite model.
FILE_IDENTIFIER = b"TFL3"
#: The name of the ``Model.metadata`` entry that holds the metadata buffer.
METADATA_NAME = "TFLITE_METADATA"
#: ``Model.version``: the schema version every current runtime requires.
MODEL_SCHEMA_VERSION = 3

#: The ``Model.metadata`` entry with which the converter marks its "buffer offset" mode
#: (constant data stored after the FlatBuffer, located by ``Buffer.offset``/``Buffer.size``).
BUFFER_LOCATION_NAME = "buffer_location"
#: The content of the ``buffer_location`` entry's buffer in that mode.
BUFFER_LOCATION_OUTSIDE = b"outside flatbuffers"
#: The alignment the converter gives data stored after the FlatBuffer (file offsets are
#: multiples of it).
EXTERNAL_DATA_ALIGNMENT = 16


class TensorType(enum.IntEnum):
    """``tflite.TensorType``: every value of TFLite's current schema."""

    FLOAT32 = 0
    FLOAT16 = 1
    INT32 = 2
    UINT8 = 3
    INT64 = 4
    STRING = 5
    BOOL = 6
    INT16 = 7
    COMPLEX64 = 8
    INT8 = 9
    FLOAT64 = 10
    COMPLEX128 = 11
    UINT64 = 12
    RESOURCE = 13
    VARIANT = 14
    UINT32 = 15
    UINT16 = 16
    INT4 = 17
    BFLOAT16 = 18
    INT2 = 19
    UINT4 = 20
    FLOAT8_E4M3FN = 21
    FLOAT8_E5M2 = 22


def tensor_type_name(value: int) -> str:
    """The name of a ``TensorType`` value, or the number when the schema has no such value."""
    try:
        return TensorType(value).name
    except ValueError:
        return str(value)


class ModelField(enum.IntEnum):
    """Field ids of ``tflite.Model``."""

    VERSION = 0  # uint
    OPERATOR_CODES = 1  # [OperatorCode]
    SUBGRAPHS = 2  # [SubGraph]
    DESCRIPTION = 3  # string
    BUFFERS = 4  # [Buffer]
    METADATA_BUFFER = 5  # [int]
    METADATA = 6  # [Metadata]
    SIGNATURE_DEFS = 7  # [SignatureDef]


#: The ``Model`` fields that hold an offset (a vector, table or string), as opposed to a scalar.
MODEL_OFFSET_FIELDS = frozenset(ModelField) - {ModelField.VERSION}


class SubGraphField(enum.IntEnum):
    """Field ids of ``tflite.SubGraph``."""

    TENSORS = 0
    INPUTS = 1
    OUTPUTS = 2
    OPERATORS = 3
    NAME = 4


class TensorField(enum.IntEnum):
    """Field ids of ``tflite.Tensor``."""

    SHAPE = 0
    TYPE = 1
    BUFFER = 2
    NAME = 3
    QUANTIZATION = 4
    IS_VARIABLE = 5
    SPARSITY = 6
    SHAPE_SIGNATURE = 7
    HAS_RANK = 8
    VARIANT_TENSORS = 9


class BufferField(enum.IntEnum):
    """Field ids of ``tflite.Buffer``.

    ``OFFSET``/``SIZE`` (``ulong``) locate data stored outside the FlatBuffer, at an
    absolute position in the file; an offset of 0 or 1 means "no external data".
    """

    DATA = 0
    OFFSET = 1
    SIZE = 2


class MetadataField(enum.IntEnum):
    """Field ids of ``tflite.Metadata`` (a named reference to a buffer)."""

    NAME = 0
    BUFFER = 1


class OperatorCodeField(enum.IntEnum):
    """Field ids of ``tflite.OperatorCode``."""

    DEPRECATED_BUILTIN_CODE = 0  # byte
    CUSTOM_CODE = 1
    VERSION = 2  # int, default 1
    BUILTIN_CODE = 3  # int


class OperatorField(enum.IntEnum):
    """Field ids of ``tflite.Operator``."""

    OPCODE_INDEX = 0
    INPUTS = 1
    OUTPUTS = 2
    BUILTIN_OPTIONS_TYPE = 3
    BUILTIN_OPTIONS = 4
    CUSTOM_OPTIONS = 5


class BuiltinOperator(enum.IntEnum):
    """The ``tflite.BuiltinOperator`` values the model builder emits."""

    DEQUANTIZE = 6
    FULLY_CONNECTED = 9
    RESHAPE = 22
    SOFTMAX = 25
    CAST = 53
    QUANTIZE = 114


class BuiltinOptions(enum.IntEnum):
    """The ``tflite.BuiltinOptions`` union members the model builder emits."""

    NONE = 0
    FULLY_CONNECTED_OPTIONS = 8
    SOFTMAX_OPTIONS = 9
    RESHAPE_OPTIONS = 17
    CAST_OPTIONS = 37
    DEQUANTIZE_OPTIONS = 38
    QUANTIZE_OPTIONS = 89


class QuantizationParametersField(enum.IntEnum):
    """Field ids of ``tflite.QuantizationParameters``."""

    MIN = 0  # [float]
    MAX = 1  # [float]
    SCALE = 2  # [float]
    ZERO_POINT = 3  # [long]
    DETAILS_TYPE = 4
    DETAILS = 5
    QUANTIZED_DIMENSION = 6  # int


class FullyConnectedOptionsField(enum.IntEnum):
    """Field ids of ``tflite.FullyConnectedOptions``."""

    FUSED_ACTIVATION_FUNCTION = 0  # ActivationFunctionType (byte), NONE = 0
    WEIGHTS_FORMAT = 1
    KEEP_NUM_DIMS = 2
    ASYMMETRIC_QUANTIZE_INPUTS = 3
    QUANTIZED_BIAS_TYPE = 4


class SoftmaxOptionsField(enum.IntEnum):
    """Field ids of ``tflite.SoftmaxOptions``."""

    BETA = 0  # float; the schema's default is 0.0, so a real softmax always writes 1.0


class CastOptionsField(enum.IntEnum):
    """Field ids of ``tflite.CastOptions``."""

    IN_DATA_TYPE = 0  # TensorType (byte)
    OUT_DATA_TYPE = 1


class SignatureDefField(enum.IntEnum):
    """Field ids of ``tflite.SignatureDef`` (id 3 is the deprecated ``deprecated_tag``)."""

    INPUTS = 0  # [TensorMap]
    OUTPUTS = 1  # [TensorMap]
    SIGNATURE_KEY = 2  # string
    SUBGRAPH_INDEX = 4  # uint


class TensorMapField(enum.IntEnum):
    """Field ids of ``tflite.TensorMap`` (a signature's name for a tensor)."""

    NAME = 0
    TENSOR_INDEX = 1  # uint
