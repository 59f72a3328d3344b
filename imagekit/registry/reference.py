"""Image references and digests, parsed with Docker's rules.

`[registry[:port]/]repository[:tag][@sha256:<hex>]`: the first path component is a registry
when it holds a `.` or a `:`, is `localhost`, or has upper-case letters; otherwise the image is
on Docker Hub (`docker.io`), where a one-component name gets the `library/` prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagekit.image.digest import Digest, parse_digest
from imagekit.image.errors import OciError
from imagekit.limits import shown
from imagekit.registry.errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_REGISTRY = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")
_MAX_NAME = 255
# A whole reference is echoed up to its longest valid length (name, tag and digest), not cut at
# limits.MAX_ECHO: the user needs to see all of what they typed.
_MAX_SHOWN = _MAX_NAME + 1 + 128 + 1 + 71
_FORM = "[registry[:port]/]repository[:tag][@sha256:<64 hex>], e.g. localhost:5000/models/iris:1.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """A parsed image reference; at least one of `tag` and `digest` is set."""

    registry: str  # host[:port]; "docker.io" for Docker Hub
    repository: str  # path inside the registry, e.g. "library/debian"
    tag: str | None = None
    digest: Digest | None = None

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def target(self) -> str:
        """What the manifest is fetched by: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"


def parse_reference(text: str) -> Reference:
    """Parse `text` with Docker's rules; a reference with neither tag nor digest gets `latest`.

    Raises `InvalidReferenceError` naming the reference and what is wrong with it.
    """
    if not text or text != text.strip() or any(c.isspace() for c in text):
        raise _invalid(text, "it is empty or holds white space")
    if "://" in text:
        raise _invalid(text, "drop the scheme: a reference names a registry host, not a URL")
    name, at, digest_text = text.partition("@")
    digest = _digest_part(text, digest_text) if at else None
    name, tag = _split_tag(text, name)
    registry, repository = _split_registry(name)
    if not _REGISTRY.fullmatch(registry):
        raise _invalid(text, f"{shown(repr(registry))} is not a registry host[:port]")
    if not _REPOSITORY.fullmatch(repository):
        raise _invalid(
            text,
            f"repository {shown(repr(repository))} must be lower-case letters, digits and "
            ". _ - separators",
        )
    if len(f"{registry}/{repository}") > _MAX_NAME:
        raise _invalid(text, f"the name is longer than {_MAX_NAME} characters")
    if tag is None and digest is None:
        tag = "latest"
    return Reference(registry=registry, repository=repository, tag=tag, digest=digest)


def as_reference(reference: Reference | str) -> Reference:
    """`reference`, parsed when it is text; raises `InvalidReferenceError`."""
    return reference if isinstance(reference, Reference) else parse_reference(reference)


def _invalid(text: str, why: str) -> InvalidReferenceError:
    return InvalidReferenceError(
        f"invalid image reference {shown(repr(text), _MAX_SHOWN)}: {why}; expected {_FORM}"
    )


def _digest_part(text: str, digest_text: str) -> Digest:
    try:
        return parse_digest(digest_text, "digest")
    except OciError as e:
        raise _invalid(
            text, f"{shown(repr(digest_text))} is not a sha256 digest (sha256: and 64 hex digits)"
        ) from e


def _split_tag(text: str, name: str) -> tuple[str, str | None]:
    colon = name.rfind(":")
    if colon <= name.rfind("/"):  # a colon before the last slash is a registry port
        return name, None
    tag = name[colon + 1 :]
    if not _TAG.fullmatch(tag):
        raise _invalid(
            text, f"tag {shown(repr(tag))} must be 1-128 of letters, digits, _ . - (not first)"
        )
    return name[:colon], tag


def _split_registry(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    is_host = "." in first or ":" in first or first == "localhost" or first != first.lower()
    registry, repository = (first, rest) if slash and is_host else (DOCKER_HUB, name)
    if registry in _HUB_ALIASES:
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = f"library/{repository}"
    return registry, repository
