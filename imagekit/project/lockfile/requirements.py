"""requirements.txt with `--hash` options, as pip-compile and `uv pip compile` write it.

The grammar is pip's: `\\` continues a line, `#` after whitespace starts a comment, a line
is an option (`-r`, `-c`, `-e`, `-i`, ...) or a requirement with per-requirement options
(`--hash=sha256:...`). Unpinned or unhashed requirements are recorded as written; only
what pip itself could not read raises `LockError`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    canonicalize_name,
)
from packaging.version import InvalidVersion, Version

from imagekit.errors import Location
from imagekit.limits import check_version_text, shown
from imagekit.paths import contained, read_regular
from imagekit.project.lockfile._common import decode_text, prefixed_sha256, unique
from imagekit.project.lockfile._direct import direct_package, file_version, is_direct, source_kind
from imagekit.project.lockfile.interface import (
    Lock,
    LockedPackage,
    LockError,
    LockFormat,
    Sha256,
    SourceKind,
)

_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTIONS_START = re.compile(r"\s-")

_SHORT = {"-r": "--requirement", "-c": "--constraint", "-e": "--editable", "-i": "--index-url"}
_SHORT |= {"-f": "--find-links"}
_WITH_VALUE = frozenset(_SHORT.values()) | {
    "--extra-index-url",
    "--trusted-host",
    "--only-binary",
    "--no-binary",
    "--use-feature",
}
_FLAGS = frozenset({"--no-index", "--pre", "--prefer-binary", "--require-hashes"})
_PER_REQUIREMENT = frozenset({"--hash", "--config-settings", "--global-option"})

# pip-compile writes one flat file; hand-written layers (`-r base.txt` in `-r dev.txt`) are a
# few deep. A longer chain is hostile, and each level costs Python stack frames.
MAX_INCLUDE_DEPTH = 32
# Every file read, counted over the whole tree: a file that includes another twice, which
# includes another twice, ... would otherwise be read 2**depth times.
MAX_INCLUDED_FILES = 256


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each non-empty logical line, comments removed, with the line number it starts on.

    As in pip, a comment line ends a continued line rather than being continued.
    """
    start: int | None = None
    parts: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        is_comment = bool(_COMMENT.match(line))
        if line.endswith("\\") and not is_comment:
            start = number if start is None else start
            parts.append(line[:-1])
            continue
        start = number if start is None else start
        parts.append("" if is_comment else line)
        logical = _COMMENT.sub("", "".join(parts)).strip()
        if logical:
            yield start, logical
        start, parts = None, []
    if parts:  # a file that ends in a continuation
        logical = _COMMENT.sub("", "".join(parts)).strip()
        if logical and start is not None:
            yield start, logical


def looks_like_requirements(text: str) -> bool:
    """Whether the first logical line reads as a pip option or a requirement."""
    for _, line in logical_lines(text):
        split = _OPTIONS_START.search(line)
        head = line if split is None else line[: split.start()]
        if line.startswith("-") or is_direct(head):
            return True
        try:
            Requirement(head)
        except InvalidRequirement:
            return False
        return True
    return False


class RequirementsReader:
    """Reads requirements files (`requirements*.txt`, `requirements*.lock`)."""

    format: LockFormat = LockFormat.REQUIREMENTS

    def matches(self, path: Path) -> bool:
        name = path.name.lower()
        return (name.endswith(".txt") and "requirements" in name) or (
            name.endswith(".lock") and name.startswith("requirements")
        )

    def read(self, path: Path, text: str) -> Lock:
        """Parse a requirements file and what it includes.

        Raises `LockError` (file:line) for a line pip could not read, an unknown option, a
        malformed hash, or an include that is missing, remote, circular, outside the lock's
        folder, not a regular file, or nested too deep.
        """
        parser = _Parser(path.parent)
        parser.parse(path, text, constraints=False)
        return Lock(
            path=path,
            format=self.format,
            packages=tuple(parser.packages),
            index_urls=unique([parser.index_url, *parser.extra_index_urls]),
        )


class _Parser:
    """Walks one requirements file and its includes, collecting packages and indexes."""

    def __init__(self, root: Path) -> None:
        self.packages: list[LockedPackage] = []
        self.index_url: str | None = None
        self.extra_index_urls: list[str] = []
        self._root = root  # includes are read from inside the lock's own folder only
        self._stack: list[Path] = []
        self._read = 0

    def parse(self, path: Path, text: str, *, constraints: bool) -> None:
        """Parse one file; a constraints file is checked but installs nothing."""
        self._stack.append(path.resolve())
        for number, line in logical_lines(text):
            where = Location(file=path, line=number)
            if line.startswith("-"):
                self._options(line, where, constraints=constraints)
            else:
                package = _requirement_line(line, where)
                if not constraints:
                    self.packages.append(package)
        self._stack.pop()

    def _options(self, line: str, where: Location, *, constraints: bool) -> None:
        try:
            tokens = shlex.split(line)
        except ValueError as e:
            raise LockError(
                where, f"cannot read options {shown(line)}: {e}", "fix the quoting"
            ) from e
        i = 0
        while i < len(tokens):
            name, value, i = _take_option(tokens, i, where)
            self._apply(name, value, where, constraints=constraints)

    def _apply(self, name: str, value: str, where: Location, *, constraints: bool) -> None:
        # Options not named here (--find-links, --trusted-host, --no-binary, ...) steer pip's
        # search, not what is installed: imagekit fetches the locked files itself and checks
        # their hashes, so they are read and then ignored.
        if name in ("--requirement", "--constraint"):
            self._include(value, where, constraints=constraints or name == "--constraint")
        elif name == "--editable":
            if not constraints:
                self.packages.append(direct_package(value, where, frozenset(), editable=True))
        elif name == "--index-url":
            self.index_url = value  # as in pip, the last one wins
        elif name == "--extra-index-url":
            self.extra_index_urls.append(value)

    def _include(self, value: str, where: Location, *, constraints: bool) -> None:
        """Read an included file: inside the lock's folder, a regular file, bounded."""
        if "://" in value:
            raise LockError(
                where,
                f"cannot include {shown(value)}: remote requirement files are not read",
                "download it next to the lock and include it by path",
            )
        self._check_bounds(where)
        target = contained(
            self._root, where.file.parent, value, where, "included file", error=LockError
        )
        if target.resolve() in self._stack:
            raise LockError(where, f"{shown(value)} includes itself", "remove the circular -r/-c")
        try:
            data = read_regular(target, where, "included file", error=LockError)
        except FileNotFoundError as e:
            raise LockError(
                where,
                f"included file {shown(value)} not found",
                "create it or correct the -r/-c path",
            ) from e
        self.parse(target, decode_text(target, data), constraints=constraints)

    def _check_bounds(self, where: Location) -> None:
        """Raises `LockError` past `MAX_INCLUDE_DEPTH` nested or `MAX_INCLUDED_FILES` files."""
        self._read += 1
        if len(self._stack) >= MAX_INCLUDE_DEPTH:
            raise LockError(
                where,
                f"includes nest deeper than {MAX_INCLUDE_DEPTH} files",
                "include the files from one place instead of a chain",
            )
        if self._read > MAX_INCLUDED_FILES:
            raise LockError(
                where,
                f"more than {MAX_INCLUDED_FILES} files included in all",
                "include each file once",
            )


def _take_option(tokens: list[str], i: int, where: Location) -> tuple[str, str, int]:
    """The option at `tokens[i]`, its value ("" for a flag) and the index after it."""
    token = tokens[i]
    if not token.startswith("-"):
        raise LockError(
            where, f"unexpected '{shown(token)}' among options", "one requirement a line"
        )
    if token.startswith("--"):
        name, eq, value = token.partition("=")
    else:
        name, value = _SHORT.get(token[:2], token[:2]), token[2:]
        eq = "=" if value else ""
    if name in _FLAGS:
        return name, "", i + 1
    if name in _PER_REQUIREMENT:
        raise LockError(
            where,
            f"{shown(name)} is not on a requirement line",
            "end the line before it with `\\` to continue the requirement",
        )
    if name not in _WITH_VALUE:
        raise LockError(
            where,
            f"unknown option {shown(name)}",
            "remove it; imagekit reads pip's requirement options",
        )
    if eq:
        return name, value, i + 1
    if i + 1 >= len(tokens):
        raise LockError(
            where, f"option {shown(name)} needs a value", f"write `{shown(name)} VALUE`"
        )
    return name, tokens[i + 1], i + 2


def _requirement_line(line: str, where: Location) -> LockedPackage:
    """A requirement with its per-requirement options; raises `LockError` if unreadable."""
    split = _OPTIONS_START.search(line)
    text = line if split is None else line[: split.start()]
    hashes = frozenset() if split is None else _hashes(line[split.start() :].split(), where)
    if is_direct(text):
        return direct_package(text, where, hashes, editable=False)
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        # packaging's message repeats the line under a caret: keep its first line only.
        reason = shown(str(e).splitlines()[0] if str(e) else "")
        raise LockError(
            where,
            f"not a valid requirement: '{shown(text)}' ({reason})",
            "write `name==version --hash=sha256:...` or regenerate the file",
        ) from e
    name = canonicalize_name(req.name)
    source, version = SourceKind.INDEX, _pinned(req.specifier, where)
    if req.url:
        source = source_kind(req.url)
        version = file_version(req.url, name)
    return LockedPackage(
        name=name,
        raw_name=req.name,
        location=where,
        version=version,
        specifier=str(req.specifier),
        hashes=hashes,
        marker=req.marker,
        source=source,
        url=req.url,
        extras=tuple(sorted(req.extras)),
    )


def _hashes(tokens: list[str], where: Location) -> frozenset[Sha256]:
    """The sha256 digests among a requirement's options; others are ignored."""
    out: set[Sha256] = set()
    i = 0
    while i < len(tokens):
        name, eq, value = tokens[i].partition("=")
        if name not in _PER_REQUIREMENT:
            raise LockError(
                where,
                f"option {shown(name)} is not allowed on a requirement line",
                "put it on a line of its own, or remove it",
            )
        if not eq:
            if i + 1 >= len(tokens):
                raise LockError(
                    where, f"option {shown(name)} needs a value", f"write `{shown(name)}=VALUE`"
                )
            i += 1
            value = tokens[i]
        if name == "--hash":
            digest = prefixed_sha256(value.strip("'\""), where)
            if digest is not None:
                out.add(digest)
        i += 1
    return frozenset(out)


def _pinned(specifier: SpecifierSet, where: Location) -> Version | None:
    """The one version an `==`/`===` specifier pins, else None."""
    specs = list(specifier)
    if len(specs) != 1 or specs[0].operator not in ("==", "===") or "*" in specs[0].version:
        return None
    check_version_text(specs[0].version, where)
    try:
        return Version(specs[0].version)
    except InvalidVersion:
        return None


READER = RequirementsReader()  # found by its LockFormat value: see reader_for
