"""The base-builder seam: registered builders, the shared order they build in, one recipe."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from imagekit.build.bases import BaseBuilderKind, ensure
from imagekit.build.bases.recipe import DPKG_EXCLUDES, make_rootfs, mmdebstrap_command
from imagekit.build.bases.registry import BASE_BUILDERS
from imagekit.build.oci.base import OciBaseBuilder
from imagekit.image.errors import OciError
from imagekit.plan.catalog import BaseImage, Catalog, RecipeSource


def test_the_registered_builders_are_the_builder_kinds() -> None:
    assert set(BASE_BUILDERS) == set(BaseBuilderKind)
    assert all(builder.kind is kind for kind, builder in BASE_BUILDERS.items())


@dataclass
class Recording:
    """A builder that only records the order it is asked in; `have` are already built."""

    kind: ClassVar[BaseBuilderKind] = BaseBuilderKind.OCI
    have: set[str]
    built: list[tuple[str, str | None]] = field(default_factory=list)

    def reusable(self, base: BaseImage) -> str | None:
        return base.name if base.name in self.have else None

    def build(self, base: BaseImage, parent: str | None) -> str:
        self.built.append((base.name, parent))
        return base.name


def a_child_base() -> BaseImage:
    """A catalog base with a parent (the GPU bases are built over the Debian one)."""
    bases = Catalog.load().bases
    with_parent = [bases[n] for n in sorted(bases) if bases[n].parent is not None]
    assert with_parent, "the catalog has a base FROM another base"
    return with_parent[0]


def test_parents_are_built_first() -> None:
    child = a_child_base()
    assert child.parent is not None
    builder = Recording(have=set())
    assert ensure(builder, child) == child.name
    chain = [child.parent.name, child.name]
    assert [name for name, _ in builder.built][-2:] == chain
    assert builder.built[-1] == (child.name, child.parent.name)


def test_a_reusable_base_builds_nothing_below_it() -> None:
    child = a_child_base()
    builder = Recording(have={child.name})
    assert ensure(builder, child) == child.name
    assert builder.built == []


def test_a_reusable_parent_is_not_built_again() -> None:
    child = a_child_base()
    assert child.parent is not None
    builder = Recording(have={child.parent.name})
    ensure(builder, child)
    assert builder.built == [(child.name, child.parent.name)]


def test_the_rootfs_keeps_copyright_files_and_drops_documentation(
    debian_catalog_base: BaseImage, tmp_path: Path
) -> None:
    source = debian_catalog_base.source
    assert isinstance(source, RecipeSource)
    command = mmdebstrap_command(debian_catalog_base, source, tmp_path / "rootfs.tar", "amd64")
    assert [c for c in command if c.startswith("--dpkgopt=")] == [
        f"--dpkgopt={option}" for option in DPKG_EXCLUDES
    ]
    assert "path-include=/usr/share/doc/*/copyright" in DPKG_EXCLUDES
    assert command[-3:] == [source.suite, str(tmp_path / "rootfs.tar"), source.mirror]


def test_without_mmdebstrap_the_builder_names_the_fix(
    monkeypatch: pytest.MonkeyPatch, debian_catalog_base: BaseImage, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("mmdebstrap") is None
    source = debian_catalog_base.source
    assert isinstance(source, RecipeSource)
    with pytest.raises(OciError, match=r"mmdebstrap is not installed; install it"):
        make_rootfs(debian_catalog_base, source, tmp_path / "r.tar", "amd64", log=print,
                    error=OciError)  # fmt: skip
    builder = OciBaseBuilder(cache_root=tmp_path / "cache", log=print)
    with pytest.raises(OciError, match=r"mmdebstrap is not installed; install it"):
        builder.build(debian_catalog_base, None)
    assert not (tmp_path / "cache" / "bases" / debian_catalog_base.recipe_hash).exists()
