"""Known vulnerabilities of an image or an SBOM, from OSV data (an export on disk, or the API).

`load_target` reads what to scan, `choose_sources` where advisories come from, `scan` matches
them (the OSV evaluation algorithm, PEP 440 and dpkg ordering, aliases merged) and applies the
ignore file; `imagekit.vulns.cyclonedx` writes the findings into a CycloneDX SBOM.
"""

from __future__ import annotations

from imagekit.vulns.ignore import AnalysisState, IgnoreRule, Justification, load_ignores
from imagekit.vulns.interface import (
    Component,
    IgnoreFileError,
    Package,
    SourceKind,
    SourceResult,
    VulnError,
    VulnSource,
    VulnSourceError,
)
from imagekit.vulns.match import Match, evaluate
from imagekit.vulns.osv import OsvFormatError, OsvRecord
from imagekit.vulns.scan import ScanReport, VulnFinding, scan
from imagekit.vulns.severity import Level, Rating
from imagekit.vulns.sources import choose_sources, make_source
from imagekit.vulns.targets import Target, from_cyclonedx, from_inventory, from_view, load_target

__all__ = [
    "AnalysisState",
    "Component",
    "IgnoreFileError",
    "IgnoreRule",
    "Justification",
    "Level",
    "Match",
    "OsvFormatError",
    "OsvRecord",
    "Package",
    "Rating",
    "ScanReport",
    "SourceKind",
    "SourceResult",
    "Target",
    "VulnError",
    "VulnFinding",
    "VulnSource",
    "VulnSourceError",
    "choose_sources",
    "evaluate",
    "from_cyclonedx",
    "from_inventory",
    "from_view",
    "load_ignores",
    "load_target",
    "make_source",
    "scan",
]
