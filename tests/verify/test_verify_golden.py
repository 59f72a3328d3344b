"""Golden outputs and reference inputs, without a daemon: hashes checked, mismatches refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from _projects import EXAMPLE, copy_project

from imagekit.errors import InputError
from imagekit.project.spec import load_spec
from imagekit.verify import GoldenError, VerifyError, VerifySpec, stage_inputs, verify_spec_of
from imagekit.verify.golden import MANIFEST, load_golden, write_golden


@pytest.fixture
def verify() -> VerifySpec:
    spec = load_spec(EXAMPLE).verify
    assert spec is not None
    return spec


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    folder.mkdir()
    np.save(folder / "probabilities.npy", np.full((8, 3), 1 / 3))
    return folder


def record(folder: Path, verify: VerifySpec, outputs: Path) -> None:
    write_golden(folder, verify, outputs, image="iris:1", image_id="sha256:" + "a" * 64)


def test_round_trip(tmp_path: Path, verify: VerifySpec, outputs: Path) -> None:
    golden = tmp_path / "golden"
    record(golden, verify, outputs)
    manifest = load_golden(golden, verify)
    assert (manifest.image, manifest.command) == ("iris:1", verify.command)
    assert manifest.inputs == {"inputs.csv": verify.inputs[0].sha256}
    assert [o.name for o in manifest.outputs] == ["probabilities.npy"]
    assert sorted(p.name for p in golden.iterdir()) == [MANIFEST, "probabilities.npy"]
    data = json.loads((golden / MANIFEST).read_text())
    assert data["schema"] == 1 and data["env"]["PYTHONHASHSEED"] == "0"


def test_recording_again_replaces_the_whole_folder(
    tmp_path: Path, verify: VerifySpec, outputs: Path
) -> None:
    golden = tmp_path / "golden"
    record(golden, verify, outputs)
    (golden / "stale.txt").write_text("left from before")
    record(golden, verify, outputs)
    assert not (golden / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_altered_output_is_refused(tmp_path: Path, verify: VerifySpec, outputs: Path) -> None:
    golden = tmp_path / "golden"
    record(golden, verify, outputs)
    np.save(golden / "probabilities.npy", np.zeros((8, 3)))
    with pytest.raises(
        GoldenError,
        match=r"probabilities\.npy: sha256 [0-9a-f]{64} differs from the manifest's [0-9a-f]{64}: it was altered \(re-record it",
    ):
        load_golden(golden, verify)


def test_missing_output_is_refused(tmp_path: Path, verify: VerifySpec, outputs: Path) -> None:
    golden = tmp_path / "golden"
    record(golden, verify, outputs)
    (golden / "probabilities.npy").unlink()
    with pytest.raises(
        GoldenError, match=r"probabilities\.npy: listed in the manifest but missing"
    ):
        load_golden(golden, verify)


def test_other_inputs_are_refused(tmp_path: Path, verify: VerifySpec, outputs: Path) -> None:
    golden = tmp_path / "golden"
    record(golden, verify, outputs)
    moved = replace(verify, inputs=(replace(verify.inputs[0], sha256="0" * 64),))
    with pytest.raises(
        GoldenError, match=r"manifest\.json: recorded for other inputs \(inputs\.csv differs\)"
    ):
        load_golden(golden, moved)


def test_other_command_is_refused(tmp_path: Path, verify: VerifySpec, outputs: Path) -> None:
    golden = tmp_path / "golden"
    record(golden, verify, outputs)
    other = replace(verify, command=("python", "-m", "other"))
    with pytest.raises(GoldenError, match=r"recorded with another command: python -m iris_model"):
        load_golden(golden, other)


def test_no_golden_says_how_to_record(tmp_path: Path, verify: VerifySpec) -> None:
    with pytest.raises(
        GoldenError,
        match=r"no golden outputs here \(record them first: imagekit verify --record --candidate IMAGE\)",
    ):
        load_golden(tmp_path / "none", verify)


def test_malformed_manifest(tmp_path: Path, verify: VerifySpec) -> None:
    golden = tmp_path / "golden"
    golden.mkdir()
    (golden / MANIFEST).write_text('{"schema": 1, "image": "x"}')
    with pytest.raises(GoldenError, match=r"manifest\.json: not a golden manifest \(KeyError"):
        load_golden(golden, verify)


def test_stage_inputs_copies_checked_files(tmp_path: Path, verify: VerifySpec) -> None:
    folder = tmp_path / "inputs"
    stage_inputs(verify, EXAMPLE, folder)
    copy = folder / "inputs.csv"
    assert copy.read_bytes() == (EXAMPLE / "reference" / "inputs.csv").read_bytes()
    assert folder.stat().st_mode & 0o777 == 0o755 and copy.stat().st_mode & 0o777 == 0o644


def test_stage_inputs_refuses_a_changed_input(tmp_path: Path, verify: VerifySpec) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    with (project / "reference" / "inputs.csv").open("a") as f:
        f.write("5.0,3.0,1.0,0.1\n")
    with pytest.raises(
        InputError,
        match=r"imagekit\.toml: verify\.inputs\[0\]: reference/inputs\.csv: sha256 is [0-9a-f]{64}, the spec says 74c2ee6f",
    ):
        stage_inputs(verify, project, tmp_path / "staged")


def test_stage_inputs_refuses_a_missing_input(tmp_path: Path, verify: VerifySpec) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    (project / "reference" / "inputs.csv").unlink()
    with pytest.raises(
        InputError, match=r"verify\.inputs\[0\]: reference input reference/inputs\.csv not found"
    ):
        stage_inputs(verify, project, tmp_path / "staged")


def test_a_spec_without_verify_is_refused(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "iris")
    spec = project / "imagekit.toml"
    spec.write_text(spec.read_text().split("\n[verify]")[0] + "\n")
    with pytest.raises(VerifyError, match=r"imagekit\.toml: no \[verify\] table"):
        verify_spec_of(load_spec(project))
