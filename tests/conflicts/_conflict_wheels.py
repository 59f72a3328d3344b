"""Small real wheels built here, put into a wheel cache the way `fetch_wheels` stores them, so
that the lock check runs offline on a graph of exactly the shape a test needs."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path


def make_wheel(cache: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> str:
    """Build `<name>-<version>-py3-none-any.whl` with these Requires-Dist lines into
    `<cache>/sha256/<sha256>/`; returns its sha256."""
    stem = f"{name.replace('-', '_')}-{version}"
    metadata = "".join(
        [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
        + [f"Requires-Dist: {r}\n" for r in requires]
    )
    staging = cache / "staging"
    staging.mkdir(parents=True, exist_ok=True)
    wheel = staging / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{stem}.dist-info/METADATA", metadata)
        archive.writestr(
            f"{stem}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{stem}.dist-info/RECORD", "")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    entry = cache / "sha256" / digest
    entry.mkdir(parents=True, exist_ok=True)
    wheel.replace(entry / wheel.name)
    return digest


def write_project(folder: Path, base: str, lock_lines: list[str]) -> Path:
    """A minimal model folder: a spec on `base` for linux/amd64 and this requirements lock."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "imagekit.toml").write_text(
        f'name = "{folder.name}"\nversion = "0.1.0"\nbase = "{base}"\nlockfile = "requirements.lock"\n'
        'platform = "linux/amd64"\nentrypoint = ["python", "-m", "model"]\n',
        encoding="utf-8",
    )
    (folder / "requirements.lock").write_text(
        "".join(f"{line}\n" for line in lock_lines), encoding="utf-8"
    )
    return folder
