"""Python distributions: every *.dist-info, *.egg-info and *.egg directory, wherever it is.

Each directory's parent is one environment (`site_packages`), so two virtual environments in one
image are two sets. One distribution is listed once per environment however many metadata
folders its packager left: Debian's python3-cryptography installs both `cryptography.egg-info`
and `cryptography-38.0.4.dist-info` in one folder; the dist-info (which has a RECORD) is kept.

METADATA is parsed as email headers (policy compat32, as packaging does);
a file that is not UTF-8 or whose headers are huge gives a warning and a best-effort reading,
never a failure. Only the head of a METADATA file is kept (its headers come first; the long
description after them is not read). A RECORD that is not CSV, or a version longer than any
real one, is a warning naming the file; the other distributions are read as usual.
"""

from __future__ import annotations

import base64
import binascii
import csv
import email.parser
import io
import posixpath
import re
from email.message import Message
from email.policy import compat32

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.utils import canonicalize_name

from imagekit.errors import InputError
from imagekit.inventory.layers import Entry, Kept, View
from imagekit.inventory.model import FileHash, PythonDist
from imagekit.limits import check_version_text, shown

_DIST_INFO = re.compile(r"(?:^|/)[^/]+\.dist-info/(?:METADATA|RECORD|direct_url\.json|INSTALLER)$")
_METADATA = re.compile(
    r"(?:^|/)[^/]+\.(?:dist-info/METADATA|egg-info/PKG-INFO|egg-info|egg/EGG-INFO/PKG-INFO)$"
)
_EGG_INFO = "/EGG-INFO/PKG-INFO"  # an unzipped egg: NAME-VERSION-pyX.Y.egg/EGG-INFO/PKG-INFO
# Which metadata folder speaks for a distribution found in several: the one with a RECORD.
_PREFERENCE = (".dist-info", ".egg", ".egg-info")
MAX_HEADER = 1 << 20  # numpy's and scipy's License fields (whole licence texts) are ~50 kB
MAX_LICENSE_LINE = 200
# The first bytes of a METADATA file kept: all its headers, however long the description after.
METADATA_HEAD = 2 * MAX_HEADER
# direct_url.json and INSTALLER are a few hundred bytes.
SMALL_FILE = 1 << 20


def wanted(path: str) -> bool | Kept:
    if _METADATA.search(path):
        return Kept(limit=METADATA_HEAD, head=True)
    if path.endswith(("/direct_url.json", "/INSTALLER")) and _DIST_INFO.search(path):
        return Kept(limit=SMALL_FILE)
    return bool(_DIST_INFO.search(path))


def _decode(data: bytes, where: str, view: View) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        view.warn(f"{where}: not valid UTF-8 (at byte {e.start}); read with replacement characters")
        text = data.decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


def parse_metadata(data: bytes, where: str, view: View) -> Message:
    """The headers of a METADATA / PKG-INFO file (the body, a long description, is dropped)."""
    text = _decode(data, where, view)
    end = text.find("\n\n")
    headers = text if end < 0 else text[: end + 1]
    if len(headers) > MAX_HEADER:
        view.warn(
            f"{where}: headers of {len(headers)} characters; only the first {MAX_HEADER} are read"
        )
        headers = headers[: headers.rfind("\n", 0, MAX_HEADER) + 1]
    return email.parser.Parser(policy=compat32).parsestr(headers, headersonly=True)


def _first_line(text: str) -> str:
    """The first non-empty line, shortened at a word if it is long."""
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    if len(line) <= MAX_LICENSE_LINE:
        return line
    cut = line.rfind(" ", 0, MAX_LICENSE_LINE)
    return line[: cut if cut > 0 else MAX_LICENSE_LINE].rstrip(" ,;:") + "…"


def _licenses(msg: Message, where: str, view: View) -> tuple[str | None, tuple[str, ...]]:
    """License-Expression (canonical SPDX), and the licence texts: License, classifiers."""
    texts: list[str] = []
    expression = None
    raw = str(msg.get("License-Expression") or "").strip()
    if raw:
        try:
            expression = canonicalize_license_expression(raw)
        except InvalidLicenseExpression as e:
            what = f"License-Expression '{shown(raw)}' is not valid SPDX ({shown(e)})"
            view.warn(f"{where}: {what}; kept as text")
            texts.append(raw)
    license_field = _first_line(str(msg.get("License") or ""))
    if license_field and license_field.upper() not in ("UNKNOWN", "NONE"):
        texts.append(license_field)
    texts.extend(
        str(c).strip()
        for c in msg.get_all("Classifier") or ()
        if str(c).strip().startswith("License ::")
    )
    return expression, tuple(dict.fromkeys(texts))


def _rows(data: bytes, where: str, view: View) -> list[list[str]]:
    """RECORD's CSV rows; none, with a warning, if it is not CSV (a lone carriage return)."""
    try:
        return list(csv.reader(io.StringIO(_decode(data, where, view))))
    except csv.Error as e:
        view.warn(f"{where}: not a CSV file ({shown(e)}); its file hashes are not read")
        return []


def _record(data: bytes, where: str, view: View) -> tuple[FileHash, ...]:
    """RECORD's sha256 entries, hex; rows without a sha256 are left out."""
    hashes = []
    for row in _rows(data, where, view):
        if len(row) < 2 or not row[1].startswith("sha256="):
            continue
        encoded = row[1].removeprefix("sha256=")
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            digest = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 32:
            what = f"{shown(row[0])}: {shown(row[1])!r}"
            view.warn(f"{where}: {what} is not a urlsafe-base64 sha256; skipped")
            continue
        hashes.append(FileHash(path=row[0], sha256=digest.hex()))
    return tuple(sorted(hashes, key=lambda h: h.path))


def _dist(entry: Entry, view: View) -> PythonDist | None:
    is_dir = entry.path.endswith(("/METADATA", "/PKG-INFO"))
    directory = posixpath.dirname(entry.path) if is_dir else entry.path
    if entry.path.endswith(_EGG_INFO):
        directory = entry.path.removesuffix(_EGG_INFO)  # the .egg, whose parent is the env
        is_dir = False  # an egg has no RECORD, INSTALLER or direct_url.json
    where = "/" + entry.path
    if entry.data is None:
        view.warn(f"{where}: not read (too large, or a hard link whose bytes were not kept)")
        return None
    data = entry.data
    if len(data) < entry.size:  # only the head was kept: end it at a line, not inside a letter
        data = data[: data.rfind(b"\n") + 1]
    msg = parse_metadata(data, where, view)
    raw_name, version = str(msg.get("Name") or "").strip(), str(msg.get("Version") or "").strip()
    if not raw_name or not version:
        view.warn(f"{where}: no Name or no Version; not counted as a distribution")
        return None
    try:
        check_version_text(version, where)
    except InputError as e:
        view.warn(f"{e}; not counted as a distribution")
        return None
    expression, texts = _licenses(msg, where, view)
    record = view.read(f"{directory}/RECORD") if is_dir else None
    installer = view.read(f"{directory}/INSTALLER") if is_dir else None
    direct = view.read(f"{directory}/direct_url.json") if is_dir else None
    return PythonDist(
        name=canonicalize_name(raw_name),
        raw_name=raw_name,
        version=version,
        site_packages="/" + posixpath.dirname(directory),
        metadata_path="/" + directory,
        license_expression=expression,
        license_texts=texts,
        requires_dist=tuple(str(r).strip() for r in msg.get_all("Requires-Dist") or ()),
        record=_record(record, f"/{directory}/RECORD", view) if record is not None else (),
        direct_url=view.json_object(direct, f"/{directory}/direct_url.json"),
        installer=_first_line(installer.decode("utf-8", "replace")) or None if installer else None,
    )


def _rank(dist: PythonDist) -> tuple[int, str]:
    kind = next(i for i, s in enumerate(_PREFERENCE) if dist.metadata_path.endswith(s))
    return kind, dist.metadata_path


def read_python(view: View) -> tuple[PythonDist, ...]:
    """Every distribution in the image, once per environment, sorted by environment, then name.

    Metadata folders of one name and version in one environment are one distribution: the
    dist-info is kept over an egg over an egg-info (then the first path)."""
    found = [d for e in view.files(lambda p: bool(_METADATA.search(p))) if (d := _dist(e, view))]
    chosen: dict[tuple[str, str, str], PythonDist] = {}
    for dist in sorted(found, key=_rank):
        chosen.setdefault((dist.site_packages, dist.name, dist.version), dist)
    dists = chosen.values()
    return tuple(sorted(dists, key=lambda d: (d.site_packages, d.name, d.metadata_path)))
