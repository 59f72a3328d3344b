"""Every build as a user waits for it, side by side in one run (issue: every build fast):

1. a naive single-stage `docker build` (one `pip install -r` over the same verified wheels, on
   the same base, as benchmarks/gpu_build.py makes it);
2. `imagekit build` with the docker backend, cold (`--no-cache`, the model's layers not in the
   daemon) and after an app edit; the dockerfile backend beside it, for reference;
3. `imagekit build --backend oci`, cold (`--no-cache`) and after an app edit;
4. whether the SBOM the oci rebuild wrote is byte for byte `imagekit sbom --reproducible` of
   its image made from scratch.

Each figure is a whole `imagekit` command in a child process, start-up and read-back included.
Goals: oci cold / naive <= 0.3, docker cold / naive <= 1.0, oci rebuild <= 1.0 s, docker
rebuild <= 2.0 s, the SBOMs identical.
Usage: python benchmarks/build_commands.py [PROJECT]   (default examples/iris; DOCKER_HOST set)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gpu_build import IMAGEKIT, edit_app, naive_docker_build

TAG = "imagekit-bench/build-commands"


def timed(args: list[str], said: list[str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[-6:])} failed:\n{done.stderr[-3000:]}")
    if said is not None:
        said += (done.stdout + done.stderr).splitlines()
    return seconds


def build(project: Path, backend: str, *extra: str, said: list[str] | None = None) -> float:
    """The whole command's time; `said`: its output lines (then without --quiet)."""
    quiet = [] if said is not None else ["--quiet"]
    return timed([*IMAGEKIT, "build", str(project), "--backend", backend, "--tag",
                  f"{TAG}:{backend}", *quiet, *extra], said)  # fmt: skip


def untag(*tags: str) -> None:
    subprocess.run(["docker", "rmi", "-f", *tags], capture_output=True, check=False)


def goal(name: str, value: float, limit: float, detail: str) -> None:
    mark = "ok " if value <= limit else "MISS"
    print(f"{mark} {name:36s} {value:7.3f}  (goal <= {limit})  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=Path("examples/iris"))
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory(prefix="build-commands-") as tmp:
        scratch = Path(tmp)
        project = scratch / "project"
        shutil.copytree(args.project, project, ignore=shutil.ignore_patterns(".imagekit"))
        build(project, "oci")  # warm: the base and the wheel cache, as the issue measures
        build(project, "docker")
        oci_cold = build(project, "oci", "--no-cache")
        # cold in the daemon too: its copy of the model's layers goes (the base's stays, as
        # it does for the naive build)
        untag(f"{TAG}:docker")
        said: list[str] = []
        docker_cold = build(project, "docker", "--no-cache", said=said)
        dockerfile_cold = build(project, "dockerfile", "--no-cache")
        edit_app(project, 3)
        dockerfile_edit = build(project, "dockerfile")
        edit_app(project, 1)
        oci_edit = build(project, "oci")
        layout, sbom = project / ".imagekit" / "oci", project / ".imagekit" / "sbom.cdx.json"
        built_sbom = sbom.read_bytes()
        fresh = scratch / "fresh.cdx.json"
        timed([*IMAGEKIT, "sbom", str(layout), "--reproducible", "-o", str(fresh)])
        edit_app(project, 2)
        docker_edit = build(project, "docker")
        naive, _ = naive_docker_build(project, scratch)
        same = built_sbom == fresh.read_bytes()
        untag(f"{TAG}:docker", f"{TAG}:dockerfile")
    print(f"     naive docker build {naive.seconds:.1f} s; oci cold {oci_cold:.1f} s, docker cold "
          f"{docker_cold:.1f} s")  # fmt: skip
    print(f"     the Dockerfile by the engine's builder (--backend dockerfile): cold "
          f"{dockerfile_cold:.1f} s ({dockerfile_cold / naive.seconds:.2f} of naive), after an "
          f"app edit {dockerfile_edit:.1f} s")  # fmt: skip
    goal("oci cold / naive", oci_cold / naive.seconds, 0.3, f"{oci_cold:.1f} s")
    sent = next((x for x in said if "into the Docker daemon" in x), "nothing sent")
    goal("docker cold / naive", docker_cold / naive.seconds, 1.0, f"{docker_cold:.1f} s ({sent})")
    goal("oci rebuild after an app edit (s)", oci_edit, 1.0, "whole command")
    goal("docker rebuild after an app edit (s)", docker_edit, 2.0, "whole command")
    print(f"{'ok ' if same else 'MISS'} the rebuild's SBOM is imagekit sbom's from scratch: {same}")


if __name__ == "__main__":
    main()
