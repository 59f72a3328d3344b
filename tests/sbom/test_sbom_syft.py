"""syft, a consumer of our SBOMs, reads them: the golden documents, converted to SPDX."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _syft import syft

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "sbom"


@pytest.mark.parametrize("name", ["iris-cuda.cyclonedx-json.1.6", "iris-cuda.cyclonedx-xml.1.5"])
def test_syft_converts_our_sbom_to_spdx(name: str, tmp_path: Path) -> None:
    ours = tmp_path / f"{name}.cdx"
    ours.write_bytes((GOLDEN / f"{name}.golden").read_bytes())
    done = syft("convert", str(ours), "-o", "spdx-json")
    assert done.returncode == 0, done.stderr
    packages = {p["name"]: p for p in json.loads(done.stdout)["packages"]}
    assert packages["scikit-learn"]["licenseDeclared"] == "BSD-3-Clause"
    purls = [r["referenceLocator"] for r in packages["libc6"]["externalRefs"]]
    assert purls == [
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc"
    ]


def test_syft_reads_the_distro_from_our_os_component(tmp_path: Path) -> None:
    ours = tmp_path / "iris.cdx.json"
    ours.write_bytes((GOLDEN / "iris.cyclonedx-json.1.6.golden").read_bytes())
    done = syft("convert", str(ours), "-o", "syft-json")
    assert done.returncode == 0, done.stderr
    distro = json.loads(done.stdout)["distro"]
    assert (distro["id"], distro["versionID"]) == ("debian", "12")
