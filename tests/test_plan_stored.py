"""The plan an image carries, read back leniently into typed fields for the reports."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _projects import EXAMPLE, TORCH

from imagekit.plan.model import PLAN_PATH_IN_IMAGE, PlannedArtifact
from imagekit.plan.prepare import prepare
from imagekit.plan.stored import read_stored_plan
from imagekit.project.lockfile import PinnedPackage
from imagekit.project.spec import DataRef


def test_a_plan_imagekit_wrote_reads_back_whole() -> None:
    plan = prepare(EXAMPLE).plan
    document = json.loads(plan.to_json())
    stored = read_stored_plan(document)
    assert stored.warnings == ()
    assert stored.document == document
    assert (stored.artifacts, stored.datasets, stored.sources) == (
        plan.artifacts,
        plan.datasets,
        plan.sources,
    )
    assert (stored.critical, stored.optional) == (plan.critical, plan.optional)
    assert stored.python_version == plan.base.python_version
    planned = [
        (p.name, p.version, p.sha256) for layer in plan.python_layers for p in layer.packages
    ]
    assert [(p.name, p.version, p.sha256) for p in stored.packages] == planned


def test_the_cuda_of_a_gpu_plan() -> None:
    plan = prepare(TORCH).plan
    stored = read_stored_plan(json.loads(plan.to_json()))
    assert plan.cuda is not None
    assert (stored.cuda_version, stored.min_driver) == (plan.cuda.version, plan.cuda.min_driver)


@pytest.mark.parametrize(
    ("document", "warnings"),
    [
        ({}, ()),
        (
            {"artifacts": "model.bin", "datasets": [1, {"name": "d"}]},
            (
                f"{PLAN_PATH_IN_IMAGE}: artifacts is not a list of objects; bad entries ignored",
                f"{PLAN_PATH_IN_IMAGE}: datasets is not a list of objects; bad entries ignored",
            ),
        ),
        (
            {"artifacts": [{"name": "m", "dest": "/m"}]},
            (f"{PLAN_PATH_IN_IMAGE}: artifacts[0] has no dest or sha256; ignored",),
        ),
    ],
)
def test_entries_of_the_wrong_shape_are_dropped_with_a_warning(
    document: dict[str, Any], warnings: tuple[str, ...]
) -> None:
    stored = read_stored_plan(document)
    assert stored.warnings == warnings
    assert stored.artifacts == ()


def test_a_hostile_plan_gives_what_is_well_formed_and_nothing_else() -> None:
    stored = read_stored_plan(
        {
            "layers": [7, {"packages": [{"name": "numpy"}, {"name": "six", "version": "1.16.0"}]}],
            "base": "debian",
            "cuda": ["12.4"],
            "critical": "numpy",
            "artifacts": [{"dest": "/m", "sha256": "ab", "card": {"k": 1}}],
            "sources": [{"name": "s", "uri": "u", "version": 2}],
        }
    )
    assert [(p.pin, p.sha256) for p in stored.packages] == [("six==1.16.0", ())]
    assert (stored.python_version, stored.cuda_version, stored.critical) == (None, None, ())
    assert stored.artifacts == (
        PlannedArtifact(name="/m", path="", dest="/m", sha256="ab", card=(("k", "1"),)),
    )
    assert stored.sources == (DataRef(name="s", uri="u", version="2"),)


def test_a_checked_lock_entry_is_the_pinned_package_the_plan_installs() -> None:
    ready = prepare(EXAMPLE)
    planned = {p.name: p for layer in ready.plan.python_layers for p in layer.packages}
    for locked in ready.packages:
        assert planned[locked.name] == locked.pinned()
        assert PinnedPackage.from_dict(locked.pinned().to_dict()) == locked.pinned()
