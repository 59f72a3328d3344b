"""Fuzzing what a registry (or a user) hands the registry client: references, manifests and
indexes, `WWW-Authenticate` challenges, token answers, error documents and `Location` headers.

Every input gives a value or the package's own `RegistryError` with a one-line message, never
another exception; and wherever a URL ends up, credentials go with it only when it is the
registry's own origin. Seeds are real documents with bytes spliced in (`_fuzz.SNIPPETS`) or a
key given a hostile value (`_fuzz.VALUES`). Derandomized and bounded.
"""

from __future__ import annotations

import http.client
import json
import re
from typing import Any

from _fuzz import EDITS, STRINGS, VALUES, key_paths, mutate, substitute
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagekit.image.digest import parse_digest
from imagekit.image.errors import OciError
from imagekit.image.model import Index, Manifest, Platform, parse_manifest
from imagekit.registry import (
    Credentials,
    InvalidReferenceError,
    RegistryAuthError,
    RegistryError,
    RegistryResponseError,
    parse_reference,
)
from imagekit.registry.auth import parse_challenge, parse_token_answer
from imagekit.registry.session import Reply, Session, error_text, origin_of

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HEX = "0123456789abcdef" * 4
DESCRIPTOR = {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": f"sha256:{HEX}"}
MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {**DESCRIPTOR, "mediaType": "application/vnd.oci.image.config.v1+json", "size": 2},
    "layers": [{**DESCRIPTOR, "size": 10, "annotations": {"a": "b"}}],
}
INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            **DESCRIPTOR,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 500,
            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        }
    ],
}
TOKEN = {"token": "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl", "access_token": "x", "expires_in": 300}
ERRORS = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {}}]}
CHALLENGE = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"'
REFERENCE = f"registry.example:5000/models/iris:1.0@sha256:{HEX}"
REGISTRY = "registry.example"  # an HTTPS registry: https://registry.example:443
LOCATIONS = [
    "/v2/app/blobs/uploads/1",
    "https://registry.example/v2/app/blobs/uploads/1?_state=x",
    "HTTPS://REGISTRY.EXAMPLE:443/x",
    "https://registry.example:0443/x",
    "https://registry.example./x",
    "https://registry.example:443@evil.example/x",
    "https://user:pw@registry.example/x",
    "http://registry.example/x",
    "//evil.example/x",
    "https://evil.example/x",
    "https://registry.example:8443/x",
    "http://[::1",
    "http://registry.example:99999/x",
    "ftp://registry.example/x",
    "file:///etc/passwd",
    "https://registry.example\x00.evil.example/x",
    "https:///x",
    "\\\\evil.example\\x",
]


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _one_line(error: RegistryError | OciError) -> None:
    assert "\n" not in str(error) and "\r" not in str(error)


def _document(seed: dict[str, Any], data: st.DataObject) -> bytes:
    """`seed` with one of its keys (or the whole) given a hostile value, as JSON."""
    document = json.loads(json.dumps(seed))
    path = data.draw(st.sampled_from(key_paths(document)))
    value = data.draw(VALUES)
    if not path:
        document = value
    else:
        substitute(document, path, value)
    return json.dumps(document, allow_nan=True).encode()


@FUZZ
@given(text=st.one_of(STRINGS, EDITS.map(lambda e: _text(mutate(REFERENCE.encode(), e)))))
@example(text="localhost:5000/" + "a/" * 200 + "b")
@example(text="[::1]:5000/app:1")
def test_references_parse_or_fail_with_their_error(text: str) -> None:
    try:
        reference = parse_reference(text)
    except InvalidReferenceError as e:
        _one_line(e)
        return
    assert parse_reference(str(reference)) == reference


@FUZZ
@given(text=st.one_of(STRINGS, EDITS.map(lambda e: _text(mutate(f"sha256:{HEX}".encode(), e)))))
def test_digests_and_platforms_parse_or_fail_with_their_error(text: str) -> None:
    try:
        assert parse_digest(text, "where") == text
    except OciError as e:
        _one_line(e)
    try:
        assert str(Platform.parse(text)) == text
    except OciError as e:
        _one_line(e)


def _parse_manifest(data: bytes, media_type: str | None) -> None:
    try:
        parsed = parse_manifest(data, media_type, "m")
    except OciError as e:
        _one_line(e)
        return
    assert isinstance(parsed, Manifest | Index)


@FUZZ
@given(seed=st.sampled_from([MANIFEST, INDEX]), edits=EDITS, media_type=st.none() | STRINGS)
def test_spliced_manifests_parse_or_fail_with_their_error(
    seed: dict[str, Any], edits: list[tuple[float, int, bytes]], media_type: str | None
) -> None:
    _parse_manifest(mutate(json.dumps(seed).encode(), edits), media_type)


@FUZZ
@given(seed=st.sampled_from([MANIFEST, INDEX]), data=st.data())
def test_manifests_with_hostile_values_parse_or_fail_with_their_error(
    seed: dict[str, Any], data: st.DataObject
) -> None:
    _parse_manifest(_document(seed, data), None)


@FUZZ
@given(
    header=st.one_of(STRINGS, EDITS.map(lambda e: _text(mutate(CHALLENGE.encode(), e)))),
    registry=st.sampled_from([REGISTRY, "127.0.0.1:5000"]),
)
@example(header='Bearer realm="http://127.0.0.1:1/token"', registry=REGISTRY)
@example(header='Bearer realm="https://[::1"', registry=REGISTRY)
def test_challenges_parse_and_their_realm_is_taken_or_refused(header: str, registry: str) -> None:
    challenge = parse_challenge(header)
    if challenge is None:
        return
    session = Session(registry=registry, what="r", credentials=None)
    try:
        realm = session.check_realm(challenge.get("realm"))
    except RegistryAuthError as e:
        _one_line(e)
        return
    scheme, host, _ = origin_of(realm, "realm")
    assert scheme == "https" or (registry != REGISTRY and host in {"127.0.0.1", "localhost"})


def _token(body: bytes) -> None:
    try:
        token = parse_token_answer(body, "realm")
    except RegistryAuthError as e:
        _one_line(e)
        return
    assert re.fullmatch(r"[\x21-\x7e]+", token)


@FUZZ
@given(edits=EDITS)
def test_spliced_token_answers_give_a_token_or_their_error(
    edits: list[tuple[float, int, bytes]],
) -> None:
    _token(mutate(json.dumps(TOKEN).encode(), edits))


@FUZZ
@given(data=st.data())
def test_token_answers_with_hostile_values_give_a_token_or_their_error(
    data: st.DataObject,
) -> None:
    _token(_document(TOKEN, data))


@FUZZ
@given(data=st.data(), status=st.integers(min_value=100, max_value=599))
def test_error_documents_give_one_bounded_line(data: st.DataObject, status: int) -> None:
    spliced = data.draw(st.none() | EDITS.map(lambda e: mutate(json.dumps(ERRORS).encode(), e)))
    body = _document(ERRORS, data) if spliced is None else spliced
    text = error_text(Reply(status=status, headers=http.client.HTTPMessage(), body=body))
    assert text.startswith(f"HTTP {status}")
    assert "\n" not in text and "\r" not in text and "\x1b" not in text
    assert len(text) < 3000  # ten codes of at most 60 and messages of at most 200


@FUZZ
@given(
    location=st.one_of(
        st.sampled_from(LOCATIONS), STRINGS, EDITS.map(lambda e: _text(mutate(b"/v2/x", e)))
    ),
    against=st.sampled_from([None, "https://registry.example/v2/app/blobs/x"]),
)
def test_credentials_follow_a_location_only_to_the_registry(
    location: str, against: str | None
) -> None:
    """Wherever a Location points, Authorization goes there only on https://registry.example
    (port 443), and no plain-HTTP URL is ever sent to from this HTTPS registry."""
    credentials = Credentials(username="u", password="p", source="test")  # noqa: S106 (a test login)
    session = Session(registry=REGISTRY, what="r", credentials=credentials)
    session._basic = True  # as after a basic challenge
    try:
        url = session.resolve(location, against)
        session._check_target(url)
    except RegistryResponseError as e:
        _one_line(e)
        return
    headers = session._auth("scope", {"Authorization": "forged"}, url)
    own = origin_of(url, "u") == ("https", "registry.example", 443)
    assert headers == ({"Authorization": credentials.basic_header()} if own else {})
    assert url.lower().startswith("https://")
