"""Model folders for tests: copies of the real example, changed one thing at a time."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "iris"
DATA = Path(__file__).resolve().parent / "data"
TORCH = DATA / "projects" / "torch-cu124"
ARTIFACT_SHA = "2bc8aa3e027bcbcf014ac20f0f3b23556979458677ac80a18dfd8e0554897ee9"  # iris's


def copy_project(source: Path, dest: Path) -> Path:
    """A copy of a model folder without build outputs or caches."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".imagekit", "__pycache__"))
    return dest


def edit_spec(project: Path, old: str, new: str) -> None:
    spec = project / "imagekit.toml"
    text = spec.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {spec}"
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")


def fleet_of_three(root: Path) -> None:
    """Three copies of the example on one base: a and b alike but for their names, c with an
    artifact of its own; every Python layer is common to the three."""
    for name in ("a", "b", "c"):
        project = copy_project(EXAMPLE, root / name)
        edit_spec(project, 'name = "iris-classifier"', f'name = "iris-{name}"')
    artifact = root / "c" / "model" / "iris.joblib"
    artifact.write_bytes(artifact.read_bytes() + b"\0")  # still read whole by its checks
    edit_spec(root / "c", ARTIFACT_SHA, hashlib.sha256(artifact.read_bytes()).hexdigest())
