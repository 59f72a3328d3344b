"""What `imagekit push` accepts: an OCI layout folder, a docker-archive file, or a daemon image,
told apart by the one rule every command uses (`imagekit.image.ref`).

The last two become a temporary OCI layout through `imagekit.image.archive` (the converter the
daemonless builder uses), then go up like any layout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from imagekit.daemon import docker_client
from imagekit.image.archive import read_archive, save_from_daemon
from imagekit.image.ref import RefKind, image_ref
from imagekit.registry.client import ClientOptions
from imagekit.registry.push import PushResult, push_layout
from imagekit.registry.reference import Reference, as_reference

_PUSHED = "an OCI layout, a docker-archive or an image in the Docker daemon"


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
    `RegistryError` from the push; `InputError` for a missing path-like source or one that is
    no image (a root file system folder, an SBOM, a lockfile).
    """
    ref = as_reference(reference)
    given = image_ref(source)
    if given.kind is RefKind.OCI_LAYOUT:
        return push_layout(given.path, ref, mount_from=mount_from, options=options)
    if given.kind not in (RefKind.DOCKER_ARCHIVE, RefKind.DAEMON):
        raise given.refused(_PUSHED)
    with tempfile.TemporaryDirectory(prefix="imagekit-push-") as tmp:
        layout = Path(tmp) / "layout"
        if given.kind is RefKind.DOCKER_ARCHIVE:
            read_archive(given.path, layout, ref.tag or "latest")
        else:
            client = docker_client()
            try:
                save_from_daemon(client, source, layout)
            finally:
                client.close()
        return push_layout(layout, ref, mount_from=mount_from, options=options)
