"""Classify 2-D points with the spiral network and print one JSON line per row.

    python -m spiral_model.predict [INPUTS] [--output FILE]

INPUTS is a CSV file with the header `x,y`, or `-` for stdin; without it, $SPIRAL_INPUTS is
read (default /app/reference/inputs.csv). The weights (safetensors) come from $SPIRAL_WEIGHTS
(default /opt/model/spiral.safetensors). The network runs on the first CUDA device when torch
sees one and on the CPU otherwise; the device is printed to stderr.

`--output FILE` also writes the full-precision probabilities as JSON, rows x classes, to
compare the model's outputs between images.

Exit status: 0 on success, 1 when the weights or the inputs cannot be used, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path
from typing import TextIO

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from spiral_model.net import CLASSES, FEATURES, make_net

DEFAULT_WEIGHTS = "/opt/model/spiral.safetensors"
DEFAULT_INPUTS = "/app/reference/inputs.csv"
DECIMALS = 6


class PredictError(Exception):
    """The weights or the inputs cannot be used; the message says which and where."""


def read_rows(stream: TextIO, name: str) -> list[tuple[float, float]]:
    """The (x, y) rows of a CSV whose header is exactly FEATURES."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != FEATURES:
        raise PredictError(f"{name}:1: the header must be {','.join(FEATURES)}")
    rows = []
    for line, fields in enumerate(reader, start=2):
        if len(fields) != len(FEATURES):
            raise PredictError(f"{name}:{line}: expected {len(FEATURES)} values")
        try:
            x, y = (float(field) for field in fields)
        except ValueError as e:
            raise PredictError(f"{name}:{line}: {e}") from e
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PredictError(f"{name}:{line}: values must be finite numbers")
        rows.append((x, y))
    return rows


def load_net(path: str, device: torch.device) -> torch.nn.Sequential:
    """The network with the weights of `path`, in eval mode, on `device`."""
    net = make_net()
    try:
        net.load_state_dict(load_file(path, device=str(device)))
    except (OSError, SafetensorError, RuntimeError) as e:
        raise PredictError(f"{path}: {e}") from e
    return net.to(device).eval()


def probabilities(net: torch.nn.Sequential, rows: list[tuple[float, float]]) -> list[list[float]]:
    """Softmax over the classes for each row, computed on the network's device."""
    device = next(net.parameters()).device
    with torch.no_grad():
        logits = net(torch.tensor(rows, dtype=torch.float32, device=device))
        return [[float(p) for p in row] for row in torch.softmax(logits, dim=1).cpu()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "inputs", nargs="?", default=os.environ.get("SPIRAL_INPUTS", DEFAULT_INPUTS)
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device}", file=sys.stderr)
    try:
        if args.inputs == "-":
            rows = read_rows(sys.stdin, "<stdin>")
        else:
            with Path(args.inputs).open(encoding="utf-8", newline="") as stream:
                rows = read_rows(stream, args.inputs)
        net = load_net(os.environ.get("SPIRAL_WEIGHTS", DEFAULT_WEIGHTS), device)
    except (OSError, PredictError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    probs = probabilities(net, rows)
    for row, p in enumerate(probs):
        label = CLASSES[max(range(len(p)), key=p.__getitem__)]
        rounded = [round(v, DECIMALS) for v in p]
        print(json.dumps({"row": row, "class": label, "probabilities": rounded}))
    if args.output is not None:
        args.output.write_text(json.dumps(probs) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
