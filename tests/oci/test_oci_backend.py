"""Every BackendKind has a backend; outputs only the oci backend gives are refused elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagekit.build.backends import BackendKind, BuildError, Outputs, get_backend
from imagekit.build.backends.oci import OciBackend
from imagekit.daemon import DaemonUnavailableError


@pytest.mark.parametrize("kind", list(BackendKind))
def test_every_kind_has_a_backend(kind: BackendKind) -> None:
    try:
        backend = get_backend(kind)
    except DaemonUnavailableError:
        return  # handled: its engine is just not running here
    try:
        assert backend.kind is kind
    finally:
        backend.close()


def test_the_oci_backend_needs_no_daemon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    backend = get_backend(BackendKind.OCI, outputs=Outputs(oci_dir=tmp_path / "oci"))
    assert isinstance(backend, OciBackend)
    assert backend.outputs.oci_dir == tmp_path / "oci"


def test_docker_gives_no_oci_layout(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"--oci-dir and --archive need --backend oci"):
        get_backend(BackendKind.DOCKER, outputs=Outputs(archive=tmp_path / "x.tar"))
