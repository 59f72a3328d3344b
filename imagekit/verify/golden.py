"""Golden outputs: one image's outputs on the reference inputs, kept with a manifest.

The manifest records each output's sha256, the image (reference and ID), the command, the
environment and the inputs' hashes. A golden is used only when every file still matches
its hash and it was made with the spec's current command and inputs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imagekit import __version__
from imagekit.verify.results import VerifyError
from imagekit.verify.spec import OutputFormat, VerifySpec

MANIFEST = "manifest.json"
SCHEMA = 1
DEFAULT_GOLDEN = Path(".imagekit") / "verify" / "golden"  # under the model folder
_RECORD = "re-record it: imagekit verify --record --candidate IMAGE"


class GoldenError(VerifyError):
    """A golden folder is missing, altered, or made for other inputs or another command."""

    def __init__(self, where: Path, message: str, fix: str = _RECORD) -> None:
        self.where = where
        super().__init__(f"{where}: {message} ({fix})")


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldenFile:
    name: str
    format: OutputFormat
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "format": self.format.value,
            "sha256": self.sha256,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GoldenFile:
        return cls(
            name=str(d["name"]),
            format=OutputFormat(d["format"]),
            sha256=str(d["sha256"]),
            size=int(d["size"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldenManifest:
    image: str
    image_id: str
    command: tuple[str, ...]
    env: dict[str, str]
    inputs: dict[str, str]  # input name -> sha256
    outputs: tuple[GoldenFile, ...]
    imagekit: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "imagekit": self.imagekit,
            "image": self.image,
            "image_id": self.image_id,
            "command": list(self.command),
            "env": dict(sorted(self.env.items())),
            "inputs": dict(sorted(self.inputs.items())),
            "outputs": [o.to_dict() for o in self.outputs],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GoldenManifest:
        """Raises KeyError, TypeError or ValueError for a malformed manifest."""
        if d.get("schema") != SCHEMA:
            raise ValueError(f"schema {d.get('schema')!r} is not {SCHEMA}")
        return cls(
            imagekit=str(d["imagekit"]),
            image=str(d["image"]),
            image_id=str(d["image_id"]),
            command=tuple(str(a) for a in d["command"]),
            env={str(k): str(v) for k, v in d["env"].items()},
            inputs={str(k): str(v) for k, v in d["inputs"].items()},
            outputs=tuple(GoldenFile.from_dict(o) for o in d["outputs"]),
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_golden(
    folder: Path, spec: VerifySpec, outputs: Path, *, image: str, image_id: str
) -> GoldenManifest:
    """Copy the declared outputs from `outputs` into `folder` with their manifest.

    The folder is replaced whole (written beside it, then renamed), so a failed recording
    leaves the previous golden intact.
    """
    files = []
    for declared in spec.outputs:
        source = outputs / declared.name
        files.append(
            GoldenFile(
                name=declared.name,
                format=declared.format,
                sha256=sha256_of(source),
                size=source.stat().st_size,
            )
        )
    manifest = GoldenManifest(
        image=image,
        image_id=image_id,
        command=spec.command,
        env=spec.env,
        inputs={i.name: i.sha256 for i in spec.inputs},
        outputs=tuple(files),
    )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        for declared in spec.outputs:
            shutil.copyfile(outputs / declared.name, staging / declared.name)
        text = json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n"
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        _replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _replace(staging: Path, folder: Path) -> None:
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def load_golden(folder: Path, spec: VerifySpec) -> GoldenManifest:
    """The manifest of a golden folder that can stand in for a baseline run of `spec`.

    Raises `GoldenError` for a missing or malformed manifest, a file whose sha256 differs
    from the manifest's, or a golden made with other inputs, another command or without one
    of the spec's outputs.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise GoldenError(
            folder,
            "no golden outputs here",
            "record them first: imagekit verify --record --candidate IMAGE",
        )
    try:
        manifest = GoldenManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise GoldenError(path, f"not a golden manifest ({type(e).__name__}: {e})") from e
    for item in manifest.outputs:
        _check_file(folder, item)
    _check_matches(path, manifest, spec)
    return manifest


def _check_file(folder: Path, item: GoldenFile) -> None:
    file = folder / item.name
    if not file.is_file():
        raise GoldenError(file, "listed in the manifest but missing")
    actual = sha256_of(file)
    if actual != item.sha256:
        raise GoldenError(
            file, f"sha256 {actual} differs from the manifest's {item.sha256}: it was altered"
        )


def _check_matches(path: Path, manifest: GoldenManifest, spec: VerifySpec) -> None:
    inputs = {i.name: i.sha256 for i in spec.inputs}
    if manifest.inputs != inputs:
        changed = sorted(set(inputs.items()) ^ set(manifest.inputs.items()))
        raise GoldenError(path, f"recorded for other inputs ({changed[0][0]} differs)")
    if manifest.command != spec.command:
        raise GoldenError(path, f"recorded with another command: {' '.join(manifest.command)}")
    recorded = {o.name for o in manifest.outputs}
    missing = [o.name for o in spec.outputs if o.name not in recorded]
    if missing:
        raise GoldenError(path, f"has no {missing[0]}")
