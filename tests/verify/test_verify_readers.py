"""Output readers: npy, npz, json, csv (and parquet where pyarrow is installed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from imagekit.verify import Field, OutputFormat, OutputReadError, Tolerance, compare_field
from imagekit.verify.readers import parquet_available, read_output


def by_name(fields: tuple[Field, ...]) -> dict[str, Field]:
    return {f.name: f for f in fields}


def test_npy(tmp_path: Path) -> None:
    path = tmp_path / "p.npy"
    np.save(path, np.arange(6, dtype=np.float32).reshape(2, 3))
    (field,) = read_output(path, OutputFormat.NPY)
    assert field.name == "" and field.labels is None
    assert field.values.dtype == np.float32 and field.values.shape == (2, 3)


def test_npy_refuses_pickled_objects(tmp_path: Path) -> None:
    path = tmp_path / "objects.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(OutputReadError, match=r"objects\.npy: not a plain \.npy array"):
        read_output(path, OutputFormat.NPY)


def test_npy_refuses_other_bytes(tmp_path: Path) -> None:
    path = tmp_path / "p.npy"
    path.write_text("not numpy")
    with pytest.raises(OutputReadError, match=r"p\.npy: not a plain \.npy array"):
        read_output(path, OutputFormat.NPY)


def test_npz_members_in_name_order(tmp_path: Path) -> None:
    path = tmp_path / "out.npz"
    np.savez(path, scores=np.zeros(3), labels=np.array([1, 2, 3]))
    fields = read_output(path, OutputFormat.NPZ)
    assert [f.name for f in fields] == ["labels", "scores"]
    assert fields[0].values.tolist() == [1, 2, 3]


def test_npz_refuses_a_non_archive(tmp_path: Path) -> None:
    path = tmp_path / "out.npz"
    path.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(OutputReadError, match=r"out\.npz: not a plain \.npz archive"):
        read_output(path, OutputFormat.NPZ)


def test_json_numbers_and_values_by_path(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    document = {
        "classes": ["setosa", "virginica"],
        "predictions": [{"row": 0, "class": "setosa", "probabilities": [0.9, 0.1]}],
        "meta": {"ok": True, "note": None, "empty": []},
    }
    path.write_text(json.dumps(document))
    fields = by_name(read_output(path, OutputFormat.JSON))
    numbers, values = fields["numbers"], fields["values"]
    assert numbers.labels == (
        "$.predictions[0].probabilities[0]",
        "$.predictions[0].probabilities[1]",
        "$.predictions[0].row",
    )
    assert numbers.values.tolist() == [0.9, 0.1, 0.0]
    assert values.labels == (
        "$.classes[0]",
        "$.classes[1]",
        "$.meta.empty",
        "$.meta.note",
        "$.meta.ok",
        "$.predictions[0].class",
    )
    assert values.values.tolist() == ['"setosa"', '"virginica"', "[]", "null", "true", '"setosa"']


def test_json_structure_change_is_named(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"p": [0.5, 0.5]}))
    b.write_text(json.dumps({"p": [0.5, 0.5], "q": 1}))
    fa = by_name(read_output(a, OutputFormat.JSON))["numbers"]
    fb = by_name(read_output(b, OutputFormat.JSON))["numbers"]
    result = compare_field(fa, fb, Tolerance(atol=1e-9))
    assert result.problem == "structure differs: $.q is in the candidate only (1 such)"


def test_json_malformed(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{nope")
    with pytest.raises(OutputReadError, match=r"p\.json: not JSON"):
        read_output(path, OutputFormat.JSON)


def test_csv_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,label,score,gap\n1,setosa,0.5,\n2,virginica,1e-3,3\n")
    fields = by_name(read_output(path, OutputFormat.CSV))
    assert list(fields) == ["id", "label", "score", "gap"]
    assert fields["id"].values.dtype == np.float64
    assert fields["label"].values.tolist() == ["setosa", "virginica"]
    assert fields["score"].values.tolist() == [0.5, 0.001]
    assert np.isnan(fields["gap"].values[0])  # an empty cell of a numeric column is NaN
    assert fields["score"].labels == ("row 0", "row 1")


def test_csv_difference_names_the_row(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("score\n0.5\n0.25\n")
    b.write_text("score\n0.5\n0.2500001\n")
    (fa,) = read_output(a, OutputFormat.CSV)
    (fb,) = read_output(b, OutputFormat.CSV)
    result = compare_field(fa, fb, Tolerance(rtol=1e-7))
    assert not result.ok and result.worst[0].where == "row 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"empty: a CSV output needs a header row"),
        ("a,a\n1,2\n", r"the header names a column twice"),
        ("a,b\n1\n", r"line 2: 1 cells, the header has 2"),
    ],
)
def test_csv_malformed(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(OutputReadError, match=message):
        read_output(path, OutputFormat.CSV)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OutputReadError, match=r"gone\.npy: cannot read"):
        read_output(tmp_path / "gone.npy", OutputFormat.NPY)


@pytest.mark.skipif(parquet_available(), reason="pyarrow is installed: the refusal cannot happen")
def test_parquet_without_pyarrow_says_how_to_get_it(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(OutputReadError, match=r"reading parquet needs pyarrow: pip install"):
        read_output(path, OutputFormat.PARQUET)


@pytest.mark.skipif(not parquet_available(), reason="pyarrow is not installed in this venv")
def test_parquet_columns(tmp_path: Path) -> None:
    import importlib  # noqa: PLC0415 - pyarrow is optional

    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"score": [0.5, 0.25], "label": ["a", "b"]}), path)
    fields = by_name(read_output(path, OutputFormat.PARQUET))
    assert fields["score"].values.tolist() == [0.5, 0.25]
    assert fields["label"].values.tolist() == ["a", "b"]
