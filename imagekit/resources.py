"""Locate the data that ships with imagekit: Dockerfile templates and the base image catalog.

An installed wheel carries them under `imagekit/_data/`; a source checkout keeps them at the
top of the repository, where the platform team edits them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The directory `templates` or `base_images`, from the wheel or the checkout."""
    packaged = resources.files("imagekit") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    return _CHECKOUT_ROOT / name


def templates_dir() -> Path:
    return data_dir("templates")


def base_images_dir() -> Path:
    return data_dir("base_images")
