"""Pruning while builds run: real processes use layer and wheel entries (through the layer
cache and the entry locks the wheelhouse takes) while another prunes the cache to a small limit
again and again. No process may meet a missing or cut file, and the cache ends under its limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cache_worker import filler

from imagekit.build.oci.cache import LayerCache
from imagekit.cache import Rule, prune, scan
from imagekit.image.compress import write_blob
from imagekit.image.model import Compression

WORKER = Path(__file__).with_name("_cache_worker.py")
LIMIT = 160 * 1024  # about three of the 8 layers' and 8 wheels' 48 KiB blobs
SECONDS = 4


def _start(role: str, root: Path, arg: Path, report: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, str(WORKER), role, str(root), str(arg), str(report)]
    return subprocess.Popen(command, env=env)


def _report(path: Path) -> tuple[list[str], int]:
    data = json.loads(path.read_text())
    return data["problems"], data["count"]


@pytest.mark.slow
def test_prune_keeps_the_cache_under_its_limit_while_builds_use_it(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    users = [
        _start("layers", root, tmp_path / "layout-1", tmp_path / "layers-1.json"),
        _start("layers", root, tmp_path / "layout-2", tmp_path / "layers-2.json"),
        _start("wheels", root, tmp_path / str(SECONDS), tmp_path / "wheels-1.json"),
        _start("wheels", root, tmp_path / str(SECONDS), tmp_path / "wheels-2.json"),
    ]
    pruner = _start("prune", root, tmp_path / str(LIMIT), tmp_path / "prune.json")
    for process in users:
        assert process.wait(timeout=120) == 0
    (root / "stop").touch()
    assert pruner.wait(timeout=60) == 0
    (root / "stop").unlink()

    reports = [_report(tmp_path / f"{name}.json") for name in
               ("layers-1", "layers-2", "wheels-1", "wheels-2")]  # fmt: skip
    assert [problems for problems, _ in reports] == [[], [], [], []]
    prune_problems, removed = _report(tmp_path / "prune.json")
    assert prune_problems == []
    assert removed > 0  # the prunes ran while the entries were in use
    assert sum(written for _, written in reports) > 2 * 8  # and builds wrote what they removed

    final = prune(root, Rule(max_size=LIMIT))  # the automatic prune after the last build
    assert final.in_use == ()
    assert scan(root).total() <= LIMIT


def test_a_blob_pruned_before_its_key_names_it_is_written_again(tmp_path: Path) -> None:
    cache = LayerCache(root=tmp_path / "oci")
    blob = write_blob(cache.blobs, Compression.GZIP, filler(b"layer"))
    time.sleep(0.01)
    assert [r.entry.name for r in prune(tmp_path, Rule(max_size=0)).removed] == [
        f"blob {blob.descriptor.digest.removeprefix('sha256:')}"
    ]
    assert not cache.keep("0" * 64, blob, tmp_path / "layout")  # the caller writes it again
    assert not (tmp_path / "layout").exists()
