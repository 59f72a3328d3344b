"""Requires-Dist edges for the image's own Python, within one environment; dpkg Depends."""

from __future__ import annotations

from _inventories import SITE, deb, dist

from imagekit.sbom.graph import deb_edges, marker_environment, python_edges


def test_marker_environment_from_the_site_packages_path() -> None:
    env = marker_environment(SITE, architecture="arm64", python_version="3.11.2")
    assert (env["python_version"], env["python_full_version"]) == ("3.11", "3.11.2")
    assert env["platform_machine"] == "aarch64"
    other = marker_environment(
        "/usr/lib/python3.12/site-packages", architecture="amd64", python_version="3.11.2"
    )
    assert (other["python_version"], other["python_full_version"]) == ("3.12", "3.12")
    debian = marker_environment(
        "/usr/lib/python3/dist-packages", architecture="amd64", python_version="3.11.2"
    )
    assert debian["python_version"] == "3.11"


def test_markers_are_evaluated_for_the_image_python() -> None:
    dists = (
        dist(
            "app",
            "1",
            requires=(
                'tomli>=1; python_version < "3.11"',
                'typing-extensions; python_version >= "3.11"',
                'pywin32; sys_platform == "win32"',
                'uvloop; platform_machine == "x86_64"',
                "Not A Requirement ((",
            ),
        ),
        dist("tomli", "2.0.1"),
        dist("typing_extensions", "4.12.2"),
        dist("pywin32", "306"),
        dist("uvloop", "0.21.0"),
    )
    amd64 = python_edges(dists, architecture="amd64", python_version="3.11.2")
    assert amd64 == {0: (2, 4)}
    arm64 = python_edges(dists, architecture="arm64", python_version="3.11.2")
    assert arm64 == {0: (2,)}
    assert (
        python_edges(dists[:2], architecture="amd64", python_version="3.10.12") == {}
    )  # path says 3.11


def test_edges_stay_in_one_environment() -> None:
    dists = (
        dist("scipy", "1.16.3", requires=("numpy<2.6,>=1.25.2",)),
        dist("numpy", "2.3.5", site="/usr/lib/python3/dist-packages"),
    )
    assert python_edges(dists, architecture="amd64", python_version="3.11.2") == {}


def test_deb_edges_by_name() -> None:
    debs = (deb("a", "1", depends=("b", "missing", "a")), deb("b", "2"))
    assert deb_edges(debs) == {0: (1,)}
