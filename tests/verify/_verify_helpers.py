"""Shared parts of the verify tests that need a daemon: builds, tags, leftover containers."""

from __future__ import annotations

import json
import time
from contextlib import suppress
from pathlib import Path

import docker
import docker.errors
from _projects import REPO, copy_project, edit_spec

from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.verify import LABEL

NEP50 = REPO / "examples" / "nep50"
IRIS_COMMAND = (
    'command = ["python", "-m", "iris_model.predict", "{inputs}/inputs.csv", "--output", '
    '"{outputs}/probabilities.npy"]'
)


def build(project: Path, tag: str) -> BuildOutcome:
    lines: list[str] = []
    return build_project(project, progress=lines.append, tag=tag)


def remove_tag(client: docker.DockerClient, tag: str) -> None:
    with suppress(docker.errors.ImageNotFound):
        client.images.remove(tag, noprune=False)


def verify_containers(client: docker.DockerClient) -> list[str]:
    """Every container, running or not, that carries the verify label."""
    found = client.containers.list(all=True, filters={"label": f"{LABEL}=1"})
    return [str(c.id) for c in found]


def created_since(client: docker.DockerClient, since_ns: int) -> list[str]:
    """IDs of the verify containers the daemon created since a time.time_ns() value."""
    filters = {"type": "container", "event": "create", "label": f"{LABEL}=1"}
    until = int(time.time()) + 1
    events = client.events(since=since_ns // 10**9, until=until, filters=filters, decode=True)
    return [str(e["id"]) for e in events if int(e["timeNano"]) >= since_ns]


def with_command(source: Path, dest: Path, argv: list[str]) -> Path:
    """A copy of the iris example whose verify command is `argv`."""
    project = copy_project(source, dest)
    edit_spec(project, IRIS_COMMAND, f"command = {json.dumps(argv)}")
    return project
