"""The components whose licences a policy judges, from the package view of an image or of a
CycloneDX JSON SBOM (`imagekit.inventory.packages`).

An image and the SBOM written from it give the same view, so they get the same answer. Not
judged: the operating system, device drivers
(on the host, not in the image), files and platforms, and components another one provides
(`imagekit:provided-by`: judged through their provider).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.inventory.cyclonedx import read_cyclonedx
from imagekit.inventory.licences import NOASSERTION
from imagekit.inventory.model import Inventory
from imagekit.inventory.packages import PROVIDED_BY, PackageEntry, PackageView, view_of_inventory

_NOT_AN_ID = re.compile(r"\s|^LicenseRef-")
NOT_JUDGED = frozenset({"operating-system", "device-driver", "file", "platform", "container"})


@dataclass(frozen=True, slots=True, kw_only=True)
class LicensedComponent:
    """A package, model or dataset and the licences it declares."""

    name: str
    version: str | None
    kind: str  # the purl type (deb, pypi, ...), else the CycloneDX component type
    expressions: tuple[str, ...]  # canonical SPDX expressions
    names: tuple[str, ...]  # licences that are not SPDX, as written
    purl: str | None = None

    @property
    def licence(self) -> str:
        """All its licences as one text, for display."""
        found = [*self.expressions, *self.names]
        if len(found) > 1:
            found = [f"({x})" if " " in x else x for x in found]
        return " AND ".join(found) or NOASSERTION

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "purl": self.purl,
            "expressions": list(self.expressions),
            "names": list(self.names),
        }


def _id_first(expression: str) -> tuple[bool, str]:
    """Single SPDX ids (sorted), then compound expressions and LicenseRefs: the order an SBOM
    lists them in, so an image and its SBOM read the same."""
    return (bool(_NOT_AN_ID.search(expression)), expression)


def _judged(entry: PackageEntry) -> bool:
    return entry.type not in NOT_JUDGED and PROVIDED_BY not in entry.properties


def components_of_view(view: PackageView) -> tuple[LicensedComponent, ...]:
    """The judged components of a package view (an image's, or an SBOM read back)."""
    return tuple(
        LicensedComponent(
            name=entry.name,
            version=entry.version,
            kind=entry.purl_type or entry.type,
            expressions=tuple(sorted(entry.licence.expressions, key=_id_first)),
            names=tuple(sorted(entry.licence.names)),
            purl=entry.purl,
        )
        for entry in view.entries
        if _judged(entry)
    )


def read_sbom(path: Path) -> tuple[LicensedComponent, ...]:
    """The judged components of a CycloneDX JSON file; raises `InputError`."""
    return components_of_view(read_cyclonedx(path))


def components_from_inventory(inventory: Inventory) -> tuple[LicensedComponent, ...]:
    """The judged components of an image: the same ones its SBOM lists, read from its
    Inventory directly."""
    return components_of_view(view_of_inventory(inventory))
