"""A Diff as Markdown (a pull-request comment), plain text, or JSON."""

from __future__ import annotations

import json

from imagekit.diff.model import Change, Diff, RiskClass

_HEADER = "| what | name | change | old | new | reason |\n| --- | --- | --- | --- | --- | --- |"


def summary_line(diff: Diff) -> str:
    """`2 numeric-risk, 1 behaviour, 5 benign`, or `no changes`."""
    if not diff.changes:
        return "no changes"
    return ", ".join(f"{n} {risk.value}" for risk, n in diff.counts().items())


def to_json(diff: Diff) -> str:
    return json.dumps(diff.to_dict(), indent=2, sort_keys=True) + "\n"


def to_markdown(diff: Diff) -> str:
    """A summary line with the count per class, then one table per class, numeric-risk first."""
    counts = diff.counts()
    bold = [
        f"**{n} {risk.value}**" if n and risk is not RiskClass.BENIGN else f"{n} {risk.value}"
        for risk, n in counts.items()
    ]
    lines = [
        f"### imagekit diff: `{_code(diff.old)}` → `{_code(diff.new)}`",
        "",
        ", ".join(bold) if diff.changes else "No changes.",
    ]
    shared = _shared_names(diff.changes)
    for risk in RiskClass:
        changes = diff.of_class(risk)
        if changes:
            lines += ["", f"#### {risk.value} ({len(changes)})", "", _HEADER]
            lines += [_row(c, c.name in shared) for c in changes]
    return "\n".join(lines) + "\n"


def to_text(diff: Diff) -> str:
    """One line per change, then the summary."""
    shared = _shared_names(diff.changes)
    lines = [
        f"{c.risk.value:<12} {c.subject.value:<8} {_name(c, shared=c.name in shared)} "
        f"{c.kind.value} {_versions(c)}  ({c.reason})"
        for c in diff.changes
    ]
    lines.append(f"{diff.old} -> {diff.new}: {summary_line(diff)}")
    return "\n".join(lines) + "\n"


def _shared_names(changes: tuple[Change, ...]) -> set[str]:
    """Names that appear in more than one environment: only those show their environment."""
    environments: dict[tuple[str, str], set[str]] = {}
    for c in changes:
        environments.setdefault((c.subject.value, c.name), set()).add(c.environment)
    return {name for (_, name), found in environments.items() if len(found) > 1}


def _name(change: Change, *, shared: bool) -> str:
    return f"{change.name} ({change.environment})" if shared and change.environment else change.name


def _versions(change: Change) -> str:
    return f"{change.old or '-'} -> {change.new or '-'}"


def _row(change: Change, shared: bool) -> str:
    detail = f" ({change.detail})" if change.detail else ""
    cells = (
        change.subject.value,
        _name(change, shared=shared),
        change.kind.value + detail,
        change.old or "",
        change.new or "",
        change.reason,
    )
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return text.replace("`", "'")
