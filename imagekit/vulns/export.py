"""OSV exports on disk: a directory of `*.json` records, or the `all.zip` osv.dev publishes per
ecosystem (https://osv-vulnerabilities.storage.googleapis.com/<ECOSYSTEM>/all.zip).

Only records that name a scanned package are parsed whole (an export holds tens of thousands);
a bad record among them is a warning naming its file. Zip members are read in memory, never
extracted; a member whose name is absolute or climbs out (`../x.json`, `/etc/x.json`,
`C:\\x.json`) is refused with a warning and never read.

A file or member larger than `MAX_RECORD_BYTES`, nested deeper than `MAX_JSON_DEPTH` or holding a
version longer than `MAX_VERSION_LENGTH` is not a real advisory: it is skipped with a warning
naming the file (and the record's id when it could be read). A skipped record is never silent:
the warning is printed with every report, and `imagekit scan --fail-on` fails on it, as it does
on a vulnerability of unknown severity, because the advisory it may hold was not evaluated.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from imagekit.errors import Finding, InputError, Location, Severity
from imagekit.limits import MAX_JSON_DOCUMENT, load_json, shown
from imagekit.vulns.interface import Package, SourceKind, SourceResult, VulnSource, VulnSourceError
from imagekit.vulns.match import package_key
from imagekit.vulns.osv import OsvFormatError, OsvRecord

# One bound for a record file in a directory and a zip member alike: a record is a few KB (the
# largest in osv.dev's PyPI export are tens of KB), so one this big is not a record.
MAX_RECORD_BYTES = MAX_JSON_DOCUMENT
_DRIVE = re.compile(r"^[A-Za-z]:")

RULE_RECORD = "osv-record"
RULE_ZIP_MEMBER = "osv-zip-member"
SKIPPED_RULES = frozenset({RULE_RECORD, RULE_ZIP_MEMBER})  # warnings that mean a record was skipped


def warning(file: Path, key: str | None, rule: str, message: str, fix: str) -> Finding:
    return Finding(
        location=Location(file=file, key=key),
        rule=rule,
        message=message,
        fix=fix,
        severity=Severity.WARNING,
    )


def unsafe_member_name(name: str) -> str | None:
    """Why a zip member name must not be used as a path, or None if it is a plain relative one."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        return "an absolute path"
    if ".." in PurePosixPath(posix).parts:
        return "a path that climbs out of the archive (..)"
    return None


def affected_keys(data: object) -> set[tuple[str, str]] | None:
    """(ecosystem, package key) of each affected package of a raw record, without parsing it
    whole; None when the record does not have OSV's shape (the full parse then says why)."""
    if not isinstance(data, dict) or not isinstance(data.get("affected", []), list):
        return None
    keys: set[tuple[str, str]] = set()
    for affected in data.get("affected", []):
        package = affected.get("package") if isinstance(affected, dict) else None
        if package is None:
            continue
        if not isinstance(package, dict):
            return None
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if not isinstance(ecosystem, str) or not isinstance(name, str):
            return None
        base = ecosystem.partition(":")[0]
        keys.add((base, package_key(base, name)))
    return keys


class _Reading:
    """One pass over the exports for some packages: the records that name one of them, and the
    warnings met on the way."""

    def __init__(self, wanted: set[tuple[str, str]]) -> None:
        self.wanted = wanted
        self.records: list[OsvRecord] = []
        self.warnings: list[Finding] = []

    def warn(self, file: Path, key: str | None, rule: str, message: str, fix: str) -> None:
        # A member name is the archive's text: escaped and cut like any echoed input.
        self.warnings.append(warning(file, None if key is None else shown(key), rule, message, fix))

    def invalid(self, path: Path, member: str | None, why: str, vuln_id: str | None = None) -> None:
        named = f"record {vuln_id} is " if vuln_id else ""
        self.warn(
            path,
            member,
            RULE_RECORD,
            f"{named}not a valid OSV record ({why}); skipped",
            "re-download the export, or remove the file",
        )

    def parse(self, path: Path, member: str | None, data: bytes) -> None:
        """Keep the record if it names a wanted package; a bad record is a warning. Only
        records that may matter are parsed whole: an export holds tens of thousands."""
        where = f"{path}:{member}" if member else str(path)
        try:
            raw = load_json(data, where, max_bytes=MAX_RECORD_BYTES)
        except InputError as e:
            self.invalid(path, member, e.message)
            return
        keys = affected_keys(raw)
        if keys is not None and not keys & self.wanted:
            return
        try:
            record = OsvRecord.from_dict(raw, origin=where)
        except OsvFormatError as e:
            self.invalid(path, member, str(e), record_id(raw))
            return
        self.records.append(record)


def record_id(raw: object) -> str | None:
    """The `id` of a raw record, when it has a plain one, to name it in a warning."""
    value = raw.get("id") if isinstance(raw, dict) else None
    return shown(value, 80) if isinstance(value, str) else None


class ExportSource(VulnSource):
    """The records of one or more exports on disk (directories, all.zip files, .json files)."""

    kind = SourceKind.EXPORT

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)

    def describe(self) -> str:
        return ", ".join(str(p) for p in self.paths)

    def fetch(self, packages: Sequence[Package]) -> SourceResult:
        wanted = {(p.ecosystem_base, package_key(p.ecosystem_base, p.name)) for p in packages}
        reading = _Reading(wanted)
        for path in self.paths:
            _read(path, reading)
        return SourceResult(records=tuple(reading.records), warnings=tuple(reading.warnings))


def _read(path: Path, reading: _Reading) -> None:
    if path.is_dir():
        _read_directory(path, reading)
    elif path.is_file() and zipfile.is_zipfile(path):
        _read_zip(path, reading)
    elif path.is_file() and path.suffix == ".json":
        _read_file(path, reading)
    elif not path.exists():
        raise VulnSourceError(
            f"{path}: OSV export not found (give a directory of *.json records or the "
            "all.zip osv.dev publishes per ecosystem)"
        )
    else:
        raise VulnSourceError(
            f"{path}: not an OSV export (expected a directory of *.json records, a .json "
            "record or a zip archive of them)"
        )


def _read_directory(root: Path, reading: _Reading) -> None:
    for path in sorted(root.rglob("*.json")):
        if path.is_file():  # FIFOs, devices and folders named *.json are not records
            _read_file(path, reading)


def _read_file(path: Path, reading: _Reading) -> None:
    """Parse one record file, read no further than `MAX_RECORD_BYTES` (a 3 GB sparse file costs
    one stat, not 3 GB of memory)."""
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            data = None
        else:
            with path.open("rb") as f:
                data = f.read(MAX_RECORD_BYTES + 1)  # the file may grow after the stat
    except OSError as e:
        reading.warn(path, None, RULE_RECORD, f"cannot read: {e.strerror}", "check the file")
        return
    if data is None or len(data) > MAX_RECORD_BYTES:
        reading.warn(
            path,
            None,
            RULE_RECORD,
            f"file is larger than {MAX_RECORD_BYTES} bytes, too large for an OSV record; skipped",
            "check the export; remove the file if it is not an advisory",
        )
        return
    reading.parse(path, None, data)


def _read_zip(path: Path, reading: _Reading) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise VulnSourceError(f"{path}: cannot open the zip: {e}") from e
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            data = _member(path, archive, info, reading)
            if data is not None:
                reading.parse(path, info.filename, data)


def _member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, reading: _Reading
) -> bytes | None:
    """A member's bytes, read in memory; None (with a warning) for one that must not be read."""
    name = info.filename
    unsafe = unsafe_member_name(name)
    if unsafe:
        reading.warn(
            path,
            name,
            RULE_ZIP_MEMBER,
            f"member name is {unsafe}; refused, not read",
            "use the all.zip published by osv.dev, or rebuild the archive with relative names",
        )
        return None
    if info.is_dir() or not name.endswith(".json"):
        return None
    if info.file_size > MAX_RECORD_BYTES:
        reading.warn(
            path,
            name,
            RULE_ZIP_MEMBER,
            f"member is {info.file_size} bytes, too large for an OSV record; skipped",
            "check the archive",
        )
        return None
    try:
        return archive.read(info)
    except (OSError, zipfile.BadZipFile, NotImplementedError) as e:
        reading.warn(path, name, RULE_ZIP_MEMBER, f"cannot read: {e}", "check the archive")
        return None
