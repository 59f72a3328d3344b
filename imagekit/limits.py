"""Bounds on everything imagekit reads, and safe echoing of what it read.

Every input may be written by an attacker: an image, a lockfile, a registry, an OSV export.
Each limit below is a named constant with the reason beside it; a reader that hits one raises
an `InputError` that names the limit, never a `RecursionError` or `MemoryError`. Text that came
from an input is passed through `shown()` before it reaches a message, so a newline cannot forge
an output line, a control character cannot drive the terminal, and a 1 MB line is not echoed.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from imagekit.errors import InputError, Location

# Real documents nest a dozen levels (an OCI index, an SBOM, an OSV record); Python's own parsers
# recurse per level and die past ~1,000, so anything deeper than this is refused before parsing.
MAX_JSON_DEPTH = 128
# TOML specs and locks nest a handful of levels; deeper inline arrays/tables are hostile.
MAX_TOML_DEPTH = 64
# Manifests, configs, plan.json, direct_url.json, OSV records and index files are kilobytes.
MAX_JSON_DOCUMENT = 16 << 20
# SBOMs list every component with its hashes and licences: a large image's runs to tens of MB.
MAX_SBOM_DOCUMENT = 256 << 20
# Longest run of input text echoed inside one message (a lock line, a name from an image).
MAX_ECHO = 200
# PEP 440 versions of real packages are short; CPython refuses to turn over 4,300 digits into an
# int, so a longer version is refused with a message instead of a ValueError.
MAX_VERSION_LENGTH = 256


def shown(text: object, limit: int = MAX_ECHO) -> str:
    """Return `text` safe to print on one line: control characters escaped, at most `limit` long.

    Newlines, carriage returns, escape sequences and other C0/C1/format characters become their
    `\\xNN`/`\\uNNNN` form; a longer text is cut with "… (N characters)" so the reader knows.
    """
    value = str(text)
    safe = escaped(value)
    if len(safe) > limit:
        return f"{safe[:limit]}… ({len(value)} characters)"
    return safe


def escaped(text: str) -> str:
    """`text` with backslashes and control characters escaped (`shown`'s form), not cut."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if ch == "\\" or not _printable(ch) else ch
        for ch in text
    )


def _printable(ch: str) -> bool:
    # Cc: control (C0, DEL, C1); Cf: format (bidi overrides); Cs: lone surrogates (undecodable
    # file names); Zl/Zp: line and paragraph separators.
    return unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Zl", "Zp"}


def json_depth_exceeds(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `data` nests arrays/objects deeper than `limit` (strings are skipped)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def load_json(
    data: str | bytes,
    where: Location | Path | str,
    *,
    max_bytes: int = MAX_JSON_DOCUMENT,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse a JSON document from an untrusted source, bounded in size and nesting.

    Raises `InputError` (naming `where`) for a document that is too large, nested deeper than
    `max_depth`, not UTF-8, or not JSON. Numbers with thousands of digits are refused too.
    """
    location = _location(where)
    if len(data) > max_bytes:
        raise InputError(
            location,
            f"JSON document of {len(data)} bytes is larger than the limit of {max_bytes}",
            "this is not a real document of its kind; check where it came from",
        )
    if json_depth_exceeds(data, max_depth):
        raise InputError(
            location,
            f"JSON nested deeper than {max_depth} levels",
            "this is not a real document of its kind; check where it came from",
        )
    try:
        return json.loads(data, parse_int=_bounded_int)
    except UnicodeDecodeError as e:
        raise InputError(location, "not UTF-8 JSON", "save the file as UTF-8") from e
    except json.JSONDecodeError as e:
        raise InputError(
            Location(file=location.file, line=e.lineno, key=location.key),
            f"malformed JSON: {e.msg}",
            "fix the JSON syntax",
        ) from e
    except (ValueError, RecursionError) as e:
        raise InputError(location, f"unreadable JSON: {shown(e)}", "check the file") from e


def check_toml_depth(text: str, where: Location | Path | str, limit: int = MAX_TOML_DEPTH) -> None:
    """Refuse TOML whose inline arrays/tables nest deeper than `limit` before `tomllib` recurses.

    Quoted strings (basic and literal, single- and multi-line) and comments are skipped, so a
    bracket inside a string does not count.
    """
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            i = _skip_string(text, i + len(quote), quote)
            continue
        elif ch in "[{":
            depth += 1
            if depth > limit:
                raise InputError(
                    _location(where),
                    f"TOML nested deeper than {limit} levels",
                    "this is not a real file of its kind; check where it came from",
                )
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1


def _skip_string(text: str, start: int, quote: str) -> int:
    """Index just past the string that opened before `start`; escapes count in basic strings."""
    i, n = start, len(text)
    while i < n:
        if quote[0] == '"' and text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        if len(quote) == 1 and text[i] == "\n":  # unterminated one-line string: tomllib says so
            return i
        i += 1
    return n


def check_version_text(version: str, where: Location | Path | str) -> None:
    """Refuse a version string longer than `MAX_VERSION_LENGTH` before it is parsed."""
    if len(version) > MAX_VERSION_LENGTH:
        raise InputError(
            _location(where),
            f"version of {len(version)} characters ({shown(version, 40)}) is longer than "
            f"{MAX_VERSION_LENGTH}",
            "use the package's real version",
        )


def _bounded_int(text: str) -> int:
    if len(text) > 4000:  # CPython's int() refuses past 4,300 digits; say so before it does
        raise ValueError(f"integer of {len(text)} digits")
    return int(text)


def _location(where: Location | Path | str) -> Location:
    if isinstance(where, Location):
        return where
    return Location(file=Path(where))
