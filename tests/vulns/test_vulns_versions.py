"""Version orderings: PEP 440, dpkg, SemVer 2.0, and OSV's "0" and "*"."""

from __future__ import annotations

from itertools import pairwise

import pytest

from imagekit.vulns.versions import (
    Ordering,
    Scheme,
    VersionError,
    compare_dpkg,
    compare_pep440,
    compare_semver,
    ordering_for,
)

PEP440_ASCENDING = [
    "1.0.dev0",
    "1.0a1",
    "1.0b2",
    "1.0rc1",
    "1.0",
    "1.0.post1",
    "1.13.0",
    "1.13.1",
    "2.5.1",
    "2.5.1+cu124",
    "2.6.0",
    "10.0.0",
]


@pytest.mark.parametrize(("lower", "higher"), list(pairwise(PEP440_ASCENDING)))
def test_pep440_order(lower: str, higher: str) -> None:
    assert compare_pep440(lower, higher) == -1
    assert compare_pep440(higher, lower) == 1


@pytest.mark.parametrize(
    ("a", "b"), [("1.0", "1.0.0"), ("3.1.0.rc1", "3.1.0rc1"), ("0.8.3-r1", "0.8.3.post1")]
)
def test_pep440_equal_spellings(a: str, b: str) -> None:
    assert compare_pep440(a, b) == 0


@pytest.mark.parametrize("bad", ["0.3.2d", "0.7.0d", "2.x", ""])
def test_not_pep440_is_an_error(bad: str) -> None:
    with pytest.raises(VersionError, match="is not a PEP 440 version"):
        compare_pep440(bad, "1.0")


DPKG_ASCENDING = [
    "3.0.9-1",
    "3.0.11-1~deb12u1",  # ~ sorts before everything, even the end of the string
    "3.0.11-1~deb12u2",
    "3.0.11-1",
    "3.0.11-1+deb12u1",
    "3.0.11-2",
    "3.0.15-1~deb12u1",
    "1:1.0-1",  # an epoch outranks any upstream version
    "2:0.1",
]


@pytest.mark.parametrize(("lower", "higher"), list(pairwise(DPKG_ASCENDING)))
def test_dpkg_order(lower: str, higher: str) -> None:
    assert compare_dpkg(lower, higher) == -1
    assert compare_dpkg(higher, lower) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [("1.0", "1.0-0"), ("0:2.36-9", "2.36-9"), ("1.2~rc1", "1.2~rc1")],
)
def test_dpkg_equal(a: str, b: str) -> None:
    assert compare_dpkg(a, b) == 0


def test_dpkg_bad_epoch() -> None:
    with pytest.raises(VersionError, match="bad epoch"):
        compare_dpkg("x:1.0", "1.0")


SEMVER_ASCENDING = [  # the example of SemVer 2.0 section 11
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.10.0",
]


@pytest.mark.parametrize(("lower", "higher"), list(pairwise(SEMVER_ASCENDING)))
def test_semver_precedence(lower: str, higher: str) -> None:
    assert compare_semver(lower, higher) == -1
    assert compare_semver(higher, lower) == 1


def test_semver_ignores_build_metadata() -> None:
    assert compare_semver("1.0.0+build.1", "1.0.0+build.2") == 0


@pytest.mark.parametrize("bad", ["1.0", "v1.0.0", "01.0.0", "1.0.0-"])
def test_not_semver(bad: str) -> None:
    with pytest.raises(VersionError, match=r"is not a SemVer 2\.0 version"):
        compare_semver(bad, "1.0.0")


@pytest.mark.parametrize("scheme", list(Scheme))
def test_osv_zero_and_infinity_bound_every_scheme(scheme: Scheme) -> None:
    order = Ordering(scheme)
    version = {Scheme.PEP440: "1.0", Scheme.DPKG: "1:0.1-1", Scheme.SEMVER: "0.0.1"}[scheme]
    assert order.compare("0", version) == -1
    assert order.compare(version, "*") == -1
    assert order.compare("0", "*") == -1
    assert order.compare("0", "0") == 0


def test_equal_falls_back_to_strings() -> None:
    order = Ordering(Scheme.PEP440)
    assert order.equal("0.3.2d", "0.3.2d")
    assert not order.equal("0.3.2d", "0.3.2")


def test_ordering_for_ecosystems() -> None:
    assert ordering_for("PyPI") == Ordering(Scheme.PEP440)
    assert ordering_for("Debian") == Ordering(Scheme.DPKG)
    assert ordering_for("npm") is None
