"""`imagekit update`'s lock side: the supported layout, uv's command, what changed, and which
packages --security-only moves (through imagekit.vulns and real OSV advisories)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _projects import DATA, EXAMPLE, REPO, copy_project

from imagekit.project.lockfile import read_lock
from imagekit.update import Recipe, UpdateError, find_layout, vulnerable_in
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


def test_each_lock_format_has_its_recipe() -> None:
    project = DATA / "locks" / "project"
    uv = find_layout(read_lock(project / "uv.lock"), project)
    poetry = find_layout(read_lock(project / "poetry.lock"), project)
    assert (uv.recipe, uv.source.name) == (Recipe.UV_LOCK, "pyproject.toml")
    assert (poetry.recipe, poetry.source.name) == (Recipe.POETRY, "pyproject.toml")


def test_a_uv_lock_without_its_pyproject(tmp_path: Path) -> None:
    shutil.copy(DATA / "locks" / "project" / "uv.lock", tmp_path / "uv.lock")
    with pytest.raises(
        UpdateError,
        match=r"^.*/uv\.lock: no pyproject\.toml beside it: `imagekit update` re-locks a uv lock "
        r"with uv lock from it \(fix: add the file the lock was made from\)$",
    ):
        find_layout(read_lock(tmp_path / "uv.lock"), tmp_path)


def test_a_pylock_without_a_source(tmp_path: Path) -> None:
    shutil.copy(DATA / "locks" / "pylock.uv-pip-compile.toml", tmp_path / "pylock.toml")
    with pytest.raises(
        UpdateError,
        match=r"pylock\.toml: no pyproject\.toml \(uv export\) or pylock\.in or requirements\.in "
        r"\(uv pip compile\) beside it",
    ):
        find_layout(read_lock(tmp_path / "pylock.toml"), tmp_path)


def test_a_pylock_follows_its_source(tmp_path: Path) -> None:
    shutil.copy(DATA / "locks" / "pylock.uv-pip-compile.toml", tmp_path / "pylock.toml")
    (tmp_path / "requirements.in").write_text("idna\n")
    lock = read_lock(tmp_path / "pylock.toml")
    assert find_layout(lock, tmp_path).recipe is Recipe.UV_PIP_COMPILE_PYLOCK
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    assert find_layout(lock, tmp_path).recipe is Recipe.UV_PIP_COMPILE_PYLOCK  # .in is closer
    (tmp_path / "uv.lock").write_text("")  # a uv project: its pylock is exported
    exported = find_layout(lock, tmp_path)
    assert exported.recipe is Recipe.UV_EXPORT_PYLOCK
    assert exported.companions() == (tmp_path / "uv.lock",)


def test_a_lock_without_its_in_file(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "requirements.in").unlink()
    with pytest.raises(
        UpdateError,
        match=r"requirements\.lock: no requirements\.in or pyproject\.toml beside it: `imagekit "
        r"update` re-locks a requirements lock with uv pip compile from it",
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


# One small real project per lock format, locked as of 2024 (idna 3.6, six 1.16.0) by its own
# tool, then re-locked by `imagekit update`'s recipe asking for idna 3.10 only.
PYPROJECT = """\
[project]
name = "tiny"
version = "0.1.0"
requires-python = ">=3.11,<4"
dependencies = [
    "idna<3.11",
    "six",
]
"""
# This workplace's PyPI serves the simple API only: poetry reads it as a legacy source.
POETRY_SOURCE = """
[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "pypi-simple"
url = "https://pypi.org/simple/"
priority = "primary"
"""
OLD = "2024-01-01T00:00:00Z"
NEW = "2026-01-01T00:00:00Z"  # six 1.17.0 is older: only a pin kept in place stays 1.16.0


def _relock(project: Path, lock: str, *, exclude_newer: str | None = NEW) -> dict[str, str]:
    """Re-lock `project/lock` for idna 3.10 with its recipe; the new lock's versions."""
    layout = find_layout(read_lock(project / lock), project)
    argv = compile_command(
        layout, project, python_version="3.11", upgrade=("idna==3.10",), exclude_newer=exclude_newer
    )
    run_compile(argv, project)
    new = read_lock(project / lock)  # what `imagekit check` reads
    assert all(p.hashes for p in new.packages)
    return {p.name: str(p.version) for p in new.packages}


def _tiny(tmp_path: Path, **files: str) -> Path:
    project = tmp_path / "tiny"
    project.mkdir()
    for name, text in files.items():
        (project / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return project


@pytest.mark.network
def test_requirements_lock_relocks_with_uv_pip_compile(tmp_path: Path) -> None:
    project = _tiny(tmp_path, requirements_in="idna<3.11\nsix\n")
    run_compile(("uv", "pip", "compile", "requirements.in", "--generate-hashes", "--universal",
                 "-o", "requirements.txt", "--exclude-newer", OLD), project)  # fmt: skip
    assert _relock(project, "requirements.txt") == {"idna": "3.10", "six": "1.16.0"}


@pytest.mark.network
def test_uv_lock_relocks_with_uv_lock(tmp_path: Path) -> None:
    project = _tiny(tmp_path, pyproject_toml=PYPROJECT)
    run_compile(("uv", "lock", "--exclude-newer", OLD), project)
    versions = _relock(project, "uv.lock")
    assert (versions["idna"], versions["six"]) == ("3.10", "1.16.0")


@pytest.mark.network
def test_pylock_of_a_uv_project_relocks_with_uv_export(tmp_path: Path) -> None:
    project = _tiny(tmp_path, pyproject_toml=PYPROJECT)
    run_compile(("uv", "export", "--format", "pylock.toml", "-o", "pylock.toml",
                 "--exclude-newer", OLD), project)  # fmt: skip
    assert _relock(project, "pylock.toml") == {"idna": "3.10", "six": "1.16.0"}
    assert 'name = "idna"\nversion = "3.10"' in (project / "uv.lock").read_text()


@pytest.mark.network
def test_pylock_of_requirements_in_relocks_with_uv_pip_compile(tmp_path: Path) -> None:
    project = _tiny(tmp_path, requirements_in="idna<3.11\nsix\n")
    run_compile(("uv", "pip", "compile", "requirements.in", "--format", "pylock.toml",
                 "--generate-hashes", "--universal", "-o", "pylock.toml", "--exclude-newer",
                 OLD), project)  # fmt: skip
    assert _relock(project, "pylock.toml") == {"idna": "3.10", "six": "1.16.0"}


@pytest.mark.network
def test_poetry_lock_relocks_with_poetry_update(tmp_path: Path) -> None:
    source = POETRY_SOURCE
    pinned = PYPROJECT.replace('"idna<3.11"', '"idna==3.6"').replace('"six"', '"six==1.16.0"')
    project = _tiny(tmp_path, pyproject_toml=pinned + source)
    run_compile(("poetry", "lock"), project)
    (project / "pyproject.toml").write_text(PYPROJECT + source, encoding="utf-8")
    with pytest.raises(UpdateError, match=r"^poetry cannot resolve as of a date"):
        _relock(project, "poetry.lock")
    # poetry takes names: idna moves to the newest its constraint allows, 3.10; six stays.
    assert _relock(project, "poetry.lock", exclude_newer=None) == {"idna": "3.10", "six": "1.16.0"}
