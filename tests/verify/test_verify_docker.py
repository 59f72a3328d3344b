"""`imagekit verify` on a real daemon: the iris example built twice passes, NumPy 1 -> 2 on the
nep50 example fails with its worst elements, hangs time out, and no container is left behind.
Wheels come from the package index (the builds), so the network marker applies too."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from _projects import EXAMPLE, copy_project, edit_spec
from _verify_helpers import (
    NEP50,
    build,
    created_since,
    remove_tag,
    verify_containers,
    with_command,
)
from typer.testing import CliRunner

from imagekit.build.baseimage import BaseBuildResult
from imagekit.cli import app
from imagekit.errors import InputError
from imagekit.project.spec import load_spec
from imagekit.verify import ImageNotFoundError, Limits, RunStatus, stage_inputs, verify_images
from imagekit.verify.container import output_folder, run_command

pytestmark = [pytest.mark.docker, pytest.mark.network, pytest.mark.slow]
IRIS_A, IRIS_B = "imagekit-test/verify-iris:a", "imagekit-test/verify-iris:b"
NP1, NP2 = "imagekit-test/verify-nep50:np1", "imagekit-test/verify-nep50:np2"
MISSING = "imagekit-test/verify-missing:none"


@pytest.fixture(scope="module")
def iris_images(
    debian_base: BaseBuildResult,
    docker_client: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """The iris example built twice from the same lock, under two tags."""
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("verify") / "iris")
    try:
        build(project, IRIS_A)
        build(project, IRIS_B)
        yield IRIS_A, IRIS_B
    finally:
        for tag in (IRIS_A, IRIS_B):
            remove_tag(docker_client, tag)


@pytest.fixture(scope="module")
def nep50_images(
    debian_base: BaseBuildResult,
    docker_client: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """The nep50 example built with its NumPy 1 lock and with its NumPy 2 lock."""
    root = tmp_path_factory.mktemp("verify")
    numpy1 = copy_project(NEP50, root / "np1")
    numpy2 = copy_project(NEP50, root / "np2")
    edit_spec(numpy2, "requirements-numpy1.lock", "requirements-numpy2.lock")
    try:
        build(numpy1, NP1)
        build(numpy2, NP2)
        yield NP1, NP2
    finally:
        for tag in (NP1, NP2):
            remove_tag(docker_client, tag)


@pytest.fixture(autouse=True)
def no_leftovers(docker_client: docker.DockerClient) -> Iterator[None]:
    assert verify_containers(docker_client) == [], "a verify container exists before the test"
    yield
    assert verify_containers(docker_client) == [], "a verify container was left behind"


def test_iris_built_twice_passes(iris_images: tuple[str, str], tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    args = ["verify", str(EXAMPLE), "--baseline", IRIS_A, "--candidate", IRIS_B]
    result = CliRunner().invoke(app, [*args, "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"PASS: {IRIS_B} against {IRIS_A}\n")
    assert "ok   probabilities.npy: 0/24 outside, max abs 0, max rel 0, max 0 ULP" in result.stdout
    markdown = report.read_text()
    assert markdown.startswith("# imagekit verify: PASS\n")
    assert "| probabilities.npy | pass | 8x3 | float64 | 0/24 (0.0%) |" in markdown


def test_nep50_numpy2_fails_with_the_worst_elements(
    nep50_images: tuple[str, str], tmp_path: Path
) -> None:
    report = tmp_path / "report.md"
    args = ["verify", str(NEP50), "--baseline", NP1, "--candidate", NP2, "--report", str(report)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False
    (field,) = data["outputs"][0]["fields"]
    assert (field["shape"], field["dtype"], field["count"]) == ([6, 2], "float64", 12)
    assert field["outside"] == 4
    assert 1e-6 < field["max_abs_error"] < 1e-5
    worst = field["worst"][0]
    assert worst["where"] == "[3, 0]"  # the timestamp that float32 rounds onto the mean
    assert (worst["baseline"], worst["candidate"]) == ("-0.2497716823993339", "-0.2497735470533371")
    assert data["failures"][0].startswith("scores.npy: 4 of 12 elements outside the tolerance")
    markdown = report.read_text()
    assert "| `[3, 0]` | -0.2497716823993339 | -0.2497735470533371 | 1.86e-06 |" in markdown
    assert "numpy" in markdown.split("## Image diff")[1]  # imagekit diff names the upgrade


def test_golden_record_then_compare(nep50_images: tuple[str, str], tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    runner = CliRunner()
    base = ["verify", str(NEP50), "--golden", str(golden)]
    recorded = runner.invoke(app, [*base, "--record", "--candidate", NP1])
    assert recorded.exit_code == 0, recorded.output
    assert recorded.stdout.startswith(f"recorded scores.npy of {NP1} (sha256:")
    manifest = json.loads((golden / "manifest.json").read_text())
    assert manifest["image"] == NP1 and manifest["inputs"]["inputs.csv"].startswith("85470a69")
    same = runner.invoke(app, [*base, "--candidate", NP1])
    assert same.exit_code == 0, same.output
    assert same.stdout.startswith(f"PASS: {NP1} against golden outputs of {NP1}")
    moved = runner.invoke(app, [*base, "--candidate", NP2])
    assert moved.exit_code == 1
    assert "[3, 0]: -0.2497716823993339 -> -0.2497735470533371" in moved.stdout


def test_a_hanging_command_times_out_and_is_removed(
    iris_images: tuple[str, str], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = with_command(EXAMPLE, tmp_path / "iris", ["sleep", "1000"])
    started = time.monotonic()
    report = verify_images(
        load_spec(project),
        baseline=IRIS_A,
        candidate=IRIS_B,
        client=docker_client,
        limits=Limits(timeout_s=2),
    )
    assert time.monotonic() - started < 60
    assert not report.ok
    assert report.baseline.status is RunStatus.TIMEOUT
    assert report.candidate.status is RunStatus.TIMEOUT
    assert report.failures[0] == f"baseline {IRIS_A}: timed out after 2 s; killed and removed"
    assert report.outputs == ()


def test_a_failing_command_reports_its_exit_and_output(
    iris_images: tuple[str, str], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    argv = ["python", "-c", "import sys; print('model exploded', file=sys.stderr); sys.exit(3)"]
    project = with_command(EXAMPLE, tmp_path / "iris", argv)
    result = CliRunner().invoke(
        app, ["verify", str(project), "--baseline", IRIS_A, "--candidate", IRIS_B]
    )
    assert result.exit_code == 1
    assert f"  baseline {IRIS_A}: exit 3 after" in result.stdout
    assert "    | model exploded" in result.stdout


def test_a_command_that_writes_nothing_names_the_output(
    iris_images: tuple[str, str], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = with_command(EXAMPLE, tmp_path / "iris", ["python", "-c", "pass"])
    report = verify_images(
        load_spec(project), baseline=IRIS_A, candidate=IRIS_B, client=docker_client
    )
    assert not report.ok
    assert report.failures == (
        f"probabilities.npy: probabilities.npy was not written by the baseline ({IRIS_A})",
    )


def test_the_command_runs_confined(
    iris_images: tuple[str, str], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    # the command writes what it sees: its uid, the network, the inputs' mount, the seed
    script = (
        "import os, socket, json, pathlib; env = os.environ;"
        "ins = pathlib.Path(env['IMAGEKIT_VERIFY_INPUTS']);"
        "pathlib.Path(env['IMAGEKIT_VERIFY_OUTPUTS'], 'seen.json').write_text(json.dumps({"
        "'uid': os.getuid(), 'nets': sorted(n for _, n in socket.if_nameindex()),"
        "'inputs_writable': os.access(ins, os.W_OK), 'seed': env['PYTHONHASHSEED'],"
        "'threads': env['OMP_NUM_THREADS'], 'inputs': sorted(p.name for p in ins.iterdir())}))"
    )
    verify = load_spec(EXAMPLE).verify
    assert verify is not None
    stage_inputs(verify, EXAMPLE, tmp_path / "inputs")
    outputs = output_folder(tmp_path)
    since = time.time_ns()
    run = run_command(
        docker_client,
        role="candidate",
        image=IRIS_A,
        argv=["python", "-c", script],
        env=verify.env,
        inputs=tmp_path / "inputs",
        outputs=outputs,
        limits=Limits(timeout_s=60),
    )
    assert run.ok, run.log_tail
    assert len(created_since(docker_client, since)) == 1  # what the other tests count
    seen = json.loads((outputs / "seen.json").read_text())
    assert seen == {
        "uid": 10001,
        "nets": ["lo"],
        "inputs_writable": False,
        "seed": "0",
        "threads": "1",
        "inputs": ["inputs.csv"],
    }


def test_a_missing_input_stops_before_any_container(
    iris_images: tuple[str, str], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "reference" / "inputs.csv").unlink()
    since = time.time_ns()
    with pytest.raises(InputError, match=r"reference input reference/inputs\.csv not found"):
        verify_images(load_spec(project), baseline=IRIS_A, candidate=IRIS_B, client=docker_client)
    assert created_since(docker_client, since) == []


def test_a_missing_candidate_is_one_line(
    iris_images: tuple[str, str], docker_client: docker.DockerClient
) -> None:
    since = time.time_ns()
    result = CliRunner().invoke(
        app, ["verify", str(EXAMPLE), "--baseline", IRIS_A, "--candidate", MISSING]
    )
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: image {MISSING} not found in the Docker daemon at ")
    assert "Traceback" not in result.output
    assert created_since(docker_client, since) == []
    with pytest.raises(ImageNotFoundError):
        verify_images(load_spec(EXAMPLE), baseline=MISSING, candidate=IRIS_B, client=docker_client)
