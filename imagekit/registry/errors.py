"""What can go wrong talking to a registry; every message names the reference and the fix."""

from __future__ import annotations

from imagekit.errors import ImagekitError
from imagekit.image.errors import ContentMismatchError, OciError


class RegistryError(ImagekitError):
    """Base of every error the registry client raises; its text is one line for the user."""

    exit_code = 2  # named, since the image-format errors below are `OciError`s (exit 3) too


class InvalidReferenceError(RegistryError):
    """An image reference (or digest) does not follow Docker's grammar."""


class RegistryUnreachableError(RegistryError):
    """No connection to the registry: refused, unresolvable, timed out, or a TLS failure."""


class RegistryAuthError(RegistryError):
    """The registry wants credentials that are missing or were refused."""


class RegistryResponseError(RegistryError):
    """The registry answered with a status the operation cannot go on from."""


class DigestMismatchError(RegistryError, ContentMismatchError):
    """Content does not hash to the digest it was asked for, or declared under."""


class ManifestError(RegistryError, OciError):
    """A manifest or index is malformed, of an unknown media type, or lacks the platform."""


class LayoutError(RegistryError, OciError):
    """An OCI image layout (or image archive) is missing, malformed, or in the way."""


class LayoutWriteError(LayoutError):
    """A pulled blob or layout could not be written (a full disk, no permission); nothing of it
    is left behind. Exit 3, like any output imagekit cannot write."""

    exit_code = 3
