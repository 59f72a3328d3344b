"""Fuzzing the model spec: whatever `imagekit.toml` holds, `load_spec` gives a spec or an
`InputError`, and the checks and the plan built on it give findings, never a crash.

Starts from the real example's spec, with bytes spliced in (`_fuzz.SNIPPETS`) or any key given
a hostile value (`_fuzz.VALUES`). Derandomized and bounded.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fuzz import EDITS, VALUES, key_paths, mutate, substitute, to_toml
from _projects import EXAMPLE, copy_project
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagekit.checks.run import run_checks
from imagekit.errors import FindingsError, InputError
from imagekit.plan.prepare import prepare
from imagekit.project.spec import ModelSpec, load_spec

SPEC = (EXAMPLE / "imagekit.toml").read_bytes()
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def project() -> Iterator[Path]:
    """One copy of the example for the module; each example rewrites its spec."""
    with tempfile.TemporaryDirectory() as folder:
        yield copy_project(EXAMPLE, Path(folder) / "iris")


def load_or_refuse(project: Path, data: bytes) -> ModelSpec | InputError:
    (project / "imagekit.toml").write_bytes(data)
    try:
        return load_spec(project)
    except InputError as e:
        assert "\n" not in str(e), str(e)
        return e


def test_the_serializer_keeps_the_example_valid(project: Path) -> None:
    text = to_toml(tomllib.loads(SPEC.decode()))
    assert isinstance(load_or_refuse(project, text.encode()), ModelSpec)


@settings(FUZZ, max_examples=200)
@given(edits=EDITS)
@example(edits=[(0.5, 0, b"\x00")])
@example(edits=[(0.0, 0, b"x = " + b"[" * 3000)])
@example(edits=[(0.99, 0, b'\nfleet = "a\\u0000b"\n')])
def test_mutated_specs_load_or_refuse(project: Path, edits: list[tuple[float, int, bytes]]) -> None:
    load_or_refuse(project, mutate(SPEC, edits))


@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_hostile_values_load_or_refuse(project: Path, data: st.DataObject) -> None:
    document = tomllib.loads(SPEC.decode())
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        substitute(document, data.draw(st.sampled_from(key_paths(document))), data.draw(VALUES))
    load_or_refuse(project, to_toml(document).encode())


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_checks_and_plan_give_findings_not_crashes(project: Path, data: st.DataObject) -> None:
    """A spec that loads is checked and planned: a plan, or findings."""
    document = tomllib.loads(SPEC.decode())
    substitute(document, data.draw(st.sampled_from(key_paths(document))), data.draw(VALUES))
    if isinstance(load_or_refuse(project, to_toml(document).encode()), InputError):
        return
    try:
        prepare(project)
    except (InputError, FindingsError) as e:
        assert "\n" not in str(e), str(e)


def test_the_project_copy_is_left_alone(project: Path) -> None:
    """The fuzzers rewrite the spec only; the lock and the artifact are the example's."""
    for name in ("requirements.lock", "model/iris.joblib"):
        assert (project / name).read_bytes() == (EXAMPLE / name).read_bytes()
    shutil.copyfile(EXAMPLE / "imagekit.toml", project / "imagekit.toml")
    assert run_checks(project).ok
