"""`imagekit update`'s lock side: the supported layout, uv's command, what changed, and which
packages --security-only moves (through imagekit.vulns and real OSV advisories)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _projects import DATA, EXAMPLE, REPO, copy_project

from imagekit.lockfile import read_lock
from imagekit.update import UpdateError, find_layout, vulnerable_in
from imagekit.update.lock import (
    changes_between,
    compile_command,
    pinned_directly,
    run_compile,
    uv_binary,
)

NEP50 = REPO / "examples" / "nep50"
OSV = DATA / "osv" / "records"
OLD_JOBLIB = """\
joblib==1.1.0 \\
    --hash=sha256:4158fcecd13733f8be669be0683b96ebdbbd38d23559f54dca7205aea1bf1e35
numpy==2.3.5 \\
    --hash=sha256:00dc4e846108a382c5869e77c6ed514394bdeb3403461d25a829711041217d5b
"""


def test_iris_layout_is_requirements_in_beside_the_lock() -> None:
    layout = find_layout(read_lock(EXAMPLE / "requirements.lock"), EXAMPLE)
    assert layout.names(EXAMPLE) == ("requirements.in", "requirements.lock")


def test_a_lock_named_after_its_in_file() -> None:
    layout = find_layout(read_lock(NEP50 / "requirements-numpy1.lock"), NEP50)
    assert layout.names(NEP50) == ("requirements-numpy1.in", "requirements-numpy1.lock")


def test_other_lock_formats_are_not_supported_yet() -> None:
    project = DATA / "locks" / "project"
    with pytest.raises(
        UpdateError,
        match=r"uv\.lock: `imagekit update` supports requirements\.in \+ a hashed requirements lock compiled by uv; uv locks are not supported yet",
    ):
        find_layout(read_lock(project / "uv.lock"), project)


def test_a_lock_without_its_in_file(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "requirements.in").unlink()
    with pytest.raises(
        UpdateError,
        match=r"requirements\.lock: no requirements\.in beside it: `imagekit update` recompiles the lock from it",
    ):
        find_layout(read_lock(project / "requirements.lock"), project)


def test_compile_command() -> None:
    layout = find_layout(read_lock(EXAMPLE / "requirements.lock"), EXAMPLE)
    everything = compile_command(layout, EXAMPLE, python_version="3.11", upgrade=())
    assert everything == (
        "uv",
        "pip",
        "compile",
        "requirements.in",
        "--universal",
        "--python-version",
        "3.11",
        "--generate-hashes",
        "-o",
        "requirements.lock",
        "--upgrade",
    )
    some = compile_command(
        layout,
        EXAMPLE,
        python_version="3.11",
        upgrade=("joblib", "scipy>=1.16.3"),
        exclude_newer="2026-01-10",
    )
    assert some[-6:] == (
        "--exclude-newer",
        "2026-01-10",
        "--upgrade-package",
        "joblib",
        "--upgrade-package",
        "scipy>=1.16.3",
    )


def test_pinned_directly_names_the_line() -> None:
    source = EXAMPLE / "requirements.in"
    assert pinned_directly(source, ("numpy", "joblib")) == ("requirements.in:3: numpy==2.3.5",)
    assert pinned_directly(source, ("Scikit_Learn",)) == ("requirements.in:2: scikit-learn==1.7.2",)


def test_changes_between_the_nep50_locks() -> None:
    old = read_lock(NEP50 / "requirements-numpy1.lock")
    new = read_lock(NEP50 / "requirements-numpy2.lock")
    (change,) = changes_between(old, new)
    assert (change.name, change.old, change.new, change.kind) == (
        "numpy",
        "1.26.4",
        "2.3.5",
        "changed",
    )
    assert changes_between(old, old) == ()


def test_added_and_removed() -> None:
    iris = read_lock(EXAMPLE / "requirements.lock")
    nep50 = read_lock(NEP50 / "requirements-numpy2.lock")
    kinds = {c.name: c.kind for c in changes_between(nep50, iris)}
    assert kinds == {
        "joblib": "added",
        "scikit-learn": "added",
        "scipy": "added",
        "threadpoolctl": "added",
    }
    assert {c.kind for c in changes_between(iris, nep50)} == {"removed"}


def old_joblib_project(tmp_path: Path) -> Path:
    project = tmp_path / "model"
    project.mkdir()
    (project / "requirements.in").write_text("joblib\nnumpy==2.3.5\n")
    (project / "requirements.lock").write_text(OLD_JOBLIB)
    return project


def test_security_only_finds_the_real_joblib_advisory(tmp_path: Path) -> None:
    lock = read_lock(old_joblib_project(tmp_path) / "requirements.lock")
    (found,) = vulnerable_in(lock, OSV)
    assert (found.name, found.version) == ("joblib", "1.1.0")
    assert "PYSEC-2022-288" in found.ids or "CVE-2022-21797" in found.ids
    assert found.fixed == ("1.2.0",)
    assert found.requirement == "joblib>=1.2.0"


def test_nothing_vulnerable_in_the_iris_lock() -> None:
    assert vulnerable_in(read_lock(EXAMPLE / "requirements.lock"), OSV) == ()


@pytest.mark.network
def test_uv_moves_only_what_it_is_allowed_to(tmp_path: Path) -> None:
    project = old_joblib_project(tmp_path)
    layout = find_layout(read_lock(project / "requirements.lock"), project)
    argv = compile_command(
        layout,
        project,
        python_version="3.11",
        upgrade=("joblib>=1.2.0",),
        exclude_newer="2026-01-10T00:00:00Z",
    )
    run_compile(argv, project)
    new = read_lock(project / "requirements.lock")
    versions = {p.name: str(p.version) for p in new.packages}
    assert versions == {"joblib": "1.5.3", "numpy": "2.3.5"}
    assert all(p.hashes for p in new.packages)
    assert new.path.read_text().startswith(
        "# This file was autogenerated by uv via the following command:\n"
        "#    uv pip compile requirements.in --universal --python-version 3.11"
    )


@pytest.mark.network
def test_a_failed_resolution_is_one_error(tmp_path: Path) -> None:
    project = old_joblib_project(tmp_path)
    (project / "requirements.in").write_text("numpy==0.0.0.1\n")
    layout = find_layout(read_lock(project / "requirements.lock"), project)
    argv = compile_command(layout, project, python_version="3.11", upgrade=())
    with pytest.raises(UpdateError, match=r"uv pip compile failed \(exit \d+\): .*numpy"):
        run_compile(argv, project)


def test_uv_is_found() -> None:
    assert uv_binary().name == "uv" and shutil.which(str(uv_binary())) is not None
