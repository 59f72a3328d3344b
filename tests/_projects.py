"""Model folders for tests: copies of the real example, changed one thing at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "iris"
DATA = Path(__file__).resolve().parent / "data"
TORCH = DATA / "projects" / "torch-cu124"


def copy_project(source: Path, dest: Path) -> Path:
    """A copy of a model folder without build outputs or caches."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".imagekit", "__pycache__"))
    return dest


def edit_spec(project: Path, old: str, new: str) -> None:
    spec = project / "imagekit.toml"
    text = spec.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {spec}"
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")
