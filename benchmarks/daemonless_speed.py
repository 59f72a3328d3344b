"""The daemonless (oci) backend against the Docker backend, side by side in one run:

1. daemonless cold build: every model layer written again (`no_cache`), the base already made;
2. Docker cold build: the same plan through a real daemon (DOCKER_HOST), `no_cache` too;
3. daemonless rebuild after a one-line application edit (its layer cache on).

Goals: daemonless cold / Docker cold <= 0.5; daemonless rebuild / daemonless cold <= 0.1.
Both backends fetch the same verified wheels from imagekit's host cache, so the times compare
the builds alone. Each figure is the fastest of `--repeat` runs (default 1): other work on the
machine slows one run, never speeds it up.
Usage: python benchmarks/daemonless_speed.py [--repeat N] [examples/iris]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from imagekit.build.backends import BackendKind, Outputs
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.daemon import docker_client

DOCKER_TAG = "imagekit-bench/daemonless:docker"
COLD_GOAL, REBUILD_GOAL = 0.5, 0.1


def timed(build: Callable[[], BuildOutcome]) -> tuple[float, BuildOutcome]:
    start = time.perf_counter()
    outcome = build()
    return time.perf_counter() - start, outcome


def oci_build(project: Path, out: Path, *, no_cache: bool) -> BuildOutcome:
    shutil.rmtree(out, ignore_errors=True)  # a fresh output folder each time
    return build_project(
        project,
        progress=lambda _: None,
        backend=BackendKind.OCI,
        output=out,
        no_cache=no_cache,
        outputs=Outputs(),
    )


def docker_build(project: Path, *, no_cache: bool) -> BuildOutcome:
    return build_project(
        project,
        progress=lambda _: None,
        backend=BackendKind.DOCKER,
        tag=DOCKER_TAG,
        no_cache=no_cache,
    )


def edit_app(outcome: BuildOutcome, project: Path, n: int) -> None:
    """One line more in one application module."""
    app_file = next(f for f in outcome.plan.layers[-1].files if f.source.endswith(".py"))
    path = project / app_file.source
    path.write_text(path.read_text() + f"# edited {n}\n")


def fastest(runs: int, build: Callable[[], BuildOutcome]) -> tuple[float, BuildOutcome]:
    return min((timed(build) for _ in range(runs)), key=lambda r: r[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("example", nargs="?", default="examples/iris", type=Path)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    client = docker_client()  # fails with a clear message when no daemon answers
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        project = Path(
            shutil.copytree(
                args.example, work / "model", ignore=shutil.ignore_patterns(".imagekit")
            )
        )
        out = work / "out"
        oci_build(project, out, no_cache=False)  # warm-up: both bases, the wheel cache
        docker_build(project, no_cache=False)
        cold, first = fastest(args.repeat, lambda: oci_build(project, out, no_cache=True))
        docker, _ = fastest(args.repeat, lambda: docker_build(project, no_cache=True))
        edits = iter(range(args.repeat))

        def rebuild_after_edit() -> BuildOutcome:
            edit_app(first, project, next(edits))
            return oci_build(project, out, no_cache=False)

        rebuild, second = fastest(args.repeat, rebuild_after_edit)
    client.images.remove(DOCKER_TAG, force=True)
    client.close()
    changed = sum(a != b for a, b in zip(first.result.layers, second.result.layers, strict=True))
    print(f"daemonless cold build:            {cold:7.2f} s  {first.result.size / 1e6:7.1f} MB")
    print(f"docker cold build (no cache):     {docker:7.2f} s")
    print(f"daemonless rebuild after an edit: {rebuild:7.2f} s  ({changed} layers changed)")
    print(f"ratio daemonless/docker cold:     {cold / docker:7.3f}  (goal <= {COLD_GOAL})")
    print(f"ratio rebuild/cold (daemonless):  {rebuild / cold:7.3f}  (goal <= {REBUILD_GOAL})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
