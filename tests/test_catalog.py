from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imagekit.catalog import Catalog, CatalogError, ImageSource, RecipeSource
from imagekit.errors import InputError
from imagekit.resources import base_images_dir


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(base_images_dir(), tmp_path / "base_images"))


def test_shipped_catalog() -> None:
    catalog = Catalog.load()
    cpu = catalog.get("debian-bookworm-py311")
    assert isinstance(cpu.source, RecipeSource)
    assert cpu.source.include == ("python3", "ca-certificates", "tzdata")
    assert str(cpu.python.version) == "3.11.2"
    assert cpu.cuda is None
    cuda = catalog.get("debian-bookworm-py311-cuda12.4")
    assert cuda.parent is cpu
    assert cuda.python == cpu.python  # inherited
    assert cuda.cuda is not None
    assert str(cuda.cuda.version) == "12.4"
    assert {p.name for p in cuda.own_packages} == {
        "nvidia-cublas-cu12",
        "nvidia-cuda-nvrtc-cu12",
        "nvidia-cuda-runtime-cu12",
        "nvidia-cudnn-cu12",
    }
    registry = catalog.get("cuda12.4-runtime-ubuntu22.04")
    assert isinstance(registry.source, ImageSource)
    assert registry.source.reference.endswith(
        "@sha256:517da2300c184c9999ec203c2665244bdebd3578d12fcc7065e83667932643d9"
    )


def test_recipe_hash_follows_the_parent(catalog_dir: Path) -> None:
    before = Catalog.load(catalog_dir).get("debian-bookworm-py311-cuda12.4").recipe_hash
    parent = catalog_dir / "debian-bookworm-py311.toml"
    parent.write_text(parent.read_text().replace('"tzdata"]', '"tzdata", "less"]'))
    after = Catalog.load(catalog_dir).get("debian-bookworm-py311-cuda12.4").recipe_hash
    assert before != after
    # comments and layout are not part of the recipe
    parent.write_text("# a comment\n" + parent.read_text())
    assert Catalog.load(catalog_dir).get("debian-bookworm-py311-cuda12.4").recipe_hash == after


def test_unknown_base_lists_the_known_ones() -> None:
    with pytest.raises(
        CatalogError, match=r"base image 'ubuntu' is not in the catalog .*use one of: cuda12\.4"
    ):
        Catalog.load().get("ubuntu")


def test_cycle(catalog_dir: Path) -> None:
    cpu = catalog_dir / "debian-bookworm-py311.toml"
    cpu.write_text('from = "debian-bookworm-py311-cuda12.4"\n' + cpu.read_text())
    with pytest.raises(
        InputError,
        match=r"cycle in base definitions: debian-bookworm-py311-cuda12\.4 -> debian-bookworm-py311 -> debian-bookworm-py311-cuda12\.4",
    ):
        Catalog.load(catalog_dir)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('digest = "sha256:517d', 'digest = "sha256:zz7d', r"source\.digest: not a sha256 digest"),
        (
            'setup_packages = ["python3", "python3-venv"]',
            'setup_packages = ["python3"]\nmirror = 1',
            r"source\.mirror: unknown key",
        ),
        ('codename = "jammy"', "", r"os\.codename: required key is missing"),
    ],
)
def test_bad_registry_entry(catalog_dir: Path, old: str, new: str, message: str) -> None:
    path = catalog_dir / "cuda12.4-runtime-ubuntu22.04.toml"
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(InputError, match=message):
        Catalog.load(catalog_dir)


def test_child_cannot_repin_parent_package(catalog_dir: Path) -> None:
    child = catalog_dir / "child.toml"
    cuda = (catalog_dir / "debian-bookworm-py311-cuda12.4.toml").read_text()
    packages = cuda[cuda.index("[[python_packages]]") :]
    child.write_text('name = "child"\nfrom = "debian-bookworm-py311-cuda12.4"\n\n' + packages)
    with pytest.raises(
        InputError,
        match=r"child\.toml: python_packages\[0\]: nvidia-cublas-cu12 is already carried",
    ):
        Catalog.load(catalog_dir)
