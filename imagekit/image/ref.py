"""What an argument names, told the same way for every command: an image (an OCI layout, a
docker-archive, a root file system folder, a tag in the Docker daemon, a registry reference),
an SBOM, or a lockfile.

The rule, in order:

1. `docker://NAME` is a registry reference (skopeo's transport name; a bare `host/repo:tag` is
   also a valid daemon tag, so only the prefix tells a registry apart).
2. A folder is an OCI layout when it holds `oci-layout`, else a root file system.
3. A regular file is a docker-archive when its name says tarball (`.tar`, `.tar.gz`, `.tgz`,
   `.tar.zst`); an SBOM when its name ends `.json` or `.xml` or its first byte is `{` or `<`
   (an SBOM or Inventory JSON, CycloneDX XML), and an SPDX SBOM among those when its JSON has
   the key `"spdxVersion"` before any `"bomFormat"` in its first 64 KiB (SPDX's writers put it
   first); a docker-archive when it starts as a tar, gzip or zstd stream; a lockfile when it is
   text; else a docker-archive, whose reader says what is wrong with it. Only the first 512
   bytes are read, 64 KiB of a document.
4. Anything else on disk (a FIFO, a device, a socket) is refused before it is opened.
5. A name that is on no disk is a tag in the Docker daemon, unless it is spelled like a path
   (`/`, `./`, `../`, `~`, or a file suffix such as `.json`, `.lock`, `.tar`): then the file is
   missing, and the error says so instead of asking the daemon.
"""

from __future__ import annotations

import enum
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from imagekit.errors import InputError
from imagekit.limits import shown
from imagekit.paths import kind_of

REGISTRY_PREFIX = "docker://"
_TARBALLS = (".tar", ".tar.gz", ".tgz", ".tar.zst")
_DOCUMENTS = (".json", ".xml")
# A reference with one of these suffixes names a file, never an image in the daemon.
_FILE_SUFFIXES = frozenset(
    {".json", ".xml", ".lock", ".txt", ".toml", ".tar", ".gz", ".tgz", ".zst"}
)
_PATH_PREFIXES = ("/", "./", "../", "~")
_HEAD = 512  # one tar header: its magic is at offset 257
_DOCUMENT_HEAD = 64 * 1024  # where a JSON SBOM says which format it is
# A top-level-looking key (not inside a string, where its quotes would be escaped).
_FORMAT_KEY = re.compile(rb'(?<!\\)"(spdxVersion|bomFormat)"\s*:')
_BLANK = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 byte order mark and white space before a document
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"


class RefKind(enum.StrEnum):
    """What an argument names; the image kinds share their values with the inventory's
    `SourceKind`."""

    OCI_LAYOUT = "oci-layout"
    DOCKER_ARCHIVE = "docker-archive"
    ROOTFS = "rootfs"
    DAEMON = "daemon"
    REGISTRY = "registry"
    SBOM = "sbom"  # a JSON or XML document: a CycloneDX SBOM, or an imagekit Inventory JSON
    SPDX = "spdx"  # an SPDX JSON SBOM
    LOCK = "lock"


IMAGE_KINDS = frozenset(
    {RefKind.OCI_LAYOUT, RefKind.DOCKER_ARCHIVE, RefKind.ROOTFS, RefKind.DAEMON, RefKind.REGISTRY}
)
_DESCRIBED = {
    RefKind.OCI_LAYOUT: "an OCI layout",
    RefKind.DOCKER_ARCHIVE: "a docker-archive",
    RefKind.ROOTFS: "a root file system folder",
    RefKind.DAEMON: "an image in the Docker daemon",
    RefKind.REGISTRY: "an image in a registry",
    RefKind.SBOM: "a JSON or XML document (an SBOM)",
    RefKind.SPDX: "an SPDX JSON SBOM",
    RefKind.LOCK: "a text file (a lockfile)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageRef:
    """An argument and what it names."""

    text: str  # as the user wrote it
    kind: RefKind

    @property
    def path(self) -> Path:
        return Path(self.text)

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGE_KINDS

    @property
    def described(self) -> str:
        """The kind in words, for messages ("a text file (a lockfile)")."""
        return _DESCRIBED[self.kind]

    def refused(self, accepted: str) -> InputError:
        """The error for a command that does not take this kind; `accepted` says what it takes
        ("an image or a CycloneDX JSON SBOM")."""
        return InputError(self.path, f"{self.described} is not {accepted}", f"pass {accepted}")


def image_ref(text: str) -> ImageRef:
    """What `text` names (see the module's rule); raises `InputError` for a path that is
    missing, unreadable, or not a regular file or folder."""
    if text.startswith(REGISTRY_PREFIX):
        return ImageRef(text=text, kind=RefKind.REGISTRY)
    path = Path(text)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        if text.startswith(_PATH_PREFIXES) or path.suffix in _FILE_SUFFIXES:
            raise InputError(path, "file not found", "correct the path") from None
        return ImageRef(text=text, kind=RefKind.DAEMON)
    except (OSError, ValueError) as e:  # ValueError: a NUL in the name
        reason = e.strerror if isinstance(e, OSError) and e.strerror else shown(e)
        raise InputError(path, f"cannot read: {reason}", "check the path") from e
    if stat.S_ISDIR(mode):
        layout = (path / "oci-layout").is_file()
        return ImageRef(text=text, kind=RefKind.OCI_LAYOUT if layout else RefKind.ROOTFS)
    if not stat.S_ISREG(mode):
        raise InputError(
            path,
            f"is {kind_of(mode)}, not an image, an SBOM or a lockfile",
            "name a regular file or a folder",
        )
    return ImageRef(text=text, kind=_file_kind(path))


def _file_kind(path: Path) -> RefKind:
    """The kind of a regular file, from its name, then its first bytes."""
    if path.name.endswith(_TARBALLS):
        return RefKind.DOCKER_ARCHIVE
    if path.suffix in _DOCUMENTS:
        return _document_kind(path)
    head = _head(path)
    if head.lstrip(_BLANK).startswith((b"{", b"<")):
        return _document_kind(path)
    if head.startswith((_GZIP, _ZSTD)) or head[257:262] == b"ustar":
        return RefKind.DOCKER_ARCHIVE
    return RefKind.LOCK if _is_text(head) else RefKind.DOCKER_ARCHIVE


def _document_kind(path: Path) -> RefKind:
    """SPDX when the document's first format key is SPDX's, else an SBOM for the CycloneDX
    and Inventory readers (which say what is wrong with anything else)."""
    found = _FORMAT_KEY.search(_head(path, _DOCUMENT_HEAD))
    return RefKind.SPDX if found and found[1] == b"spdxVersion" else RefKind.SBOM


def _head(path: Path, size: int = _HEAD) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}", "check the path") from e


def _is_text(head: bytes) -> bool:
    """UTF-8 text without NUL (a character cut at the 512th byte is allowed)."""
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3 and e.reason == "unexpected end of data"
    return True
