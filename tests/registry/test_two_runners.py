"""Two runners of one fleet share work through the registry (`imagekit build --cache REF`).

Runner A builds examples/iris with empty wheel and layer caches and pushes its layers and its
base; runner B, with a cache folder of its own that holds nothing, builds the same model: it
fetches no wheel (its wheel cache keeps no wheel file and it says it fetches 0), writes none of
the layers A cached (the Python and artifact layers are taken; the three layers imagekit never
caches, users, app and plan, a few KB, are written by both), takes the base by its recipe hash,
and makes the same image. Pushing B's image to the registry afterwards uploads none of the
base, Python or artifact layers.

Each runner is the CLI in a process of its own, with its own XDG_CACHE_HOME. A's base layout
is linked from the default cache (built there once, as the other base tests do), so the test
needs the Debian mirror only the first time on a machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _registry_support import anonymous_registry

import imagekit
from imagekit.build.oci import default_cache_root, ensure_base, read_layout
from imagekit.plan.catalog import BaseImage
from imagekit.registry import push_layout

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "examples" / "iris"
CLI = "import sys; from imagekit.cli import main; sys.exit(main())"
UNCACHED = {"users", "app", "plan"}  # layers imagekit writes in every build, never cached
_BUILD_TIMEOUT_S = 900

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    output: str
    cache: Path  # the runner's XDG_CACHE_HOME
    record: dict[str, object]
    layout: Path

    def written(self) -> set[str]:
        return set(re.findall(r"^layer (\S+): writing$", self.output, re.MULTILINE))


def _build(runner: Path, repository: str) -> Run:
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(runner / "cache"),
        "PYTHONPATH": str(Path(imagekit.__file__).parents[1]),
    }
    out = runner / "out"
    done = subprocess.run(
        [sys.executable, "-c", CLI, "build", str(IRIS), "--backend", "oci",
         "--cache", repository, "-o", str(out)],
        env=env, capture_output=True, text=True, timeout=_BUILD_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((out / "build.json").read_text())
    return Run(
        output=done.stdout + done.stderr, cache=runner / "cache", record=record, layout=out / "oci"
    )


def _seed_base(runner: Path, base: BaseImage) -> None:
    """Runner A's base layout: the default cache's, linked (A starts cold for all else)."""
    built = ensure_base(base, cache_root=default_cache_root(), log=print)
    dest = runner / "cache" / "imagekit" / "bases" / base.recipe_hash
    dest.mkdir(parents=True)
    for path in sorted(built.layout.rglob("*")):
        target = dest / path.relative_to(built.layout)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            os.link(path, target)


def _wheel_files(cache: Path) -> list[Path]:
    wheels = cache / "imagekit" / "wheels" / "sha256"
    return sorted(wheels.rglob("*.whl")) if wheels.is_dir() else []


def test_runner_b_takes_what_runner_a_built(
    registry: str, tmp_path: Path, debian_catalog_base: BaseImage
) -> None:
    repository = f"{registry}/imagekit-test/two-runners-{uuid.uuid4().hex[:12]}"
    _seed_base(tmp_path / "a", debian_catalog_base)
    a = _build(tmp_path / "a", repository)
    assert "layer(s) found, 2 pushed" in a.output
    assert f"cache: base {debian_catalog_base.name} pushed to" in a.output
    assert _wheel_files(a.cache)  # A fetched its wheels

    b = _build(tmp_path / "b", repository)
    assert f"cache: base {debian_catalog_base.name} taken from" in b.output
    assert "fetching wheels for 0 packages" in b.output
    assert _wheel_files(b.cache) == []
    assert "2 layer(s) found, 0 pushed" in b.output
    assert "layer python: reused" in b.output
    assert "layer artifacts: reused" in b.output
    assert b.written() == UNCACHED
    assert a.written() == {"python", "artifacts"} | UNCACHED
    assert b.record["image_id"] == a.record["image_id"]

    image = read_layout(b.layout)
    pushed = push_layout(b.layout, f"{repository}:iris")
    assert pushed.digest == b.record["image_id"]
    # iris: the base's layers, then users, python, artifacts, app, plan
    digests = [x.descriptor.digest for x in image.layers]
    shared = set(digests) - {digests[-5], digests[-2], digests[-1]}
    assert len(shared) == len(digests) - 3
    assert shared.isdisjoint(pushed.uploaded)
