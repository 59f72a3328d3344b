"""The one path every SBOM format takes: make, serialise, validate, then write atomically.

Nothing is written unless the whole document passed its format's schema, and a file is never
left half-written (a temporary file beside it is renamed over it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from imagekit.inventory.model import Inventory
from imagekit.sbom.formats import writer
from imagekit.sbom.interface import SbomError, SbomFormat, SpecVersion


def render_sbom(
    inventory: Inventory,
    *,
    fmt: SbomFormat = SbomFormat.CYCLONEDX_JSON,
    spec: SpecVersion = SpecVersion.V1_6,
    reproducible: bool = False,
) -> str:
    """The validated SBOM text of an Inventory in `fmt`; raises `SbomError`."""
    chosen = writer(fmt)
    text = chosen.serialise(inventory, spec=spec, reproducible=reproducible)
    chosen.validate(text, spec=spec, subject=inventory.image.reference)
    return text


def _file_mode() -> int:
    """The mode `open()` gives a new file (0666 less the umask: 0644 under the usual 022), which
    build.json and plan.json get; mkstemp's 0600 would hide an SBOM from the rest of a CI job.
    The umask is read from /proc, as os.umask can only be read by changing it."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def write_text_atomically(path: Path, text: str) -> Path:
    """Write `text` to a temporary file beside `path`, then rename it over `path`; the file
    gets the mode a plainly written file would (0644 under umask 022)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, _file_mode())
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
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
) -> Path:
    """Render, validate, then write atomically; on any error nothing is written."""
    text = render_sbom(inventory, fmt=fmt, spec=spec, reproducible=reproducible)
    return write_text_atomically(path, text)
