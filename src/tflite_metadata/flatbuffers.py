"""Drop-in for ``tflite_support.flatbuffers``: the ``flatbuffers`` package itself.

tflite-support's package imports ``flatbuffers``, so that code written for it
(TensorFlow's guide to adding metadata among it) packs metadata with::

    from tflite_support import flatbuffers
    builder = flatbuffers.Builder(0)

``from tflite_metadata import flatbuffers`` gives the same object: importing
this module makes ``tflite_metadata.flatbuffers`` the installed ``flatbuffers``
package, with its submodules (``flatbuffers.builder``, ``flatbuffers.table``,
``flatbuffers.number_types``, ``flatbuffers.util`` …). It is imported only when
asked for, never by the rest of the package.
"""

from __future__ import annotations

import sys
from typing import Any

import flatbuffers as _flatbuffers


def __getattr__(name: str) -> Any:
    # Never called (this module is replaced below); it tells type checkers that
    # the module has the package's names (flatbuffers ships no type information).
    return getattr(_flatbuffers, name)


# The import system hands out what sys.modules holds once a module has run, so
# the name now stands for the package itself: one set of classes, not a copy.
sys.modules[__name__] = _flatbuffers
