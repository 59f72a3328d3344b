"""Fuzz the OSV reader and matcher: real records with hostile bytes spliced in or hostile values
in every key, read from an export and matched against packages, give records and warnings,
never an exception; hostile installed versions are problems, never crashes."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _fuzz import EDITS, STRINGS, VALUES, key_paths, mutate, substitute
from _vulns_support import RECORDS, pypi
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagekit.vulns import Package, evaluate
from imagekit.vulns.export import SKIPPED_RULES, ExportSource
from imagekit.vulns.interface import Component
from imagekit.vulns.match import check_installed

SEEDS = {path.name: path.read_bytes() for path in sorted(RECORDS.glob("*.json"))}
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# The packages the fixtures name, at versions that hit and miss them (a local one among them).
PACKAGES = (
    pypi("pillow", "9.5.0"),
    pypi("torch", "2.5.1+cu124"),
    pypi("joblib", "1.1.0"),
    pypi("py", "1.11.0+local1"),
    pypi("numpy", "1.19.0"),
    pypi("scikit-learn", "0.23.0"),
    Package(
        ecosystem="Debian:12",
        name="openssl",
        version="3.0.11-1~deb12u1",
        components=(Component(name="libssl3", version="3.0.11-1~deb12u1"),),
    ),
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """One export folder for the module; each example rewrites its one record."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def read_and_match(folder: Path, data: bytes) -> None:
    """Read `data` as the export's only record and match what was read against every package:
    a record, or a one-line warning that it was skipped; matching never raises."""
    (folder / "record.json").write_bytes(data)
    result = ExportSource([folder]).fetch(PACKAGES)
    assert len(result.records) + len(result.warnings) <= 1  # read, skipped, or not wanted
    for warning in result.warnings:
        assert warning.rule in SKIPPED_RULES
        assert len(str(warning)) < 2000
    for record in result.records:
        for package in PACKAGES:
            evaluate(record, package)


def test_every_seed_is_read(folder: Path) -> None:
    for data in SEEDS.values():
        (folder / "record.json").write_bytes(data)
        result = ExportSource([folder]).fetch(PACKAGES)
        assert (len(result.records), result.warnings) == (1, ())


@settings(FUZZ, max_examples=200)
@given(seed=st.sampled_from(sorted(SEEDS)), edits=EDITS)
@example(seed="PYSEC-2022-42969.json", edits=[(0.5, 0, b"[" * 300)])
@example(seed="GHSA-887c-mr87-cxwp.json", edits=[(0.0, 0, b"\xff\xfe")])
def test_mutated_records_are_read_or_skipped(
    folder: Path, seed: str, edits: list[tuple[float, int, bytes]]
) -> None:
    read_and_match(folder, mutate(SEEDS[seed], edits))


@settings(FUZZ, max_examples=200)
@given(seed=st.sampled_from(sorted(SEEDS)), data=st.data())
def test_hostile_values_are_read_or_skipped(folder: Path, seed: str, data: st.DataObject) -> None:
    document: Any = json.loads(SEEDS[seed])
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        paths = key_paths(document)
        if not paths:
            break
        substitute(document, data.draw(st.sampled_from(paths)), data.draw(VALUES))
    read_and_match(folder, json.dumps(document).encode())


@settings(FUZZ, max_examples=200)
@given(version=STRINGS, seed=st.sampled_from(sorted(SEEDS)))
@example(version="1." + "9" * 5000, seed="PYSEC-2022-42969.json")
@example(version="9" * 5000 + "-1", seed="DSA-5532-1.json")
@example(version="1.0+" + "a" * 5000, seed="GHSA-887c-mr87-cxwp.json")
def test_hostile_installed_versions_are_problems_not_crashes(version: str, seed: str) -> None:
    (folder_record,) = ExportSource([RECORDS / seed]).fetch(PACKAGES).records
    for package in PACKAGES:
        hostile = Package(
            ecosystem=package.ecosystem,
            name=package.name,
            version=version,
            components=package.components,
        )
        check_installed(hostile)
        evaluate(folder_record, hostile)
