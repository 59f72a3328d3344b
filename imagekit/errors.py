"""Errors and findings: every problem names where it came from and what to do.

`ImagekitError` is the root of everything the CLI maps to an exit code. Checks collect
`Finding`s with an `ErrorCollector` so that a user with five problems hears about five, once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where something was read: a file, and a line or a TOML key path inside it."""

    file: Path
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        text = str(self.file)
        if self.line is not None:
            text += f":{self.line}"
        if self.key:
            text += f": {self.key}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {"file": str(self.file), "line": self.line, "key": self.key}


UNREADABLE = "input"  # the rule of a finding about a file that could not be read


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem: where, which rule, what is wrong, and how to fix it."""

    location: Location
    rule: str
    message: str
    fix: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.location}: {self.message} [{self.rule}] (fix: {self.fix})"

    def to_dict(self) -> dict[str, object]:
        return {
            "location": self.location.to_dict(),
            "rule": self.rule,
            "message": self.message,
            "fix": self.fix,
            "severity": self.severity.value,
        }


class ImagekitError(Exception):
    """Base of every error imagekit raises on purpose; its text is one line for the user."""

    exit_code = 2


class InputError(ImagekitError):
    """An input file is missing, unreadable or malformed."""

    def __init__(self, location: Location | Path, message: str, fix: str = "") -> None:
        self.location = location if isinstance(location, Location) else Location(file=location)
        self.message = message
        self.fix = fix
        suffix = f" ({fix})" if fix else ""
        super().__init__(f"{self.location}: {message}{suffix}")


class FindingsError(ImagekitError):
    """Checks found problems; carries all of them."""

    exit_code = 1

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        self.findings = findings
        errors = [f for f in findings if f.severity is Severity.ERROR]
        first = str(errors[0]) if errors else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class ErrorCollector:
    """Collects findings across a whole check, then raises them together."""

    def __init__(self) -> None:
        self._findings: list[Finding] = []

    def add(self, finding: Finding) -> None:
        self._findings.append(finding)

    def error(self, location: Location, rule: str, message: str, fix: str) -> None:
        self.add(Finding(location=location, rule=rule, message=message, fix=fix))

    def warn(self, location: Location, rule: str, message: str, fix: str) -> None:
        self.add(
            Finding(
                location=location, rule=rule, message=message, fix=fix, severity=Severity.WARNING
            )
        )

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(self._findings)

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Turn an `InputError` raised inside the block into a finding, and go on."""
        try:
            yield
        except InputError as e:
            self.error(e.location, UNREADABLE, e.message, e.fix or "correct the file")

    def raise_if_errors(self) -> None:
        if any(f.severity is Severity.ERROR for f in self._findings):
            raise FindingsError(self.findings)
