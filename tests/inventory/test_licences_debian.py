"""Licences of free-text Debian copyright files, matched by licence text (real bookworm files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _inventory_helpers import DATA, file, layer, symlink, view_of

from imagekit.inventory import licences
from imagekit.inventory.dpkg import read_debs
from imagekit.inventory.licences import TextMatch, match_text, spdx
from imagekit.inventory.model import DebPackage
from imagekit.sbom.components import deb_component

COPYRIGHTS = DATA / "debian-copyright"
DEP5 = (DATA / "dep5.copyright").read_text()
LGPL_3 = (COPYRIGHTS / "common-licenses-LGPL-3").read_text()


def _status(*names: str) -> str:
    return "\n".join(
        f"Package: {n}\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n"
        for n in names
    )


def _debs(copyrights: dict[str, str], *extra: bytes) -> dict[str, DebPackage]:
    members = [file("var/lib/dpkg/status", _status(*copyrights))]
    members += [file(f"usr/share/doc/{n}/copyright", t) for n, t in copyrights.items()]
    return {d.name: d for d in read_debs(view_of(layer(*members), *extra))}


def _real(name: str) -> str:
    return (COPYRIGHTS / f"{name}.copyright").read_text()


def test_glibc_free_text_gets_spdx_ids_and_a_confidence() -> None:
    libc = _debs({"libc6": _real("libc6")})["libc6"]
    # glibc's own notices: LGPL 2.1 or later for the library, GPL 2 for some programs.
    assert {"LGPL-2.1-or-later", "GPL-2.0-only", "BSD-3-Clause"} <= set(libc.licenses)
    assert all(spdx(i) == i for i in libc.licenses)  # SPDX ids, never a word of the prose
    assert libc.license_confidence is not None
    assert 0.3 < libc.license_confidence < 0.9  # authors and history are not licence text


def test_a_reference_to_common_licenses_is_matched_by_that_file() -> None:
    # libmpc3 states LGPL 3 in a fragment no template covers, and names Debian's copy of it.
    common = layer(file("usr/share/common-licenses/LGPL-3", LGPL_3))
    mpc = _debs({"libmpc3": _real("libmpc3")}, common)["libmpc3"]
    assert mpc.licenses == ("LGPL-3.0",)
    assert mpc.license_confidence == 1.0


def test_a_reference_through_a_symlink_in_common_licenses() -> None:
    common = layer(
        file("usr/share/common-licenses/LGPL-3", LGPL_3),
        symlink("usr/share/common-licenses/LGPL", "LGPL-3"),
    )
    text = "Copyright 2020 Someone.\nSee /usr/share/common-licenses/LGPL for the licence.\n"
    assert _debs({"foo": text}, common)["foo"].licenses == ("LGPL-3.0",)


def test_a_reference_to_a_licence_file_the_image_lacks_gives_nothing() -> None:
    mpc = _debs({"libmpc3": _real("libmpc3")})["libmpc3"]
    assert (mpc.licenses, mpc.license_confidence) == ((), None)


def test_a_licence_without_a_template_gives_no_id_and_no_junk() -> None:
    zip_ = _debs({"zip": _real("zip")})["zip"]
    assert (zip_.licenses, zip_.license_confidence) == ((), None)


def test_dep5_licences_are_declared_not_matched() -> None:
    deb = _debs({"libfoo": DEP5})["libfoo"]
    assert "MIT" in deb.licenses
    assert deb.license_confidence is None


def test_one_text_shared_by_packages_gives_each_the_same_licences() -> None:
    debs = _debs({"libc6": _real("libc6"), "libc-bin": _real("libc6")})
    assert debs["libc6"].licenses == debs["libc-bin"].licenses
    assert debs["libc6"].license_confidence == debs["libc-bin"].license_confidence


def test_match_text_of_a_whole_licence_and_of_prose() -> None:
    whole = match_text(LGPL_3)
    assert (whole.ids, whole.coverage) == (("LGPL-3.0",), 1.0)
    prose = match_text("This package is under the GPL, the same terms as Perl itself.")
    assert (prose.ids, prose.coverage) == ((), 0.0)


def test_the_sbom_records_the_confidence() -> None:
    libc = _debs({"libc6": _real("libc6")})["libc6"]
    properties = {p.name: p.value for p in deb_component(libc, None).properties}
    assert properties["imagekit:deb:licence-confidence"] == f"{libc.license_confidence:.2f}"
    dep5 = _debs({"libfoo": DEP5})["libfoo"]
    names = {p.name for p in deb_component(dep5, None).properties}
    assert "imagekit:deb:licence-confidence" not in names


def test_the_confidence_survives_the_inventory_json() -> None:
    libc = _debs({"libc6": _real("libc6")})["libc6"]
    assert DebPackage.from_dict(libc.to_dict()) == libc


def test_an_unrecognised_reference_lowers_the_confidence() -> None:
    common = layer(file("usr/share/common-licenses/LGPL-3", LGPL_3))
    text = "See /usr/share/common-licenses/LGPL-3 and /usr/share/common-licenses/GFDL-1.2.\n"
    deb = _debs({"foo": text}, common)["foo"]
    assert (deb.licenses, deb.license_confidence) == (("LGPL-3.0",), 0.5)


def test_a_texts_matches_are_kept_and_a_damaged_entry_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text = _real("libc6")
    first = match_text(text)
    kept = list((tmp_path / "imagekit" / "scans").iterdir())
    assert len(kept) == 1

    def matcher(_: str) -> TextMatch:
        raise AssertionError("the kept answer was not used")

    monkeypatch.setattr(licences, "_match_text", matcher)
    assert match_text(text) == first
    kept[0].write_bytes(b"garbage")
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert match_text(text) == first  # made again, and kept again
    match_text(text + "\n")  # another text is another entry
    assert len(list((tmp_path / "imagekit" / "scans").iterdir())) == 2
