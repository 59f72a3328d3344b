"""HTTP to one registry: scheme choice, authentication, token cache, redirects, deadlines.

Plain HTTP is used only for loopback registries (`localhost`, 127.0.0.0/8, ::1), as Docker
treats them as insecure by default; every other registry is spoken to over HTTPS. A `401`
answer is met once: with basic credentials, or with a bearer token fetched from the challenge's
realm (sending the basic credentials there when there are any) and cached per scope.

Where credentials go (Go's net/http, which Docker and ORAS use, drops `Authorization` on a
redirect to another domain: CVE-2023-45289, golang/go#65065; imagekit is stricter):
- `Authorization` (basic or bearer) is attached only to requests whose scheme, host and port
  are the registry's own. A redirect or an upload `Location` naming another origin (blob
  storage, a CDN) is followed without it, and a 401 from such a host is an error, never a
  reason to send credentials.
- An HTTPS registry is never followed to plain HTTP, on any host: that is refused outright.
- A bearer token realm must be HTTPS; a plain-HTTP realm is accepted only on loopback for a
  loopback (plain-HTTP) registry, where nothing leaves the machine. The basic credentials are
  sent to the realm in both cases: over TLS to the host the registry named, or to this machine.

Every exchange has a wall-clock deadline besides the per-read socket timeout, so a registry that
drips a byte at a time cannot stall a pull or push: documents (manifests, tokens, error
answers) within `DOCUMENT_DEADLINE_S`, a blob transfer within `TRANSFER_DEADLINE_S` (or the
caller's `deadline_s`, whichever is shorter for documents).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from imagekit import __version__
from imagekit.errors import InputError
from imagekit.limits import load_json, shown
from imagekit.registry.auth import Challenge, Credentials, parse_challenge, parse_token_answer
from imagekit.registry.defaults import DOCUMENT_DEADLINE_S, TRANSFER_DEADLINE_S
from imagekit.registry.errors import (
    RegistryAuthError,
    RegistryError,
    RegistryResponseError,
    RegistryUnreachableError,
)
from imagekit.registry.reference import DOCKER_HUB

_HUB_API = "registry-1.docker.io"
_MAX_REDIRECTS = 5
_MAX_BODY = 4 * 1024 * 1024  # manifests, tokens and error documents; blobs are streamed
_USER_AGENT = f"imagekit/{__version__}"
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]  # scheme, lower-case host, port


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One HTTP request and the status it got, as an observer sees it."""

    method: str
    url: str
    status: int


Observer = Callable[[Exchange], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A finished response whose body was read whole."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def is_loopback(host: str) -> bool:
    """Whether `host` (no port) is this machine: `localhost` or a loopback address."""
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(registry: str) -> str:
    """The API root for `registry`: http:// for loopback registries, https:// otherwise."""
    if registry == DOCKER_HUB:
        return f"https://{_HUB_API}"
    host = urlsplit(f"//{registry}").hostname or registry
    return f"{'http' if is_loopback(host) else 'https'}://{registry}"


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query string."""
    parts = urlsplit(url)
    extra = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def origin_of(url: str, what: str) -> Origin:
    """The scheme, lower-case host and port (the scheme's default when absent) of `url`.

    Raises `RegistryResponseError` naming `what` for a URL that is not http(s) with a host and
    a valid port: a registry that sends one (as a redirect or upload location) is broken.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:  # a bad port, or an unclosed [IPv6] bracket
        raise RegistryResponseError(f"{what}: {shown(url)} has an invalid port; refused") from e
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise RegistryResponseError(f"{what}: {shown(url)} is not an http(s) URL; refused")
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def error_text(reply: Reply) -> str:
    """`HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)`, from the registry's error document.

    The document is read within `imagekit.limits`' bounds and its text shown escaped and cut,
    so a hostile answer cannot forge output lines; an unreadable one leaves just the status.
    """
    codes: list[str] = []
    try:
        document = load_json(reply.body, "error document")
    except InputError:
        document = None
    items = document.get("errors") if isinstance(document, dict) else None
    for item in items[:10] if isinstance(items, list) else []:
        if isinstance(item, dict):
            code = shown(item.get("code", "?"), 60)
            codes.append(f"{code}: {shown(item.get('message', ''))}".strip(": "))
    return f"HTTP {reply.status}" + (f" ({'; '.join(codes)})" if codes else "")


@dataclass(slots=True)
class _Deadline:
    """A wall-clock limit for one exchange; `expired` once its timer has cut the connection."""

    limit_s: float
    at: float = 0.0
    expired: bool = False

    def __post_init__(self) -> None:
        self.at = time.monotonic() + self.limit_s

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expire(self, connection: http.client.HTTPConnection) -> None:
        """Called by the timer: mark the exchange late and unblock any read or write on it."""
        self.expired = True
        sock = connection.sock
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Session:
    """Requests to one registry on behalf of one reference (named in every error)."""

    def __init__(
        self,
        *,
        registry: str,
        what: str,
        credentials: Credentials | None,
        observer: Observer | None = None,
        timeout_s: float = 60.0,
        deadline_s: float = TRANSFER_DEADLINE_S,
    ) -> None:
        """`timeout_s` bounds each socket operation; `deadline_s` each whole transfer."""
        self.registry = registry
        self.base = base_url(registry)
        self._what = what
        self._origin = origin_of(self.base, what)
        self._credentials = credentials
        self._observer = observer
        self._timeout_s = timeout_s
        self._deadline_s = deadline_s
        self._tokens: dict[str, str] = {}
        self._basic = False  # the registry asked for basic auth

    def url(self, path: str) -> str:
        return urljoin(self.base, path)

    def resolve(self, location: str, against: str | None = None) -> str:
        """`location` (a redirect or upload `Location`) as an absolute http(s) URL.

        Raises `RegistryResponseError` for one that is not a usable http(s) URL.
        """
        try:
            url = urljoin(against or self.base, location)
        except ValueError as e:
            raise RegistryResponseError(
                f"{self._what}: the registry sent an unusable location {shown(location)}; refused"
            ) from e
        origin_of(url, self._what)
        return url

    def request(
        self,
        method: str,
        url: str,
        *,
        scope: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        transfer: bool = False,
    ) -> Reply:
        """Send one request (authenticating and following redirects); read the whole answer.

        It must finish within the document deadline, or the transfer deadline when `transfer`
        (a request that carries a blob). Raises `RegistryUnreachableError` (also when late),
        `RegistryAuthError`, or `RegistryResponseError` for an answer larger than any manifest
        may be or a URL the session refuses to follow.
        """
        limit = self._deadline_s if transfer else self._document_deadline()
        with self.open(
            method, url, scope=scope, headers=headers, body=body, deadline_s=limit
        ) as response:
            data = response.read(_MAX_BODY + 1)
            if len(data) > _MAX_BODY:
                raise RegistryResponseError(
                    f"{self._what}: {method} {shown(url)} answered more than {_MAX_BODY} bytes"
                )
            return Reply(status=response.status, headers=response.headers, body=data)

    @contextmanager
    def open(
        self,
        method: str,
        url: str,
        *,
        scope: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        deadline_s: float | None = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """Like `request`, but yields the response for the caller to stream; closes it after.

        The whole exchange, streaming included, must end within `deadline_s` (by default the
        session's transfer deadline); a late one raises `RegistryUnreachableError`.
        """
        deadline = _Deadline(self._deadline_s if deadline_s is None else deadline_s)
        for attempt in (1, 2):
            follow = self._follow(
                method, url, scope=scope, headers=headers or {}, body=body, deadline=deadline
            )
            with follow as (response, answered):
                if response.status != http.client.UNAUTHORIZED:
                    yield response
                    return
                self._check_challenger(answered)
                challenge = parse_challenge(response.getheader("WWW-Authenticate"))
            if attempt == 2:
                raise self._refused()
            self._authorize(challenge, scope)

    def _document_deadline(self) -> float:
        return min(self._deadline_s, DOCUMENT_DEADLINE_S)

    def _auth(self, scope: str, headers: dict[str, str], url: str) -> dict[str, str]:
        """`headers`, with the registry's credentials only when `url` is the registry's origin."""
        merged = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        if origin_of(url, self._what) != self._origin:
            return merged
        if token := self._tokens.get(scope):
            merged["Authorization"] = f"Bearer {token}"
        elif self._basic and self._credentials:
            merged["Authorization"] = self._credentials.basic_header()
        return merged

    def _check_target(self, url: str) -> None:
        """Refuse a URL that is not http(s), or plain HTTP when the registry is HTTPS."""
        scheme = origin_of(url, self._what)[0]
        if self._origin[0] == "https" and scheme != "https":
            raise RegistryResponseError(
                f"{self._what}: refused to follow {shown(url)}: {self.registry} is an HTTPS "
                "registry and imagekit never downgrades it to plain HTTP"
            )

    def _check_challenger(self, url: str) -> None:
        """A 401 from a host the registry sent us to gets no credentials: raise instead."""
        if origin_of(url, self._what) != self._origin:
            raise RegistryAuthError(
                f"{self._what}: {shown(url)} asked for credentials; imagekit sends them only to "
                f"the registry {self.registry}, not to the hosts it redirects to"
            )

    @contextmanager
    def _follow(
        self,
        method: str,
        url: str,
        *,
        scope: str,
        headers: dict[str, str],
        body: bytes,
        deadline: _Deadline,
    ) -> Iterator[tuple[http.client.HTTPResponse, str]]:
        """Send, following redirects for GET and HEAD; yields the answer and the URL it came from.

        Each hop is checked (`_check_target`) and gets credentials only on the registry's
        origin (`_auth`), so a chain of redirects cannot carry them anywhere else.
        """
        for _ in range(_MAX_REDIRECTS + 1):
            self._check_target(url)
            hop_headers = self._auth(scope, headers, url)
            with self._send(
                method, url, headers=hop_headers, body=body, deadline=deadline
            ) as response:
                location = response.getheader("Location")
                redirect = response.status in {301, 302, 303, 307, 308}
                if not (redirect and location and method in {"GET", "HEAD"}):
                    yield response, url
                    return
            url = self.resolve(location, url)
        raise RegistryResponseError(
            f"{self._what}: more than {_MAX_REDIRECTS} redirects at {shown(url)}"
        )

    @contextmanager
    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        body: bytes,
        deadline: _Deadline,
    ) -> Iterator[http.client.HTTPResponse]:
        """One request and its answer, within `deadline`: a timer cuts the connection when it
        passes, and whatever that breaks (a read, a write, a short body) becomes one error."""
        parts = urlsplit(url)
        connection = self._connection(parts.scheme, parts.netloc)
        timer = threading.Timer(deadline.remaining(), deadline.expire, (connection,))
        timer.daemon = True
        timer.start()
        try:
            response = self._exchange(
                connection, method, url, headers=headers, body=body, deadline=deadline
            )
            if self._observer:
                self._observer(Exchange(method=method, url=url, status=response.status))
            with response:
                try:
                    yield response
                except (RegistryError, OSError, http.client.HTTPException) as e:
                    if deadline.expired:
                        raise self._late(method, url, deadline) from e
                    raise
                if deadline.expired:  # the cut read looked like a short answer
                    raise self._late(method, url, deadline)
        finally:
            timer.cancel()
            connection.close()

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        body: bytes,
        deadline: _Deadline,
    ) -> http.client.HTTPResponse:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connected = False
        try:
            connection.connect()
            connected = True
            if deadline.expired:  # passed while connecting, before there was a socket to cut
                raise self._late(method, url, deadline)
            all_headers = {"User-Agent": _USER_AGENT, **headers}
            connection.request(method, target, body=body or None, headers=all_headers)
            return connection.getresponse()
        except http.client.InvalidURL as e:
            raise self._unsendable(method, url, e) from e
        except (OSError, http.client.HTTPException) as e:  # TLS failures included
            if deadline.expired:
                raise self._late(method, url, deadline) from e
            if connected:
                raise self._broken(method, url, e) from e
            raise self._unreachable(urlsplit(url).netloc, e) from e
        except ValueError as e:  # a header value http.client will not send
            raise self._unsendable(method, url, e) from e

    def _unsendable(self, method: str, url: str, e: Exception) -> RegistryResponseError:
        return RegistryResponseError(
            f"{self._what}: cannot send {method} {shown(url)}: {shown(e)}; refused"
        )

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        if scheme == "https":
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(netloc, timeout=self._timeout_s, context=context)
        return http.client.HTTPConnection(netloc, timeout=self._timeout_s)

    def _late(self, method: str, url: str, deadline: _Deadline) -> RegistryUnreachableError:
        return RegistryUnreachableError(
            f"{self._what}: {method} {shown(url)} did not finish within {deadline.limit_s:g} s; "
            "the registry stalled or is too slow (try again, or allow more time with --deadline)"
        )

    def _broken(self, method: str, url: str, e: Exception) -> RegistryUnreachableError:
        """A connection that was up and dropped mid-request (a lost network, a proxy cut)."""
        reason = (e.strerror if isinstance(e, OSError) else None) or str(e) or type(e).__name__
        return RegistryUnreachableError(
            f"{self._what}: the connection broke during {method} {shown(url)}: {shown(reason)}; "
            "try again (blobs already whole in the registry are not sent again)"
        )

    def _unreachable(self, netloc: str, e: Exception) -> RegistryUnreachableError:
        reason = (e.strerror if isinstance(e, OSError) else None) or str(e) or type(e).__name__
        return RegistryUnreachableError(
            f"{self._what}: cannot reach registry {shown(netloc)}: {shown(reason)} "
            "(is it running, and is the address right?)"
        )

    def _authorize(self, challenge: Challenge | None, scope: str) -> None:
        """Get what the challenge asks for, or raise `RegistryAuthError` saying why not."""
        if challenge is None or challenge.scheme not in {"basic", "bearer"}:
            raise RegistryAuthError(
                f"{self._what}: {self.registry} answered 401 without a basic or bearer challenge"
            )
        if challenge.scheme == "basic":
            if not self._credentials:
                raise self._refused()
            self._basic = True
            return
        self._tokens[scope] = self._fetch_token(challenge, scope)

    def _refused(self) -> RegistryAuthError:
        if self._credentials:
            return RegistryAuthError(
                f"{self._what}: {self.registry} refused the credentials from "
                f"{self._credentials.source} (check the user name and password)"
            )
        return RegistryAuthError(
            f"{self._what}: {self.registry} requires a login: set IMAGEKIT_REGISTRY_USER and "
            f"IMAGEKIT_REGISTRY_PASSWORD, or run docker login {self.registry}"
        )

    def check_realm(self, realm: str | None) -> str:
        """`realm` if a token may be fetched there (see the module's rules); else raise
        `RegistryAuthError` saying why not."""
        text = realm or ""
        try:
            scheme, host, _ = origin_of(text, self._what)
        except RegistryResponseError as e:
            raise RegistryAuthError(
                f"{self._what}: bearer challenge without a realm URL: {shown(realm)}"
            ) from e
        if scheme == "http" and not is_loopback(host):
            raise RegistryAuthError(
                f"{self._what}: token realm {shown(text)} is plain HTTP on another host; refused"
            )
        if scheme == "http" and self._origin[0] == "https":
            raise RegistryAuthError(
                f"{self._what}: token realm {shown(text)} is plain HTTP for an HTTPS registry; "
                "refused"
            )
        return text

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        realm = self.check_realm(challenge.get("realm"))
        query = [("scope", s) for s in merge_scopes(*scope.split(), *challenge.scopes())]
        if service := challenge.get("service"):
            query.insert(0, ("service", service))
        url = f"{realm}{'&' if urlsplit(realm).query else '?'}{urlencode(query)}"
        headers = {"Authorization": self._credentials.basic_header()} if self._credentials else {}
        deadline = _Deadline(self._document_deadline())
        with self._send("GET", url, headers=headers, body=b"", deadline=deadline) as response:
            body = response.read(_MAX_BODY + 1)
            reply = Reply(status=response.status, headers=response.headers, body=body)
        return self._token_of(reply, realm)

    def _token_of(self, reply: Reply, realm: str) -> str:
        if reply.status == http.client.UNAUTHORIZED:
            raise self._refused()
        where = f"{self._what}: token realm {shown(realm)}"
        if reply.status != http.client.OK:
            raise RegistryAuthError(f"{where}: {error_text(reply)}")
        if len(reply.body) > _MAX_BODY:
            raise RegistryAuthError(f"{where}: answered more than {_MAX_BODY} bytes")
        return parse_token_answer(reply.body, where)


def merge_scopes(*scopes: str) -> list[str]:
    """One scope per resource with the union of its actions, sorted: the registry may word a
    scope we already ask for as `push,pull`, and asking twice for one resource is redundant."""
    actions: dict[str, set[str]] = {}
    for scope in scopes:
        resource, _, wanted = scope.rpartition(":")
        if not resource:  # not type:name:actions; keep it as it is
            actions.setdefault(scope, set())
            continue
        actions.setdefault(resource, set()).update(a for a in wanted.split(",") if a)
    return [
        f"{resource}:{','.join(sorted(acts))}" if acts else resource
        for resource, acts in sorted(actions.items())
    ]
