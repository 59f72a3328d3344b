"""uv.lock: the real universal lock, its graph, and each kind of source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.specifiers import SpecifierSet

from imagekit.project.lockfile import (
    Lock,
    LockedPackage,
    LockError,
    LockFormat,
    SourceKind,
    packages_for,
    read_lock,
)

LOCKS = Path(__file__).parent.parent / "data" / "locks"
UV_LOCK = LOCKS / "project" / "uv.lock"
H1 = "a" * 64
HEAD = 'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n'
ROOT = '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'


def _by_name(lock: Lock) -> dict[str, list[LockedPackage]]:
    return {str(name): entries for name, entries in lock.by_name().items()}


def _read(tmp_path: Path, text: str) -> Lock:
    path = tmp_path / "uv.lock"
    path.write_text(text, encoding="utf-8")
    return read_lock(path)


def _raises(where: str, message: str) -> pytest.RaisesExc[LockError]:
    return pytest.raises(LockError, match="^" + re.escape(f"{where}: {message}"))


def _environment(python: str, platform: str = "linux") -> dict[str, str]:
    env = {key: str(value) for key, value in default_environment().items()}
    env.update(python_full_version=python, python_version=python.rsplit(".", 1)[0])
    env.update(sys_platform=platform)
    return env


def test_real_lock_packages_without_the_project() -> None:
    lock = read_lock(UV_LOCK)
    assert lock.format is LockFormat.UV
    assert lock.requires_python == SpecifierSet(">=3.11")
    assert lock.index_urls == ("https://pypi.org/simple",)
    assert [(p.name, str(p.version)) for p in lock.packages] == [
        ("cloudpickle", "3.1.3"),
        ("colorama", "0.4.6"),
        ("joblib", "1.6.0"),
        ("numpy", "2.4.6"),
        ("numpy", "2.5.5"),
        ("scikit-learn", "1.5.2"),
        ("scipy", "1.17.1"),
        ("scipy", "1.18.1"),
        ("threadpoolctl", "3.8.0"),
        ("tomli", "2.5.0"),
    ]
    for pkg in lock.packages:
        assert pkg.source is SourceKind.INDEX
        assert pkg.index == "https://pypi.org/simple"
        assert pkg.hashes == {f.sha256 for f in pkg.files}
        assert pkg.files[0].filename == f"{pkg.raw_name.replace('-', '_')}-{pkg.version}.tar.gz"


def test_real_lock_root_dependencies_keep_their_markers() -> None:
    roots = read_lock(UV_LOCK).root_dependencies
    assert roots is not None
    assert [(d.name, str(d.specifier), str(d.marker)) for d in roots] == [
        ("colorama", "", 'sys_platform == "win32"'),
        ("numpy", "==2.4.6", 'python_full_version < "3.12"'),
        ("numpy", "==2.5.5", 'python_full_version >= "3.12"'),
        ("scikit-learn", "", "None"),
        ("tomli", "", 'python_full_version < "3.12"'),
    ]


def test_real_lock_forks_graph_and_lines() -> None:
    by_name = _by_name(read_lock(UV_LOCK))
    assert [str(p.marker) for p in by_name["scipy"]] == [
        'python_full_version < "3.12"',
        'python_full_version >= "3.12"',
    ]
    assert by_name["tomli"][0].marker is None
    sklearn = by_name["scikit-learn"][0]
    assert sklearn.dependencies is not None
    assert [d.name for d in sklearn.dependencies] == [
        "joblib", "numpy", "numpy", "scipy", "scipy", "threadpoolctl"
    ]  # fmt: skip
    assert by_name["threadpoolctl"][0].dependencies == ()
    assert str(sklearn.location) == f"{UV_LOCK}:218: package[6]"
    lines = UV_LOCK.read_text(encoding="utf-8").splitlines()
    for entries in by_name.values():
        for pkg in entries:
            assert pkg.location.line is not None
            assert lines[pkg.location.line - 1] == f'name = "{pkg.raw_name}"'


@pytest.mark.parametrize(
    ("python", "platform"), [("3.11.7", "linux"), ("3.12.1", "linux"), ("3.11.7", "win32")]
)
def test_graph_walk_matches_uv_export(python: str, platform: str) -> None:
    env = _environment(python, platform)
    exported = read_lock(LOCKS / "pylock.uv-export.toml")
    expected = [(p.name, p.version) for p in packages_for(exported, env)]
    assert [(p.name, p.version) for p in packages_for(read_lock(UV_LOCK), env)] == expected
    assert ("colorama" in [n for n, _ in expected]) == (platform == "win32")


def test_version_2_is_refused(tmp_path: Path) -> None:
    message = "uv.lock version 2 is not supported: imagekit reads version 1"
    with _raises(f"{tmp_path / 'uv.lock'}:1: version", message):
        _read(tmp_path, "version = 2\n")


def test_sources(tmp_path: Path) -> None:
    text = (
        HEAD
        + ROOT
        + (
            '[[package]]\nname = "g"\nversion = "1.0"\n'
            'source = { git = "https://g.example/g?subdirectory=py&rev=v1#0123abcd" }\n'
            '[[package]]\nname = "u"\nversion = "2.0"\n'
            'source = { url = "https://x.example/u-2.0.tar.gz" }\n'
            f'sdist = {{ hash = "sha256:{H1}" }}\n'
            '[[package]]\nname = "p"\nversion = "3.0"\n'
            'source = { path = "wheels/p-3.0-py3-none-any.whl" }\n'
            f'wheels = [{{ filename = "p-3.0-py3-none-any.whl", hash = "sha256:{H1}" }}]\n'
            '[[package]]\nname = "d"\nversion = "4.0"\nsource = { directory = "libs/d" }\n'
            '[[package]]\nname = "e"\nsource = { editable = "libs/e" }\n'
        )
    )
    packages = {str(p.name): p for p in _read(tmp_path, text).packages}
    assert {n: (p.source, p.url, p.editable) for n, p in packages.items()} == {
        "g": (SourceKind.VCS, "git+https://g.example/g@0123abcd#subdirectory=py", False),
        "u": (SourceKind.URL, "https://x.example/u-2.0.tar.gz", False),
        "p": (SourceKind.PATH, "wheels/p-3.0-py3-none-any.whl", False),
        "d": (SourceKind.DIRECTORY, "libs/d", False),
        "e": (SourceKind.DIRECTORY, "libs/e", True),
    }
    assert packages["u"].files[0].filename == "u-2.0.tar.gz"
    assert packages["u"].hashes == {H1}
    assert packages["e"].version is None
    assert packages["e"].specifier == ""


def test_optional_dependencies_are_edges_under_their_extra(tmp_path: Path) -> None:
    text = HEAD + (
        '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { editable = "." }\n'
        'dependencies = [{ name = "req", extra = ["socks"] }]\n'
        '[[package]]\nname = "req"\nversion = "1.0"\nsource = { registry = "https://i.example" }\n'
        "[package.optional-dependencies]\n"
        'socks = [{ name = "pysocks", marker = "os_name != \'nt\'" }]\n'
        '[[package]]\nname = "pysocks"\nversion = "1.7"\n'
        'source = { registry = "https://i.example" }\n'
    )
    lock = _read(tmp_path, text)
    assert lock.root_dependencies is not None
    assert lock.root_dependencies[0].extras == ("socks",)
    req = _by_name(lock)["req"][0]
    assert req.dependencies is not None
    assert req.dependencies[0].marker == Marker('(os_name != "nt") and extra == "socks"')
    assert [p.name for p in packages_for(lock, _environment("3.11.7"))] == ["req", "pysocks"]


@pytest.mark.parametrize(
    ("package", "where", "message"),
    [
        ("", "package[0]", "required key is missing"),
        ("source = { svn = 'x' }", "package[0].source", "unknown source kind svn"),
        ("source = { registry = 'r' }\nwheels = [{ url = 'https://x/b-1-py3-none-any.whl' }]",
         "package[0].wheels[0]", "wheel 'b-1-py3-none-any.whl' is not a wheel of a"),
        ("source = { registry = 'r' }\nsdist = { url = 'u', hash = 'sha256:zz' }",
         "package[0].sdist.hash", "malformed sha256 digest 'zz'"),
        ("source = { registry = 'r' }\ndependencies = [{ version = '1' }]",
         "package[0].dependencies[0].name", "required key is missing"),
    ],
)  # fmt: skip
def test_invalid_packages(tmp_path: Path, package: str, where: str, message: str) -> None:
    text = HEAD + f'\n[[package]]\nname = "a"\nversion = "1.0"\n{package}\n'
    if not package:
        where = f"{where}.source"
    with _raises(f"{tmp_path / 'uv.lock'}:6: {where}", message):
        _read(tmp_path, text)
