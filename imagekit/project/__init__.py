"""The model project: spec, lockfile readers, app files, `init`; read into a Project."""
