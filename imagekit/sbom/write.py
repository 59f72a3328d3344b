"""The one path every SBOM format takes: make, serialise, validate, then write atomically.

Nothing is written unless the whole document passed its format's schema, and a file is never
left half-written (a temporary file beside it is renamed over it).
"""

from __future__ import annotations

from pathlib import Path

from imagekit.fsio import write_text
from imagekit.inventory.model import Inventory
from imagekit.sbom.formats import writer
from imagekit.sbom.interface import Memo, SbomError, SbomFormat, SpecVersion


def render_sbom(
    inventory: Inventory,
    *,
    fmt: SbomFormat = SbomFormat.CYCLONEDX_JSON,
    spec: SpecVersion = SpecVersion.V1_6,
    reproducible: bool = False,
    memo: Memo | None = None,
) -> str:
    """The validated SBOM text of an Inventory in `fmt`; raises `SbomError`. `memo`: what
    passed the schema before (a build's rebuild), not checked again."""
    chosen = writer(fmt)
    text = chosen.serialise(inventory, spec=spec, reproducible=reproducible)
    chosen.validate(text, spec=spec, subject=inventory.image.reference, memo=memo)
    return text


def write_text_atomically(path: Path, text: str) -> Path:
    """Write `text` atomically (`fsio`), with the mode a plainly written file would get (0644
    under umask 022); raises `SbomError`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, text)
    except OSError as e:
        raise SbomError(f"{path}: cannot write the SBOM: {e.strerror} (check the path)") from e
    return path


def write_sbom(
    inventory: Inventory,
    path: Path,
    *,
    fmt: SbomFormat = SbomFormat.CYCLONEDX_JSON,
    spec: SpecVersion = SpecVersion.V1_6,
    reproducible: bool = False,
    memo: Memo | None = None,
) -> Path:
    """Render, validate, then write atomically; on any error nothing is written."""
    text = render_sbom(inventory, fmt=fmt, spec=spec, reproducible=reproducible, memo=memo)
    return write_text_atomically(path, text)
