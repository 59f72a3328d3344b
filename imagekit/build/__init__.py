"""Building the planned image: backends, base builders, wheelhouse, system packages, layer cache."""
