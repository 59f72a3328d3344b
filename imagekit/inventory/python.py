"""Python distributions: every *.dist-info and *.egg-info directory, wherever it is.

Each directory's parent is one environment (`site_packages`), so two virtual environments in one
image are two sets. METADATA is parsed as email headers (policy compat32, as packaging does);
a file that is not UTF-8 or whose headers are huge gives a warning and a best-effort reading,
never a failure.
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

from imagekit.inventory.layers import Entry, View
from imagekit.inventory.model import FileHash, PythonDist

_DIST_INFO = re.compile(r"(?:^|/)[^/]+\.dist-info/(?:METADATA|RECORD|direct_url\.json|INSTALLER)$")
_METADATA = re.compile(r"(?:^|/)[^/]+\.(?:dist-info/METADATA|egg-info/PKG-INFO|egg-info)$")
MAX_HEADER = 1 << 20  # numpy's and scipy's License fields (whole licence texts) are ~50 kB
MAX_LICENSE_LINE = 200


def wanted(path: str) -> bool:
    return bool(_DIST_INFO.search(path) or _METADATA.search(path))


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
            view.warn(f"{where}: License-Expression {raw!r} is not valid SPDX ({e}); kept as text")
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


def _record(data: bytes, where: str, view: View) -> tuple[FileHash, ...]:
    """RECORD's sha256 entries, hex; rows without a sha256 are left out."""
    hashes = []
    for row in csv.reader(io.StringIO(_decode(data, where, view))):
        if len(row) < 2 or not row[1].startswith("sha256="):
            continue
        encoded = row[1].removeprefix("sha256=")
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            digest = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != 32:
            view.warn(f"{where}: {row[0]}: {row[1]!r} is not a urlsafe-base64 sha256; skipped")
            continue
        hashes.append(FileHash(path=row[0], sha256=digest.hex()))
    return tuple(sorted(hashes, key=lambda h: h.path))


def _dist(entry: Entry, view: View) -> PythonDist | None:
    is_dir = entry.path.endswith(("/METADATA", "/PKG-INFO"))
    directory = posixpath.dirname(entry.path) if is_dir else entry.path
    where = "/" + entry.path
    if entry.data is None:
        view.warn(f"{where}: not read (too large, or a hard link whose bytes were not kept)")
        return None
    msg = parse_metadata(entry.data, where, view)
    raw_name, version = str(msg.get("Name") or "").strip(), str(msg.get("Version") or "").strip()
    if not raw_name or not version:
        view.warn(f"{where}: no Name or no Version; not counted as a distribution")
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


def read_python(view: View) -> tuple[PythonDist, ...]:
    """Every distribution in the image, sorted by environment, then name."""
    dists = [d for e in view.files(lambda p: bool(_METADATA.search(p))) if (d := _dist(e, view))]
    return tuple(sorted(dists, key=lambda d: (d.site_packages, d.name, d.metadata_path)))
