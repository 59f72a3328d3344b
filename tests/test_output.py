"""Output people read: help that renders whole, `--json` on every report, sizes that say what
they count, reports that say where their output went and how to use it, and the docker
backend's log summarised to one line per Dockerfile step."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from _projects import EXAMPLE
from typer.testing import CliRunner

from imagekit.build.backends import BuildResult, ImageHome, Outputs
from imagekit.build.backends.dockerfile import _Summary
from imagekit.build.context import image_created
from imagekit.cli import app
from imagekit.cli.build import size_label, where_to

runner = CliRunner()

REPORTS = [
    ["check"],
    ["plan"],
    ["inventory"],
    ["sbom"],
    ["licenses"],
    ["scan"],
    ["diff"],
    ["compat"],
    ["verify"],
    ["update"],
    ["probe"],
    ["conflicts", "lock"],
    ["conflicts", "deploy"],
    ["base", "list"],
]
COMMANDS = [*REPORTS, ["init"], ["render"], ["build"], ["bake"], ["push"], ["pull"]]


def _help(args: list[str], columns: int = 80) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("args", REPORTS, ids=" ".join)
def test_every_report_command_has_json(args: list[str]) -> None:
    assert re.search(r"^\s+--json\s", _help(args), re.MULTILINE)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_options_name_their_value_not_its_type(args: list[str]) -> None:
    options = [line for line in _help(args, 120).splitlines() if line.lstrip().startswith("-")]
    assert options
    for line in options:
        assert not re.search(r"<(bool|boolean|str|text|int|float)( range)?>", line), line


@pytest.mark.parametrize(("group", "columns"), [([], 80), (["conflicts"], 80), (["base"], 80)])
def test_command_summaries_are_not_cut(group: list[str], columns: int) -> None:
    text = _help(group, columns)
    commands = text[text.index("Commands:") :].splitlines()[1:]
    assert len(commands) >= 2
    for line in commands:
        assert not line.rstrip().endswith("..."), line


def test_plan_counts_in_words_and_shows_what_the_container_starts_with() -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "  2. artifacts            1 file" in lines
    assert "  3. app                  4 files" in lines
    assert 'entrypoint ["python", "-m", "iris_model.predict"]' in lines
    env = lines[lines.index("env:") + 1 : lines.index("labels:")]
    assert "  IRIS_MODEL=/opt/model/iris.joblib" in env
    labels = lines[lines.index("labels:") + 1 :]
    assert "  org.opencontainers.image.title=iris-classifier" in labels


def test_sbom_json_needs_an_output_file() -> None:
    result = runner.invoke(app, ["sbom", str(EXAMPLE), "--json"])
    assert result.exit_code == 2
    assert "--json needs --output" in result.stderr


def _result(home: ImageHome, location: str) -> BuildResult:
    return BuildResult(
        image_id="sha256:" + "ab" * 32,
        tag="iris-classifier:1.0.0",
        size=187_654_321,
        layers=("sha256:" + "cd" * 32,),
        home=home,
        location=location,
    )


def test_sizes_say_compressed_or_unpacked() -> None:
    assert size_label(187_654_321, ImageHome.LAYOUT) == "187.7 MB compressed"
    assert size_label(530_000_000, ImageHome.DAEMON) == "530.0 MB unpacked"


def test_an_oci_build_says_where_the_image_went_and_how_to_run_it() -> None:
    result = _result(ImageHome.LAYOUT, "/m/.imagekit/oci")
    archive = Path("/m/iris.tar")
    assert where_to(result, Outputs(archive=archive)) == [
        "image  OCI layout /m/.imagekit/oci (ref iris-classifier:1.0.0)",
        "       docker-archive /m/iris.tar: docker load -i /m/iris.tar",
        "run    podman run --rm oci:/m/.imagekit/oci:iris-classifier:1.0.0",
        "push   imagekit push /m/.imagekit/oci REGISTRY/REPOSITORY:TAG",
    ]
    loaded = where_to(result, Outputs(load=True))
    assert "run    docker run --rm iris-classifier:1.0.0" in loaded


def test_a_docker_build_says_its_image_is_in_the_daemon_and_the_layout() -> None:
    result = replace(_result(ImageHome.DAEMON, "sha256:" + "ab" * 32), layout="/m/.imagekit/oci")
    assert where_to(result, Outputs()) == [
        "image  in the Docker daemon as iris-classifier:1.0.0",
        "       and the same image as the OCI layout /m/.imagekit/oci",
        "run    docker run --rm iris-classifier:1.0.0",
        "push   imagekit push /m/.imagekit/oci REGISTRY/REPOSITORY:TAG",
    ]


def test_a_dockerfile_build_says_its_image_is_in_the_daemon() -> None:
    result = _result(ImageHome.DAEMON, "sha256:" + "ab" * 32)
    assert where_to(result, Outputs()) == [
        "image  in the Docker daemon as iris-classifier:1.0.0",
        "run    docker run --rm iris-classifier:1.0.0",
        "push   imagekit push iris-classifier:1.0.0 REGISTRY/REPOSITORY:TAG",
    ]


# The classic builder's stream, as Docker 20.10+ prints it for imagekit's two-stage Dockerfile.
CLASSIC_LOG = [
    "Step 1/4 : FROM sha256:0f1e2d AS build",
    " ---> 0f1e2d3c4b5a",
    "Step 2/4 : RUN /opt/venv/bin/python tools/pip.whl/pip install --no-index --no-deps "
    "--no-cache-dir --no-compile --disable-pip-version-check --require-hashes "
    "--root-user-action=ignore --prefix /install/python -r /wheels/python/requirements.txt",
    " ---> Running in 9a8b7c6d5e4f",
    "Processing /wheels/python/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl",
    "  WARNING: The scripts f2py and numpy-config are installed in '/install/python/bin' "
    "which is not on PATH.",
    "Successfully installed numpy-1.26.4",
    "Removing intermediate container 9a8b7c6d5e4f",
    " ---> 1a2b3c4d5e6f",
    "Step 3/4 : FROM sha256:0f1e2d",
    " ---> 0f1e2d3c4b5a",
    "Step 4/4 : COPY --from=build /install/python /opt/venv",
    " ---> Using cache",
    " ---> 6f5e4d3c2b1a",
    "Successfully built 6f5e4d3c2b1a",
]


def test_the_docker_log_is_one_line_per_step() -> None:
    shown: list[str] = []
    summary = _Summary(shown.append, verbose=False)
    for line in CLASSIC_LOG:
        summary(line)
    assert shown == [
        "Step 1/4 : FROM sha256:0f1e2d AS build",
        "Step 2/4 : RUN /opt/venv/bin/python tools/pip.whl/pip install --no-index --no-deps "
        "--no-cache-dir...",
        "Step 3/4 : FROM sha256:0f1e2d",
        "Step 4/4 : COPY --from=build /install/python /opt/venv",
    ]
    assert not any("not on PATH" in line for line in shown)
    summary.replay()  # a failure: the whole log follows the summary
    assert shown[4:] == [f"docker build log ({len(CLASSIC_LOG)} lines):", *CLASSIC_LOG]


def test_the_whole_docker_log_with_verbose() -> None:
    shown: list[str] = []
    summary = _Summary(shown.append, verbose=True)
    for line in CLASSIC_LOG:
        summary(line)
    summary.replay()  # already shown as it came: not twice
    assert shown == CLASSIC_LOG


def _git(repo: Path, *args: str, when: int | None = None) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}
    if when is not None:
        env |= {"GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def test_an_image_is_created_at_its_projects_newest_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project = tmp_path / "iris"
    assert image_created(project.parent) is None  # not a git work tree: the base's time
    project.mkdir()
    (project / "imagekit.toml").write_text("[project]\n", encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    _git(
        tmp_path,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "a",
        when=1_750_000_000,
    )
    (tmp_path / "other").write_text("not the project\n", encoding="utf-8")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    _git(
        tmp_path,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "b",
        when=1_760_000_000,
    )
    assert image_created(project) == 1_750_000_000  # the project folder's own newest commit
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert image_created(project) == 1_700_000_000  # asked for explicitly
