"""Model artifacts and data the stored BuildPlan recorded, checked against the image's bytes.

Every imagekit image carries its plan at `PLAN_PATH_IN_IMAGE`. Each artifact's file is looked up
at its `dest` in the final view (symlinks followed inside the image) and its sha256, computed
while the layer streamed past, is compared with the one the plan recorded.
"""

from __future__ import annotations

from imagekit.inventory.layers import Kept, View
from imagekit.inventory.model import DataSource, ModelArtifact
from imagekit.limits import MAX_JSON_DOCUMENT
from imagekit.plan.model import PLAN_PATH_IN_IMAGE
from imagekit.plan.stored import StoredPlan, read_stored_plan

PLAN = PLAN_PATH_IN_IMAGE.lstrip("/")


def wanted(path: str) -> bool | Kept:
    return Kept(limit=MAX_JSON_DOCUMENT) if path == PLAN else False


def read_plan(view: View) -> StoredPlan | None:
    """The BuildPlan stored in the image; None (with a warning if unreadable) otherwise."""
    document = view.json_object(view.read(PLAN), PLAN_PATH_IN_IMAGE, "the plan is ignored")
    return read_stored_plan(document) if document is not None else None


def read_artifacts(view: View, plan: StoredPlan | None) -> tuple[ModelArtifact, ...]:
    """Each recorded artifact, re-hashed from the image (actual None: the file is missing).
    The plan's entries of the wrong shape are reported here, after the packages' findings."""
    for warning in plan.warnings if plan else ():
        view.warn(warning)
    found = []
    for artifact in plan.artifacts if plan else ():
        entry = view.file(artifact.dest)
        found.append(
            ModelArtifact(
                name=artifact.name,
                path=artifact.dest,
                recorded_sha256=artifact.sha256,
                actual_sha256=entry.sha256 if entry is not None else None,
                size=entry.size if entry is not None else None,
                card=dict(artifact.card),
            )
        )
    return tuple(sorted(found, key=lambda a: a.path))


def read_data(plan: StoredPlan | None) -> tuple[DataSource, ...]:
    """The datasets and upstream sources the plan recorded."""
    recorded = (("dataset", plan.datasets), ("source", plan.sources)) if plan else ()
    found = [
        DataSource(
            kind=kind,
            name=item.name,
            uri=item.uri,
            version=item.version,
            sha256=item.sha256,
            schema_hash=item.schema_hash,
            revision=item.revision,
        )
        for kind, items in recorded
        for item in items
    ]
    return tuple(sorted(found, key=lambda d: (d.kind, d.name, d.version)))
