"""SBOMs and provenance attached to images in a registry, and found again from the image.

Debian's docker-registry 2.8 (CI's registry) has no referrers API, so it exercises the
referrers tag schema; the API path runs against a small OCI registry served here over HTTP
that implements the referrers endpoint, as the distribution spec 1.1 words it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _registry_support import OCI_INDEX, OCI_MANIFEST, anonymous_registry, build_layout
from typer.testing import CliRunner

from imagekit.cli.app import app
from imagekit.image.digest import Digest
from imagekit.image.model import Descriptor, Index
from imagekit.inventory import read_inventory
from imagekit.registry import (
    ManifestError,
    RegistryClient,
    parse_reference,
    push_layout,
)
from imagekit.registry.referrers import (
    ArtifactKind,
    attach,
    list_referrers,
    referrers_tag,
)
from imagekit.sbom import write_sbom

CYCLONEDX = frozenset({ArtifactKind.CYCLONEDX})
PROVENANCE = json.dumps(
    {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {},
    }
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@dataclass(frozen=True, slots=True, kw_only=True)
class Pushed:
    ref: str
    digest: Digest
    sbom: Path
    provenance: Path


def pushed(registry: str, folder: Path, name: str) -> Pushed:
    """An image pushed to `registry`, with its real SBOM and a provenance beside it."""
    built = build_layout(folder / "oci", seed=name)
    ref = f"{registry}/imagekit-test/referrers-{name}:1.0"
    push_layout(built.root, ref)
    sbom = write_sbom(read_inventory(str(built.root)), folder / "sbom.cdx.json", reproducible=True)
    provenance = folder / "provenance.json"
    provenance.write_text(PROVENANCE)
    return Pushed(ref=ref, digest=built.manifest_digest, sbom=sbom, provenance=provenance)


# --- the referrers tag schema, on the real registry ------------------------------------


def test_attach_then_find_the_sbom_from_the_registry(registry: str, tmp_path: Path) -> None:
    image = pushed(registry, tmp_path, "find")
    runner = CliRunner()
    attached = runner.invoke(app, ["attach", image.ref, str(image.sbom)])
    assert attached.exit_code == 0, attached.output
    found = runner.invoke(app, ["sbom", "--from-registry", image.ref, "-o", str(tmp_path / "got")])
    assert found.exit_code == 0, found.output
    assert (tmp_path / "got").read_bytes() == image.sbom.read_bytes()
    stdout = runner.invoke(app, ["sbom", "--from-registry", image.ref])
    assert stdout.stdout_bytes == image.sbom.read_bytes()


def test_two_artifacts_are_both_listed_under_the_referrers_tag(
    registry: str, tmp_path: Path
) -> None:
    image = pushed(registry, tmp_path, "two")
    sbom = attach(image.ref, image.sbom)
    provenance = attach(image.ref, image.provenance)
    again = attach(image.ref, image.sbom)
    assert (sbom.via_api, provenance.via_api) == (False, False)
    assert again.digest == sbom.digest

    index = RegistryClient(parse_reference(image.ref), push=False).get_manifest(
        referrers_tag(image.digest)
    )
    assert index.media_type == OCI_INDEX
    assert isinstance(index.parsed, Index)
    assert [(m.digest, m.artifact_type) for m in index.parsed.manifests] == [
        (sbom.digest, "application/vnd.cyclonedx+json"),
        (provenance.digest, "application/vnd.in-toto+json"),
    ]
    listed = list_referrers(image.ref)
    assert (listed.subject, listed.via_api) == (image.digest, False)
    assert [m.digest for m in listed.entries] == [sbom.digest, provenance.digest]


def test_entries_already_under_the_tag_are_kept(registry: str, tmp_path: Path) -> None:
    image = pushed(registry, tmp_path, "kept")
    # an entry another tool listed there: a manifest of the same repository
    other = build_layout(tmp_path / "other", seed="kept-other")
    push_layout(other.root, f"{image.ref.rpartition(':')[0]}:other")
    client = RegistryClient(parse_reference(image.ref), push=True)
    size = len(client.get_manifest(other.manifest_digest).data)
    entry = Descriptor(
        media_type=OCI_MANIFEST,
        digest=other.manifest_digest,
        size=size,
        artifact_type="application/vnd.example+json",
    )
    index = json.dumps(Index(manifests=(entry,)).to_dict()).encode()
    client.put_manifest(index, OCI_INDEX, referrers_tag(image.digest))

    attached = attach(image.ref, image.sbom)
    assert [m.digest for m in list_referrers(image.ref).entries] == [
        other.manifest_digest,
        attached.digest,
    ]


def test_a_referrers_tag_holding_an_image_is_refused_and_left_alone(
    registry: str, tmp_path: Path
) -> None:
    image = pushed(registry, tmp_path, "wrong-type")
    squatter = build_layout(tmp_path / "squatter", seed="squatter")
    tag = referrers_tag(image.digest)
    push_layout(squatter.root, f"{image.ref.rpartition(':')[0]}:{tag}")
    message = re.escape(
        f"{image.ref} tag {tag}: holds {OCI_MANIFEST}, not an OCI image index of referrers; "
        "refused (delete that tag, or attach to another image)"
    )
    with pytest.raises(ManifestError, match=message):
        attach(image.ref, image.sbom)
    with pytest.raises(ManifestError, match=message):
        list_referrers(image.ref)
    client = RegistryClient(parse_reference(image.ref), push=False)
    assert client.get_manifest(tag).digest == squatter.manifest_digest


def test_an_image_without_an_sbom_says_how_to_attach_one(registry: str, tmp_path: Path) -> None:
    image = pushed(registry, tmp_path, "none")
    attach(image.ref, image.provenance)
    result = CliRunner().invoke(app, ["sbom", "--from-registry", image.ref])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {image.ref}: no application/vnd.cyclonedx+json is attached to image "
        f"{image.digest} (1 artifacts are); attach one with `imagekit attach`\n"
    )


def test_push_of_a_built_layout_attaches_its_documents(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "oci", seed="push-attach")
    sbom = write_sbom(read_inventory(str(built.root)), tmp_path / "sbom.cdx.json")
    sbom_sha = hashlib.sha256(sbom.read_bytes()).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "x", "digest": {"sha256": built.manifest_digest[7:]}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "runDetails": {
                "byproducts": [
                    {
                        "name": "sbom.cdx.json",
                        "digest": {"sha256": sbom_sha},
                        "mediaType": "application/vnd.cyclonedx+json",
                    }
                ]
            }
        },
    }
    (tmp_path / "provenance.json").write_text(json.dumps(statement))
    ref = f"{registry}/imagekit-test/referrers-push:1.0"
    runner = CliRunner()
    skipped = runner.invoke(app, ["push", "--no-attach", str(built.root), ref])
    assert skipped.exit_code == 0, skipped.output
    assert list_referrers(ref).entries == ()
    result = runner.invoke(app, ["push", str(built.root), ref])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{built.manifest_digest}\n"
    kinds = [m.artifact_type for m in list_referrers(ref).entries]
    assert kinds == ["application/vnd.in-toto+json", "application/vnd.cyclonedx+json"]
