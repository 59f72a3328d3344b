"""Hostile registries: credentials stay on the registry's origin, no answer stalls a transfer
past its deadline, a full disk leaves nothing behind, hostile JSON is one error line.

The servers record the headers they receive, so "the foreign host never saw Authorization" is
checked on the wire. HTTPS registries are served on this machine's non-loopback address (a
loopback registry is spoken to over plain HTTP) with a CA trusted through SSL_CERT_FILE.
"""

from __future__ import annotations

import base64
import json
import re
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _hostile_servers import Answer, Handler, LocalCA, Seen, make_ca, outward_address, serve
from _registry_support import OCI_MANIFEST, BuiltLayout, build_layout, digest, layout_blobs
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.registry import (
    ClientOptions,
    Credentials,
    LayoutWriteError,
    ManifestError,
    RegistryAuthError,
    RegistryError,
    RegistryResponseError,
    RegistryUnreachableError,
    pull_to_layout,
    push_layout,
)

runner = CliRunner()
USER, PASSWORD = "alice", "s3cret-pw"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
CREDENTIALS = Credentials(username=USER, password=PASSWORD, source="test")
LOGIN = ClientOptions(credentials=CREDENTIALS)
LATE = "the registry stalled or is too slow (try again, or allow more time with --deadline)"
FULL = "nothing was left half-written (free space on that disk, or write to another one)"


@pytest.fixture(autouse=True)
def _login(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI finds the test login in the environment, and no Docker config of the host."""
    monkeypatch.setenv("IMAGEKIT_REGISTRY_USER", USER)
    monkeypatch.setenv("IMAGEKIT_REGISTRY_PASSWORD", PASSWORD)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


def _cli(*args: str) -> tuple[int, list[str]]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr.splitlines()


def _routes(built: BuiltLayout, repository: str = "app", tag: str = "1.0") -> dict[str, Answer]:
    """GET answers serving `built` as `repository:tag`."""
    blobs = layout_blobs(built.root)
    routes = {f"/v2/{repository}/blobs/{d}": Answer(status=200, body=b) for d, b in blobs.items()}
    manifest = Answer(
        status=200, headers={"Content-Type": OCI_MANIFEST}, body=blobs[built.manifest_digest]
    )
    routes[f"/v2/{repository}/manifests/{tag}"] = manifest
    return routes


def _basic_registry(routes: dict[str, Answer]) -> Handler:
    """A registry that wants the test login (basic) and then answers from `routes`."""
    return _basic_registry_for(lambda seen: routes.get(seen.path, Answer(status=404)))


def _basic_registry_for(answer: Callable[[Seen], Answer]) -> Handler:
    def handle(seen: Seen) -> Answer:
        if seen.authorization != BASIC:
            return Answer(status=401, headers={"WWW-Authenticate": 'Basic realm="test"'})
        return answer(seen)

    return handle


def _nothing_left(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == []


# --- credentials stay on the registry's origin ------------------------------------------


def test_push_upload_location_on_another_host_gets_no_credentials(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="foreign-upload")
    with serve(lambda seen: Answer(status=201)) as storage:

        def registry_answer(seen: Seen) -> Answer:
            if seen.method == "HEAD":
                return Answer(status=404)
            if seen.method == "POST":
                location = f"http://{storage.address}/upload/{len(storage.seen)}"
                return Answer(status=202, headers={"Location": location})
            return Answer(status=201)  # the manifest

        with serve(_basic_registry_for(registry_answer)) as registry:
            code, lines = _cli("push", str(built.root), f"{registry.address}/app:1.0")
    assert (code, lines[-1:]) == (0, [f"pushed {registry.address}/app:1.0@"
                                      f"{built.manifest_digest}: 3 blobs uploaded, 0 mounted, "
                                      "0 already there"])  # fmt: skip
    assert [(s.method, s.authorization) for s in storage.seen] == [("PUT", None)] * 3
    assert {s.body for s in storage.seen} == {
        data for d, data in layout_blobs(built.root).items() if d in built.blobs
    }
    answered = [s for s in registry.seen if s.authorization]
    assert answered and {s.authorization for s in answered} == {BASIC}


def test_an_upload_location_asking_for_credentials_gets_none(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="foreign-401")
    with serve(lambda seen: Answer(status=200, body=b'{"token": "t"}')) as realm:
        challenge = f'Bearer realm="http://{realm.address}/token"'
        with serve(
            lambda s: Answer(status=401, headers={"WWW-Authenticate": challenge})
        ) as storage:
            location = f"http://{storage.address}/upload/1"

            def registry_answer(seen: Seen) -> Answer:
                if seen.method == "POST":
                    return Answer(status=202, headers={"Location": location})
                return Answer(status=404)

            with serve(_basic_registry_for(registry_answer)) as registry:
                ref = f"{registry.address}/app:1.0"
                with pytest.raises(
                    RegistryAuthError,
                    match=rf"^{ref}: {location}\?digest=sha256%3A[0-9a-f]{{64}} asked for "
                    rf"credentials; imagekit sends them only to the registry "
                    rf"{registry.address}, not to the hosts it redirects to$",
                ):
                    push_layout(built.root, ref, options=LOGIN)
    assert [s.authorization for s in storage.seen] == [None]
    assert realm.seen == []


def test_a_blob_redirect_whose_target_asks_for_credentials_gets_none(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="redirect-401")
    with serve(lambda seen: Answer(status=200, body=b'{"token": "t"}')) as realm:
        challenge = f'Bearer realm="http://{realm.address}/token"'
        with serve(lambda s: Answer(status=401, headers={"WWW-Authenticate": challenge})) as cdn:
            routes = _routes(built)
            layer = f"/v2/app/blobs/{built.blobs[1]}"
            routes[layer] = Answer(status=307, headers={"Location": f"http://{cdn.address}/b"})
            with (
                serve(_basic_registry(routes)) as registry,
                pytest.raises(
                    RegistryAuthError,
                    match=rf"^{registry.address}/app:1.0: http://{cdn.address}/b asked for "
                    "credentials; imagekit sends them only to the registry",
                ),
            ):
                pull_to_layout(f"{registry.address}/app:1.0", tmp_path / "out", options=LOGIN)
    assert [s.authorization for s in cdn.seen] == [None]
    assert realm.seen == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layout"]


def test_a_redirect_chain_through_another_host_carries_no_credentials(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="chain")
    data = layout_blobs(built.root)[built.blobs[1]]
    with serve(lambda seen: Answer(status=200, body=data)) as final:
        hop = Answer(status=302, headers={"Location": f"http://{final.address}/blob"})
        with serve(lambda seen: hop) as middle:
            routes = _routes(built)
            routes[f"/v2/app/blobs/{built.blobs[1]}"] = Answer(
                status=307, headers={"Location": f"http://{middle.address}/hop"}
            )
            with serve(_basic_registry(routes)) as registry:
                ref = f"{registry.address}/app:1.0"
                code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"))
    out = tmp_path / "out"
    assert (code, lines) == (
        0,
        [f"pulled {ref} into {out} (an OCI layout: podman run --rm oci:{out})"],
    )
    assert [s.authorization for s in middle.seen + final.seen] == [None, None]
    assert layout_blobs(tmp_path / "out") == layout_blobs(built.root)


# --- HTTPS registries ----------------------------------------------------------------


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalCA:
    """A CA this process trusts, and a server context for this machine's non-loopback address
    (a registry there is spoken to over HTTPS)."""
    host = outward_address()
    if host is None:
        pytest.skip("this machine has no non-loopback IPv4 address to serve HTTPS on")
    ca = make_ca(tmp_path / "ca", host)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.bundle))
    return ca


@pytest.mark.parametrize("target", ["same port", "plain server"])
def test_an_https_registry_is_never_followed_to_plain_http(
    tls: LocalCA, tmp_path: Path, target: str
) -> None:
    with serve(lambda seen: Answer(status=200, body=b"{}"), host=tls.host) as plain:
        routes: dict[str, Answer] = {}
        with serve(_basic_registry(routes), host=tls.host, tls=tls.server) as registry:
            address = registry.address if target == "same port" else plain.address
            downgrade = f"http://{address}/v2/app/manifests/1.0"
            routes["/v2/app/manifests/1.0"] = Answer(status=307, headers={"Location": downgrade})
            ref = f"{registry.address}/app:1.0"
            code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"))
    assert (code, lines) == (2, [
        f"error: {ref}: refused to follow {downgrade}: {registry.address} is an HTTPS registry "
        "and imagekit never downgrades it to plain HTTP"])  # fmt: skip
    assert [s.authorization for s in registry.seen] == [None, BASIC]
    assert plain.seen == []
    assert not (tmp_path / "out").exists()


def test_a_plain_http_token_realm_is_refused_for_an_https_registry(
    tls: LocalCA, tmp_path: Path
) -> None:
    with serve(lambda seen: Answer(status=200, body=b'{"token": "t"}')) as realm:
        challenge = f'Bearer realm="http://{realm.address}/token",service="s"'
        bearer = Answer(status=401, headers={"WWW-Authenticate": challenge})
        with serve(lambda seen: bearer, host=tls.host, tls=tls.server) as registry:
            ref = f"{registry.address}/app:1.0"
            code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"))
    assert (code, lines) == (2, [
        f"error: {ref}: token realm http://{realm.address}/token is plain HTTP for an HTTPS "
        "registry; refused"])  # fmt: skip
    assert realm.seen == []


def test_an_https_registry_with_a_token_realm_and_a_cdn_elsewhere(
    tls: LocalCA, tmp_path: Path
) -> None:
    """The documented rule: basic credentials go to an HTTPS realm on another host; the token
    goes only to the registry; blob storage elsewhere sees neither."""
    built = build_layout(tmp_path / "layout", seed="https")
    data = layout_blobs(built.root)[built.blobs[1]]
    token = Answer(status=200, body=b'{"token": "tok-1", "expires_in": 300}')
    with (
        serve(lambda seen: token, host=tls.host, tls=tls.server) as realm,
        serve(lambda seen: Answer(status=200, body=data), host=tls.host, tls=tls.server) as cdn,
    ):
        routes = _routes(built)
        routes[f"/v2/app/blobs/{built.blobs[1]}"] = Answer(
            status=307, headers={"Location": f"{cdn.origin}/blob"}
        )
        challenge = f'Bearer realm="{realm.origin}/token",service="reg"'

        def registry_answer(seen: Seen) -> Answer:
            if seen.authorization != "Bearer tok-1":
                return Answer(status=401, headers={"WWW-Authenticate": challenge})
            return routes.get(seen.path, Answer(status=404))

        with serve(registry_answer, host=tls.host, tls=tls.server) as registry:
            ref = f"{registry.address}/app:1.0"
            code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"))
    out = tmp_path / "out"
    assert (code, lines) == (
        0,
        [f"pulled {ref} into {out} (an OCI layout: podman run --rm oci:{out})"],
    )
    assert [s.authorization for s in realm.seen] == [BASIC]
    assert realm.seen[0].path == "/token?service=reg&scope=repository%3Aapp%3Apull"
    assert [s.authorization for s in cdn.seen] == [None]
    assert {s.authorization for s in registry.seen} == {None, "Bearer tok-1"}
    assert layout_blobs(tmp_path / "out") == layout_blobs(built.root)


def test_an_untrusted_https_registry_is_unreachable_in_one_line(
    tls: LocalCA, tmp_path: Path
) -> None:
    untrusted = make_ca(tmp_path / "other-ca", tls.host)
    with serve(lambda seen: Answer(status=200), host=tls.host, tls=untrusted.server) as registry:
        ref = f"{registry.address}/app:1.0"
        code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"))
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(
        f"error: {ref}: cannot reach registry {registry.address}: [SSL: "
        "CERTIFICATE_VERIFY_FAILED] certificate verify failed"
    )
    assert registry.seen == []


# --- wall-clock deadlines --------------------------------------------------------------


def test_a_dripping_manifest_hits_the_deadline(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="drip")
    routes = _routes(built)
    manifest = routes["/v2/app/manifests/1.0"]
    routes["/v2/app/manifests/1.0"] = Answer(
        status=200, headers=manifest.headers, body=manifest.body, drip_s=0.2
    )
    with serve(lambda seen: routes[seen.path]) as registry:
        ref = f"{registry.address}/app:1.0"
        started = time.monotonic()
        with pytest.raises(
            RegistryUnreachableError,
            match=rf"^{ref}: GET http://{registry.address}/v2/app/manifests/1.0 did not finish "
            rf"within 1 s; {re.escape(LATE)}$",
        ):
            pull_to_layout(ref, tmp_path / "out", options=ClientOptions(deadline_s=1.0))
    assert time.monotonic() - started < 3.0
    assert not (tmp_path / "out").exists()


def test_a_dripping_https_registry_hits_the_deadline(tls: LocalCA, tmp_path: Path) -> None:
    answer = Answer(status=200, body=b"{}" * 100, drip_s=0.2)
    with serve(lambda seen: answer, host=tls.host, tls=tls.server) as registry:
        ref = f"{registry.address}/app:1.0"
        started = time.monotonic()
        with pytest.raises(
            RegistryUnreachableError,
            match=rf"^{ref}: GET https://{registry.address}/v2/app/manifests/1.0 did not finish "
            rf"within 0.5 s; {re.escape(LATE)}$",
        ):
            pull_to_layout(ref, tmp_path / "out", options=ClientOptions(deadline_s=0.5))
    assert time.monotonic() - started < 3.0


def test_a_registry_dripping_its_status_line_is_one_line_at_the_cli(tmp_path: Path) -> None:
    answer = Answer(status=200, body=b"{}", drip_s=0.2, drip_head=True)
    with serve(lambda seen: answer) as registry:
        ref = f"{registry.address}/app:1.0"
        started = time.monotonic()
        code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"), "--deadline", "0.5")
    assert time.monotonic() - started < 3.0
    assert (code, lines) == (2, [
        f"error: {ref}: GET http://{registry.address}/v2/app/manifests/1.0 did not finish "
        f"within 0.5 s; {LATE}"])  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_a_dripping_blob_hits_the_deadline_and_leaves_nothing(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="drip-blob", size=2_000)
    routes = _routes(built)
    layer = f"/v2/app/blobs/{built.blobs[1]}"
    routes[layer] = Answer(status=200, body=routes[layer].body, drip_s=0.05)
    out = tmp_path / "pulled"
    out.mkdir()
    with serve(lambda seen: routes[seen.path]) as registry:
        ref = f"{registry.address}/app:1.0"
        with pytest.raises(
            RegistryUnreachableError,
            match=rf"^{ref}: GET http://{registry.address}{layer} did not finish within 1.5 s; ",
        ):
            pull_to_layout(ref, out / "image", options=ClientOptions(deadline_s=1.5))
    _nothing_left(out)


# --- full disks ----------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MiB tmpfs (needs root): a 2 MB layer cannot fit."""
    mount = tmp_path / "full"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_pulling_onto_a_full_disk_is_one_line_and_leaves_nothing(
    tmp_path: Path, full_disk: Path
) -> None:
    built = build_layout(tmp_path / "layout", seed="full", size=2_000_000)
    with serve(_basic_registry(_routes(built))) as registry:
        ref = f"{registry.address}/app:1.0"
        code, lines = _cli("pull", ref, "-o", str(full_disk / "out"))
    assert (code, lines) == (3, [
        f"error: {full_disk}/out: cannot write the OCI layout: No space left on device; {FULL}"
    ])  # fmt: skip
    _nothing_left(full_disk)


def test_a_blob_past_the_file_size_limit_is_one_error_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    built = build_layout(tmp_path / "layout", seed="fsize", size=300_000)
    out = tmp_path / "pulled"
    out.mkdir()
    with serve(lambda seen: _routes(built)[seen.path]) as registry:
        ref = f"{registry.address}/app:1.0"
        limit = _limit_file_size(100_000)
        try:
            with pytest.raises(
                LayoutWriteError,
                match=rf"^{out}/image: cannot write the OCI layout: File too large; {re.escape(FULL)}$",
            ) as info:
                pull_to_layout(ref, out / "image")
        finally:
            limit()
    assert isinstance(info.value.__cause__, LayoutWriteError)
    assert str(info.value.__cause__).startswith(f"{out}/.image.partial-")
    assert info.value.exit_code == 3
    _nothing_left(out)


def _limit_file_size(limit: int) -> Callable[[], None]:
    """Let this process write no file past `limit` bytes (RLIMIT_FSIZE, no root needed): a
    longer write fails with EFBIG as a real one does, SIGXFSZ being ignored. Returns the undo."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))

    def undo() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)

    return undo


# --- hostile JSON ----------------------------------------------------------------------


DEEP = b"[" * 100_000
DEEP_LINE = r"JSON nested deeper than 128 levels"


def _manifest_answer(body: bytes, status: int = 200) -> Answer:
    return Answer(status=status, headers={"Content-Type": OCI_MANIFEST}, body=body)


def _huge_number() -> bytes:
    config = {"mediaType": "c", "digest": "sha256:" + "0" * 64, "size": 0}
    return (
        json.dumps({"config": config, "layers": []})
        .replace('"size": 0', '"size": ' + "9" * 5000)
        .encode()
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (DEEP, DEEP_LINE),
        (
            b'{"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ' + DEEP,
            DEEP_LINE,
        ),
        (_huge_number(), "unreadable JSON: integer of 5000 digits"),
    ],
    ids=["deep-manifest", "deep-index", "5000-digit-size"],
)
def test_hostile_manifests_are_one_error(tmp_path: Path, body: bytes, reason: str) -> None:
    with serve(lambda seen: _manifest_answer(body)) as registry:
        ref = f"{registry.address}/app:1.0"
        with pytest.raises(
            ManifestError,
            match=rf"^{ref}: manifest {digest(body)}: not a JSON manifest \({reason}\)$",
        ):
            pull_to_layout(ref, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_deep_manifest_is_one_line_at_the_cli(tmp_path: Path) -> None:
    with serve(lambda seen: _manifest_answer(DEEP)) as registry:
        ref = f"{registry.address}/app:1.0"
        code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"))
    assert (code, lines) == (2, [
        f"error: {ref}: manifest {digest(DEEP)}: not a JSON manifest (JSON nested deeper than 128 "
        "levels)"])  # fmt: skip


def test_a_deep_error_document_leaves_the_status(tmp_path: Path) -> None:
    with serve(lambda seen: _manifest_answer(DEEP, status=404)) as registry:
        ref = f"{registry.address}/app:1.0"
        with pytest.raises(
            RegistryResponseError,
            match=rf"^{ref}: no such image in {registry.address}: HTTP 404; check the repository",
        ):
            pull_to_layout(ref, tmp_path / "out")


def test_an_error_document_cannot_forge_lines(tmp_path: Path) -> None:
    errors = [{"code": "DENIED\nerror: forged", "message": "\x1b[2J" + "x" * 1000}]
    body = json.dumps({"errors": errors}).encode()
    with serve(lambda seen: _manifest_answer(body, status=500)) as registry:
        ref = f"{registry.address}/app:1.0"
        code, lines = _cli("pull", ref, "-o", str(tmp_path / "out"))
    assert (code, lines) == (2, [
        f"error: {ref}: fetching manifest 1.0 failed: HTTP 500 (DENIED\\nerror: forged: "
        f"\\x1b[2J{'x' * 193}… (1004 characters))"])  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (DEEP, f"sent no usable JSON ({DEEP_LINE})"),
        (b'{"token": 1e999999}', "sent no token"),
        (
            b'{"token": "a\\r\\nX-Evil: 1"}',
            r"sent a token with spaces or control characters (a\r\nX-Evil: 1)",
        ),
    ],
    ids=["deep", "number", "header-injection"],
)
def test_hostile_token_answers_are_one_error(tmp_path: Path, answer: bytes, reason: str) -> None:
    with serve(lambda seen: Answer(status=200, body=answer)) as realm:
        challenge = f'Bearer realm="http://{realm.address}/token"'
        bearer = Answer(status=401, headers={"WWW-Authenticate": challenge})
        with serve(lambda seen: bearer) as registry:
            ref = f"{registry.address}/app:1.0"
            with pytest.raises(RegistryAuthError) as info:
                pull_to_layout(ref, tmp_path / "out", options=LOGIN)
    assert str(info.value) == f"{ref}: token realm http://{realm.address}/token: {reason}"
    assert [s.authorization for s in realm.seen] == [BASIC]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("ftp://127.0.0.1/upload", r"ftp://127.0.0.1/upload is not an http\(s\) URL; refused"),
        ("http://127.0.0.1:99999/u", r"http://127.0.0.1:99999/u has an invalid port; refused"),
        ("http://[::1/u", r"the registry sent an unusable location http://\[::1/u; refused"),
        (
            "/v2/app/up load",
            r"cannot send PUT http://[\d.:]+/v2/app/up load\?digest=sha256%3A[0-9a-f]{64}: URL can't "
            r"contain control characters\. .* \(found at least ' '\); refused$",
        ),
    ],
    ids=["ftp", "port", "bracket", "space"],
)
def test_hostile_upload_locations_are_one_error(tmp_path: Path, location: str, reason: str) -> None:
    built = build_layout(tmp_path / "layout", seed="location")

    def registry_answer(seen: Seen) -> Answer:
        if seen.method == "POST":
            return Answer(status=202, headers={"Location": location})
        return Answer(status=404)

    with serve(registry_answer) as registry:
        ref = f"{registry.address}/app:1.0"
        with pytest.raises(RegistryError, match=rf"^{ref}: {reason}"):
            push_layout(built.root, ref)


def test_a_push_sent_to_a_foreign_host_asking_for_credentials_is_one_line(tmp_path: Path) -> None:
    built = build_layout(tmp_path / "layout", seed="cli-foreign-401")
    asks = Answer(status=401, headers={"WWW-Authenticate": 'Basic realm="storage"'})
    with serve(lambda seen: asks) as storage:
        location = f"http://{storage.address}/upload/1"

        def registry_answer(seen: Seen) -> Answer:
            if seen.method == "POST":
                return Answer(status=202, headers={"Location": location})
            return Answer(status=404)

        with serve(_basic_registry_for(registry_answer)) as registry:
            ref = f"{registry.address}/app:1.0"
            code, lines = _cli("push", str(built.root), ref)
    assert code == 2
    assert len(lines) == 1
    assert re.fullmatch(
        rf"error: {ref}: {location}\?digest=sha256%3A[0-9a-f]{{64}} asked for credentials; "
        rf"imagekit sends them only to the registry {registry.address}, not to the hosts it "
        "redirects to",
        lines[0],
    )
    assert [s.authorization for s in storage.seen] == [None]


def test_a_blob_that_cannot_be_read_is_one_error(tmp_path: Path) -> None:
    """/proc/self/mem is a regular file whose first read fails (EIO), as a failing disk's does."""
    built = build_layout(tmp_path / "layout", seed="eio")
    layer = built.root / "blobs" / "sha256" / built.blobs[1].removeprefix("sha256:")
    layer.unlink()
    layer.symlink_to("/proc/self/mem")

    def registry_answer(seen: Seen) -> Answer:
        if seen.method == "POST":
            return Answer(status=202, headers={"Location": "/upload/1"})
        return Answer(status=201 if seen.method == "PUT" else 404)

    with serve(registry_answer) as registry:
        ref = f"{registry.address}/app:1.0"
        code, lines = _cli("push", str(built.root), ref)
    assert (code, lines) == (2, [
        f"error: {layer}: cannot read blob {built.blobs[1]}: Input/output error; check the layout"
    ])  # fmt: skip
