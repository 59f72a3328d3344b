"""Model artifacts: each is a regular file inside the model folder (a link that leads out of it
is refused before it is read) with the sha256 the spec records."""

from __future__ import annotations

import hashlib

from imagekit.checks.interface import Subject
from imagekit.errors import UNREADABLE, ErrorCollector, InputError
from imagekit.limits import shown
from imagekit.paths import contained, open_regular
from imagekit.project.spec import Artifact, ModelSpec


def check_artifacts(subject: Subject, collector: ErrorCollector) -> Subject:
    """Every model artifact is there, inside the folder, with its recorded sha256."""
    spec = subject.spec
    for artifact in spec.artifacts:
        actual = _artifact_sha256(spec, artifact, collector)
        if actual is not None and actual != artifact.sha256:
            collector.error(
                artifact.location,
                "artifact-hash",
                f"{artifact.path} has sha256 {actual}, the spec records {artifact.sha256}",
                "if the new file is intended, update `sha256`",
            )
    return subject


def _artifact_sha256(spec: ModelSpec, artifact: Artifact, collector: ErrorCollector) -> str | None:
    """The sha256 of an artifact's file, or None once a finding says why it cannot be read."""
    where, value = artifact.location, artifact.path.as_posix()
    try:
        path = contained(spec.root, spec.root, value, where, "model artifact")
        with open_regular(path, where, "model artifact") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except FileNotFoundError:
        collector.error(
            where,
            "artifact-missing",
            f"model artifact {shown(value)} not found",
            "add the file or correct `path`",
        )
    except InputError as e:
        collector.error(where, "artifact-path", e.message, e.fix or "correct `path`")
    except OSError as e:
        message = f"cannot read model artifact {shown(value)}: {e.strerror}"
        collector.error(where, UNREADABLE, message, "check the file and its permissions")
    return None
