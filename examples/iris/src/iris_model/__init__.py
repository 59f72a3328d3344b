"""Iris classifier application: loads the trained model and predicts from CSV inputs."""

__version__ = "1.0.0"
