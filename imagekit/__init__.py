"""imagekit: reproducible, truthful container images for machine-learning models."""

__version__ = "0.1.0"
