"""Daemonless, reproducible images: deterministic layers, OCI layouts and docker-archives.

The OCI backend (`imagekit.build.backends.oci`) builds with this package alone: the base from its
mmdebstrap recipe (`base`), the model layers from the assembled context (`assemble`), written
as an OCI image layout (`layout`) and, if asked, a docker-archive loaded into a daemon
(`archive`). No container runs and no daemon is needed; the same inputs give the same digest.
"""

from imagekit.build.oci.assemble import ModelBuild, assemble_image
from imagekit.build.oci.base import OciBase, ensure_base, hold_bases
from imagekit.build.oci.cache import LayerCache, default_cache_root
from imagekit.build.oci.rootfs import BaseFacts, base_facts
from imagekit.build.oci.wheels import UnsafeWheelError, check_wheel, layer_tree
from imagekit.image.archive import load_into_daemon, read_archive, save_from_daemon, write_archive
from imagekit.image.config import ImageConfig
from imagekit.image.digest import Digest
from imagekit.image.errors import OciError
from imagekit.image.layout import read_layout, verify_blob
from imagekit.image.model import Compression, Image, LayerBlob
from imagekit.image.tarlayer import Tree, write_layer

__all__ = [
    "BaseFacts",
    "Compression",
    "Digest",
    "Image",
    "ImageConfig",
    "LayerBlob",
    "LayerCache",
    "ModelBuild",
    "OciBase",
    "OciError",
    "Tree",
    "UnsafeWheelError",
    "assemble_image",
    "base_facts",
    "check_wheel",
    "default_cache_root",
    "ensure_base",
    "hold_bases",
    "layer_tree",
    "load_into_daemon",
    "read_archive",
    "read_layout",
    "save_from_daemon",
    "verify_blob",
    "write_archive",
    "write_layer",
]
