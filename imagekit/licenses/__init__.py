"""Licence policy: judge every package, model and dataset in an image (or an SBOM) against the
platform team's allow / review / deny lists and the exceptions they granted."""

from __future__ import annotations

from imagekit.licenses.components import (
    LicensedComponent,
    components_from_inventory,
    components_of_view,
    read_sbom,
)
from imagekit.licenses.evaluate import Decision, LicenseReport, component_of_metadata, evaluate
from imagekit.licenses.policy import LicensePolicy, PolicyError, Rule, Verdict, Waiver

__all__ = [
    "Decision",
    "LicensePolicy",
    "LicenseReport",
    "LicensedComponent",
    "PolicyError",
    "Rule",
    "Verdict",
    "Waiver",
    "component_of_metadata",
    "components_from_inventory",
    "components_of_view",
    "evaluate",
    "read_sbom",
]
