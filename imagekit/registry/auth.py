"""Registry credentials and authentication challenges.

Credentials come from `IMAGEKIT_REGISTRY_USER`/`IMAGEKIT_REGISTRY_PASSWORD` (for any registry),
else from the `auths` of Docker's `config.json` (`$DOCKER_CONFIG/config.json`, default
`~/.docker/config.json`), whose `auth` field is base64 of `user:password`. Credential helpers
(`credsStore`, `credHelpers`) are not run: imagekit reads files, never executes programs.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagekit.errors import InputError
from imagekit.limits import load_json, shown
from imagekit.registry.errors import RegistryAuthError
from imagekit.registry.reference import DOCKER_HUB

ENV_USER = "IMAGEKIT_REGISTRY_USER"
ENV_PASSWORD = "IMAGEKIT_REGISTRY_PASSWORD"  # noqa: S105 (a variable name, not a secret)
_HUB_KEYS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')
# What may follow "Bearer " in a header: visible ASCII (RFC 6750's b64token and the JWTs and
# opaque tokens registries hand out); anything else could split or forge a header line.
_TOKEN = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """A user name and password for HTTP basic auth (directly, or at a token realm)."""

    username: str
    password: str = field(repr=False)
    source: str  # where they were found, for error messages

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True, kw_only=True)
class Challenge:
    """One `WWW-Authenticate` challenge: its scheme (lower-cased) and its parameters."""

    scheme: str
    params: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)

    def scopes(self) -> tuple[str, ...]:
        """The scopes the registry asked for (space-separated in one `scope` parameter)."""
        return tuple((self.get("scope") or "").split())


def parse_challenge(header: str | None) -> Challenge | None:
    """The challenge in a `WWW-Authenticate` header; None when there is none."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = tuple(
        (m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(rest)
    )
    return Challenge(scheme=scheme.lower(), params=params)


def parse_token_answer(body: bytes, where: str) -> str:
    """The bearer token in a token realm's JSON answer (`token`, else `access_token`).

    Raises `RegistryAuthError` naming `where` for an answer that is not bounded JSON, holds no
    token, or a token that could not go into a header as it is.
    """
    try:
        document = load_json(body, where)
    except InputError as e:
        raise RegistryAuthError(f"{where}: sent no usable JSON ({e.message})") from e
    token = (
        (document.get("token") or document.get("access_token"))
        if isinstance(document, dict)
        else None
    )
    if not isinstance(token, str) or not token:
        raise RegistryAuthError(f"{where}: sent no token")
    if not _TOKEN.fullmatch(token):
        raise RegistryAuthError(
            f"{where}: sent a token with spaces or control characters ({shown(token, 40)})"
        )
    return token


def find_credentials(
    registry: str, *, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """The credentials for `registry`: the environment's first, then Docker's config file.

    Raises `RegistryAuthError` for half-set environment variables or an unreadable config.
    """
    env = os.environ if environ is None else environ
    user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
    if user and password is not None:
        return Credentials(username=user, password=password, source=ENV_USER)
    if user or password:
        missing = ENV_PASSWORD if user else ENV_USER
        raise RegistryAuthError(f"{missing} is not set: set both {ENV_USER} and {ENV_PASSWORD}")
    return _from_docker_config(registry, docker_config_path(env))


def docker_config_path(environ: Mapping[str, str]) -> Path:
    """Where Docker keeps `config.json`: `$DOCKER_CONFIG`, else `~/.docker`."""
    folder = environ.get("DOCKER_CONFIG")
    return (Path(folder) if folder else Path.home() / ".docker") / "config.json"


def _from_docker_config(registry: str, path: Path) -> Credentials | None:
    try:
        config: Any = load_json(path.read_bytes(), path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise RegistryAuthError(
            f"{path}: cannot read Docker's config ({e.strerror or e}); fix or remove the file"
        ) from e
    except InputError as e:
        raise RegistryAuthError(
            f"{path}: cannot read Docker's config ({e.message}); fix or remove the file"
        ) from e
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if _registry_of_key(str(key)) == registry and isinstance(entry, dict):
            return _decode_entry(entry, f"{path}: auths.{key}")
    return None


def _registry_of_key(key: str) -> str:
    """`https://index.docker.io/v1/` -> `docker.io`; `http://host:5000` -> `host:5000`."""
    host = key.split("://", 1)[-1].split("/", 1)[0]
    return DOCKER_HUB if host in _HUB_KEYS else host


def _decode_entry(entry: dict[str, Any], where: str) -> Credentials | None:
    auth = entry.get("auth")
    if not auth:  # kept by a credential helper, which imagekit does not run
        return None
    try:
        user, colon, password = base64.b64decode(str(auth), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as e:
        raise RegistryAuthError(
            f"{where}: 'auth' is not base64 of user:password; run docker login again"
        ) from e
    if not colon or not user:
        raise RegistryAuthError(f"{where}: 'auth' is not user:password; run docker login again")
    return Credentials(username=user, password=password, source=where)
