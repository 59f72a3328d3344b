"""What `imagekit update` did and decided, as a value and as Markdown."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit.errors import Finding
from imagekit.update.lock import PackageChange
from imagekit.update.security import Vulnerable
from imagekit.verify import VerifyReport, render_markdown


class Verdict(enum.StrEnum):
    PROMOTE = "promote"
    DO_NOT_PROMOTE = "do-not-promote"
    NO_CHANGE = "no-change"


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateReport:
    project: Path
    lock: Path
    command: tuple[str, ...]  # the re-lock command (uv or poetry), relative to the model folder
    verdict: Verdict
    reasons: tuple[str, ...]
    promoted: bool = False  # whether the lock was replaced
    companions: tuple[Path, ...] = ()  # files replaced with the lock (uv export's uv.lock)
    forced: str | None = None  # --force REASON
    requested: tuple[str, ...] = ()  # what uv was allowed to upgrade; (): everything
    pinned: tuple[str, ...] = ()  # requested packages that requirements.in pins with ==
    vulnerable: tuple[Vulnerable, ...] = ()  # --security-only: what the lock had
    changes: tuple[PackageChange, ...] = ()
    candidate_dir: Path | None = None
    findings: tuple[Finding, ...] = ()  # the candidate's checks
    current_image: str | None = None
    current_note: str = ""  # "reused" or "built"
    candidate_image: str | None = None
    scan: tuple[str, ...] = ()
    diff: str | None = None
    verify: VerifyReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": str(self.project),
            "lock": str(self.lock),
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "promoted": self.promoted,
            "forced": self.forced,
            "command": list(self.command),
            "requested": list(self.requested),
            "pinned": list(self.pinned),
            "vulnerable": [v.to_dict() for v in self.vulnerable],
            "changes": [c.to_dict() for c in self.changes],
            "candidate_dir": str(self.candidate_dir) if self.candidate_dir else None,
            "findings": [f.to_dict() for f in self.findings],
            "current_image": self.current_image,
            "candidate_image": self.candidate_image,
            "scan": list(self.scan),
            "diff": self.diff,
            "verify": self.verify.to_dict() if self.verify else None,
        }


# Where the report goes unless told: inside the model folder, beside the build record.
REPORT_PATH = Path(".imagekit") / "update" / "report.md"

_VERDICT_TEXT = {
    Verdict.PROMOTE: "**promote**",
    Verdict.DO_NOT_PROMOTE: "**do not promote**",
    Verdict.NO_CHANGE: "nothing to promote",
}


def render_update(report: UpdateReport) -> str:
    """The update report in Markdown: verdict first, then every step's evidence."""
    parts = [
        f"# imagekit update: {report.verdict.value}\n",
        _summary(report),
        _changes(report),
        _checks(report),
        _scan(report),
        "## Image diff\n",
        (report.diff.rstrip() + "\n") if report.diff else "No image diff (no candidate image).\n",
        _verify(report),
    ]
    return "\n".join(p for p in parts if p)


def write_update(report: UpdateReport, path: Path | None = None) -> Path:
    """Write the Markdown report to `path` (default: `REPORT_PATH` under the model folder),
    making its folder; returns where it went."""
    target = path or report.project / REPORT_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_update(report), encoding="utf-8")
    return target


def _summary(report: UpdateReport) -> str:
    lines = [f"Verdict: {_VERDICT_TEXT[report.verdict]}.", ""]
    lines += [f"- {reason}" for reason in report.reasons]
    if report.forced is not None:
        lines.append(f"- forced with --force: {report.forced}")
    lock = report.lock.name
    if report.promoted:
        lines.append(f"- `{lock}` replaced by the candidate lock; rebuild the image")
    else:
        lines.append(f"- `{lock}` left untouched")
    lines += ["", f"- project: `{report.project}`", f"- command: `{' '.join(report.command)}`"]
    what = ", ".join(f"`{r}`" for r in report.requested) or "every package"
    lines.append(f"- allowed to move: {what}")
    lines += [f"- pinned in the .in file, so it cannot move: `{p}`" for p in report.pinned]
    if report.candidate_dir:
        lines.append(f"- candidate copy: `{report.candidate_dir}`")
    images = (f"`{report.current_image}` ({report.current_note})", f"`{report.candidate_image}`")
    if report.candidate_image:
        lines.append(f"- images: current {images[0]}, candidate {images[1]}")
    return "\n".join(lines) + "\n"


def _changes(report: UpdateReport) -> str:
    lines = ["## Lock changes\n"]
    if report.vulnerable:
        lines.append("Known vulnerabilities in the current lock:\n")
        lines += [
            f"- {v.name} {v.version}: {', '.join(v.ids)} (fixed in "
            f"{', '.join(v.fixed) or 'no release yet'})"
            for v in report.vulnerable
        ]
        lines.append("")
    if not report.changes:
        return "\n".join([*lines, "No package changes.\n"])
    lines += ["| package | current | candidate | change |", "|---|---|---|---|"]
    lines += [f"| {c.name} | {c.old or ''} | {c.new or ''} | {c.kind} |" for c in report.changes]
    return "\n".join(lines) + "\n"


def _checks(report: UpdateReport) -> str:
    if not report.changes:
        return ""
    if not report.findings:
        return "## Checks\n\nThe candidate passes `imagekit check`.\n"
    lines = ["## Checks\n"]
    lines += [f"- {f.severity.value}: {f}" for f in report.findings]
    return "\n".join(lines) + "\n"


def _scan(report: UpdateReport) -> str:
    if not report.scan:
        return ""
    return "## Scan\n\n" + "\n".join(f"- {line}" for line in report.scan) + "\n"


def _verify(report: UpdateReport) -> str:
    if report.verify is None:
        return ""
    return render_markdown(report.verify, level=2, with_diff=False)  # the diff is above
