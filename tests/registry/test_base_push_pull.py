"""`imagekit base push REF NAME` and `imagekit base pull REF NAME` against the real registry: a
base published by recipe hash is taken back into another cache, the same image, verified; a
tag holding another image is refused and leaves no layout."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from _registry_support import anonymous_registry
from typer.testing import CliRunner

from imagekit.build.oci import default_cache_root, ensure_base
from imagekit.build.oci.base import OciBase
from imagekit.build.oci.regcache import cache_reference
from imagekit.build.oci.shared import base_reference, pull_base
from imagekit.cli import app
from imagekit.image.errors import OciError
from imagekit.plan.catalog import BaseImage
from imagekit.registry import push_layout

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with anonymous_registry(tmp_path_factory.mktemp("registry")) as address:
        yield address


@pytest.fixture(scope="module")
def built(debian_catalog_base: BaseImage) -> OciBase:
    """The Debian base in the default cache (built once there, as the other base tests do)."""
    return ensure_base(debian_catalog_base, cache_root=default_cache_root(), log=print)


def _seed(cache: Path, base: BaseImage, built: OciBase) -> None:
    dest = cache / "imagekit" / "bases" / base.recipe_hash
    for path in sorted(built.layout.rglob("*")):
        target = dest / path.relative_to(built.layout)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)


def test_a_pushed_base_is_pulled_into_another_cache(
    registry: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debian_catalog_base: BaseImage,
    built: OciBase,
) -> None:
    repository = f"{registry}/imagekit-test/bases-{uuid.uuid4().hex[:12]}"
    name = debian_catalog_base.name
    _seed(tmp_path / "a", debian_catalog_base, built)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a"))
    pushed = CliRunner().invoke(app, ["base", "push", repository, name, "--quiet"])
    assert pushed.exit_code == 0, pushed.output
    tag = f"base-{debian_catalog_base.recipe_hash}"
    assert f"pushed {name} {repository}:{tag}@sha256:" in pushed.output

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    pulled = CliRunner().invoke(app, ["base", "pull", repository, name, "--quiet"])
    assert pulled.exit_code == 0, pulled.output
    assert f"pulled {name} {repository}:{tag}@{built.image.manifest_digest}" in pulled.output
    again = CliRunner().invoke(app, ["base", "pull", repository, name, "--quiet"])
    assert again.output.startswith(f"have {name} {built.image.manifest_digest}")


def test_a_tag_holding_another_base_is_refused(
    registry: str,
    tmp_path: Path,
    debian_catalog_base: BaseImage,
    built: OciBase,
) -> None:
    repository = f"{registry}/imagekit-test/bases-{uuid.uuid4().hex[:12]}"
    definition = {**debian_catalog_base.definition, "name": "another-base"}
    other = replace(debian_catalog_base, name="another-base", definition=definition)
    # the Debian base published under the tag of a base of another name (and recipe)
    push_layout(built.layout, base_reference(cache_reference(repository), other))
    layout = tmp_path / "imagekit" / "bases" / other.recipe_hash
    with pytest.raises(OciError, match=r"holds 'debian-bookworm-py311' of revision '1', not"):
        pull_base(other, base_reference(cache_reference(repository), other), layout)
    assert not layout.exists()
