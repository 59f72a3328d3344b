"""What a wheel says it requires: the Requires-Dist lines of its METADATA, read from the zip
without installing anything."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename

from imagekit.errors import InputError

_METADATA = re.compile(r"^(?P<dir>[^/]+)\.dist-info/METADATA$")
_MAX_METADATA = 8 << 20  # no honest METADATA is larger; a bigger one is not read


class MetadataError(InputError):
    """A wheel's METADATA cannot be read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelMetadata:
    """The requirements one wheel declares."""

    name: NormalizedName
    version: str
    requires: tuple[Requirement, ...]
    wheel: Path


def read_wheel_metadata(wheel: Path) -> WheelMetadata:
    """The Requires-Dist of a wheel's `*.dist-info/METADATA`.

    Raises `MetadataError` for a file that is not a wheel, a wheel without exactly one
    METADATA of its own name, or a Requires-Dist that is not a PEP 508 requirement.
    """
    name, version, _, _ = parse_wheel_filename(wheel.name)
    try:
        with zipfile.ZipFile(wheel) as archive:
            member = _metadata_member(archive, name, wheel)
            if archive.getinfo(member).file_size > _MAX_METADATA:
                raise MetadataError(wheel, f"{member} is larger than 8 MiB", "rebuild the wheel")
            data = archive.read(member)
    except (zipfile.BadZipFile, OSError) as e:
        raise MetadataError(wheel, f"not a readable wheel: {e}", "delete it from the cache") from e
    headers = BytesHeaderParser().parsebytes(data)
    requires = []
    for text in headers.get_all("Requires-Dist") or ():
        try:
            requires.append(Requirement(str(text)))
        except InvalidRequirement as e:
            raise MetadataError(
                wheel, f"Requires-Dist {text!r} is not a PEP 508 requirement: {e}"
            ) from e
    return WheelMetadata(name=name, version=str(version), requires=tuple(requires), wheel=wheel)


def _metadata_member(archive: zipfile.ZipFile, name: NormalizedName, wheel: Path) -> str:
    """The METADATA of the wheel's own distribution (a wheel may vendor other dist-infos)."""
    found = [
        n
        for n in archive.namelist()
        if (m := _METADATA.match(n)) and canonicalize_name(m["dir"].rsplit("-", 1)[0]) == name
    ]
    if len(found) != 1:
        raise MetadataError(
            wheel,
            f"{len(found)} {name}-*.dist-info/METADATA files (expected one)",
            "rebuild the wheel",
        )
    return found[0]
