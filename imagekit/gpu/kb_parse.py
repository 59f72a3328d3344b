"""Build the knowledge base from a parsed file (its TOML source or the generated JSON) and check
every rule it must keep; each problem names the file and the key, and all are collected.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from imagekit.errors import ErrorCollector, InputError
from imagekit.gpu.kb_model import (
    DESIGNATIONS,
    CudaMinCc,
    CudaRelease,
    CudaWheel,
    DriverBranch,
    ForwardCompat,
    Gpu,
    KnowledgeBase,
    MinorCompat,
    Source,
    ToolkitWheel,
    TorchBuild,
    TorchRelease,
    words,
)
from imagekit.gpu.versions import (
    ComputeCapability,
    CudaVersion,
    DriverVersion,
    VersionError,
    parse_arch_list,
)
from imagekit.tomlfile import Table

SCHEMA = 1
RULE = "cuda-kb"
SEGMENTS = ("consumer", "datacenter", "workstation")
T = TypeVar("T")


def _parsed(t: Table, key: str, parse: Callable[[str], T], fix: str) -> T:
    text = t.req_str(key)
    try:
        return parse(text)
    except (VersionError, InvalidVersion) as e:
        raise InputError(t.location(key), str(e), fix) from e


def _source(t: Table) -> str:
    return t.req_str("source")


def _row_source(t: Table) -> Source:
    return Source(id=t.req_str("id"), title=t.req_str("title"), url=t.req_str("url"))


def _row_release(t: Table) -> CudaRelease:
    release = t.req_str("release")
    parts = release.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise InputError(
            t.location("release"),
            f"{release!r} is not a toolkit release",
            "write it as major.minor.update, e.g. 12.4.1",
        )
    driver = _parsed(t, "driver", DriverVersion.parse, "copy the Linux x86_64 driver")
    return CudaRelease(release=release, label=t.req_str("label"), driver=driver)


def _row_minor(t: Table) -> MinorCompat:
    return MinorCompat(
        major=_major(t),
        min_driver=_parsed(t, "min_driver", DriverVersion.parse, "copy it from Table 2"),
        below=t.get_int("below"),
        source=_source(t),
    )


def _major(t: Table) -> int:
    major = t.get_int("major")
    if major is None or major < 1:
        raise InputError(t.location("major"), "must be a CUDA major (11, 12 ...)", "add it")
    return major


def _row_min_cc(t: Table) -> CudaMinCc:
    cc = _parsed(t, "min_cc", ComputeCapability.parse, "write it as 7.5")
    return CudaMinCc(major=_major(t), min_cc=cc, source=_source(t))


def _row_wheel(t: Table) -> CudaWheel:
    versioned = t.req_str("versioned")
    if versioned not in {"own", "toolkit"}:
        raise InputError(t.location("versioned"), f"unknown {versioned!r}", "use toolkit or own")
    majors = t.int_list("toolkit_majors")
    if (versioned == "toolkit") != bool(majors):
        raise InputError(
            t.location("toolkit_majors"),
            'toolkit_majors goes with versioned = "toolkit", and only with it',
            "list the CUDA majors whose wheels carry the toolkit version",
        )
    return CudaWheel(
        component=t.req_str("component"),
        library=t.req_str("library"),
        versioned=versioned,
        toolkit_majors=majors,
        source=_source(t),
    )


def _row_toolkit(t: Table) -> ToolkitWheel:
    text = t.req_str("toolkit")
    try:
        Version(text)
    except InvalidVersion as e:
        raise InputError(t.location("toolkit"), f"{text!r} is not a version", "copy it") from e
    pins = t.str_list("pins")
    for pin in pins:
        try:
            req = Requirement(pin)
        except InvalidRequirement as e:
            raise InputError(t.location("pins"), f"{pin!r}: {e}", "copy the pin") from e
        if [s.operator for s in req.specifier] != ["=="]:
            raise InputError(
                t.location("pins"),
                f"{pin!r} is not an exact pin",
                "list only the ==X.Y.Z.* pins of the METADATA",
            )
    return ToolkitWheel(toolkit=text, pins=pins, source=_source(t))


def _row_branch(t: Table) -> DriverBranch:
    branch = t.get_int("branch")
    if branch is None or branch < 1:
        raise InputError(t.location("branch"), "must be a driver branch (580)", "add it")
    designation = t.req_str("designation")
    if designation not in DESIGNATIONS:
        raise InputError(
            t.location("designation"), f"unknown {designation!r}", f"use one of {DESIGNATIONS}"
        )
    return DriverBranch(branch=branch, designation=designation, source=_source(t))


def _torch_key(t: Table) -> str:
    text = t.req_str("torch")
    try:
        v = Version(text)
    except InvalidVersion as e:
        raise InputError(t.location("torch"), f"{text!r} is not a version", "write 2.5") from e
    if text != f"{v.major}.{v.minor}":
        raise InputError(t.location("torch"), f"{text!r} is not major.minor", "write 2.5")
    return text


def _row_torch(t: Table) -> TorchRelease:
    torch = _torch_key(t)
    pypi = _parsed(t, "pypi", CudaVersion.from_tag, "write the build tag, e.g. cu124")
    cudnn = t.get_int("cudnn_major")
    if cudnn is None:
        raise InputError(t.location("cudnn_major"), "required key is missing", "add it (9)")
    return TorchRelease(torch=torch, cudnn_major=cudnn, pypi=pypi.tag, source=_source(t))


def _row_build(t: Table) -> TorchBuild:
    torch = _torch_key(t)
    cuda = _parsed(t, "cuda", CudaVersion.from_tag, "write the build tag, e.g. cu124")
    archs = _parsed(t, "arch_list", parse_arch_list, "copy TORCH_CUDA_ARCH_LIST")
    return TorchBuild(torch=torch, cuda=cuda.tag, archs=archs, source=_source(t))


def _row_gpu(t: Table) -> Gpu:
    segment = t.req_str("segment")
    if segment not in SEGMENTS:
        raise InputError(t.location("segment"), f"unknown {segment!r}", f"use {SEGMENTS}")
    return Gpu(
        name=t.req_str("name"),
        aliases=t.str_list("aliases"),
        cc=_parsed(t, "cc", ComputeCapability.parse, "write it as 8.6"),
        segment=segment,
        source=_source(t),
    )


def _rows(
    t: Table, key: str, parse: Callable[[Table], T], collector: ErrorCollector
) -> list[tuple[Table, T]]:
    out: list[tuple[Table, T]] = []
    with collector.collect():
        for row in t.tables(key):
            with collector.collect():
                value = parse(row)
                row.reject_unknown()
                out.append((row, value))
    return out


def _forward(t: Table) -> ForwardCompat:
    fc = t.req_table("forward_compat")
    value = ForwardCompat(
        package=fc.req_str("package"),
        segments=fc.str_list("segments"),
        limits=fc.str_list("limits"),
        source=_source(fc),
    )
    fc.reject_unknown()
    return value


def _limits(t: Table) -> tuple[str, tuple[str, ...]]:
    lim = t.req_table("minor_compat_limits")
    value = (_source(lim), lim.str_list("limits"))
    lim.reject_unknown()
    return value


def parse_kb(t: Table, collector: ErrorCollector) -> KnowledgeBase | None:
    """The knowledge base in `t`, every problem added to `collector`; None if any was found."""
    schema = t.get_int("schema")
    if schema != SCHEMA:
        collector.error(t.location("schema"), RULE, f"schema {schema} is not {SCHEMA}", "fix it")
    tables = {
        "sources": _rows(t, "sources", _row_source, collector),
        "cuda_releases": _rows(t, "cuda_releases", _row_release, collector),
        "minor_compat": _rows(t, "minor_compat", _row_minor, collector),
        "cuda_min_cc": _rows(t, "cuda_min_cc", _row_min_cc, collector),
        "cuda_wheels": _rows(t, "cuda_wheels", _row_wheel, collector),
        "toolkit_wheels": _rows(t, "toolkit_wheels", _row_toolkit, collector),
        "driver_branches": _rows(t, "driver_branches", _row_branch, collector),
        "torch_releases": _rows(t, "torch_releases", _row_torch, collector),
        "torch_builds": _rows(t, "torch_builds", _row_build, collector),
        "gpus": _rows(t, "gpus", _row_gpu, collector),
    }
    singles: dict[str, Any] = {}
    with collector.collect():
        for key in ("cuda_releases_source", "arch_rules_source", "torch_pypi_source"):
            singles[key] = t.req_str(key)
        singles["limits"] = _limits(t)
        singles["forward"] = _forward(t)
        if "generated" in t:  # the JSON form's header; the TOML source has none
            t.req_str("generated")
        t.reject_unknown()
    if collector.findings:
        return None
    kb = _assemble(tables, singles)
    check_rules(kb, tables, t, collector)
    return None if collector.findings else kb


def _values(rows: Sequence[tuple[Table, T]]) -> tuple[T, ...]:
    return tuple(v for _, v in rows)


def _assemble(tables: dict[str, Any], singles: dict[str, Any]) -> KnowledgeBase:
    limits_source, limits = singles["limits"]
    return KnowledgeBase(
        schema=SCHEMA,
        sources=_values(tables["sources"]),
        cuda_releases_source=singles["cuda_releases_source"],
        arch_rules_source=singles["arch_rules_source"],
        torch_pypi_source=singles["torch_pypi_source"],
        cuda_releases=_values(tables["cuda_releases"]),
        minor_compat=_values(tables["minor_compat"]),
        minor_compat_limits=limits,
        minor_compat_limits_source=limits_source,
        forward_compat=singles["forward"],
        cuda_min_cc=_values(tables["cuda_min_cc"]),
        cuda_wheels=_values(tables["cuda_wheels"]),
        toolkit_wheels=_values(tables["toolkit_wheels"]),
        driver_branches=_values(tables["driver_branches"]),
        torch_releases=_values(tables["torch_releases"]),
        torch_builds=_values(tables["torch_builds"]),
        gpus=_values(tables["gpus"]),
    )


_SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "sources": lambda s: s.id,
    "cuda_releases": lambda r: tuple(int(p) for p in r.release.split(".")),
    "minor_compat": lambda m: m.major,
    "cuda_min_cc": lambda m: m.major,
    "cuda_wheels": lambda w: w.component,
    "toolkit_wheels": lambda t: t.version,
    "driver_branches": lambda b: b.branch,
    "torch_releases": lambda r: Version(r.torch),
    "torch_builds": lambda b: (Version(b.torch), CudaVersion.from_tag(b.cuda).sort_key),
    "gpus": lambda g: g.name,
}


def check_rules(
    kb: KnowledgeBase, tables: dict[str, Any], t: Table, collector: ErrorCollector
) -> None:
    """The rules no single row can check: order, coverage, references between tables."""
    for name, key in _SORT_KEYS.items():
        _check_sorted(tables[name], key, name, t, collector)
    _check_sources(kb, tables, t, collector)
    _check_releases(kb, tables["cuda_releases"], collector)
    _check_majors(kb, t, collector)
    _check_torch(kb, tables, collector)
    _check_gpus(tables["gpus"], collector)


def _check_sorted(
    rows: list[tuple[Table, Any]], key: Callable[[Any], Any], name: str, t: Table, c: ErrorCollector
) -> None:
    for (_, a), (row, b) in itertools.pairwise(rows):
        if not key(a) < key(b):
            c.error(
                row.location(),
                RULE,
                f"{name} is not sorted (or has a duplicate): {key(b)} follows {key(a)}",
                f"keep {name} in ascending order, each entry once",
            )


def _cited(tables: dict[str, Any]) -> list[tuple[Table, str]]:
    cited: list[tuple[Table, str]] = []
    names = (
        "minor_compat",
        "cuda_min_cc",
        "cuda_wheels",
        "toolkit_wheels",
        "driver_branches",
        "torch_releases",
        "torch_builds",
        "gpus",
    )
    for name in names:
        cited += [(row, v.source) for row, v in tables[name]]
    return cited


def _check_sources(kb: KnowledgeBase, tables: dict[str, Any], t: Table, c: ErrorCollector) -> None:
    ids = {s.id for s in kb.sources}
    cited = _cited(tables)
    for own in (kb.cuda_releases_source, kb.arch_rules_source, kb.torch_pypi_source):
        cited.append((t, own))
    cited += [(t, kb.minor_compat_limits_source), (t, kb.forward_compat.source)]
    for row, source in cited:
        if source not in ids:
            c.error(row.location("source"), RULE, f"unknown source {source!r}", "add [[sources]]")
    used = {source for _, source in cited}
    for row, s in tables["sources"]:
        if s.id not in used:
            c.error(row.location("id"), RULE, f"source {s.id!r} is cited nowhere", "remove it")


def _check_releases(
    kb: KnowledgeBase, rows: list[tuple[Table, CudaRelease]], c: ErrorCollector
) -> None:
    for (_, a), (row, b) in itertools.pairwise(rows):
        if b.driver < a.driver:
            c.error(
                row.location("driver"),
                RULE,
                f"{b.label} needs {b.driver}, older than {a.driver} of {a.label}",
                "copy the driver from the table again",
            )
    for row, r in rows:
        if kb.ga(r.version) is None or r.version.major < 11:
            c.error(row.location("release"), RULE, f"{r.label}: no GA row", "add it")
        elif r.is_ga and kb.ga(r.version) is not r:
            c.error(row.location("label"), RULE, f"a second GA row of {r.version}", "keep one")


def _check_majors(kb: KnowledgeBase, t: Table, c: ErrorCollector) -> None:
    majors = sorted({r.version.major for r in kb.cuda_releases})
    for major in majors:
        if kb.minor_compat_for(major) is None:
            c.error(t.location("minor_compat"), RULE, f"no entry for CUDA {major}", "add one")
        if kb.min_cc(major) is None:
            c.error(t.location("cuda_min_cc"), RULE, f"no entry for CUDA {major}", "add one")


def _check_torch(kb: KnowledgeBase, tables: dict[str, Any], c: ErrorCollector) -> None:
    releases = {r.torch for r in kb.torch_releases}
    for row, b in tables["torch_builds"]:
        if b.torch not in releases:
            c.error(row.location("torch"), RULE, f"torch {b.torch} has no release row", "add it")
        v, newest = b.cuda_version, kb.newest  # a build newer than the table gets its floor
        beyond = v.major == newest.major and v.sort_key > newest.sort_key
        if kb.ga(v) is None and not beyond:
            c.error(row.location("cuda"), RULE, f"CUDA {b.cuda_version} is unknown", "add it")
    for row, r in tables["torch_releases"]:
        if not any(b.torch == r.torch and b.cuda == r.pypi for b in kb.torch_builds):
            c.error(row.location("pypi"), RULE, f"no {r.pypi} build of {r.torch}", "add it")


def _check_gpus(rows: list[tuple[Table, Gpu]], c: ErrorCollector) -> None:
    seen: dict[tuple[str, ...], str] = {}
    for row, gpu in rows:
        for alias in (gpu.name, *gpu.aliases):
            key = words(alias)
            if seen.setdefault(key, gpu.name) != gpu.name:
                c.error(
                    row.location("aliases"),
                    RULE,
                    f"{alias!r} names both {seen[key]} and {gpu.name}",
                    "keep each alias on one GPU",
                )
