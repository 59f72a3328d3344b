"""Golden outputs: one image's outputs on the reference inputs, kept with a manifest.

The manifest records each output's sha256, the image (reference and ID), the command, the
environment and the inputs' hashes. A golden is used only when every file still matches
its hash and it was made with the spec's current command and inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from io import BufferedReader
from pathlib import Path, PurePosixPath
from typing import Any

from imagekit import __version__
from imagekit.image.digest import sha256_file
from imagekit.limits import shown
from imagekit.paths import kind_of
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


def write_golden(
    folder: Path, spec: VerifySpec, outputs: Path, *, image: str, image_id: str
) -> GoldenManifest:
    """Copy the declared outputs from `outputs` into `folder` with their manifest.

    The folder is replaced whole (written beside it, then renamed), so a failed recording
    leaves the previous golden intact. Raises `GoldenError`, recording nothing, for an output
    that is not a regular file directly in `outputs`: the image's command writes that folder,
    and a link it wrote there would otherwise copy a file of the host into the golden.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    staging.chmod(0o755)
    try:
        files = tuple(
            _copy_output(outputs, declared.name, declared.format, staging)
            for declared in spec.outputs
        )
        manifest = GoldenManifest(
            image=image,
            image_id=image_id,
            command=spec.command,
            env=spec.env,
            inputs={i.name: i.sha256 for i in spec.inputs},
            outputs=files,
        )
        text = json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n"
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        _replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _copy_output(outputs: Path, name: str, format: OutputFormat, staging: Path) -> GoldenFile:
    """Copy one output into `staging`, hashing what is copied; raises `GoldenError`."""
    digest = hashlib.sha256()
    size = 0
    with _open_output(outputs, name) as source, (staging / name).open("xb") as dest:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            dest.write(block)
            size += len(block)
    return GoldenFile(name=name, format=format, sha256=digest.hexdigest(), size=size)


def _open_output(outputs: Path, name: str) -> BufferedReader:
    """Open an output the command wrote: a regular file directly in `outputs`, never a link.

    The name is checked with `lstat` and opened with `O_NOFOLLOW` (a link swapped in between
    fails to open) and `O_NONBLOCK` (a FIFO cannot block), then checked again on the descriptor.
    """
    path = outputs / name
    fix = "make the verify command write the output itself into {outputs}, not a link to it"
    if PurePosixPath(name).name != name or name in {".", ".."}:
        raise GoldenError(path, f"{shown(name)} is not a plain file name; nothing recorded", fix)
    try:
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
            fd = os.open(path, flags)
    except OSError as e:
        raise GoldenError(path, f"cannot read the output: {e.strerror}; nothing recorded") from e
    if not stat.S_ISREG(mode):
        raise GoldenError(
            path, f"the output is {kind_of(mode)}, not a regular file; nothing recorded", fix
        )
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between lstat and open
        os.close(fd)
        raise GoldenError(path, "the output changed while it was read; nothing recorded", fix)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


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
    actual = sha256_file(file)
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
