"""What a package's own metadata declares about its licence, read the same way for every report.

An SPDX expression stays an expression; a text that is not SPDX stays a name, never guessed into
an id; a `Copyright ...` line is a copyright, not a licence. Only trove classifiers that name
exactly one SPDX licence are mapped to it. The SBOM writes these as CycloneDX licences; the
licence policy and the diff read them as they are.

A licence given only as prose (a Debian copyright file that is not machine-readable) is matched
to SPDX ids by `licenseclassifier`, a port of google/licensecheck: word-level templates of every
SPDX licence, which name a licence only where its text (or its standard notice) is there, so a
word like "GPL" or "same as Perl" is never turned into an id.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression

from imagekit.inventory.model import PythonDist

NOASSERTION = "NOASSERTION"  # SPDX's word for "no licence information found"

# Classifiers that name one SPDX licence without doubt. "BSD License", "Apache Software License"
# and the GPL family are left as names: they do not say which version or variant.
CLASSIFIERS: dict[str, str] = {
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
}
_COPYRIGHT = re.compile(r"^(copyright\b|\(c\)|©)", re.IGNORECASE)
_NOTHING = frozenset({"", "unknown", "none", "n/a"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredLicense:
    """The licences a package declares: SPDX expressions, else names, and any copyright line."""

    expressions: tuple[str, ...]  # canonical SPDX expressions
    names: tuple[str, ...]  # licence names that are not SPDX, as written
    copyright: str | None = None

    @property
    def empty(self) -> bool:
        return not self.expressions and not self.names


def spdx(text: str) -> str | None:
    """The canonical SPDX expression of `text`, or None if it is not one."""
    try:
        return canonicalize_license_expression(text.strip())
    except InvalidLicenseExpression:
        return None


def _dedup(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def declared_by_dist(dist: PythonDist) -> DeclaredLicense:
    """A distribution's licence: its License-Expression; else the SPDX licences its License field
    and classifiers name; else the License field's text; else the classifiers' names.
    """
    copyright_line = next((t.strip() for t in dist.license_texts if _COPYRIGHT.match(t)), None)
    texts = [dist.license_expression] if dist.license_expression else []
    found: list[str] = []
    names: list[str] = []
    classifier_names: list[str] = []
    for raw in (*texts, *dist.license_texts):
        text = raw.strip()
        if text.lower() in _NOTHING or _COPYRIGHT.match(text):
            continue
        if text.startswith("License ::"):
            mapped = CLASSIFIERS.get(text)
            if mapped:
                found.append(mapped)
            else:
                classifier_names.append(text.rsplit("::", 1)[-1].strip())
        elif expression := spdx(text):
            found.append(expression)
            if raw is dist.license_expression:
                break  # PEP 639: the expression is the whole answer
        else:
            names.append(text)
    if found:
        # "MIT License" beside MIT, "BSD License" beside BSD-3-Clause only restate it loosely.
        return DeclaredLicense(expressions=_dedup(found), names=(), copyright=copyright_line)
    return DeclaredLicense(
        expressions=(), names=_dedup(names or classifier_names), copyright=copyright_line
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMatch:
    """The SPDX ids a licence matcher recognises in a text, and how sure that is.

    `coverage` (0 to 1) is the share of the text inside the recognised licence regions: near 1
    for a file that is one licence, lower for a copyright file whose other prose (authors,
    history, a licence SPDX has no template for) the ids do not account for.
    """

    ids: tuple[str, ...]  # sorted, distinct
    coverage: float


def match_text(text: str) -> TextMatch:
    """The SPDX licences whose text or notice appears in `text` (no minimum coverage: a copyright
    file is mostly names and years, and every region found is a whole licence match); each
    text's answer is kept in the scan cache, by the text and the matcher's version."""
    from imagekit.inventory.scancache import ScanCache  # noqa: PLC0415

    scans, what = ScanCache.default(), f"licence matches, licenseclassifier {_matcher_version()}"
    inputs = text.encode("utf-8", "surrogatepass")
    stored = scans.remembered(what, inputs)
    if isinstance(stored, dict):
        ids, coverage = stored.get("ids"), stored.get("coverage")
        strings = isinstance(ids, list) and all(isinstance(i, str) for i in ids)
        if strings and isinstance(ids, list) and isinstance(coverage, float | int):
            return TextMatch(ids=tuple(ids), coverage=float(coverage))
    found = _match_text(text)
    value = {"ids": list(found.ids), "coverage": found.coverage}
    scans.remember(what, inputs, value)
    return found


@functools.cache
def _matcher_version() -> str:
    return importlib.metadata.version("licenseclassifier")


def _match_text(text: str) -> TextMatch:
    # Lazy: the matcher's compiled templates load on first use (tests/test_cli_startup.py).
    from licenseclassifier import identify_license  # noqa: PLC0415

    regions = identify_license(text, coverage_threshold=0.0)
    covered = sum(r.end - r.start for r in regions)
    share = covered / len(text.strip()) if text.strip() else 0.0
    ids = tuple(sorted({r.id for r in regions}))
    return TextMatch(ids=ids, coverage=round(min(share, 1.0), 2) if ids else 0.0)


def declared_by_texts(texts: Iterable[str]) -> DeclaredLicense:
    """Licences given as texts (a Debian copyright file's, a model card's): SPDX, else names."""
    found: list[str] = []
    names: list[str] = []
    for raw in texts:
        text = raw.strip()
        if text.lower() in _NOTHING:
            continue
        expression = spdx(text)
        if expression:
            found.append(expression)
        else:
            names.append(text)
    return DeclaredLicense(expressions=_dedup(found), names=_dedup(names))
