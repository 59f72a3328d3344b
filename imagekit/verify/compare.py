"""Element-wise comparison of two arrays under a `Tolerance`.

The baseline is the reference: an element is outside when
|candidate - baseline| > atol + rtol * |baseline| (and, with `max_ulp`, more than that many
units in the last place apart). Shapes, dtypes and element names must match before any
number is compared; a mismatch is a problem that names both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from imagekit.verify.spec import Tolerance

WORST = 5  # how many of the worst elements a comparison keeps
_UINTS: dict[int, type[np.unsignedinteger[Any]]] = {2: np.uint16, 4: np.uint32, 8: np.uint64}
_NUMERIC_KINDS = "biufc"
_TEXT_KINDS = "USO"


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One comparable array of an output: a whole .npy, an .npz member, a CSV or parquet
    column, the numbers (or the other values) of a JSON document."""

    name: str
    values: NDArray[Any]
    labels: tuple[str, ...] | None = None  # element names in flat order; None: the index


@dataclass(frozen=True, slots=True, kw_only=True)
class Element:
    """One differing element: where, both values, and how far apart."""

    where: str
    baseline: str
    candidate: str
    outside: bool
    abs_error: float | None = None
    rel_error: float | None = None
    ulp: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "outside": self.outside,
            "abs_error": json_number(self.abs_error),
            "rel_error": json_number(self.rel_error),
            "ulp": self.ulp,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldComparison:
    """The verdict on one field, with the figures that support it."""

    field: str
    ok: bool
    problem: str | None = None  # shape, dtype or structure mismatch: nothing was compared
    shape: tuple[int, ...] = ()
    dtype: str = ""
    count: int = 0
    outside: int = 0
    nan_mismatches: int = 0
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    max_ulp: int | None = None
    worst: tuple[Element, ...] = ()

    @property
    def fraction_outside(self) -> float:
        return self.outside / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "ok": self.ok,
            "problem": self.problem,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "count": self.count,
            "outside": self.outside,
            "fraction_outside": self.fraction_outside,
            "nan_mismatches": self.nan_mismatches,
            "max_abs_error": json_number(self.max_abs_error),
            "max_rel_error": json_number(self.max_rel_error),
            "max_ulp": self.max_ulp,
            "worst": [e.to_dict() for e in self.worst],
        }


def json_number(value: float | None) -> float | str | None:
    """A float for JSON: infinities and NaN as strings, which strict JSON lacks."""
    if value is None or np.isfinite(value):
        return value
    return str(value)


def compare_field(baseline: Field, candidate: Field, tolerance: Tolerance) -> FieldComparison:
    """Compare two fields of the same name; the baseline is the reference."""
    problem = _mismatch(baseline, candidate)
    if problem is not None:
        return FieldComparison(field=baseline.name, ok=False, problem=problem)
    if baseline.values.dtype.kind in _NUMERIC_KINDS:
        return _numeric(baseline, candidate, tolerance)
    return _exact_values(baseline, candidate)


def _mismatch(baseline: Field, candidate: Field) -> str | None:
    a, b = baseline.values, candidate.values
    labelled = baseline.labels is not None and candidate.labels is not None
    if labelled and baseline.labels != candidate.labels:
        return _structure(baseline.labels or (), candidate.labels or ())
    if a.shape != b.shape:
        return f"shape {a.shape} in the baseline, {b.shape} in the candidate"
    text = a.dtype.kind in _TEXT_KINDS and b.dtype.kind in _TEXT_KINDS  # any width
    if a.dtype != b.dtype and not text:
        return f"dtype {a.dtype} in the baseline, {b.dtype} in the candidate"
    return None


def _structure(baseline: tuple[str, ...], candidate: tuple[str, ...]) -> str:
    only_a = sorted(set(baseline) - set(candidate))
    only_b = sorted(set(candidate) - set(baseline))
    if only_a:
        return f"structure differs: {only_a[0]} is in the baseline only ({len(only_a)} such)"
    if only_b:
        return f"structure differs: {only_b[0]} is in the candidate only ({len(only_b)} such)"
    return "structure differs: the same elements in another order"


def _numeric(baseline: Field, candidate: Field, tol: Tolerance) -> FieldComparison:
    a = baseline.values.reshape(-1)
    b = candidate.values.reshape(-1)
    work = np.promote_types(a.dtype, np.float64)
    fa, fb = a.astype(work), b.astype(work)
    nan_a, nan_b = np.isnan(fa), np.isnan(fb)
    nan_mismatch = (nan_a ^ nan_b) | (nan_a & nan_b & (not tol.nan_equal))
    comparable = ~(nan_a | nan_b)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        equal = (fa == fb) | (nan_a & nan_b & tol.nan_equal)
        abs_err = np.where(equal | ~comparable, 0.0, np.abs(fb - fa)).real.astype(np.float64)
        ref = np.abs(fa).real.astype(np.float64)
        rel_err = np.where(abs_err == 0, 0.0, abs_err / np.where(ref > 0, ref, 0.0))
        rel_err = np.where(np.isnan(rel_err), np.inf, rel_err)  # inf/inf: an infinity moved
    # An infinity matches only itself: no tolerance stretches to it.
    comparable &= np.isfinite(fa) & np.isfinite(fb)
    ulps = ulp_distance(a, b) if a.dtype.kind == "f" and a.dtype.itemsize in _UINTS else None
    inside = equal.copy()
    if not tol.is_exact:
        if tol.atol or tol.rtol:
            inside |= comparable & (abs_err <= tol.atol + tol.rtol * ref)
        if ulps is not None and tol.max_ulp is not None:
            inside |= comparable & (ulps <= tol.max_ulp)
    outside = ~inside | nan_mismatch
    return _summary(
        baseline,
        candidate=candidate,
        tol=tol,
        outside=outside,
        nan_mismatch=nan_mismatch,
        abs_err=abs_err,
        rel_err=rel_err,
        ulps=ulps,
    )


def _summary(
    baseline: Field,
    *,
    candidate: Field,
    tol: Tolerance,
    outside: NDArray[np.bool_],
    nan_mismatch: NDArray[np.bool_],
    abs_err: NDArray[np.float64],
    rel_err: NDArray[np.float64],
    ulps: NDArray[np.uint64] | None,
) -> FieldComparison:
    values = baseline.values
    measured = ~nan_mismatch
    n_out = int(outside.sum())
    key = np.where(nan_mismatch, np.inf, abs_err)
    worst = tuple(
        Element(
            where=_where(baseline, i),
            baseline=_text(values.reshape(-1)[i]),
            candidate=_text(candidate.values.reshape(-1)[i]),
            outside=bool(outside[i]),
            abs_error=None if nan_mismatch[i] else float(abs_err[i]),
            rel_error=None if nan_mismatch[i] else float(rel_err[i]),
            ulp=None if ulps is None or nan_mismatch[i] else int(ulps[i]),
        )
        for i in _worst_indices(outside, key)
    )
    return FieldComparison(
        field=baseline.name,
        ok=n_out <= tol.max_fraction_outside * values.size,
        shape=values.shape,
        dtype=str(values.dtype),
        count=int(values.size),
        outside=n_out,
        nan_mismatches=int(nan_mismatch.sum()),
        max_abs_error=float(abs_err[measured].max()) if measured.any() else None,
        max_rel_error=float(rel_err[measured].max()) if measured.any() else None,
        max_ulp=int(ulps[measured].max()) if ulps is not None and measured.any() else None,
        worst=worst,
    )


def _worst_indices(outside: NDArray[np.bool_], key: NDArray[np.float64]) -> list[int]:
    """Up to WORST differing elements: those outside first, then the largest error, then the
    lowest index (so the order is deterministic)."""
    index = np.arange(outside.size)
    order = np.lexsort((index, -key, ~outside))
    return [int(i) for i in order[:WORST] if outside[i] or key[i] > 0]


def _exact_values(baseline: Field, candidate: Field) -> FieldComparison:
    a = baseline.values.reshape(-1)
    b = candidate.values.reshape(-1)
    outside = np.asarray(a != b, dtype=bool).reshape(-1)
    worst = tuple(
        Element(
            where=_where(baseline, int(i)),
            baseline=_text(a[i]),
            candidate=_text(b[i]),
            outside=True,
        )
        for i in np.flatnonzero(outside)[:WORST]
    )
    return FieldComparison(
        field=baseline.name,
        ok=not outside.any(),
        shape=baseline.values.shape,
        dtype=str(baseline.values.dtype),
        count=int(a.size),
        outside=int(outside.sum()),
        worst=worst,
    )


def ulp_distance(a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]]) -> NDArray[np.uint64]:
    """Units in the last place between two float arrays of the same dtype, element-wise.

    The bit patterns are mapped onto one integer line (negative floats mirrored below zero,
    so +0.0 and -0.0 are the same point and a sign change counts the steps through zero).
    The value at a NaN is meaningless; mask NaNs first.
    """
    if a.dtype != b.dtype or a.dtype.kind != "f" or a.dtype.itemsize not in _UINTS:
        raise ValueError(f"ULP distance needs two float16/32/64 arrays, got {a.dtype}, {b.dtype}")
    oa, ob = _ordered(a.reshape(-1)), _ordered(b.reshape(-1))
    # Both lie in [-2**63, 2**63); their difference fits in uint64, and unsigned subtraction
    # modulo 2**64 of the wrapped values gives it exactly.
    ua, ub = oa.astype(np.uint64), ob.astype(np.uint64)
    return np.where(oa >= ob, ua - ub, ub - ua).reshape(a.shape)


def _ordered(x: NDArray[np.floating[Any]]) -> NDArray[np.int64]:
    bits = x.view(_UINTS[x.dtype.itemsize]).astype(np.uint64)
    sign = np.uint64(1) << np.uint64(8 * x.dtype.itemsize - 1)
    magnitude = (bits & (sign - np.uint64(1))).astype(np.int64)
    return np.where(bits & sign, -magnitude, magnitude)


def _where(f: Field, flat: int) -> str:
    if f.labels is not None:
        return f.labels[flat]
    index = np.unravel_index(flat, f.values.shape) if f.values.shape else ()
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _text(value: Any) -> str:
    item = value.item() if isinstance(value, np.generic) else value
    return repr(item) if isinstance(item, float) else str(item)
