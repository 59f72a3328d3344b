"""Wheel metadata without the wheel: the index's PEP 658 metadata files, cached by sha256.

Each locked package's METADATA is looked up, in this order:
1. the metadata cache, `<cache>/metadata/sha256/<wheel sha256>/<wheel file>.metadata`;
2. the wheel cache the build fills anyway (`<cache>/sha256/<wheel sha256>/<wheel file>`);
3. the package indexes pip is configured with (the same ones `fetch_wheels` downloads from, so
   a mirror or proxy in pip.conf or PIP_INDEX_URL applies): the project's simple page (the
   JSON form of PEP 691, else HTML) gives the file whose sha256 the lock lists, and
   `<file url>.metadata` (PEP 658, PEP 714) is its METADATA. A hash the index gives for the
   metadata file is verified. A wheel on a local (`file://`) index is read where it lies.

Only where the index serves no metadata file is the wheel fetched, into the wheel cache the
build installs from (the build needs it anyway). What no source gives is reported as not read,
with the reason.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import shutil
import sys
import urllib.parse
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import NormalizedName, parse_wheel_filename

from imagekit.cachedir import wheel_cache
from imagekit.conflicts.metadata import MetadataError, WheelMetadata, parse_metadata
from imagekit.conflicts.metadata import read_member as read_wheel_member
from imagekit.errors import Finding, InputError, Location
from imagekit.fsio import write_bytes
from imagekit.limits import MAX_JSON_DOCUMENT, load_json, shown
from imagekit.proc import ToolError, run
from imagekit.project.lockfile import LockedPackage, SourceKind
from imagekit.project.target import Target

# The HTTP client (urllib.request, http.client, ssl, email: a fifth of `imagekit check`'s
# start-up) is imported where a wheel is fetched; a check served by the cache never loads it.
if TYPE_CHECKING:
    import ssl

PYPI = "https://pypi.org/simple"
METADATA_DIR = "metadata"
_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{_SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
_MAX_PAGE = MAX_JSON_DOCUMENT
_MAX_METADATA = 8 << 20
_WORKERS = 8
_TIMEOUT = 15.0


class IndexUnreachable(Exception):
    """The index could not be asked (network, TLS, HTTP error other than 404)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexConfig:
    """The package indexes and TLS settings pip downloads with, in pip's order."""

    urls: tuple[str, ...]
    cert: str | None = None
    timeout: float = _TIMEOUT

    @classmethod
    def from_pip(cls) -> IndexConfig:
        """pip's own configuration (files and PIP_* variables) as `pip download` applies it."""
        return _pip_config()


@functools.cache
def _pip_config() -> IndexConfig:
    command = [sys.executable, "-m", "pip", "config", "list", "--disable-pip-version-check"]
    try:  # no pip config to read is no index configured
        out = run(command, what="pip config list", timeout=60, check=False).text
    except ToolError:
        out = ""
    return config_from_pip_list(out)


def config_from_pip_list(text: str) -> IndexConfig:
    """An `IndexConfig` from `pip config list` output (`section.key='value'` lines).

    pip lets a command's section override `global`, and PIP_* variables (`:env:`) override
    both; `no-index` leaves only what find-links offers, which this reader does not use.
    """
    found: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        head, sep, raw = line.partition("=")
        section, dot, key = head.rpartition(".")
        if sep and dot:
            found.setdefault(key.strip(), {})[section.strip()] = raw.strip().strip("'\"")

    def value(key: str) -> str | None:
        sections = found.get(key, {})
        return next((sections[s] for s in (":env:", "download", "global") if s in sections), None)

    if (value("no-index") or "").lower() in ("1", "true", "yes", "on"):
        return IndexConfig(urls=(), cert=value("cert"))
    urls = [value("index-url") or PYPI, *(value("extra-index-url") or "").split()]
    timeout = value("timeout") or value("default-timeout")
    try:
        seconds = min(float(timeout), _TIMEOUT) if timeout else _TIMEOUT
    except ValueError:
        seconds = _TIMEOUT
    return IndexConfig(urls=tuple(dict.fromkeys(urls)), cert=value("cert"), timeout=seconds)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexFile:
    """One file of a project's simple page."""

    filename: str
    url: str
    sha256: str | None
    metadata: bool  # the index advertises a PEP 658 metadata file
    metadata_sha256: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Unread:
    """A package whose METADATA no source gave, and why."""

    package: LockedPackage
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MetadataRead:
    """The METADATA found for each package, what was not read, and wrong metadata (errors)."""

    metadata: dict[NormalizedName, WheelMetadata]
    unread: tuple[Unread, ...]
    findings: tuple[Finding, ...]
    downloaded: int  # metadata files fetched from an index in this run


@dataclass(slots=True)
class _Outcome:
    metadata: WheelMetadata | None = None
    unread: str | None = None
    finding: Finding | None = None
    downloaded: int = 0
    wheel_needed: bool = False  # the index has no metadata file: only the wheel tells


@dataclass
class MetadataSource:
    """Where METADATA comes from: the cache folder and, on a miss, pip's indexes."""

    cache_dir: Path | None = None
    index: IndexConfig | None = None  # None: pip's configuration, read on the first miss
    # Where the index serves no metadata file, fetch the wheel the build needs anyway into
    # the wheel cache (as `fetch_wheels` does for the build) and read it there.
    fetch_missing: bool = True
    offline: bool = False  # the caches only: no index is asked, no wheel fetched
    _pages: dict[tuple[str, str], tuple[IndexFile, ...] | None] = field(
        default_factory=dict, repr=False
    )
    # An index that could not be reached is not asked again in this run: offline, every
    # package would otherwise wait for its own timeout.
    _down: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def cache(self) -> Path:
        return self.cache_dir or wheel_cache()

    def read(self, packages: Sequence[LockedPackage], target: Target) -> MetadataRead:
        """The METADATA of each package's wheel for `target`; never downloads a wheel."""
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            outcomes = list(pool.map(lambda p: self._one(p, target), packages))
        metadata: dict[NormalizedName, WheelMetadata] = {}
        unread: list[Unread] = []
        findings: list[Finding] = []
        for pkg, outcome in zip(packages, outcomes, strict=True):
            if outcome.metadata is not None:
                metadata[pkg.name] = outcome.metadata
            if outcome.unread is not None:
                unread.append(Unread(package=pkg, reason=outcome.unread))
            if outcome.finding is not None:
                findings.append(outcome.finding)
        return MetadataRead(
            metadata=metadata,
            unread=tuple(unread),
            findings=tuple(findings),
            downloaded=sum(o.downloaded for o in outcomes),
        )

    def _one(self, pkg: LockedPackage, target: Target) -> _Outcome:
        if pkg.version is None or not pkg.hashes or pkg.source is not SourceKind.INDEX:
            return _Outcome(unread="it is not pinned and hashed from an index")
        try:
            found = self._cached(pkg, target) or self._from_wheel_cache(pkg, target)
            if found is not None:
                return _Outcome(metadata=found)
            outcome = self._from_index(pkg, target)
            if outcome.wheel_needed and self.fetch_missing:
                return self._from_fetched_wheel(pkg, target, outcome)
            return outcome
        except MetadataError as e:
            return _Outcome(finding=_wrong(pkg, e))

    def _entries(self, pkg: LockedPackage, target: Target, folder: Path, suffix: str) -> list[Path]:
        """Files named `<wheel file><suffix>` under `<folder>/<sha256>/` for the lock's hashes,
        for `target`, best-ranked first."""
        found: list[tuple[int, Path]] = []
        for digest in sorted(pkg.hashes):
            if not (folder / digest).is_dir():
                continue  # most of a lock's hashes are other platforms' wheels: a stat, no glob
            for path in (folder / digest).glob(f"*.whl{suffix}"):
                wheel = path.name.removesuffix(suffix)
                rank = target.rank(wheel)
                if rank is not None and _wheel_is(wheel, pkg):
                    found.append((rank, path))
        return [path for _, path in sorted(found)]

    def _cached(self, pkg: LockedPackage, target: Target) -> WheelMetadata | None:
        folder = self.cache / METADATA_DIR / "sha256"
        for path in self._entries(pkg, target, folder, ".metadata"):
            try:
                return _parse(path.read_bytes(), path, pkg)
            except (MetadataError, OSError):
                shutil.rmtree(path.parent, ignore_errors=True)  # re-read from its source
        return None

    def _from_wheel_cache(self, pkg: LockedPackage, target: Target) -> WheelMetadata | None:
        """The METADATA of the cached wheel, read while its entry is held against a prune
        (`imagekit cache prune`; the lock module is imported when a wheel is read)."""
        from imagekit.cache.lock import using  # noqa: PLC0415 - see the docstring

        for wheel in self._entries(pkg, target, self.cache / "sha256", ""):
            with using(self.cache, wheel.parent.name, wheel.parent):
                if not wheel.is_file():
                    continue  # pruned since it was listed
                data = read_wheel_member(wheel)
            return self._store(data, wheel.parent.name, wheel.name, pkg)
        return None

    def _from_fetched_wheel(self, pkg: LockedPackage, target: Target, missed: _Outcome) -> _Outcome:
        """The wheel fetched into the wheel cache the way the build fetches it (the fetcher is
        imported here: a check that finds every METADATA cached never needs it)."""
        import tempfile  # noqa: PLC0415 - see the docstring

        from imagekit.build.wheelhouse import WheelhouseError, fetch_wheels  # noqa: PLC0415

        try:
            with tempfile.TemporaryDirectory(prefix="imagekit-metadata-") as tmp:
                fetch_wheels([pkg.pinned()], target, Path(tmp) / "wheels", self.cache)
        except WheelhouseError as e:
            return _Outcome(unread=f"{missed.unread}, and the wheel could not be fetched: {e}")
        found = self._from_wheel_cache(pkg, target)
        if found is None:
            return missed
        return _Outcome(metadata=found, downloaded=1)

    def _store(self, data: bytes, digest: str, filename: str, pkg: LockedPackage) -> WheelMetadata:
        """Parse METADATA bytes and keep them in the cache under the wheel's sha256."""
        entry = self.cache / METADATA_DIR / "sha256" / digest
        final = entry / f"{filename}.metadata"
        meta = _parse(data, final, pkg)
        try:
            entry.mkdir(parents=True, exist_ok=True)
            write_bytes(final, data)
        except OSError:
            pass  # a read-only cache only costs the next run a fetch
        return meta

    def _from_index(self, pkg: LockedPackage, target: Target) -> _Outcome:
        if self.offline:
            return _Outcome(unread="offline, and its metadata is not in the cache")
        index = self.index or IndexConfig.from_pip()
        # The index the lock names for the package (uv.lock, poetry.lock, pylock.toml) first.
        urls = tuple(dict.fromkeys(u for u in (pkg.index, *index.urls) if u))
        if not urls:
            return _Outcome(unread="pip is configured with no index (no-index)")
        problems: list[str] = []
        for url in urls:
            try:
                files = self._page(index, url, pkg.name)
            except IndexUnreachable as e:
                problems.append(f"{_shown_url(url)}: {e}")
                continue
            chosen = _best(files, pkg, target)
            if chosen is not None:
                return self._fetch(index, chosen, pkg)
        if problems:
            return _Outcome(unread=f"the index could not be read ({'; '.join(problems)})")
        return _Outcome(unread=f"no index lists a wheel for {target} with the lock's hashes")

    def _page(self, index: IndexConfig, url: str, name: NormalizedName) -> tuple[IndexFile, ...]:
        if url in self._down:
            raise IndexUnreachable(self._down[url])
        key = (url, name)
        if key not in self._pages:
            try:
                self._pages[key] = project_files(index, url, name)
            except IndexUnreachable as e:
                self._down.setdefault(url, str(e))
                raise
        return self._pages[key] or ()

    def _fetch(self, index: IndexConfig, chosen: IndexFile, pkg: LockedPackage) -> _Outcome:
        import urllib.request  # noqa: PLC0415 - see the imports

        digest = chosen.sha256 or ""  # _best chose it by its sha256
        if urllib.parse.urlsplit(chosen.url).scheme == "file":
            # A wheel on a local index is read where it lies: nothing is downloaded.
            path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(chosen.url).path))
            local = read_wheel_member(path)
            return _Outcome(metadata=self._store(local, digest, chosen.filename, pkg))
        try:
            data = _get(index, f"{chosen.url}.metadata", accept="*/*", limit=_MAX_METADATA)
        except IndexUnreachable as e:
            return _Outcome(unread=f"its metadata file could not be fetched ({e})")
        if data is None:
            return _Outcome(
                unread=f"the index serves no metadata file for {chosen.filename}",
                wheel_needed=True,
            )
        if chosen.metadata_sha256 is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != chosen.metadata_sha256:
                raise MetadataError(
                    pkg.location,
                    f"the index's metadata file for {chosen.filename} has sha256 {actual}, "
                    f"not {chosen.metadata_sha256} as the index says",
                    "check the index or proxy pip is configured with (pip config list)",
                )
        meta = self._store(data, digest, chosen.filename, pkg)
        return _Outcome(metadata=meta, downloaded=1)


def _wheel_is(filename: str, pkg: LockedPackage) -> bool:
    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except ValueError:
        return False
    return name == pkg.name and version == pkg.version


def _parse(data: bytes, source: Path, pkg: LockedPackage) -> WheelMetadata:
    return parse_metadata(data, source, name=pkg.name, version=str(pkg.version))


def _wrong(pkg: LockedPackage, e: MetadataError) -> Finding:
    return Finding(
        location=pkg.location,
        rule="metadata",
        message=f"{pkg.raw_name} {pkg.version}: {e.message}",
        fix=e.fix or "re-lock, or check the index",
    )


def _best(files: Iterable[IndexFile], pkg: LockedPackage, target: Target) -> IndexFile | None:
    """The best-ranked wheel for `target` among the files whose sha256 the lock lists."""
    ranked = [
        (rank, f.filename, f)
        for f in files
        if f.sha256 in pkg.hashes
        and _wheel_is(f.filename, pkg)
        and (rank := target.rank(f.filename)) is not None
    ]
    return min(ranked, key=lambda r: (r[0], r[1]))[2] if ranked else None


def _shown_url(url: str) -> str:
    """An index URL without any user:password it carries."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return shown(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))


def project_files(
    index: IndexConfig, url: str, name: NormalizedName
) -> tuple[IndexFile, ...] | None:
    """The files of a project's simple page on one index; None when the index has no such
    project. Raises `IndexUnreachable`."""
    page = f"{url.rstrip('/')}/{name}/"
    data = _get(index, page, accept=_ACCEPT, limit=_MAX_PAGE)
    if data is None:
        return None
    if data.lstrip()[:1] == b"{":
        return _json_files(data, page)
    return _html_files(data.decode("utf-8", "replace"), page)


def _json_files(data: bytes, page: str) -> tuple[IndexFile, ...]:
    try:
        doc = load_json(data, Location(file=Path(page)))
    except InputError as e:
        raise IndexUnreachable(f"not a simple-API page: {e.message}") from e
    files = doc.get("files") if isinstance(doc, dict) else None
    out = []
    for entry in files if isinstance(files, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            continue
        hashes = entry.get("hashes")
        sha = hashes.get("sha256") if isinstance(hashes, dict) else None
        meta = entry.get("core-metadata", entry.get("data-dist-info-metadata", False))
        out.append(
            IndexFile(
                filename=entry["filename"],
                url=urllib.parse.urljoin(page, str(entry.get("url", ""))),
                sha256=sha if isinstance(sha, str) else None,
                metadata=bool(meta),
                metadata_sha256=_meta_hash(meta),
            )
        )
    return tuple(out)


def _meta_hash(meta: Any) -> str | None:
    if isinstance(meta, dict):
        sha = meta.get("sha256")
        return sha.lower() if isinstance(sha, str) else None
    if isinstance(meta, str) and meta.startswith("sha256="):  # HTML: data-core-metadata
        return meta.removeprefix("sha256=").lower()
    return None


def _anchors(text: str) -> list[dict[str, str | None]]:
    """The attributes of each `<a>` of an HTML page. html.parser is imported here: a check
    that reads only cached metadata never needs it (start-up, benchmarks/startup.py)."""
    import html.parser  # noqa: PLC0415 - see the docstring

    anchors: list[dict[str, str | None]] = []

    class Anchors(html.parser.HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                anchors.append(dict(attrs))

    Anchors().feed(text)
    return anchors


def _html_files(text: str, page: str) -> tuple[IndexFile, ...]:
    out = []
    for attrs in _anchors(text):
        href = attrs.get("href")
        if not href:
            continue
        url, _, fragment = urllib.parse.urljoin(page, href).partition("#")
        algo, _, digest = fragment.partition("=")
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        meta = attrs.get("data-core-metadata") or attrs.get("data-dist-info-metadata")
        out.append(
            IndexFile(
                filename=filename,
                url=url,
                sha256=digest.lower() if algo == "sha256" and digest else None,
                metadata=bool(meta) and meta != "false",
                metadata_sha256=_meta_hash(meta),
            )
        )
    return tuple(out)


def _get(index: IndexConfig, url: str, *, accept: str, limit: int) -> bytes | None:
    """The body of `url` (at most `limit` bytes); None for 404/410 or a missing local file.
    Raises `IndexUnreachable`."""
    import urllib.error  # noqa: PLC0415 - see the imports
    import urllib.request  # noqa: PLC0415

    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        path = Path(urllib.request.url2pathname(parts.path))
        path = path / "index.html" if path.is_dir() else path
        try:
            with path.open("rb") as f:
                return f.read(limit + 1)[:limit]
        except FileNotFoundError:
            return None
        except OSError as e:
            raise IndexUnreachable(shown(e)) from e
    if parts.scheme not in ("http", "https"):
        raise IndexUnreachable(f"{parts.scheme}: URLs are not read")
    headers = {"Accept": accept, "User-Agent": "imagekit"}
    if parts.username is not None:  # https://user:token@host/simple, as pip accepts it
        pair = (
            f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        )
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        host = parts.hostname or ""
        url = urllib.parse.urlunsplit(
            parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host)
        )
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http(s) only)
    try:
        tls = _tls(index.cert)
        with urllib.request.urlopen(request, timeout=index.timeout, context=tls) as r:  # noqa: S310 (http(s) only, checked above)
            data: bytes = r.read(limit + 1)
    except urllib.error.HTTPError as e:
        if e.code in (404, 410):
            return None
        raise IndexUnreachable(f"HTTP {e.code}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise IndexUnreachable(shown(reason)) from e
    if len(data) > limit:
        raise IndexUnreachable(f"{shown(url)} is larger than {limit} bytes")
    return data


@functools.cache
def _tls(cert: str | None) -> ssl.SSLContext:
    import ssl  # noqa: PLC0415 - see the imports

    if cert and Path(cert).is_file():
        return ssl.create_default_context(cafile=cert)
    return ssl.create_default_context()
