"""Pinned Debian packages: dpkg's version order, deb822, dependency checks, and real fetches.

The fetch tests run against a small signed repository built here (a real gpg key, real gpgv, a
real HTTP server on localhost) and, marked `network`, against deb.debian.org itself.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import lzma
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from imagekit.build.debs import (
    DebError,
    DebPackage,
    DebRequest,
    FetchedDeb,
    Relation,
    check_dependencies,
    fetch_debs,
    parse_deb822,
    parse_relations,
)

DEBIAN = "http://deb.debian.org/debian"
UNREACHABLE = "http://127.0.0.1:9"
NO_GPG = "needs gpg, gpgconf and gpgv (apt-get install gnupg gpgv)"
DPKG_STATUS = Path("/var/lib/dpkg/status")
# libgomp1 and gcc-12-base as bookworm (12.15) has them. When a point release moves them,
# take the new version from `apt-cache policy libgomp1` or this test's failure message.
GCC_VERSION = "12.2.0-14+deb12u1"


def hint(name: str, suite: str = "bookworm") -> str:
    return (
        "Debian mirrors keep only the current version of each package: pin the version "
        f"`apt-cache policy {name}` shows for {suite}, or set the mirror to a "
        "snapshot.debian.org/archive/debian/<timestamp> URL"
    )


def pin(text: str) -> DebRequest:
    name, _, version = text.partition("=")
    return DebRequest(name=name, version=version)


# --- deb822 and relations ---------------------------------------------------------------

RELEASE = """\
Origin: Debian
Suite: oldstable
Codename: bookworm
SHA256:
 9e0b5aab 8790396 main/binary-amd64/Packages.xz
 6777ea16 12084798 main/binary-amd64/Packages.gz
"""

PACKAGES = """\
Package: app
Version: 1.0-1
Architecture: amd64
Pre-Depends: dpkg (>= 1.15)
Depends: libfoo (>= 1.2), libc6 (>= 2.34) | musl, mail-transport-agent
Filename: pool/main/a/app/app_1.0-1_amd64.deb
Size: 1000
SHA256: aaaa
Description: an app
 with a long description
 .
 in paragraphs

Package: libfoo
Version: 1.2-1
Architecture: amd64
Depends: libc6:any (>= 2.17)
Provides: libfoo-abi-1
Filename: pool/main/libf/libfoo/libfoo_1.2-1_amd64.deb
Size: 200
SHA256: bbbb

# a comment between stanzas
Package: postfix
Version: 3.7.11-0+deb12u1
Architecture: amd64
Provides: mail-transport-agent, default-mta (= 3.7.11-0+deb12u1)
Filename: pool/main/p/postfix/postfix_3.7.11-0+deb12u1_amd64.deb
Size: 300
SHA256: cccc
"""
BASE = {"libc6": "2.36-9+deb12u10", "dpkg": "1.21.22"}


@pytest.fixture
def packages() -> dict[str, DebPackage]:
    return {p.name: p for p in map(DebPackage.from_fields, parse_deb822(PACKAGES))}


def test_deb822_joins_continuation_lines() -> None:
    (release,) = parse_deb822(RELEASE)
    assert release["Codename"] == "bookworm"
    assert release["SHA256"].splitlines() == [
        "9e0b5aab 8790396 main/binary-amd64/Packages.xz",
        "6777ea16 12084798 main/binary-amd64/Packages.gz",
    ]


def test_deb822_splits_stanzas_and_skips_comments() -> None:
    stanzas = parse_deb822(PACKAGES)
    assert [s["Package"] for s in stanzas] == ["app", "libfoo", "postfix"]
    assert stanzas[0]["Description"] == "an app\nwith a long description\n.\nin paragraphs"


def test_deb822_rejects_a_line_that_is_no_field() -> None:
    message = "deb822 line 2 is neither a field nor a continuation: 'no colon here'"
    with pytest.raises(DebError) as info:
        parse_deb822("Package: x\nno colon here\n")
    assert str(info.value) == message


def test_relations_parse_into_groups_of_alternatives() -> None:
    field = "libc6 (>= 2.34), gcc-12-base (= 12.2.0-14), python3:any, a | b (<< 2)"
    assert parse_relations(field) == (
        (Relation(name="libc6", op=">=", version="2.34"),),
        (Relation(name="gcc-12-base", op="=", version="12.2.0-14"),),
        (Relation(name="python3"),),
        (Relation(name="a"), Relation(name="b", op="<<", version="2")),
    )
    assert parse_relations("") == ()


def test_a_bad_relation_is_an_error() -> None:
    with pytest.raises(DebError, match=r"^cannot parse the package relation 'libc6 \(~ 2\)'$"):
        parse_relations("libc6 (~ 2)")


def test_a_stanza_becomes_a_package(packages: dict[str, DebPackage]) -> None:
    app = packages["app"]
    assert (app.version, app.size, app.filename) == (
        "1.0-1",
        1000,
        "pool/main/a/app/app_1.0-1_amd64.deb",
    )
    assert [str(r) for group in app.depends for r in group] == [
        "dpkg (>= 1.15)", "libfoo (>= 1.2)", "libc6 (>= 2.34)", "musl", "mail-transport-agent",
    ]  # fmt: skip
    assert packages["postfix"].provides == (
        Relation(name="mail-transport-agent"),
        Relation(name="default-mta", op="=", version="3.7.11-0+deb12u1"),
    )


def test_a_stanza_without_a_hash_is_an_error() -> None:
    (fields,) = parse_deb822("Package: x\nVersion: 1\nArchitecture: all\nFilename: f\nSize: 1\n")
    with pytest.raises(DebError, match=r"^Packages index: x has a missing or bad field: 'SHA256'$"):
        DebPackage.from_fields(fields)


@pytest.mark.parametrize(
    ("op", "satisfied"),
    [("<<", False), ("<=", False), ("<", False), ("=", False), (">=", True), (">", True), (">>", True)],
)  # fmt: skip
def test_each_relation_operator(op: str, satisfied: bool) -> None:
    assert Relation(name="libc6", op=op, version="2.34").satisfied_by("2.36-9") is satisfied


# --- dependency checks ------------------------------------------------------------------


def test_dependencies_met_by_requests_and_base(packages: dict[str, DebPackage]) -> None:
    assert check_dependencies(list(packages.values()), BASE) == []


def test_a_dependency_neither_requested_nor_in_the_base(packages: dict[str, DebPackage]) -> None:
    problems = check_dependencies([packages["app"], packages["postfix"]], BASE)
    assert problems == [
        "app=1.0-1 depends on libfoo (>= 1.2), which is neither requested nor in the base; "
        "pin a version that satisfies it"
    ]


def test_a_base_package_too_old_is_named(packages: dict[str, DebPackage]) -> None:
    problems = check_dependencies(list(packages.values()), {**BASE, "libc6": "2.31-13+deb11u5"})
    assert problems == [
        "app=1.0-1 depends on libc6 (>= 2.34) | musl, which is neither requested nor in the base "
        "(found only libc6 2.31-13+deb11u5); pin a version that satisfies it",
    ]


def test_pre_depends_are_checked(packages: dict[str, DebPackage]) -> None:
    problems = check_dependencies(list(packages.values()), {"libc6": "2.36-9"})
    assert problems == [
        "app=1.0-1 depends on dpkg (>= 1.15), which is neither requested nor in the base; "
        "pin a version that satisfies it"
    ]


def test_an_unversioned_provides_meets_only_an_unversioned_dependency(
    packages: dict[str, DebPackage],
) -> None:
    postfix = packages["postfix"]
    wants = [replace_depends(packages["app"], "mail-transport-agent (>= 1), default-mta (>= 3)")]
    problems = check_dependencies([*wants, postfix], BASE)
    assert problems == [
        "app=1.0-1 depends on mail-transport-agent (>= 1), which is neither requested nor in the "
        "base; pin a version that satisfies it"
    ]


def replace_depends(package: DebPackage, depends: str) -> DebPackage:
    fields = next(s for s in parse_deb822(PACKAGES) if s["Package"] == package.name)
    return DebPackage.from_fields({**fields, "Depends": depends, "Pre-Depends": ""})


# --- input checks, offline --------------------------------------------------------------


def test_bad_inputs_are_reported_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no gpgv on it
    with pytest.raises(DebError) as info:
        fetch_debs([pin("hello=1.0-1")], mirror="ftp://example.org/debian", suite="bookworm",
                   components=["main"], arch="i386", dest=tmp_path / "debs",
                   keyring=tmp_path / "missing.gpg")  # fmt: skip
    assert info.value.problems == (
        "mirror 'ftp://example.org/debian' is not an http:// or https:// URL",
        "architecture 'i386' is not one of amd64, arm64",
        "gpgv is not on PATH; install it (apt-get install gpgv)",
        f"no keyring {tmp_path / 'missing.gpg'}; apt-get install debian-archive-keyring",
    )
    assert not (tmp_path / "debs").exists()


def test_an_unreachable_mirror_is_named(tmp_path: Path) -> None:
    with pytest.raises(DebError, match=r"^cannot download http://127\.0\.0\.1:9/dists/bookworm/"
                       r"InRelease: .*; check the network and mirror$"):  # fmt: skip
        fetch_debs([pin("hello=1.0-1")], mirror=UNREACHABLE, suite="bookworm", components=["main"],
                   arch="amd64", dest=tmp_path / "debs", cache_dir=tmp_path / "cache")  # fmt: skip
    assert list((tmp_path / "debs").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["debs"]  # no staging left


# --- a signed repository on localhost ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Repo:
    """A small signed Debian repository served over HTTP, and the requests it received."""

    url: str
    root: Path
    keyring: Path
    other_keyring: Path
    requested: list[str] = field(default_factory=list)

    def fetch(self, pins: list[str], tmp: Path, **kwargs: Any) -> tuple[FetchedDeb, ...]:
        options: dict[str, Any] = {
            "mirror": self.url, "suite": "bookworm", "components": ["main", "contrib"],
            "arch": "amd64", "dest": tmp / "debs", "cache_dir": tmp / "cache",
            "keyring": self.keyring, "installed": {"libc6": "2.36-9+deb12u10"},
        }  # fmt: skip
        return fetch_debs([pin(p) for p in pins], **{**options, **kwargs})


HELLO = b"!<arch>\nhello 1.0-1\n"
HELLO_11 = b"!<arch>\nhello 1.1-1\n"
LIBBAR = b"!<arch>\nlibbar 2.0-1\n"
EXTRA = b"!<arch>\nextra 3.0-1\n"
TAMPERED_IN_INDEX = b"!<arch>\nwhat the index vouches for\n"
TAMPERED_SERVED = b"!<arch>\nwhat the mirror serves\n"


def stanza(name: str, version: str, arch: str, content: bytes, extra: str = "") -> str:
    filename = f"pool/main/{name[0]}/{name}/{name}_{version}_{arch}.deb"
    return (
        f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n{extra}"
        f"Filename: {filename}\nSize: {len(content)}\nSHA256: {hashlib.sha256(content).hexdigest()}\n"
    )


def gpg(home: Path, *args: str) -> None:
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--quiet", "--pinentry-mode",
                    "loopback", "--passphrase", "", *args], check=True, capture_output=True)  # fmt: skip


def make_key(home: Path, uid: str) -> Path:
    """A fresh signing key in `home`, exported as a binary keyring gpgv reads."""
    home.mkdir(mode=0o700)
    gpg(home, "--quick-gen-key", uid, "ed25519", "sign", "never")
    keyring = home.parent / f"{home.name}.gpg"
    gpg(home, "--output", str(keyring), "--export")
    return keyring


def write_repo(root: Path, home: Path) -> None:
    """Pool files, a Packages.xz (main) and a Packages.gz (contrib), both only by hash, and
    an InRelease signed with the key in `home`; plus `evil`, a copy under another suite."""
    pool = [("hello", "1.0-1", "amd64", HELLO), ("hello", "1.1-1", "amd64", HELLO_11),
            ("libbar", "2.0-1", "all", LIBBAR), ("extra", "3.0-1", "amd64", EXTRA),
            ("tampered", "1.0-1", "amd64", TAMPERED_SERVED)]  # fmt: skip
    for name, version, arch, content in pool:
        path = root / f"pool/main/{name[0]}/{name}/{name}_{version}_{arch}.deb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    main = "\n".join([
        stanza("hello", "1.0-1", "amd64", HELLO, "Depends: libc6 (>= 2.34), libbar (>= 2.0)\n"),
        stanza("libbar", "2.0-1", "all", LIBBAR),
        stanza("hello", "1.1-1", "amd64", HELLO_11),
        stanza("hello", "1.0-1", "arm64", HELLO),  # another architecture: never chosen
        stanza("tampered", "1.0-1", "amd64", TAMPERED_IN_INDEX),
    ])  # fmt: skip
    contrib = stanza("extra", "3.0-1", "amd64", EXTRA, "Pre-Depends: hello (= 1.0-1)\n")
    indexes = {"main/binary-amd64/Packages.xz": lzma.compress(main.encode()),
               "contrib/binary-amd64/Packages.gz": gzip.compress(contrib.encode(), mtime=0)}  # fmt: skip
    dists = root / "dists" / "bookworm"
    lines = []
    for index, data in indexes.items():
        digest = hashlib.sha256(data).hexdigest()
        lines.append(f" {digest} {len(data)} {index}")
        by_hash = dists / Path(index).parent / "by-hash" / "SHA256" / digest
        by_hash.parent.mkdir(parents=True, exist_ok=True)
        by_hash.write_bytes(data)
    release = dists / "Release"
    release.write_text(
        "Origin: imagekit-test\nSuite: oldstable\nCodename: bookworm\nAcquire-By-Hash: yes\n"
        "Components: main contrib\nSHA256:\n" + "\n".join(lines) + "\n"
    )
    gpg(home, "--clearsign", "--output", str(dists / "InRelease"), str(release))
    (root / "dists" / "evil").mkdir()
    shutil.copy(dists / "InRelease", root / "dists" / "evil" / "InRelease")


@pytest.fixture(scope="module")
def repo() -> Iterator[Repo]:
    if not all(shutil.which(tool) for tool in ("gpg", "gpgconf", "gpgv")):
        pytest.skip(NO_GPG)
    # A short path: gpg-agent's socket lives in the home directory.
    with tempfile.TemporaryDirectory(prefix="ik-gpg-") as tmp:
        base = Path(tmp)
        homes = [base / "signer", base / "other"]
        try:
            keyring = make_key(homes[0], "imagekit test <signer@imagekit.invalid>")
            other = make_key(homes[1], "imagekit other <other@imagekit.invalid>")
            write_repo(base / "www", homes[0])
        finally:
            for home in homes:
                subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
        with serve(base / "www") as (url, requested):
            yield Repo(url=url, root=base / "www", keyring=keyring, other_keyring=other,
                       requested=requested)  # fmt: skip


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve `root` on localhost; yields the URL and the list of paths requested so far."""
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            requested.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def blob(cache: Path, content: bytes) -> Path:
    digest = hashlib.sha256(content).hexdigest()
    (path,) = (cache / "sha256" / digest).iterdir()
    return path


def test_pinned_packages_are_fetched_verified_and_sorted(repo: Repo, tmp_path: Path) -> None:
    debs = repo.fetch(["libbar=2.0-1", "hello=1.0-1", "extra=3.0-1"], tmp_path)
    dest = tmp_path / "debs"
    assert debs == (
        FetchedDeb(name="extra", version="3.0-1", architecture="amd64",
                   filename="extra_3.0-1_amd64.deb", path=dest / "extra_3.0-1_amd64.deb",
                   sha256=hashlib.sha256(EXTRA).hexdigest()),
        FetchedDeb(name="hello", version="1.0-1", architecture="amd64",
                   filename="hello_1.0-1_amd64.deb", path=dest / "hello_1.0-1_amd64.deb",
                   sha256=hashlib.sha256(HELLO).hexdigest()),
        FetchedDeb(name="libbar", version="2.0-1", architecture="all",
                   filename="libbar_2.0-1_all.deb", path=dest / "libbar_2.0-1_all.deb",
                   sha256=hashlib.sha256(LIBBAR).hexdigest()),
    )  # fmt: skip
    assert [d.path.read_bytes() for d in debs] == [EXTRA, HELLO, LIBBAR]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "debs"]  # no staging left


def test_indexes_are_fetched_by_hash(repo: Repo, tmp_path: Path) -> None:
    # The repository serves its indexes only under by-hash/, as Acquire-By-Hash promises.
    repo.requested.clear()
    repo.fetch(["hello=1.0-1", "libbar=2.0-1"], tmp_path)
    assert [p.rsplit("/", 2)[0] for p in repo.requested if "by-hash" in p] == [
        "/dists/bookworm/main/binary-amd64/by-hash",
        "/dists/bookworm/contrib/binary-amd64/by-hash",
    ]


def test_the_second_fetch_downloads_only_inrelease(repo: Repo, tmp_path: Path) -> None:
    repo.fetch(["hello=1.0-1", "libbar=2.0-1"], tmp_path, dest=tmp_path / "first")
    cached = blob(tmp_path / "cache", HELLO)
    before = cached.stat()
    repo.requested.clear()
    (hello, _) = repo.fetch(["hello=1.0-1", "libbar=2.0-1"], tmp_path, dest=tmp_path / "second")
    assert repo.requested == ["/dists/bookworm/InRelease"]
    after = cached.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert hello.path == tmp_path / "second" / "hello_1.0-1_amd64.deb"


def test_a_corrupted_cache_entry_is_fetched_again(repo: Repo, tmp_path: Path) -> None:
    repo.fetch(["libbar=2.0-1"], tmp_path, installed=None)
    cached = blob(tmp_path / "cache", LIBBAR)
    cached.unlink()  # break the hard link to the first destination before writing
    cached.write_bytes(b"!<arch>\nbit rot\n")
    (libbar,) = repo.fetch(["libbar=2.0-1"], tmp_path, dest=tmp_path / "again", installed=None)
    assert libbar.path.read_bytes() == cached.read_bytes() == LIBBAR


def test_every_problem_is_reported_and_nothing_lands(repo: Repo, tmp_path: Path) -> None:
    wrong, index = (hashlib.sha256(c).hexdigest() for c in (TAMPERED_SERVED, TAMPERED_IN_INDEX))
    url = f"{repo.url}pool/main/t/tampered/tampered_1.0-1_amd64.deb"
    with pytest.raises(DebError) as info:
        repo.fetch(["hello=0.9-1", "extra=3.0-1", "tampered=1.0-1", "nosuch=1.0"], tmp_path)
    assert info.value.problems == (
        f"hello=0.9-1: not in bookworm/amd64 (available: 1.0-1, 1.1-1); {hint('hello')}",
        f"nosuch=1.0: not in bookworm/amd64 (available: none; check the name and the "
        f"components); {hint('nosuch')}",
        "extra=3.0-1 depends on hello (= 1.0-1), which is neither requested nor in the base "
        "(found only hello 0.9-1); pin a version that satisfies it",
        f"tampered=1.0-1: {url} has sha256 {wrong} ({len(TAMPERED_SERVED)} bytes), not {index} "
        f"({len(TAMPERED_IN_INDEX)} bytes) as the signed index says; the mirror is broken or "
        "tampered with, try another",
    )
    assert list((tmp_path / "debs").iterdir()) == []
    assert not list((tmp_path / "cache" / "sha256" / index).iterdir())  # nothing bad cached
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "debs"]


def test_a_requested_version_that_does_not_fit_is_named_once(repo: Repo, tmp_path: Path) -> None:
    with pytest.raises(DebError) as info:
        repo.fetch(["extra=3.0-1", "hello=1.1-1", "libbar=2.0-1"], tmp_path)
    assert info.value.problems == (
        "extra=3.0-1 depends on hello (= 1.0-1), which is neither requested nor in the base "
        "(found only hello 1.1-1); pin a version that satisfies it",
    )


def test_unmet_dependencies_fail_without_a_base(repo: Repo, tmp_path: Path) -> None:
    with pytest.raises(DebError) as info:
        repo.fetch(["hello=1.0-1"], tmp_path, installed={})
    assert info.value.problems == (
        "hello=1.0-1 depends on libc6 (>= 2.34), which is neither requested nor in the base; "
        "pin a version that satisfies it",
        "hello=1.0-1 depends on libbar (>= 2.0), which is neither requested nor in the base; "
        "pin a version that satisfies it",
    )
    (hello,) = repo.fetch(["hello=1.0-1"], tmp_path, installed=None)  # None: not checked
    assert hello.name == "hello"


def test_an_inrelease_signed_by_an_unknown_key_is_refused(repo: Repo, tmp_path: Path) -> None:
    with pytest.raises(DebError, match=r"InRelease has no good signature from .*other\.gpg "
                       r"\(.*No public key.*\); check the mirror and suite"):  # fmt: skip
        repo.fetch(["hello=1.0-1"], tmp_path, keyring=repo.other_keyring)
    assert list((tmp_path / "debs").iterdir()) == []


def test_an_edited_inrelease_is_refused(repo: Repo, tmp_path: Path) -> None:
    signed = repo.root / "dists" / "bookworm" / "InRelease"
    original = signed.read_bytes()
    signed.write_bytes(original.replace(b"Origin: imagekit-test", b"Origin: imagekit-evil"))
    try:
        with pytest.raises(DebError, match=r"InRelease has no good signature .*BAD signature"):
            repo.fetch(["hello=1.0-1"], tmp_path)
    finally:
        signed.write_bytes(original)


def test_an_inrelease_for_another_suite_is_refused(repo: Repo, tmp_path: Path) -> None:
    message = f"{repo.url}dists/evil/InRelease is for suite 'oldstable', not 'evil'"
    with pytest.raises(DebError) as info:
        repo.fetch(["hello=1.0-1"], tmp_path, suite="evil")
    assert str(info.value) == message


def test_a_missing_component_names_the_ones_there_are(repo: Repo, tmp_path: Path) -> None:
    message = (
        f"{repo.url}dists/bookworm has no Packages index for non-free/amd64 (has: main contrib)"
    )
    with pytest.raises(DebError) as info:
        repo.fetch(["hello=1.0-1"], tmp_path, components=["main", "non-free"])
    assert str(info.value) == message


# --- the real Debian mirror -------------------------------------------------------------


def dpkg_installed() -> dict[str, str]:
    """This host's installed packages (name -> version), from dpkg's status file."""
    if not DPKG_STATUS.is_file():
        pytest.skip(f"needs a Debian host's {DPKG_STATUS} for the base's packages")
    stanzas = parse_deb822(DPKG_STATUS.read_text(encoding="utf-8"))
    return {
        s["Package"]: s["Version"] for s in stanzas if s.get("Status") == "install ok installed"
    }


@pytest.fixture(scope="module")
def debian_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the network tests, so bookworm's 9 MB index is downloaded once."""
    return tmp_path_factory.mktemp("debian-cache")


def fetch_from_debian(
    pins: list[str], dest: Path, cache: Path, **kwargs: Any
) -> tuple[FetchedDeb, ...]:
    return fetch_debs([pin(p) for p in pins], mirror=DEBIAN, suite="bookworm", components=["main"],
                      arch="amd64", dest=dest, cache_dir=cache, **kwargs)  # fmt: skip


@pytest.mark.network
def test_a_real_package_is_fetched_verified_and_cached(tmp_path: Path, debian_cache: Path) -> None:
    pins = [f"libgomp1={GCC_VERSION}", f"gcc-12-base={GCC_VERSION}"]
    start = time.monotonic()
    gcc_base, libgomp1 = fetch_from_debian(pins, tmp_path / "first", debian_cache,
                                           installed=dpkg_installed())  # fmt: skip
    first = time.monotonic() - start
    assert libgomp1.filename == f"libgomp1_{GCC_VERSION}_amd64.deb"
    assert gcc_base.filename == f"gcc-12-base_{GCC_VERSION}_amd64.deb"
    for deb in (gcc_base, libgomp1):
        assert hashlib.sha256(deb.path.read_bytes()).hexdigest() == deb.sha256
        assert deb.path.read_bytes().startswith(b"!<arch>\ndebian-binary")  # a real .deb
    cached = [blob(debian_cache, deb.path.read_bytes()).stat() for deb in (gcc_base, libgomp1)]
    start = time.monotonic()
    again = fetch_from_debian(pins, tmp_path / "second", debian_cache, installed=dpkg_installed())
    second = time.monotonic() - start
    assert [d.sha256 for d in again] == [gcc_base.sha256, libgomp1.sha256]
    for deb, before in zip(again, cached, strict=True):
        after = blob(debian_cache, deb.path.read_bytes()).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    print(f"first fetch {first:.1f} s, from the cache {second:.1f} s")


@pytest.mark.network
def test_a_version_debian_no_longer_has_lists_what_it_has(
    tmp_path: Path, debian_cache: Path
) -> None:
    with pytest.raises(DebError) as info:
        fetch_from_debian([f"libgomp1={GCC_VERSION}", "zlib1g=1:1.2.11.dfsg-2"], tmp_path / "debs",
                          debian_cache, installed={})  # fmt: skip
    assert info.value.problems == (
        f"zlib1g=1:1.2.11.dfsg-2: not in bookworm/amd64 (available: 1:1.2.13.dfsg-1); "
        f"{hint('zlib1g')}",
        f"libgomp1={GCC_VERSION} depends on gcc-12-base (= {GCC_VERSION}), which is neither "
        "requested nor in the base; pin a version that satisfies it",
        f"libgomp1={GCC_VERSION} depends on libc6 (>= 2.34), which is neither requested nor in "
        "the base; pin a version that satisfies it",
    )
    assert list((tmp_path / "debs").iterdir()) == []
