"""`imagekit bake`: one buildx bake file, every model's context assembled and complete."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest
from _projects import DATA, EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit.build.bake import write_bake
from imagekit.build.bakefile import validate_bake
from imagekit.build.baseimage import BaseBuildResult
from imagekit.cli import app
from imagekit.errors import FindingsError, InputError
from imagekit.project.discover import find_models

pytestmark = [pytest.mark.network]  # wheels come from the index (or the cache)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    copy_project(EXAMPLE, root / "iris")
    copy_project(DATA / "projects" / "layers", root / "team" / "layers")
    (root / "notes").mkdir()
    return root


def test_find_models(models: Path) -> None:
    assert [p.relative_to(models).as_posix() for p in find_models(models)] == [
        "iris",
        "team/layers",
    ]
    with pytest.raises(InputError, match="no model folders found"):
        find_models(models / "notes")


def test_bake_file(models: Path) -> None:
    out = models / "docker-bake.json"
    result = CliRunner().invoke(
        app,
        ["bake", str(models), "-o", str(out), "--base-registry", "registry.example:5000/platform"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["group"]["default"]["targets"] == ["iris-classifier", "layers"]
    iris = doc["target"]["iris-classifier"]
    assert iris["context"] == "iris/.imagekit/bake-context"
    assert iris["tags"] == ["iris-classifier:1.0.0"]
    assert iris["platforms"] == ["linux/amd64"] and iris["network"] == "none"
    ((base, source),) = iris["contexts"].items()
    assert base.startswith("imagekit-base/debian-bookworm-py311:")
    assert source == f"docker-image://registry.example:5000/platform/{base}"
    context = models / iris["context"]
    assert sorted(p.name for p in context.iterdir()) == [
        ".dockerignore",
        "Dockerfile",
        "app",
        "artifacts",
        "meta",
        "tools",
        "wheels",
    ]
    assert "bases needed: imagekit-base/debian-bookworm-py311:" in result.stdout
    assert "cache-from" not in iris and "attest" not in iris  # only when asked
    validate_bake(doc, out)


def test_bake_file_with_cache_and_attestations(models: Path) -> None:
    out = models / "docker-bake.json"
    args = ["bake", str(models), "-o", str(out), "--cache", "registry.example:5000/ml/cache",
            "--attest"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    validate_bake(doc, out)
    cache = "registry.example:5000/ml/cache"
    iris, layers = doc["target"]["iris-classifier"], doc["target"]["layers"]
    # its own tag first, then the other target on the same base
    assert iris["cache-from"] == [
        f"type=registry,ref={cache}:bake-iris-classifier",
        f"type=registry,ref={cache}:bake-layers",
    ]
    assert iris["cache-to"] == [f"type=registry,ref={cache}:bake-iris-classifier,mode=max"]
    assert layers["cache-from"][0] == f"type=registry,ref={cache}:bake-layers"
    assert iris["attest"] == [{"type": "provenance", "mode": "max"}, {"type": "sbom"}]


def test_a_cache_with_a_tag_is_refused_before_any_work(models: Path) -> None:
    out = models / "docker-bake.json"
    result = CliRunner().invoke(app, ["bake", str(models), "-o", str(out), "--cache", "r/c:x"])
    assert result.exit_code != 0
    assert "without a tag or digest" in result.output
    assert not out.exists() and not (models / "iris" / ".imagekit").exists()


def test_every_model_is_checked_first(models: Path) -> None:
    edit_spec(models / "iris", 'sha256 = "2bc8', 'sha256 = "3bc8')
    copy_project(EXAMPLE, models / "iris-again")
    with pytest.raises(FindingsError) as raised:
        write_bake(models, models / "bake.json")
    rules = sorted(f.rule for f in raised.value.findings)
    assert rules == ["artifact-hash"]  # the bad copy fails; the good one alone has the name
    assert not (models / "bake.json").exists()


def test_duplicate_names(models: Path) -> None:
    copy_project(EXAMPLE, models / "iris-again")
    with pytest.raises(FindingsError, match="image name 'iris-classifier' is also used by"):
        write_bake(models, models / "bake.json")


@pytest.mark.docker
@pytest.mark.slow
def test_bake_contexts_build(
    models: Path, debian_base: BaseBuildResult, docker_client: docker.DockerClient
) -> None:
    out = models / "docker-bake.json"
    write_bake(models, out)
    doc = json.loads(out.read_text())
    target = doc["target"]["layers"]
    tag = "imagekit-test/bake-layers:1"
    try:
        docker_client.images.build(
            path=str(models / target["context"]),
            dockerfile=target["dockerfile"],
            tag=tag,
            rm=True,
            network_mode=target["network"],
        )
        output = docker_client.containers.run(tag, remove=True, network_mode="none")
        assert b"onnxruntime 1.20.1" in output
    finally:
        docker_client.images.remove(tag, force=True)


def test_a_name_buildx_refuses_as_a_target_is_sanitised(models: Path) -> None:
    edit_spec(models / "iris", 'name = "iris-classifier"', 'name = "iris.v2"')
    out = models / "docker-bake.json"
    write_bake(models, out)
    doc = json.loads(out.read_text())
    assert doc["group"]["default"]["targets"] == ["iris_v2", "layers"]
    assert doc["target"]["iris_v2"]["tags"] == ["iris.v2:1.0.0"]
    copy_project(models / "iris", models / "iris-again")
    edit_spec(models / "iris-again", 'name = "iris.v2"', 'name = "iris_v2"')
    with pytest.raises(InputError, match="the bake target 'iris_v2' is also another model's"):
        write_bake(models, out)
