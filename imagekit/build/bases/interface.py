"""The base-builder interface: one recipe (`recipe`), built by each engine its own way.

A base builder makes one catalog base at a time, given its parent already built; `ensure` is
the order every builder follows: a base built from the same recipe is reused, else its parent
comes first (reused or built), then the base itself.
"""

from __future__ import annotations

import enum
from typing import ClassVar, Protocol, TypeVar

from imagekit.plan.catalog import BaseImage

Built = TypeVar("Built")


class BaseBuilderKind(enum.StrEnum):
    DOCKER = "docker"  # in a Docker daemon, tagged `base.local_tag`
    OCI = "oci"  # without a daemon: an OCI layout cached by recipe hash


class BaseBuilder(Protocol[Built]):
    kind: ClassVar[BaseBuilderKind]

    def reusable(self, base: BaseImage) -> Built | None:
        """The base already built from this very recipe (and builder revision), or None."""
        ...

    def build(self, base: BaseImage, parent: Built | None) -> Built:
        """Build `base` alone, over its `parent` (already built, None for a base with a source).

        Raises the builder's error (`BaseBuildError`, `OciError`) or `WheelhouseError`; a
        failed build leaves nothing that `reusable` would take for the base.
        """
        ...


def ensure(builder: BaseBuilder[Built], base: BaseImage) -> Built:
    """`base` from `builder`: reused if built from the same recipe, else built, parents first."""
    found = builder.reusable(base)
    if found is not None:
        return found
    parent = ensure(builder, base.parent) if base.parent is not None else None
    return builder.build(base, parent)
