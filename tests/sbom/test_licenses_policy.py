"""The licence policy file: every bad key named with its file and key path, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagekit.errors import InputError
from imagekit.licenses import LicensePolicy, PolicyError, Verdict

POLICIES = Path(__file__).resolve().parent.parent / "data" / "sbom" / "policies"


def messages(name: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        LicensePolicy.load(POLICIES / name)
    assert info.value.exit_code == 2
    return [f"{f.location}: {f.message}" for f in info.value.findings]


def test_example_policy() -> None:
    policy = LicensePolicy.load(POLICIES / "example.policy.toml")
    rule = policy.rule("gpl-2.0-or-later")
    assert rule is not None
    assert rule.verdict is Verdict.DENY
    assert str(rule.location) == f"{POLICIES / 'example.policy.toml'}: deny[1]"
    waiver = policy.waiver("NVIDIA_CUDA_Runtime_cu12", "12.4.127", "NVIDIA Proprietary Software")
    assert waiver is not None
    assert waiver.reason == "CUDA EULA accepted by legal (LEGAL-123)"
    assert (
        policy.waiver("nvidia-cuda-runtime-cu12", "12.6.77", "NVIDIA Proprietary Software") is None
    )
    assert policy.waiver("iris", None, "NOASSERTION") is not None


def test_licenses_table_of_a_larger_policy_file() -> None:
    policy = LicensePolicy.load(POLICIES / "licenses-table.policy.toml")
    assert sorted(policy.rules) == ["gpl-3.0-only", "mit"]


def test_not_spdx() -> None:
    file = POLICIES / "not-spdx.policy.toml"
    assert messages(file.name) == [
        f"{file}: allow[1]: 'BSD 3-Clause' is not an SPDX licence identifier"
    ]


def test_expression_in_a_list() -> None:
    file = POLICIES / "expression.policy.toml"
    assert messages(file.name) == [f"{file}: allow[0]: 'MIT OR Apache-2.0' is an expression"]


def test_listed_twice() -> None:
    file = POLICIES / "listed-twice.policy.toml"
    assert messages(file.name) == [f"{file}: deny[0]: GPL-3.0-only is also listed at allow[1]"]


def test_exception_without_reason() -> None:
    file = POLICIES / "exception-without-reason.policy.toml"
    assert messages(file.name) == [f"{file}: exceptions[0].reason: required key is missing"]


def test_every_error_at_once() -> None:
    file = POLICIES / "many-errors.policy.toml"
    assert messages(file.name) == [
        f"{file}: review[0]: 'Not A Licence' is not an SPDX licence identifier",
        f"{file}: deny: must be an array, got a string",
        f"{file}: exceptions[0].reason: reason is empty",
        f"{file}: alow: unknown key",
    ]


def test_malformed_and_missing_files_are_unreadable_input() -> None:
    with pytest.raises(InputError, match=r"malformed\.policy\.toml:1: malformed TOML"):
        LicensePolicy.load(POLICIES / "malformed.policy.toml")
    with pytest.raises(InputError, match=r"absent\.toml: file not found"):
        LicensePolicy.load(POLICIES / "absent.toml")
