"""What `imagekit push` accepts: an OCI layout folder, a docker-archive file, or a daemon image.

The last two become a temporary OCI layout through `imagekit.image.archive` (the converter the
daemonless builder uses), then go up like any layout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from imagekit.daemon import docker_client
from imagekit.image.archive import read_archive, save_from_daemon
from imagekit.registry.client import ClientOptions
from imagekit.registry.errors import LayoutError
from imagekit.registry.push import PushResult, push_layout
from imagekit.registry.reference import Reference, as_reference

# A source spelled like a path is never looked up as a daemon image (image names hold / too).
_PATH_PREFIXES = ("/", "./", "../", "~")
_ARCHIVES = (".tar", ".tar.gz", ".tgz")


def push_image(
    source: str,
    reference: Reference | str,
    *,
    mount_from: str | None = None,
    options: ClientOptions | None = None,
) -> PushResult:
    """Push `source` to `reference`.

    `source` is an OCI image layout folder; else a `docker save` tarball; else the name of
    an image in the Docker daemon at DOCKER_HOST. Raises `InvalidReferenceError` before any
    work for a bad reference; `OciError` for an unreadable archive or an image the daemon
    lacks; `DaemonUnavailableError` when no daemon answers; `LayoutError` or another
    `RegistryError` from the push (a missing path-like source is a `LayoutError`).
    """
    ref = as_reference(reference)
    path = Path(source)
    if path.is_dir():
        return push_layout(path, ref, mount_from=mount_from, options=options)
    if not path.exists() and (source.startswith(_PATH_PREFIXES) or source.endswith(_ARCHIVES)):
        raise LayoutError(f"{source}: no such layout folder or docker-archive file; check the path")
    with tempfile.TemporaryDirectory(prefix="imagekit-push-") as tmp:
        layout = Path(tmp) / "layout"
        if path.is_file():
            read_archive(path, layout, ref.tag or "latest")
        else:
            client = docker_client()
            try:
                save_from_daemon(client, source, layout)
            finally:
                client.close()
        return push_layout(layout, ref, mount_from=mount_from, options=options)
