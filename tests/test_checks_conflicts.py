"""Requirement conflicts are part of `imagekit check`: each locked wheel's Requires-Dist against
the lock and the base, from the index's PEP 658 metadata file or the caches, never a wheel
downloaded only for its metadata."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from _projects import DATA
from typer.testing import CliRunner

from imagekit.checks.run import run_checks
from imagekit.cli import app
from imagekit.conflicts.index import (
    METADATA_DIR,
    PYPI,
    IndexConfig,
    MetadataSource,
    config_from_pip_list,
)

LOCKS = DATA / "locks"
TARGET = "cp311 linux/amd64 glibc 2.36"
runner = CliRunner()


def write_project(
    folder: Path, lock: str, *, extra: str = "", base: str = "debian-bookworm-py311"
) -> Path:
    """A model folder on `base` for linux/amd64 with this requirements lock."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "imagekit.toml").write_text(
        f'name = "{folder.name}"\nversion = "0.1.0"\nbase = "{base}"\n'
        'lockfile = "requirements.lock"\nplatform = "linux/amd64"\n'
        f'entrypoint = ["python", "-c", "pass"]\n{extra}',
        encoding="utf-8",
    )
    (folder / "requirements.lock").write_text(lock, encoding="utf-8")
    return folder


def metadata_text(name: str, version: str, *lines: str) -> bytes:
    body = "".join(f"{line}\n" for line in lines)
    return f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n{body}".encode()


def cache_metadata(cache: Path, name: str, version: str, *lines: str) -> str:
    """Put METADATA for `<name>-<version>-py3-none-any.whl` into the metadata cache, under a
    made-up wheel sha256; returns that sha256."""
    digest = hashlib.sha256(f"{name}-{version}".encode()).hexdigest()
    entry = cache / METADATA_DIR / "sha256" / digest
    entry.mkdir(parents=True)
    wheel = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    (entry / f"{wheel}.metadata").write_bytes(metadata_text(name, version, *lines))
    return digest


def findings_of(project: Path, source: MetadataSource) -> list[str]:
    return [str(f) for f in run_checks(project, metadata=source).findings]


def test_a_conflict_in_the_cached_metadata_fails_check_offline(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    app_hash = cache_metadata(cache, "app", "1.0", "Requires-Dist: lib[fast]>=1.0")
    lib_hash = cache_metadata(
        cache,
        "lib",
        "1.5",
        'Requires-Dist: accel>=3.0; extra == "fast"',
        'Requires-Dist: win-only>=1; sys_platform == "win32"',
        "Requires-Dist: absent>=1",
    )
    accel_hash = cache_metadata(cache, "accel", "2.0")
    project = write_project(
        tmp_path / "graph",
        f"app==1.0 --hash=sha256:{app_hash}\nlib==1.5 --hash=sha256:{lib_hash}\n"
        f"accel==2.0 --hash=sha256:{accel_hash}\n",
    )
    lock = project / "requirements.lock"
    assert findings_of(project, MetadataSource(cache_dir=cache, offline=True)) == [
        f"{lock}:2: app 1.0 → lib 1.5 [fast] requires accel>=3.0; locked accel 2.0 "
        "(requirements.lock:3) [requirement-conflict] (fix: re-lock so that accel satisfies "
        ">=3.0, or lock a lib release that accepts accel 2.0)",
        f"{lock}:2: app 1.0 → lib 1.5 requires absent>=1; the lock provides no absent for "
        f"{TARGET} [requirement-missing] (fix: re-lock so that the lock includes absent)",
    ]


def test_offline_without_metadata_is_a_warning_not_a_pass(tmp_path: Path) -> None:
    digest = "ab" * 32
    project = write_project(tmp_path / "p", f"numpy==2.4.6 --hash=sha256:{digest}\n")
    result = run_checks(project, metadata=MetadataSource(cache_dir=tmp_path, offline=True))
    assert result.ok
    assert [str(f) for f in result.findings] == [
        f"{project / 'requirements.lock'}: the requirements of 1 locked package(s) were not "
        "checked: numpy (offline, and its metadata is not in the cache) "
        "[requirements-not-checked] (fix: run `imagekit check` once with the package index "
        "reachable (the metadata is then cached), or fix what keeps the package from being read)"
    ]


def test_pip_configuration_is_read_as_pip_download_applies_it() -> None:
    listed = (
        "global.index-url='https://mirror.example/simple'\n"
        "global.extra-index-url='file:///opt/pypi/simple file:///opt/more/simple'\n"
        "download.index-url='https://download.example/simple'\n"
        ":env:.index-url='https://env.example/simple'\n"
        "global.cert='/etc/ssl/certs/ca-certificates.crt'\n"
        ":env:.default-timeout='180'\n"
    )
    assert config_from_pip_list(listed) == IndexConfig(
        urls=(
            "https://env.example/simple",
            "file:///opt/pypi/simple",
            "file:///opt/more/simple",
        ),
        cert="/etc/ssl/certs/ca-certificates.crt",
        timeout=15.0,
    )
    assert config_from_pip_list("").urls == (PYPI,)
    assert config_from_pip_list(":env:.no-index='1'\n").urls == ()


class _Index(http.server.SimpleHTTPRequestHandler):
    """A file server that records the paths it was asked for."""

    asked: list[str]

    def do_GET(self) -> None:
        self.asked.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:
    """A PEP 503 index served over HTTP from `<tmp>/root/simple`: (root, URL, paths asked)."""
    root = tmp_path / "root"
    (root / "simple").mkdir(parents=True)
    asked: list[str] = []
    handler = type("Handler", (_Index,), {"asked": asked})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/simple", asked
    server.shutdown()
    server.server_close()


def publish(root: Path, name: str, version: str, requires: tuple[str, ...], meta_hash: str) -> str:
    """A real wheel and its PEP 658 metadata file on the index; `meta_hash` is what the page
    advertises ("" for the true one). Returns the wheel's sha256."""
    folder = root / "simple" / name
    folder.mkdir(parents=True)
    metadata = metadata_text(name, version, *(f"Requires-Dist: {r}" for r in requires))
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(folder / filename, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
    digest = hashlib.sha256((folder / filename).read_bytes()).hexdigest()
    (folder / f"{filename}.metadata").write_bytes(metadata)
    advertised = meta_hash or hashlib.sha256(metadata).hexdigest()
    (folder / "index.html").write_text(
        f'<a href="{filename}#sha256={digest}" data-core-metadata="sha256={advertised}">'
        f"{filename}</a>\n",
        encoding="utf-8",
    )
    return digest


def test_the_metadata_file_is_read_and_no_wheel_is_downloaded(
    tmp_path: Path, index: tuple[Path, str, list[str]]
) -> None:
    root, url, asked = index
    lib = publish(root, "lib", "1.0", ("dep>=2",), "")
    dep = publish(root, "dep", "1.0", (), "")
    project = write_project(
        tmp_path / "p", f"lib==1.0 --hash=sha256:{lib}\ndep==1.0 --hash=sha256:{dep}\n"
    )
    source = MetadataSource(cache_dir=tmp_path / "cache", index=IndexConfig(urls=(url,)))
    lock = project / "requirements.lock"
    expected = [
        f"{lock}:1: lib 1.0 requires dep>=2; locked dep 1.0 (requirements.lock:2) "
        "[requirement-conflict] (fix: re-lock so that dep satisfies >=2, or lock a lib release "
        "that accepts dep 1.0)"
    ]
    assert findings_of(project, source) == expected
    assert not [p for p in asked if p.endswith(".whl")]
    assert sorted(p for p in asked if p.endswith(".metadata")) == [
        "/simple/dep/dep-1.0-py3-none-any.whl.metadata",
        "/simple/lib/lib-1.0-py3-none-any.whl.metadata",
    ]
    asked.clear()  # warm: nothing is asked of the index again
    assert findings_of(project, MetadataSource(cache_dir=tmp_path / "cache", index=source.index))
    assert asked == []


def test_a_metadata_file_that_fails_its_advertised_hash_is_an_error(
    tmp_path: Path, index: tuple[Path, str, list[str]]
) -> None:
    root, url, _ = index
    wheel = publish(root, "lib", "1.0", (), "0" * 64)
    project = write_project(tmp_path / "p", f"lib==1.0 --hash=sha256:{wheel}\n")
    source = MetadataSource(cache_dir=tmp_path / "cache", index=IndexConfig(urls=(url,)))
    (finding,) = run_checks(project, metadata=source).findings
    actual = hashlib.sha256(metadata_text("lib", "1.0")).hexdigest()
    assert str(finding) == (
        f"{project / 'requirements.lock'}:1: lib 1.0: the index's metadata file for "
        f"lib-1.0-py3-none-any.whl has sha256 {actual}, not {'0' * 64} as the index says "
        "[metadata] (fix: check the index or proxy pip is configured with (pip config list))"
    )
    assert not (tmp_path / "cache" / METADATA_DIR).exists()  # nothing wrong is cached


def test_a_denied_licence_fails_check_before_any_build(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest = cache_metadata(
        cache, "copyleft", "1.0", "License-Expression: GPL-3.0-only", "Classifier: X :: Y"
    )
    project = write_project(
        tmp_path / "p",
        f"copyleft==1.0 --hash=sha256:{digest}\n",
        extra='license_policy = "policy.toml"\n',
    )
    (project / "policy.toml").write_text('deny = ["GPL-3.0-only"]\n', encoding="utf-8")
    (finding,) = run_checks(
        project, metadata=MetadataSource(cache_dir=cache, offline=True)
    ).findings
    assert str(finding) == (
        f"{project / 'policy.toml'}: deny[0]: copyleft 1.0 (pypi) is licensed GPL-3.0-only, and "
        "the policy denies GPL-3.0-only [license-denied] (fix: remove or replace copyleft, or "
        "add an [[exceptions]] entry for it with license = 'GPL-3.0-only' and a reason)"
    )


@pytest.mark.network
def test_pandas_with_numpy_1_fails_check_naming_the_chain(tmp_path: Path) -> None:
    lock = LOCKS / "pandas-old-numpy.requirements.txt"
    project = write_project(tmp_path / "pandas", lock.read_text(encoding="utf-8"))
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 1, result.output
    assert (
        f"requirements.lock:{_line(lock, 'pandas==')}: error: pandas 3.1.1 requires "
        f"numpy>=2.0.2; locked numpy 1.26.4 (requirements.lock:{_line(lock, 'numpy==')}) "
        "[requirement-conflict]"
    ) in result.output


@pytest.mark.network
@pytest.mark.slow
def test_torch_without_setuptools_fails_check_and_fetches_no_torch_wheel(tmp_path: Path) -> None:
    """torch 2.13.0's METADATA says `Requires-Dist: setuptools>=77.0.3` with no marker, so a
    Python 3.11 target needs it too. The index serves torch's metadata file: its 500 MB wheel is
    not downloaded."""
    lock = LOCKS / "torch" / "uv-pip-compile-no-setuptools.requirements.txt"
    project = write_project(tmp_path / "torch", lock.read_text(encoding="utf-8"))
    cache = tmp_path / "cache"
    result = run_checks(project, cache_dir=cache)
    assert [str(f) for f in result.findings if f.rule.startswith("requirement")] == [
        f"{project / 'requirements.lock'}:{_line(lock, 'torch==2.13.0')}: torch 2.13.0 requires "
        f"setuptools>=77.0.3; the lock provides no setuptools for {TARGET} "
        "[requirement-missing] (fix: re-lock so that the lock includes setuptools)"
    ]
    wheels = (
        [p.name for p in (cache / "sha256").glob("*/*.whl")] if (cache / "sha256").exists() else []
    )
    assert not [w for w in wheels if w.startswith("torch-")], wheels
    assert list((cache / METADATA_DIR / "sha256").glob("*/torch-2.13.0-*.whl.metadata"))
    shutil.rmtree(cache)


def _line(lock: Path, text: str) -> int:
    lines = lock.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(text))


def test_an_unreachable_index_is_a_warning_naming_it(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p",
        f"numpy==2.4.6 --hash=sha256:{'ab' * 32}\nscipy==1.0 --hash=sha256:{'cd' * 32}\n",
    )
    index = IndexConfig(urls=("http://user:secret@127.0.0.1:9/simple",), timeout=5)
    result = run_checks(project, metadata=MetadataSource(cache_dir=tmp_path, index=index))
    assert result.ok
    (warning,) = result.findings
    reason = (
        "the index could not be read (http://127.0.0.1:9/simple: [Errno 111] Connection refused)"
    )
    assert warning.rule == "requirements-not-checked"
    assert warning.message == (
        f"the requirements of 2 locked package(s) were not checked: numpy ({reason}), "
        f"scipy ({reason})"
    )


def test_base_packages_whose_licence_cannot_be_read_are_named(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    digest = cache_metadata(cache, "tiny", "1.0", "License-Expression: MIT")
    project = write_project(
        tmp_path / "p",
        f"tiny==1.0 --hash=sha256:{digest}\n",
        extra='license_policy = "policy.toml"\n',
        base="debian-bookworm-py311-cuda12.4",
    )
    (project / "policy.toml").write_text('allow = ["MIT"]\n', encoding="utf-8")
    result = run_checks(project, metadata=MetadataSource(cache_dir=cache, offline=True))
    assert result.ok
    (warning,) = result.findings
    assert warning.rule == "licence-not-judged"
    assert warning.message == (
        "the licences of nvidia-cublas-cu12, nvidia-cuda-nvrtc-cu12, nvidia-cuda-runtime-cu12, "
        "nvidia-cudnn-cu12 (carried by base debian-bookworm-py311-cuda12.4) are judged only on "
        "the built image: their metadata could not be read"
    )
