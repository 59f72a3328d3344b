"""The entry point: a Python module or script the image's command runs must be in the image
(see `imagekit.project.entrypoint` for what counts)."""

from __future__ import annotations

from imagekit.checks.interface import Subject
from imagekit.errors import ErrorCollector
from imagekit.project.entrypoint import check_entrypoint as check_command


def check_entrypoint(subject: Subject, collector: ErrorCollector) -> Subject:
    """Refuse an image whose Python entry point is not in it."""
    check_command(subject.spec, subject.packages, collector)
    return subject
