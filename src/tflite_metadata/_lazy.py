"""Importing a package's submodules when they are first used as attributes."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

__all__ = ["lazy_submodule"]


def lazy_submodule(package: str, name: str) -> ModuleType:
    """``package.name``, imported now, for a package's module-level ``__getattr__``.

    Raises:
        AttributeError: ``package`` has no submodule ``name``, as for any missing attribute.
    """
    if not name.startswith("_"):
        full = f"{package}.{name}"
        if full in sys.modules:
            return sys.modules[full]
        if importlib.util.find_spec(full) is not None:
            return importlib.import_module(full)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")
