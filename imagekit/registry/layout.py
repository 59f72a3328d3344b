"""What pull and push need of an OCI image layout beyond `imagekit.image.layout`'s reader
and writer: the entry to push, and a fresh layout built beside its destination.

A pulled layout is written into a hidden temporary sibling and renamed into place only when
complete (`staged`), so a failed pull never leaves a layout that looks whole. The image
format's errors are raised as the registry's (`LayoutError`, `DigestMismatchError`), which
are `OciError`s too.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from imagekit.image.errors import ContentMismatchError, OciError
from imagekit.image.layout import INDEX_FILE, LAYOUT_FILE, read_blob, read_index
from imagekit.image.model import REF_NAME, Descriptor, Index, Manifest, parse_manifest
from imagekit.limits import shown
from imagekit.registry.errors import DigestMismatchError, LayoutError, LayoutWriteError

# Where a pulled image came from ("registry/repository"), so a push to the same registry
# can mount its blobs instead of uploading them.
SOURCE_ANNOTATION = "dev.imagekit.registry.source"


def read_entries(root: Path) -> Index:
    """The layout's `index.json`; raises `LayoutError` when `root` is not a layout."""
    if not (root / LAYOUT_FILE).is_file():
        raise LayoutError(
            f"{root}: not an OCI image layout (no {LAYOUT_FILE} file); give a layout folder, "
            "a docker-archive tarball, or an image in the Docker daemon"
        )
    try:
        return read_index(root)
    except OciError as e:
        raise LayoutError(str(e)) from e


def pick_manifest(index: Index, tag: str | None, root: Path) -> Descriptor:
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


def read_image(root: Path, blob: Descriptor) -> tuple[bytes, Manifest | Index]:
    """A manifest or index of the layout: its bytes, verified, and what they parse to.

    Raises `DigestMismatchError` for a damaged blob, `LayoutError` for any other problem.
    """
    try:
        data = read_blob(root, blob)
    except ContentMismatchError as e:
        raise DigestMismatchError(str(e)) from e
    except OciError as e:
        raise LayoutError(str(e)) from e
    try:
        return data, parse_manifest(data, blob.media_type, f"{root}: {blob.digest}")
    except OciError as e:
        raise LayoutError(str(e)) from e


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
