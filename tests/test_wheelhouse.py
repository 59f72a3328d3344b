"""The hermetic wheelhouse: tags, the content-addressed cache, and real downloads from PyPI."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from packaging.tags import Tag
from packaging.utils import canonicalize_name
from packaging.version import Version

from imagekit.build.wheelhouse import (
    FetchedWheel,
    WheelhouseError,
    fetch_wheels,
)
from imagekit.cachedir import wheel_cache
from imagekit.image.digest import sha256_file
from imagekit.project.lockfile import PinnedPackage
from imagekit.project.target import Target, TargetError

CP311 = Version("3.11")
AMD64 = Target(python=CP311, platform="linux/amd64", glibc=(2, 36))
ARM64 = Target(python=CP311, platform="linux/arm64", glibc=(2, 36))
SIX = "six-1.16.0-py2.py3-none-any.whl"
SIX_SHA256 = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"
NUMPY_ARM64 = "numpy-2.1.3-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
NUMPY_ARM64_SHA256 = "762479be47a4863e261a840e8e01608d124ee1361e48b96916f38b119cfda04a"
WRONG = "0" * 64
TAGS_SEARCHED = (
    "searched 889 tags: cp311-cp311-manylinux_2_36_x86_64, cp311-cp311-manylinux_2_35_x86_64, "
    "cp311-cp311-manylinux_2_34_x86_64, ..."
)


def request(
    name: str, version: str, *hashes: str, filenames: tuple[str, ...] = ()
) -> PinnedPackage:
    return PinnedPackage(
        name=canonicalize_name(name), version=Version(version), sha256=hashes, filenames=filenames
    )


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Any pip run now fails: no index, an unreachable index URL, and empty find-links."""
    empty = tmp_path / "no-links"
    empty.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))


def make_wheel(directory: Path, filename: str) -> tuple[Path, str]:
    """A small, valid pure-Python wheel file of our own (for cache tests without a network)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    name, version = filename.split("-")[:2]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.py", "VALUE = 1\n")
        zf.writestr(f"{name}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def seed_cache(cache: Path, filename: str) -> str:
    """Put a wheel where the cache keeps it; returns its sha256."""
    path, digest = make_wheel(cache / "build", filename)
    entry = cache / "sha256" / digest
    entry.mkdir(parents=True)
    path.rename(entry / filename)
    return digest


# --- Target tags -------------------------------------------------------------------------


def test_amd64_tags_prefer_the_newest_glibc_and_end_with_pure_python() -> None:
    tags = AMD64.tags()
    assert tags[0] == Tag("cp311", "cp311", "manylinux_2_36_x86_64")
    assert tags[-1] == Tag("py30", "none", "any")
    for expected in (
        Tag("cp311", "cp311", "manylinux2014_x86_64"),
        Tag("cp311", "cp311", "manylinux1_x86_64"),
        Tag("cp311", "abi3", "manylinux_2_17_x86_64"),
        Tag("cp38", "abi3", "manylinux2010_x86_64"),
        Tag("py3", "none", "any"),
    ):
        assert expected in tags


def test_tags_leave_out_linux_newer_glibc_musl_and_other_pythons() -> None:
    tags = set(AMD64.tags())
    for unwanted in (
        Tag("cp311", "cp311", "linux_x86_64"),
        Tag("cp311", "cp311", "manylinux_2_37_x86_64"),
        Tag("cp311", "cp311", "musllinux_1_2_x86_64"),
        Tag("cp312", "cp312", "manylinux_2_17_x86_64"),
        Tag("cp311", "cp311", "manylinux_2_17_aarch64"),
    ):
        assert unwanted not in tags


def test_arm64_platform_tags_stop_at_manylinux2014() -> None:
    platforms = ARM64.platform_tags()
    assert platforms[0] == "manylinux_2_36_aarch64"
    assert platforms[-2:] == ("manylinux_2_17_aarch64", "manylinux2014_aarch64")
    assert "manylinux1_aarch64" not in platforms


def test_rank_orders_fitting_wheels_and_rejects_others() -> None:
    native = AMD64.rank("numpy-2.1.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    pure = AMD64.rank(SIX)
    assert native is not None and pure is not None and native < pure
    assert AMD64.rank(NUMPY_ARM64) is None
    assert ARM64.rank(NUMPY_ARM64) is not None
    assert AMD64.rank("numpy-2.1.3-cp311-cp311-linux_x86_64.whl") is None
    assert AMD64.rank("numpy-2.1.3.tar.gz") is None


def test_an_older_glibc_rejects_newer_manylinux_wheels() -> None:
    old = Target(python=CP311, platform="linux/amd64", glibc=(2, 28))
    assert old.rank("torch-2.5.1-cp311-cp311-manylinux_2_28_x86_64.whl") is not None
    assert old.rank("x-1.0-cp311-cp311-manylinux_2_31_x86_64.whl") is None


def test_an_unknown_platform_is_refused() -> None:
    with pytest.raises(
        TargetError, match=r"^unknown platform 'linux/s390x' \(use one of: linux/amd64, "
    ):
        Target(python=CP311, platform="linux/s390x", glibc=(2, 36))


def test_default_cache_is_under_the_user_cache_dir() -> None:
    assert wheel_cache().parts[-2:] == ("imagekit", "wheels")


# --- the cache, without a network -------------------------------------------------------


@pytest.mark.usefixtures("offline")
def test_a_cached_wheel_is_used_without_pip(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest = seed_cache(cache, "tiny-1.0-py3-none-any.whl")
    wheels = fetch_wheels([request("tiny", "1.0", digest, WRONG)], AMD64, tmp_path / "wh", cache)
    assert wheels == (
        FetchedWheel(
            name=canonicalize_name("tiny"),
            version=Version("1.0"),
            path=tmp_path / "wh" / "tiny-1.0-py3-none-any.whl",
            sha256=digest,
            filename="tiny-1.0-py3-none-any.whl",
        ),
    )
    assert hashlib.sha256(wheels[0].path.read_bytes()).hexdigest() == digest


@pytest.mark.usefixtures("offline")
def test_a_corrupted_cache_entry_is_dropped_and_fetched_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest = seed_cache(cache, "tiny-1.0-py3-none-any.whl")
    (cache / "sha256" / digest / "tiny-1.0-py3-none-any.whl").write_bytes(b"tampered")
    with pytest.raises(WheelhouseError, match=r"^tiny==1\.0: no wheel for cp311 linux/amd64"):
        fetch_wheels([request("tiny", "1.0", digest)], AMD64, tmp_path / "wh", cache)
    assert not (cache / "sha256" / digest).exists()


@pytest.mark.usefixtures("offline")
def test_a_verified_wheel_is_not_hashed_again_until_its_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    digest = seed_cache(cache, "tiny-1.0-py3-none-any.whl")
    wheel = cache / "sha256" / digest / "tiny-1.0-py3-none-any.whl"
    hashed: list[Path] = []
    real = sha256_file

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr("imagekit.build.wheelhouse.sha256_file", counting)
    for n in range(3):
        fetch_wheels([request("tiny", "1.0", digest)], AMD64, tmp_path / f"wh{n}", cache)
    assert hashed == [wheel]  # once; the two builds after it read the stamp
    # Rewritten in place with other bytes of the same size: its mtime moves, so it is hashed,
    # found wrong, dropped and (offline) missing.
    size = wheel.stat().st_size
    wheel.unlink()
    wheel.write_bytes(b"x" * size)
    with pytest.raises(WheelhouseError, match=r"^tiny==1\.0: no wheel for cp311 linux/amd64"):
        fetch_wheels([request("tiny", "1.0", digest)], AMD64, tmp_path / "wh-bad", cache)
    assert hashed == [wheel, wheel]
    assert not (cache / "sha256" / digest).exists()


@pytest.mark.usefixtures("offline")
def test_a_cached_wheel_for_another_platform_is_not_used(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest = seed_cache(cache, "tiny-1.0-cp311-cp311-manylinux_2_17_aarch64.whl")
    with pytest.raises(WheelhouseError, match=r"^tiny==1\.0: no wheel for cp311 linux/amd64"):
        fetch_wheels([request("tiny", "1.0", digest)], AMD64, tmp_path / "wh", cache)


@pytest.mark.usefixtures("offline")
def test_a_lock_naming_only_an_sdist_fails_before_any_download(tmp_path: Path) -> None:
    docopt = request("docopt", "0.6.2", WRONG, filenames=("docopt-0.6.2.tar.gz",))
    message = (
        f"docopt==0.6.2: no wheel for cp311 linux/amd64 glibc 2.36 ({TAGS_SEARCHED}); "
        "build a wheel for it, or pin a version that publishes one"
    )
    with pytest.raises(WheelhouseError) as info:
        fetch_wheels([docopt], AMD64, tmp_path / "wh", tmp_path / "cache")
    assert str(info.value) == message


# --- real downloads -----------------------------------------------------------------------


@pytest.mark.network
def test_a_pure_wheel_is_downloaded_verified_and_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (wheel,) = fetch_wheels([request("six", "1.16.0", SIX_SHA256)], AMD64, tmp_path / "wh", cache)
    assert (wheel.filename, wheel.sha256, wheel.path) == (SIX, SIX_SHA256, tmp_path / "wh" / SIX)
    assert hashlib.sha256(wheel.path.read_bytes()).hexdigest() == SIX_SHA256
    assert (cache / "sha256" / SIX_SHA256 / SIX).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "wh"]  # no staging left


@pytest.mark.network
def test_the_second_fetch_is_served_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    six = request("six", "1.16.0", SIX_SHA256)
    fetch_wheels([six], AMD64, tmp_path / "first", cache)
    empty = tmp_path / "no-links"
    empty.mkdir()
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    (wheel,) = fetch_wheels([six], AMD64, tmp_path / "second", cache)
    assert wheel.path == tmp_path / "second" / SIX
    assert wheel.sha256 == SIX_SHA256


@pytest.mark.network
def test_a_hash_mismatch_names_the_package_and_both_hashes(tmp_path: Path) -> None:
    message = (
        f"six==1.16.0: sha256 of {SIX} is {SIX_SHA256}, not one the lock lists ({WRONG}); "
        "re-lock if the package was republished, otherwise the file was tampered with"
    )
    with pytest.raises(WheelhouseError) as info:
        fetch_wheels([request("six", "1.16.0", WRONG)], AMD64, tmp_path / "wh", tmp_path / "c")
    assert str(info.value) == message
    assert list((tmp_path / "wh").iterdir()) == []


@pytest.mark.network
def test_a_package_with_only_an_sdist_has_no_wheel(tmp_path: Path) -> None:
    # docopt 0.6.2 was published as an sdist only.
    message = (
        f"docopt==0.6.2: no wheel for cp311 linux/amd64 glibc 2.36 ({TAGS_SEARCHED}); "
        "build a wheel for it, or pin a version that publishes one"
    )
    with pytest.raises(WheelhouseError) as info:
        fetch_wheels([request("docopt", "0.6.2", WRONG)], AMD64, tmp_path / "wh", tmp_path / "c")
    assert str(info.value) == message


@pytest.mark.network
def test_one_failure_leaves_the_wheelhouse_untouched(tmp_path: Path) -> None:
    six, docopt = request("six", "1.16.0", SIX_SHA256), request("docopt", "0.6.2", WRONG)
    with pytest.raises(WheelhouseError, match=r"^docopt==0\.6\.2: no wheel for") as info:
        fetch_wheels([six, docopt], AMD64, tmp_path / "wh", tmp_path / "cache")
    assert "six" not in str(info.value)
    assert list((tmp_path / "wh").iterdir()) == []


@pytest.mark.network
def test_a_manylinux2014_wheel_lands_for_an_arm64_glibc_236_target(tmp_path: Path) -> None:
    numpy = request("numpy", "2.1.3", NUMPY_ARM64_SHA256)
    (wheel,) = fetch_wheels([numpy], ARM64, tmp_path / "wh", tmp_path / "cache")
    assert wheel.filename == NUMPY_ARM64
    assert wheel.path.is_file()


@pytest.mark.usefixtures("offline")
def test_results_are_sorted_by_name_whatever_the_request_order(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    names = ["zeta", "alpha", "mid"]
    digests = {n: seed_cache(cache, f"{n}-1.0-py3-none-any.whl") for n in names}
    requests = [request(n, "1.0", digests[n]) for n in names]
    wheels = fetch_wheels(requests, AMD64, tmp_path / "wh", cache)
    assert [w.name for w in wheels] == ["alpha", "mid", "zeta"]
