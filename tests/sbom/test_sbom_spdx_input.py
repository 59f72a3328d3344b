"""SPDX JSON as input: imagekit's own SPDX SBOM reads into the same package view as its
CycloneDX SBOM, so `licenses`, `diff` and `scan` say the same of either; syft's SPDX of a real
folder reads into the same packages as syft's CycloneDX of it."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from _inventories import iris, iris_cuda
from _syft import syft
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.image.ref import RefKind, image_ref
from imagekit.inventory.cyclonedx import read_cyclonedx
from imagekit.inventory.licences import DeclaredLicense
from imagekit.inventory.model import Inventory
from imagekit.inventory.packages import PackageEntry, PackageView
from imagekit.inventory.spdx import read_spdx
from imagekit.sbom import SbomFormat, write_sbom

runner = CliRunner()
DATA = Path(__file__).resolve().parent.parent / "data"
POLICY = DATA / "sbom" / "policies" / "example.policy.toml"
RECORDS = DATA / "osv" / "records"
OS_RELEASE = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
DPKG_STATUS = (  # Debian 12's openssl before DSA-5532-1's fix
    "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
    "Version: 3.0.11-1~deb12u1\n\n"
    "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\n"
    "Version: 3.0.11-1~deb12u1\n"
)


def both(inventory: Inventory, folder: Path) -> tuple[Path, Path]:
    """The inventory's SBOM written both ways: (SPDX, CycloneDX)."""
    spdx_file = write_sbom(
        inventory, folder / "image.spdx.json", fmt=SbomFormat.SPDX_JSON, reproducible=True
    )
    return spdx_file, write_sbom(inventory, folder / "image.cdx.json", reproducible=True)


def comparable(view: PackageView) -> list[PackageEntry]:
    """The entries without what names them inside one document (SPDX id or bom-ref, key)."""
    entries = [replace(e, bom_ref=None, where="") for e in view.entries]
    return sorted(entries, key=lambda e: (e.type, e.name, e.version or "", e.purl or ""))


@pytest.mark.parametrize("make", [iris, iris_cuda])
def test_imagekits_spdx_reads_into_the_same_view_as_its_cyclonedx(
    tmp_path: Path, make: Callable[[], Inventory]
) -> None:
    spdx_file, cdx_file = both(make(), tmp_path)
    assert image_ref(str(spdx_file)).kind is RefKind.SPDX
    from_spdx, from_cdx = read_spdx(spdx_file), read_cyclonedx(cdx_file)
    assert comparable(from_spdx) == comparable(from_cdx)
    assert len(from_spdx.entries) == len(json.loads(spdx_file.read_text())["packages"]) - 1


def test_licenses_says_the_same_of_either(tmp_path: Path) -> None:
    spdx_file, cdx_file = both(iris_cuda(), tmp_path)
    args = ["--policy", str(POLICY), "--base-policy", str(POLICY)]
    from_spdx = runner.invoke(app, ["licenses", str(spdx_file), *args])
    from_cdx = runner.invoke(app, ["licenses", str(cdx_file), *args])
    assert from_spdx.exit_code == from_cdx.exit_code == 1, from_spdx.output
    assert from_spdx.stdout == from_cdx.stdout
    assert from_spdx.stdout.splitlines()[-1] == "13 components: 1 denied, 4 to review, 8 allowed"


def test_diff_of_an_images_two_sboms_finds_nothing(tmp_path: Path) -> None:
    spdx_file, cdx_file = both(iris_cuda(), tmp_path)
    result = runner.invoke(app, ["diff", str(cdx_file), str(spdx_file), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["changes"] == []
    other = write_sbom(iris(), tmp_path / "cpu.spdx.json", fmt=SbomFormat.SPDX_JSON)
    changed = runner.invoke(app, ["diff", str(spdx_file), str(other), "--json"])
    assert json.loads(changed.stdout)["changes"] != []


def root_with_real_packages(tmp_path: Path) -> Path:
    """A root file system: Debian 12's openssl in dpkg's status, and this environment's own
    installed `packaging` distribution (its real METADATA, RECORD and licence files)."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(DPKG_STATUS)
    dist = importlib.metadata.distribution("packaging")
    info = Path(str(dist.locate_file(f"packaging-{dist.version}.dist-info")))
    site = root / "opt/venv/lib/python3.11/site-packages"
    site.mkdir(parents=True)
    shutil.copytree(info, site / info.name)
    return root


def test_scan_of_an_spdx_sbom_finds_what_the_scan_of_the_image_finds(tmp_path: Path) -> None:
    root = root_with_real_packages(tmp_path)
    spdx_file = tmp_path / "rootfs.spdx.json"
    made = runner.invoke(app, ["sbom", str(root), "--format", "spdx-json", "-o", str(spdx_file)])
    assert made.exit_code == 0, made.output
    of_sbom = runner.invoke(app, ["scan", str(spdx_file), "--osv", str(RECORDS), "--json"])
    of_image = runner.invoke(app, ["scan", str(root), "--osv", str(RECORDS), "--json"])
    assert of_sbom.exit_code == of_image.exit_code == 0, of_sbom.output
    found = json.loads(of_sbom.stdout)
    assert found["findings"] == json.loads(of_image.stdout)["findings"]
    assert "CVE-2023-5363" in of_sbom.stdout  # openssl 3.0.11-1~deb12u1, fixed by DSA-5532-1


def packages(view: PackageView) -> set[tuple[str, str | None, str, DeclaredLicense]]:
    return {(e.name, e.version, e.purl, e.licence) for e in view.entries if e.purl}


def test_syfts_spdx_reads_as_syfts_cyclonedx(tmp_path: Path) -> None:
    root = root_with_real_packages(tmp_path)
    spdx_file, cdx_file = tmp_path / "syft.spdx.json", tmp_path / "syft.cdx.json"
    done = syft(
        "scan", f"dir:{root}", "-o", f"spdx-json={spdx_file}", "-o", f"cyclonedx-json={cdx_file}"
    )
    assert done.returncode == 0, done.stderr
    assert image_ref(str(spdx_file)).kind is RefKind.SPDX
    assert image_ref(str(cdx_file)).kind is RefKind.SBOM
    from_spdx = read_spdx(spdx_file)
    # The packages (syft's SPDX leaves out the OS its CycloneDX lists: the complaint)
    assert packages(from_spdx) == packages(read_cyclonedx(cdx_file))
    version = importlib.metadata.version("packaging")
    by_purl = {e.purl: e for e in from_spdx.entries}
    assert set(by_purl) == {
        f"pkg:pypi/packaging@{version}",
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl",
        "pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=amd64&distro=debian-12",
    }  # the folder itself, which the document DESCRIBES, is not a package of it
    licence = by_purl[f"pkg:pypi/packaging@{version}"].licence
    assert licence == DeclaredLicense(expressions=("Apache-2.0 OR BSD-2-Clause",), names=())


def test_scan_sbom_out_of_an_spdx_sbom_says_it_writes_cyclonedx(tmp_path: Path) -> None:
    spdx_file, _ = both(iris(), tmp_path)
    out = tmp_path / "with-vulns.json"
    result = runner.invoke(
        app, ["scan", str(spdx_file), "--osv", str(RECORDS), "--sbom-out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "--sbom-out writes CycloneDX: scan the image or its CycloneDX SBOM" in result.stderr
    assert not out.exists()
