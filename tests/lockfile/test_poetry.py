"""poetry.lock: the real Poetry 2 lock, lock-versions, sources and dependency forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from imagekit.project.lockfile import (
    Lock,
    LockedPackage,
    LockError,
    LockFormat,
    SourceKind,
    read_lock,
)

LOCKS = Path(__file__).parent.parent / "data" / "locks"
POETRY_LOCK = LOCKS / "project" / "poetry.lock"
H1 = "a" * 64
META = '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.11"\ncontent-hash = "x"\n'
A = '[[package]]\nname = "a"\nversion = "1.0"\noptional = false\npython-versions = "*"\n'


def _by_name(lock: Lock) -> dict[str, list[LockedPackage]]:
    return {str(name): entries for name, entries in lock.by_name().items()}


def _read(tmp_path: Path, text: str) -> Lock:
    path = tmp_path / "poetry.lock"
    path.write_text(text, encoding="utf-8")
    return read_lock(path)


def _raises(where: str, message: str) -> pytest.RaisesExc[LockError]:
    return pytest.raises(LockError, match="^" + re.escape(f"{where}: {message}"))


def test_real_lock_packages() -> None:
    lock = read_lock(POETRY_LOCK)
    assert lock.format is LockFormat.POETRY
    assert lock.requires_python == SpecifierSet(">=3.11")
    assert lock.index_urls == ("https://pypi.org/simple",)
    assert lock.root_dependencies is None
    assert [(p.name, str(p.version)) for p in lock.packages] == [
        ("cloudpickle", "3.1.3"),
        ("colorama", "0.4.6"),
        ("joblib", "1.6.0"),
        ("numpy", "2.4.6"),
        ("scikit-learn", "1.5.2"),
        ("scipy", "1.17.1"),
        ("threadpoolctl", "3.8.0"),
        ("tomli", "2.5.0"),
    ]
    for pkg in lock.packages:
        assert pkg.source is SourceKind.INDEX
        assert pkg.index == "https://pypi.org/simple"
        assert pkg.groups == ("main",)
        assert pkg.hashes == {f.sha256 for f in pkg.files}
        assert len(pkg.hashes) == len(pkg.files) >= 2


def test_real_lock_markers_python_versions_dependencies() -> None:
    by_name = _by_name(read_lock(POETRY_LOCK))
    assert by_name["tomli"][0].marker == Marker('python_version == "3.11"')
    assert by_name["colorama"][0].marker == Marker('sys_platform == "win32"')
    assert by_name["numpy"][0].marker is None
    assert by_name["joblib"][0].requires_python == SpecifierSet(">=3.10")
    sklearn = by_name["scikit-learn"][0]
    assert sklearn.dependencies is not None
    assert [(d.name, str(d.specifier)) for d in sklearn.dependencies] == [
        ("joblib", ">=1.2.0"),
        ("numpy", ">=1.19.5"),
        ("scipy", ">=1.6.0"),
        ("threadpoolctl", ">=3.1.0"),
    ]
    assert "scikit_learn-1.5.2.tar.gz" in [f.filename for f in sklearn.files]


def test_real_lock_lines() -> None:
    by_name = _by_name(read_lock(POETRY_LOCK))
    assert str(by_name["cloudpickle"][0].location) == f"{POETRY_LOCK}:4: package[0]"
    lines = POETRY_LOCK.read_text(encoding="utf-8").splitlines()
    for (pkg,) in by_name.values():
        assert pkg.location.line is not None
        assert lines[pkg.location.line - 1] == f'name = "{pkg.raw_name}"'


@pytest.mark.parametrize(
    ("version", "fix"),
    [
        ("1.1", "regenerate with Poetry ≥ 2 (poetry lock)"),
        ("3.0", "update imagekit, or lock with a Poetry release that writes lock-version 2.x"),
    ],
)
def test_other_lock_versions_are_refused(tmp_path: Path, version: str, fix: str) -> None:
    text = f'[metadata]\nlock-version = "{version}"\n'
    message = f'"{version}" is not supported: imagekit reads lock-version 2.x ({fix})'
    with _raises(f"{tmp_path / 'poetry.lock'}:2: metadata.lock-version", message):
        _read(tmp_path, text)


def test_lock_version_2_0_is_read(tmp_path: Path) -> None:
    lock = _read(tmp_path, A + '[metadata]\nlock-version = "2.0"\n')
    assert [p.name for p in lock.packages] == ["a"]
    assert lock.packages[0].groups == ()
    assert lock.requires_python is None


def test_missing_metadata(tmp_path: Path) -> None:
    with _raises(f"{tmp_path / 'poetry.lock'}: metadata", "required key is missing"):
        _read(tmp_path, A)


def test_sources(tmp_path: Path) -> None:
    text = (
        '[[package]]\nname = "g"\nversion = "1.0"\n'
        '[package.source]\ntype = "git"\nurl = "https://g.example/g.git"\nreference = "main"\n'
        'resolved_reference = "0123abcd"\nsubdirectory = "py"\n'
        '[[package]]\nname = "u"\nversion = "2.0"\n'
        f'files = [{{ file = "u-2.0.tar.gz", hash = "sha256:{H1}" }}]\n'
        '[package.source]\ntype = "url"\nurl = "https://x.example/u-2.0.tar.gz"\n'
        '[[package]]\nname = "f"\nversion = "3.0"\n'
        '[package.source]\ntype = "file"\nurl = "dist/f-3.0.tar.gz"\n'
        '[[package]]\nname = "d"\nversion = "4.0"\n'
        '[package.source]\ntype = "directory"\nurl = "libs/d"\ndevelop = true\n'
        '[[package]]\nname = "i"\nversion = "5.0"\n'
    ) + META
    packages = {str(p.name): p for p in _read(tmp_path, text).packages}
    assert {n: (p.source, p.url, p.editable) for n, p in packages.items()} == {
        "g": (SourceKind.VCS, "git+https://g.example/g.git@0123abcd#subdirectory=py", False),
        "u": (SourceKind.URL, "https://x.example/u-2.0.tar.gz", False),
        "f": (SourceKind.PATH, "dist/f-3.0.tar.gz", False),
        "d": (SourceKind.DIRECTORY, "libs/d", True),
        "i": (SourceKind.INDEX, None, False),
    }
    assert packages["u"].hashes == {H1}
    assert packages["i"].index is None


def test_dependency_forms_and_markers_by_group(tmp_path: Path) -> None:
    text = (
        A
        + (
            "markers = { main = \"sys_platform == 'linux'\", dev = \"python_version < '3.12'\" }\n"
            "[package.dependencies]\n"
            'b = "*"\n'
            'c = { version = ">=1", markers = "os_name == \'posix\'", extras = ["x"] }\n'
            'd = [{ version = "<2", markers = "python_version < \'3.12\'" }, { version = ">=2" }]\n'
            'e = "^1.2"\n'
        )
        + META
    )
    (pkg,) = _read(tmp_path, text).packages
    assert pkg.marker == Marker("sys_platform == 'linux'")
    assert pkg.requires_python is None
    assert pkg.dependencies is not None
    assert [(d.name, str(d.specifier), str(d.marker), d.extras) for d in pkg.dependencies] == [
        ("b", "", "None", ()),
        ("c", ">=1", 'os_name == "posix"', ("x",)),
        ("d", "<2", 'python_version < "3.12"', ()),
        ("d", ">=2", "None", ()),
        ("e", "", "None", ()),
    ]


@pytest.mark.parametrize(
    ("package", "where", "message"),
    [
        ("[package.source]\ntype = 'hg'\nurl = 'x'", "package[0].source.type",
         "unknown source type 'hg' (expected legacy, git, url, file or directory)"),
        ("files = [{ file = 'a-1.0.tar.gz', hash = 'sha256' }]", "package[0].files[0].hash",
         "malformed hash 'sha256' (expected sha256:<64 hex digits>)"),
        ("files = [{ file = 'b-1.0-py3-none-any.whl' }]", "package[0].files[0]",
         "wheel 'b-1.0-py3-none-any.whl' is not a wheel of a 1.0"),
        ("[package.dependencies]\nb = 1", "package[0].dependencies.b",
         "must be a constraint string, a table or an array of tables"),
    ],
)  # fmt: skip
def test_invalid_packages(tmp_path: Path, package: str, where: str, message: str) -> None:
    text = META + f'[[package]]\nname = "a"\nversion = "1.0"\n{package}\n'
    with _raises(f"{tmp_path / 'poetry.lock'}:6: {where}", message):
        _read(tmp_path, text)
