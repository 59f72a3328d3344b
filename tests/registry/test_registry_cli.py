"""`imagekit push` and `imagekit pull`, driven in-process against a real registry."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from _registry_support import BuiltLayout, anonymous_registry, build_layout, free_port, layout_blobs
from typer.testing import CliRunner

from imagekit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


def test_push_and_pull_print_the_manifest_digest(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="cli")
    ref = f"{registry}/imagekit-test/cli:1.0"
    pushed = runner.invoke(app, ["push", str(built.root), ref, "--chunk-size", "20000"])
    assert pushed.exit_code == 0, pushed.output
    assert pushed.stdout == f"{built.manifest_digest}\n"
    # CI's registry outlives one test run, so the first push may find the blobs there.
    summary = rf"pushed {re.escape(ref)}@{built.manifest_digest}: \d blobs uploaded, 0 mounted, \d already there\n"
    assert re.fullmatch(summary, pushed.stderr), pushed.stderr

    again = runner.invoke(app, ["push", str(built.root), ref])
    assert again.exit_code == 0, again.output
    assert again.stderr == (
        f"pushed {ref}@{built.manifest_digest}: 0 blobs uploaded, 0 mounted, 3 already there\n"
    )

    pulled = runner.invoke(app, ["pull", ref, "-o", str(tmp_path / "pulled")])
    assert pulled.exit_code == 0, pulled.output
    assert pulled.stdout == f"{built.manifest_digest}\n"
    assert layout_blobs(tmp_path / "pulled") == layout_blobs(built.root)


def test_push_a_docker_archive(registry: str, tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="archive")
    archive = _docker_archive(built, tmp_path / "image.tar")
    ref = f"{registry}/imagekit-test/archive:1"
    result = runner.invoke(app, ["push", str(archive), ref])
    assert result.exit_code == 0, result.output
    digest = result.stdout.strip()
    assert digest.startswith("sha256:")
    pulled = runner.invoke(
        app, ["pull", f"{registry}/imagekit-test/archive@{digest}", "-o", str(tmp_path / "p")]
    )
    assert pulled.exit_code == 0, pulled.output
    # The config (hence the image ID) survives the conversion byte for byte.
    assert built.blobs[0] in layout_blobs(tmp_path / "p")


def _docker_archive(built: BuiltLayout, dest: Path) -> Path:
    """A `docker save`-style tarball (Docker 25+ form) of a built layout's image."""
    names = [f"blobs/sha256/{d.removeprefix('sha256:')}" for d in built.blobs]
    manifest = [{"Config": names[0], "RepoTags": ["archive:1"], "Layers": names[1:]}]
    (built.root / "manifest.json").write_text(json.dumps(manifest))
    with tarfile.open(dest, "w") as tar:
        tar.add(built.root / "manifest.json", "manifest.json")
        for name in names:
            tar.add(built.root / name, name)
    return dest


def test_unreachable_registry_is_one_line_on_stderr(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="cli-unreachable")
    ref = f"127.0.0.1:{free_port()}/imagekit-test/cli:1"
    result = runner.invoke(app, ["push", str(built.root), ref])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {ref}: cannot reach registry 127.0.0.1:")
    assert result.stderr.count("\n") == 1


def test_bad_reference_and_missing_source(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pull", "Bad Ref", "-o", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: invalid image reference 'Bad Ref': it is empty or holds white space"
    )
    missing = tmp_path / "nope.tar"
    result = runner.invoke(app, ["push", str(missing), "localhost:5000/x:1"])
    assert result.exit_code == 2
    assert result.stderr == f"error: {missing}: file not found (correct the path)\n"


def test_pull_requires_an_output_folder() -> None:
    result = runner.invoke(app, ["pull", "localhost:5000/x:1"])
    assert result.exit_code == 2
    assert "--output" in result.stderr
