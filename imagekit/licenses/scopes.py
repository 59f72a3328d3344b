"""Two policies, two owners: the base image's Debian packages are judged by the platform team's
base policy (kept with the catalog: base_images/policy/licenses.toml), everything else (the
model's Python packages, models, datasets) by the project's policy.

A model's own `[system]` apt packages are Debian packages from the base's archive and are judged
with the base's. Without a base policy, the project's policy judges everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from imagekit.licenses.components import LicensedComponent
from imagekit.licenses.evaluate import LicenseReport, evaluate
from imagekit.licenses.policy import LicensePolicy
from imagekit.resources import base_images_dir

BASE_POLICY = Path("policy") / "licenses.toml"  # inside the base image catalog
BASE_KINDS = frozenset({"deb"})  # purl types of what the base image's distribution ships


def base_policy_path(catalog: Path | None = None) -> Path | None:
    """The catalog's base policy file, or None when the catalog has none."""
    path = (catalog or base_images_dir()) / BASE_POLICY
    return path if path.is_file() else None


def evaluate_scoped(
    components: Iterable[LicensedComponent],
    policy: LicensePolicy,
    base_policy: LicensePolicy | None,
) -> LicenseReport:
    """Judge base packages by `base_policy` and the rest by `policy`, in one report."""
    every = list(components)
    if base_policy is None:
        return evaluate(every, policy)
    base = evaluate([c for c in every if c.kind in BASE_KINDS], base_policy)
    model = evaluate([c for c in every if c.kind not in BASE_KINDS], policy)
    decisions = sorted(
        base.decisions + model.decisions,
        key=lambda d: (
            -d.verdict.rank,
            d.component.kind,
            d.component.name,
            d.component.version or "",
        ),
    )
    return LicenseReport(decisions=tuple(decisions))
