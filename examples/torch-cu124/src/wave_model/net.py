"""The network, shared by train.py and predict: 2 -> 64 -> 64 -> 1, tanh between layers."""

from __future__ import annotations

import torch
from torch import nn

FEATURES = ("x", "y")
HIDDEN = 64


def make_net() -> nn.Sequential:
    """A fresh, untrained network; its state_dict keys are the keys of the weights file."""
    return nn.Sequential(
        nn.Linear(len(FEATURES), HIDDEN),
        nn.Tanh(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.Tanh(),
        nn.Linear(HIDDEN, 1),
    )


def surface(points: torch.Tensor) -> torch.Tensor:
    """The height the network learns: sin(3x) * cos(2y), shape (n,)."""
    return torch.sin(3.0 * points[:, 0]) * torch.cos(2.0 * points[:, 1])


def samples(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` points uniform on [-1, 1]^2 and their heights with Gaussian noise (sigma 0.05)."""
    points = torch.rand(count, len(FEATURES), generator=generator) * 2.0 - 1.0
    noise = 0.05 * torch.randn(count, generator=generator)
    return points, surface(points) + noise
