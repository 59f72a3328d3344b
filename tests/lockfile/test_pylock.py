"""pylock.toml (PEP 751): uv's two outputs, the broken variants, each kind of source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from imagekit.project.lockfile import (
    Lock,
    LockedPackage,
    LockError,
    LockFormat,
    SourceKind,
    read_lock,
)
from imagekit.project.lockfile.pylock import PylockReader

LOCKS = Path(__file__).parent.parent / "data" / "locks"
H1 = "a" * 64
H2 = "b" * 64
HEAD = 'lock-version = "1.0"\ncreated-by = "test"\n'
WHEEL = f'{{ url = "https://x.example/a-1.0-py3-none-any.whl", hashes = {{ sha256 = "{H1}" }} }}'


def _by_name(lock: Lock) -> dict[str, list[LockedPackage]]:
    return {str(name): entries for name, entries in lock.by_name().items()}


def _read(tmp_path: Path, text: str) -> Lock:
    path = tmp_path / "pylock.toml"
    path.write_text(text, encoding="utf-8")
    return read_lock(path)


def _raises(where: str, message: str) -> pytest.RaisesExc[LockError]:
    return pytest.raises(LockError, match="^" + re.escape(f"{where}: {message}"))


def test_uv_pip_compile_output() -> None:
    path = LOCKS / "pylock.uv-pip-compile.toml"
    lock = read_lock(path)
    assert lock.format is LockFormat.PYLOCK
    assert lock.requires_python == SpecifierSet(">=3.11")
    assert lock.index_urls == ()
    assert [(p.name, str(p.version)) for p in lock.packages] == [
        ("cloudpickle", "3.1.3"),
        ("joblib", "1.6.0"),
        ("numpy", "2.4.6"),
        ("scikit-learn", "1.5.2"),
        ("scipy", "1.17.1"),
        ("threadpoolctl", "3.8.0"),
        ("tomli", "2.5.0"),
    ]
    for pkg in lock.packages:
        assert pkg.source is SourceKind.INDEX
        assert pkg.specifier == f"=={pkg.version}"
        assert pkg.hashes == {f.sha256 for f in pkg.files}
        assert pkg.files[0].filename.endswith(".tar.gz")
        assert all(f.size and f.url and f.url.startswith("https://") for f in pkg.files)


def test_uv_pip_compile_files_markers_and_lines() -> None:
    path = LOCKS / "pylock.uv-pip-compile.toml"
    by_name = _by_name(read_lock(path))
    numpy = by_name["numpy"][0]
    assert [f.filename for f in numpy.wheels] == [
        "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    ]
    assert numpy.wheels[0].sha256 == (
        "89cd468399cfd2504718f0ba50e410dca55a170b61a02ad92bb18c8a65186e93"
    )
    assert numpy.wheels[0].size == 16918164
    assert by_name["tomli"][0].marker == Marker("python_full_version < '3.12'")
    assert str(by_name["numpy"][0].location) == f"{path}:20: packages[2]"
    lines = path.read_text(encoding="utf-8").splitlines()
    for entries in by_name.values():
        line = entries[0].location.line
        assert line is not None
        assert lines[line - 1] == f'name = "{entries[0].raw_name}"'


def test_uv_export_output_keeps_forks_apart_by_marker() -> None:
    lock = read_lock(LOCKS / "pylock.uv-export.toml")
    by_name = _by_name(lock)
    assert lock.index_urls == ("https://pypi.org/simple",)
    assert [(str(p.version), str(p.marker)) for p in by_name["numpy"]] == [
        ("2.4.6", 'python_full_version < "3.12"'),
        ("2.5.5", 'python_full_version >= "3.12"'),
    ]
    assert by_name["colorama"][0].marker == Marker("sys_platform == 'win32'")
    assert by_name["scikit-learn"][0].index == "https://pypi.org/simple"
    assert len(by_name["numpy"][0].wheels) == 71


def test_malformed_toml_names_the_line() -> None:
    path = LOCKS / "malformed.pylock.toml"
    with _raises(f"{path}:6", "malformed TOML: "):
        read_lock(path, LockFormat.PYLOCK)


def test_lock_version_2_is_refused() -> None:
    path = LOCKS / "lock-version-2.pylock.toml"
    message = '"2.0" is not supported: imagekit reads lock-version 1.x'
    with _raises(f"{path}:2: lock-version", message):
        read_lock(path, LockFormat.PYLOCK)


def test_needs_py312_is_recorded_for_the_checks() -> None:
    lock = read_lock(LOCKS / "needs-py312.pylock.toml", LockFormat.PYLOCK)
    assert lock.requires_python == SpecifierSet(">=3.12")
    assert [p.name for p in lock.packages] == ["joblib"]


def test_newer_minor_lock_version_is_read(tmp_path: Path) -> None:
    text = f'lock-version = "1.3"\ncreated-by = "t"\n[[packages]]\nname = "a"\nwheels = [{WHEEL}]\n'
    assert [p.name for p in _read(tmp_path, text).packages] == ["a"]


def test_direct_sources(tmp_path: Path) -> None:
    text = HEAD + (
        '[[packages]]\nname = "v"\n'
        'vcs = { type = "git", url = "https://g.example/v", commit-id = "c0ffee", '
        'subdirectory = "sub" }\n'
        '[[packages]]\nname = "d"\ndirectory = { path = "./d", editable = true }\n'
        '[[packages]]\nname = "u"\nversion = "2.0"\n'
        f'archive = {{ url = "https://x.example/u-2.0.tar.gz", hashes = {{ sha256 = "{H2}" }} }}\n'
        '[[packages]]\nname = "p"\n'
        f'archive = {{ path = "./p-1.0.zip", size = 3, hashes = {{ sha256 = "{H1}" }} }}\n'
    )
    packages = {str(p.name): p for p in _read(tmp_path, text).packages}
    assert {n: (p.source, p.url, p.editable) for n, p in packages.items()} == {
        "v": (SourceKind.VCS, "git+https://g.example/v@c0ffee#subdirectory=sub", False),
        "d": (SourceKind.DIRECTORY, "./d", True),
        "u": (SourceKind.URL, "https://x.example/u-2.0.tar.gz", False),
        "p": (SourceKind.PATH, "./p-1.0.zip", False),
    }
    assert packages["u"].hashes == {H2}
    assert packages["u"].version == Version("2.0")
    assert packages["p"].files[0].filename == "p-1.0.zip"
    assert packages["v"].hashes == frozenset()


def test_dependencies_and_other_hash_algorithms(tmp_path: Path) -> None:
    text = HEAD + (
        '[[packages]]\nname = "a"\nversion = "1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = [{ name = "B", version = "2" }, { name = "c" }]\n'
        'wheels = [{ url = "https://x.example/a-1.0-py3-none-any.whl", '
        'hashes = { sha512 = "00" } }]\n'
    )
    (pkg,) = _read(tmp_path, text).packages
    assert pkg.requires_python == SpecifierSet(">=3.9")
    assert pkg.dependencies is not None
    assert [(d.name, str(d.specifier)) for d in pkg.dependencies] == [("b", "==2"), ("c", "")]
    assert pkg.wheels[0].sha256 is None
    assert pkg.hashes == frozenset()


@pytest.mark.parametrize(
    ("package", "where", "message"),
    [
        (f"wheels = [{WHEEL}]\nvcs = {{ type = 'git', url = 'u', commit-id = 'c' }}",
         "packages[0]", "sets sdist or wheels and also vcs, directory or archive"),
        ("version = '1.0'",
         "packages[0]", "needs sdist or wheels, or exactly one of vcs, directory, archive"),
        (f"wheels = [{WHEEL.replace('a-1.0', 'other-1.0')}]",
         "packages[0].wheels[0]", "wheel 'other-1.0-py3-none-any.whl' is not a wheel of a"),
        ("version = 1",
         "packages[0].version", "must be a string, got an integer"),
        (f"wheels = [{WHEEL.replace(H1, 'xyz')}]",
         "packages[0].wheels[0].hashes.sha256", "malformed sha256 digest 'xyz'"),
        ("wheels = [{ hashes = { sha256 = 'x' } }]",
         "packages[0].wheels[0]", "needs `url` or `path`"),
        (f"wheels = [{WHEEL}]\nmarker = 'python_version <'",
         "packages[0].marker", "invalid marker 'python_version <'"),
    ],
)  # fmt: skip
def test_invalid_packages(tmp_path: Path, package: str, where: str, message: str) -> None:
    text = HEAD + f'\n[[packages]]\nname = "a"\n{package}\n'
    with _raises(f"{tmp_path / 'pylock.toml'}:5: {where}", message):
        _read(tmp_path, text)


def test_no_packages_is_an_empty_lock(tmp_path: Path) -> None:
    lock = _read(tmp_path, HEAD + "packages = []\n")
    assert lock.packages == ()


def test_file_names_pep_751_allows() -> None:
    reader = PylockReader()
    assert reader.matches(Path("pylock.toml"))
    assert reader.matches(Path("dir/pylock.gpu.toml"))
    assert not reader.matches(Path("pylock.a.b.toml"))
    assert not reader.matches(Path("malformed.pylock.toml"))
