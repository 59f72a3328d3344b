"""Conflicts within one lock: each locked wheel's Requires-Dist against the locked versions."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from _conflict_wheels import make_wheel, write_project
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.conflicts import MetadataError, check_project_lock, read_wheel_metadata
from imagekit.errors import Severity

REPO = Path(__file__).resolve().parents[2]
NUMPY_TOO_OLD = REPO / "tests" / "data" / "conflicts" / "numpy-too-old"
CUDA_BASE = "debian-bookworm-py311-cuda12.4"
TARGET = "cp311 linux/amd64 glibc 2.36"

runner = CliRunner()


@pytest.mark.network
def test_the_conflicting_lock_is_refused_with_the_chain() -> None:
    result = check_project_lock(NUMPY_TOO_OLD)
    lock = NUMPY_TOO_OLD / "requirements.lock"
    assert [str(f) for f in result.findings] == [
        f"{lock}:82: scipy 1.14.1 requires numpy<2.3,>=1.23.5; locked numpy 1.23.2 (requirements.lock:4) "
        "[requirement-conflict] (fix: re-lock so that numpy satisfies <2.3,>=1.23.5, or lock a scipy "
        "release that accepts numpy 1.23.2)"
    ]
    assert not result.ok
    assert (result.read, result.target) == (7, TARGET)
    # pandas' numpy>=1.26.0 applies to Python >= 3.12 only: the base has 3.11.
    pandas_numpy = [
        str(e.requirement)
        for e in result.edges
        if e.requirer == "pandas" and e.requirement.name == "numpy"
    ]
    assert pandas_numpy == ['numpy>=1.23.2; python_version == "3.11"']


@pytest.mark.network
def test_the_cli_exits_1_with_the_chain() -> None:
    result = runner.invoke(app, ["conflicts", "lock", str(NUMPY_TOO_OLD)])
    assert result.exit_code == 1, result.output
    assert (
        "requirements.lock:82: error: scipy 1.14.1 requires numpy<2.3,>=1.23.5; locked numpy 1.23.2 (requirements.lock:4)"
        in result.stderr
    )
    assert (
        result.stderr.splitlines()[-1]
        == f"requirements.lock: 7 packages, 6 requirements checked for {TARGET}: 1 conflict(s)"
    )


@pytest.mark.network
def test_the_iris_example_has_no_conflicts() -> None:
    result = runner.invoke(app, ["conflicts", "lock", str(REPO / "examples" / "iris")])
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == f"requirements.lock: 5 packages, 5 requirements checked for {TARGET}: no conflicts\n"
    )


@pytest.fixture
def graph(tmp_path: Path) -> tuple[Path, Path]:
    """app -> lib[fast] -> accel (too old) and cuBLAS (newer than the base carries);
    app -> helper -> tiny-dep (too old) and absent (not locked); loose has no hash."""
    cache = tmp_path / "cache"
    wheels = {
        "app": ("1.0", ("lib[fast]>=1.0", "helper>=1.0")),
        "lib": (
            "1.5",
            (
                'accel>=3.0; extra == "fast"',
                'win-only>=1; sys_platform == "win32"',
                "nvidia-cublas-cu12>=12.6",
            ),
        ),
        "helper": ("1.0", ("tiny-dep>=2.0", "absent>=1")),
        "accel": ("2.0", ()),
        "tiny-dep": ("1.0", ()),
    }
    lines = [
        f"{name}=={version} --hash=sha256:{make_wheel(cache, name, version, requires)}"
        for name, (version, requires) in wheels.items()
    ]
    project = write_project(tmp_path / "graph", CUDA_BASE, [*lines, "loose==1.0"])
    return project, cache


def test_a_graph_of_requirements_is_checked_offline(graph: tuple[Path, Path]) -> None:
    project, cache = graph
    result = check_project_lock(project, cache_dir=cache)
    lock = project / "requirements.lock"
    errors = [
        (f.location.line, f.rule, f.message)
        for f in result.findings
        if f.severity is Severity.ERROR
    ]
    assert errors == [
        (
            3,
            "requirement-conflict",
            "app 1.0 → helper 1.0 requires tiny-dep>=2.0; locked tiny-dep 1.0 (requirements.lock:5)",
        ),
        (
            3,
            "requirement-missing",
            f"app 1.0 → helper 1.0 requires absent>=1; the lock provides no absent for {TARGET}",
        ),
        (
            2,
            "requirement-conflict",
            "app 1.0 → lib 1.5 [fast] requires accel>=3.0; locked accel 2.0 (requirements.lock:4)",
        ),
        (
            2,
            "requirement-conflict",
            f"app 1.0 → lib 1.5 requires nvidia-cublas-cu12>=12.6; base {CUDA_BASE} carries nvidia-cublas-cu12 12.4.5.8",
        ),
    ]
    warnings = [str(f) for f in result.findings if f.severity is Severity.WARNING]
    assert warnings == [
        f"{lock}:6: loose is not pinned and hashed from an index: its requirements were not read [not-checked] "
        "(fix: fix what `imagekit check` reports, then run this again)"
    ]
    assert result.read == 5


def test_a_base_package_satisfies_a_requirement(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sha = make_wheel(
        cache, "gpu-model", "1.0", ("nvidia-cublas-cu12>=12.4", "nvidia-cudnn-cu12==9.1.0.70")
    )
    project = write_project(tmp_path / "gpu", CUDA_BASE, [f"gpu-model==1.0 --hash=sha256:{sha}"])
    result = check_project_lock(project, cache_dir=cache)
    assert result.findings == ()
    assert [e.provider.where for e in result.edges if e.provider] == [f"base {CUDA_BASE}"] * 2


def test_extras_asked_by_the_lock_switch_requirements_on(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lib = make_wheel(cache, "lib", "1.0", ('accel>=3.0; extra == "fast"',))
    accel = make_wheel(cache, "accel", "2.0")
    plain = write_project(
        tmp_path / "plain",
        "debian-bookworm-py311",
        [f"lib==1.0 --hash=sha256:{lib}", f"accel==2.0 --hash=sha256:{accel}"],
    )
    assert check_project_lock(plain, cache_dir=cache).ok
    fast = write_project(
        tmp_path / "fast",
        "debian-bookworm-py311",
        [f"lib[fast]==1.0 --hash=sha256:{lib}", f"accel==2.0 --hash=sha256:{accel}"],
    )
    assert [f.message for f in check_project_lock(fast, cache_dir=cache).findings] == [
        "lib 1.0 [fast] requires accel>=3.0; locked accel 2.0 (requirements.lock:2)"
    ]


def test_a_file_that_is_not_a_wheel_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken-1.0-py3-none-any.whl"
    path.write_bytes(b"not a zip")
    with pytest.raises(
        MetadataError,
        match=re.escape(
            f"{path}: not a readable wheel: File is not a zip file (delete it from the cache)"
        ),
    ):
        read_wheel_metadata(path)


def test_a_wheel_without_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("empty/__init__.py", "")
    with pytest.raises(
        MetadataError,
        match=re.escape(
            f"{path}: 0 empty-*.dist-info/METADATA files (expected one) (rebuild the wheel)"
        ),
    ):
        read_wheel_metadata(path)


def test_an_unknown_base_is_refused(tmp_path: Path) -> None:
    project = write_project(tmp_path / "nobase", "no-such-base", [])
    result = runner.invoke(app, ["conflicts", "lock", str(project)])
    assert result.exit_code == 2
    assert "no-such-base" in result.stderr


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_metadata_headers_end_at_the_first_empty_line(tmp_path: Path, eol: str) -> None:
    """What the description says after the headers (here a Requires-Dist line) is not read."""
    path = tmp_path / "lib-1.0-py3-none-any.whl"
    text = eol.join(
        [
            "Metadata-Version: 2.1",
            "Name: lib",
            "Version: 1.0",
            "License: MIT",
            "Requires-Dist: accel>=2.0",
            "Description-Content-Type: text/markdown",
            "",
            "# lib",
            "Requires-Dist: numpy",
            "",
            "License: GPL",
        ]
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lib-1.0.dist-info/METADATA", text)
    metadata = read_wheel_metadata(path)
    assert [str(r) for r in metadata.requires] == ["accel>=2.0"]
    assert metadata.license_texts == ("MIT",)


def test_metadata_fields_are_read_as_rfc_822_headers(tmp_path: Path) -> None:
    """Field names in any case, folded values (setuptools folds a long License), a repeated
    field kept in order, and a line that is no field ending the headers as email.parser ends them."""
    path = tmp_path / "lib-1.0-py3-none-any.whl"
    text = "\n".join(
        [
            "metadata-version: 2.1",
            "NAME: Lib",
            "Version:1.0",
            "License: Copyright (c) the authors",
            "        Permission is hereby granted, free of charge,",
            "Requires-Dist: accel>=2.0",
            "requires-dist: numpy; extra == 'fast'",
            "Classifier: License :: OSI Approved :: MIT License",
            "Classifier: Programming Language :: Python",
            "this line is no field",
            "Requires-Dist: torch",
        ]
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lib-1.0.dist-info/METADATA", text)
    metadata = read_wheel_metadata(path)
    assert [str(r) for r in metadata.requires] == ["accel>=2.0", 'numpy; extra == "fast"']
    assert metadata.license_texts == (
        "Copyright (c) the authors",
        "License :: OSI Approved :: MIT License",
    )
