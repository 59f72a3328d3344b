"""What a wheel says of itself: the Requires-Dist and licence fields of its METADATA, read from
the zip without installing anything, or from the index's PEP 658 metadata file (the same bytes)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from imagekit.errors import InputError
from imagekit.limits import shown

_METADATA = re.compile(r"^(?P<dir>[^/]+)\.dist-info/METADATA$")
_FIELD = re.compile(r"([!-9;-~]+):[ \t]*(.*)")  # RFC 5322 2.2: a name of printable ASCII but ":"
_MAX_METADATA = 8 << 20  # no honest METADATA is larger; a bigger one is not read
_MAX_LICENSE_LINE = 200


class MetadataError(InputError):
    """A wheel's METADATA cannot be read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WheelMetadata:
    """The requirements and licences one wheel declares."""

    name: NormalizedName
    version: str
    requires: tuple[Requirement, ...]
    wheel: Path  # the wheel, or the cached metadata file it was read from
    license_expression: str | None = None  # PEP 639 License-Expression, as written
    license_texts: tuple[str, ...] = ()  # the License field, then licence classifiers


def read_wheel_metadata(wheel: Path) -> WheelMetadata:
    """The Requires-Dist and licence fields of a wheel's `*.dist-info/METADATA`.

    Raises `MetadataError` for a file that is not a wheel, a wheel without exactly one
    METADATA of its own name, or a Requires-Dist that is not a PEP 508 requirement.
    """
    name, version, _, _ = parse_wheel_filename(wheel.name)
    return parse_metadata(read_member(wheel), wheel, name=name, version=str(version))


def read_member(wheel: Path) -> bytes:
    """The bytes of a wheel's own `*.dist-info/METADATA`; raises `MetadataError`."""
    name, _, _, _ = parse_wheel_filename(wheel.name)
    try:
        with zipfile.ZipFile(wheel) as archive:
            member = _metadata_member(archive, name, wheel)
            if archive.getinfo(member).file_size > _MAX_METADATA:
                raise MetadataError(wheel, f"{member} is larger than 8 MiB", "rebuild the wheel")
            return archive.read(member)
    except (zipfile.BadZipFile, OSError) as e:
        raise MetadataError(wheel, f"not a readable wheel: {e}", "delete it from the cache") from e


def parse_metadata(
    data: bytes, source: Path, *, name: NormalizedName, version: str
) -> WheelMetadata:
    """The fields of METADATA bytes that `source` (a wheel or a metadata file) holds for
    `name` `version`.

    Raises `MetadataError` for a file larger than any honest METADATA, one whose Name or
    Version is not the wheel's, or a Requires-Dist that is not a PEP 508 requirement.
    """
    if len(data) > _MAX_METADATA:
        raise MetadataError(source, "METADATA is larger than 8 MiB", "rebuild the wheel")
    headers = _headers(data)
    said = (_first(headers, "name"), _first(headers, "version"))
    if canonicalize_name(said[0]) != name or not _same_version(said[1], version):
        raise MetadataError(
            source,
            f"METADATA names {shown(said[0])} {shown(said[1])}, not {name} {version}",
            "delete it from the cache; if it comes from the index, the index is wrong",
        )
    requires = []
    for text in headers.get("requires-dist", ()):
        try:
            requires.append(Requirement(str(text)))
        except InvalidRequirement as e:
            raise MetadataError(
                source, f"Requires-Dist {shown(text)} is not a PEP 508 requirement: {e}"
            ) from e
    expression = _first(headers, "license-expression").strip() or None
    texts = [_first_line(_first(headers, "license"))]
    texts += [
        c.strip() for c in headers.get("classifier", ()) if c.strip().startswith("License ::")
    ]
    return WheelMetadata(
        name=name,
        version=version,
        requires=tuple(requires),
        wheel=source,
        license_expression=expression,
        license_texts=tuple(dict.fromkeys(t for t in texts if t)),
    )


def _headers(data: bytes) -> dict[str, list[str]]:
    """METADATA's header fields (core metadata is RFC 822 headers), by lower-case name, each
    value as written with its continuation lines. They end at the first empty line, or at a
    line that is neither a field nor a continuation, as `email.parser` ends them; the body after
    (the long description, tens of kilobytes) is not walked. Read here rather than with
    `email.parser`, whose import is a tenth of `imagekit check`'s start-up."""
    fields: dict[str, list[str]] = {}
    last: tuple[str, int] | None = None
    for raw in data.decode("utf-8", "replace").split("\n"):
        line = raw.removesuffix("\r")
        if line[:1] in (" ", "\t") and last is not None:
            name, i = last
            fields[name][i] += "\n" + line
            continue
        match = _FIELD.fullmatch(line)
        if match is None:
            break
        name = match.group(1).lower()
        values = fields.setdefault(name, [])
        values.append(match.group(2))
        last = (name, len(values) - 1)
    return fields


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _same_version(said: str, version: str) -> bool:
    try:
        return Version(said.strip()) == Version(version)
    except InvalidVersion:
        return False


def _first_line(text: str) -> str:
    """A License field's first non-empty line (some hold the whole licence text)."""
    return next((x.strip() for x in text.splitlines() if x.strip()), "")[:_MAX_LICENSE_LINE]


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
