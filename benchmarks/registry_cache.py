"""Two runners sharing a registry layer cache (`imagekit build --cache REF`), side by side:

1. runner A: cold build (its own empty XDG_CACHE_HOME: base, wheels, layers), pushing the cache;
2. runner B: cold build of the same model (another empty XDG_CACHE_HOME), taking from it;
3. runner B pushes its image to the same repository: the bytes it uploads.

Goals: B cold / A cold <= 0.2; bytes B uploads for the layers A made (base, Python, model
artifacts) = 0. Times are whole `imagekit build` commands, each its own process. With
--seed-base, A's base layout is linked from the default cache instead of being built with
mmdebstrap (for a machine that cannot reach the Debian mirror): A is then cold for wheels and
layers only, and the ratio is less favourable to B.
Usage: python benchmarks/registry_cache.py [--registry HOST:PORT] [--seed-base] [examples/iris]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import imagekit
from imagekit.build.oci import default_cache_root, ensure_base, read_layout
from imagekit.image.digest import Digest
from imagekit.plan.catalog import Catalog
from imagekit.project.spec import load_spec
from imagekit.registry import push_layout

GOAL_RATIO, GOAL_BYTES = 0.2, 0
CLI = "import sys; from imagekit.cli import main; sys.exit(main())"
UNCACHED = ("users", "app", "plan")  # written by every build, never cached


def build(project: Path, runner: Path, repository: str) -> tuple[float, str, Path]:
    """One runner's whole `imagekit build`; its seconds, output and record folder."""
    env = {**os.environ, "XDG_CACHE_HOME": str(runner / "cache"),
           "PYTHONPATH": str(Path(imagekit.__file__).parents[1])}  # fmt: skip
    out = runner / "out"
    command = [sys.executable, "-c", CLI, "build", str(project), "--backend", "oci",
               "--cache", repository, "-o", str(out)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{runner.name}: build failed:\n{done.stdout}{done.stderr}")
    return seconds, done.stdout + done.stderr, out


def seed_base(project: Path, runner: Path) -> None:
    base = Catalog.load().get(load_spec(project).base)
    built = ensure_base(base, cache_root=default_cache_root(), log=lambda _: None)
    dest = runner / "cache" / "imagekit" / "bases" / base.recipe_hash
    for path in sorted(built.layout.rglob("*")):
        target = dest / path.relative_to(built.layout)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)


def written(output: str) -> list[str]:
    return re.findall(r"^layer (\S+): writing$", output, re.MULTILINE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("example", nargs="?", default="examples/iris", type=Path)
    parser.add_argument(
        "--registry", default=os.environ.get("IMAGEKIT_TEST_REGISTRY", "127.0.0.1:5000")
    )
    parser.add_argument("--seed-base", action="store_true")
    args = parser.parse_args()
    project = args.example.resolve()
    repository = f"{args.registry}/imagekit-test/bench-cache-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.seed_base:
            seed_base(project, work / "a")
        a_s, a_out, a_dir = build(project, work / "a", repository)
        b_s, b_out, b_dir = build(project, work / "b", repository)
        a_id = json.loads((a_dir / "build.json").read_text())["image_id"]
        b_id = json.loads((b_dir / "build.json").read_text())["image_id"]
        image = read_layout(b_dir / "oci")
        sizes = {x.descriptor.digest: x.descriptor.size for x in image.layers}
        sizes[image.manifest.config.digest] = image.manifest.config.size
        pushed = push_layout(b_dir / "oci", f"{repository}:bench")
        b_wheels = list((work / "b" / "cache" / "imagekit" / "wheels").rglob("*.whl"))
    uploaded = sum(sizes.get(d, 0) for d in pushed.uploaded)
    digests = [x.descriptor.digest for x in image.layers]
    a_made = _cached_layers(image_digests=digests, b_output=b_out)
    unchanged = sum(sizes[d] for d in pushed.uploaded if d in a_made)
    ratio = b_s / a_s
    print(f"example              {project.name}")
    print(f"runner A cold        {a_s:7.1f} s   layers written: {', '.join(written(a_out))}")
    print(f"runner B cold        {b_s:7.1f} s   layers written: {', '.join(written(b_out))}")
    print(f"B / A                {ratio:7.3f}     goal <= {GOAL_RATIO}")
    print(f"same image           {a_id == b_id}  {b_id}")
    print(f"wheels B fetched     {len(b_wheels)}")
    print(f"B push: uploaded     {uploaded} B in {len(pushed.uploaded)} blobs "
          f"(the uncached {', '.join(UNCACHED)} layers and the config)")  # fmt: skip
    print(f"B push: unchanged    {unchanged} B   goal = {GOAL_BYTES}")
    return 0 if ratio <= GOAL_RATIO and unchanged == GOAL_BYTES and a_id == b_id else 1


def _cached_layers(*, image_digests: list[Digest], b_output: str) -> set[Digest]:
    """The layers of B's image that A made and B took: all but the uncached ones, which the
    build names by the short digest it prints after writing each."""
    short = set(re.findall(r"^layer (?:users|app|plan): (sha256:[0-9a-f]{12})$", b_output,
                           re.MULTILINE))  # fmt: skip
    return {d for d in image_digests if d[:19] not in short}


if __name__ == "__main__":
    raise SystemExit(main())
