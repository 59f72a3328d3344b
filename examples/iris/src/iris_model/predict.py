"""Predict iris species from CSV measurements and print one JSON line per row.

    python -m iris_model.predict [INPUTS] [--output FILE]

INPUTS is a CSV file with the header `sepal_length,sepal_width,petal_length,petal_width`
(centimetres, the four features of `sklearn.datasets.load_iris` in the same order), or `-`
for stdin. Without it, $IRIS_INPUTS is read (default /app/reference/inputs.csv, the reference
inputs shipped in the image). The model is loaded from $IRIS_MODEL
(default /opt/model/iris.joblib).

`--output FILE` also writes the full-precision probabilities, as JSON (`.json`) or as a
float64 array of shape (rows, classes) (`.npy`), to compare model outputs between images.

Exit status: 0 on success, 1 when the model or the inputs cannot be used, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, cast

import joblib  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import NDArray

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
DEFAULT_MODEL = "/opt/model/iris.joblib"
DEFAULT_INPUTS = "/app/reference/inputs.csv"
DECIMALS = 6
OUTPUT_SUFFIXES = (".json", ".npy")
# What joblib.load raises for a file that is not a loadable model: the pickle module documents
# that truncated or foreign data can raise these besides UnpicklingError, and a pickle naming
# modules or classes this environment lacks raises ImportError/AttributeError.
_LOAD_ERRORS = (
    pickle.UnpicklingError,
    AttributeError,
    EOFError,
    ImportError,
    IndexError,
    KeyError,
    TypeError,
    ValueError,
)


class PredictError(Exception):
    """The model or the inputs cannot be used; the message says which and where."""


class Classifier(Protocol):
    """What this module needs from the model: class labels and probabilities."""

    classes_: NDArray[Any]

    def predict_proba(self, features: NDArray[np.float64]) -> NDArray[np.float64]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Prediction:
    row: int
    label: str
    probabilities: tuple[float, ...]

    def to_dict(self, decimals: int | None = None) -> dict[str, Any]:
        """The JSON form; probabilities rounded to `decimals` when given."""
        probabilities = [p if decimals is None else round(p, decimals) for p in self.probabilities]
        return {"row": self.row, "class": self.label, "probabilities": probabilities}


def load_model(path: Path) -> Classifier:
    """Load a fitted classifier from a joblib file; raises PredictError if it is not one."""
    try:
        model = joblib.load(path)
    except OSError as e:
        raise PredictError(f"{path}: cannot read the model: {e.strerror or e}") from e
    except _LOAD_ERRORS as e:
        raise PredictError(f"{path}: not a loadable joblib model ({type(e).__name__}: {e})") from e
    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise PredictError(f"{path}: {type(model).__name__} is not a fitted classifier")
    return cast(Classifier, model)


def read_inputs(stream: IO[str], source: str) -> NDArray[np.float64]:
    """Parse CSV measurements into an array of shape (rows, 4); raises PredictError."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None or tuple(name.strip() for name in header) != FEATURES:
        raise PredictError(f"{source}:1: the header must be {','.join(FEATURES)}")
    rows = [_parse_row(cells, f"{source}:{reader.line_num}") for cells in reader if cells]
    if not rows:
        raise PredictError(f"{source}: no rows to predict")
    return np.array(rows, dtype=np.float64)


def _parse_row(cells: list[str], where: str) -> list[float]:
    if len(cells) != len(FEATURES):
        raise PredictError(f"{where}: expected {len(FEATURES)} values, found {len(cells)}")
    try:
        values = [float(cell) for cell in cells]
    except ValueError as e:
        raise PredictError(f"{where}: not a number: {e}") from e
    if not all(np.isfinite(values)):
        raise PredictError(f"{where}: values must be finite")
    return values


def predict(model: Classifier, features: NDArray[np.float64]) -> list[Prediction]:
    """One Prediction per row: the most probable class and every class's probability."""
    probabilities = model.predict_proba(features)
    labels = [str(label) for label in model.classes_]
    return [
        Prediction(row=i, label=labels[int(np.argmax(p))], probabilities=tuple(map(float, p)))
        for i, p in enumerate(probabilities)
    ]


def write_output(path: Path, classes: Sequence[str], predictions: Sequence[Prediction]) -> None:
    """Write full-precision probabilities as .json or .npy, chosen by the suffix."""
    if path.suffix == ".npy":
        array = np.array([p.probabilities for p in predictions], dtype=np.float64)
        with path.open("wb") as f:
            np.save(f, array, allow_pickle=False)
        return
    document = {"classes": list(classes), "predictions": [p.to_dict() for p in predictions]}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m iris_model.predict", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "inputs", nargs="?", help="CSV file, or - for stdin (default: $IRIS_INPUTS)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="also write full-precision probabilities to FILE (.json or .npy)",
    )
    return parser


def _read(inputs: str) -> NDArray[np.float64]:
    if inputs == "-":
        return read_inputs(sys.stdin, "<stdin>")
    try:
        with Path(inputs).open(encoding="utf-8", newline="") as f:
            return read_inputs(f, inputs)
    except OSError as e:
        raise PredictError(f"{inputs}: cannot read the inputs: {e.strerror or e}") from e


def run(inputs: str, model_path: Path, output: Path | None) -> list[Prediction]:
    """Load, read, predict, and write `output` if given; raises PredictError."""
    model = load_model(model_path)
    predictions = predict(model, _read(inputs))
    if output is not None:
        try:
            write_output(output, [str(c) for c in model.classes_], predictions)
        except OSError as e:
            raise PredictError(f"{output}: cannot write the output: {e.strerror or e}") from e
    return predictions


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.output is not None and args.output.suffix not in OUTPUT_SUFFIXES:
        print(f"error: --output must end in {' or '.join(OUTPUT_SUFFIXES)}", file=sys.stderr)
        return 2
    inputs = args.inputs or os.environ.get("IRIS_INPUTS", DEFAULT_INPUTS)
    model_path = Path(os.environ.get("IRIS_MODEL", DEFAULT_MODEL))
    try:
        predictions = run(inputs, model_path, args.output)
    except PredictError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for prediction in predictions:
        print(json.dumps(prediction.to_dict(DECIMALS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
