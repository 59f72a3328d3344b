"""SPDX 2.3 JSON: the iris example's SBOM (with CUDA: the model, the datasets, the CUDA runtime
and the driver it needs) validates with the SPDX tools library, holds what the CycloneDX one
holds, and syft reads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _inventories import MODEL_SHA, iris, iris_cuda
from _syft import syft
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.sbom import SbomError, SbomFormat, SpecVersion, render_sbom, write_sbom
from imagekit.sbom.formats import writer

SPDX = SbomFormat.SPDX_JSON
SPDX_SPEC = SpecVersion.V1_6  # CycloneDX's version: SPDX ignores it


def spdx_doc(reproducible: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sbom(iris_cuda(), fmt=SPDX, reproducible=reproducible))
    return data


def package(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in data["packages"] if p["name"] == name)
    return found


def notes(item: dict[str, Any]) -> dict[str, str]:
    pairs = (a["comment"].split("=", 1) for a in item.get("annotations", []))
    return {key: value for key, value in pairs}  # noqa: C416 - pairs are lists


def relations(data: dict[str, Any], kind: str, element: str) -> set[str]:
    return {
        r["relatedSpdxElement"]
        for r in data["relationships"]
        if r["relationshipType"] == kind and r["spdxElementId"] == element
    }


def test_validates_with_the_spdx_tools_library(tmp_path: Path) -> None:
    for inventory in (iris(), iris_cuda()):
        path = write_sbom(inventory, tmp_path / "image.spdx.json", fmt=SPDX, reproducible=True)
        document = parse_file(str(path))
        assert validate_full_spdx_document(document) == []
        assert len(document.packages) == len(json.loads(path.read_text())["packages"])


def test_the_image_is_described_and_contains_what_is_in_it() -> None:
    data = spdx_doc()
    (image,) = relations(data, "DESCRIBES", "SPDXRef-DOCUMENT")
    subject = next(p for p in data["packages"] if p["SPDXID"] == image)
    assert subject["primaryPackagePurpose"] == "CONTAINER"
    assert subject["name"] == "registry.example.com/ml/iris-classifier"
    assert subject["versionInfo"] == "1.0.0-cu124"
    contained = relations(data, "CONTAINS", image)
    others = {p["SPDXID"] for p in data["packages"]} - {image}
    driver = package(data, "nvidia-driver")["SPDXID"]
    dataset = package(data, "iris")["SPDXID"]
    source = next(  # the model's upstream source, beside the scikit-learn wheel of that name
        p["SPDXID"]
        for p in data["packages"]
        if p["name"] == "scikit-learn"
        and "checksums" not in p
        and p["primaryPackagePurpose"] == "OTHER"
    )
    assert contained == others - {driver, dataset, source}  # neither is in the image
    assert relations(data, "DEPENDS_ON", image) == {driver}
    assert relations(data, "OTHER", image) == {dataset, source}


def test_packages_carry_purls_checksums_and_declared_licences() -> None:
    data = spdx_doc()
    numpy = package(data, "numpy")
    assert numpy["externalRefs"] == [
        {
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:pypi/numpy@2.3.5",
        }
    ]
    assert numpy["primaryPackagePurpose"] == "LIBRARY"
    assert numpy["licenseConcluded"] == "NOASSERTION"  # imagekit declares, it does not conclude
    libc = package(data, "libc6")
    assert libc["licenseDeclared"] == "GPL-2.0-or-later AND LGPL-2.1-or-later"
    assert notes(libc)["imagekit:deb:source"] == "glibc"
    # a licence name that is no SPDX id is a LicenseRef with its text
    extracted = {e["licenseId"]: e["extractedText"] for e in data["hasExtractedLicensingInfos"]}
    assert extracted[numpy["licenseDeclared"]] == "BSD License"


def test_the_model_data_cuda_runtime_and_driver_are_packages() -> None:
    data = spdx_doc()
    model = package(data, "iris-classifier")
    assert model["primaryPackagePurpose"] == "FILE"
    assert model["checksums"] == [{"algorithm": "SHA256", "checksumValue": MODEL_SHA}]
    assert notes(model)["imagekit:component-type"] == "machine-learning-model"
    dataset = package(data, "iris")
    assert dataset["downloadLocation"] == "https://archive.ics.uci.edu/dataset/53/iris"
    assert notes(dataset)["imagekit:component-type"] == "data"
    runtime = package(data, "cuda-runtime")
    assert (runtime["primaryPackagePurpose"], runtime["versionInfo"]) == ("FRAMEWORK", "12.4.127")
    driver = package(data, "nvidia-driver")
    assert notes(driver)["imagekit:driver:min-version"] == "550.54.14"  # the plan's floor
    assert relations(data, "DEPENDS_ON", runtime["SPDXID"]) == {driver["SPDXID"]}


def test_the_dependency_graph_is_depends_on() -> None:
    data = spdx_doc()
    sklearn = next(
        p["SPDXID"]
        for p in data["packages"]
        if p.get("externalRefs") and p["name"] == "scikit-learn"
    )
    needed = {p["SPDXID"]: p["name"] for p in data["packages"]}
    names = {needed[i] for i in relations(data, "DEPENDS_ON", sklearn)}
    assert names == {"joblib", "numpy", "scipy", "threadpoolctl"}


def test_reproducible_is_byte_identical_and_named_after_its_content() -> None:
    first = render_sbom(iris_cuda(), fmt=SPDX, reproducible=True)
    assert first == render_sbom(iris_cuda(), fmt=SPDX, reproducible=True)
    assert first != render_sbom(iris(), fmt=SPDX, reproducible=True)
    one, two = spdx_doc(reproducible=False), spdx_doc(reproducible=False)
    assert one["documentNamespace"] != two["documentNamespace"]
    assert one["creationInfo"]["created"] != "1970-01-01T00:00:00Z"


def test_a_document_that_fails_the_schema_is_an_error() -> None:
    text = render_sbom(iris(), fmt=SPDX, reproducible=True)
    broken = json.loads(text)
    broken["packages"][0]["primaryPackagePurpose"] = "MODEL"
    with pytest.raises(SbomError, match=r"fails SPDX 2.3 .*primaryPackagePurpose: 'MODEL'"):
        writer(SPDX).validate(json.dumps(broken), spec=SPDX_SPEC, subject="iris")
    dangling = json.loads(text)
    dangling["relationships"][0]["relatedSpdxElement"] = "SPDXRef-nothing"
    with pytest.raises(SbomError, match="names SPDXRef-nothing, which is not defined"):
        writer(SPDX).validate(json.dumps(dangling), spec=SPDX_SPEC, subject="iris")


def test_cli_writes_spdx_of_a_root_folder(tmp_path: Path) -> None:
    root = tmp_path / "bookworm"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    out = tmp_path / "bookworm.spdx.json"
    result = CliRunner().invoke(
        app, ["sbom", str(root), "--format", "spdx-json", "--reproducible", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "(SPDX 2.3 JSON: " in result.output
    text = out.read_text()
    assert str(tmp_path) not in text  # no host path
    data = json.loads(text)
    assert data["spdxVersion"] == "SPDX-2.3"
    assert package(data, "debian")["primaryPackagePurpose"] == "OPERATING_SYSTEM"


def test_syft_reads_it(tmp_path: Path) -> None:
    path = write_sbom(iris_cuda(), tmp_path / "iris.spdx.json", fmt=SPDX, reproducible=True)
    done = syft("convert", str(path), "-o", "cyclonedx-json")
    assert done.returncode == 0, done.stderr
    converted = json.loads(done.stdout)
    assert converted["metadata"]["component"]["name"] == "registry.example.com/ml/iris-classifier"
    names = {c["name"] for c in converted["components"]}
    # what syft's own SPDX drops: the model, the dataset, the OS, the CUDA runtime, the driver
    assert {"iris-classifier", "iris", "debian", "cuda-runtime", "nvidia-driver"} <= names
    purls = {c.get("purl") for c in converted["components"]}
    assert "pkg:pypi/numpy@2.3.5" in purls
