"""Conflicts: within one lock (what each locked wheel requires against what is locked), and
across models (pairs of a deployment registry that must not run together).

The names are imported when first used: `imagekit check` reads wheel metadata through this
package on every run, and the deployment check's image readers would cost it a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


_MODULES = {
    "deploy": (
        "Conflict",
        "DeploymentReport",
        "ModelFacts",
        "check_deployment",
        "model_facts",
        "refuse_conflicting_deployment",
    ),
    "lockcheck": (
        "Edge",
        "LockConflicts",
        "Provider",
        "check_lock_conflicts",
        "check_project_lock",
        "installed",
        "requirement_edges",
        "wanted_extras",
    ),
    "metadata": ("MetadataError", "WheelMetadata", "read_wheel_metadata"),
    "registry": ("Group", "Incompatible", "RegisteredModel", "Registry", "Shares", "load_registry"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
