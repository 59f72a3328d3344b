"""Debian packages a model spec pins (`name=version`), fetched on the host and verified like apt.

The suite's `InRelease` needs a good signature from a key in Debian's archive keyring (`gpgv`);
its SHA256 list vouches for each `Packages` index, which vouches for each `.deb`. Both are cached
by hash (`<cache>/sha256/<hash>/<filename>`); `InRelease` is fetched each time, to be current.
An entry is held shared (`imagekit.cache.lock`) and marked used while a build reads or links it,
so `imagekit cache prune` never removes it underneath.
Dependencies are not resolved: the spec pins every package; `fetch_debs` checks that each
dependency is pinned too or already in the base image.
"""

from __future__ import annotations

import gzip
import lzma
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cmp_to_key
from pathlib import Path, PurePosixPath

from imagekit.cache.lock import using
from imagekit.cachedir import cache_root
from imagekit.errors import ImagekitError
from imagekit.fsio import staged_file
from imagekit.image.digest import sha256_file
from imagekit.inventory.debversion import compare_debian_versions
from imagekit.proc import run

DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
ARCHITECTURES = frozenset({"amd64", "arm64"})
_RELATION = re.compile(
    r"^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|>=|>>|=|<|>)\s*([^\s)]+)\s*\))?$"
)
_STATUS = re.compile(r"^\[GNUPG:\] (\w+)", re.MULTILINE)
_GPGV_TIMEOUT_S = 120  # checking one signature
_TIMEOUT_S = 60
_NOT_CURRENT = (
    "Debian mirrors keep only the current version of each package: pin the version "
    "`apt-cache policy {name}` shows for {suite}, or set the mirror to a "
    "snapshot.debian.org/archive/debian/<timestamp> URL"
)


class DebError(ImagekitError):
    """Pinned Debian packages that cannot be fetched, verified or installed; every problem."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class DebRequest:
    """One pinned system package, as a model spec lists it: `libgomp1=12.2.0-14+deb12u1`."""

    name: str
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedDeb:
    """A verified `.deb` in the destination directory."""

    name: str
    version: str
    architecture: str
    filename: str
    path: Path
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Relation:
    """One alternative of a Depends field: `libc6 (>= 2.34)`. An architecture is dropped."""

    name: str
    op: str | None = None
    version: str | None = None

    def satisfied_by(self, version: str) -> bool:
        c = compare_debian_versions(version, self.version) if self.version else 0
        # `<` and `>` are dpkg's obsolete spellings of `<=` and `>=`.
        return {None: True, "<<": c < 0, "<=": c <= 0, "<": c <= 0, "=": c == 0,
                ">=": c >= 0, ">": c >= 0, ">>": c > 0}[self.op]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.name} ({self.op} {self.version})" if self.op else self.name


Group = tuple[Relation, ...]


def parse_relations(field: str) -> tuple[Group, ...]:
    """Parse a Depends-style field into groups of alternatives; `DebError` on a bad one."""
    groups: list[Group] = []
    for text in filter(str.strip, field.split(",")):
        matches = [_RELATION.match(alternative.strip()) for alternative in text.split("|")]
        if not all(matches):
            raise DebError(f"cannot parse the package relation {text.strip()!r}")
        groups.append(tuple(Relation(name=m[1], op=m[2], version=m[3]) for m in matches if m))
    return tuple(groups)


@dataclass(frozen=True, slots=True, kw_only=True)
class DebPackage:
    """One stanza of a `Packages` index."""

    name: str
    version: str
    architecture: str
    filename: str
    sha256: str
    size: int
    depends: tuple[Group, ...] = ()  # Pre-Depends, then Depends
    provides: tuple[Relation, ...] = ()

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> DebPackage:
        """Build from a parsed stanza; raises `DebError` naming a missing or bad field."""
        try:
            return cls(
                name=fields["Package"], version=fields["Version"],
                architecture=fields["Architecture"], filename=fields["Filename"],
                sha256=fields["SHA256"], size=int(fields["Size"]),
                depends=parse_relations(fields.get("Pre-Depends", ""))
                + parse_relations(fields.get("Depends", "")),
                provides=tuple(g[0] for g in parse_relations(fields.get("Provides", ""))),
            )  # fmt: skip
        except (KeyError, ValueError) as e:
            what = fields.get("Package", "a stanza")
            raise DebError(f"Packages index: {what} has a missing or bad field: {e}") from e


def parse_deb822(text: str) -> tuple[dict[str, str], ...]:
    """One dict per stanza of deb822 text (Packages, InRelease, dpkg's status file); continuation
    lines are joined with newlines. Raises `DebError` on a line that is neither."""
    stanzas: list[dict[str, str]] = [{}]
    key = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            stanzas.append({})
        elif line[0] in " \t" and key in stanzas[-1]:
            stanzas[-1][key] = f"{stanzas[-1][key]}\n{line.strip()}".lstrip("\n")
        elif ":" in line and line[0] not in " \t#":
            key, _, value = line.partition(":")
            stanzas[-1][key] = value.strip()
        elif not line.startswith("#"):
            raise DebError(f"deb822 line {number} is neither a field nor a continuation: {line!r}")
    return tuple(stanza for stanza in stanzas if stanza)


_BY_VERSION = cmp_to_key(compare_debian_versions)


def check_dependencies(packages: Sequence[DebPackage], installed: Mapping[str, str]) -> list[str]:
    """A problem for each Pre-Depends/Depends group of `packages` that neither one of `packages`
    (by name or Provides) nor a package of `installed` (name -> version) satisfies; in order."""
    offers: dict[str, list[str | None]] = {name: [v] for name, v in installed.items()}
    for package in packages:
        offers.setdefault(package.name, []).append(package.version)
        for provided in package.provides:
            offers.setdefault(provided.name, []).append(provided.version)
    problems: list[str] = []
    for package in packages:
        unmet = (g for g in package.depends if not any(_offered(r, offers) for r in g))
        problems += [_unmet(package, group, offers) for group in unmet]
    return problems


def _offered(relation: Relation, offers: Mapping[str, list[str | None]]) -> bool:
    # An unversioned Provides (None) satisfies only an unversioned dependency.
    versions = offers.get(relation.name, [])
    return any(relation.op is None or (v and relation.satisfied_by(v)) for v in versions)


def _unmet(package: DebPackage, group: Group, offers: Mapping[str, list[str | None]]) -> str:
    found = dict.fromkeys(f"{r.name} {v}" for r in group for v in offers.get(r.name, []) if v)
    only = f" (found only {', '.join(found)})" if found else ""
    return (
        f"{package.name}={package.version} depends on {' | '.join(map(str, group))}, which is "
        f"neither requested nor in the base{only}; pin a version that satisfies it"
    )


def fetch_debs(
    requests: Sequence[DebRequest], *, mirror: str, suite: str, components: Sequence[str],
    arch: str, dest: Path, cache_dir: Path | None = None, keyring: Path = DEBIAN_KEYRING,
    installed: Mapping[str, str] | None = None,
) -> tuple[FetchedDeb, ...]:  # fmt: skip
    """Put each requested package's verified `.deb` for `arch` into `dest`, sorted by name.

    Each request's dependencies must be requested too or in `installed` (the base's packages,
    name -> version; None skips the check). Raises `DebError` listing every request the suite
    lacks, failed hash and unmet dependency (`dest` then gains no file).
    """
    mirror = _check_inputs(mirror, arch, keyring)
    cache = cache_dir or cache_root() / "debs"
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}-") as tmp:
        staging = Path(tmp)
        base = f"{mirror}/dists/{suite}"
        release = _verified_release(base, suite, keyring, staging)
        texts = [_index_text(release, base, component, arch, cache) for component in components]
        selected, problems = _select(requests, texts, suite, arch)
        if installed is not None:
            # A request the index lacks is reported already: its pin stands in for it here.
            pins = {r.name: r.version for r in requests}
            problems += check_dependencies(selected, {**pins, **installed})
        staged = [_stage(package, mirror, cache, staging) for package in selected]
        problems += [s for s in staged if isinstance(s, str)]
        if problems:
            raise DebError(problems)
        debs = sorted((s for s in staged if isinstance(s, FetchedDeb)), key=lambda d: d.name)
        for deb in debs:
            deb.path.replace(dest / deb.filename)
        return tuple(replace(deb, path=dest / deb.filename) for deb in debs)


def _check_inputs(mirror: str, arch: str, keyring: Path) -> str:
    """The mirror URL without a trailing slash; raises `DebError` listing every bad input."""
    problems: list[str] = []
    if not mirror.startswith(("http://", "https://")):
        problems.append(f"mirror {mirror!r} is not an http:// or https:// URL")
    if arch not in ARCHITECTURES:
        problems.append(f"architecture {arch!r} is not one of {', '.join(sorted(ARCHITECTURES))}")
    if shutil.which("gpgv") is None:
        problems.append("gpgv is not on PATH; install it (apt-get install gpgv)")
    if not keyring.is_file():
        problems.append(f"no keyring {keyring}; apt-get install debian-archive-keyring")
    if problems:
        raise DebError(problems)
    return mirror.rstrip("/")


def _verified_release(base: str, suite: str, keyring: Path, staging: Path) -> dict[str, str]:
    """The fields of `<base>/InRelease`, read from the part a good signature covers."""
    signed, verified = staging / "InRelease", staging / "InRelease.verified"
    _download(f"{base}/InRelease", signed)
    result = run(
        ["gpgv", "--homedir", str(staging), "--status-fd", "1", "--keyring",
         str(keyring.resolve()), "--output", str(verified), str(signed)],
        what="gpgv", timeout=_GPGV_TIMEOUT_S, error=DebError, check=False,
    )  # fmt: skip
    # Like apt: a good signature and no bad one; gpgv exits 2 when it lacks some other key.
    blocks = [set(_STATUS.findall(block)) for block in result.text.split("NEWSIG")]
    errors = result.error_text.strip().splitlines()
    if any("BADSIG" in b for b in blocks) or not any({"GOODSIG", "VALIDSIG"} <= b for b in blocks):
        raise DebError(
            f"{base}/InRelease has no good signature from {keyring} ({' / '.join(errors)}); check "
            "the mirror and suite, and that the keyring (debian-archive-keyring) is current"
        )
    release = next(iter(parse_deb822(verified.read_text(encoding="utf-8"))), {})
    if suite not in (release.get("Suite"), release.get("Codename")):
        raise DebError(f"{base}/InRelease is for suite {release.get('Suite')!r}, not {suite!r}")
    return release


def _index_text(
    release: Mapping[str, str], base: str, component: str, arch: str, cache: Path
) -> str:
    """The component's verified, decompressed Packages index for `arch`."""
    hashes = {p: (h, int(s)) for h, s, p in map(str.split, release.get("SHA256", "").splitlines())}
    for suffix, decompress in ((".xz", lzma.decompress), (".gz", gzip.decompress)):
        path = f"{component}/binary-{arch}/Packages{suffix}"
        if path in hashes:
            digest, size = hashes[path]
            # By hash, the file stays put while the mirror swaps in a newer index.
            by_hash = release.get("Acquire-By-Hash") == "yes"
            url = f"{base}/{component}/binary-{arch}/by-hash/SHA256/{digest}"
            url = url if by_hash else f"{base}/{path}"
            with using(cache, digest, cache / "sha256" / digest):  # not pruned while read
                blob = _cached(url, f"Packages{suffix}", digest=digest, size=size, cache=cache)
                data = blob.read_bytes()
            return decompress(data).decode("utf-8")
    components = release.get("Components", "none listed")
    raise DebError(f"{base} has no Packages index for {component}/{arch} (has: {components})")


def _select(
    requests: Sequence[DebRequest], texts: Sequence[str], suite: str, arch: str
) -> tuple[list[DebPackage], list[str]]:
    """The index entry of each request, and a problem for each request the indexes lack."""
    found: dict[str, list[DebPackage]] = {r.name: [] for r in requests}
    for stanza in (stanza for text in texts for stanza in text.split("\n\n")):
        # Only the requested stanzas are parsed: an index holds some 60,000.
        key, _, value = stanza.lstrip("\n").partition("\n")[0].partition(":")
        if key == "Package" and value.strip() in found:
            packages = map(DebPackage.from_fields, parse_deb822(stanza))
            found[value.strip()] += [p for p in packages if p.architecture in (arch, "all")]
    selected: list[DebPackage] = []
    problems: list[str] = []
    for request in requests:
        candidates = found[request.name]
        same = [p for p in candidates if compare_debian_versions(p.version, request.version) == 0]
        selected += same[:1]
        if not same:
            versions = sorted({p.version for p in candidates}, key=_BY_VERSION)
            available = ", ".join(versions) or "none; check the name and the components"
            hint = _NOT_CURRENT.format(name=request.name, suite=suite)
            pin = f"{request.name}={request.version}"
            problems.append(f"{pin}: not in {suite}/{arch} (available: {available}); {hint}")
    return selected, problems


def _stage(package: DebPackage, mirror: str, cache: Path, staging: Path) -> FetchedDeb | str:
    """The package's verified `.deb`, linked from the cache into `staging`; or a problem."""
    path, pin = PurePosixPath(package.filename), f"{package.name}={package.version}"
    if path.is_absolute() or ".." in path.parts or path.suffix != ".deb":
        return f"{pin}: the index gives the unsafe file name {package.filename!r}"
    entry = cache / "sha256" / package.sha256
    try:
        with using(cache, package.sha256, entry):  # not pruned until linked into `staging`
            blob = _cached(f"{mirror}/{path}", path.name, digest=package.sha256,
                           size=package.size, cache=cache)  # fmt: skip
            _link_or_copy(blob, staging / path.name)
    except DebError as e:
        return f"{pin}: {e}"
    return FetchedDeb(name=package.name, version=package.version, filename=path.name,
                      architecture=package.architecture, path=staging / path.name,
                      sha256=package.sha256)  # fmt: skip


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # costs nothing for a large CUDA .deb
    except OSError:  # across file systems
        shutil.copyfile(source, target)


def _cached(url: str, filename: str, *, digest: str, size: int, cache: Path) -> Path:
    """The cached file with this sha256, else downloaded from `url`; `DebError` on a mismatch."""
    entry = cache / "sha256" / digest
    final = entry / filename
    if final.is_file() and final.stat().st_size == size and sha256_file(final) == digest:
        return final
    entry.mkdir(parents=True, exist_ok=True)
    with staged_file(entry, ".tmp-") as staged:
        _download(url, staged.path)
        actual, actual_size = sha256_file(staged.path), staged.path.stat().st_size
        if actual != digest or actual_size != size:
            raise DebError(
                f"{url} has sha256 {actual} ({actual_size} bytes), not {digest} ({size} bytes) "
                "as the signed index says; the mirror is broken or tampered with, try another"
            )
        return staged.publish(final)


def _download(url: str, target: Path) -> None:
    """Stream `url` into `target`; raises `DebError` naming the URL when that fails."""
    try:
        # `_check_inputs` admits only http(s) mirrors, never file: or ftp: URLs.
        with (
            urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response,  # noqa: S310
            target.open("wb") as out,
        ):
            shutil.copyfileobj(response, out, 1 << 20)
    except urllib.error.HTTPError as e:
        raise DebError(f"{url}: HTTP {e.code} {e.reason}; check the mirror and suite") from e
    except OSError as e:  # URLError is one
        reason = getattr(e, "reason", e)
        raise DebError(f"cannot download {url}: {reason}; check the network and mirror") from e
