"""Diff inputs: two real lockfiles, two real CycloneDX SBOMs, Inventory JSON, and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _diff_inventories import after, before

from imagekit.diff import Change, DiffInputError, InputKind, diff, load_snapshot, to_markdown
from imagekit.errors import InputError
from imagekit.sbom import render_sbom

REPO = Path(__file__).resolve().parents[2]
IRIS_LOCK = REPO / "examples" / "iris" / "requirements.lock"
BUMPED_LOCK = REPO / "tests" / "data" / "diff" / "requirements.iris-numpy-2.4.lock"
NUMPY_ROW = (
    "| python | numpy | upgraded | 2.3.5 | 2.4.1 | array kernels, SIMD dispatch and dtype promotion "
    "(NEP 50 in 2.0) change results; wheels bundle their own OpenBLAS |"
)


def test_two_real_lockfiles_differ_in_numpy_only_and_it_is_numeric_risk() -> None:
    result = diff(str(IRIS_LOCK), str(BUMPED_LOCK))
    assert [(c.name, c.old, c.new, c.risk.value) for c in result.changes] == [
        ("numpy", "2.3.5", "2.4.1", "numeric-risk")
    ]
    lines = to_markdown(result).splitlines()
    assert lines[2:] == [
        "**1 numeric-risk**, 0 behaviour, 0 benign",
        "",
        "#### numeric-risk (1)",
        "",
        "| what | name | change | old | new | reason |",
        "| --- | --- | --- | --- | --- | --- |",
        NUMPY_ROW,
    ]


def test_a_lock_snapshot_knows_its_packages_and_where_they_are() -> None:
    snapshot = load_snapshot(str(IRIS_LOCK))
    assert snapshot.kind is InputKind.LOCK
    assert [(p.name, p.version) for p in snapshot.packages] == [
        ("joblib", "1.5.2"),
        ("numpy", "2.3.5"),
        ("scikit-learn", "1.7.2"),
        ("scipy", "1.16.3"),
        ("threadpoolctl", "3.6.0"),
    ]
    assert snapshot.packages[1].where == f"{IRIS_LOCK}:7"
    assert snapshot.cuda is None


def _write_sbom(path: Path, which: str) -> Path:
    inventory = before() if which == "before" else after()
    path.write_text(render_sbom(inventory, reproducible=True), encoding="utf-8")
    return path


def test_two_cyclonedx_sboms_diff_like_their_inventories(tmp_path: Path) -> None:
    """The SBOM writer's real output read back: the same changes as the Inventories give."""
    old = _write_sbom(tmp_path / "old.cdx.json", "before")
    new = _write_sbom(tmp_path / "new.cdx.json", "after")
    from_sboms = diff(str(old), str(new))
    (tmp_path / "old.inventory.json").write_text(json.dumps(before().to_dict()), encoding="utf-8")
    (tmp_path / "new.inventory.json").write_text(json.dumps(after().to_dict()), encoding="utf-8")
    from_inventories = diff(
        str(tmp_path / "old.inventory.json"), str(tmp_path / "new.inventory.json")
    )

    def key(c: Change) -> tuple[object, ...]:
        return (c.risk, c.subject, c.name, c.kind, c.old, c.new, c.rule)

    assert [key(c) for c in from_sboms.changes] == [key(c) for c in from_inventories.changes]
    assert from_sboms.counts() == from_inventories.counts()


def test_an_sbom_snapshot_reads_cuda_driver_and_direct_dependencies(tmp_path: Path) -> None:
    snapshot = load_snapshot(str(_write_sbom(tmp_path / "a.json", "before")))
    assert snapshot.kind is InputKind.SBOM
    assert (snapshot.cuda, snapshot.min_driver) == ("12.4", "550.54.14")
    assert snapshot.direct == frozenset({"numpy", "pydantic"})
    assert [a.name for a in snapshot.artifacts] == ["classifier"]


def test_json_that_is_not_an_sbom_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"name": "x"}', encoding="utf-8")
    with pytest.raises(
        DiffInputError,
        match=re.escape(
            f"{path}: neither a CycloneDX SBOM (no bomFormat) nor an imagekit Inventory"
        ),
    ):
        load_snapshot(str(path))


def test_malformed_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{path}:1: not JSON: ")):
        load_snapshot(str(path))


def test_an_sbom_whose_components_are_not_an_array_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.cdx.json"
    path.write_text('{"bomFormat": "CycloneDX", "components": {}}', encoding="utf-8")
    with pytest.raises(
        InputError, match=re.escape(f"{path}: components: must be an array (fix the SBOM)")
    ):
        load_snapshot(str(path))


def test_a_missing_lockfile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "requirements.lock"
    with pytest.raises(InputError, match=re.escape(f"{path}: file not found (correct the path)")):
        load_snapshot(str(path))


def test_a_lockfile_of_no_known_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.toml"
    path.write_text('x = "y"\n', encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{path}: unknown lockfile format")):
        load_snapshot(str(path))
