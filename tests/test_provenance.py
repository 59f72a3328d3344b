"""SLSA v1 provenance of a build: what the statement says, and which documents `push` attaches."""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

import pytest
from _projects import EXAMPLE
from packaging.utils import canonicalize_name
from packaging.version import Version

from imagekit.build.provenance import (
    BuildRun,
    documents_beside,
    statement,
    write_provenance,
)
from imagekit.build.wheelhouse import FetchedWheel
from imagekit.plan.model import BuildPlan
from imagekit.plan.prepare import prepare

# The two pure-Python wheels of the example's lock, as the wheel cache holds them: the file
# names PyPI serves for joblib 1.5.2 and threadpoolctl 3.6.0, and the sha256 the lock lists.
WHEELS = (
    ("joblib", "1.5.2", "4e1f0bdbb987e6d843c70cf43714cb276623def372df3c22fe5266b2670bc241"),
    ("threadpoolctl", "3.6.0", "43a0b8fd5a2928500110039e43a5eed8480b918967083ea48dc3ab9f13c4a7fb"),
)
STARTED = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
FINISHED = STARTED + datetime.timedelta(seconds=42)


@pytest.fixture(scope="module")
def plan() -> BuildPlan:
    planned = prepare(EXAMPLE).plan
    # the base's image id, as a build resolves it: here the digest of the base recipe itself
    return planned.with_base_digest(f"sha256:{planned.base.recipe_sha256}")


def wheels(folder: Path) -> tuple[FetchedWheel, ...]:
    return tuple(
        FetchedWheel(
            name=canonicalize_name(name),
            version=Version(version),
            path=folder / f"{name}-{version}-py3-none-any.whl",
            sha256=sha256,
            filename=f"{name}-{version}-py3-none-any.whl",
        )
        for name, version, sha256 in WHEELS
    )


def run(image_id: str) -> BuildRun:
    return BuildRun(
        backend="oci", image="iris:1.0.0", image_id=image_id, started=STARTED, finished=FINISHED
    )


def image_digest(plan: BuildPlan) -> str:
    return "sha256:" + hashlib.sha256(plan.to_json().encode()).hexdigest()


def test_statement_is_slsa_v1_provenance_of_the_image(plan: BuildPlan, tmp_path: Path) -> None:
    sbom = tmp_path / "sbom.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX"}\n')
    digest = image_digest(plan)
    document = statement(plan, run(digest), wheels(tmp_path / "wheelhouse"), sbom)

    assert document["_type"] == "https://in-toto.io/Statement/v1"
    assert document["predicateType"] == "https://slsa.dev/provenance/v1"
    assert document["subject"] == [
        {"name": "iris:1.0.0", "digest": {"sha256": digest.removeprefix("sha256:")}}
    ]
    definition = document["predicate"]["buildDefinition"]
    assert definition["buildType"] == "https://imagekit.dev/provenance/build/v1"
    assert definition["externalParameters"]["lock"] == {
        "file": "requirements.lock",
        "format": plan.lock_format,
    }
    assert definition["internalParameters"] == {"plan_sha256": plan.sha256}
    deps = {d["name"]: d for d in definition["resolvedDependencies"]}
    assert deps["base"] == {
        "uri": plan.base.reference,
        "name": "base",
        "digest": {"sha256": plan.base.recipe_sha256},
    }
    assert deps["requirements.lock"]["digest"] == {"sha256": plan.lock_sha256}
    assert deps["joblib-1.5.2-py3-none-any.whl"] == {
        "uri": "pkg:pypi/joblib@1.5.2",
        "name": "joblib-1.5.2-py3-none-any.whl",
        "digest": {"sha256": WHEELS[0][2]},
    }
    assert deps["/opt/model/iris.joblib"]["digest"]["sha256"] == plan.artifacts[0].sha256
    details = document["predicate"]["runDetails"]
    assert details["builder"]["id"] == "https://imagekit.dev/builder/oci"
    assert details["metadata"] == {
        "startedOn": "2026-01-02T03:04:05Z",
        "finishedOn": "2026-01-02T03:04:47Z",
    }
    assert details["byproducts"] == [
        {
            "name": "sbom.cdx.json",
            "digest": {"sha256": hashlib.sha256(sbom.read_bytes()).hexdigest()},
            "mediaType": "application/vnd.cyclonedx+json",
        }
    ]


def test_statement_names_no_host_path(plan: BuildPlan, tmp_path: Path) -> None:
    text = json.dumps(statement(plan, run(image_digest(plan)), wheels(tmp_path), None))
    for where in (str(tmp_path), str(EXAMPLE.resolve()), str(Path.home())):
        assert where not in text


def built(plan: BuildPlan, out: Path, image: str) -> Path:
    """A build's output folder: layout, SBOM and provenance of `image`."""
    (out / "oci").mkdir(parents=True)
    sbom = out / "sbom.cdx.json"
    sbom.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.6"}\n')
    write_provenance(plan, run(image), wheels(out), out, sbom=sbom)
    return out / "oci"


def test_push_attaches_the_builds_own_documents(plan: BuildPlan, tmp_path: Path) -> None:
    digest = image_digest(plan)
    layout = built(plan, tmp_path, digest)
    found = documents_beside(layout, digest)
    assert found.documents == (tmp_path / "provenance.json", tmp_path / "sbom.cdx.json")
    assert found.skipped == ""


def test_documents_of_another_image_are_left_out(plan: BuildPlan, tmp_path: Path) -> None:
    layout = built(plan, tmp_path, image_digest(plan))
    other = "sha256:" + "0" * 64
    found = documents_beside(layout, other)
    assert found.documents == ()
    assert (
        found.skipped
        == f"{tmp_path / 'provenance.json'} is the provenance of another image, not {other}"
    )


def test_an_sbom_rewritten_after_the_build_is_left_out(plan: BuildPlan, tmp_path: Path) -> None:
    digest = image_digest(plan)
    layout = built(plan, tmp_path, digest)
    (tmp_path / "sbom.cdx.json").write_text('{"bomFormat": "CycloneDX", "version": 2}\n')
    found = documents_beside(layout, digest)
    assert found.documents == (tmp_path / "provenance.json",)
    assert found.skipped == f"{tmp_path / 'sbom.cdx.json'} changed after the build of {digest}"


def test_a_layout_without_provenance_attaches_nothing(tmp_path: Path) -> None:
    (tmp_path / "oci").mkdir()
    found = documents_beside(tmp_path / "oci", "sha256:" + "1" * 64)
    assert (found.documents, found.skipped) == ((), "")
