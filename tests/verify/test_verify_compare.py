"""Element-wise comparison: shapes, dtypes, tolerances, NaN, ULP distance, worst elements."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from imagekit.verify import Field, FieldComparison, Tolerance, compare_field, ulp_distance

TIGHT = Tolerance(atol=1e-9, rtol=1e-7)


def compare(
    baseline: NDArray[Any] | list[Any],
    candidate: NDArray[Any] | list[Any],
    tolerance: Tolerance = TIGHT,
) -> FieldComparison:
    return compare_field(
        Field(name="", values=np.asarray(baseline)),
        Field(name="", values=np.asarray(candidate)),
        tolerance,
    )


def test_identical_arrays_pass_with_zero_errors() -> None:
    a = np.linspace(-1, 1, 12).reshape(3, 4)
    result = compare(a, a.copy())
    assert result.ok and result.problem is None
    assert (result.shape, result.dtype, result.count, result.outside) == ((3, 4), "float64", 12, 0)
    assert (result.max_abs_error, result.max_rel_error, result.max_ulp) == (0.0, 0.0, 0)
    assert result.worst == ()


def test_shape_mismatch_names_both_shapes() -> None:
    result = compare(np.zeros((8, 3)), np.zeros((8, 2)))
    assert not result.ok
    assert result.problem == "shape (8, 3) in the baseline, (8, 2) in the candidate"


def test_dtype_mismatch_names_both_dtypes() -> None:
    result = compare(np.zeros(3, dtype=np.float64), np.zeros(3, dtype=np.float32))
    assert not result.ok
    assert result.problem == "dtype float64 in the baseline, float32 in the candidate"


def test_tolerance_is_atol_plus_rtol_times_baseline() -> None:
    tolerance = Tolerance(atol=0.1, rtol=0.01)
    # |b - a| <= 0.1 + 0.01 * |a|: at a = 10 the limit is 0.2
    assert compare([10.0], [10.2], tolerance).ok
    result = compare([10.0], [10.2001], tolerance)
    assert not result.ok and result.outside == 1
    # the baseline is the reference: swapping the sides moves the limit
    assert not compare([10.2001], [10.0], Tolerance(atol=0.0, rtol=0.0196)).ok


def test_max_abs_and_rel_error() -> None:
    result = compare([1.0, 2.0, 0.0, -4.0], [1.0, 2.5, 0.0, -4.1], Tolerance(atol=1.0))
    assert result.ok
    assert result.max_abs_error == pytest.approx(0.5)
    assert result.max_rel_error == pytest.approx(0.25)


def test_relative_error_against_zero_is_infinite() -> None:
    result = compare([0.0, 1.0], [1e-12, 1.0], Tolerance(atol=1e-9))
    assert result.ok
    assert result.max_rel_error == float("inf")


def test_nan_in_one_side_only_is_outside() -> None:
    result = compare([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], Tolerance(atol=1.0, nan_equal=True))
    assert not result.ok
    assert (result.outside, result.nan_mismatches) == (1, 1)
    assert result.worst[0].where == "[1]"
    assert result.worst[0].abs_error is None
    assert (result.worst[0].baseline, result.worst[0].candidate) == ("nan", "2.0")
    assert result.max_abs_error == 0.0  # NaN mismatches are counted, not measured


def test_nan_equals_nan_only_when_asked() -> None:
    a, b = [np.nan, 1.0], [np.nan, 1.0]
    refused = compare(a, b, Tolerance(atol=1e-9))
    assert not refused.ok and refused.nan_mismatches == 1
    accepted = compare(a, b, Tolerance(atol=1e-9, nan_equal=True))
    assert accepted.ok and accepted.outside == 0


def test_exact_refuses_the_smallest_difference() -> None:
    one = np.float64(1.0)
    result = compare([one], [np.nextafter(one, 2.0)], Tolerance(exact=True))
    assert not result.ok and result.max_ulp == 1
    assert compare([0.0], [-0.0], Tolerance(exact=True)).ok  # +0 and -0 are equal values


def test_no_tolerance_at_all_is_exact() -> None:
    assert Tolerance().is_exact
    assert not compare([1.0], [1.0 + 2**-52], Tolerance()).ok


def test_fraction_outside() -> None:
    a = np.arange(10, dtype=np.float64)
    b = a.copy()
    b[[2, 7]] += 1.0
    assert not compare(a, b, Tolerance(atol=0.5, max_fraction_outside=0.1)).ok
    result = compare(a, b, Tolerance(atol=0.5, max_fraction_outside=0.2))
    assert result.ok and result.outside == 2
    assert result.fraction_outside == pytest.approx(0.2)


def test_worst_elements_come_outside_first_then_largest_error() -> None:
    a = np.zeros((3, 3))
    b = a.copy()
    b[0, 1], b[2, 2], b[1, 0], b[2, 0] = 0.5, 3.0, 2.0, 1e-12
    result = compare(a, b, Tolerance(atol=1e-9))
    assert [e.where for e in result.worst] == ["[2, 2]", "[1, 0]", "[0, 1]", "[2, 0]"]
    assert [e.outside for e in result.worst] == [True, True, True, False]
    assert result.worst[0].abs_error == 3.0


def test_worst_keeps_five() -> None:
    result = compare(np.zeros(20), np.arange(20, dtype=np.float64))
    assert [e.where for e in result.worst] == ["[19]", "[18]", "[17]", "[16]", "[15]"]


def test_max_ulp_tolerance() -> None:
    one = np.float64(1.0)
    three_up = one
    for _ in range(3):
        three_up = np.nextafter(three_up, 2.0)
    assert compare([one], [three_up], Tolerance(max_ulp=3)).ok
    result = compare([one], [three_up], Tolerance(max_ulp=2))
    assert not result.ok and result.max_ulp == 3


def test_atol_or_ulp_either_admits() -> None:
    # near zero ULPs are tiny: atol admits what max_ulp alone would refuse
    tolerance = Tolerance(atol=1e-12, max_ulp=4)
    assert compare([0.0], [1e-13], tolerance).ok
    assert not compare([0.0], [1e-13], Tolerance(max_ulp=4)).ok


def test_ulp_distance_basics() -> None:
    one = np.array([1.0])
    assert ulp_distance(one, np.nextafter(one, 2.0)).tolist() == [1]
    assert ulp_distance(one, np.nextafter(one, 0.0)).tolist() == [1]
    bits_of_one = int(np.array([1.0]).view(np.uint64)[0])
    assert ulp_distance(np.array([-1.0]), one).tolist() == [2 * bits_of_one]


def test_ulp_distance_across_zero_and_signed_zeros() -> None:
    tiny = np.array([5e-324])  # the smallest subnormal
    assert ulp_distance(np.array([0.0]), np.array([-0.0])).tolist() == [0]
    assert ulp_distance(tiny, -tiny).tolist() == [2]
    assert ulp_distance(-tiny, np.array([0.0])).tolist() == [1]
    assert ulp_distance(np.array([-0.0]), tiny).tolist() == [1]


def test_ulp_distance_of_extremes_does_not_overflow() -> None:
    big = np.finfo(np.float64).max
    distance = int(ulp_distance(np.array([-big]), np.array([big]))[0])
    assert distance == 2 * int(np.array([big]).view(np.uint64)[0])
    assert distance > 2**63


def test_ulp_distance_float32_and_float16() -> None:
    one32 = np.array([1.0], dtype=np.float32)
    assert ulp_distance(one32, np.nextafter(one32, np.float32(2))).tolist() == [1]
    half = np.array([1.0, -0.0], dtype=np.float16)
    other = np.array([np.nextafter(np.float16(1), np.float16(0)), 0.0], dtype=np.float16)
    assert ulp_distance(half, other).tolist() == [1, 0]


def test_ulp_distance_refuses_mixed_dtypes() -> None:
    with pytest.raises(ValueError, match=r"needs two float16/32/64 arrays, got float64, float32"):
        ulp_distance(np.zeros(1), np.zeros(1, dtype=np.float32))


def test_infinities() -> None:
    assert compare([np.inf, -np.inf], [np.inf, -np.inf]).ok
    result = compare([np.inf], [1e308])
    assert not result.ok and result.max_abs_error == float("inf")


def test_integers_and_booleans() -> None:
    assert not compare([1, 2, 3], [1, 2, 4]).ok
    assert compare([1, 2, 3], [1, 2, 4], Tolerance(atol=1)).ok
    result = compare(np.array([True, False]), np.array([True, True]))
    assert not result.ok and result.worst[0].where == "[1]"


def test_text_is_compared_exactly_with_labels() -> None:
    labels = ("row 0", "row 1", "row 2")
    result = compare_field(
        Field(name="class", values=np.array(["setosa", "virginica", "setosa"]), labels=labels),
        Field(name="class", values=np.array(["setosa", "versicolor", "setosa"]), labels=labels),
        Tolerance(atol=1.0),
    )
    assert not result.ok and result.outside == 1
    assert (result.worst[0].where, result.worst[0].baseline) == ("row 1", "virginica")
    assert result.max_abs_error is None


def test_labels_that_differ_are_a_structure_problem() -> None:
    result = compare_field(
        Field(name="numbers", values=np.zeros(2), labels=("$.a", "$.b")),
        Field(name="numbers", values=np.zeros(2), labels=("$.a", "$.c")),
        TIGHT,
    )
    assert result.problem == "structure differs: $.b is in the baseline only (1 such)"


def test_scalar_arrays() -> None:
    result = compare(np.array(1.0), np.array(2.0))
    assert not result.ok and result.shape == () and result.worst[0].where == "[]"


def test_to_dict_is_json_safe() -> None:
    result = compare([0.0, np.nan], [1.0, 1.0])
    data = result.to_dict()
    assert data["max_rel_error"] == "inf"
    assert data["worst"][0]["where"] in {"[0]", "[1]"}
