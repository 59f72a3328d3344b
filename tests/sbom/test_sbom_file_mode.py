"""An SBOM file gets the mode any file the build writes gets (build.json, plan.json): 0644
under the usual umask, not the 0600 of the temporary file it is renamed from."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from _inventories import iris

from imagekit.sbom import write_sbom, write_text_atomically


@pytest.fixture
def umask_027() -> Iterator[None]:
    """Not 022: the mode follows the umask, it is not a constant."""
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_027")
def test_sbom_mode_is_a_plain_files_mode(tmp_path: Path) -> None:
    plain = tmp_path / "build.json"
    plain.write_text("{}\n", encoding="utf-8")
    out = write_sbom(iris(), tmp_path / "sbom.cdx.json", reproducible=True)
    assert mode(out) == mode(plain) == 0o640


def test_default_umask_gives_0644(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = write_text_atomically(tmp_path / "vex.cdx.json", "{}\n")
    finally:
        os.umask(old)
    assert mode(out) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vex.cdx.json"]
