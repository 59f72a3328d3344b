"""Judging licences: AND needs all, OR needs one, WITH, exceptions, names and no licence."""

from __future__ import annotations

from pathlib import Path

import pytest
from _inventories import iris_cuda

from imagekit.licenses import (
    LicensedComponent,
    LicensePolicy,
    Verdict,
    components_from_inventory,
    evaluate,
)

POLICY_FILE = (
    Path(__file__).resolve().parent.parent / "data" / "sbom" / "policies" / "example.policy.toml"
)


@pytest.fixture(scope="module")
def policy() -> LicensePolicy:
    return LicensePolicy.load(POLICY_FILE)


def pkg(
    *expressions: str, names: tuple[str, ...] = (), name: str = "pkg", version: str = "1"
) -> LicensedComponent:
    return LicensedComponent(
        name=name, version=version, kind="pypi", expressions=expressions, names=names
    )


def verdict(policy: LicensePolicy, component: LicensedComponent) -> tuple[Verdict, str, str]:
    (decision,) = evaluate([component], policy).decisions
    return decision.verdict, decision.licence, decision.rule


@pytest.mark.parametrize(
    ("expressions", "expected", "decided_by"),
    [
        (("MIT",), Verdict.ALLOW, "MIT"),
        (("GPL-3.0-only",), Verdict.DENY, "GPL-3.0-only"),
        (("MPL-2.0",), Verdict.REVIEW, "MPL-2.0"),
        (("ISC",), Verdict.REVIEW, "ISC"),  # SPDX, but not in the policy
        (("MIT AND GPL-3.0-only",), Verdict.DENY, "GPL-3.0-only"),
        (("MIT AND MPL-2.0",), Verdict.REVIEW, "MPL-2.0"),
        # a choice: one allowed branch suffices, even beside a denied one
        (("GPL-3.0-only OR MIT",), Verdict.ALLOW, "MIT"),
        (("GPL-3.0-only OR MPL-2.0",), Verdict.REVIEW, "MPL-2.0"),
        (("GPL-3.0-only OR AGPL-3.0-only",), Verdict.DENY, "GPL-3.0-only"),
        (("(MIT OR GPL-3.0-only) AND BSD-3-Clause",), Verdict.ALLOW, "MIT"),
        # WITH: listed whole, else the base licence's verdict, a denied base goes to review
        (
            ("GPL-3.0-or-later WITH GCC-exception-3.1",),
            Verdict.ALLOW,
            "GPL-3.0-or-later WITH GCC-exception-3.1",
        ),
        (("Apache-2.0 WITH LLVM-exception",), Verdict.ALLOW, "Apache-2.0"),
        (
            ("GPL-2.0-or-later WITH Classpath-exception-2.0",),
            Verdict.REVIEW,
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
        # several licences on one component all apply
        (("MIT", "GPL-2.0-or-later"), Verdict.DENY, "GPL-2.0-or-later"),
    ],
)
def test_expressions(
    policy: LicensePolicy, expressions: tuple[str, ...], expected: Verdict, decided_by: str
) -> None:
    got, licence, _ = verdict(policy, pkg(*expressions))
    assert (got, licence) == (expected, decided_by)


def test_rule_names_the_policy_entry(policy: LicensePolicy) -> None:
    assert verdict(policy, pkg("GPL-3.0-only")) == (
        Verdict.DENY,
        "GPL-3.0-only",
        f"{POLICY_FILE}: deny[2]",
    )
    assert verdict(policy, pkg("ISC"))[2] == "not in the policy"
    assert verdict(policy, pkg("GPL-2.0-or-later WITH Classpath-exception-2.0"))[2] == (
        f"GPL-2.0-or-later is denied by {POLICY_FILE}: deny[1], "
        "but GPL-2.0-or-later WITH Classpath-exception-2.0 may permit this use"
    )


def test_names_and_no_licence_go_to_review(policy: LicensePolicy) -> None:
    assert verdict(policy, pkg(names=("BSD License",))) == (
        Verdict.REVIEW,
        "BSD License",
        "not an SPDX licence",
    )
    assert verdict(policy, pkg()) == (Verdict.REVIEW, "NOASSERTION", "no licence found")


def test_exceptions(policy: LicensePolicy) -> None:
    cuda = pkg(
        names=("NVIDIA Proprietary Software",), name="nvidia-cuda-runtime-cu12", version="12.4.127"
    )
    got, _, rule = verdict(policy, cuda)
    assert got is Verdict.ALLOW
    assert (
        rule
        == f"the exception at {POLICY_FILE}: exceptions[1] (CUDA EULA accepted by legal (LEGAL-123))"
    )
    newer = pkg(
        names=("NVIDIA Proprietary Software",), name="nvidia-cuda-runtime-cu12", version="12.6.77"
    )
    assert verdict(policy, newer)[0] is Verdict.REVIEW  # the exception names 12.4.127 only
    dataset = LicensedComponent(name="iris", version="1988", kind="data", expressions=(), names=())
    assert verdict(policy, dataset)[0] is Verdict.ALLOW


def test_an_exception_overrides_a_denial_for_its_package_only(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text(
        'deny = ["GPL-3.0-only"]\nallow = ["MIT"]\n'
        '[[exceptions]]\npackage = "readline-tool"\nlicense = "GPL-3.0-only"\nreason = "internal tool, not distributed"\n'
    )
    policy = LicensePolicy.load(file)
    assert verdict(policy, pkg("MIT AND GPL-3.0-only", name="Readline_Tool"))[0] is Verdict.ALLOW
    assert verdict(policy, pkg("MIT AND GPL-3.0-only", name="other"))[0] is Verdict.DENY


def test_report_of_an_image(policy: LicensePolicy) -> None:
    report = evaluate(components_from_inventory(iris_cuda()), policy)
    table = [(d.verdict.value, d.component.kind, d.component.name) for d in report.decisions]
    assert table == [
        ("deny", "deb", "libc6"),
        ("review", "data", "scikit-learn"),  # the upstream source: no licence recorded
        ("review", "deb", "tzdata"),
        ("review", "pypi", "numpy"),
        ("review", "pypi", "scipy"),
        ("allow", "data", "iris"),
        ("allow", "deb", "gcc-12-base"),
        ("allow", "deb", "libgcc-s1"),
        ("allow", "machine-learning-model", "iris-classifier"),
        ("allow", "pypi", "joblib"),
        ("allow", "pypi", "nvidia-cuda-runtime-cu12"),
        ("allow", "pypi", "scikit-learn"),
        ("allow", "pypi", "threadpoolctl"),
    ]  # not judged: the OS, the driver on the host, the CUDA runtime its wheel provides
    assert not report.ok
    data = report.to_dict()
    assert (data["deny"], data["review"], data["allow"]) == (1, 4, 8)
    finding = report.of(Verdict.DENY)[0].finding()
    assert str(finding) == (
        f"{POLICY_FILE}: deny[1]: libc6 2.36-9+deb12u10 (deb) is licensed GPL-2.0-or-later AND "
        "LGPL-2.1-or-later, and the policy denies GPL-2.0-or-later [license-denied] (fix: remove or "
        "replace libc6, or add an [[exceptions]] entry for it with license = 'GPL-2.0-or-later' and a reason)"
    )
