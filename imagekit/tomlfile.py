"""Typed, path-aware access to parsed TOML tables.

Each getter rejects the wrong type (a bool where an int is wanted, a str where a list is)
with an `InputError` naming the file and the key path.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from imagekit.errors import InputError, Location
from imagekit.limits import check_toml_depth, shown
from imagekit.paths import read_regular

T = TypeVar("T")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_POSITION = re.compile(r"\s*\(at line (?P<line>\d+), column \d+\)|\s*\(at end of document\)")

_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    list: "an array",
    dict: "a table",
    float: "a number",
}


def load_toml(path: Path) -> dict[str, Any]:
    """Read and parse a TOML file; raises `InputError` for a missing or malformed one."""
    try:
        # A regular file only, bounded: a FIFO or a device named as a spec must not hang.
        data = read_regular(path, Location(file=path), "TOML file")
    except FileNotFoundError as e:
        raise InputError(path, "file not found", "create it or correct the path") from e
    try:
        text = data.decode("utf-8")
        check_toml_depth(text, path)
        return tomllib.loads(text)
    except UnicodeDecodeError as e:
        raise InputError(path, "not UTF-8 text", "save the file as UTF-8") from e
    except tomllib.TOMLDecodeError as e:
        # Python < 3.14 puts the position only into the text: "... (at line 4, column 8)".
        match = _POSITION.search(str(e))
        line = int(match["line"]) if match and match["line"] else None
        if match and line is None:  # "at end of document": the last line
            line = max(1, len(data.decode("utf-8").splitlines()))
        msg = _POSITION.sub("", str(e)).strip()
        raise InputError(
            Location(file=path, line=line), f"malformed TOML: {msg}", "fix the TOML syntax"
        ) from e
    except ValueError as e:  # an integer of more than 4,300 digits: int() refuses it
        raise InputError(path, f"unreadable TOML: {shown(e, 80)}", "fix the value") from e


class Table:
    """A TOML table with the file and key path it came from."""

    __slots__ = ("_data", "_seen", "file", "path")

    def __init__(self, data: Mapping[str, Any], file: Path, path: str = "") -> None:
        self._data = data
        self._seen: set[str] = set()
        self.file = file
        self.path = path

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def location(self, key: str | None = None) -> Location:
        return Location(file=self.file, key=self.key_path(key) if key else (self.path or None))

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def names(self) -> list[str]:
        return list(self._data)

    def _typed(self, key: str, kind: type[T]) -> T | None:
        self._seen.add(key)
        if key not in self._data:
            return None
        value = self._data[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            got = _TYPE_NAMES.get(type(value), type(value).__name__)
            raise InputError(
                self.location(key),
                f"must be {_TYPE_NAMES.get(kind, kind.__name__)}, got {got}",
                "correct the value's type",
            )
        return value  # type: ignore[no-any-return]

    def _required(self, key: str, value: T | None, kind: type) -> T:
        if value is None:
            raise InputError(
                self.location(key),
                "required key is missing",
                f"add `{key} = ...` ({_TYPE_NAMES.get(kind, kind.__name__)})",
            )
        return value

    def get_str(self, key: str, default: str | None = None) -> str | None:
        value = self._typed(key, str)
        return default if value is None else value

    def req_str(self, key: str) -> str:
        return self._required(key, self._typed(key, str), str)

    def get_int(self, key: str, default: int | None = None) -> int | None:
        value = self._typed(key, int)
        return default if value is None else value

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self._typed(key, bool)
        return default if value is None else value

    def get_float(self, key: str, default: float | None = None) -> float | None:
        """A number; TOML's integers (`atol = 0`) count, booleans do not."""
        self._seen.add(key)
        value = self._data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        value = self._typed(key, float)
        return default if value is None else value

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self._typed(key, list)
        if value is None:
            return ()
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise InputError(
                    self.location(f"{key}[{i}]"), "must be a string", "quote the value"
                )
        return tuple(value)

    def int_list(self, key: str) -> tuple[int, ...]:
        value = self._typed(key, list)
        if value is None:
            return ()
        for i, item in enumerate(value):
            if not isinstance(item, int) or isinstance(item, bool):
                raise InputError(
                    self.location(f"{key}[{i}]"), "must be an integer", "use a whole number"
                )
        return tuple(value)

    def str_map(self, key: str) -> dict[str, str]:
        table = self.table(key)
        if table is None:
            return {}
        out: dict[str, str] = {}
        for name in table.names():
            out[name] = table.req_str(name)
        return out

    def env_map(self, key: str) -> dict[str, str]:
        """A table of environment variables, sorted by name; each name must be one a shell
        accepts (letters, digits and '_', not starting with a digit)."""
        env = self.str_map(key)
        for name in env:
            if not _ENV_NAME.match(name):
                raise InputError(
                    self.location(f"{key}.{name}"),
                    "not a valid environment variable name",
                    "use letters, digits and '_'",
                )
        return dict(sorted(env.items()))

    def table(self, key: str) -> Table | None:
        value = self._typed(key, dict)
        return None if value is None else Table(value, self.file, self.key_path(key))

    def req_table(self, key: str) -> Table:
        return self._required(key, self.table(key), dict)

    def tables(self, key: str) -> tuple[Table, ...]:
        value = self._typed(key, list)
        if value is None:
            return ()
        out = []
        for i, item in enumerate(value):
            path = f"{self.key_path(key)}[{i}]"
            if not isinstance(item, dict):
                raise InputError(
                    Location(file=self.file, key=path), "must be a table", f"use [[{key}]]"
                )
            out.append(Table(item, self.file, path))
        return tuple(out)

    def reject_unknown(self) -> None:
        """Raise for the first key that no getter asked for (a typo, most often)."""
        for key in self._data:
            if key not in self._seen:
                raise InputError(
                    self.location(key),
                    "unknown key",
                    "remove it or correct its spelling",
                )
