"""Wave regression application: a three-layer torch network that predicts a surface height."""

__version__ = "1.0.0"
