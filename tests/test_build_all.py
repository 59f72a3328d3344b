"""`imagekit build --all DIR`: every model folder attempted, a summary table, exit 1 on a
failure. The oci backend needs no daemon; the real build fetches wheels (cached)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from _projects import ARTIFACT_SHA, EXAMPLE, copy_project, edit_spec, fleet_of_three
from typer.testing import CliRunner

from imagekit.build.backends import BackendKind, ImageHome
from imagekit.build.fleet import LayerSource, LayerUse, fleet_report
from imagekit.build.many import ModelBuild, build_all, effective_jobs
from imagekit.cli import app
from imagekit.cli.build import layers_table, summary_table
from imagekit.errors import InputError


def broken_copy(dest: Path) -> Path:
    """The example with its artifact's sha256 edited: its checks fail before any build."""
    project = copy_project(EXAMPLE, dest)
    edit_spec(project, ARTIFACT_SHA, "0" * 64)
    return project


@pytest.mark.parametrize("kind", list(BackendKind))
def test_every_backend_has_a_job_count(kind: BackendKind) -> None:
    assert effective_jobs(kind, None) >= 1
    assert effective_jobs(kind, 3) in {1, 3}


def test_the_backends_that_assemble_layers_build_in_parallel() -> None:
    assert effective_jobs(BackendKind.OCI, None) == 2
    assert effective_jobs(BackendKind.OCI, 4) == 4
    assert effective_jobs(BackendKind.DOCKER, 4) == 4
    assert effective_jobs(BackendKind.DOCKERFILE, 4) == 1


def test_a_folder_without_models_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no model folders found"):
        build_all(tmp_path, backend=BackendKind.OCI, progress=print)


def test_every_failed_model_is_attempted_and_reported(tmp_path: Path) -> None:
    broken_copy(tmp_path / "a")
    broken_copy(tmp_path / "b")
    lines: list[str] = []
    builds = build_all(tmp_path, backend=BackendKind.OCI, progress=lines.append).builds
    assert [(b.name, b.ok) for b in builds] == [("a", False), ("b", False)]
    assert all("sha256" in b.error and "\n" not in b.error for b in builds)
    assert any(line.startswith("a: FAILED: ") for line in lines)
    assert any(line.startswith("b: FAILED: ") for line in lines)


def test_the_summary_table_aligns_its_columns() -> None:
    builds = (
        ModelBuild(
            name="iris",
            folder=Path("iris"),
            seconds=12.34,
            image="iris-classifier:1.0.0",
            image_id="sha256:" + "ab" * 32,
            size=123_456_789,
        ),
        ModelBuild(name="broken", folder=Path("broken"), seconds=0.2, error="bad sha256"),
    )
    assert summary_table(builds, ImageHome.LAYOUT) == [
        "MODEL   IMAGE                  ID            SIZE (COMPRESSED)  TIME   STATUS",
        "iris    iris-classifier:1.0.0  abababababab  123.5 MB           12.3s  ok",
        "broken  -                      -             -                  0.2s   FAILED: bad sha256",
    ]


def test_the_cli_refuses_a_tag_with_all(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--all", "--tag", "x:1", str(tmp_path)])
    assert result.exit_code == 2
    assert "--tag cannot be used with --all" in result.output


@pytest.mark.network
@pytest.mark.slow
def test_one_model_builds_and_the_broken_one_fails(tmp_path: Path) -> None:
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    copy_project(EXAMPLE, tmp_path / "models" / "iris")
    broken_copy(tmp_path / "models" / "iris-broken")
    result = CliRunner().invoke(
        app, ["build", "--all", "--backend", "oci", str(tmp_path / "models")]
    )
    assert result.exit_code == 1, result.output
    rows: dict[str, str] = {}  # the first table's rows; the layers table follows it
    for line in result.output.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], line)
    assert rows["MODEL"].split() == [
        "MODEL",
        "IMAGE",
        "ID",
        "SIZE",
        "(COMPRESSED)",
        "TIME",
        "STATUS",
    ]
    assert rows["iris"].endswith("  ok")
    assert "iris-classifier:1.0.0" in rows["iris"]
    assert "FAILED: " in rows["iris-broken"] and "sha256" in rows["iris-broken"]
    assert (tmp_path / "models" / "iris" / ".imagekit" / "oci" / "index.json").is_file()
    assert any(line.startswith("iris: ") for line in result.output.splitlines())


@pytest.mark.network
@pytest.mark.slow
def test_a_fleet_builds_each_distinct_layer_once(tmp_path: Path) -> None:
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    fleet_of_three(tmp_path)
    lines: list[str] = []
    # --no-cache: nothing from an earlier run is reused, so every layer is written in this one
    fleet = build_all(tmp_path, backend=BackendKind.OCI, jobs=3, progress=lines.append,
                      no_cache=True)  # fmt: skip
    assert [(b.name, b.ok) for b in fleet.builds] == [("a", True), ("b", True), ("c", True)]
    # the real work, as each model said it: "<model>: layer <name>: writing" before each write
    said = [line.split(": ") for line in lines if line.endswith(": writing")]
    writes = Counter(words[1].removeprefix("layer ") for words in said)
    uses = [u for b in fleet.builds for u in b.layers]
    keyed = {u.key for u in uses if u.key is not None}
    built = Counter(u.key for u in uses if u.key is not None and u.source is LayerSource.BUILT)
    assert built == dict.fromkeys(keyed, 1)  # each distinct shareable layer written once
    assert sum(writes.values()) == sum(1 for u in uses if u.source is LayerSource.BUILT)
    python = {u.layer for u in uses if u.key is not None and u.layer != "artifacts"}
    assert python and all(writes[layer] == 1 for layer in python)
    assert writes["artifacts"] == 2  # a's (shared with b) and c's own
    assert writes["app"] == 3  # each model's own
    shared_in_run = [u for u in uses if u.source is LayerSource.FLEET]
    assert {u.built_by for u in shared_in_run} == {"a"}  # the model built alone first
    assert len(shared_in_run) == len([u for u in uses if u.key]) - len(keyed)
    # the same blob in every image that holds the layer
    digests = {k: {u.digest for u in uses if u.key == k} for k in keyed}
    assert all(len(d) == 1 for d in digests.values())
    report = fleet_report({b.name: b.layers for b in fleet.builds})
    assert report.written == report.distinct == sum(writes.values())
    sizes = {u.key: u.size for u in uses if u.key}
    holders = Counter(u.key for u in uses if u.key)
    assert report.shared_bytes == sum(sizes[k] * (n - 1) for k, n in holders.items()) > 0
    assert fleet.plan.summary().startswith("fleet plan: 3 model(s), ")
    assert len(fleet.plan.common) == len(python) + 1  # the Python layers, a and b's artifacts


def use(model: str, layer: str, source: LayerSource, size: int, key: str | None) -> LayerUse:
    return LayerUse(model=model, layer=layer, key=key, digest="sha256:" + "0" * 64, size=size,
                    source=source)  # fmt: skip


def test_the_fleet_report_counts_writes_and_shared_bytes() -> None:
    report = fleet_report({
        "a": (use("a", "python", LayerSource.BUILT, 1000, "k1"),
              use("a", "app", LayerSource.BUILT, 10, None)),
        "b": (use("b", "python", LayerSource.FLEET, 1000, "k1"),
              use("b", "app", LayerSource.BUILT, 20, None)),
        "c": (use("c", "python", LayerSource.CACHE, 1000, "k1"),
              use("c", "artifacts", LayerSource.BUILT, 5, "k2")),
    })  # fmt: skip
    assert (report.written, report.distinct, report.shared_bytes) == (4, 4, 2000)
    assert report.summary(str) == "4 distinct layers built for 3 models (4 written), 2000 shared"
    assert layers_table(report) == [
        "MODEL  BUILT       SHARED IN RUN  FROM CACHE  SHARED BYTES",
        "a      2 (1.0 KB)  0              0           1.0 KB",
        "b      1 (20 B)    1: python      0           1.0 KB",
        "c      1 (5 B)     0              1: python   1.0 KB",
    ]


@pytest.mark.network
@pytest.mark.slow
def test_build_all_json_reports_the_fleet(tmp_path: Path) -> None:
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    fleet_of_three(tmp_path)
    args = ["build", "--all", "--json", "--no-cache", "--backend", "oci", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [b["model"] for b in doc["builds"]] == ["a", "b", "c"]
    assert doc["plan"] == {"distinct": 3, "common": 2}
    layers = doc["layers"]
    assert layers["written"] == layers["distinct"] and layers["shared_bytes"] > 0
    b = next(m for m in layers["models"] if m["model"] == "b")
    assert b["taken"] == {"python": "fleet", "artifacts": "fleet"}
    assert b["built"] == ["users", "app", "plan"]


def test_json_needs_all(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", "--json", str(tmp_path)])
    assert result.exit_code == 2
    assert "--json needs --all" in result.output
