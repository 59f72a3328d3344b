from __future__ import annotations

import json
from pathlib import Path

import pytest
from _projects import EXAMPLE, TORCH, copy_project, edit_spec
from packaging.utils import canonicalize_name

from imagekit.errors import FindingsError
from imagekit.plan.model import BuildPlan, LayerKind
from imagekit.plan.planner import group_of
from imagekit.plan.prepare import check_project, prepare, prepared


def plan_of(project: Path) -> BuildPlan:
    return prepare(project).plan


def test_example_plan_layers() -> None:
    plan = plan_of(EXAMPLE)
    assert [layer.name for layer in plan.layers] == ["python", "artifacts", "app"]
    python = plan.layers[0]
    assert [p.name for p in python.packages] == [
        "joblib",
        "numpy",
        "scikit-learn",
        "scipy",
        "threadpoolctl",
    ]
    assert all(len(p.sha256) >= 1 for p in python.packages)
    assert plan.layers[1].files[0].dest == "/opt/model/iris.joblib"
    assert [f.dest for f in plan.layers[2].files] == [
        "/app/reference/expected.json",
        "/app/reference/inputs.csv",
        "/app/src/iris_model/__init__.py",
        "/app/src/iris_model/predict.py",
    ]
    assert plan.cuda is None
    assert "NVIDIA_REQUIRE_CUDA" not in dict(plan.env)
    labels = dict(plan.labels)
    assert labels["io.imagekit.lock.sha256"] == plan.lock_sha256
    assert labels["org.opencontainers.image.version"] == "1.0.0"


def test_cuda_plan_orders_layers_by_change_frequency() -> None:
    plan = plan_of(TORCH)
    kinds = [layer.kind for layer in plan.layers]
    assert kinds == [LayerKind.CUDA, LayerKind.FRAMEWORK, LayerKind.PYTHON, LayerKind.APP]
    cuda_layer = plan.layers[0]
    # the base already carries these four at the same versions: not installed again
    assert set(plan.from_base) == {
        "nvidia-cublas-cu12",
        "nvidia-cuda-nvrtc-cu12",
        "nvidia-cuda-runtime-cu12",
        "nvidia-cudnn-cu12",
    }
    assert not set(plan.from_base) & {p.name for p in cuda_layer.packages}
    assert [p.name for p in plan.layers[1].packages] == ["torch", "triton"]
    env = dict(plan.env)
    # CUDA 12.4, or any driver CUDA 12.x minor version compatibility covers (>= 525)
    assert env["NVIDIA_REQUIRE_CUDA"] == "cuda>=12.4 driver>=525"
    assert dict(plan.labels)["io.imagekit.cuda.min-driver"] == "550.54.14"
    assert plan.ports == (8080,)


def test_plan_json_round_trip_is_stable() -> None:
    plan = plan_of(TORCH)
    text = plan.to_json()
    again = BuildPlan.from_dict(json.loads(text))
    assert again == plan
    assert again.to_json() == text
    assert plan_of(TORCH).sha256 == plan.sha256


def test_artifacts_datasets_and_sources_round_trip_typed() -> None:
    plan = plan_of(EXAMPLE)
    assert [a.dest for a in plan.artifacts] == ["/opt/model/iris.joblib"]
    assert dict(plan.artifacts[0].card)["framework"] == "scikit-learn"
    assert [d.name for d in plan.datasets] == ["iris"]
    again = BuildPlan.from_dict(json.loads(plan.to_json()))
    assert (again.artifacts, again.datasets, again.sources) == (
        plan.artifacts,
        plan.datasets,
        plan.sources,
    )


def test_with_base_digest_sets_the_label() -> None:
    plan = plan_of(EXAMPLE).with_base_digest("sha256:" + "ab" * 32)
    assert plan.base.digest == "sha256:" + "ab" * 32
    assert dict(plan.labels)["org.opencontainers.image.base.digest"] == plan.base.digest


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("nvidia-cudnn-cu12", "cuda"),
        ("torchvision", "framework-torch"),
        ("jaxlib", "framework-jax"),
        ("onnxruntime-gpu", "framework-onnxruntime"),
        ("keras", "framework-tensorflow"),
        ("numpy", "python"),
    ],
)
def test_groups(name: str, group: str) -> None:
    assert group_of(canonicalize_name(name))[1] == group


def test_plan_refuses_a_failed_check(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, 'sha256 = "2bc8', 'sha256 = "3bc8')
    with pytest.raises(FindingsError, match=r"artifact-hash"):
        plan_of(project)


def test_secrets_are_withheld_with_a_warning(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "src" / ".env").write_text("TOKEN=secret\n")
    (project / "src" / "deploy.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (project / "src" / "iris_model" / "__pycache__").mkdir()
    (project / "src" / "iris_model" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    result = check_project(project)
    assert result.ok
    warned = sorted(str(f.location.file.relative_to(project)) for f in result.findings)
    assert warned == ["src/.env", "src/deploy.pem"]
    dests = [f.dest for f in prepared(result).plan.layer(LayerKind.APP)[0].files]
    assert not [d for d in dests if d.endswith((".env", ".pem", ".pyc"))]
    # named exactly, a file is copied
    edit_spec(
        project,
        'include = ["src/**", "reference/**"]',
        'include = ["src/**", "reference/**", "src/deploy.pem"]',
    )
    dests = [f.dest for f in prepare(project).plan.layer(LayerKind.APP)[0].files]
    assert "/app/src/deploy.pem" in dests
