"""Predict the surface height at 2-D points with the wave network; one JSON line per row.

    python -m wave_model.predict [INPUTS] [--output FILE]

INPUTS is a CSV file with the header `x,y`, or `-` for stdin; without it, $WAVE_INPUTS is read
(default /app/reference/inputs.csv). The weights (safetensors) come from $WAVE_WEIGHTS
(default /opt/model/wave.safetensors). The network runs on the first CUDA device when torch
sees one and on the CPU otherwise; the device is printed to stderr.

`--output FILE` also writes the full-precision heights as a JSON list, to compare the model's
outputs between images.

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

from wave_model.net import FEATURES, make_net

DEFAULT_WEIGHTS = "/opt/model/wave.safetensors"
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


def heights(net: torch.nn.Sequential, rows: list[tuple[float, float]]) -> list[float]:
    """The predicted height of each row, computed on the network's device."""
    device = next(net.parameters()).device
    with torch.no_grad():
        out = net(torch.tensor(rows, dtype=torch.float32, device=device))
        return [float(v) for v in out[:, 0].cpu()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="?", default=os.environ.get("WAVE_INPUTS", DEFAULT_INPUTS))
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
        net = load_net(os.environ.get("WAVE_WEIGHTS", DEFAULT_WEIGHTS), device)
    except (OSError, PredictError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    values = heights(net, rows)
    for row, ((x, y), value) in enumerate(zip(rows, values, strict=True)):
        print(json.dumps({"row": row, "x": x, "y": y, "height": round(value, DECIMALS)}))
    if args.output is not None:
        args.output.write_text(json.dumps(values) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
