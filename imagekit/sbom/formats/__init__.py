"""One module per SBOM output format, found by its `SbomFormat` value (see `interface`)."""

from __future__ import annotations

import importlib

from imagekit.sbom.interface import SbomFormat, SbomWriter

__all__ = ["writer"]


def writer(fmt: SbomFormat) -> SbomWriter:
    """The writer of `fmt`, imported on first use: `formats/<value, - as _>.py`'s `WRITER`."""
    module = importlib.import_module(f"{__name__}.{fmt.value.replace('-', '_')}")
    found: SbomWriter = module.WRITER
    return found
