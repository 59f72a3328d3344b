"""The last thing a test run prints: every skipped test, counted by its reason, and the fix.

A run without a Docker daemon, a registry or buildah still exits 0 with those tests skipped;
this block (registered by tests/conftest.py) makes that impossible to miss. It is printed at
unconfigure, after pytest's own summary line, so it is the end of the output.
"""

from __future__ import annotations

from collections import Counter

import pytest

# A reason containing the key gets the fix beside it (the reasons themselves name apt packages).
FIXES = (
    (
        "no Docker daemon",
        'eval "$(make -s daemon-env)" after `make demo`, or: sudo make test-deps',
    ),
    ("docker-registry", "sudo make test-deps (installs it and starts a registry)"),
    ("buildah", "sudo make test-deps (installs buildah and skopeo)"),
    ("skopeo is not installed", "sudo make test-deps (installs buildah and skopeo)"),
    ("mmdebstrap is not installed", "sudo make test-deps"),
)
HEADER = (
    "tests skipped: the part each one needs is missing here (`bash .ci/run` provides all but GPUs)"
)


def skip_reason(report: pytest.TestReport) -> str:
    """The reason a skipped test gave, without pytest's "Skipped: " prefix."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr)
    return reason.removeprefix("Skipped: ")


def summary_lines(reports: list[pytest.TestReport]) -> list[str]:
    """One block: the count, then one line per reason (most skips first) with its fix."""
    counts = Counter(skip_reason(r) for r in reports if r.skipped)
    if not counts:
        return []
    total = sum(counts.values())
    lines = [f"{total} {HEADER}:"]
    for reason, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {n:>4}  {reason}")
        lines += [f"        fix: {fix}" for key, fix in FIXES if key in reason]
    return lines


def pytest_unconfigure(config: pytest.Config) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    lines = summary_lines(list(reporter.stats.get("skipped", [])))
    if lines:
        reporter.write_sep("=", "skipped tests", yellow=True)
        for line in lines:
            reporter.write_line(line)
