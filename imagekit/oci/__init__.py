"""Daemonless, reproducible images: deterministic layers, OCI layouts and docker-archives.

The OCI backend (`imagekit.backends.oci`) builds with this package alone: the base from its
mmdebstrap recipe (`base`), the model layers from the assembled context (`assemble`), written
as an OCI image layout (`layout`) and, if asked, a docker-archive loaded into a daemon
(`archive`). No container runs and no daemon is needed; the same inputs give the same digest.
"""

from imagekit.oci.archive import load_into_daemon, read_archive, save_from_daemon, write_archive
from imagekit.oci.assemble import ModelBuild, assemble_image
from imagekit.oci.base import OciBase, ensure_base
from imagekit.oci.cache import LayerCache, default_cache_root
from imagekit.oci.layout import read_layout, verify_blob
from imagekit.oci.model import Compression, Digest, Image, ImageConfig, LayerBlob, OciError
from imagekit.oci.rootfs import BaseFacts, base_facts
from imagekit.oci.tarlayer import Tree, write_layer
from imagekit.oci.wheels import UnsafeWheelError, check_wheel, layer_tree

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
    "layer_tree",
    "load_into_daemon",
    "read_archive",
    "read_layout",
    "save_from_daemon",
    "verify_blob",
    "write_archive",
    "write_layer",
]
