"""Packages that re-export their public names without importing them: `imagekit --help` and
`imagekit check` load only the modules they use (a package's `__init__` runs for any of its
submodules, so one eager import there would cost every caller the whole package)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, homes: Mapping[str, tuple[str, ...]]) -> Callable[[str], object]:
    """A package's `__getattr__` (PEP 562): the module `package.<home>` that defines a public
    name is imported when the name is first used. `homes` maps each module to its names.
    Raises `AttributeError` for any other name, as a missing attribute does.

    A name spelled as a module of the package (`vulns.scan`, the function in `vulns/scan.py`)
    cannot be lazy: importing that module binds the module itself on the package, over the name,
    and this hook is never asked. Such a package keeps its eager imports; `ValueError` here."""
    home = {name: module for module, names in homes.items() for name in names}
    shadowed = sorted(home.keys() & homes.keys())
    if shadowed:
        raise ValueError(f"{package}: {', '.join(shadowed)} would be shadowed by its module")

    def __getattr__(name: str) -> object:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        vars(sys.modules[package])[name] = value  # imported once: later uses skip this hook
        return value

    return __getattr__
