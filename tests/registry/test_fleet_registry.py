"""Two runners build one fleet through the registry (`imagekit build --all --cache REF`).

Runner A builds three models on one base (`fleet_of_three`) with `--no-cache` and pushes each
distinct layer once; runner B, with an empty cache folder of its own, builds the same fleet: it
writes none of the shareable layers, takes each of them from the registry once (a model of the
run needing it again links what the first one took) and makes the same three images.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _projects import fleet_of_three
from _registry_support import anonymous_registry

import imagekit

CLI = "import sys; from imagekit.cli import main; sys.exit(main())"
_TIMEOUT_S = 900

pytestmark = [pytest.mark.slow, pytest.mark.network]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


def _build_all(models: Path, repository: str, cache_home: Path | None, *flags: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(Path(imagekit.__file__).parents[1])}
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)
    done = subprocess.run(
        [sys.executable, "-c", CLI, "build", "--all", "--json", "--backend", "oci", "--jobs", "3",
         "--cache", repository, *flags, str(models)],
        env=env, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _sources(doc: Any) -> Counter[tuple[str, str]]:
    """(key, source) of every shareable layer of every model."""
    return Counter(
        (layer["key"], layer["source"])
        for model in doc["layers"]["models"]
        for layer in model["layers"]
        if layer["key"] is not None
    )


def test_runner_b_builds_the_fleet_from_what_runner_a_pushed(registry: str, tmp_path: Path) -> None:
    fleet_of_three(tmp_path / "models")
    repository = f"{registry}/imagekit-test/fleet-{uuid.uuid4().hex[:12]}"
    # A: the default cache (its base is there), nothing reused from before, everything pushed
    a = _build_all(tmp_path / "models", repository, None, "--no-cache")
    keys = {key for key, _ in _sources(a)}
    assert {source for _, source in _sources(a)} == {"built", "fleet"}
    b = _build_all(tmp_path / "models", repository, tmp_path / "runner-b")
    b_sources = _sources(b)
    assert {source for _, source in b_sources} == {"registry", "fleet"}
    assert Counter(key for key, source in b_sources if source == "registry") == dict.fromkeys(
        keys, 1
    )
    assert [m["built"] for m in b["layers"]["models"]] == [["users", "app", "plan"]] * 3
    assert [x["image_id"] for x in b["builds"]] == [x["image_id"] for x in a["builds"]]
