"""The risk table: the shipped one is complete, an override replaces entries by name, and a
malformed file is refused naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _diff_inventories import after, before

from imagekit.diff import (
    ChangeRule,
    Ecosystem,
    RiskClass,
    default_table,
    diff_snapshots,
    from_inventory,
    load_table,
)
from imagekit.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data" / "diff"


def test_the_shipped_table_has_a_rule_for_every_change() -> None:
    table = default_table()
    for rule in ChangeRule:
        assert table.for_change(rule).reason, rule


def test_every_source_the_shipped_table_names_is_a_link() -> None:
    table = default_table()
    for rule in (*table.packages, *table.changes.values()):
        source = table.source_of(rule)
        assert source is None or "https://" in source, rule.name


@pytest.mark.parametrize(
    ("ecosystem", "name", "entry", "risk"),
    [
        (Ecosystem.PYTHON, "numpy", "numpy", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "scipy", "scipy", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "torch", "torch", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "jaxlib", "jax", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "jax-cuda12-plugin", "jax", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "tensorflow", "tensorflow", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "scikit-learn", "scikit-learn", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "pandas", "pandas", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "scipy-openblas32", "scipy-openblas", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "mkl", "mkl", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "nvidia-cudnn-cu12", "cudnn", RiskClass.NUMERIC),
        (Ecosystem.PYTHON, "nvidia-cublas-cu12", "cublas", RiskClass.NUMERIC),
        (Ecosystem.DEB, "libopenblas0-pthread", "blas-debian", RiskClass.NUMERIC),
        (Ecosystem.DEB, "liblapack3", "blas-debian", RiskClass.NUMERIC),
        (Ecosystem.DEB, "libblas3", "blas-debian", RiskClass.NUMERIC),
        (Ecosystem.DEB, "libgomp1", "libgomp", RiskClass.NUMERIC),
        (Ecosystem.DEB, "libgfortran5", "libgfortran", RiskClass.NUMERIC),
        (Ecosystem.DEB, "libc6", "libm", RiskClass.NUMERIC),
        (Ecosystem.DEB, "libstdc++6", "libstdc++", RiskClass.NUMERIC),
        (Ecosystem.DEB, "gcc-12", "compilers", RiskClass.NUMERIC),
        (Ecosystem.DEB, "ca-certificates", "certificates", RiskClass.BENIGN),
        (Ecosystem.PYTHON, "certifi", "certificates", RiskClass.BENIGN),
    ],
)
def test_the_shipped_table_classes_the_named_packages(
    ecosystem: Ecosystem, name: str, entry: str, risk: RiskClass
) -> None:
    rule = default_table().for_package(ecosystem, name)
    assert rule is not None
    assert (rule.name, rule.risk) == (entry, risk)


@pytest.mark.parametrize(
    ("ecosystem", "name"),
    [
        (Ecosystem.DEB, "gcc-12-base"),  # documentation only, not the compiler
        (Ecosystem.DEB, "numpy"),  # a Python entry does not match a Debian package
        (Ecosystem.PYTHON, "libc6"),
        (Ecosystem.PYTHON, "requests"),
    ],
)
def test_the_shipped_table_leaves_others_to_the_version_rules(
    ecosystem: Ecosystem, name: str
) -> None:
    assert default_table().for_package(ecosystem, name) is None


def test_an_override_replaces_entries_by_name_and_adds_new_ones() -> None:
    table = load_table(DATA / "override.risk.toml")
    numpy = table.for_package(Ecosystem.PYTHON, "numpy")
    assert numpy is not None
    assert (numpy.risk, numpy.reason) == (
        RiskClass.BENIGN,
        "re-evaluated nightly by the platform's reference run",
    )
    assert (
        table.source_of(numpy)
        == "ML platform runbook, section 4: https://wiki.example.com/ml-platform/runbook#4"
    )
    assert [r.name for r in table.packages].count("numpy") == 1
    assert table.for_change(ChangeRule.DRIVER).risk is RiskClass.NUMERIC
    assert table.for_change(ChangeRule.CUDA_MINOR).risk is RiskClass.NUMERIC  # kept


def test_an_override_changes_the_classes_of_a_diff() -> None:
    old, new = from_inventory(before(), "a"), from_inventory(after(), "b")
    classes = {
        c.name: (c.risk.value, c.reason)
        for c in diff_snapshots(old, new, load_table(DATA / "override.risk.toml")).changes
    }
    assert classes["numpy"] == ("benign", "re-evaluated nightly by the platform's reference run")
    assert classes["requests"] == ("numeric-risk", "downloads the features the model scores")
    assert classes["nvidia-driver"] == (
        "numeric-risk",
        "a new driver branch changes cuBLAS kernels on our hosts",
    )
    assert classes["libc6"][0] == "numeric-risk"  # the shipped entry, not overridden


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "unknown-class",
            "unknown-class.risk.toml: packages[0].class: unknown class 'scary' (use numeric-risk, behaviour, benign)",
        ),
        (
            "missing-reason",
            "missing-reason.risk.toml: packages[0].reason: required key is missing (add `reason = ...` (a string))",
        ),
        (
            "unknown-change",
            "unknown-change.risk.toml: changes[0].name: unknown change rule 'cuda-patch' (use one of: cuda-major, cuda-minor, driver, artifact, licence, vulnerability-introduced, vulnerability-fixed, direct-dependency, major-version, default)",
        ),
        (
            "duplicate",
            "duplicate.risk.toml: packages[1]: packages entry 'numpy' is defined twice (also at ",
        ),
        (
            "unknown-source",
            "unknown-source.risk.toml: packages[0].source: source 'nowhere' is not in [sources] (add it to [sources] or remove `source`)",
        ),
        (
            "typo",
            "typo.risk.toml: packages[0].ecosytem: unknown key (remove it or correct its spelling)",
        ),
    ],
)
def test_a_malformed_override_is_refused_naming_file_and_key(name: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        load_table(DATA / f"{name}.risk.toml")


def test_a_missing_override_is_refused() -> None:
    with pytest.raises(InputError, match=re.escape("nothing.risk.toml: file not found")):
        load_table(DATA / "nothing.risk.toml")
