"""The package view: an image's Inventory and the SBOM written from it read the same, and the
one CycloneDX reader names the key of anything it cannot read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _inventories import iris, iris_cuda

from imagekit.errors import InputError
from imagekit.inventory.cyclonedx import read_cyclonedx
from imagekit.inventory.model import Inventory
from imagekit.inventory.packages import PackageEntry, view_of_inventory
from imagekit.sbom import write_sbom

_ONLY_IN_THE_SBOM = frozenset({"operating-system", "device-driver"})


def _seen(entry: PackageEntry) -> tuple[object, ...]:
    licence = entry.licence
    licences = (tuple(sorted(licence.expressions)), tuple(sorted(licence.names)))
    return (entry.type, entry.name, entry.version, entry.purl, licences)


@pytest.mark.parametrize("inventory", [iris(), iris_cuda()], ids=["iris", "iris-cuda"])
def test_an_image_and_its_sbom_give_the_same_view(inventory: Inventory, tmp_path: Path) -> None:
    # The SBOM adds what the plan recorded (wheel hashes, dependency classes): the view
    # holds what the reports read, and each of those reads the same from both.
    sbom = write_sbom(inventory, tmp_path / "image.cdx.json", reproducible=True)
    read = read_cyclonedx(sbom)
    view = {e.bom_ref: e for e in view_of_inventory(inventory).entries}
    listed = [e for e in read.entries if e.type not in _ONLY_IN_THE_SBOM]
    assert sorted(str(e.bom_ref) for e in listed) == sorted(str(ref) for ref in view)
    for entry in listed:
        built = view[entry.bom_ref]
        assert _seen(entry) == _seen(built)
        assert built.properties.items() <= entry.properties.items()
        assert built.sha256 in (None, entry.sha256)
    assert read.sbom == sbom


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"bomFormat": "CycloneDX", "components": {}}, "components: must be an array"),
        ({"bomFormat": "CycloneDX", "components": [1]}, "components[0]: must be an object"),
        (
            {"bomFormat": "CycloneDX", "components": [{"name": "x", "licenses": ["MIT"]}]},
            "components[0].licenses[0]: must be an object",
        ),
        ({"spdxVersion": "SPDX-2.3"}, 'bomFormat: not a CycloneDX SBOM (no "bomFormat"'),
    ],
)
def test_a_wrong_shape_names_the_key(tmp_path: Path, document: object, message: str) -> None:
    path = tmp_path / "bad.cdx.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError, match=re.escape(f"{path}: {message}")):
        read_cyclonedx(path)


def test_a_foreign_sboms_licences_read_as_spdx_or_names(tmp_path: Path) -> None:
    path = tmp_path / "syft.cdx.json"
    component = {
        "type": "library",
        "name": "requests",
        "version": "2.32.3",
        "purl": "pkg:pypi/requests@2.32.3",
        "licenses": [{"license": {"id": "apache-2.0"}}, {"license": {"name": "Custom"}}],
        "hashes": [{"alg": "SHA-256", "content": "ab" * 32}],
    }
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "components": [component]}))
    (entry,) = read_cyclonedx(path).entries
    assert (entry.licence.expressions, entry.licence.names) == (("Apache-2.0",), ("Custom",))
    assert (entry.purl_type, entry.sha256, entry.where) == ("pypi", "ab" * 32, "components[0]")
