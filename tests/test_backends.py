"""The backend registry: every BackendKind is registered once, each backend declares its
capabilities, and callers ask them instead of matching on the kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagekit.build.backends import (
    BackendKind,
    BuildError,
    ImageHome,
    Outputs,
    backends,
    capabilities,
    choose_backend,
    get_backend,
)
from imagekit.build.backends.oci import OciBackend
from imagekit.daemon import DaemonUnavailableError


def test_the_registered_kinds_are_the_backend_kinds() -> None:
    assert set(backends()) == set(BackendKind)
    assert all(backend.kind is kind for kind, backend in backends().items())


@pytest.mark.parametrize("kind", list(BackendKind))
def test_every_backend_declares_its_capabilities(kind: BackendKind) -> None:
    declared = capabilities(kind)
    assert isinstance(declared.home, ImageHome)
    assert isinstance(declared.parallel, bool)
    # check_reproducible compares two OCI layouts: a reproducible backend must leave one
    assert not declared.reproducible or declared.layout
    assert declared.layout or declared.home is ImageHome.DAEMON


def test_the_backends_of_imagekits_own_layers_claim_reproducible_images() -> None:
    reproducible = [k for k in BackendKind if capabilities(k).reproducible]
    assert reproducible == [BackendKind.DOCKER, BackendKind.OCI]


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


def test_without_a_daemon_the_oci_backend_is_chosen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    lines: list[str] = []
    assert choose_backend(lines.append) is BackendKind.OCI
    assert lines == [f"no Docker daemon at unix://{tmp_path}/no.sock: building with --backend oci"]


def test_dockerfile_gives_no_oci_layout(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"--oci-dir and --archive need --backend oci or docker"):
        get_backend(BackendKind.DOCKERFILE, outputs=Outputs(archive=tmp_path / "x.tar"))
