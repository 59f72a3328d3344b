"""OCI image layout directories: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.

A layout is written into a hidden temporary sibling and renamed into place only when
complete (`staged`), so a failed pull or conversion never leaves a layout that looks whole.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from imagekit.limits import shown
from imagekit.registry.errors import (
    DigestMismatchError,
    LayoutError,
    LayoutWriteError,
    ManifestError,
)
from imagekit.registry.manifest import (
    OCI_INDEX,
    REF_NAME,
    Descriptor,
    ImageIndex,
    ImageManifest,
    parse_manifest,
)
from imagekit.registry.reference import Digest, sha256_digest

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
# Where a pulled image came from ("registry/repository"), so a push to the same registry
# can mount its blobs instead of uploading them.
SOURCE_ANNOTATION = "dev.imagekit.registry.source"
_MAX_MANIFEST = 4 * 1024 * 1024


def blob_path(root: Path, digest: Digest) -> Path:
    return root / "blobs" / "sha256" / digest.removeprefix("sha256:")


def read_index(root: Path) -> ImageIndex:
    """The layout's `index.json`; raises `LayoutError` when `root` is not a layout."""
    if not (root / LAYOUT_FILE).is_file():
        raise LayoutError(
            f"{root}: not an OCI image layout (no {LAYOUT_FILE} file); give a layout folder, "
            "a docker-archive tarball, or an image in the Docker daemon"
        )
    path = root / INDEX_FILE
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LayoutError(f"{path}: cannot read: {e.strerror}") from e
    try:
        index = parse_manifest(data, OCI_INDEX, str(path))
    except ManifestError as e:
        raise LayoutError(str(e)) from e
    if not isinstance(index, ImageIndex):
        raise LayoutError(f"{path}: is an image manifest, not an index")
    return index


def pick_manifest(index: ImageIndex, tag: str | None, root: Path) -> Descriptor:
    """The entry named `tag` (by `org.opencontainers.image.ref.name`), else the only one.

    Raises `LayoutError` listing the names when the choice is ambiguous.
    """
    named = [m for m in index.manifests if tag and m.annotation(REF_NAME) == tag]
    if len(named) == 1:
        return named[0]
    if len(index.manifests) == 1:
        return index.manifests[0]
    names = sorted(shown(m.annotation(REF_NAME) or m.digest, 80) for m in index.manifests)
    listed = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    raise LayoutError(
        f"{root / INDEX_FILE}: {len(index.manifests)} manifests and none is tagged {tag!r}: "
        f"push by one of these tags: {listed or 'none'}"
    )


def read_blob(root: Path, blob: Descriptor) -> bytes:
    """A small blob (a manifest), verified; raises `LayoutError` or `DigestMismatchError`."""
    path = blob_path(root, blob.digest)
    if blob.size > _MAX_MANIFEST:
        raise LayoutError(f"{path}: {blob.size} bytes is too large for a manifest")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LayoutError(f"{path}: cannot read blob {blob.digest}: {e.strerror}") from e
    if len(data) != blob.size or sha256_digest(data) != blob.digest:
        raise DigestMismatchError(
            f"{path}: does not hold {blob.digest} ({len(data)} bytes, {blob.size} expected, "
            f"hashing to {sha256_digest(data)}); the layout is damaged"
        )
    return data


def read_image(root: Path, blob: Descriptor) -> tuple[bytes, ImageManifest | ImageIndex]:
    """A manifest or index of the layout: its bytes, verified, and what they parse to."""
    data = read_blob(root, blob)
    try:
        return data, parse_manifest(data, blob.media_type, f"{root}: {blob.digest}")
    except ManifestError as e:
        raise LayoutError(str(e)) from e


def write_blob(root: Path, data: bytes, media_type: str) -> Descriptor:
    """Store `data` as a blob; its descriptor."""
    digest = sha256_digest(data)
    path = blob_path(root, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Descriptor(media_type=media_type, digest=digest, size=len(data))


def write_index(root: Path, manifests: Sequence[Descriptor]) -> None:
    """Write `oci-layout` and an `index.json` listing `manifests`."""
    (root / LAYOUT_FILE).write_text(json.dumps({"imageLayoutVersion": "1.0.0"}) + "\n")
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [m.to_dict() for m in manifests],
    }
    (root / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")


def check_free(layout_dir: Path) -> None:
    """Raises `LayoutError` when `layout_dir` exists and is not an empty folder."""
    if layout_dir.exists() and not (layout_dir.is_dir() and not any(layout_dir.iterdir())):
        raise LayoutError(
            f"{layout_dir}: already exists and is not an empty folder; remove it or choose "
            "another output folder"
        )


@contextmanager
def staged(layout_dir: Path) -> Iterator[Path]:
    """Yield an empty folder to build a layout in; it becomes `layout_dir` when the block ends.

    Raises `LayoutError` up front when `layout_dir` is in the way (`check_free`). When the
    block raises, the folder is removed and `layout_dir` is left as it was; a failure to write
    (a full disk, no permission), there or in the block, is a `LayoutWriteError` naming
    `layout_dir`.
    """
    check_free(layout_dir)
    try:
        layout_dir.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{layout_dir.name}.partial-", dir=layout_dir.parent))
    except OSError as e:
        raise _unwritable(layout_dir, e) from e
    try:
        work.chmod(0o755)
        (work / "blobs" / "sha256").mkdir(parents=True)
        yield work
        if layout_dir.is_dir():
            layout_dir.rmdir()
        work.rename(layout_dir)
    except (OSError, LayoutWriteError) as e:
        raise _unwritable(layout_dir, e) from e
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _unwritable(layout_dir: Path, e: OSError | LayoutWriteError) -> LayoutWriteError:
    cause = e.__cause__ if isinstance(e, LayoutWriteError) else e
    reason = (cause.strerror if isinstance(cause, OSError) else None) or str(cause)
    return LayoutWriteError(
        f"{layout_dir}: cannot write the OCI layout: {reason}; nothing was left half-written "
        "(free space on that disk, or write to another one)"
    )
