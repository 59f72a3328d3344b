"""The [verify] table of imagekit.toml: the examples parse, and bad keys or types are named."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from _projects import EXAMPLE, REPO, copy_project

from imagekit.errors import InputError
from imagekit.project.spec import load_spec
from imagekit.verify import DEFAULT_ENV, OutputFormat, Tolerance

NEP50 = REPO / "examples" / "nep50"
IRIS_INPUTS_SHA = "74c2ee6f525b769b140ce9e3a476a13f5d5c5825479b670f7a9c83e6a43d1ac5"
GOOD = f"""
[verify]
command = ["python", "-m", "m", "{{inputs}}/in.csv", "{{outputs}}/p.npy"]

[[verify.inputs]]
path = "reference/inputs.csv"
name = "in.csv"
sha256 = "{IRIS_INPUTS_SHA}"

[[verify.outputs]]
name = "p.npy"
rtol = 1e-7
"""


def with_verify(tmp_path: Path, table: str) -> Path:
    """A copy of the iris example whose [verify] table is `table`."""
    project = copy_project(EXAMPLE, tmp_path / "iris")
    spec = project / "imagekit.toml"
    text = spec.read_text(encoding="utf-8")
    kept = [
        line for line in text.split("[verify]")[0].splitlines() if "imagekit verify" not in line
    ]
    spec.write_text("\n".join(kept).rstrip() + "\n" + table, encoding="utf-8")
    return project


def test_iris_example_verify() -> None:
    verify = load_spec(EXAMPLE).verify
    assert verify is not None
    assert verify.command[:3] == ("python", "-m", "iris_model.predict")
    assert verify.argv("/in", "/out") == (
        "python",
        "-m",
        "iris_model.predict",
        "/in/inputs.csv",
        "--output",
        "/out/probabilities.npy",
    )
    (item,) = verify.inputs
    assert (item.path, item.name, item.sha256) == (
        PurePosixPath("reference/inputs.csv"),
        "inputs.csv",
        IRIS_INPUTS_SHA,
    )
    (output,) = verify.outputs
    assert (output.name, output.format) == ("probabilities.npy", OutputFormat.NPY)
    assert output.tolerance == Tolerance(atol=1e-9, rtol=1e-7)
    assert verify.env == DEFAULT_ENV
    assert verify.env["PYTHONHASHSEED"] == "0" and verify.env["OMP_NUM_THREADS"] == "1"


def test_nep50_example_verify() -> None:
    spec = load_spec(NEP50)
    assert spec.lockfile.name == "requirements-numpy1.lock"
    assert spec.verify is not None
    assert [o.name for o in spec.verify.outputs] == ["scores.npy"]


def test_no_verify_table_is_none(tmp_path: Path) -> None:
    assert load_spec(with_verify(tmp_path, "")).verify is None


def test_env_adds_to_the_defaults_and_wins(tmp_path: Path) -> None:
    table = GOOD + '\n[verify.env]\nSEED = "42"\nOMP_NUM_THREADS = "2"\n'
    verify = load_spec(with_verify(tmp_path, table)).verify
    assert verify is not None
    assert verify.env["SEED"] == "42" and verify.env["OMP_NUM_THREADS"] == "2"
    assert verify.env["PYTHONHASHSEED"] == "0"


def test_integers_count_as_numbers_and_format_follows_the_suffix(tmp_path: Path) -> None:
    table = GOOD.replace("rtol = 1e-7", "atol = 0\nmax_ulp = 4\nmax_fraction_outside = 0")
    verify = load_spec(with_verify(tmp_path, table)).verify
    assert verify is not None
    (output,) = verify.outputs
    assert output.format is OutputFormat.NPY
    assert output.tolerance == Tolerance(atol=0.0, max_ulp=4)
    assert output.to_dict()["max_ulp"] == 4


def test_tolerance_describe() -> None:
    assert Tolerance().describe() == "exact"
    assert Tolerance(atol=1e-9, rtol=1e-7).describe() == "atol 1e-09, rtol 1e-07"
    text = Tolerance(max_ulp=2, max_fraction_outside=0.01, nan_equal=True).describe()
    assert text == "max 2 ULP; up to 1.00% outside; NaN equals NaN"


BAD = [
    (
        'name = "p.npy"\n',
        'name = "p.npy"\nsurprise = 1\n',
        r"verify\.outputs\[0\]\.surprise: unknown key",
    ),
    ("[verify]\n", "[verify]\ntimeout = 3\n", r"imagekit\.toml: verify\.timeout: unknown key"),
    (
        'command = ["python", "-m", "m", "{inputs}/in.csv", "{outputs}/p.npy"]',
        'command = "python -m m"',
        r"verify\.command: must be an array, got a string",
    ),
    (
        'command = ["python", "-m", "m", "{inputs}/in.csv", "{outputs}/p.npy"]',
        "command = []",
        r"verify\.command: the verify command is missing or empty",
    ),
    (
        'command = ["python", "-m", "m", "{inputs}/in.csv", "{outputs}/p.npy"]',
        'command = ["python", 1]',
        r"verify\.command\[1\]: must be a string",
    ),
    (
        f'sha256 = "{IRIS_INPUTS_SHA}"',
        'sha256 = "abc"',
        r"verify\.inputs\[0\]\.sha256: not a sha256 hex digest",
    ),
    (f'sha256 = "{IRIS_INPUTS_SHA}"', "", r"verify\.inputs\[0\]\.sha256: required key is missing"),
    (
        'path = "reference/inputs.csv"',
        'path = "/etc/passwd"',
        r"verify\.inputs\[0\]\.path: '/etc/passwd' must be a path inside the model folder",
    ),
    (
        'path = "reference/inputs.csv"',
        'path = "../secret.csv"',
        r"verify\.inputs\[0\]\.path: '\.\./secret\.csv' must be a path inside",
    ),
    (
        'name = "in.csv"',
        'name = "sub/in.csv"',
        r"verify\.inputs\[0\]\.name: 'sub/in\.csv' is not a plain file name",
    ),
    (
        'name = "p.npy"\nrtol = 1e-7',
        'name = "p.npy"\nformat = "xlsx"',
        r"verify\.outputs\[0\]\.format: unknown output format 'xlsx' \(set format to one of: npy, npz, json, csv, parquet\)",
    ),
    ('name = "p.npy"', 'name = "p.bin"', r"verify\.outputs\[0\]\.name: no format for 'p\.bin'"),
    ("rtol = 1e-7", 'rtol = "1e-7"', r"verify\.outputs\[0\]\.rtol: must be a number, got a string"),
    ("rtol = 1e-7", "rtol = true", r"verify\.outputs\[0\]\.rtol: must be a number, got a boolean"),
    ("rtol = 1e-7", "rtol = -1e-7", r"verify\.outputs\[0\]\.rtol: must be a number of 0 or more"),
    ("rtol = 1e-7", "rtol = nan", r"verify\.outputs\[0\]\.rtol: must be a number of 0 or more"),
    (
        "rtol = 1e-7",
        "max_ulp = 1.5",
        r"verify\.outputs\[0\]\.max_ulp: must be an integer, got a number",
    ),
    ("rtol = 1e-7", "max_ulp = -1", r"verify\.outputs\[0\]\.max_ulp: must not be negative"),
    (
        "rtol = 1e-7",
        "rtol = 1e-7\nexact = true",
        r"verify\.outputs\[0\]\.exact: exact = true contradicts atol/rtol/max_ulp",
    ),
    (
        "rtol = 1e-7",
        "max_fraction_outside = 2",
        r"verify\.outputs\[0\]\.max_fraction_outside: must be a fraction",
    ),
    (
        "rtol = 1e-7",
        'nan_equal = "yes"',
        r"verify\.outputs\[0\]\.nan_equal: must be a boolean, got a string",
    ),
    (
        "rtol = 1e-7",
        'rtol = 1e-7\n\n[[verify.outputs]]\nname = "p.npy"',
        r"verify\.outputs\[1\]\.name: 'p\.npy' is listed twice",
    ),
    (
        '[[verify.outputs]]\nname = "p.npy"\nrtol = 1e-7\n',
        "",
        r"verify\.outputs: no outputs to compare",
    ),
    (
        "rtol = 1e-7",
        "rtol = 1e-7\n\n[verify.env]\nSEED = 1",
        r"verify\.env\.SEED: must be a string, got an integer",
    ),
    (
        "rtol = 1e-7",
        'rtol = 1e-7\n\n[verify.env]\n"BAD-NAME" = "1"',
        r"verify\.env\.BAD-NAME: not a valid environment variable name",
    ),
    ("[[verify.inputs]]", "[verify.inputs]", r"verify\.inputs: must be an array, got a table"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD)
def test_bad_verify_tables(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    project = with_verify(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(InputError, match=message) as info:
        load_spec(project)
    assert str(info.value).startswith(str(project.resolve() / "imagekit.toml"))
