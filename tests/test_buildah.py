"""The buildah backend: the rendered Dockerfile built without a daemon, twice to the same
manifest digest, and the image runs the example. CI installs buildah (.ci/run); wheels come
from the package index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from _projects import EXAMPLE, copy_project

from imagekit.build.backends import BackendKind, BuildError, Outputs, get_backend
from imagekit.build.backends.buildah import BuildahBackend, StorageDriver, mounts_under
from imagekit.build.oci import load_into_daemon, read_layout, write_archive
from imagekit.build.pipeline import BuildOutcome, build_project
from imagekit.plan.catalog import BaseImage
from imagekit.plan.prepare import prepare

NO_BUILDAH = "buildah or skopeo not installed (apt-get install buildah skopeo; CI does)"
needs_buildah = pytest.mark.skipif(
    shutil.which("buildah") is None or shutil.which("skopeo") is None, reason=NO_BUILDAH
)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts file systems: run as root")
TAG = "imagekit-test/iris-buildah:1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    outcome: BuildOutcome
    layout: Path


def build_clean(project: Path, out: Path) -> Built:
    """A build with a fresh buildah storage (the backend's default), its layout in `out/oci`."""
    lines: list[str] = []
    outcome = build_project(
        project,
        progress=lines.append,
        backend=BackendKind.BUILDAH,
        output=out,
        tag=TAG,
        outputs=Outputs(oci_dir=out / "oci"),
    )
    return Built(outcome=outcome, layout=out / "oci")


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Built, Built]:
    built = []
    for name in ("first", "second"):
        root = tmp_path_factory.mktemp(f"buildah-{name}")
        project = copy_project(EXAMPLE, root / "iris")
        built.append(build_clean(project, root / "out"))
    return built[0], built[1]


def test_the_backend_is_chosen_by_its_kind() -> None:
    backend = get_backend(BackendKind.BUILDAH)
    try:
        assert isinstance(backend, BuildahBackend)
        assert backend.kind is BackendKind.BUILDAH
    finally:
        backend.close()


def test_missing_tools_are_named_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, debian_catalog_base: BaseImage
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    backend = BuildahBackend(cache_root=tmp_path / "cache")
    with pytest.raises(
        BuildError,
        match=r"^the buildah backend needs buildah and skopeo on PATH "
        r"\(fix: apt-get install buildah skopeo, or use --backend oci\)$",
    ):
        backend.ensure_base(debian_catalog_base, print)
    backend.close()
    assert not (tmp_path / "cache").exists()  # nothing made before the check


def test_build_needs_a_base(tmp_path: Path) -> None:
    backend = BuildahBackend(cache_root=tmp_path)
    with pytest.raises(BuildError, match=r"call ensure_base first"):
        backend.build(None, tmp_path, TAG, print)  # type: ignore[arg-type]


@needs_buildah
@pytest.mark.slow
@pytest.mark.network
def test_two_clean_builds_give_the_same_digest(two_builds: tuple[Built, Built]) -> None:
    first, second = (b.outcome.result for b in two_builds)
    assert first.layers == second.layers, "layer diff ids differ between two clean builds"
    assert first.image_id == second.image_id
    image = read_layout(two_builds[0].layout, TAG)
    assert image.manifest_digest == first.image_id
    assert tuple(x.diff_id for x in image.layers) == first.layers


@needs_buildah
@pytest.mark.slow
@pytest.mark.network
def test_the_build_record_names_the_layout(two_builds: tuple[Built, Built]) -> None:
    built = two_builds[0]
    record = json.loads(built.outcome.record.read_text(encoding="utf-8"))
    assert record["image_id"] == built.outcome.result.image_id
    assert record["layers"] == list(built.outcome.result.layers)


@needs_buildah
@pytest.mark.slow
@pytest.mark.network
@pytest.mark.docker
def test_the_image_predicts_in_docker(
    two_builds: tuple[Built, Built], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    built = two_builds[0]
    archive = tmp_path / "image.tar"
    write_archive(built.layout, read_layout(built.layout, TAG), TAG, archive, mtime=0)
    load_into_daemon(docker_client, archive)
    try:
        output = docker_client.containers.run(
            TAG,
            ["/app/reference/inputs.csv"],
            remove=True,
            network_mode="none",
            stdout=True,
            stderr=True,
        )
    finally:
        docker_client.images.remove(TAG, noprune=False)
    rows = [json.loads(line) for line in bytes(output).decode().splitlines()]
    expected = json.loads((EXAMPLE / "reference" / "expected.json").read_text())["predictions"]
    assert [r["class"] for r in rows] == [e["class"] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        assert row["probabilities"] == pytest.approx(want["probabilities"], abs=1e-6)


@needs_buildah
@pytest.mark.slow
def test_a_failing_step_is_reported_and_leaves_no_layout(tmp_path: Path) -> None:
    checked = prepare(EXAMPLE)
    plan = checked.plan
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {plan.base.reference}\nRUN echo broken-step >&2 && exit 3\n", encoding="utf-8"
    )
    backend = BuildahBackend(outputs=Outputs(oci_dir=tmp_path / "oci"))
    try:
        backend.ensure_base(checked.base, print)
        with pytest.raises(
            BuildError, match=r"^the image build \(buildah bud\) failed \(exit \d+\): .*broken"
        ):
            backend.build(plan, context, TAG, print)
    finally:
        backend.close()
    assert not (tmp_path / "oci").exists()


def disk_use(folder: Path) -> int:
    """Bytes of disk the files under `folder` take, each inode once, mounts not entered."""
    seen: set[int] = set()
    total = 0
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not Path(top, d).is_mount()]
        for name in [*dirs, *files]:
            info = Path(top, name).lstat()
            if info.st_ino not in seen:
                seen.add(info.st_ino)
                total += info.st_blocks * 512
    return total


@dataclass(frozen=True, slots=True, kw_only=True)
class SmallBuild:
    """Two one-file steps on the iris example's base, built in a storage under `cache_root`."""

    driver: StorageDriver | None
    lines: list[str]
    base_use: int  # bytes of the storage once it holds the base
    build_use: int  # once the image is built too
    storage: Path


def small_build(cache_root: Path, out: Path) -> SmallBuild:
    checked = prepare(EXAMPLE)
    context = out / "context"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(
        f"FROM {checked.plan.base.reference}\nRUN echo one > /one\nRUN echo two > /two\n",
        encoding="utf-8",
    )
    lines: list[str] = []
    backend = BuildahBackend(cache_root=cache_root, outputs=Outputs(oci_dir=out / "oci"))
    try:
        backend.ensure_base(checked.base, lines.append)
        base_use = disk_use(backend.storage)
        backend.build(checked.plan, context, TAG, lines.append)
        return SmallBuild(driver=backend.driver, lines=lines, base_use=base_use,
                          build_use=disk_use(backend.storage), storage=backend.storage)  # fmt: skip
    finally:
        backend.close()


@pytest.fixture
def overlayfs_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder on an overlayfs mount, as inside a container whose root is one."""
    for name in ("lower", "upper", "work", "merged"):
        (tmp_path / name).mkdir()
    layers = ",".join(f"{kind}dir={tmp_path / kind}" for kind in ("lower", "upper", "work"))
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", layers, str(tmp_path / "merged")],
                   check=True)  # fmt: skip
    try:
        yield tmp_path / "merged"
    finally:
        subprocess.run(["umount", str(tmp_path / "merged")], check=True)


@needs_buildah
@needs_root
@pytest.mark.slow
def test_a_step_costs_its_own_changes_where_overlay_mounts(tmp_path: Path) -> None:
    if _is_overlayfs(tmp_path):
        pytest.skip(f"{tmp_path} is on overlayfs, where buildah cannot mount overlays")
    built = small_build(tmp_path / "cache", tmp_path / "out")
    # vfs would hold the base again for each of the two steps' layers
    assert built.build_use - built.base_use < built.base_use // 4, built
    assert built.driver is StorageDriver.OVERLAY
    assert not built.storage.exists()
    assert not mounts_under(tmp_path)


@needs_buildah
@needs_root
@pytest.mark.slow
def test_on_overlayfs_the_storage_falls_back_to_vfs_and_says_why(overlayfs_folder: Path) -> None:
    built = small_build(overlayfs_folder / "cache", overlayfs_folder / "out")
    assert built.driver is StorageDriver.VFS
    said = [line for line in built.lines if line.startswith("buildah storage: vfs")]
    assert len(said) == 1
    assert "'overlay' is not supported over overlayfs" in said[0], said
    image = read_layout(overlayfs_folder / "out" / "oci", TAG)
    assert len(image.layers) >= 3  # the base's, then one per step
    assert not built.storage.exists()


@needs_buildah
@pytest.mark.slow
def test_close_unmounts_what_a_killed_build_left_and_removes_the_storage(tmp_path: Path) -> None:
    checked = prepare(EXAMPLE)
    backend = BuildahBackend(cache_root=tmp_path)
    try:
        backend.ensure_base(checked.base, print)
        store = ["buildah", "--storage-driver", str(backend.driver), "--root",
                 str(backend.storage / "root"), "--runroot", str(backend.storage / "run")]  # fmt: skip
        env = {**os.environ, "CONTAINERS_STORAGE_CONF": str(backend.storage / "storage.conf")}
        container = subprocess.run([*store, "from", "--pull=never", checked.plan.base.reference],
                                   check=True, capture_output=True, text=True, env=env)  # fmt: skip
        subprocess.run([*store, "mount", container.stdout.strip()], check=True, env=env)
        left = mounts_under(backend.storage)
        if backend.driver is StorageDriver.OVERLAY:
            assert left, "the overlay storage mounts the container's root"
    finally:
        storage = backend.storage
        backend.close()
    assert not mounts_under(tmp_path)
    assert not storage.exists()


@needs_root
def test_mount_points_are_found_by_their_real_names(tmp_path: Path) -> None:
    odd = tmp_path / "a b\tc"
    odd.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(odd)], check=True)
    try:
        assert mounts_under(tmp_path) == [odd]
        assert mounts_under(tmp_path / "a") == []
    finally:
        subprocess.run(["umount", str(odd)], check=True)


def _is_overlayfs(folder: Path) -> bool:
    found = subprocess.run(["stat", "-f", "-c", "%T", str(folder)], check=True,
                           capture_output=True, text=True)  # fmt: skip
    return found.stdout.strip() == "overlayfs"
