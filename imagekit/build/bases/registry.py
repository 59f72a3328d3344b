"""The registered base builders, by kind.

A new base builder is one module with a class that meets `BaseBuilder` and one line in
`_REGISTERED`. Kept apart from the package's `__init__`: the builders import the shared recipe
from this package, and a registry there would import them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from imagekit.build.baseimage import DockerBaseBuilder
from imagekit.build.bases.interface import BaseBuilder, BaseBuilderKind
from imagekit.build.oci.base import OciBaseBuilder

_REGISTERED: tuple[type[BaseBuilder[Any]], ...] = (
    DockerBaseBuilder,
    OciBaseBuilder,
)
BASE_BUILDERS: Mapping[BaseBuilderKind, type[BaseBuilder[Any]]] = MappingProxyType(
    {builder.kind: builder for builder in _REGISTERED}
)
