"""`imagekit update`: dependency updates tested against the model's behaviour.

`update_project` re-locks with the tool that made the lock (uv for requirements, pylock.toml
and uv.lock; poetry for poetry.lock) in a candidate copy of the model folder, builds
the candidate image, checks, scans, diffs and verifies it against the current image, and
replaces the lock only when the model's outputs still match (or `force` gives a reason).
"""

from __future__ import annotations

from imagekit.update.lock import LockLayout, PackageChange, Recipe, UpdateError, find_layout
from imagekit.update.report import REPORT_PATH, UpdateReport, Verdict, render_update, write_update
from imagekit.update.run import CANDIDATE_DIR, UpdateRequest, update_project
from imagekit.update.security import Vulnerable, vulnerable_in

__all__ = [
    "CANDIDATE_DIR",
    "REPORT_PATH",
    "LockLayout",
    "PackageChange",
    "Recipe",
    "UpdateError",
    "UpdateReport",
    "UpdateRequest",
    "Verdict",
    "Vulnerable",
    "find_layout",
    "render_update",
    "update_project",
    "vulnerable_in",
    "write_update",
]
