"""Score customers for churn from CSV measurements and print one JSON line per row.

    python -m nep50_model.predict [INPUTS] [--output FILE]

INPUTS is a CSV file whose header names the model's features (see model/weights.json), or
`-` for stdin; default $NEP50_INPUTS, else /app/reference/inputs.csv. The model is a JSON
file of float32 standardisation constants and weights, loaded from $NEP50_MODEL
(default /opt/model/weights.json).

The arithmetic mixes NumPy float32 scalars with Python floats on purpose: NumPy 1.x promotes
`np.float32 - float` to float64, NumPy 2.x (NEP 50) keeps float32. The same code and the same
inputs give different numbers under the two, without any error or warning.

`--output FILE` writes the full-precision results: `.npy` (float64, shape rows x 2: logit,
probability) or `.json`.

Exit status: 0 on success, 1 when the model or the inputs cannot be used, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

DEFAULT_MODEL = "/opt/model/weights.json"
DEFAULT_INPUTS = "/app/reference/inputs.csv"
OUTPUT_SUFFIXES = (".json", ".npy")


class PredictError(Exception):
    """The model or the inputs cannot be used; the message says which and where."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Scorer:
    """Standardise each feature, weigh it, add the bias; the logistic of that is the score."""

    features: tuple[str, ...]
    mean: NDArray[np.float32]
    scale: NDArray[np.float32]
    weights: NDArray[np.float32]
    bias: float

    def logit(self, row: Sequence[float]) -> Any:
        # Iterating a float32 array yields np.float32 scalars; `x` is a Python float. Under
        # NumPy 1 every step below is float64, under NumPy 2 every step stays float32.
        z: Any = self.bias
        for x, mu, s, w in zip(row, self.mean, self.scale, self.weights, strict=True):
            z = z + w * ((x - mu) / s)
        return z

    def score(self, rows: Sequence[Sequence[float]]) -> NDArray[np.float64]:
        """Logit and probability per row, as float64 (whatever precision computed them)."""
        out = []
        for row in rows:
            z = self.logit(row)
            out.append((z, 1.0 / (1.0 + np.exp(-z))))
        return np.array(out, dtype=np.float64).reshape(len(rows), 2)


def load_model(path: Path) -> Scorer:
    """Read the JSON model; raises PredictError when it is missing or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        features = tuple(str(f) for f in data["features"])
        arrays = [np.asarray(data[k], dtype=np.float32) for k in ("mean", "scale", "weights")]
        bias = float(data["bias"])
    except OSError as e:
        raise PredictError(f"{path}: cannot read the model: {e.strerror or e}") from e
    except (ValueError, KeyError, TypeError) as e:
        raise PredictError(f"{path}: not a scorer model ({type(e).__name__}: {e})") from e
    if any(a.shape != (len(features),) for a in arrays):
        raise PredictError(f"{path}: mean, scale and weights need one value per feature")
    mean, scale, weights = arrays
    return Scorer(features=features, mean=mean, scale=scale, weights=weights, bias=bias)


def read_inputs(stream: IO[str], source: str, features: tuple[str, ...]) -> list[list[float]]:
    """Parse CSV rows of the model's features as Python floats; raises PredictError."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None or tuple(name.strip() for name in header) != features:
        raise PredictError(f"{source}:1: the header must be {','.join(features)}")
    rows = []
    for cells in reader:
        if not cells:
            continue
        where = f"{source}:{reader.line_num}"
        if len(cells) != len(features):
            raise PredictError(f"{where}: expected {len(features)} values, found {len(cells)}")
        try:
            rows.append([float(cell) for cell in cells])
        except ValueError as e:
            raise PredictError(f"{where}: not a number: {e}") from e
    if not rows:
        raise PredictError(f"{source}: no rows to score")
    return rows


def write_output(path: Path, scores: NDArray[np.float64]) -> None:
    """Write the logits and probabilities as .npy or .json, chosen by the suffix."""
    if path.suffix == ".npy":
        with path.open("wb") as f:
            np.save(f, scores, allow_pickle=False)
        return
    rows = [
        {"row": i, "logit": float(z), "probability": float(p)}
        for i, (z, p) in enumerate(scores.tolist())
    ]
    path.write_text(json.dumps({"rows": rows}, indent=2) + "\n", encoding="utf-8")


def _read(inputs: str, features: tuple[str, ...]) -> list[list[float]]:
    if inputs == "-":
        return read_inputs(sys.stdin, "<stdin>", features)
    try:
        with Path(inputs).open(encoding="utf-8", newline="") as f:
            return read_inputs(f, inputs, features)
    except OSError as e:
        raise PredictError(f"{inputs}: cannot read the inputs: {e.strerror or e}") from e


def run(inputs: str, model_path: Path, output: Path | None) -> NDArray[np.float64]:
    """Load, read, score, and write `output` if given; raises PredictError."""
    scorer = load_model(model_path)
    scores = scorer.score(_read(inputs, scorer.features))
    if output is not None:
        try:
            write_output(output, scores)
        except OSError as e:
            raise PredictError(f"{output}: cannot write the output: {e.strerror or e}") from e
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nep50_model.predict", description=__doc__.splitlines()[0]
    )
    parser.add_argument("inputs", nargs="?", help="CSV file, or - for stdin")
    parser.add_argument("--output", type=Path, metavar="FILE", help="also write .npy or .json")
    args = parser.parse_args(argv)
    if args.output is not None and args.output.suffix not in OUTPUT_SUFFIXES:
        print(f"error: --output must end in {' or '.join(OUTPUT_SUFFIXES)}", file=sys.stderr)
        return 2
    inputs = args.inputs or os.environ.get("NEP50_INPUTS", DEFAULT_INPUTS)
    model_path = Path(os.environ.get("NEP50_MODEL", DEFAULT_MODEL))
    try:
        scores = run(inputs, model_path, args.output)
    except PredictError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for i, (z, p) in enumerate(scores.tolist()):
        print(json.dumps({"row": i, "logit": round(z, 6), "probability": round(p, 6)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
