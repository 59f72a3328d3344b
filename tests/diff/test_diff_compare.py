"""Diffs of two hand-built Inventories: every kind of change, classed by the shipped table."""

from __future__ import annotations

import json

from _diff_inventories import NEW_MODEL, OLD_MODEL, VENV, after, before

from imagekit.diff import (
    ChangeKind,
    Ecosystem,
    Package,
    RiskClass,
    default_table,
    diff_snapshots,
    from_inventory,
    major_of,
    to_json,
    to_markdown,
)
from imagekit.diff.compare import pair_packages


def _diff() -> list[tuple[str, str, str, str, str | None, str | None, str]]:
    result = diff_snapshots(
        from_inventory(before(), "model:1.0.0"),
        from_inventory(after(), "model:1.1.0"),
        default_table(),
    )
    return [
        (c.risk.value, c.subject.value, c.name, c.kind.value, c.old, c.new, c.rule)
        for c in result.changes
    ]


def test_every_change_is_found_and_classed() -> None:
    assert _diff() == [
        (
            "numeric-risk",
            "artifact",
            "classifier",
            "changed",
            f"sha256:{OLD_MODEL}",
            f"sha256:{NEW_MODEL}",
            "artifact",
        ),
        ("numeric-risk", "cuda", "cuda", "upgraded", "12.4", "12.6", "cuda-minor"),
        ("numeric-risk", "deb", "libc6", "upgraded", "2.36-9+deb12u9", "2.36-9+deb12u10", "libm"),
        ("numeric-risk", "deb", "libgomp1", "removed", "12.2.0-14", None, "libgomp"),
        ("numeric-risk", "python", "numpy", "upgraded", "2.3.5", "2.4.1", "numpy"),
        (
            "numeric-risk",
            "python",
            "nvidia-cuda-runtime-cu12",
            "upgraded",
            "12.4.127",
            "12.6.77",
            "cuda-runtime",
        ),
        ("behaviour", "driver", "nvidia-driver", "upgraded", "550.54.14", "560.28.03", "driver"),
        ("behaviour", "licence", "attrs", "changed", "MIT", "Apache-2.0", "licence"),
        ("behaviour", "python", "click", "upgraded", "7.1.2", "8.1.7", "major-version"),
        ("behaviour", "python", "pydantic", "upgraded", "1.10.13", "2.5.0", "direct-dependency"),
        ("benign", "deb", "tzdata", "upgraded", "2024a-0+deb12u1", "2025b-0+deb12u1", "tzdata"),
        ("benign", "python", "packaging", "added", None, "24.2", "default"),
        ("benign", "python", "requests", "upgraded", "2.31.0", "2.32.3", "default"),
        ("benign", "python", "six", "removed", "1.16.0", None, "default"),
    ]


def test_the_reverse_diff_downgrades() -> None:
    result = diff_snapshots(
        from_inventory(after(), "new"), from_inventory(before(), "old"), default_table()
    )
    kinds = {(c.subject.value, c.name): c.kind for c in result.changes}
    assert kinds[("python", "numpy")] is ChangeKind.DOWNGRADED
    assert kinds[("deb", "libc6")] is ChangeKind.DOWNGRADED
    assert kinds[("cuda", "cuda")] is ChangeKind.DOWNGRADED
    assert kinds[("python", "six")] is ChangeKind.ADDED


def test_an_unchanged_environment_is_no_change() -> None:
    """numpy 1.24.2 in Debian's dist-packages is the same on both sides: one numpy change."""
    result = diff_snapshots(
        from_inventory(before(), "a"), from_inventory(after(), "b"), default_table()
    )
    numpy = [c for c in result.changes if c.name == "numpy"]
    assert [(c.environment, c.old, c.new) for c in numpy] == [(VENV, "2.3.5", "2.4.1")]


def test_identical_inputs_have_no_changes() -> None:
    same = from_inventory(before(), "a")
    result = diff_snapshots(same, same, default_table())
    assert result.changes == ()
    assert to_markdown(result).splitlines()[2] == "No changes."


def test_a_package_that_moved_environment_is_matched_by_name() -> None:
    old = Package(
        ecosystem=Ecosystem.PYTHON,
        name="numpy",
        environment="/opt/venv/lib/python3.11/site-packages",
        version="2.3.5",
    )
    new = Package(
        ecosystem=Ecosystem.PYTHON,
        name="numpy",
        environment="/opt/venv/lib/python3.12/site-packages",
        version="2.3.5",
    )
    assert pair_packages([old], [new]) == [(old, new)]


def test_majors_follow_semver_with_epochs_and_zero_majors() -> None:
    assert major_of(Ecosystem.PYTHON, "2.4.1") == (0, 2)
    assert major_of(Ecosystem.PYTHON, "0.24.1") == (0, 0, 24)  # 0.y: the minor is the major
    assert major_of(Ecosystem.PYTHON, "1!2.0") == (1, 2)
    assert major_of(Ecosystem.DEB, "1:2.36-9") == (1, 2)
    assert major_of(Ecosystem.DEB, "2.36-9+deb12u10") == (0, 2)
    assert major_of(Ecosystem.PYTHON, "not a version") is None


def test_markdown_puts_numeric_risk_first_with_its_reason() -> None:
    result = diff_snapshots(
        from_inventory(before(), "model:1.0.0"),
        from_inventory(after(), "model:1.1.0"),
        default_table(),
    )
    text = to_markdown(result)
    lines = text.splitlines()
    assert lines[0] == "### imagekit diff: `model:1.0.0` → `model:1.1.0`"
    assert lines[2] == "**6 numeric-risk**, **4 behaviour**, 4 benign"
    headings = [line for line in lines if line.startswith("#### ")]
    assert headings == ["#### numeric-risk (6)", "#### behaviour (4)", "#### benign (4)"]
    assert (
        "| python | numpy (/opt/venv/lib/python3.11/site-packages) | upgraded | 2.3.5 | 2.4.1 | array kernels, SIMD dispatch "
        "and dtype promotion (NEP 50 in 2.0) change results; wheels bundle their own OpenBLAS |"
    ) not in lines  # numpy changed in one environment only: no environment shown
    assert (
        "| python | numpy | upgraded | 2.3.5 | 2.4.1 | array kernels, SIMD dispatch and dtype promotion "
        "(NEP 50 in 2.0) change results; wheels bundle their own OpenBLAS |"
    ) in lines
    assert "| licence | attrs | changed (python 23.2.0) | MIT | Apache-2.0 |" in text


def test_json_counts_every_class() -> None:
    result = diff_snapshots(
        from_inventory(before(), "a"), from_inventory(after(), "b"), default_table()
    )
    data = json.loads(to_json(result))
    assert data["summary"] == {"numeric-risk": 6, "behaviour": 4, "benign": 4}
    assert data["changes"][0] == {
        "subject": "artifact",
        "name": "classifier",
        "environment": "/opt/model/classifier.joblib",
        "change": "changed",
        "old": f"sha256:{OLD_MODEL}",
        "new": f"sha256:{NEW_MODEL}",
        "class": "numeric-risk",
        "reason": "the model's own bytes changed: every output may change; re-run the reference evaluation",
        "rule": "artifact",
        "detail": "",
    }
    assert [RiskClass(c["class"]) for c in data["changes"]] == sorted(
        (RiskClass(c["class"]) for c in data["changes"]), key=list(RiskClass).index
    )
