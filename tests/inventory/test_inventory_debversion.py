"""dpkg's version order, cross-checked against dpkg itself where it is installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from imagekit.inventory.debversion import DebianVersionError, compare_debian_versions

NO_DPKG = "needs dpkg to cross-check the version order (a Debian host)"


# Each pair: a < b. Debian Policy 5.6.12 and dpkg's own test cases.
LESS = [
    ("1.0~rc1", "1.0"),
    ("2.0", "1:0.9"),
    ("2.36-9", "2.36-9+deb12u4"),
    ("1.0a", "1.0+"),
    ("2.36-9+deb12u4", "2.36-9+deb12u10"),
    ("12.2.0-14", "12.2.0-14+deb12u1"),
    ("1.2.3", "1.2.10"),
    ("1~~", "1~~a"),
    ("1~~a", "1~"),
    ("1~", "1"),
    ("1", "1a"),
    ("1.0", "1.0.0"),
    ("1.0-1", "1.0-1.1"),
    ("1.0-1~bpo12+1", "1.0-1"),
    ("1.0", "1.0+dfsg"),
    ("1.0-1ubuntu1", "1.0-1+b1"),
    ("1:1.0", "2:0.1"),
    ("1.2.13.dfsg-1", "1:1.2.13.dfsg-1"),
    ("9", "10"),
    ("0.9", "0.10"),
    ("1.0-a", "1.0-b"),
    ("1.0-Z", "1.0-a"),  # letters by ASCII: upper case first
    ("1.0-z", "1.0-."),  # letters before every non-letter
    ("3.0-1-2", "3.0-1-10"),  # the revision is what follows the last hyphen
]
EQUAL = [
    ("1.0", "1.0"),
    ("0:1.0", "1.0"),
    ("1.0", "1.00"),
    ("1.0", "1.0-0"),  # dpkg compares an absent revision as "0"
    ("01:2.0", "1:2.0"),
]


@pytest.mark.parametrize(("a", "b"), LESS)
def test_versions_compare_in_dpkg_order(a: str, b: str) -> None:
    assert compare_debian_versions(a, b) == -1
    assert compare_debian_versions(b, a) == 1


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_versions_compare_equal(a: str, b: str) -> None:
    assert compare_debian_versions(a, b) == 0
    assert compare_debian_versions(b, a) == 0


def test_the_policy_ladder_sorts_in_order() -> None:
    ladder = ["1~~", "1~~a", "1~", "1", "1a", "1.0", "1.0+", "1:0"]
    for i, lower in enumerate(ladder):
        for higher in ladder[i + 1 :]:
            assert compare_debian_versions(lower, higher) == -1, (lower, higher)


@pytest.mark.skipif(shutil.which("dpkg") is None, reason=NO_DPKG)
def test_the_order_agrees_with_dpkg() -> None:
    for a, b in [*LESS, *EQUAL]:
        expected = {-1: "lt", 0: "eq", 1: "gt"}[compare_debian_versions(a, b)]
        dpkg = subprocess.run(["dpkg", "--compare-versions", a, expected, b], check=False)
        assert dpkg.returncode == 0, (a, expected, b)


def test_a_bad_epoch_is_an_error() -> None:
    message = "Debian version 'x:1.0' has a bad epoch (it must be a number)"
    with pytest.raises(DebianVersionError) as info:
        compare_debian_versions("x:1.0", "1.0")
    assert str(info.value) == message
