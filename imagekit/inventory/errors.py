"""The error of an image that cannot be read: an image-format error (`OciError`) of the
inventory's own, so its readers can tell it apart."""

from __future__ import annotations

from imagekit.image.errors import OciError


class InventoryError(OciError):
    """An image (or one of its layers or blobs) cannot be read; the message is one line."""

    exit_code = 2  # bad input, where the image format's base says "cannot write" (3)

    def in_image(self, reference: str) -> InventoryError:
        """The same error, its message prefixed with the image it happened in."""
        text = str(self)
        if text.startswith(f"{reference}: "):
            return self
        return InventoryError(f"{reference}: {text}")
