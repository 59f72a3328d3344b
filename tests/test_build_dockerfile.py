"""`imagekit build --backend dockerfile` on a real Docker daemon: the rendered Dockerfile built
by the engine; the example runs, layers are reused, bad input leaves no tag. CI starts the daemon (.ci/dockerd-start.sh); wheels come from the package index."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from _projects import DATA, EXAMPLE, copy_project, edit_spec
from typer.testing import CliRunner

from imagekit import progress
from imagekit.build.backends import BackendKind
from imagekit.build.baseimage import BaseBuildResult
from imagekit.build.context import ContextError
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.build.wheelhouse import WheelhouseError
from imagekit.cli import app
from imagekit.daemon import DaemonUnavailableError
from imagekit.errors import FindingsError

pytestmark = [pytest.mark.docker, pytest.mark.network, pytest.mark.slow]
LAYERS = DATA / "projects" / "layers"


def run(
    client: docker.DockerClient,
    image: str,
    *args: str,
    entrypoint: str | None = None,
) -> str:
    output = client.containers.run(
        image,
        list(args),
        entrypoint=entrypoint,
        remove=True,
        network_mode="none",
        stdout=True,
        stderr=True,
    )
    return bytes(output).decode()


def tag_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def remove_tag(client: docker.DockerClient, tag: str) -> None:
    if tag_exists(client, tag):
        client.images.remove(tag, noprune=False)


def build(
    project: Path,
    tag: str,
    progress: Callable[[str], None] | None = None,
) -> BuildOutcome:
    lines: list[str] = []
    return build_project(
        project, progress=progress or lines.append, tag=tag, backend=BackendKind.DOCKERFILE
    )


@pytest.fixture(scope="module")
def example_progress() -> list[str]:
    """The example build's output lines, as the engine gave them."""
    return []


@pytest.fixture(scope="module")
def example(
    debian_base: BaseBuildResult,
    docker_client: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
    example_progress: list[str],
) -> Iterator[BuildOutcome]:
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("example") / "iris")
    with progress.shown(progress.Display(verbose=True), stream=io.StringIO()):  # the whole log
        outcome = build(project, "imagekit-test/iris:1", example_progress.append)
    yield outcome
    remove_tag(docker_client, "imagekit-test/iris:1")


def test_example_predicts_from_a_container(
    example: BuildOutcome, docker_client: docker.DockerClient
) -> None:
    output = run(docker_client, example.result.tag, "/app/reference/inputs.csv")
    rows = [json.loads(line) for line in output.splitlines()]
    expected = json.loads((EXAMPLE / "reference" / "expected.json").read_text())["predictions"]
    assert [r["class"] for r in rows] == [e["class"] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert row["probabilities"] == pytest.approx(want["probabilities"], abs=1e-6)


def stage_images(lines: list[str]) -> list[str]:
    """The image each build stage before the last ended with (" ---> <id>" before a FROM)."""
    stages, last = [], None
    for line in lines:
        if line.startswith(" ---> ") and " " not in line.removeprefix(" ---> "):
            last = line.removeprefix(" ---> ")
        elif line.startswith("Step ") and " : FROM " in line and last is not None:
            stages.append(last)
    return stages


def test_no_build_stage_is_left_behind(
    example: BuildOutcome, example_progress: list[str], docker_client: docker.DockerClient
) -> None:
    stages = stage_images(example_progress)
    assert stages, "the model's Dockerfile builds in stages"
    for image_id in stages:
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(image_id)


def test_image_config_and_labels(example: BuildOutcome, docker_client: docker.DockerClient) -> None:
    attrs: dict[str, Any] = docker_client.images.get(example.result.tag).attrs
    config = attrs["Config"]
    assert config["User"] == "10001:10001"
    labels = config["Labels"]
    assert labels["io.imagekit.lock.sha256"] == example.plan.lock_sha256
    assert labels["org.opencontainers.image.base.digest"] == example.plan.base.digest
    assert labels["org.opencontainers.image.title"] == "iris-classifier"
    assert "/opt/venv/bin" in next(e for e in config["Env"] if e.startswith("PATH="))
    record = json.loads(example.record.read_text())
    assert record["image_id"] == example.result.image_id
    assert record["lock_sha256"] == example.plan.lock_sha256
    assert record["base"]["digest"] == example.plan.base.digest


def test_image_holds_no_build_leftovers(
    example: BuildOutcome, docker_client: docker.DockerClient
) -> None:
    script = (
        "id -u; "
        "find / -xdev \\( -name '*.whl' -o -name 'pip' -o -name 'pip-*' -o -name '.env' "
        "-o -name 'ensurepip' -o -name 'id_rsa*' -o -name '.netrc' -o -name '.pypirc' "
        "-o -path '*/bin/*' \\( -name 'gcc*' -o -name cc -o -name 'g++*' -o -name 'clang*' "
        "-o -name make \\) \\) -print 2>/dev/null; "
        "sha256sum /etc/ssl/certs/ca-certificates.crt"
    )
    output = run(docker_client, example.result.tag, "-c", script, entrypoint="sh")
    lines = output.splitlines()
    assert lines[0] == "10001"
    leftovers = [x for x in lines[1:-1] if not x.startswith("/usr/share/doc/")]
    assert leftovers == []
    host_bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if host_bundle.is_file():
        host_sha = hashlib.sha256(host_bundle.read_bytes()).hexdigest()
        assert not lines[-1].startswith(host_sha)  # the image has Debian's bundle, not ours


def test_history_follows_the_plan(
    example: BuildOutcome, docker_client: docker.DockerClient
) -> None:
    history = docker_client.images.get(example.result.tag).history()
    copies = [h for h in reversed(history) if "COPY" in h["CreatedBy"]]
    # users, home, one COPY per plan layer (least to most often changed), the plan itself
    assert len(copies) == 2 + len(example.plan.layers) + 1
    sizes = [h["Size"] for h in copies[2:-1]]
    python, artifacts, app_code = sizes
    assert python > 100_000_000  # numpy, scipy, scikit-learn
    assert artifacts < 10_000 and app_code < 100_000


def _layers(client: docker.DockerClient, tag: str) -> list[str]:
    return list(client.images.get(tag).attrs["RootFS"]["Layers"])


def test_layer_reuse(
    debian_base: BaseBuildResult, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = copy_project(LAYERS, tmp_path / "layers")
    tags = ["imagekit-test/layers:a", "imagekit-test/layers:b", "imagekit-test/layers:c"]
    try:
        first = build(project, tags[0])
        kinds = [layer.name for layer in first.plan.layers]
        assert kinds == ["cuda", "framework-onnxruntime", "python", "app"]
        a = _layers(docker_client, tags[0])
        (project / "app" / "main.py").write_text(
            (project / "app" / "main.py").read_text() + "print('edited')\n"
        )
        build(project, tags[1])
        b = _layers(docker_client, tags[1])
        assert len(a) == len(b)
        # only the application layer changed (and the plan stored after it, which names it)
        assert a[:-2] == b[:-2] and a[-2] != b[-2]
        (project / "requirements.lock").write_text(
            (LAYERS / "requirements-six117.lock").read_text()
        )
        build(project, tags[2])
        c = _layers(docker_client, tags[2])
        n = len(a)
        # ..., cuda, framework, python, app, plan: a pure-Python bump leaves CUDA and
        # framework alone
        cuda, framework, python = n - 5, n - 4, n - 3
        assert c[:python] == b[:python]
        assert c[python] != b[python]
        assert c[cuda] == a[cuda] and c[framework] == a[framework]
        printed = run(docker_client, tags[2])
        assert "six 1.17.0" in printed and "onnxruntime 1.20.1" in printed
    finally:
        for tag in tags:
            remove_tag(docker_client, tag)


def test_hash_mismatch_stops_the_build(
    debian_base: BaseBuildResult, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = copy_project(LAYERS, tmp_path / "layers")
    lock = project / "requirements.lock"
    text = lock.read_text()
    start = text.index("six==1.16.0")
    end = text.index("# via", start)
    block = text[start:end]
    wrong = "\n".join(
        line[: line.index("sha256:") + 7] + "0" * 64 + (" \\" if line.endswith("\\") else "")
        if "sha256:" in line
        else line
        for line in block.splitlines()
    )
    lock.write_text(text.replace(block, wrong + "\n    "))
    with pytest.raises(WheelhouseError, match=r"six==1\.16\.0.*(expected|sha256)"):
        build(project, "imagekit-test/layers:bad-hash")
    assert not tag_exists(docker_client, "imagekit-test/layers:bad-hash")


def test_artifact_changed_after_check(
    debian_base: BaseBuildResult, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")

    def tamper(line: str) -> None:
        if line.startswith("fetching wheels"):
            (project / "model" / "iris.joblib").write_bytes(b"not the model")

    with pytest.raises(
        ContextError, match=r"iris\.joblib: model artifact changed after the checks"
    ):
        build(project, "imagekit-test/iris:tampered", tamper)
    assert not tag_exists(docker_client, "imagekit-test/iris:tampered")


def test_interrupted_build_leaves_no_tag(
    debian_base: BaseBuildResult, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, 'version = "1.0.0"', 'version = "interrupted"')

    def interrupt(line: str) -> None:
        if line.startswith("Step 3/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(project, "imagekit-test/iris:interrupted", interrupt)
    assert not tag_exists(docker_client, "imagekit-test/iris:interrupted")
    assert not list((project / ".imagekit").glob("context-*"))  # no half-written context


def test_daemon_down_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    project = copy_project(EXAMPLE, tmp_path / "iris")
    with pytest.raises(DaemonUnavailableError):
        build(project, "imagekit-test/iris:down")
    result = CliRunner().invoke(app, ["build", str(project), "--backend", "docker"])
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_system_packages_layer(
    debian_base: BaseBuildResult, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    # bookworm's current libgomp1 (a point release of gcc-12 would change this pin)
    pin = "libgomp1=12.2.0-14+deb12u1"
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, "[app]", f'[system]\npackages = ["{pin}"]\n\n[app]')
    tag = "imagekit-test/iris:system"
    try:
        outcome = build(project, tag)
        assert outcome.plan.layers[0].name == "system"
        script = (
            "dpkg-query -W -f='${Package}=${Version} ${Status}\\n' libgomp1; "
            "ls /usr/lib/*/libgomp.so.1; find / -xdev -name '*.deb' 2>/dev/null | wc -l"
        )
        lines = run(docker_client, tag, "-c", script, entrypoint="sh").splitlines()
        assert lines[0] == f"{pin} install ok installed"
        assert lines[1].endswith("/libgomp.so.1")
        assert lines[2] == "0"
        # the model still predicts on top of the new layer
        assert '"class": "setosa"' in run(docker_client, tag)
    finally:
        remove_tag(docker_client, tag)


def test_base_build_command_reuses(debian_base: BaseBuildResult) -> None:
    result = CliRunner().invoke(app, ["base", "build", "debian-bookworm-py311"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"reused {debian_base.tag}  sha256:")


def test_build_writes_the_sbom(example: BuildOutcome) -> None:
    assert example.sbom is not None
    doc = json.loads(example.sbom.read_text())
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    kinds = {(c["type"], c["name"]) for c in doc["components"]}
    assert ("machine-learning-model", "iris-classifier") in kinds
    assert ("library", "scikit-learn") in kinds
    assert any(t == "library" and n == "libc6" for t, n in kinds)


def test_denied_licence_leaves_no_tag(
    debian_base: BaseBuildResult, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "policy.toml").write_text('deny = ["BSD-3-Clause"]\n')
    edit_spec(project, 'workdir = "/app"', 'workdir = "/app"\nlicense_policy = "policy.toml"')
    tag = "imagekit-test/iris:denied"
    with pytest.raises(FindingsError) as raised:
        build(project, tag)
    messages = [f.message for f in raised.value.findings]
    assert (
        "scikit-learn 1.7.2 (pypi) is licensed BSD-3-Clause, and the policy denies BSD-3-Clause"
        in messages
    )
    assert all(f.rule == "license-denied" for f in raised.value.findings)
    assert not tag_exists(docker_client, tag)
