"""Train the iris classifier and write the model artifact and the reference inputs.

Run it with exactly the versions in requirements.lock (see README.md); the artifact is a
joblib pickle, which only loads reliably under the scikit-learn version that wrote it.

    python train.py            # writes model/iris.joblib and reference/inputs.csv

Everything is deterministic: the data is the copy bundled inside scikit-learn, the solver is
lbfgs with no random state involved, and the same versions write byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import joblib  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import NDArray
from sklearn.datasets import load_iris  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline, make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
# Two rows per class from the bundled data, plus three near the versicolor/virginica border
# (70, 83, 133) so that the reference probabilities are not all 0 or 1.
REFERENCE_ROWS = (0, 25, 50, 70, 83, 100, 133, 149)


def train(features: NDArray[np.float64], labels: NDArray[np.str_]) -> Pipeline:
    """Fit the scaler + logistic regression pipeline on the whole data set."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(features, labels)
    return model


def write_reference_inputs(features: NDArray[np.float64], path: Path) -> None:
    """Write the REFERENCE_ROWS of the data set as CSV with a FEATURES header."""
    lines = [",".join(FEATURES)]
    lines += [",".join(str(float(value)) for value in features[row]) for row in REFERENCE_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=HERE / "model" / "iris.joblib")
    parser.add_argument("--inputs", type=Path, default=HERE / "reference" / "inputs.csv")
    args = parser.parse_args(argv)

    iris = load_iris()
    # Train on the class names, so the model itself carries them in `classes_`.
    labels = np.asarray(iris.target_names)[iris.target]
    model = train(iris.data, labels)

    args.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.model)
    args.inputs.parent.mkdir(parents=True, exist_ok=True)
    write_reference_inputs(iris.data, args.inputs)

    accuracy = model.score(iris.data, labels)
    print(f"training accuracy: {accuracy:.4f}")
    print(f"{sha256_of(args.model)}  {args.model.name} ({args.model.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
