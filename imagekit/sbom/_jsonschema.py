"""jsonschema, imported so that its IRI checks build one grammar instead of thirty-nine.

Both SBOM schemas are checked with jsonschema's format checker, whose `iri` and
`iri-reference` formats come from `rfc3987_syntax`. That package builds an Earley parser for
each of its 38 rules when it is imported (about 3 s of CPU here, more than the rest of an
SBOM), while jsonschema calls only its `is_valid_syntax`, which parses with the one parser of
the three start rules. `import_jsonschema` imports jsonschema with a stand-in for the package
that offers that function over the same grammar file, built on its first call; the stand-in
is removed from `sys.modules` once jsonschema holds its function, so an import of
`rfc3987_syntax` after it gets the real package. Where the package or its grammar is not
where this expects (another version), jsonschema is imported as it is.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

_PACKAGE = "rfc3987_syntax"
_GRAMMAR = "syntax_rfc3987.lark"
_STARTS = ["iri", "iri_reference", "absolute_iri"]  # as rfc3987_syntax.syntax_parser has them


def _grammar_path() -> Path | None:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _GRAMMAR
    return path if path.is_file() else None


def stand_in(grammar: Path) -> types.ModuleType:
    """A module offering rfc3987_syntax's `is_valid_syntax(term, value)` over `grammar`."""
    module = types.ModuleType(_PACKAGE, "rfc3987_syntax's is_valid_syntax, its parser built once")
    parser: Any = None

    def is_valid_syntax(term: str, value: str) -> bool:
        nonlocal parser
        from lark import Lark, exceptions  # noqa: PLC0415

        if parser is None:
            parser = Lark(grammar.read_text(encoding="utf-8"), start=_STARTS, parser="earley")
        try:
            parser.parse(value, start=term)
        except exceptions.LarkError:
            return False
        return True

    module.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    return module


def import_jsonschema() -> None:
    """Import jsonschema (once per process), its IRI formats checked by the stand-in."""
    if "jsonschema" in sys.modules or _PACKAGE in sys.modules:
        return
    grammar = _grammar_path()
    if grammar is None:
        return
    sys.modules[_PACKAGE] = stand_in(grammar)
    try:
        importlib.import_module("jsonschema")
    finally:
        del sys.modules[_PACKAGE]
