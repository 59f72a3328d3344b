"""The CycloneDX document: golden files per input x format x spec version, reproducibility,
schema validation before anything is written.

Goldens live in tests/data/sbom/<input>.<format>.<spec>.golden; IMAGEKIT_UPDATE_GOLDEN=1
rewrites them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from _inventories import IMAGE_DIGEST, MODEL_SHA, deb, iris, iris_cuda

from imagekit.inventory.model import DataSource, Inventory, ModelArtifact
from imagekit.inventory.packages import deb_purl
from imagekit.sbom import SbomError, SbomFormat, SpecVersion, render_sbom, write_sbom
from imagekit.sbom.components import split_reference
from imagekit.sbom.cyclonedx import schema_version
from imagekit.sbom.formats import writer

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "sbom"
INPUTS: dict[str, Callable[[], Inventory]] = {"iris": iris, "iris-cuda": iris_cuda}


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("IMAGEKIT_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; IMAGEKIT_UPDATE_GOLDEN=1"


# CycloneDX in each spec version; SPDX is always 2.3, whatever the CycloneDX version asked.
CASES: list[tuple[SbomFormat, str]] = [
    (f, s.value) for f in SbomFormat if f is not SbomFormat.SPDX_JSON for s in SpecVersion
]
CASES.append((SbomFormat.SPDX_JSON, "2.3"))


@pytest.mark.parametrize(("fmt", "version"), CASES)
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_matches_golden(name: str, fmt: SbomFormat, version: str) -> None:
    spec = SpecVersion(version) if version in set(SpecVersion) else SpecVersion.V1_6
    text = render_sbom(INPUTS[name](), fmt=fmt, spec=spec, reproducible=True)
    golden(f"{name}.{fmt}.{version}.golden", text)


def test_every_format_has_its_writer_module() -> None:
    # A member added to SbomFormat without formats/<name>.py (or with another's WRITER) fails.
    assert [writer(f).format for f in SbomFormat] == list(SbomFormat)
    assert [schema_version(s).to_version() for s in SpecVersion] == [s.value for s in SpecVersion]


def doc(inventory: Inventory | None = None, **kwargs: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        render_sbom(inventory or iris_cuda(), reproducible=True, **kwargs)
    )
    return data


def component(data: dict[str, Any], ref: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in data["components"] if c["bom-ref"] == ref)
    return found


def props(item: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in item.get("properties", [])}


def needs(data: dict[str, Any], ref: str) -> list[str]:
    entry = next(d for d in data["dependencies"] if d["ref"] == ref)
    return list(entry.get("dependsOn", []))


def test_reproducible_is_byte_identical() -> None:
    for fmt in SbomFormat:
        first = render_sbom(iris_cuda(), fmt=fmt, reproducible=True)
        assert first == render_sbom(iris_cuda(), fmt=fmt, reproducible=True)
        assert "serialNumber" not in first
        assert "timestamp" not in first


def test_not_reproducible_has_serial_number_and_timestamp() -> None:
    first = json.loads(render_sbom(iris()))
    second = json.loads(render_sbom(iris()))
    assert first["serialNumber"].startswith("urn:uuid:")
    assert first["serialNumber"] != second["serialNumber"]
    assert "timestamp" in first["metadata"]


def test_image_is_the_metadata_component() -> None:
    meta = doc(iris())["metadata"]
    image = meta["component"]
    assert image["type"] == "container"
    assert image["name"] == "iris-classifier"
    assert image["version"] == "1.0.0"
    assert image["bom-ref"] == image["purl"]
    assert image["purl"] == f"pkg:oci/iris-classifier@{IMAGE_DIGEST}?arch=amd64&tag=1.0.0"
    assert image["hashes"] == [{"alg": "SHA-256", "content": IMAGE_DIGEST[7:]}]
    assert meta["tools"]["components"][0]["name"] == "imagekit"
    assert meta["lifecycles"] == [{"phase": "post-build"}]
    assert props(meta)["imagekit:warning"].startswith("/usr/share/doc/tzdata/copyright")


def test_registry_reference_gives_repository_url() -> None:
    image = doc()["metadata"]["component"]
    assert image["name"] == "registry.example.com/ml/iris-classifier"
    assert "repository_url=registry.example.com/ml/iris-classifier" in image["purl"]


def test_image_depends_on_everything_listed() -> None:
    data = doc()
    root = data["metadata"]["component"]["bom-ref"]
    assert sorted(needs(data, root)) == sorted(c["bom-ref"] for c in data["components"])


def test_debian_packages() -> None:
    data = doc()
    ref = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc"
    libc = component(data, ref)
    assert libc["purl"] == ref
    assert libc["licenses"] == [
        {"license": {"acknowledgement": "declared", "id": "GPL-2.0-or-later"}},
        {"license": {"acknowledgement": "declared", "id": "LGPL-2.1-or-later"}},
    ]
    assert props(libc)["imagekit:deb:source"] == "glibc"
    assert needs(data, ref) == [
        "pkg:deb/debian/libgcc-s1@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12"
    ]
    tzdata = component(data, "pkg:deb/debian/tzdata@2025b-0%2Bdeb12u1?arch=amd64&distro=debian-12")
    assert tzdata["licenses"] == [
        {"license": {"acknowledgement": "declared", "name": "public-domain"}}
    ]
    gcc = component(
        data, "pkg:deb/debian/gcc-12-base@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12"
    )
    assert gcc["licenses"] == [
        {"acknowledgement": "declared", "expression": "GPL-3.0-or-later WITH GCC-exception-3.1"}
    ]
    os_release = component(data, "os:debian@12")
    assert (os_release["type"], os_release["version"]) == ("operating-system", "12")


def test_python_packages() -> None:
    data = doc()
    sklearn = component(data, "pkg:pypi/scikit-learn@1.7.2")
    assert sklearn["licenses"] == [
        {"license": {"acknowledgement": "declared", "id": "BSD-3-Clause"}}
    ]
    assert sklearn["scope"] == "required"
    assert props(sklearn)["imagekit:dependency-class"] == "critical"
    # extras (benchmark, tests) are not edges: which extras were installed is not recorded
    assert needs(data, "pkg:pypi/scikit-learn@1.7.2") == [
        "pkg:pypi/joblib@1.5.2",
        "pkg:pypi/numpy@2.3.5",
        "pkg:pypi/scipy@1.16.3",
        "pkg:pypi/threadpoolctl@3.6.0",
    ]
    threadpool = component(data, "pkg:pypi/threadpoolctl@3.6.0")
    assert threadpool["scope"] == "optional"
    assert props(threadpool)["imagekit:dependency-class"] == "optional"
    numpy = component(data, "pkg:pypi/numpy@2.3.5")
    assert numpy["copyright"] == "Copyright (c) 2005-2025, NumPy Developers."
    assert numpy["licenses"] == [
        {"license": {"acknowledgement": "declared", "name": "BSD License"}}
    ]
    assert "hashes" not in numpy  # the lock lists 74 wheels; which one was installed is unknown
    joblib = component(data, "pkg:pypi/joblib@1.5.2")
    assert "scope" not in joblib
    assert "imagekit:dependency-class" not in props(joblib)


def test_cuda_runtime_and_driver() -> None:
    data = doc()
    wheel_ref = "pkg:pypi/nvidia-cuda-runtime-cu12@12.4.127"
    wheel = component(data, wheel_ref)
    assert wheel["hashes"][0]["content"].startswith("64403288")  # the plan's only wheel
    assert props(wheel)["imagekit:cuda:version"] == "12.4"
    runtimes = [c for c in data["components"] if c["name"] == "cuda-runtime"]
    assert len(runtimes) == 1  # the wheel and the libcudart inside it are one runtime
    runtime = runtimes[0]
    assert (runtime["type"], runtime["version"]) == ("framework", "12.4.127")
    assert props(runtime)["imagekit:provided-by"] == wheel_ref
    driver = component(data, "nvidia-driver")
    assert driver["type"] == "device-driver"
    assert "version" not in driver
    assert props(driver)["imagekit:driver:min-version"] == "550.54.14"
    assert ">=550.54.14" in driver["description"]
    assert needs(data, runtime["bom-ref"]) == ["nvidia-driver"]


def test_no_cuda_no_driver() -> None:
    refs = [c["bom-ref"] for c in doc(iris())["components"]]
    assert "nvidia-driver" not in refs
    assert not [r for r in refs if r.startswith("cuda-runtime")]


def test_model_and_data() -> None:
    data = doc()
    model = component(data, "model:/opt/model/iris.joblib")
    assert model["type"] == "machine-learning-model"
    assert model["hashes"] == [{"alg": "SHA-256", "content": MODEL_SHA}]
    assert model["licenses"] == [{"license": {"acknowledgement": "declared", "id": "BSD-3-Clause"}}]
    card = props(model)
    assert card["imagekit:card:task"] == "classification"
    assert card["imagekit:card:framework"] == "scikit-learn"
    assert card["imagekit:artifact:verified"] == "true"
    dataset = component(data, "data:dataset:iris@1988")
    assert dataset["type"] == "data"
    assert dataset["externalReferences"] == [
        {"type": "distribution", "url": "https://archive.ics.uci.edu/dataset/53/iris"}
    ]
    assert dataset["hashes"][0]["content"].startswith("f13ffa8f")
    source = component(data, "data:source:scikit-learn@1.7.2")
    assert source["externalReferences"][0]["type"] == "vcs"


def test_a_model_that_does_not_match_its_record_says_so() -> None:
    base = iris()
    tampered = replace(base.artifacts[0], actual_sha256="0" * 64)
    missing = ModelArtifact(
        name="head",
        path="/opt/model/head.onnx",
        recorded_sha256="1" * 64,
        actual_sha256=None,
        size=None,
    )
    data = doc(replace(base, artifacts=(tampered, missing)))
    bad = props(component(data, "model:/opt/model/iris.joblib"))
    assert bad["imagekit:artifact:verified"] == "false"
    assert bad["imagekit:artifact:recorded-sha256"] == MODEL_SHA
    gone = component(data, "model:/opt/model/head.onnx")
    assert "hashes" not in gone
    assert props(gone)["imagekit:artifact:status"] == "missing from the image"


def test_spec_1_5_leaves_out_what_it_cannot_hold() -> None:
    data = doc(spec=SpecVersion.V1_5)
    assert data["specVersion"] == "1.5"
    sklearn = component(data, "pkg:pypi/scikit-learn@1.7.2")
    assert sklearn["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]  # no acknowledgement


def test_invalid_sbom_is_an_error_and_nothing_is_written(tmp_path: Path) -> None:
    bad = replace(
        iris(),
        data=(
            DataSource(kind="dataset", name="iris", uri="https://x", version="1", sha256="not-hex"),
        ),
    )
    out = tmp_path / "sbom.json"
    out.write_text("previous\n")
    with pytest.raises(
        SbomError,
        match=r"^iris-classifier:1\.0\.0: the SBOM fails the CycloneDX 1\.6 schema \(cyclonedx-json\): .*not-hex",
    ):
        write_sbom(bad, out)
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sbom.json"]


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    out = tmp_path / "out" / "iris.cdx.xml"
    write_sbom(iris(), out, fmt=SbomFormat.CYCLONEDX_XML, reproducible=True)
    assert out.read_text().startswith(
        '<?xml version="1.0" ?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6"'
    )
    assert [p.name for p in out.parent.iterdir()] == ["iris.cdx.xml"]


def test_unwritable_path_is_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SbomError, match=r"cannot write the SBOM"):
        write_sbom(iris(), blocker / "sbom.json")


def test_same_package_in_two_environments_gets_two_refs() -> None:
    base = iris()
    system = replace(base.python[0], site_packages="/usr/lib/python3/dist-packages")
    data = doc(replace(base, python=(*base.python, system)))
    refs = sorted(c["bom-ref"] for c in data["components"] if c["name"] == "joblib")
    assert refs == [
        "pkg:pypi/joblib@1.5.2#/opt/venv/lib/python3.11/site-packages",
        "pkg:pypi/joblib@1.5.2#/usr/lib/python3/dist-packages",
    ]


def test_a_package_listed_twice_is_the_readers_bug() -> None:
    base = iris()
    with pytest.raises(SbomError, match=r"the inventory lists pkg:deb/debian/tzdata@.* twice"):
        render_sbom(replace(base, debs=(*base.debs, base.debs[-1])))


@pytest.mark.parametrize(
    ("reference", "kind", "expected"),
    [
        ("iris-classifier:1.0.0", "daemon", ("iris-classifier", "1.0.0")),
        ("localhost:5000/ml/iris@sha256:" + "a" * 64, "", ("localhost:5000/ml/iris", None)),
        ("localhost:5000/ml/iris", "", ("localhost:5000/ml/iris", None)),
        ("/srv/out/iris.tar", "docker-archive", ("iris", None)),
        ("build/oci/", "oci-layout", ("oci", None)),
        ("./image.tar.gz", "", ("image", None)),
    ],
)
def test_image_names(reference: str, kind: str, expected: tuple[str, str | None]) -> None:
    assert split_reference(reference, kind) == expected


def test_deb_purl_upstream_names_a_different_source() -> None:
    release = iris().os_release
    same = deb_purl(deb("tzdata", "2025b-0+deb12u1"), release).to_string()
    assert same == "pkg:deb/debian/tzdata@2025b-0%2Bdeb12u1?arch=amd64&distro=debian-12"
    binnmu = deb_purl(deb("bash", "5.2.15-2+b13", source_version="5.2.15-2"), release)
    assert binnmu.qualifiers == {
        "arch": "amd64",
        "distro": "debian-12",
        "upstream": "bash@5.2.15-2",
    }
    both = deb_purl(deb("libc6", "2.36-9+deb12u10", source="glibc"), release)
    assert both.qualifiers["upstream"] == "glibc"
