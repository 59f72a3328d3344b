"""HTTP to one registry: scheme choice, authentication, token cache, redirects, errors.

Plain HTTP is used only for loopback registries (`localhost`, 127.0.0.0/8, ::1), as Docker
treats them as insecure by default; every other registry is spoken to over HTTPS. A `401`
answer is met once: with basic credentials, or with a bearer token fetched from the challenge's
realm (sending the basic credentials there when there are any) and cached per scope.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from imagekit import __version__
from imagekit.registry.auth import Challenge, Credentials, parse_challenge
from imagekit.registry.errors import (
    RegistryAuthError,
    RegistryResponseError,
    RegistryUnreachableError,
)
from imagekit.registry.reference import DOCKER_HUB

_HUB_API = "registry-1.docker.io"
_MAX_REDIRECTS = 5
_MAX_BODY = 4 * 1024 * 1024  # manifests, tokens and error documents; blobs are streamed
_USER_AGENT = f"imagekit/{__version__}"


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


def error_text(reply: Reply) -> str:
    """`HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)`, from the registry's error document."""
    codes: list[str] = []
    try:
        document = json.loads(reply.body)
        for item in document.get("errors", []) if isinstance(document, dict) else []:
            codes.append(f"{item.get('code', '?')}: {item.get('message', '')}".strip(": "))
    except (ValueError, AttributeError):
        pass
    return f"HTTP {reply.status}" + (f" ({'; '.join(codes)})" if codes else "")


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
    ) -> None:
        self.registry = registry
        self.base = base_url(registry)
        self._what = what
        self._credentials = credentials
        self._observer = observer
        self._timeout_s = timeout_s
        self._tokens: dict[str, str] = {}
        self._basic = False  # the registry asked for basic auth

    def url(self, path: str) -> str:
        return urljoin(self.base, path)

    def request(
        self,
        method: str,
        url: str,
        *,
        scope: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Reply:
        """Send one request (authenticating and following redirects); read the whole answer.

        Raises `RegistryUnreachableError`, `RegistryAuthError`, or `RegistryResponseError`
        for an answer larger than any manifest may be.
        """
        with self.open(method, url, scope=scope, headers=headers, body=body) as response:
            data = response.read(_MAX_BODY + 1)
            if len(data) > _MAX_BODY:
                raise RegistryResponseError(
                    f"{self._what}: {method} {url} answered more than {_MAX_BODY} bytes"
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
    ) -> Iterator[http.client.HTTPResponse]:
        """Like `request`, but yields the response for the caller to stream; closes it after."""
        for attempt in (1, 2):
            with self._follow(method, url, self._auth(scope, headers), body) as response:
                if response.status != http.client.UNAUTHORIZED:
                    yield response
                    return
                challenge = parse_challenge(response.getheader("WWW-Authenticate"))
            if attempt == 2:
                raise self._refused()
            self._authorize(challenge, scope)

    def _auth(self, scope: str, headers: dict[str, str] | None) -> dict[str, str]:
        merged = dict(headers or {})
        if token := self._tokens.get(scope):
            merged["Authorization"] = f"Bearer {token}"
        elif self._basic and self._credentials:
            merged["Authorization"] = self._credentials.basic_header()
        return merged

    @contextmanager
    def _follow(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> Iterator[http.client.HTTPResponse]:
        """Send, following redirects for GET and HEAD; credentials stay with the registry."""
        for _ in range(_MAX_REDIRECTS + 1):
            with self._send(method, url, headers, body) as response:
                location = response.getheader("Location")
                redirect = response.status in {301, 302, 303, 307, 308}
                if not (redirect and location and method in {"GET", "HEAD"}):
                    yield response
                    return
            target = urljoin(url, location)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                headers = {k: v for k, v in headers.items() if k != "Authorization"}
            url = target
        raise RegistryResponseError(f"{self._what}: more than {_MAX_REDIRECTS} redirects at {url}")

    @contextmanager
    def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> Iterator[http.client.HTTPResponse]:
        parts = urlsplit(url)
        connection = self._connection(parts.scheme, parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            try:
                all_headers = {"User-Agent": _USER_AGENT, **headers}
                connection.request(method, target, body=body or None, headers=all_headers)
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as e:
                raise self._unreachable(parts.netloc, e) from e
            if self._observer:
                self._observer(Exchange(method=method, url=url, status=response.status))
            with response:
                yield response
        finally:
            connection.close()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        if scheme == "https":
            context = ssl.create_default_context()
            return http.client.HTTPSConnection(netloc, timeout=self._timeout_s, context=context)
        return http.client.HTTPConnection(netloc, timeout=self._timeout_s)

    def _unreachable(self, netloc: str, e: Exception) -> RegistryUnreachableError:
        reason = (e.strerror if isinstance(e, OSError) else None) or str(e) or type(e).__name__
        return RegistryUnreachableError(
            f"{self._what}: cannot reach registry {netloc}: {reason} "
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

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        realm = challenge.get("realm")
        if not realm or urlsplit(realm).scheme not in {"http", "https"}:
            raise RegistryAuthError(f"{self._what}: bearer challenge without a realm URL: {realm}")
        realm_host = urlsplit(realm).hostname or ""
        if urlsplit(realm).scheme == "http" and not is_loopback(realm_host):
            raise RegistryAuthError(
                f"{self._what}: token realm {realm} is plain HTTP on another host; refused"
            )
        query = [("scope", s) for s in merge_scopes(*scope.split(), *challenge.scopes())]
        if service := challenge.get("service"):
            query.insert(0, ("service", service))
        url = f"{realm}{'&' if urlsplit(realm).query else '?'}{urlencode(query)}"
        headers = {"Authorization": self._credentials.basic_header()} if self._credentials else {}
        with self._send("GET", url, headers, b"") as response:
            body = response.read(_MAX_BODY)
            reply = Reply(status=response.status, headers=response.headers, body=body)
        return self._token_of(reply, realm)

    def _token_of(self, reply: Reply, realm: str) -> str:
        if reply.status == http.client.UNAUTHORIZED:
            raise self._refused()
        if reply.status != http.client.OK:
            raise RegistryAuthError(f"{self._what}: token realm {realm}: {error_text(reply)}")
        try:
            document = json.loads(reply.body)
            token = document.get("token") or document.get("access_token")
        except (ValueError, AttributeError) as e:
            raise RegistryAuthError(f"{self._what}: token realm {realm} sent no JSON") from e
        if not isinstance(token, str) or not token:
            raise RegistryAuthError(f"{self._what}: token realm {realm} sent no token")
        return token


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
