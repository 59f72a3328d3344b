"""Application files: what the [app] patterns matched but will not copy (credential files,
links, sockets, names that are not UTF-8), and credential files they copy because named."""

from __future__ import annotations

from imagekit.checks.interface import Subject
from imagekit.errors import ErrorCollector, Location
from imagekit.limits import shown
from imagekit.project.appfiles import select_for_spec


def check_app_files(subject: Subject, collector: ErrorCollector) -> Subject:
    """Report what the app patterns matched but will not copy, and credential files they do."""
    spec = subject.spec
    selection = None
    with collector.collect():
        selection = select_for_spec(spec)
    if selection is None:
        return subject
    for path in selection.withheld_secrets:
        collector.warn(
            Location(file=spec.root / path),
            "secret-withheld",
            f"{shown(path)} looks like a credential file and is not copied into the image",
            f'if the image really needs it, name it exactly in [app] include: "{shown(path)}"',
        )
    for path in selection.named_secrets:
        collector.warn(
            Location(file=spec.root / path),
            "secret-included",
            f"{shown(path)} looks like a credential file and is copied into the image "
            "because [app] include names it",
            "remove it from [app] include unless the image really needs it",
        )
    for path, kind in selection.special:
        collector.warn(
            Location(file=spec.root / path),
            "not-a-file",
            f"{shown(path)} is {kind}, not a regular file, and is not copied into the image",
            "exclude it in [app] exclude, or replace it by a regular file",
        )
    for path in selection.undecodable:  # the name cannot be printed as a path: say where else
        collector.error(
            spec.location("app"),
            "file-name",
            f"the file name {shown(path)} in {spec.root} is not UTF-8",
            "rename the file, or exclude it in [app] exclude",
        )
    return subject
