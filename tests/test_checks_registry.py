"""The checks' seams: one registry every command runs, and a Project with nothing optional."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from _projects import EXAMPLE, copy_project, edit_spec

import imagekit.checks
from imagekit.checks.interface import Subject
from imagekit.checks.registry import CHECKS, PLAN_CHECKS
from imagekit.checks.run import run_checks
from imagekit.errors import UNREADABLE, ErrorCollector, FindingsError, Location
from imagekit.plan.catalog import Catalog
from imagekit.plan.prepare import check_project, prepare
from imagekit.project import Project, load_project

SEAMS = {"interface", "registry", "run"}  # the modules that are not checks themselves


def _defined_checks() -> set[str]:
    """Every public `check_*` function of the package's check modules, as module.function."""
    found = set()
    for info in pkgutil.iter_modules(imagekit.checks.__path__):
        if info.name in SEAMS:
            continue
        module = importlib.import_module(f"imagekit.checks.{info.name}")
        found |= {
            f"{info.name}.{name}"
            for name, value in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("check_") and value.__module__ == module.__name__
        }
    return found


def test_every_check_module_is_registered() -> None:
    """A check written but not registered would silently never run."""
    registered = {
        f"{c.__module__.rpartition('.')[2]}.{c.__name__}"  # type: ignore[attr-defined]
        for c in (*CHECKS, *PLAN_CHECKS)
    }
    assert registered == _defined_checks()


def test_a_registered_check_runs_with_what_earlier_checks_learnt(tmp_path: Path) -> None:
    seen: list[int] = []

    def check_packages_seen(subject: Subject, collector: ErrorCollector) -> Subject:
        seen.append(len(subject.packages))
        collector.warn(Location(file=subject.spec.file), "seen", "packages seen", "nothing")
        return subject

    result = run_checks(EXAMPLE, checks=(*CHECKS, check_packages_seen))
    assert seen == [len(result.packages)] and seen[0] > 0
    assert [f.rule for f in result.findings] == ["seen"]


def test_a_clean_project_is_checked_planned_and_judged_once() -> None:
    result = check_project(EXAMPLE)
    assert result.ok and result.project is not None and result.plan is not None
    ready = prepare(EXAMPLE)
    assert ready.plan == result.plan
    assert ready.spec == result.spec and ready.base == result.project.base
    assert ready.warnings == ()


def test_load_project_reads_spec_lock_and_base() -> None:
    project = load_project(EXAMPLE, Catalog.load())
    assert isinstance(project, Project)
    assert project.lock.path == project.spec.lockfile
    assert project.base.name == project.spec.base


def test_load_project_names_every_problem_at_once(tmp_path: Path) -> None:
    folder = copy_project(EXAMPLE, tmp_path / "iris")
    edit_spec(folder, 'base = "debian-bookworm-py311"', 'base = "no-such-base"')
    (folder / "requirements.lock").unlink()
    with pytest.raises(FindingsError) as caught:
        load_project(folder, Catalog.load())
    assert sorted(f.rule for f in caught.value.findings) == sorted([UNREADABLE, "unknown-base"])


def test_checks_that_need_only_the_spec_run_when_the_lock_is_unreadable(tmp_path: Path) -> None:
    folder = copy_project(EXAMPLE, tmp_path / "iris")
    (folder / "requirements.lock").unlink()
    (folder / "model" / "iris.joblib").write_bytes(b"changed")
    result = run_checks(folder)
    assert result.project is None
    assert sorted(f.rule for f in result.errors) == sorted(["artifact-hash", UNREADABLE])


def test_a_subject_is_frozen() -> None:
    result = run_checks(EXAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.subject.packages = ()  # type: ignore[misc]
