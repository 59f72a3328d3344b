"""The error of an image that cannot be read."""

from __future__ import annotations

from imagekit.errors import ImagekitError


class InventoryError(ImagekitError):
    """An image (or one of its layers or blobs) cannot be read; the message is one line."""

    def in_image(self, reference: str) -> InventoryError:
        """The same error, its message prefixed with the image it happened in."""
        text = str(self)
        if text.startswith(f"{reference}: "):
            return self
        return InventoryError(f"{reference}: {text}")
