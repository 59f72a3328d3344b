"""What a verification found: how each image ran, and each output's comparison."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from imagekit.errors import ImagekitError
from imagekit.verify.compare import FieldComparison
from imagekit.verify.spec import OutputFormat, Tolerance, VerifyInput


class VerifyError(ImagekitError):
    """Verification cannot start or cannot finish: no [verify] table, a missing image, a
    golden that does not match its manifest. Raised before any container runs when it can be."""


class RunStatus(enum.StrEnum):
    OK = "ok"  # exit status 0
    FAILED = "failed"  # a non-zero exit status
    TIMEOUT = "timeout"  # killed after the time limit


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRun:
    """One run of the verify command in one image (or the golden files standing in for it)."""

    role: str  # "baseline", "candidate" or "golden"
    image: str
    image_id: str
    status: RunStatus
    exit_code: int | None = None
    seconds: float = 0.0
    log_tail: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK

    def describe(self) -> str:
        match self.status:
            case RunStatus.OK:
                return f"exit 0 in {self.seconds:.1f} s"
            case RunStatus.FAILED:
                return f"exit {self.exit_code} after {self.seconds:.1f} s"
            case RunStatus.TIMEOUT:
                return f"timed out after {self.seconds:.0f} s; killed and removed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "image": self.image,
            "image_id": self.image_id,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "log_tail": list(self.log_tail),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputComparison:
    """One declared output: present and readable on both sides, and each field's verdict."""

    name: str
    format: OutputFormat
    tolerance: Tolerance
    problem: str | None = None  # missing, unreadable, or fields that do not pair up
    fields: tuple[FieldComparison, ...] = ()

    @property
    def ok(self) -> bool:
        return self.problem is None and all(f.ok for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format.value,
            "ok": self.ok,
            "problem": self.problem,
            "tolerance": self.tolerance.to_dict(),
            "fields": [f.to_dict() for f in self.fields],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    """Everything `imagekit verify` found, ready for Markdown or JSON."""

    project: str
    command: tuple[str, ...]
    env: dict[str, str]
    inputs: tuple[VerifyInput, ...]
    baseline: ImageRun
    candidate: ImageRun
    outputs: tuple[OutputComparison, ...] = ()
    diff: str | None = None  # `imagekit diff` of the two images, when it is available
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        runs_ok = self.baseline.ok and self.candidate.ok
        return runs_ok and bool(self.outputs) and all(o.ok for o in self.outputs)

    @property
    def failures(self) -> tuple[str, ...]:
        """One line per reason the verification failed."""
        lines = [
            f"{run.role} {run.image}: {run.describe()}"
            for run in (self.baseline, self.candidate)
            if not run.ok
        ]
        for output in self.outputs:
            if output.problem:
                lines.append(f"{output.name}: {output.problem}")
            lines.extend(
                f"{output.name}{_field_suffix(f.field)}: {f.problem or _outside(f)}"
                for f in output.fields
                if not f.ok
            )
        return tuple(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "project": self.project,
            "command": list(self.command),
            "env": dict(self.env),
            "inputs": [i.to_dict() for i in self.inputs],
            "baseline": self.baseline.to_dict(),
            "candidate": self.candidate.to_dict(),
            "outputs": [o.to_dict() for o in self.outputs],
            "failures": list(self.failures),
            "diff": self.diff,
            "notes": list(self.notes),
        }


def _field_suffix(name: str) -> str:
    return f"[{name}]" if name else ""


def _outside(f: FieldComparison) -> str:
    worst = f.worst[0] if f.worst else None
    at = f" (worst at {worst.where}: {worst.baseline} -> {worst.candidate})" if worst else ""
    return f"{f.outside} of {f.count} elements outside the tolerance{at}"
