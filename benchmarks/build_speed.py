"""Build times and image sizes on a real Docker daemon (DOCKER_HOST), side by side:

1. imagekit, cold: every model layer built (`no_cache`), the base already present;
2. imagekit, rebuild after an application-code edit;
3. a naive single-stage Dockerfile of the same example: COPY everything, `pip install -r` the
   same lock from the same wheels (offline, as build containers here cannot reach an index).

Wheels come from imagekit's host cache in every case, so the times compare the builds alone.
Usage: python benchmarks/build_speed.py [examples/iris]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import docker

from imagekit.build.context import assemble
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.daemon import docker_client
from imagekit.plan.prepare import prepare

NAIVE_DOCKERFILE = """\
FROM {base}
COPY . /src
RUN {venv}/bin/python /src/tools/{pip}/pip install --no-index --find-links /src/wheels/python \\
        --require-hashes -r /src/wheels/python/requirements.txt
WORKDIR /src/app
ENV PYTHONPATH=/src/app/src IRIS_MODEL=/src/artifacts/opt/model/iris.joblib
ENTRYPOINT ["{venv}/bin/python", "-m", "iris_model.predict"]
"""


def timed_build(project: Path, tag: str, *, no_cache: bool) -> tuple[float, BuildOutcome]:
    start = time.perf_counter()
    outcome = build_project(project, progress=lambda _: None, tag=tag, no_cache=no_cache)
    return time.perf_counter() - start, outcome


def naive_build(client: docker.DockerClient, project: Path, workdir: Path) -> tuple[float, int]:
    plan = prepare(project).plan
    context = workdir / "naive"
    context.mkdir()
    start = time.perf_counter()
    assemble(plan, project, context)  # the same verified wheels, from the host cache
    (context / "Dockerfile").write_text(
        NAIVE_DOCKERFILE.format(
            base=plan.base.reference, venv=plan.base.venv, pip=plan.build_tools[0].filenames[0]
        )
    )
    (context / ".dockerignore").unlink()
    image, _ = client.images.build(
        path=str(context), tag="imagekit-bench/naive:1", rm=True, nocache=True, network_mode="none"
    )
    elapsed = time.perf_counter() - start
    return elapsed, int(image.attrs["Size"])


def main() -> int:
    example = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/iris")
    client = docker_client()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        project = Path(
            shutil.copytree(example, workdir / "model", ignore=shutil.ignore_patterns(".imagekit"))
        )
        timed_build(project, "imagekit-bench/model:warmup", no_cache=False)  # base + wheel cache
        cold, first = timed_build(project, "imagekit-bench/model:cold", no_cache=True)
        app_file = next(f for f in first.plan.layers[-1].files if f.source.endswith(".py"))
        path = project / app_file.source
        path.write_text(path.read_text() + "\n# edited\n")
        rebuild, _ = timed_build(project, "imagekit-bench/model:edit", no_cache=False)
        naive_time, naive_size = naive_build(client, project, workdir)
    ours_size = first.result.size
    print(f"imagekit cold build:             {cold:7.1f} s  {ours_size / 1e6:7.1f} MB")
    print(f"imagekit rebuild after app edit: {rebuild:7.1f} s")
    print(f"naive single-stage build:        {naive_time:7.1f} s  {naive_size / 1e6:7.1f} MB")
    print(f"ratio cold/rebuild:              {cold / rebuild:7.2f}x")
    print(f"ratio naive/imagekit time:       {naive_time / cold:7.2f}x")
    print(f"ratio naive/imagekit size:       {naive_size / ours_size:7.2f}x")
    for tag in ("warmup", "cold", "edit"):
        client.images.remove(f"imagekit-bench/model:{tag}", force=True)
    client.images.remove("imagekit-bench/naive:1", force=True)
    client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
