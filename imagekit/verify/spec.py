"""The `[verify]` table of a model spec: how to run the model on reference inputs, and how
close two images' outputs must be.

```toml
[verify]
command = ["python", "-m", "model.predict", "{inputs}/inputs.csv", "--output", "{outputs}/p.npy"]

[[verify.inputs]]
path = "reference/inputs.csv"      # in the model folder; mounted read-only as {inputs}/inputs.csv
sha256 = "..."                     # checked before any container runs

[[verify.outputs]]
name = "p.npy"                     # the file the command writes into {outputs}
format = "npy"                     # npy | npz | json | csv | parquet (default: from the suffix)
rtol = 1e-7
atol = 1e-9

[verify.env]                       # over the determinism defaults (PYTHONHASHSEED=0, 1 thread)
SEED = "0"
```

This module depends only on the TOML getters, so `imagekit.project.spec` can import it.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, TypeVar

from imagekit.errors import InputError, Location
from imagekit.tomlfile import Table

INPUTS_PLACEHOLDER = "{inputs}"
OUTPUTS_PLACEHOLDER = "{outputs}"
# Fixed seeds and one thread per math library: a model that is deterministic at all is
# deterministic under these. The spec's [verify.env] adds to them and wins.
DEFAULT_ENV: dict[str, str] = {
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "VECLIB_MAXIMUM_THREADS": "1",
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class OutputFormat(enum.StrEnum):
    NPY = "npy"
    NPZ = "npz"
    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tolerance:
    """How far a candidate's element may be from the baseline's.

    `exact`: equal values (+0.0 equals -0.0). Otherwise an element is inside when
    |candidate - baseline| <= atol + rtol * |baseline|, or (when `max_ulp` is set) when the two
    are at most `max_ulp` units in the last place apart. With neither atol/rtol nor max_ulp set
    the comparison is exact. NaN equals NaN only with `nan_equal`. The output passes when the
    fraction of elements outside is at most `max_fraction_outside`.
    """

    exact: bool = False
    atol: float = 0.0
    rtol: float = 0.0
    max_ulp: int | None = None
    max_fraction_outside: float = 0.0
    nan_equal: bool = False

    @property
    def is_exact(self) -> bool:
        return self.exact or (self.atol == 0 and self.rtol == 0 and self.max_ulp is None)

    def describe(self) -> str:
        parts = ["exact"] if self.is_exact else []
        if not self.is_exact and (self.atol or self.rtol):
            parts.append(f"atol {self.atol:g}, rtol {self.rtol:g}")
        if not self.is_exact and self.max_ulp is not None:
            parts.append(f"max {self.max_ulp} ULP")
        if self.max_fraction_outside:
            parts.append(f"up to {self.max_fraction_outside:.2%} outside")
        if self.nan_equal:
            parts.append("NaN equals NaN")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exact": self.exact,
            "atol": self.atol,
            "rtol": self.rtol,
            "max_ulp": self.max_ulp,
            "max_fraction_outside": self.max_fraction_outside,
            "nan_equal": self.nan_equal,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyInput:
    """A reference input file of the model folder, mounted read-only as {inputs}/NAME."""

    path: PurePosixPath  # relative to the model folder
    name: str
    sha256: str
    location: Location

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "path": self.path.as_posix(), "sha256": self.sha256}


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyOutput:
    """A file the command writes into {outputs}, and how to compare it."""

    name: str
    format: OutputFormat
    tolerance: Tolerance
    location: Location

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "format": self.format.value, **self.tolerance.to_dict()}


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifySpec:
    command: tuple[str, ...]
    inputs: tuple[VerifyInput, ...]
    outputs: tuple[VerifyOutput, ...]
    env: dict[str, str] = field(default_factory=dict)
    location: Location

    def argv(self, inputs: str, outputs: str) -> tuple[str, ...]:
        """The command with the placeholders replaced by the mount points."""
        return tuple(
            arg.replace(INPUTS_PLACEHOLDER, inputs).replace(OUTPUTS_PLACEHOLDER, outputs)
            for arg in self.command
        )


_Named = TypeVar("_Named", VerifyInput, VerifyOutput)


def parse_verify(t: Table | None) -> VerifySpec | None:
    """The `[verify]` table, or None without one; raises `InputError` naming file and key."""
    if t is None:
        return None
    command = t.str_list("command")
    if not command:
        raise InputError(
            t.location("command"),
            "the verify command is missing or empty",
            'set command = ["python", "-m", "your_model", "{inputs}/x.csv", "{outputs}/y.npy"]',
        )
    spec = VerifySpec(
        command=command,
        inputs=_unique(tuple(_input(i) for i in t.tables("inputs")), t, "inputs"),
        outputs=_unique(tuple(_output(o) for o in t.tables("outputs")), t, "outputs"),
        env=_env(t),
        location=t.location(),
    )
    if not spec.outputs:
        raise InputError(
            t.location("outputs"),
            "no outputs to compare",
            'add [[verify.outputs]] name = "predictions.npy"',
        )
    t.reject_unknown()
    return spec


def _unique(items: tuple[_Named, ...], t: Table, key: str) -> tuple[_Named, ...]:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.name in seen:
            raise InputError(
                t.location(f"{key}[{i}].name"),
                f"{item.name!r} is listed twice",
                "give each file its own name",
            )
        seen.add(item.name)
    return items


def _file_name(t: Table, key: str, value: str) -> str:
    if not _FILE_NAME.match(value):
        raise InputError(
            t.location(key),
            f"{value!r} is not a plain file name",
            "use letters, digits, '.', '_' and '-', without folders",
        )
    return value


def _input(t: Table) -> VerifyInput:
    raw = t.req_str("path")
    path = PurePosixPath(raw)
    if path.is_absolute() or ".." in path.parts or not raw:
        raise InputError(
            t.location("path"),
            f"{raw!r} must be a path inside the model folder",
            "use a relative path without '..'",
        )
    sha256 = t.req_str("sha256").removeprefix("sha256:")
    if not _SHA256.match(sha256):
        raise InputError(
            t.location("sha256"), "not a sha256 hex digest", f"use the output of sha256sum {raw}"
        )
    item = VerifyInput(
        path=path,
        name=_file_name(t, "name", t.get_str("name", path.name) or path.name),
        sha256=sha256,
        location=t.location(),
    )
    t.reject_unknown()
    return item


def _output(t: Table) -> VerifyOutput:
    name = _file_name(t, "name", t.req_str("name"))
    item = VerifyOutput(
        name=name, format=_format(t, name), tolerance=_tolerance(t), location=t.location()
    )
    t.reject_unknown()
    return item


def _format(t: Table, name: str) -> OutputFormat:
    suffix = PurePosixPath(name).suffix.removeprefix(".")
    value = t.get_str("format") or suffix
    try:
        return OutputFormat(value)
    except ValueError:
        given = "format" in t
        raise InputError(
            t.location("format" if given else "name"),
            f"unknown output format {value!r}" if given else f"no format for {name!r}",
            f"set format to one of: {', '.join(f.value for f in OutputFormat)}",
        ) from None


def _tolerance(t: Table) -> Tolerance:
    tolerance = Tolerance(
        exact=t.get_bool("exact"),
        atol=_non_negative(t, "atol"),
        rtol=_non_negative(t, "rtol"),
        max_ulp=t.get_int("max_ulp"),
        max_fraction_outside=_non_negative(t, "max_fraction_outside"),
        nan_equal=t.get_bool("nan_equal"),
    )
    if tolerance.max_ulp is not None and tolerance.max_ulp < 0:
        raise InputError(t.location("max_ulp"), "must not be negative", "use 0 or more")
    if tolerance.max_fraction_outside > 1:
        raise InputError(
            t.location("max_fraction_outside"), "must be a fraction", "use a number from 0 to 1"
        )
    loose = tolerance.atol or tolerance.rtol or tolerance.max_ulp is not None
    if tolerance.exact and loose:
        raise InputError(
            t.location("exact"),
            "exact = true contradicts atol/rtol/max_ulp",
            "remove exact, or remove the tolerances",
        )
    return tolerance


def _non_negative(t: Table, key: str) -> float:
    value = t.get_float(key, 0.0) or 0.0
    if value < 0 or math.isnan(value):
        raise InputError(t.location(key), "must be a number of 0 or more", "use e.g. 1e-7")
    return value


def _env(t: Table) -> dict[str, str]:
    return dict(sorted({**DEFAULT_ENV, **t.env_map("env")}.items()))
