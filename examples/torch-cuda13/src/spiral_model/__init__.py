"""Spiral classifier application: a three-layer torch network that labels 2-D points."""

__version__ = "1.0.0"
