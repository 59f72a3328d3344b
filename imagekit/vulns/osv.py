"""OSV records (https://ossf.github.io/osv-schema/) parsed into frozen dataclasses.

Only what the scan uses is kept: ids and aliases, withdrawal, affected packages with their
`versions` lists and `ranges` of events, severities, references and the record's own
`database_specific.severity`. A record that does not follow the schema raises `OsvFormatError`
with the JSON path of the problem; the caller turns that into a warning and goes on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from imagekit.errors import InputError
from imagekit.limits import check_version_text, load_json

T = TypeVar("T")

_TYPE_NAMES: dict[type, str] = {str: "a string", list: "an array", dict: "an object"}


class OsvFormatError(ValueError):
    """A record does not follow the OSV schema; the message names the JSON path."""


class RangeType(enum.StrEnum):
    ECOSYSTEM = "ECOSYSTEM"
    SEMVER = "SEMVER"
    GIT = "GIT"


class EventKind(enum.StrEnum):
    INTRODUCED = "introduced"
    FIXED = "fixed"
    LAST_AFFECTED = "last_affected"
    LIMIT = "limit"


_RANGE_TYPES = frozenset(t.value for t in RangeType)
_EVENT_KINDS = frozenset(k.value for k in EventKind)


class _Obj:
    """A JSON object with the path it was found at; typed getters raise `OsvFormatError`."""

    __slots__ = ("data", "path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise OsvFormatError(f"{path or 'the record'} must be an object")
        self.data: Mapping[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def typed(self, key: str, kind: type[T]) -> T | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, kind):
            got = _TYPE_NAMES.get(type(value), type(value).__name__)
            raise OsvFormatError(f"{self.at(key)} must be {_TYPE_NAMES[kind]}, got {got}")
        return value

    def req_str(self, key: str) -> str:
        value = self.typed(key, str)
        if not value:
            raise OsvFormatError(f"{self.at(key)} is missing (a non-empty string is required)")
        return value

    def version(self, key: str) -> str:
        """A required version string, no longer than `MAX_VERSION_LENGTH`."""
        return _bounded_version(self.req_str(key), self.at(key))

    def strs(self, key: str) -> tuple[str, ...]:
        items = self.typed(key, list) or []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise OsvFormatError(f"{self.at(key)}[{i}] must be a string")
        return tuple(items)

    def objs(self, key: str) -> list[_Obj]:
        items = self.typed(key, list) or []
        return [_Obj(item, f"{self.at(key)}[{i}]") for i, item in enumerate(items)]

    def obj(self, key: str) -> _Obj | None:
        value = self.typed(key, dict)
        return None if value is None else _Obj(value, self.at(key))


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    kind: EventKind
    version: str

    def to_dict(self) -> dict[str, str]:
        return {self.kind.value: self.version}


@dataclass(frozen=True, slots=True, kw_only=True)
class Range:
    type: str  # a RangeType value, or one this reader does not know (kept, never evaluated)
    events: tuple[Event, ...]
    repo: str | None = None

    @property
    def range_type(self) -> RangeType | None:
        return RangeType(self.type) if self.type in _RANGE_TYPES else None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"type": self.type, "events": [e.to_dict() for e in self.events]}
        if self.repo:
            out["repo"] = self.repo
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class SeverityScore:
    type: str  # CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu...
    score: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "score": self.score}


@dataclass(frozen=True, slots=True, kw_only=True)
class Affected:
    """One affected package; `ecosystem` and `name` are None when the entry names no package
    (a GIT-only entry of a CVE record): such an entry can never match an installed package."""

    ecosystem: str | None
    name: str | None
    purl: str | None
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    severity: tuple[SeverityScore, ...] = ()

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.ecosystem is not None and self.name is not None:
            package = {"ecosystem": self.ecosystem, "name": self.name}
            out["package"] = package | ({"purl": self.purl} if self.purl else {})
        if self.severity:
            out["severity"] = [s.to_dict() for s in self.severity]
        if self.ranges:
            out["ranges"] = [r.to_dict() for r in self.ranges]
        if self.versions:
            out["versions"] = list(self.versions)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    type: str
    url: str

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "url": self.url}


@dataclass(frozen=True, slots=True, kw_only=True)
class OsvRecord:
    """One OSV record. `origin` says where it was read (a file, `all.zip:member`, a URL)."""

    id: str
    origin: str
    modified: str | None = None
    published: str | None = None
    withdrawn: str | None = None
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str | None = None
    details: str | None = None
    severity: tuple[SeverityScore, ...] = ()
    affected: tuple[Affected, ...] = ()
    references: tuple[Reference, ...] = ()
    database_severity: str | None = None  # database_specific.severity (GHSA: LOW..CRITICAL)

    @property
    def ids(self) -> frozenset[str]:
        """The record's id and its aliases: the names of the same vulnerability."""
        return frozenset((self.id, *self.aliases))

    @classmethod
    def from_dict(cls, data: object, *, origin: str) -> OsvRecord:
        """Parse one record; raises `OsvFormatError` naming the JSON path of the problem."""
        obj = _Obj(data, "")
        db = obj.obj("database_specific")
        db_severity = db.data.get("severity") if db else None
        return cls(
            id=obj.req_str("id"),
            origin=origin,
            modified=obj.typed("modified", str),
            published=obj.typed("published", str),
            withdrawn=obj.typed("withdrawn", str),
            aliases=obj.strs("aliases"),
            related=obj.strs("related"),
            summary=obj.typed("summary", str),
            details=obj.typed("details", str),
            severity=_severities(obj),
            affected=tuple(_affected(a) for a in obj.objs("affected")),
            references=tuple(
                Reference(type=r.typed("type", str) or "WEB", url=r.req_str("url"))
                for r in obj.objs("references")
            ),
            database_severity=db_severity if isinstance(db_severity, str) else None,
        )

    @classmethod
    def from_json(cls, text: str | bytes, *, origin: str) -> OsvRecord:
        """Parse one record's JSON text (bounded in size and depth); raises `OsvFormatError`."""
        try:
            data = load_json(text, origin)
        except InputError as e:
            raise OsvFormatError(e.message) from e
        return cls.from_dict(data, origin=origin)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.id}
        for key in ("modified", "published", "withdrawn", "summary", "details"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for key in ("aliases", "related"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if self.severity:
            out["severity"] = [s.to_dict() for s in self.severity]
        if self.affected:
            out["affected"] = [a.to_dict() for a in self.affected]
        if self.references:
            out["references"] = [r.to_dict() for r in self.references]
        if self.database_severity is not None:
            out["database_specific"] = {"severity": self.database_severity}
        return out


def _severities(obj: _Obj) -> tuple[SeverityScore, ...]:
    return tuple(
        SeverityScore(type=s.req_str("type"), score=s.req_str("score"))
        for s in obj.objs("severity")
    )


def _event(obj: _Obj) -> Event:
    keys = [k for k, v in obj.data.items() if v is not None]
    if len(keys) != 1 or keys[0] not in _EVENT_KINDS:
        raise OsvFormatError(
            f"{obj.path} must have exactly one of introduced, fixed, last_affected, limit "
            f"(has {', '.join(sorted(keys)) or 'none'})"
        )
    return Event(kind=EventKind(keys[0]), version=obj.version(keys[0]))


def _range(obj: _Obj) -> Range:
    events = tuple(_event(e) for e in obj.objs("events"))
    kinds = {e.kind for e in events}
    if EventKind.FIXED in kinds and EventKind.LAST_AFFECTED in kinds:
        raise OsvFormatError(f"{obj.at('events')} has both fixed and last_affected events")
    return Range(type=obj.req_str("type"), events=events, repo=obj.typed("repo", str))


def _affected(obj: _Obj) -> Affected:
    package = obj.obj("package")
    return Affected(
        ecosystem=package.req_str("ecosystem") if package else None,
        name=package.req_str("name") if package else None,
        purl=package.typed("purl", str) if package else None,
        ranges=tuple(_range(r) for r in obj.objs("ranges")),
        versions=tuple(
            _bounded_version(v, f"{obj.at('versions')}[{i}]")
            for i, v in enumerate(obj.strs("versions"))
        ),
        severity=_severities(obj),
    )


def _bounded_version(version: str, path: str) -> str:
    """`version`, unless it is longer than any real one (`MAX_VERSION_LENGTH`): a version of
    thousands of digits would make PEP 440 parsing raise, so the record is refused first."""
    try:
        check_version_text(version, path)
    except InputError as e:
        raise OsvFormatError(f"{path}: {e.message}") from e
    return version
