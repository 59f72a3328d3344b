"""Where images run: node pools of a fleet file, or this machine's GPUs as probed.

A fleet file (TOML) lists pools:

    [[pools]]
    name = "a100-prod"
    driver = "535.104.05"
    gpu = "A100"                # or compute_capability = "8.0"
    datacenter = true           # default: from the GPU table (false for an unknown GPU)
    cuda_compat = false         # the pool puts cuda-compat (forward compatibility) in place

Parsed at the boundary; a bad file raises `InputError` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagekit.errors import InputError
from imagekit.gpu.kb_model import Gpu, KnowledgeBase
from imagekit.gpu.versions import ComputeCapability, DriverVersion, VersionError
from imagekit.tomlfile import Table, load_toml

if TYPE_CHECKING:
    from imagekit.gpu.probe import HostProbe

_FIX_DRIVER = 'write it as nvidia-smi prints it, e.g. driver = "535.104.05"'


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool:
    """GPUs of one kind behind one driver version."""

    name: str
    driver: DriverVersion
    cc: ComputeCapability
    gpu: str | None  # the GPU's name, if known
    datacenter: bool
    cuda_compat: bool

    @property
    def label(self) -> str:
        gpu = f" ({self.gpu})" if self.gpu else ""
        return f"compute capability {self.cc}{gpu}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "driver": str(self.driver),
            "gpu": self.gpu,
            "compute_capability": str(self.cc),
            "datacenter": self.datacenter,
            "cuda_compat": self.cuda_compat,
        }


def _driver(t: Table) -> DriverVersion:
    try:
        return DriverVersion.parse(t.req_str("driver"))
    except VersionError as e:
        raise InputError(t.location("driver"), str(e), _FIX_DRIVER) from e


def _cc(t: Table) -> ComputeCapability | None:
    text = t.get_str("compute_capability")
    if text is None:
        return None
    try:
        return ComputeCapability.parse(text)
    except VersionError as e:
        raise InputError(t.location("compute_capability"), str(e), 'e.g. "8.0"') from e


def _gpu(t: Table, kb: KnowledgeBase, cc: ComputeCapability | None) -> Gpu | None:
    name = t.get_str("gpu")
    if name is None:
        if cc is None:
            raise InputError(
                t.location(),
                "the pool names neither its GPU nor its compute capability",
                'add gpu = "A100" or compute_capability = "8.0"',
            )
        return None
    gpu = kb.gpu(name)
    if gpu is None and cc is None:
        known = ", ".join(g.name for g in kb.gpus)
        raise InputError(
            t.location("gpu"),
            f"unknown GPU {name!r}",
            f'set compute_capability = "X.Y" as well, or use one of: {known}',
        )
    if gpu is not None and cc is not None and gpu.cc != cc:
        raise InputError(
            t.location("compute_capability"),
            f"{cc} contradicts the {gpu.name}'s compute capability {gpu.cc}",
            "remove compute_capability, or correct it",
        )
    return gpu


def parse_pool(t: Table, kb: KnowledgeBase) -> Pool:
    """One [[pools]] table; raises `InputError`."""
    name = t.req_str("name")
    driver = _driver(t)
    cc = _cc(t)
    gpu = _gpu(t, kb, cc)
    resolved = gpu.cc if gpu is not None else cc
    if resolved is None:  # _gpu refused a pool with neither
        raise InputError(t.location(), "no compute capability", 'add compute_capability = "8.0"')
    pool = Pool(
        name=name,
        driver=driver,
        cc=resolved,
        gpu=gpu.name if gpu else t.get_str("gpu"),
        datacenter=t.get_bool("datacenter", gpu.datacenter if gpu else False),
        cuda_compat=t.get_bool("cuda_compat", False),
    )
    t.reject_unknown()
    return pool


def load_fleet(path: Path, kb: KnowledgeBase) -> tuple[Pool, ...]:
    """The pools of a fleet file; raises `InputError` naming the file and the key."""
    t = Table(load_toml(path), path)
    tables = t.tables("pools")
    t.reject_unknown()
    if not tables:
        raise InputError(
            t.location("pools"),
            "the fleet has no pools",
            "add [[pools]] with name, driver and gpu (or compute_capability)",
        )
    pools = tuple(parse_pool(p, kb) for p in tables)
    seen: set[str] = set()
    for table, pool in zip(tables, pools, strict=True):
        if pool.name in seen:
            raise InputError(table.location("name"), f"pool {pool.name!r} twice", "rename one")
        seen.add(pool.name)
    return pools


def host_pools(host: HostProbe, kb: KnowledgeBase) -> tuple[Pool, ...]:
    """This machine's GPUs as pools: one per kind of GPU, all behind the host's driver."""
    kinds: dict[tuple[str, ComputeCapability], list[int]] = {}
    for device in host.gpus:
        kinds.setdefault((device.name, device.compute_capability), []).append(device.index)
    pools = []
    for (name, cc), indexes in kinds.items():
        known = kb.gpu(name)
        pools.append(
            Pool(
                name=f"host GPU {','.join(str(i) for i in indexes)}",
                driver=host.driver,
                cc=cc,
                gpu=name,
                datacenter=known.datacenter if known else False,
                cuda_compat=False,
            )
        )
    return tuple(pools)
