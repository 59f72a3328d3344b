"""Model artifacts and data the stored BuildPlan recorded, checked against the image's bytes.

Every imagekit image carries its plan at `PLAN_PATH_IN_IMAGE`. Each artifact's file is looked up
at its `dest` in the final view (symlinks followed inside the image) and its sha256, computed
while the layer streamed past, is compared with the one the plan recorded.
"""

from __future__ import annotations

from typing import Any

from imagekit.inventory.layers import Kept, View
from imagekit.inventory.model import DataSource, ModelArtifact
from imagekit.limits import MAX_JSON_DOCUMENT

# imagekit.plan.model.PLAN_PATH_IN_IMAGE, restated: importing imagekit.plan.model here would be
# circular (plan -> checks -> spec -> verify -> diff -> inventory); a test keeps the two equal.
PLAN_PATH_IN_IMAGE = "/usr/share/imagekit/plan.json"
PLAN = PLAN_PATH_IN_IMAGE.lstrip("/")


def wanted(path: str) -> bool | Kept:
    return Kept(limit=MAX_JSON_DOCUMENT) if path == PLAN else False


def read_plan(view: View) -> dict[str, Any] | None:
    """The BuildPlan JSON stored in the image; None (with a warning if unreadable) otherwise."""
    return view.json_object(view.read(PLAN), PLAN_PATH_IN_IMAGE, "the plan is ignored")


def _items(plan: dict[str, Any], key: str, view: View) -> list[dict[str, Any]]:
    items = plan.get(key) or []
    good = [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []
    if not isinstance(items, list) or len(good) != len(items):
        view.warn(f"{PLAN_PATH_IN_IMAGE}: {key} is not a list of objects; bad entries ignored")
    return good


def _text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return str(value) if value is not None else None


def read_artifacts(view: View, plan: dict[str, Any] | None) -> tuple[ModelArtifact, ...]:
    """Each recorded artifact, re-hashed from the image (actual None: the file is missing)."""
    found = []
    for i, item in enumerate(_items(plan or {}, "artifacts", view)):
        dest, recorded = _text(item, "dest"), _text(item, "sha256")
        if not dest or not recorded:
            view.warn(f"{PLAN_PATH_IN_IMAGE}: artifacts[{i}] has no dest or sha256; ignored")
            continue
        entry = view.file(dest)
        card = item.get("card")
        found.append(
            ModelArtifact(
                name=_text(item, "name") or dest,
                path=dest,
                recorded_sha256=recorded,
                actual_sha256=entry.sha256 if entry is not None else None,
                size=entry.size if entry is not None else None,
                card={str(k): str(v) for k, v in sorted(card.items())}
                if isinstance(card, dict)
                else {},
            )
        )
    return tuple(sorted(found, key=lambda a: a.path))


def read_data(view: View, plan: dict[str, Any] | None) -> tuple[DataSource, ...]:
    """The datasets and upstream sources the plan recorded."""
    found = []
    for kind, key in (("dataset", "datasets"), ("source", "sources")):
        for item in _items(plan or {}, key, view):
            found.append(
                DataSource(
                    kind=kind,
                    name=_text(item, "name") or "",
                    uri=_text(item, "uri") or "",
                    version=_text(item, "version") or "",
                    sha256=_text(item, "sha256"),
                    schema_hash=_text(item, "schema_hash"),
                    revision=_text(item, "revision"),
                )
            )
    return tuple(sorted(found, key=lambda d: (d.kind, d.name, d.version)))
