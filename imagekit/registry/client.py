"""The OCI distribution API for one repository: blobs and manifests, verified by digest."""

from __future__ import annotations

import enum
import hashlib
import http.client
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from imagekit.fsio import Staged, staged_file
from imagekit.image.digest import Digest, digest_of
from imagekit.image.errors import OciError
from imagekit.image.model import ACCEPT, Descriptor, Index, Manifest, parse_manifest
from imagekit.limits import shown
from imagekit.registry.auth import Credentials, find_credentials
from imagekit.registry.defaults import DEFAULT_CHUNK_SIZE, TRANSFER_DEADLINE_S
from imagekit.registry.errors import (
    DigestMismatchError,
    LayoutError,
    LayoutWriteError,
    ManifestError,
    RegistryResponseError,
    RegistryUnreachableError,
)
from imagekit.registry.reference import Reference
from imagekit.registry.session import (
    Observer,
    Reply,
    Session,
    error_text,
    with_query,
)

_READ_SIZE = 1024 * 1024
_OCTETS = {"Content-Type": "application/octet-stream"}


class Transfer(enum.StrEnum):
    """How a blob got to the registry."""

    EXISTS = "exists"
    MOUNTED = "mounted"
    UPLOADED = "uploaded"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """How to talk to the registry. `credentials=None` looks them up (`find_credentials`).

    `timeout_s` bounds each socket operation; `deadline_s` each whole exchange by the clock
    (one blob download or upload request; manifests and tokens get the shorter of it and
    `session.DOCUMENT_DEADLINE_S`), so a registry that drips bytes cannot stall a transfer.
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE  # larger blobs go up in chunks of this size
    credentials: Credentials | None = None
    observer: Observer | None = None  # sees every HTTP exchange (tests count them)
    timeout_s: float = 60.0
    deadline_s: float = TRANSFER_DEADLINE_S

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1 byte, not {self.chunk_size}")
        if not self.deadline_s > 0:
            raise ValueError(f"deadline_s must be more than 0 seconds, not {self.deadline_s}")


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedManifest:
    """A manifest's exact bytes, their (verified) digest, and what they parse to."""

    data: bytes
    digest: Digest
    media_type: str
    parsed: Manifest | Index


_MAX_REFERRER_PAGES = 20
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


def _next_page(reply: Reply, url: str, session: Session) -> str | None:
    """The URL of the next page a `Link` header names (RFC 8288, as the distribution spec
    uses it), resolved against the page it came with; None on the last page."""
    match = _NEXT_LINK.search(reply.header("Link") or "")
    return session.resolve(match.group(1), url) if match else None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Stored:
    digest: Digest
    reply: Reply


class RegistryClient:
    """Blob and manifest operations on `reference`'s repository, for pulling or pushing."""

    def __init__(
        self, reference: Reference, *, push: bool, options: ClientOptions | None = None
    ) -> None:
        """Raises `RegistryAuthError` when the credential lookup finds a broken config."""
        opts = options or ClientOptions()
        self.reference = reference
        self._repository = reference.repository
        self._scope = f"repository:{reference.repository}:{'pull,push' if push else 'pull'}"
        self._chunk_size = opts.chunk_size
        self._session = Session(
            registry=reference.registry,
            what=str(reference),
            credentials=opts.credentials or find_credentials(reference.registry),
            observer=opts.observer,
            timeout_s=opts.timeout_s,
            deadline_s=opts.deadline_s,
        )

    def _url(self, kind: str, target: str) -> str:
        return self._session.url(f"/v2/{self._repository}/{kind}/{target}")

    def _fail(self, reply: Reply, action: str) -> RegistryResponseError:
        return RegistryResponseError(f"{self.reference}: {action} failed: {error_text(reply)}")

    def blob_exists(self, digest: Digest) -> bool:
        """Whether the repository has the blob; raises `RegistryError` for other answers."""
        reply = self._session.request("HEAD", self._url("blobs", digest), scope=self._scope)
        if reply.status in {http.client.OK, http.client.NOT_FOUND}:
            return reply.status == http.client.OK
        raise self._fail(reply, f"checking blob {digest}")

    def upload_blob(
        self, path: Path, blob: Descriptor, *, mount_from: str | None = None
    ) -> Transfer:
        """Mount `blob` from the repository `mount_from` (same registry), or upload `path`.

        Blobs up to the chunk size go in one PUT; larger ones in PATCH chunks. Raises
        `DigestMismatchError` when the file is not what `blob` describes, `LayoutError` when
        it cannot be read.
        """
        uploads = self._url("blobs", "uploads/")
        if mount_from and mount_from != self._repository:
            query = {"mount": blob.digest, "from": mount_from}
            scope = f"{self._scope} repository:{mount_from}:pull"
            reply = self._session.request("POST", with_query(uploads, query), scope=scope)
            if reply.status == http.client.CREATED:
                return Transfer.MOUNTED
        else:
            reply = self._session.request("POST", uploads, scope=self._scope)
        location = self._location(reply, f"starting the upload of {blob.digest}")
        try:
            with path.open("rb") as source:
                if blob.size <= self._chunk_size:
                    body = source.read(blob.size + 1)
                    self._check_size(path, blob, len(body))
                else:
                    location, body = self._send_chunks(location, source, path, blob), b""
        except OSError as e:  # the registry's answers are RegistryErrors: this is the file
            raise LayoutError(
                f"{path}: cannot read blob {blob.digest}: {e.strerror or e}; check the layout"
            ) from e
        self._finish(location, blob, body)
        return Transfer.UPLOADED

    def _location(self, reply: Reply, action: str) -> str:
        location = reply.header("Location")
        if reply.status != http.client.ACCEPTED or not location:
            raise self._fail(reply, action)
        return self._session.resolve(location)

    def _send_chunks(self, location: str, source: BinaryIO, path: Path, blob: Descriptor) -> str:
        sent = 0
        while chunk := source.read(self._chunk_size):
            self._check_size(path, blob, sent + len(chunk), partial=True)
            headers = {**_OCTETS, "Content-Range": f"{sent}-{sent + len(chunk) - 1}"}
            reply = self._session.request(
                "PATCH", location, scope=self._scope, headers=headers, body=chunk, transfer=True
            )
            location = self._location(reply, f"uploading {blob.digest} at byte {sent}")
            sent += len(chunk)
        self._check_size(path, blob, sent)
        return location

    def _check_size(
        self, path: Path, blob: Descriptor, size: int, *, partial: bool = False
    ) -> None:
        if size > blob.size or (size < blob.size and not partial):
            raise DigestMismatchError(
                f"{path}: blob {blob.digest} should be {blob.size} bytes, the file has "
                f"{'more' if size > blob.size else size}; the layout is damaged"
            )

    def _finish(self, location: str, blob: Descriptor, body: bytes) -> None:
        url = with_query(location, {"digest": blob.digest})
        reply = self._session.request(
            "PUT", url, scope=self._scope, headers=_OCTETS, body=body, transfer=True
        )
        if reply.status == http.client.BAD_REQUEST and b"DIGEST_INVALID" in reply.body:
            raise DigestMismatchError(
                f"{self.reference}: the registry refused blob {blob.digest}: the uploaded "
                f"content does not hash to it ({error_text(reply)}); the layout is damaged"
            )
        if reply.status != http.client.CREATED:
            raise self._fail(reply, f"completing the upload of {blob.digest}")

    def put_manifest(self, data: bytes, media_type: str, target: str) -> Digest:
        """Store a manifest under a tag or its digest; returns its digest.

        Raises `DigestMismatchError` when the registry reports another digest.
        """
        return self._put_manifest(data, media_type, target).digest

    def put_referrer(self, data: bytes, media_type: str) -> tuple[Digest, bool]:
        """Store a manifest that names a `subject`, by its digest; returns the digest and whether
        the registry indexed it for the referrers API (it then answers with `OCI-Subject`)."""
        stored = self._put_manifest(data, media_type, digest_of(data))
        return stored.digest, bool(stored.reply.header("OCI-Subject"))

    def get_referrers(self, digest: Digest) -> tuple[Reply, ...] | None:
        """The pages of the registry's answer to `GET /v2/<name>/referrers/<digest>` (each
        `Link: <url>; rel="next"` followed, up to `_MAX_REFERRER_PAGES`), or None when it has no
        referrers API (404: the client then reads the referrers tag instead)."""
        url: str | None = self._url("referrers", digest)
        pages: list[Reply] = []
        while url is not None and len(pages) < _MAX_REFERRER_PAGES:
            reply = self._session.request("GET", url, scope=self._scope)
            if reply.status == http.client.NOT_FOUND and not pages:
                return None
            if reply.status != http.client.OK:
                raise self._fail(reply, f"listing the referrers of {digest}")
            pages.append(reply)
            url = _next_page(reply, url, self._session)
        if url is not None:
            raise RegistryResponseError(
                f"{self.reference}: the referrers of {digest} run past "
                f"{_MAX_REFERRER_PAGES} pages; refused"
            )
        return tuple(pages)

    def _put_manifest(self, data: bytes, media_type: str, target: str) -> _Stored:
        digest = digest_of(data)
        url = self._url("manifests", target)
        headers = {"Content-Type": media_type}
        reply = self._session.request("PUT", url, scope=self._scope, headers=headers, body=data)
        if reply.status != http.client.CREATED:
            raise self._fail(reply, f"putting manifest {digest} as {target}")
        stored = reply.header("Docker-Content-Digest")
        if stored and stored.startswith("sha256:") and stored != digest:
            raise DigestMismatchError(
                f"{self.reference}: the registry stored manifest {digest} as {shown(stored)}"
            )
        return _Stored(digest=digest, reply=reply)

    def get_manifest(self, target: str) -> FetchedManifest:
        """Fetch a manifest or index by tag or digest, and verify its digest.

        Content that does not hash to the requested digest (or to the digest the registry
        declares for a tag) is refused with `DigestMismatchError`.
        """
        reply = self._manifest_reply(target)
        if reply.status == http.client.NOT_FOUND:
            raise RegistryResponseError(
                f"{self.reference}: no such image in {self.reference.registry}: "
                f"{error_text(reply)}; check the repository and the tag"
            )
        return self._verified(reply, target)

    def find_manifest(self, target: str) -> FetchedManifest | None:
        """Like `get_manifest`, but None when the registry has nothing under `target`."""
        reply = self._manifest_reply(target)
        return None if reply.status == http.client.NOT_FOUND else self._verified(reply, target)

    def _manifest_reply(self, target: str) -> Reply:
        url = self._url("manifests", target)
        return self._session.request("GET", url, scope=self._scope, headers={"Accept": ACCEPT})

    def _verified(self, reply: Reply, target: str) -> FetchedManifest:
        if reply.status != http.client.OK:
            raise self._fail(reply, f"fetching manifest {target}")
        digest = digest_of(reply.body)
        declared = target if target.startswith("sha256:") else reply.header("Docker-Content-Digest")
        if declared and declared.startswith("sha256:") and declared != digest:
            raise DigestMismatchError(
                f"{self.reference}: refused manifest {shown(declared)}: its content hashes to "
                f"{digest}"
            )
        where = f"{self.reference}: manifest {digest}"
        try:
            parsed = parse_manifest(reply.body, reply.header("Content-Type"), where)
        except OciError as e:
            raise ManifestError(str(e)) from e
        return FetchedManifest(
            data=reply.body, digest=digest, media_type=parsed.media_type, parsed=parsed
        )

    def get_blob(self, blob: Descriptor, dest: Path) -> None:
        """Stream a blob into `dest`, verifying size and sha256 on the way.

        It is written under a temporary name beside it and renamed only when verified; on any
        failure nothing is left at either name. Raises `DigestMismatchError` naming the digest,
        `LayoutWriteError` when the file cannot be written (a full disk), or another
        `RegistryError`.
        """
        try:
            with staged_file(dest.parent, f".{dest.name}.") as staged:
                self._get_blob(blob, dest, staged)
        except OSError as e:
            raise LayoutWriteError(
                f"{dest}: cannot write blob {blob.digest}: {e.strerror or e}; nothing was left "
                "half-written (free space on that disk, or pull to another one)"
            ) from e

    def _get_blob(self, blob: Descriptor, dest: Path, staged: Staged) -> None:
        url = self._url("blobs", blob.digest)
        with self._session.open("GET", url, scope=self._scope) as response:
            if response.status != http.client.OK:
                body = response.read(_READ_SIZE)
                reply = Reply(status=response.status, headers=response.headers, body=body)
                raise self._fail(reply, f"fetching blob {blob.digest}")
            actual, size = self._stream(response, staged.path, blob)
            if response.length:  # announced bytes that never came: the connection dropped
                raise RegistryUnreachableError(
                    f"{self.reference}: the connection closed after {size} bytes of blob "
                    f"{blob.digest} ({response.length} more announced); pull again"
                )
        if actual != blob.digest or size != blob.size:
            raise DigestMismatchError(
                f"{self.reference}: refused blob {blob.digest}: got {size} bytes "
                f"({blob.size} expected) hashing to {actual}"
            )
        staged.publish(dest)

    def _stream(
        self, response: http.client.HTTPResponse, partial: Path, blob: Descriptor
    ) -> tuple[str, int]:
        hasher, size = hashlib.sha256(), 0
        with partial.open("wb") as out:
            while size <= blob.size:  # one read past the size tells a too-long blob
                try:
                    chunk = response.read(_READ_SIZE)
                except (OSError, http.client.HTTPException) as e:
                    raise RegistryUnreachableError(
                        f"{self.reference}: the connection broke while fetching blob "
                        f"{blob.digest} ({e or type(e).__name__}); pull again"
                    ) from e
                if not chunk:
                    break
                hasher.update(chunk)
                out.write(chunk)
                size += len(chunk)
        return f"sha256:{hasher.hexdigest()}", size
