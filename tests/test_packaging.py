"""The wheel carries the templates and the base image catalog inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _projects import REPO

from imagekit.resources import base_images_dir, templates_dir


@pytest.mark.network  # pip fetches the build backend (hatchling)
@pytest.mark.slow
def test_wheel_ships_templates_and_catalog(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
    )
    (wheel,) = tmp_path.glob("imagekit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in templates_dir().iterdir():
        assert f"imagekit/_data/templates/{template.name}" in names
    for base in base_images_dir().glob("*.toml"):
        assert f"imagekit/_data/base_images/{base.name}" in names
    assert "imagekit/py.typed" in names
