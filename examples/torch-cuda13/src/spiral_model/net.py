"""The network, shared by train.py and predict: 2 -> 32 -> 32 -> 3, ReLU between layers."""

from __future__ import annotations

import torch
from torch import nn

CLASSES = ("arm0", "arm1", "arm2")
FEATURES = ("x", "y")
HIDDEN = 32


def make_net() -> nn.Sequential:
    """A fresh, untrained network; its state_dict keys are the keys of the weights file."""
    return nn.Sequential(
        nn.Linear(len(FEATURES), HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(),
        nn.Linear(HIDDEN, len(CLASSES)),
    )


def spiral(points_per_arm: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Three interleaved spiral arms with Gaussian noise: features (n, 2) and labels (n,)."""
    radius = torch.linspace(0.05, 1.0, points_per_arm, dtype=torch.float64)
    xs, ys = [], []
    for arm in range(len(CLASSES)):
        angle = arm * 2.0943951023931953 + radius * 4.0
        angle = angle + 0.2 * torch.randn(points_per_arm, generator=generator, dtype=torch.float64)
        xs.append(torch.stack((radius * torch.cos(angle), radius * torch.sin(angle)), dim=1))
        ys.append(torch.full((points_per_arm,), arm, dtype=torch.int64))
    return torch.cat(xs).float(), torch.cat(ys)
