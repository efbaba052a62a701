"""Drop-in for ``tflite_support.schema_py_generated`` (the TFLite model schema), in part.

Only what metadata writers use is provided: :class:`TensorType`, with every
value of TFLite's current schema. It is the enum of
:mod:`tflite_metadata.format.model_schema`, where the model format's constants are
declared once; its members compare equal to the plain ``int`` values that
tflite-support's class of constants holds.

Reading models goes through :class:`tflite_metadata.model.reader.ModelView` instead of
flatc's generated readers.
"""

from __future__ import annotations

from .format.model_schema import TensorType

__all__ = ["TensorType"]
