"""Conflicts: within one lock (what each locked wheel requires against what is locked), and
across models (pairs of a deployment registry that must not run together)."""

from __future__ import annotations

from imagekit.conflicts.deploy import (
    Conflict,
    DeploymentReport,
    ModelFacts,
    check_deployment,
    model_facts,
    refuse_conflicting_deployment,
)
from imagekit.conflicts.lockcheck import (
    Edge,
    LockConflicts,
    Provider,
    check_lock_conflicts,
    check_project_lock,
    installed,
    requirement_edges,
    wanted_extras,
)
from imagekit.conflicts.metadata import MetadataError, WheelMetadata, read_wheel_metadata
from imagekit.conflicts.registry import (
    Group,
    Incompatible,
    RegisteredModel,
    Registry,
    Shares,
    load_registry,
)

__all__ = [
    "Conflict",
    "DeploymentReport",
    "Edge",
    "Group",
    "Incompatible",
    "LockConflicts",
    "MetadataError",
    "ModelFacts",
    "Provider",
    "RegisteredModel",
    "Registry",
    "Shares",
    "WheelMetadata",
    "check_deployment",
    "check_lock_conflicts",
    "check_project_lock",
    "installed",
    "load_registry",
    "model_facts",
    "read_wheel_metadata",
    "refuse_conflicting_deployment",
    "requirement_edges",
    "wanted_extras",
]
