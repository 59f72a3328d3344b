"""`compare_layouts` on small OCI layouts written here, one thing changed at a time; and
`imagekit build --check-reproducible` on the real example."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _projects import EXAMPLE, copy_project
from typer.testing import CliRunner

from imagekit.build.backends import BackendKind
from imagekit.build.oci import (
    Compression,
    ImageConfig,
    LayerBlob,
    OciError,
    Tree,
    read_layout,
    write_layer,
)
from imagekit.build.reproducible import (
    Difference,
    NotReproducibleCheckableError,
    check_reproducible,
    compare_layouts,
)
from imagekit.cli import app
from imagekit.image.config import History, rfc3339
from imagekit.image.layout import blob_path, write_image, write_index
from imagekit.image.tarlayer import bytes_entry

EPOCH = 315532800
BASE_FILES = {"etc/os-release": b"ID=test\n"}
APP_FILES = {"app/main.py": b"print('hi')\n", "app/model.bin": b"\x00\x01\x02"}
ENV = ("PATH=/usr/bin", "MODEL=/app/model.bin")


def write_test_layout(
    dest: Path,
    *,
    app: dict[str, bytes] = APP_FILES,
    mtimes: dict[str, int] | None = None,
    env: tuple[str, ...] = ENV,
) -> Path:
    """A two-layer layout: a base layer, then the app layer built from `app`."""
    blobs = dest / "blobs" / "sha256"
    layers: list[LayerBlob] = []
    for files in (BASE_FILES, app):
        tree = Tree()
        for path, data in files.items():
            tree.add(bytes_entry(path, data, mtime=(mtimes or {}).get(path, EPOCH)))
        layers.append(write_layer(tree, blobs, mtime=EPOCH, compression=Compression.GZIP))
    config = ImageConfig(
        architecture="amd64",
        os="linux",
        created=rfc3339(EPOCH),
        diff_ids=tuple(x.diff_id for x in layers),
        history=tuple(History(created=rfc3339(EPOCH), created_by=n) for n in ("base", "app")),
        env=env,
    )
    image = write_image(dest, config, tuple(layers), {})
    write_index(dest, image, "test:1")
    return dest


def test_equal_layouts_have_no_difference(tmp_path: Path) -> None:
    a = write_test_layout(tmp_path / "a")
    b = write_test_layout(tmp_path / "b")
    assert compare_layouts(a, b) is None


def test_a_file_content_difference_names_the_layer_and_the_file(tmp_path: Path) -> None:
    a = write_test_layout(tmp_path / "a")
    b = write_test_layout(tmp_path / "b", app={**APP_FILES, "app/model.bin": b"\x00\x01\x03"})
    found = compare_layouts(a, b)
    assert found is not None
    assert (found.part, found.layer, found.entry, found.field) == (
        "layer",
        1,
        "app/model.bin",
        "content sha256",
    )
    assert found.a != found.b
    assert found.diff_ids is not None and found.diff_ids[0] != found.diff_ids[1]
    assert found.describe().startswith(f"layer 1 ({found.diff_ids[0]} != {found.diff_ids[1]})")
    assert "app/model.bin: content sha256: " in found.describe()


def test_an_mtime_difference_is_named_before_the_pax_headers(tmp_path: Path) -> None:
    a = write_test_layout(tmp_path / "a")
    b = write_test_layout(tmp_path / "b", mtimes={"app/main.py": EPOCH + 7})
    found = compare_layouts(a, b)
    assert found == Difference(
        part="layer",
        field="mtime",
        a=str(EPOCH),
        b=str(EPOCH + 7),
        layer=1,
        diff_ids=found.diff_ids if found else None,
        entry="app/main.py",
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    a = write_test_layout(tmp_path / "a")
    b = write_test_layout(tmp_path / "b", app={"app/main.py": APP_FILES["app/main.py"]})
    found = compare_layouts(a, b)
    assert found is not None
    assert (found.field, found.entry, found.a, found.b) == (
        "entry",
        "app/model.bin",
        "app/model.bin",
        "(end of layer)",
    )


def test_a_config_env_difference_names_its_json_path(tmp_path: Path) -> None:
    a = write_test_layout(tmp_path / "a")
    b = write_test_layout(tmp_path / "b", env=(ENV[0], "MODEL=/app/other.bin"))
    found = compare_layouts(a, b)
    assert found == Difference(
        part="config",
        field="config.config.Env[1]",
        a='"MODEL=/app/model.bin"',
        b='"MODEL=/app/other.bin"',
    )
    assert found.describe() == (
        'config differ: config.config.Env[1]: "MODEL=/app/model.bin" != "MODEL=/app/other.bin"'
    )


def test_an_extra_env_entry_is_absent_on_one_side(tmp_path: Path) -> None:
    a = write_test_layout(tmp_path / "a")
    b = write_test_layout(tmp_path / "b", env=(*ENV, "EXTRA=1"))
    found = compare_layouts(a, b)
    assert found is not None
    assert (found.field, found.a, found.b) == ("config.config.Env[2]", "(absent)", '"EXTRA=1"')


def test_a_corrupt_layer_is_an_oci_error(tmp_path: Path) -> None:
    a = write_test_layout(tmp_path / "a")
    b = write_test_layout(tmp_path / "b", app={**APP_FILES, "app/main.py": b"print('bye')\n"})
    layer = read_layout(b).layers[1].descriptor.digest
    path = blob_path(b, layer)
    path.chmod(0o644)
    path.write_bytes(b"not a gzip stream")
    with pytest.raises(OciError, match="layer 1"):
        compare_layouts(a, b)


def test_the_dockerfile_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotReproducibleCheckableError, match="needs the docker or oci backend"):
        check_reproducible(tmp_path, progress=print, backend=BackendKind.DOCKERFILE)


def test_the_cli_refuses_the_dockerfile_backend(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["build", "--check-reproducible", "--backend", "dockerfile", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert "--check-reproducible needs the docker or oci backend" in result.output


@pytest.mark.network
@pytest.mark.slow
def test_the_example_is_reproducible(tmp_path: Path) -> None:
    if shutil.which("mmdebstrap") is None:
        pytest.skip("mmdebstrap is not installed (apt-get install mmdebstrap); CI installs it")
    project = copy_project(EXAMPLE, tmp_path / "iris")
    result = CliRunner().invoke(app, ["build", "--check-reproducible", str(project)])
    assert result.exit_code == 0, result.output
    assert "reproducible: sha256:" in result.output
    assert not (project / ".imagekit").exists()  # both builds went to a temporary folder
