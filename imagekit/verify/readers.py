"""Output readers: each format becomes named `Field`s that `compare_field` can compare.

- npy: one field, the array (pickled object arrays are refused);
- npz: one field per member;
- json: the document's numbers as one float64 field and its other leaves (strings, booleans,
  null, empty containers) as one text field, each element named by its path
  (`predictions[3].probabilities[1]`), so a change of structure is caught as such;
- csv: one field per column (the header names them): float64 when every cell is a number
  (an empty cell is NaN), text otherwise; elements named `row N`;
- parquet: one field per column, through pyarrow when it is installed.
"""

from __future__ import annotations

import csv
import importlib
import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, assert_never

import numpy as np

from imagekit.errors import ImagekitError
from imagekit.verify.compare import Field
from imagekit.verify.spec import OutputFormat


class OutputReadError(ImagekitError):
    """An output file cannot be read as its format."""

    exit_code = 1

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def parquet_available() -> bool:
    """Whether pyarrow can be imported (parquet outputs need it)."""
    try:
        importlib.import_module("pyarrow.parquet")
    except ImportError:
        return False
    return True


def read_output(path: Path, fmt: OutputFormat) -> tuple[Field, ...]:
    """The fields of an output file; raises `OutputReadError` for one that is not `fmt`."""
    match fmt:
        case OutputFormat.NPY:
            return _npy(path)
        case OutputFormat.NPZ:
            return _npz(path)
        case OutputFormat.JSON:
            return _json(path)
        case OutputFormat.CSV:
            return _csv(path)
        case OutputFormat.PARQUET:
            return _parquet(path)
        case _:
            assert_never(fmt)


def _npy(path: Path) -> tuple[Field, ...]:
    try:
        with path.open("rb") as f:
            array = np.load(f, allow_pickle=False)
    except ValueError as e:  # pickled objects, or not an .npy at all
        raise OutputReadError(path, f"not a plain .npy array ({e})") from e
    except OSError as e:
        raise OutputReadError(path, f"cannot read: {e.strerror or e}") from e
    return (Field(name="", values=np.asarray(array)),)


def _npz(path: Path) -> tuple[Field, ...]:
    try:
        with path.open("rb") as f, np.load(f, allow_pickle=False) as archive:
            return tuple(Field(name=k, values=np.asarray(archive[k])) for k in sorted(archive))
    except (ValueError, zipfile.BadZipFile) as e:
        raise OutputReadError(path, f"not a plain .npz archive ({e})") from e
    except OSError as e:
        raise OutputReadError(path, f"cannot read: {e.strerror or e}") from e


def _json(path: Path) -> tuple[Field, ...]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise OutputReadError(path, f"not JSON ({e})") from e
    except OSError as e:
        raise OutputReadError(path, f"cannot read: {e.strerror or e}") from e
    numbers: list[tuple[str, float]] = []
    others: list[tuple[str, str]] = []
    for where, leaf in _leaves(document, "$"):
        if isinstance(leaf, int | float) and not isinstance(leaf, bool):
            numbers.append((where, float(leaf)))
        else:
            others.append((where, json.dumps(leaf)))
    return (
        Field(
            name="numbers",
            values=np.array([v for _, v in numbers], dtype=np.float64),
            labels=tuple(w for w, _ in numbers),
        ),
        Field(
            name="values",
            values=np.array([v for _, v in others], dtype=np.str_),
            labels=tuple(w for w, _ in others),
        ),
    )


def _leaves(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict) and node:
        for key in sorted(node):
            yield from _leaves(node[key], f"{where}.{key}")
    elif isinstance(node, list) and node:
        for i, item in enumerate(node):
            yield from _leaves(item, f"{where}[{i}]")
    else:
        yield where, node


def _csv(path: Path) -> tuple[Field, ...]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise OutputReadError(path, f"not CSV text ({e})") from e
    except OSError as e:
        raise OutputReadError(path, f"cannot read: {e.strerror or e}") from e
    if not rows:
        raise OutputReadError(path, "empty: a CSV output needs a header row")
    header, body = rows[0], [r for r in rows[1:] if r]
    if len(set(header)) != len(header):
        raise OutputReadError(path, "the header names a column twice")
    for n, row in enumerate(body, 2):
        if len(row) != len(header):
            raise OutputReadError(path, f"line {n}: {len(row)} cells, the header has {len(header)}")
    labels = tuple(f"row {i}" for i in range(len(body)))
    return tuple(
        Field(name=name, values=_column([r[j] for r in body]), labels=labels)
        for j, name in enumerate(header)
    )


def _column(cells: list[str]) -> np.ndarray[Any, Any]:
    numbers = [_number(c) for c in cells]
    if any(n is None for n in numbers) or all(c.strip() == "" for c in cells):
        return np.array(cells, dtype=np.str_)
    return np.array(numbers, dtype=np.float64)


def _number(cell: str) -> float | None:
    text = cell.strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


def _parquet(path: Path) -> tuple[Field, ...]:
    if not parquet_available():
        raise OutputReadError(path, "reading parquet needs pyarrow: pip install pyarrow")
    pq: Any = importlib.import_module("pyarrow.parquet")
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise OutputReadError(path, f"cannot read as parquet ({e})") from e
    fields = []
    for name in table.column_names:
        values = np.asarray(table.column(name).to_numpy(zero_copy_only=False))
        if values.dtype == object:  # strings, lists, structs: compared as their text
            values = np.array([str(v) for v in values], dtype=np.str_)
        fields.append(Field(name=str(name), values=values))
    return tuple(fields)
