"""A tiny churn scorer whose outputs move under NumPy 2's NEP 50 promotion rules."""

__version__ = "1.0.0"
