"""`imagekit diff` for the reports of `imagekit verify` and `imagekit update`.

A diff that cannot be made (an image the inventory cannot read, say) does not stop a
verification: the report carries the reason in its place.
"""

from __future__ import annotations

from imagekit.diff import diff, to_markdown
from imagekit.errors import ImagekitError


def image_diff(baseline: str, candidate: str) -> str:
    """Markdown of `imagekit diff BASELINE CANDIDATE` (images, SBOMs or lockfiles), or one
    line saying why there is none."""
    try:
        return to_markdown(diff(baseline, candidate))
    except ImagekitError as e:
        return f"`imagekit diff {baseline} {candidate}` could not compare them: {e}"
