"""Train the wave regression network on CPU and write its weights and the reference inputs.

Run it with exactly the versions in requirements.lock (see README.md):

    PYTHONPATH=src python train.py   # writes model/wave.safetensors and reference/inputs.csv

The data is made here: 2,000 points uniform on [-1, 1]^2 from a seeded torch.Generator, with
heights sin(3x) * cos(2y) plus noise. Training is full-batch Adam on CPU with deterministic
algorithms, so the same torch writes the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from wave_model.net import FEATURES, make_net, samples, surface

HERE = Path(__file__).resolve().parent
SEED = 20251203
COUNT = 2000
STEPS = 1500
# A grid of eight points across the square: peaks, troughs, zero crossings and corners.
REFERENCE = (
    (0.0, 0.0),
    (0.5, 0.0),
    (-0.5, 0.25),
    (0.25, -0.75),
    (1.0, 1.0),
    (-1.0, -0.5),
    (0.75, 0.5),
    (-0.3, 0.9),
)


def train(points: torch.Tensor, targets: torch.Tensor) -> torch.nn.Sequential:
    """Full-batch Adam on mean squared error for STEPS steps."""
    net = make_net()
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = torch.mean((net(points)[:, 0] - targets) ** 2)
        loss.backward()
        optimiser.step()
    return net.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=HERE / "model" / "wave.safetensors")
    parser.add_argument("--inputs", type=Path, default=HERE / "reference" / "inputs.csv")
    args = parser.parse_args(argv)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    points, targets = samples(COUNT, torch.Generator().manual_seed(SEED))
    net = train(points, targets)
    with torch.no_grad():
        rmse = float(torch.sqrt(torch.mean((net(points)[:, 0] - surface(points)) ** 2)))
    args.weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(args.weights), metadata={"torch": torch.__version__})
    args.inputs.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(FEATURES)] + [f"{x},{y}" for x, y in REFERENCE]
    args.inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    digest = hashlib.sha256(args.weights.read_bytes()).hexdigest()
    print(f"RMSE against the noiseless surface: {rmse:.4f}")
    print(f"{digest}  {args.weights.name} ({args.weights.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
