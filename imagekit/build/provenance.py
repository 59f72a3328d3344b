"""SLSA v1 provenance of a build, as an in-toto Statement v1 written beside the image.

Field names follow in-toto's Statement v1 (`_type`, `subject`, `predicateType`, `predicate`)
and SLSA Build Provenance v1 (https://slsa.dev/spec/v1.0/provenance: `buildDefinition` with
`buildType`, `externalParameters`, `internalParameters`, `resolvedDependencies`; `runDetails`
with `builder.id`, `metadata` and `byproducts`), each dependency an in-toto ResourceDescriptor
(`uri`, `name`, `digest`, `mediaType`).

It says what went in (the plan's inputs, the base image by digest, the lock file and every
wheel installed, by sha256), who built it (imagekit, its version and backend) and what came
out beside the image (the SBOM, by sha256). Only what the plan and the build already hold is
written: no host path, user name, environment or credential, so it can be published with the
image. The subject is the image id: the manifest digest of an OCI layout, Docker's image id
(the config digest) for a daemon image.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit import __version__
from imagekit.build.wheelhouse import FetchedWheel
from imagekit.fsio import write_json
from imagekit.image.digest import sha256_file
from imagekit.limits import load_json
from imagekit.plan.model import BuildPlan, LayerKind

PROVENANCE_NAME = "provenance.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://imagekit.dev/provenance/build/v1"
BUILDER_ID = "https://imagekit.dev/builder"  # + "/<backend>"
CYCLONEDX_JSON = "application/vnd.cyclonedx+json"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildRun:
    """What the provenance says of one build besides its plan: engine, image, times."""

    backend: str
    image: str  # the tag it was built as
    image_id: str  # sha256:...
    started: datetime.datetime
    finished: datetime.datetime


def statement(
    plan: BuildPlan, run: BuildRun, wheels: Iterable[FetchedWheel], sbom: Path | None
) -> dict[str, Any]:
    """The in-toto statement of `run`: SLSA v1 provenance of the image it built."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": run.image, "digest": _digest(run.image_id)}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external_parameters(plan, run.backend),
                "internalParameters": {"plan_sha256": plan.sha256},
                "resolvedDependencies": resolved_dependencies(plan, wheels),
            },
            "runDetails": {
                "builder": {
                    "id": f"{BUILDER_ID}/{run.backend}",
                    "version": {"imagekit": __version__},
                },
                "metadata": {"startedOn": _time(run.started), "finishedOn": _time(run.finished)},
                "byproducts": [_sbom(sbom)] if sbom else [],
            },
        },
    }


def external_parameters(plan: BuildPlan, backend: str) -> dict[str, Any]:
    """What the user chose: the model, its platform and base, its lock and artifacts."""
    return {
        "name": plan.name,
        "version": plan.version,
        "platform": plan.platform,
        "backend": backend,
        "base": {"name": plan.base.name, "recipe_sha256": plan.base.recipe_sha256},
        "lock": {"file": plan.lock_file, "format": plan.lock_format},
        "artifacts": [{"name": a.name, "dest": a.dest} for a in plan.artifacts],
    }


def resolved_dependencies(plan: BuildPlan, wheels: Iterable[FetchedWheel]) -> list[dict[str, Any]]:
    """Everything the image was made from, by digest: base, lock, wheels, model and app files."""
    deps: list[dict[str, Any]] = []
    if plan.base.digest and plan.base.digest.startswith("sha256:"):
        deps.append(
            {"uri": plan.base.reference, "name": "base", "digest": _digest(plan.base.digest)}
        )
    deps.append({"name": plan.lock_file, "digest": {"sha256": plan.lock_sha256}})
    for wheel in sorted(wheels, key=lambda w: (w.name, w.filename)):
        deps.append(
            {
                "uri": f"pkg:pypi/{wheel.name}@{wheel.version}",
                "name": wheel.filename,
                "digest": {"sha256": wheel.sha256},
            }
        )
    for layer in plan.layers:
        if layer.kind in {LayerKind.ARTIFACTS, LayerKind.APP}:
            deps.extend({"name": f.dest, "digest": {"sha256": f.sha256}} for f in layer.files)
    return deps


def write_provenance(
    plan: BuildPlan,
    run: BuildRun,
    wheels: Iterable[FetchedWheel],
    out_dir: Path,
    *,
    sbom: Path | None = None,
) -> Path:
    """Write the statement to `<out_dir>/provenance.json` atomically; returns its path."""
    return write_json(out_dir / PROVENANCE_NAME, statement(plan, run, wheels, sbom))


def _digest(value: str) -> dict[str, str]:
    algorithm, _, encoded = value.partition(":")
    return {algorithm: encoded}


def _time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sbom(path: Path) -> dict[str, Any]:
    return {"name": path.name, "digest": {"sha256": sha256_file(path)}, "mediaType": CYCLONEDX_JSON}


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildDocuments:
    """The provenance and SBOM a build wrote beside an image's layout, when they are its own."""

    documents: tuple[Path, ...]  # provenance first, then the SBOM it lists
    skipped: str = ""  # why documents there were left out; empty when none were


def documents_beside(layout: Path, image_digest: str) -> BuildDocuments:
    """The build's documents for the image `image_digest`, found beside its OCI layout
    (`<out>/oci` has `<out>/provenance.json` and the SBOM named in its byproducts).

    A provenance about another image, or an SBOM whose sha256 is not the one the provenance
    lists (a later build overwrote it), is left out and `skipped` says why: attaching it would
    describe the wrong image. Raises `InputError` for a provenance file that is not JSON.
    """
    path = layout.parent / PROVENANCE_NAME
    if not path.is_file():
        return BuildDocuments(documents=())
    document = load_json(path.read_bytes(), path)
    predicate = document.get("predicate") if isinstance(document, dict) else None
    subjects = [s.get("digest") for s in _items(document, "subject")]
    if _digest(image_digest) not in subjects or not isinstance(predicate, dict):
        return BuildDocuments(
            documents=(), skipped=f"{path} is the provenance of another image, not {image_digest}"
        )
    documents = [path]
    for byproduct in _items(predicate.get("runDetails"), "byproducts"):
        name = str(byproduct.get("name"))
        sbom = layout.parent / name
        if byproduct.get("mediaType") != CYCLONEDX_JSON or Path(name).name != name:
            continue  # only a file in that folder, never one a path leads elsewhere to
        if not sbom.is_file():
            continue
        if {"sha256": sha256_file(sbom)} != byproduct.get("digest"):
            return BuildDocuments(
                documents=tuple(documents),
                skipped=f"{sbom} changed after the build of {image_digest}",
            )
        documents.append(sbom)
    return BuildDocuments(documents=tuple(documents))


def _items(value: object, key: str) -> list[dict[str, Any]]:
    items = value.get(key) if isinstance(value, dict) else None
    return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []
