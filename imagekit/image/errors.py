"""The one error base for the image format: every reader and writer of it raises a subclass."""

from __future__ import annotations

from imagekit.errors import ImagekitError


class OciError(ImagekitError):
    """An image, layout, archive, manifest or blob is missing, malformed, does not match its
    digest, or cannot be written. Subclasses (the registry's, the inventory's) keep their own
    exit codes; this base exits 3, like any output imagekit cannot write."""

    exit_code = 3


class ContentMismatchError(OciError):
    """Content does not hash to the digest (or have the size) it is named by: it is damaged."""
