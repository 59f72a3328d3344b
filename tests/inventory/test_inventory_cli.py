"""`imagekit inventory` on images built in the test (no daemon needed)."""

from __future__ import annotations

import json
from pathlib import Path

from _inventory_helpers import (
    OS_RELEASE,
    PLAN,
    docker_archive,
    file,
    layer,
    oci_layout,
    plan,
    sha256,
)
from typer.testing import CliRunner

from imagekit.cli import app

runner = CliRunner()
WEIGHTS = b"weights"
BASE = layer(
    file("etc/os-release", OS_RELEASE),
    file(
        "opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
        "Name: six\nVersion: 1.16.0\n",
    ),
)


def image(tmp_path: Path, weights: bytes) -> Path:
    top = layer(
        file("opt/model/model.bin", weights),
        file(PLAN, plan(("/opt/model/model.bin", sha256(WEIGHTS)[7:]))),
    )
    return docker_archive(tmp_path / "image.tar", [BASE, top])


def test_summary_of_a_verified_image(tmp_path: Path) -> None:
    archive = image(tmp_path, WEIGHTS)
    result = runner.invoke(app, ["inventory", str(archive)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{archive} (linux/amd64, sha256:")
    assert lines[0].endswith(", 2 layers, read from docker-archive)")
    assert lines[1:] == [
        "OS: Debian GNU/Linux 12 (bookworm)",
        "Debian packages: 0",
        "Python distributions: 1 in /opt/venv/lib/python3.11/site-packages",
        "CUDA: none",
        "Model artifacts:",
        f"  model-0: /opt/model/model.bin verified (sha256 {sha256(WEIGHTS)[7:]})",
    ]
    assert result.stderr == ""


def test_a_tampered_artifact_exits_1(tmp_path: Path) -> None:
    archive = image(tmp_path, b"tampered")
    result = runner.invoke(app, ["inventory", str(archive)])
    assert result.exit_code == 1
    assert (
        f"  model-0: /opt/model/model.bin NOT verified: the plan recorded sha256 {sha256(WEIGHTS)[7:]}, "
        f"found sha256 {sha256(b'tampered')[7:]}"
    ) in result.stdout
    assert result.stderr == "1 model artifact(s) NOT verified: /opt/model/model.bin\n"


def test_json_is_the_whole_inventory(tmp_path: Path) -> None:
    oci_layout(
        tmp_path / "oci", [BASE, layer(file(PLAN, plan(("/opt/model/missing.bin", "0" * 64))))]
    )
    result = runner.invoke(app, ["inventory", str(tmp_path / "oci"), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["image"]["source_kind"] == "oci-layout"
    assert data["artifacts"] == [
        {
            "actual_sha256": None,
            "card": {},
            "name": "model-0",
            "path": "/opt/model/missing.bin",
            "recorded_sha256": "0" * 64,
            "size": None,
            "verified": False,
        }
    ]
    assert [p["name"] for p in data["python"]] == ["six"]


def test_an_unreadable_image_exits_2_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    result = runner.invoke(app, ["inventory", str(broken)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {broken}: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
