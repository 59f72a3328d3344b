"""Debian packages from var/lib/dpkg/status, licences from DEP-5 copyright files."""

from __future__ import annotations

import pytest
from _inventory_helpers import DATA, file, layer, symlink, view_of

from imagekit.inventory.dpkg import copyright_licenses, read_debs, spdx_of

STATUS = (DATA / "malformed.status").read_text()
DEP5 = (DATA / "dep5.copyright").read_text()


def test_installed_packages_with_source_and_depends() -> None:
    view = view_of(layer(file("var/lib/dpkg/status", STATUS)))
    debs = {d.name: d for d in read_debs(view)}
    assert sorted(debs) == ["held-pkg", "libc6", "libssl3", "zlib1g"]  # not removed, not unnamed
    libc = debs["libc6"]
    assert (libc.version, libc.architecture, libc.source_name, libc.source_version) == (
        "2.36-9+deb12u10",
        "amd64",
        "glibc",
        "2.36-9+deb12u10",
    )
    ssl = debs["libssl3"]
    assert (ssl.source_name, ssl.source_version) == ("openssl", "3.0.15-1~deb12u1")
    assert ssl.depends == ("debconf", "debconf-2.0", "libc6")  # Pre-Depends too; :any dropped
    assert debs["zlib1g"].version == "1:1.2.13.dfsg-1"
    assert debs["held-pkg"].source_name == "held-pkg"


def test_malformed_lines_are_warnings_naming_file_and_line() -> None:
    view = view_of(layer(file("var/lib/dpkg/status", STATUS)))
    read_debs(view)
    assert view.warnings == (
        "/var/lib/dpkg/status:25: malformed line 'this line is not a field': skipped",
        "/var/lib/dpkg/status:38: a package without version: skipped",
    )


def test_licences_from_a_dep5_copyright() -> None:
    assert copyright_licenses(DEP5) == (
        "BSD-3-Clause",
        "GPL-2+ with OpenSSL exception",
        "GPL-2.0-or-later",
        "LGPL-2.1-or-later OR Apache-2.0",
        "MIT",
        "public-domain",
    )


def test_free_form_copyright_gives_no_licences() -> None:
    assert copyright_licenses((DATA / "legacy.copyright").read_text()) is None


@pytest.mark.parametrize(
    ("debian", "spdx"),
    [
        ("GPL-2", "GPL-2.0-only"),
        ("GPL-2+", "GPL-2.0-or-later"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("AGPL-3", "AGPL-3.0-only"),
        ("Expat", "MIT"),
        ("zlib", "Zlib"),
        ("BSD-2-clause", "BSD-2-Clause"),
        ("GPL-2+ or Artistic-2.0", "GPL-2.0-or-later OR Artistic-2.0"),
        ("GPL", "GPL"),  # which version is not said: kept
        ("Artistic", "Artistic"),
        ("GPL-2+ or Artistic-2.0, and BSD-3-clause", "GPL-2+ or Artistic-2.0, and BSD-3-clause"),
    ],
)
def test_debian_names_map_to_spdx_only_when_certain(debian: str, spdx: str) -> None:
    assert spdx_of(debian) == spdx


def test_copyright_file_of_a_package_through_a_symlinked_doc_dir() -> None:
    status = "Package: libfoo1\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n"
    view = view_of(
        layer(
            file("var/lib/dpkg/status", status),
            file("usr/share/doc/libfoo-common/copyright", DEP5),
            symlink("usr/share/doc/libfoo1", "libfoo-common"),
        )
    )
    [deb] = read_debs(view)
    assert deb.copyright_file == "/usr/share/doc/libfoo-common/copyright"
    assert "MIT" in deb.licenses


def test_status_d_of_a_distroless_image() -> None:
    view = view_of(
        layer(
            file(
                "var/lib/dpkg/status.d/base",
                "Package: base-files\nVersion: 12.4\nArchitecture: amd64\n",
            ),
            file(
                "var/lib/dpkg/status.d/tzdata",
                "Package: tzdata\nVersion: 2024a\nArchitecture: all\n",
            ),
        )
    )
    assert [(d.name, d.version) for d in read_debs(view)] == [
        ("base-files", "12.4"),
        ("tzdata", "2024a"),
    ]


def test_no_dpkg_no_packages() -> None:
    assert read_debs(view_of(layer(file("etc/alpine-release", "3.20")))) == ()
