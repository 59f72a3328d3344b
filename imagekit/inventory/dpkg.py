"""Debian packages: var/lib/dpkg/status, and their licences from their copyright files.

A malformed line of the status file is a warning naming the file and line; parsing goes on.
Licences come from `usr/share/doc/<package>/copyright`. In the DEP-5 format: the `License:`
short names of its `Files:` paragraphs, turned into SPDX where the mapping is unambiguous
(`GPL-2+` -> `GPL-2.0-or-later`, `Expat` -> `MIT`), the Debian name otherwise. In free text
(a third of a Debian system's files: glibc, gcc, krb5, gnutls, python3.x): the SPDX licences the
licence matcher recognises in it (`licences.match_text`), with its confidence; where it
recognises none, the licences of the `/usr/share/common-licenses/NAME` files the text refers to,
matched the same way (each is Debian's copy of one licence, shipped by base-files).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

from imagekit.errors import InputError
from imagekit.inventory.layers import Kept, View
from imagekit.inventory.licences import TextMatch, match_text
from imagekit.inventory.model import DebPackage
from imagekit.limits import check_version_text, shown

STATUS = "var/lib/dpkg/status"
_STATUS_D = re.compile(r"^var/lib/dpkg/status\.d/[^/]+$")  # distroless images: one file each
_COPYRIGHT = re.compile(r"^usr/share/doc/[^/]+/copyright$")
_COMMON = re.compile(r"^usr/share/common-licenses/[^/]+$")
# A reference in prose; a sentence's full stop after the name is not part of it ("GPL-3.").
_REFERENCE = re.compile(r"/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9.+_-]*[A-Za-z0-9+])")
_FIELD = re.compile(r"^(?P<name>[^\s:#][^\s:]*):(?P<value>.*)$")
_SOURCE = re.compile(r"^(?P<name>\S+)(?:\s*\((?P<version>[^)]+)\))?$")
_DEP_NAME = re.compile(r"^\s*(?P<name>[a-z0-9][a-z0-9+.-]*)")
_INSTALLED = {("install", "ok", "installed"), ("hold", "ok", "installed")}
_GNU = re.compile(r"^(?P<name>A?GPL|LGPL|GFDL)-(?P<version>\d+(?:\.\d+)?)(?P<plus>\+)?$", re.I)
_DEP5 = ("copyright-format/1.0", "dep5")

# Debian 12's status file holds about 0.9 kB per package (670 kB for 729 packages, measured on
# a bookworm system); the largest real installs have a few thousand packages, a few MB.
MAX_STATUS = 32 << 20
MAX_STATUS_D = 1 << 20  # one package's paragraph (distroless)
MAX_COPYRIGHT = 4 << 20  # the longest DEP-5 files (a browser's, a TeX distribution's) are ~1 MB
MAX_COMMON = 256 << 10  # base-files 12.4's longest licence text is GPL-3, 35 kB

Warn = Callable[[str], None]
Stanza = dict[str, str]


def wanted(path: str) -> bool | Kept:
    if path == STATUS:
        return Kept(limit=MAX_STATUS)
    if _STATUS_D.match(path):
        return Kept(limit=MAX_STATUS_D)
    if _COMMON.match(path):
        return Kept(limit=MAX_COMMON)
    return Kept(limit=MAX_COPYRIGHT) if _COPYRIGHT.match(path) else False


def stanzas(text: str, where: str, warn: Warn | None) -> Iterator[tuple[int, Stanza]]:
    """deb822 paragraphs as (first line number, field -> value); field names lower-cased.

    A line that is neither `Field: value` nor a continuation is reported through `warn`, with
    the file and line, and skipped.
    """
    current: Stanza = {}
    start, field = 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if current:
                yield start, current
            current, field = {}, ""
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t" and field:
            current[field] += "\n" + line.strip()
            continue
        match = _FIELD.match(line)
        if match is None:
            if warn is not None:
                warn(f"{where}:{number}: malformed line '{shown(line, 80)}': skipped")
            continue
        if not current:
            start = number
        field = match["name"].lower()
        current[field] = match["value"].strip()
    if current:
        yield start, current


def _names(relations: str) -> tuple[str, ...]:
    """Package names of a Depends field: versions, architectures and alternatives dropped."""
    names = set()
    for alternative in re.split(r"[,|]", relations):
        match = _DEP_NAME.match(alternative)
        if match:
            names.add(match["name"])
    return tuple(sorted(names))


def _atom(token: str) -> str:
    match = _GNU.match(token)
    if match is None:
        return "MIT" if token.lower() == "expat" else token
    version = match["version"] if "." in match["version"] else match["version"] + ".0"
    return f"{match['name'].upper()}-{version}-{'or-later' if match['plus'] else 'only'}"


def spdx_of(debian: str) -> str:
    """The SPDX expression of a DEP-5 short name or expression, or the name itself if the
    mapping is not certain (an exception in prose, a comma, a name SPDX does not have)."""
    text = debian.strip()
    if "," in text or re.search(r"\bwith\b", text, re.I):
        return text
    parts = []
    for token in re.split(r"(\s+|[()])", text):
        lowered = token.lower()
        parts.append(lowered.upper() if lowered in ("and", "or") else _atom(token))
    try:
        return canonicalize_license_expression("".join(parts))
    except InvalidLicenseExpression:
        return text


def copyright_licenses(text: str) -> tuple[str, ...] | None:
    """The licences a DEP-5 copyright file names for its files; None if it is not DEP-5."""
    paragraphs = [p for _, p in stanzas(text, "", None)]
    if not paragraphs or not any(m in paragraphs[0].get("format", "") for m in _DEP5):
        return None
    names = (p.get("license", "").strip().split("\n")[0] for p in paragraphs[1:] if "files" in p)
    return tuple(sorted({spdx_of(name) for name in names if name.strip()}))


@dataclass(frozen=True, slots=True)
class Licences:
    """A copyright file's licences; `confidence` only where they were matched from prose."""

    ids: tuple[str, ...]
    confidence: float | None = None


_NONE = Licences(ids=())


class _Reader:
    """Licences of the copyright files of one view, each distinct text matched once (the gcc-12
    family's eight packages ship one 140 kB text; many doc folders are links to another's)."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.by_text: dict[bytes, Licences] = {}
        self.common: dict[str, TextMatch | None] = {}

    def licences(self, name: str) -> tuple[str | None, Licences]:
        path = self.view.resolve(f"usr/share/doc/{name}/copyright")
        if path is None or self.view.file(path) is None:
            return None, _NONE
        data = self.view.read(path)
        if data is None:
            return "/" + path, _NONE
        key = hashlib.sha256(data).digest()
        if key not in self.by_text:
            self.by_text[key] = self._of_text(data.decode("utf-8", "replace"))
        return "/" + path, self.by_text[key]

    def _of_text(self, text: str) -> Licences:
        declared = copyright_licenses(text)
        if declared is not None:
            return Licences(ids=declared)
        found = match_text(text)
        if found.ids:
            return Licences(ids=found.ids, confidence=found.coverage)
        referred = [self._common(n) for n in dict.fromkeys(_REFERENCE.findall(text))]
        ids = tuple(sorted({i for m in referred if m is not None for i in m.ids}))
        if not ids:
            return _NONE
        # A referred file the image lacks, or no template matches (GFDL-1.2), lowers it.
        shares = [m.coverage if m is not None else 0.0 for m in referred]
        return Licences(ids=ids, confidence=round(sum(shares) / len(shares), 2))

    def _common(self, name: str) -> TextMatch | None:
        """The licence of /usr/share/common-licenses/NAME in this view; None if it has none."""
        path = self.view.resolve(f"usr/share/common-licenses/{name}")
        if path is None:
            return None
        if path not in self.common:
            data = self.view.read(path) if self.view.file(path) is not None else None
            self.common[path] = match_text(data.decode("utf-8", "replace")) if data else None
        return self.common[path]


def _package(stanza: Stanza, reader: _Reader) -> DebPackage:
    name, version = stanza["package"], stanza["version"]
    source = _SOURCE.match(stanza.get("source", "").strip())
    copyright_file, licences = reader.licences(name)
    depends = ", ".join(x for x in (stanza.get("pre-depends"), stanza.get("depends")) if x)
    return DebPackage(
        name=name,
        version=version,
        architecture=stanza.get("architecture", ""),
        source_name=source["name"] if source else name,
        source_version=(source["version"] if source else None) or version,
        depends=_names(depends),
        licenses=licences.ids,
        license_confidence=licences.confidence,
        copyright_file=copyright_file,
    )


def _installed(text: str, where: str, view: View) -> Iterator[Stanza]:
    """The installed packages' paragraphs (status.d files, which have no Status, are)."""
    needed = (
        ("package", "version", "status") if where.endswith("/status") else ("package", "version")
    )
    for line, stanza in stanzas(text, where, view.warn):
        missing = [f for f in needed if f not in stanza]
        if missing:
            view.warn(f"{where}:{line}: a package without {', '.join(missing)}: skipped")
        elif not _real_version(stanza, f"{where}:{line}", view):
            continue
        elif "status" not in stanza or tuple(stanza["status"].split()) in _INSTALLED:
            yield stanza


def _real_version(stanza: Stanza, where: str, view: View) -> bool:
    """False, with a warning, for a version longer than any real one (nothing can order it)."""
    try:
        check_version_text(stanza["version"], where)
    except InputError as e:
        view.warn(f"{e}; package {shown(stanza['package'], 80)} skipped")
        return False
    return True


def read_debs(view: View) -> tuple[DebPackage, ...]:
    """Every installed package (`install ok installed`, or held), sorted by name."""
    files = [STATUS] + [e.path for e in view.files(lambda p: bool(_STATUS_D.match(p)))]
    reader = _Reader(view)
    found: dict[tuple[str, str], DebPackage] = {}
    for path in files:
        data = view.read(path)
        if data is None:
            continue
        text = data.decode("utf-8", "replace")
        for stanza in _installed(text, "/" + path, view):
            deb = _package(stanza, reader)
            found[(deb.name, deb.architecture)] = deb
    return tuple(found[k] for k in sorted(found))
