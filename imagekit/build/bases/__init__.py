"""Catalog bases: one shared recipe, one builder interface, a builder per engine.

The builders themselves live beside their engines (`imagekit.build.baseimage` for Docker,
`imagekit.build.oci.base` without a daemon) and are registered in `registry`.
"""

from imagekit.build.bases.interface import BaseBuilder, BaseBuilderKind, ensure

__all__ = ["BaseBuilder", "BaseBuilderKind", "ensure"]
