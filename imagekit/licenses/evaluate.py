"""Judge each component's licences against a policy.

- A licence the policy lists gets its list's verdict; an SPDX licence it does not list, a licence
  that is not SPDX, and a component with no licence at all go to review.
- `A AND B` needs every part: the worst verdict wins.
- `A OR B` is a choice the user makes: the best verdict wins, so one allowed branch suffices even
  when another is denied (the denied branch is simply not the one taken).
- `A WITH E`: listed as a whole, that verdict; else `A`'s, except that a denied `A` goes to review
  (the exception may grant exactly what the policy worries about: a human decides).
- Several licences on one component (a Debian package's files, a wheel's License field beside its
  classifiers) all apply: AND.
- An `[[exceptions]]` entry allows its licence for its package (and version), whether it names a
  part of an expression, the whole expression, a name that is not SPDX, or NOASSERTION.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import license_expression

from imagekit.errors import Finding, Location
from imagekit.inventory.licences import NOASSERTION, declared_by_dist, spdx
from imagekit.inventory.model import PythonDist
from imagekit.licenses.components import LicensedComponent
from imagekit.licenses.policy import LicensePolicy, Verdict

_LICENSING = license_expression.Licensing()


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The verdict on one component, the licence that decided it, and the rule that did."""

    component: LicensedComponent
    verdict: Verdict
    licence: str  # the part of the component's licences that decided the verdict
    rule: str  # what decided: a policy entry, an exception, or why it needs review
    location: Location | None = None  # the policy entry, where one decided

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.component.to_dict(),
            "licence": self.component.licence,
            "verdict": self.verdict.value,
            "decided_by": self.licence,
            "rule": self.rule,
            "location": self.location.to_dict() if self.location else None,
        }

    def finding(self) -> Finding:
        """A denial as a finding: the package, version, licence and the rule that denies it."""
        c = self.component
        version = f" {c.version}" if c.version else ""
        return Finding(
            location=self.location or Location(file=Path("<policy>")),
            rule="license-denied",
            message=(
                f"{c.name}{version} ({c.kind}) is licensed {c.licence}, "
                f"and the policy denies {self.licence}"
            ),
            fix=(
                f"remove or replace {c.name}, or add an [[exceptions]] entry for it "
                f"with license = {self.licence!r} and a reason"
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LicenseReport:
    decisions: tuple[Decision, ...]  # worst first, then by kind, name, version

    def of(self, verdict: Verdict) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.verdict is verdict)

    @property
    def ok(self) -> bool:
        """No licence is denied (components in review do not fail the check)."""
        return not self.of(Verdict.DENY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            **{v.value: len(self.of(v)) for v in Verdict},
            "decisions": [d.to_dict() for d in self.decisions],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Outcome:
    verdict: Verdict
    licence: str
    rule: str
    location: Location | None = None


class _Judge:
    """Evaluates the licences of one component."""

    def __init__(self, policy: LicensePolicy, component: LicensedComponent) -> None:
        self.policy = policy
        self.c = component

    def waived(self, licence: str) -> _Outcome | None:
        waiver = self.policy.waiver(self.c.name, self.c.version, licence)
        if waiver is None:
            return None
        rule = f"the exception at {waiver.location} ({waiver.reason})"
        return _Outcome(verdict=Verdict.ALLOW, licence=licence, rule=rule, location=waiver.location)

    def leaf(self, licence: str) -> _Outcome:
        waived = self.waived(licence)
        if waived:
            return waived
        rule = self.policy.rule(licence)
        if rule is None:
            return _Outcome(verdict=Verdict.REVIEW, licence=licence, rule="not in the policy")
        return _Outcome(
            verdict=rule.verdict, licence=licence, rule=str(rule.location), location=rule.location
        )

    def node(self, node: Any) -> _Outcome:
        if isinstance(node, license_expression.LicenseWithExceptionSymbol):
            whole = f"{node.license_symbol.key} WITH {node.exception_symbol.key}"
            if self.waived(whole) or self.policy.rule(whole):
                return self.leaf(whole)
            base = self.leaf(str(node.license_symbol.key))
            if base.verdict is Verdict.DENY:
                rule = f"{base.licence} is denied by {base.rule}, but {whole} may permit this use"
                return _Outcome(verdict=Verdict.REVIEW, licence=whole, rule=rule)
            return base
        if isinstance(node, license_expression.LicenseSymbol):
            return self.leaf(str(node.key))
        parts = [self.node(arg) for arg in node.args]
        if isinstance(node, license_expression.OR):
            return min(parts, key=lambda o: o.verdict.rank)
        return max(parts, key=lambda o: o.verdict.rank)  # AND

    def expression(self, expression: str) -> _Outcome:
        return self.waived(expression) or self.node(_LICENSING.parse(expression))

    def name(self, name: str) -> _Outcome:
        return self.waived(name) or _Outcome(
            verdict=Verdict.REVIEW, licence=name, rule="not an SPDX licence"
        )

    def decide(self) -> Decision:
        c = self.c
        whole = c.licence
        outcome = self.waived(whole) if len(c.expressions) + len(c.names) > 1 else None
        if outcome is None and not c.expressions and not c.names:
            outcome = self.waived(NOASSERTION) or _Outcome(
                verdict=Verdict.REVIEW, licence=NOASSERTION, rule="no licence found"
            )
        if outcome is None:
            parts = [self.expression(e) for e in c.expressions] + [self.name(n) for n in c.names]
            outcome = max(parts, key=lambda o: o.verdict.rank)
        return Decision(
            component=c,
            verdict=outcome.verdict,
            licence=outcome.licence,
            rule=outcome.rule,
            location=outcome.location,
        )


def evaluate(components: Iterable[LicensedComponent], policy: LicensePolicy) -> LicenseReport:
    """Judge every component's licences against the policy (see the module's rules)."""
    decisions = [_Judge(policy, c).decide() for c in components]
    decisions.sort(
        key=lambda d: (
            -d.verdict.rank,
            d.component.kind,
            d.component.name,
            d.component.version or "",
        )
    )
    return LicenseReport(decisions=tuple(decisions))


class DeclaredMetadata(Protocol):
    """The licence fields a wheel's METADATA declares (`conflicts.metadata.WheelMetadata` is
    one); read-only properties, so a frozen dataclass satisfies it."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def wheel(self) -> Path: ...
    @property
    def license_expression(self) -> str | None: ...
    @property
    def license_texts(self) -> tuple[str, ...]: ...


def component_of_metadata(meta: DeclaredMetadata) -> LicensedComponent:
    """A locked package as the policy judges it before the build: the licences its own METADATA
    declares, read as the image's SBOM reads them from the installed `.dist-info`."""
    texts = list(meta.license_texts)
    expression = spdx(meta.license_expression) if meta.license_expression else None
    if meta.license_expression and expression is None:
        texts.insert(0, meta.license_expression)  # not SPDX: kept as text, as the SBOM does
    dist = PythonDist(
        name=meta.name,
        raw_name=meta.name,
        version=meta.version,
        site_packages="",
        metadata_path=str(meta.wheel),
        license_expression=expression,
        license_texts=tuple(texts),
        requires_dist=(),
        record=(),
        direct_url=None,
        installer=None,
    )
    declared = declared_by_dist(dist)
    return LicensedComponent(
        name=meta.name,
        version=meta.version,
        kind="pypi",
        expressions=declared.expressions,
        names=declared.names,
        purl=f"pkg:pypi/{meta.name}@{meta.version}",
    )
