"""What `check`, `build` and `bake` refuse before any engine runs."""
