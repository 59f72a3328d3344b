"""Find the model folders under a directory: every folder with an imagekit.toml, or with a
pyproject.toml holding [tool.imagekit]."""

from __future__ import annotations

import os
from pathlib import Path

from imagekit.errors import InputError
from imagekit.project.appfiles import ALWAYS_EXCLUDED_DIRS
from imagekit.project.spec import SPEC_FILE
from imagekit.tomlfile import load_toml


def _is_model(folder: Path) -> bool:
    if (folder / SPEC_FILE).is_file():
        return True
    pyproject = folder / "pyproject.toml"
    return pyproject.is_file() and "imagekit" in load_toml(pyproject).get("tool", {})


def find_models(root: Path) -> tuple[Path, ...]:
    """Model folders under `root` (itself included), sorted; raises `InputError` if none."""
    if not root.is_dir():
        raise InputError(root, "not a folder", "pass the folder that holds the model folders")
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ALWAYS_EXCLUDED_DIRS)
        if _is_model(Path(dirpath)):
            found.append(Path(dirpath))
            dirnames[:] = []  # a model folder's own sub-folders are its application code
    if not found:
        raise InputError(
            root,
            "no model folders found",
            f"each model needs a {SPEC_FILE} (imagekit init creates one)",
        )
    return tuple(sorted(found))
