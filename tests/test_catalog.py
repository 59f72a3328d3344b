from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _projects import EXAMPLE, copy_project, edit_spec

from imagekit.build.context import wheel_target
from imagekit.errors import InputError
from imagekit.plan.catalog import Catalog, CatalogError, ImageSource, RecipeSource
from imagekit.plan.prepare import prepare
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
        ('glibc = "2.35"\n', "", r"os\.glibc: required key is missing"),
        (
            'glibc = "2.35"',
            'glibc = "2.35.1"',
            r"os\.glibc: not a glibc version: '2\.35\.1' \(write the version of the distribution's "
            r'libc6 as "2\.<minor>", such as "2\.36"\)$',
        ),
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


def test_each_base_states_its_glibc_and_a_child_inherits_it() -> None:
    catalog = Catalog.load()
    assert {name: base.os.glibc for name, base in catalog.bases.items()} == {
        "cuda12.4-runtime-ubuntu22.04": (2, 35),
        "debian-bookworm-py311": (2, 36),
        "debian-bookworm-py311-cuda12.4": (2, 36),
        "debian-bookworm-py311-cuda12.8": (2, 36),
        "debian-bookworm-py311-cuda13.0": (2, 36),
    }


def test_glibc_is_not_part_of_the_recipe_hash(catalog_dir: Path) -> None:
    path = catalog_dir / "debian-bookworm-py311.toml"
    before = Catalog.load(catalog_dir).get("debian-bookworm-py311").recipe_hash
    path.write_text(path.read_text().replace('glibc = "2.36"', 'glibc = "2.37"'))
    after = Catalog.load(catalog_dir).get("debian-bookworm-py311")
    assert (after.os.glibc, after.recipe_hash) == ((2, 37), before)


def test_wheels_for_the_ubuntu_base_are_chosen_for_its_glibc_235(tmp_path: Path) -> None:
    """The plan carries the catalog's glibc to the wheelhouse: no manylinux_2_36 wheel."""
    project = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(project, 'base = "debian-bookworm-py311"', 'base = "cuda12.4-runtime-ubuntu22.04"')
    edit_spec(project, 'critical = ["numpy", "scipy", "scikit-learn"]', 'critical = ["joblib"]')
    lock = (EXAMPLE / "requirements.lock").read_text(encoding="utf-8").splitlines()
    (project / "requirements.lock").write_text("\n".join(lock[2:5]) + "\n", encoding="utf-8")
    plan = prepare(project).plan
    assert plan.base.glibc == "2.35"
    target = wheel_target(plan)
    assert str(target) == "cp310 linux/amd64 glibc 2.35"
    tags = target.platform_tags()
    assert tags[0] == "manylinux_2_35_x86_64"
    assert not [t for t in tags if t.startswith(("manylinux_2_36", "manylinux_2_37"))]
    assert target.rank("joblib-9-py3-none-manylinux_2_36_x86_64.whl") is None
    assert target.rank("joblib-9-py3-none-manylinux_2_35_x86_64.whl") is not None
