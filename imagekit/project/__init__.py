"""The model project: spec, lockfile readers, app files, `init`; read into a Project."""

from imagekit.project.load import Project, load_project, read_project

__all__ = ["Project", "load_project", "read_project"]
