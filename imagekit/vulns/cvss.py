"""CVSS v3.x base scores computed from the vector, per the CVSS v3.1 specification (section 7).

    ISS            = 1 - (1 - C) * (1 - I) * (1 - A)
    Impact         = 6.42 * ISS                                         (scope unchanged)
                   = 7.52 * (ISS - 0.029) - 3.25 * (ISS - 0.02) ** 15   (scope changed)
    Exploitability = 8.22 * AV * AC * PR * UI
    Base score     = 0 if Impact <= 0, else Roundup(min(Impact + Exploitability, 10)), times 1.08
                     inside the min when the scope changed.

Roundup is the specification's Appendix A function, exact for floating-point inputs. v3.0 vectors
use the same formulas (3.1 only made Roundup robust). Temporal and environmental metrics in a
vector are accepted and do not change the base score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
_PREFIXES = ("CVSS:3.0", "CVSS:3.1")


class CvssError(ValueError):
    """A vector that is not a valid CVSS v3.x vector."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CvssV3:
    vector: str
    version: str  # "3.0" or "3.1"
    base_score: float


def roundup(value: float) -> float:
    """CVSS v3.1 Appendix A: the smallest number, to one decimal place, >= value."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0


def _metrics(vector: str) -> tuple[str, dict[str, str]]:
    prefix, _, rest = vector.strip().partition("/")
    if prefix not in _PREFIXES or not rest:
        raise CvssError(f"{vector!r} is not a CVSS v3 vector (it must start CVSS:3.0/ or 3.1/)")
    metrics: dict[str, str] = {}
    for part in rest.split("/"):
        name, sep, value = part.partition(":")
        if not sep or not value or name in metrics:
            raise CvssError(f"{vector!r}: bad or repeated metric {part!r}")
        metrics[name] = value
    missing = [m for m in _BASE if m not in metrics]
    if missing:
        raise CvssError(f"{vector!r} lacks base metric(s) {', '.join(missing)}")
    return prefix.removeprefix("CVSS:"), metrics


def _weight(metrics: dict[str, str], name: str, vector: str) -> float:
    value = metrics[name]
    table = _PRIVILEGES.get(metrics["S"], {}) if name == "PR" else _WEIGHTS[name]
    if value not in table:
        raise CvssError(f"{vector!r}: {name}:{value} is not a valid value")
    return table[value]


def parse_v3(vector: str) -> CvssV3:
    """The base score of a CVSS v3.0/v3.1 vector; raises `CvssError` for an invalid one."""
    version, metrics = _metrics(vector)
    if metrics["S"] not in ("U", "C"):
        raise CvssError(f"{vector!r}: S:{metrics['S']} is not a valid value")
    w = {name: _weight(metrics, name, vector) for name in _BASE if name != "S"}
    iss = 1 - (1 - w["C"]) * (1 - w["I"]) * (1 - w["A"])
    changed = metrics["S"] == "C"
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = 8.22 * w["AV"] * w["AC"] * w["PR"] * w["UI"]
    if impact <= 0:
        score = 0.0
    elif changed:
        score = roundup(min(1.08 * (impact + exploitability), 10))
    else:
        score = roundup(min(impact + exploitability, 10))
    return CvssV3(vector=vector.strip(), version=version, base_score=score)
