"""SBOMs and provenance attached to images in a registry, and found again from the image.

Debian's docker-registry 2.8 (CI's registry) has no referrers API, so it exercises the
referrers tag schema; the API path runs against a small OCI registry served here over HTTP
that implements the referrers endpoint, as the distribution spec 1.1 words it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from _hostile_servers import Answer, Seen, serve
from _registry_support import OCI_INDEX, OCI_MANIFEST, anonymous_registry, build_layout
from typer.testing import CliRunner

from imagekit.build.backends import BackendKind
from imagekit.build.oci import default_cache_root, ensure_base
from imagekit.build.pipeline import build_project
from imagekit.cli import app
from imagekit.image.digest import Digest
from imagekit.image.model import Descriptor, Index
from imagekit.inventory import read_inventory
from imagekit.plan.catalog import BaseImage
from imagekit.registry import (
    ManifestError,
    RegistryClient,
    parse_reference,
    push_layout,
)
from imagekit.registry.referrers import (
    ArtifactKind,
    attach,
    fetch_document,
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
    sbom = write_sbom(
        read_inventory(str(built.root)), tmp_path / "sbom.cdx.json", reproducible=True
    )
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
    assert "attached" not in skipped.stderr
    result = runner.invoke(app, ["push", str(built.root), ref])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{built.manifest_digest}\n"
    lines = [line.split() for line in result.stderr.splitlines() if line.startswith("attached")]
    assert [line[1] for line in lines] == ["provenance.json", "sbom.cdx.json"]
    listed: dict[str, str | None] = {m.digest: m.artifact_type for m in list_referrers(ref).entries}
    assert [listed[line[line.index("as") + 1].rstrip(",")] for line in lines] == [
        "application/vnd.in-toto+json",
        "application/vnd.cyclonedx+json",
    ]


# --- the referrers API, on a registry served here -----------------------------------------


@dataclass(slots=True)
class OciRegistry:
    """An in-memory OCI registry: blobs, manifests, tags, and (with `api`) the referrers API
    of distribution spec 1.1: `OCI-Subject` on a push with a subject, and
    `GET /v2/<name>/referrers/<digest>` listing them. `referrers` replaces that answer, and
    `served` what a manifest's digest serves, for the hostile cases."""

    api: bool = True
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    referrers: Answer | None = None
    served: dict[str, bytes] = field(default_factory=dict)
    page_size: int = 0  # > 0: the referrers list comes in pages of this many, linked
    paths: list[str] = field(default_factory=list)  # every request's path, in order

    def __call__(self, seen: Seen) -> Answer:
        self.paths.append(seen.path)
        parts = urlsplit(seen.path)
        if parts.path.startswith("/upload/"):
            digest = parse_qs(parts.query)["digest"][0]
            self.blobs[digest] = seen.body
            return Answer(status=201)
        match = re.fullmatch(r"/v2/(.+?)/(blobs|manifests|referrers)/(.+)", parts.path)
        if match is None:
            return Answer(status=200 if parts.path == "/v2/" else 404)
        kind, target = match.group(2), match.group(3)
        if kind == "blobs":
            return self._blob(seen, target)
        if kind == "referrers":
            return self._referrers(target, int(parse_qs(parts.query).get("page", ["0"])[0]))
        return self._manifest(seen, target)

    def _blob(self, seen: Seen, target: str) -> Answer:
        if seen.method == "POST":
            return Answer(status=202, headers={"Location": f"/upload/{len(self.blobs)}"})
        if target not in self.blobs:
            return Answer(status=404)
        return Answer(status=200, body=self.blobs[target])

    def _manifest(self, seen: Seen, target: str) -> Answer:
        if seen.method == "PUT":
            digest = _sha256(seen.body)
            self.manifests[digest] = seen.body
            if not target.startswith("sha256:"):
                self.tags[target] = digest
            headers = {"Docker-Content-Digest": digest}
            subject = json.loads(seen.body).get("subject")
            if self.api and subject:
                headers["OCI-Subject"] = subject["digest"]
            return Answer(status=201, headers=headers)
        digest = self.tags.get(target, target)
        if digest not in self.manifests:
            return Answer(status=404)
        body = self.served.get(digest, self.manifests[digest])
        media_type = json.loads(self.manifests[digest])["mediaType"]
        return Answer(status=200, headers={"Content-Type": media_type}, body=body)

    def _referrers(self, subject: str, page: int) -> Answer:
        if not self.api:
            return Answer(status=404)
        if self.referrers is not None:
            return self.referrers
        entries = []
        for digest, data in self.manifests.items():
            manifest = json.loads(data)
            if manifest.get("subject", {}).get("digest") == subject:
                entries.append(
                    {
                        "mediaType": manifest["mediaType"],
                        "digest": digest,
                        "size": len(data),
                        "artifactType": manifest["artifactType"],
                    }
                )
        headers = {"Content-Type": OCI_INDEX}
        if self.page_size:
            start = page * self.page_size
            if start + self.page_size < len(entries):
                next_page = f"/v2/imagekit-test/referrers-api/referrers/{subject}?page={page + 1}"
                headers["Link"] = f'<{next_page}>; rel="next"'
            entries = entries[start : start + self.page_size]
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        return Answer(status=200, headers=headers, body=json.dumps(index).encode())


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@contextmanager
def served_image(tmp_path: Path, *, api: bool = True) -> Iterator[tuple[OciRegistry, Pushed]]:
    store = OciRegistry(api=api)
    with serve(store) as server:
        yield store, pushed(server.address, tmp_path, "api")


def test_the_referrers_api_is_used_where_the_registry_has_it(tmp_path: Path) -> None:
    with served_image(tmp_path) as (store, image):
        sbom = attach(image.ref, image.sbom)
        provenance = attach(image.ref, image.provenance)
        assert (sbom.via_api, provenance.via_api) == (True, True)
        assert referrers_tag(image.digest) not in store.tags  # the registry keeps the list
        listed = list_referrers(image.ref)
        assert listed.via_api
        assert sorted(m.digest for m in listed.entries) == sorted([sbom.digest, provenance.digest])
        artifact = json.loads(store.manifests[sbom.digest])
        assert artifact["artifactType"] == "application/vnd.cyclonedx+json"
        assert artifact["config"] == {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2,
        }
        assert artifact["subject"]["digest"] == image.digest
        found = fetch_document(image.ref, CYCLONEDX, tmp_path / "got.json")
        assert found.digest == sbom.digest
        assert (tmp_path / "got.json").read_bytes() == image.sbom.read_bytes()


def test_every_page_of_the_referrers_api_is_read(tmp_path: Path) -> None:
    with served_image(tmp_path) as (store, image):
        store.page_size = 1
        sbom = attach(image.ref, image.sbom)
        provenance = attach(image.ref, image.provenance)
        listed = list_referrers(image.ref)
        assert sorted(m.digest for m in listed.entries) == sorted([sbom.digest, provenance.digest])
        pages = [path for path in store.paths if "/referrers/" in path]
        assert pages[-2:] == [
            f"/v2/imagekit-test/referrers-api/referrers/{image.digest}",
            f"/v2/imagekit-test/referrers-api/referrers/{image.digest}?page=1",
        ]


def test_without_the_api_the_tag_is_kept_on_the_same_server(tmp_path: Path) -> None:
    with served_image(tmp_path, api=False) as (store, image):
        attached = attach(image.ref, image.sbom)
        assert not attached.via_api
        index = json.loads(store.manifests[store.tags[referrers_tag(image.digest)]])
        assert [m["digest"] for m in index["manifests"]] == [attached.digest]


def refused(image: Pushed, tmp_path: Path) -> str:
    """What `sbom --from-registry` prints when it refuses: exit 2, one line, nothing written."""
    output = tmp_path / "refused.json"
    result = CliRunner().invoke(app, ["sbom", "--from-registry", image.ref, "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert not output.exists()
    return result.stderr


def test_a_huge_referrers_answer_is_refused(tmp_path: Path) -> None:
    with served_image(tmp_path) as (store, image):
        store.referrers = Answer(
            status=200, headers={"Content-Type": OCI_INDEX}, body=b" " * (5 << 20)
        )
        assert refused(image, tmp_path) == (
            f"error: {image.ref}: GET http://{image.ref.partition('/')[0]}/v2/imagekit-test/"
            f"referrers-api/referrers/{image.digest} answered more than 4194304 bytes\n"
        )


def test_a_referrers_answer_of_another_media_type_is_refused(tmp_path: Path) -> None:
    with served_image(tmp_path) as (store, image):
        body = store.manifests[image.digest]  # the image's own manifest, not an index
        store.referrers = Answer(status=200, headers={"Content-Type": OCI_MANIFEST}, body=body)
        assert refused(image, tmp_path) == (
            f"error: {image.ref}: the referrers of {image.digest}: holds {OCI_MANIFEST}, not an "
            "OCI image index of referrers; refused (delete that tag, or attach to another "
            "image)\n"
        )


def test_an_artifact_that_does_not_match_its_digest_is_refused(tmp_path: Path) -> None:
    with served_image(tmp_path) as (store, image):
        attached = attach(image.ref, image.sbom)
        store.served[attached.digest] = store.manifests[attached.digest].replace(b"}", b" }", 1)
        stderr = refused(image, tmp_path)
        assert stderr.startswith(f"error: {image.ref}: refused manifest {attached.digest}: ")


def test_an_artifact_about_another_image_is_refused(tmp_path: Path) -> None:
    with served_image(tmp_path) as (store, image):
        attached = attach(image.ref, image.sbom)
        artifact = json.loads(store.manifests[attached.digest])
        artifact["subject"]["digest"] = _sha256(b"another image")
        forged = json.dumps(artifact).encode()
        store.manifests[_sha256(forged)] = forged
        listed = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": _sha256(forged),
                    "size": len(forged),
                    "artifactType": "application/vnd.cyclonedx+json",
                }
            ],
        }
        store.referrers = Answer(
            status=200, headers={"Content-Type": OCI_INDEX}, body=json.dumps(listed).encode()
        )
        assert refused(image, tmp_path) == (
            f"error: artifact {_sha256(forged)}: its subject is {_sha256(b'another image')}, "
            f"not the image {image.digest}; refused\n"
        )


# --- end to end: a build's own documents --------------------------------------------------

TINY_SPEC = """\
name = "tiny"
version = "1.0.0"
description = "One small wheel."
base = "debian-bookworm-py311"
lockfile = "requirements.lock"
platform = "linux/amd64"
entrypoint = ["python", "/app/src/main.py"]
cmd = []
workdir = "/app"
ports = []

[app]
include = ["src/**"]
"""
SIX = "six==1.17.0 --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"


@pytest.mark.network
@pytest.mark.slow
def test_a_built_image_goes_up_with_its_sbom_and_provenance(
    registry: str, tmp_path: Path, debian_catalog_base: BaseImage
) -> None:
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    ensure_base(debian_catalog_base, cache_root=default_cache_root(), log=print)
    project = tmp_path / "tiny"
    (project / "src").mkdir(parents=True)
    (project / "imagekit.toml").write_text(TINY_SPEC)
    (project / "requirements.lock").write_text(SIX + "\n")
    (project / "src" / "main.py").write_text("import six\nprint(six.__version__)\n")
    outcome = build_project(project, progress=print, backend=BackendKind.OCI, tag="tiny:1")
    assert outcome.provenance is not None and outcome.sbom is not None
    ref = f"{registry}/imagekit-test/referrers-built:1"

    result = CliRunner().invoke(app, ["push", str(project / ".imagekit" / "oci"), ref])
    assert result.exit_code == 0, result.output
    listed = list_referrers(ref)
    assert listed.subject == outcome.result.image_id
    kinds = {m.artifact_type for m in listed.entries}
    assert kinds == {"application/vnd.in-toto+json", "application/vnd.cyclonedx+json"}
    got = tmp_path / "got.cdx.json"
    found = CliRunner().invoke(app, ["sbom", "--from-registry", ref, "-o", str(got)])
    assert found.exit_code == 0, found.output
    assert got.read_bytes() == outcome.sbom.read_bytes()
    statement = json.loads(outcome.provenance.read_text())
    assert statement["subject"][0]["digest"] == {"sha256": listed.subject.removeprefix("sha256:")}
    names = [d["name"] for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]]
    assert "six-1.17.0-py2.py3-none-any.whl" in names


def test_referrers_pages_without_end_are_refused(tmp_path: Path) -> None:
    with served_image(tmp_path) as (store, image):
        empty = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        link = f'</v2/imagekit-test/referrers-api/referrers/{image.digest}>; rel="next"'
        store.referrers = Answer(
            status=200,
            headers={"Content-Type": OCI_INDEX, "Link": link},
            body=json.dumps(empty).encode(),
        )
        assert refused(image, tmp_path) == (
            f"error: {image.ref}: the referrers of {image.digest} run past 20 pages; refused\n"
        )
