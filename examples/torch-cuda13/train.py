"""Train the spiral classifier on CPU and write its weights and the reference inputs.

Run it with exactly the versions in requirements.lock (see README.md):

    PYTHONPATH=src python train.py   # writes model/spiral.safetensors and reference/inputs.csv

The data is made here: three noisy spiral arms from a seeded torch.Generator. Training is
full-batch Adam on CPU with deterministic algorithms, so the same torch writes the same weights.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from spiral_model.net import FEATURES, make_net, spiral

HERE = Path(__file__).resolve().parent
SEED = 20251203
POINTS_PER_ARM = 200
STEPS = 1500
# Two points per arm near the centre and the rim, and two between arms, where the
# probabilities are not 0 or 1 and a change of torch would move them first.
REFERENCE = (
    (0.1, 0.05),
    (0.6, -0.3),
    (-0.45, 0.5),
    (-0.2, -0.7),
    (0.9, 0.35),
    (-0.8, -0.1),
    (0.0, 0.0),
    (0.35, 0.35),
)


def train(features: torch.Tensor, labels: torch.Tensor) -> torch.nn.Sequential:
    """Full-batch Adam on cross-entropy for STEPS steps."""
    net = make_net()
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(STEPS):
        optimiser.zero_grad()
        loss = loss_fn(net(features), labels)
        loss.backward()
        optimiser.step()
    return net.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=HERE / "model" / "spiral.safetensors")
    parser.add_argument("--inputs", type=Path, default=HERE / "reference" / "inputs.csv")
    args = parser.parse_args(argv)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    features, labels = spiral(POINTS_PER_ARM, torch.Generator().manual_seed(SEED))
    net = train(features, labels)
    with torch.no_grad():
        accuracy = float((net(features).argmax(dim=1) == labels).float().mean())
    args.weights.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(args.weights), metadata={"torch": torch.__version__})
    args.inputs.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(FEATURES)] + [f"{x},{y}" for x, y in REFERENCE]
    args.inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    digest = hashlib.sha256(args.weights.read_bytes()).hexdigest()
    print(f"training accuracy: {accuracy:.4f}")
    print(f"{digest}  {args.weights.name} ({args.weights.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
