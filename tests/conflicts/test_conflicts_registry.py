"""Conflicts across models: the deployment registry, its checks, and the build that refuses."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagekit.build.pipeline import build_project
from imagekit.cli import app
from imagekit.conflicts import (
    Shares,
    check_deployment,
    load_registry,
    refuse_conflicting_deployment,
)
from imagekit.errors import FindingsError, InputError, Severity
from imagekit.project.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "tests" / "data" / "conflicts" / "deploy" / "deploy.toml"
IRIS = REPO / "examples" / "iris"

runner = CliRunner()

EXPECTED = [
    f"{DEPLOY}: models[1]: torch-classifier and legacy-cuda11 must not be deployed together in group gpu-pool: "
    "torch-classifier needs CUDA 12.4 and legacy-cuda11 CUDA 11.8; the hosts of a group run one driver branch, "
    "kept on one CUDA major [cuda-major] (fix: move one of them to another host group, or rebuild it for the "
    "group's CUDA major)",
    f"{DEPLOY}: models[3]: torch-shared and cublas-next must not be deployed together in group cuda-base: "
    "torch-shared pins nvidia-cublas-cu12 12.4.5.8 and cublas-next nvidia-cublas-cu12 12.6.4.1; the shared base "
    "debian-bookworm-py311-cuda12.4 carries one version [base-package] (fix: lock the same version in both, or "
    "move one of them to another group)",
    f"{DEPLOY}: incompatible[0]: iris and iris-canary must not be deployed together in group cpu-pool: both bind "
    "port 8080 on the host network [incompatible] (fix: move one of them to another group (or drop the "
    "[[incompatible]] entry if it no longer holds))",
]


def test_the_registry_is_parsed_with_paths_relative_to_it() -> None:
    registry = load_registry(DEPLOY)
    assert [(g.name, g.shares) for g in registry.groups] == [
        ("gpu-pool", Shares.HOST),
        ("cuda-base", Shares.BASE),
        ("cpu-pool", Shares.HOST),
    ]
    iris = next(m for m in registry.models if m.name == "iris")
    assert iris.project == IRIS
    assert [(i.a, i.b) for i in registry.incompatible] == [
        ("iris", "iris-canary"),
        ("iris", "torch-classifier"),
    ]


def test_every_kind_of_conflict_is_reported_once() -> None:
    report = check_deployment(load_registry(DEPLOY))
    assert [str(f) for f in report.findings] == EXPECTED
    assert report.models == 7
    # CPU models (no CUDA) never conflict on CUDA; a listed pair in two groups is no conflict.
    assert {(c.a, c.b) for c in report.conflicts} == {
        ("torch-classifier", "legacy-cuda11"),
        ("torch-shared", "cublas-next"),
        ("iris", "iris-canary"),
    }


def test_only_the_groups_of_the_named_models_are_checked() -> None:
    report = check_deployment(load_registry(DEPLOY), only=["cublas-next"])
    assert [(c.a, c.b, c.rule) for c in report.conflicts] == [
        ("torch-shared", "cublas-next", "base-package")
    ]
    assert report.models == 2


def test_two_bases_in_a_base_group_conflict(tmp_path: Path) -> None:
    registry = _registry(
        tmp_path,
        f"""
[[groups]]
name = "shared"
shares = "base"

[[models]]
name = "iris"
project = "{IRIS}"
group = "shared"

[[models]]
name = "torch"
project = "{REPO / "tests" / "data" / "projects" / "torch-cu124"}"
group = "shared"
""",
    )
    report = check_deployment(load_registry(registry))
    assert [c.reason for c in report.conflicts] == [
        "iris is built on debian-bookworm-py311 and torch on debian-bookworm-py311-cuda12.4; the group shares one base"
    ]


def _registry(folder: Path, text: str) -> Path:
    path = folder / "deploy.toml"
    path.write_text(text, encoding="utf-8")
    return path


MODEL = '[[groups]]\nname = "pool"\nshares = "host"\n\n[[models]]\nname = "{name}"\n{source}\ngroup = "pool"\n'


def test_a_model_whose_folder_does_not_exist_is_an_error_naming_file_and_key(
    tmp_path: Path,
) -> None:
    path = _registry(tmp_path, MODEL.format(name="ghost", source='project = "nowhere"'))
    message = f"{path}: models[0].project: model 'ghost': no model folder at {tmp_path / 'nowhere'}"
    with pytest.raises(InputError, match=re.escape(message)):
        load_registry(path)


def test_a_model_folder_without_a_spec_is_an_error_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    path = _registry(tmp_path, MODEL.format(name="empty", source='project = "empty"'))
    registry = load_registry(path)
    with pytest.raises(
        InputError,
        match=re.escape(
            f"{path}: models[0].project: model 'empty': {tmp_path / 'empty' / 'imagekit.toml'}: no model spec found"
        ),
    ):
        check_deployment(registry)


def test_an_image_that_does_not_exist_is_an_error_naming_the_key(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar"
    path = _registry(tmp_path, MODEL.format(name="ghost", source=f'image = "{missing}"'))
    with pytest.raises(InputError, match=re.escape(f"{path}: models[0].image: model 'ghost': ")):
        check_deployment(load_registry(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MODEL.format(name="x", source='project = "."').replace(
                'group = "pool"', 'group = "other"'
            ),
            "models[0].group: group 'other' is not defined (add a [[groups]] entry named 'other' or use one of: pool)",
        ),
        (
            MODEL.format(name="x", source='project = "."\nimage = "x:1"'),
            "models[0]: model 'x' needs one of `project` and `image` (set exactly one)",
        ),
        (
            MODEL.format(name="x", source="").replace("group =", "# group =") + 'group = "pool"\n',
            "models[0]: model 'x' needs one of `project` and `image` (set exactly one)",
        ),
        (
            '[[groups]]\nname = "pool"\nshares = "rack"\n',
            'groups[0].shares: unknown sharing \'rack\' (use "host" or "base")',
        ),
        (
            MODEL.format(name="x", source='project = "."')
            + '\n[[incompatible]]\na = "x"\nb = "y"\nreason = "r"\n',
            "incompatible[0].b: model 'y' is not in [[models]] (register it or correct the name)",
        ),
        (
            MODEL.format(name="x", source='project = "."')
            + '\n[[incompatible]]\na = "x"\nb = "x"\n',
            "incompatible[0].reason: required key is missing",
        ),
        (
            MODEL.format(name="x", source='project = "."')
            + MODEL.format(name="x", source='project = "."').split("\n\n", 1)[1],
            "models[1]: 'x' is defined twice (also at models[0])",
        ),
        (
            MODEL.format(name="x", source='project = "."\ngrop = "pool"'),
            "models[0].grop: unknown key (remove it or correct its spelling)",
        ),
    ],
)
def test_a_malformed_registry_is_refused_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _registry(tmp_path, text)
    with pytest.raises(InputError, match=re.escape(f"{path}: {message}")):
        load_registry(path)


def test_cli_deploy_reports_the_pairs_and_exits_1() -> None:
    result = runner.invoke(app, ["conflicts", "deploy", str(DEPLOY)])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[:3] == _cli_lines()
    assert result.stderr.splitlines()[-1] == f"{DEPLOY}: 7 models, 3 conflicting pair(s)"


def _cli_lines() -> list[str]:
    # print_findings writes "<location>: error: <message> [rule] (fix: ...)"
    return [
        re.sub(r"^(.*?: (?:models|incompatible)\[\d\]): ", r"\1: error: ", line)
        for line in EXPECTED
    ]


def test_cli_deploy_json() -> None:
    result = runner.invoke(app, ["conflicts", "deploy", str(DEPLOY), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert [(c["a"], c["b"], c["rule"]) for c in data["conflicts"]] == [
        ("torch-classifier", "legacy-cuda11", "cuda-major"),
        ("torch-shared", "cublas-next", "base-package"),
        ("iris", "iris-canary", "incompatible"),
    ]
    assert data["conflicts"][2]["location"] == {
        "file": str(DEPLOY),
        "line": None,
        "key": "incompatible[0]",
    }


def test_cli_deploy_with_a_missing_model_exits_2(tmp_path: Path) -> None:
    path = _registry(tmp_path, MODEL.format(name="ghost", source='project = "nowhere"'))
    result = runner.invoke(app, ["conflicts", "deploy", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: models[0].project: model 'ghost': no model folder at {tmp_path / 'nowhere'} "
        "(correct the path (relative to this file) or remove the model)\n"
    )


# --- the build refuses ---------------------------------------------------------------------


def _iris_with_deployment(tmp_path: Path, registry: str) -> Path:
    project = tmp_path / "models" / "iris"
    shutil.copytree(IRIS, project, ignore=shutil.ignore_patterns(".imagekit", "__pycache__"))
    spec = project / "imagekit.toml"
    spec.write_text(
        'deployment = "../../deploy.toml"\n' + spec.read_text(encoding="utf-8"), encoding="utf-8"
    )
    _registry(tmp_path, registry)
    return project


REFUSING = """
[[groups]]
name = "cpu-pool"
shares = "host"

[[models]]
name = "iris"
project = "models/iris"
group = "cpu-pool"

[[models]]
name = "iris-canary"
project = "models/iris"
group = "cpu-pool"

[[incompatible]]
a = "iris-canary"
b = "iris"
reason = "both bind port 8080 on the host network"
"""


def test_the_spec_names_a_registry_outside_the_model_folder(tmp_path: Path) -> None:
    project = _iris_with_deployment(tmp_path, REFUSING)
    assert load_spec(project).deployment == tmp_path / "deploy.toml"


def test_build_refuses_a_model_registered_into_a_conflicting_group_before_any_engine(
    tmp_path: Path,
) -> None:
    project = _iris_with_deployment(tmp_path, REFUSING)
    messages: list[str] = []
    with pytest.raises(FindingsError) as raised:
        build_project(project, progress=messages.append, tag="conflicts-test/iris:refused")
    assert [str(f) for f in raised.value.findings] == [
        f"{tmp_path / 'deploy.toml'}: incompatible[0]: iris-canary and iris must not be deployed together in "
        "group cpu-pool: both bind port 8080 on the host network [incompatible] (fix: move one of them to another "
        "group (or drop the [[incompatible]] entry if it no longer holds))"
    ]
    assert messages == []  # the engine never started: nothing was built, nothing tagged
    assert not (project / ".imagekit").exists()


def test_a_model_the_registry_does_not_list_is_a_warning(tmp_path: Path) -> None:
    project = _iris_with_deployment(
        tmp_path, REFUSING.replace('project = "models/iris"', 'project = "."')
    )
    (warning,) = refuse_conflicting_deployment(load_spec(project))
    assert warning.severity is Severity.WARNING
    assert warning.message == f"{tmp_path / 'deploy.toml'} registers no model at {project}"


def test_a_missing_registry_names_the_spec_key(tmp_path: Path) -> None:
    project = _iris_with_deployment(tmp_path, REFUSING)
    (tmp_path / "deploy.toml").unlink()
    with pytest.raises(
        InputError,
        match=re.escape(
            f"{project / 'imagekit.toml'}: deployment: deployment registry {tmp_path / 'deploy.toml'} not found"
        ),
    ):
        refuse_conflicting_deployment(load_spec(project))


def test_a_spec_without_deployment_has_none() -> None:
    assert load_spec(IRIS).deployment is None


def test_an_empty_deployment_path_is_refused(tmp_path: Path) -> None:
    project = _iris_with_deployment(tmp_path, REFUSING)
    spec = project / "imagekit.toml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace('"../../deploy.toml"', '""'), encoding="utf-8"
    )
    with pytest.raises(InputError, match=re.escape(f"{spec}: deployment: the path is empty")):
        load_spec(project)
