"""requirements.txt: the real pip-compile and uv outputs, the broken variants, pip's grammar."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.version import Version

from imagekit.project.lockfile import (
    Lock,
    LockedPackage,
    LockError,
    LockFormat,
    SourceKind,
    read_lock,
)
from imagekit.project.lockfile.requirements import logical_lines, looks_like_requirements

LOCKS = Path(__file__).parent.parent / "data" / "locks"
VERSIONS = {
    "cloudpickle": "3.1.3",
    "joblib": "1.6.0",
    "numpy": "2.4.6",
    "scikit-learn": "1.5.2",
    "scipy": "1.17.1",
    "threadpoolctl": "3.8.0",
    "tomli": "2.5.0",
}
JOBLIB_SDIST = "2ccc96785b12046c08fd6d55839c12857831b54a3c1673ffadd2f04bfc4eda03"
NUMPY_WHEEL = "89cd468399cfd2504718f0ba50e410dca55a170b61a02ad92bb18c8a65186e93"
H1 = "a" * 64
H2 = "b" * 64
REAL = ["pip-compile.requirements.txt", "uv.requirements.txt"]


def _read(tmp_path: Path, text: str, name: str = "requirements.txt") -> Lock:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return read_lock(path)


def _by_name(lock: Lock) -> dict[str, list[LockedPackage]]:
    return {str(name): entries for name, entries in lock.by_name().items()}


def _raises(path: Path, line: int, message: str) -> pytest.RaisesExc[LockError]:
    return pytest.raises(LockError, match="^" + re.escape(f"{path}:{line}: {message}"))


# --- the real locks ------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL)
def test_real_lock_names_and_exact_versions(name: str) -> None:
    lock = read_lock(LOCKS / name)
    assert lock.format is LockFormat.REQUIREMENTS
    assert {p.name: str(p.version) for p in lock.packages} == VERSIONS
    for pkg in lock.packages:
        assert pkg.specifier == f"=={pkg.version}"
        assert pkg.source is SourceKind.INDEX
        assert not pkg.editable
        assert pkg.files == ()
        assert pkg.dependencies is None


@pytest.mark.parametrize("name", REAL)
def test_real_lock_hashes(name: str) -> None:
    by_name = _by_name(read_lock(LOCKS / name))
    assert all(len(p.hashes) >= 2 for p in read_lock(LOCKS / name).packages)
    assert JOBLIB_SDIST in by_name["joblib"][0].hashes
    assert NUMPY_WHEEL in by_name["numpy"][0].hashes
    assert len(by_name["numpy"][0].hashes) == 72


@pytest.mark.parametrize("name", REAL)
def test_real_lock_line_is_where_the_requirement_starts(name: str) -> None:
    path = LOCKS / name
    lines = path.read_text(encoding="utf-8").splitlines()
    for pkg in read_lock(path).packages:
        assert pkg.location.file == path
        assert pkg.location.line is not None
        assert lines[pkg.location.line - 1].startswith(f"{pkg.raw_name}==")


def test_pip_compile_lines_and_markers() -> None:
    by_name = _by_name(read_lock(LOCKS / "pip-compile.requirements.txt"))
    assert by_name["cloudpickle"][0].location.line == 7
    assert by_name["tomli"][0].location.line == 187
    assert str(by_name["tomli"][0].location) == f"{LOCKS / 'pip-compile.requirements.txt'}:187"
    assert by_name["tomli"][0].marker == Marker('python_version < "3.12"')
    assert by_name["numpy"][0].marker is None


# --- broken variants: the reader records, the checks judge ---------------------------------


def test_unpinned_is_recorded_without_version() -> None:
    numpy = _by_name(read_lock(LOCKS / "unpinned.requirements.txt"))["numpy"][0]
    assert numpy.version is None
    assert numpy.specifier == ""
    assert numpy.hashes == frozenset()
    assert numpy.location.line == 5


def test_a_range_is_no_pinned_package() -> None:
    numpy = _by_name(read_lock(LOCKS / "range.requirements.txt"))["numpy"][0]
    with pytest.raises(ValueError, match=r"^numpy is not pinned \(>=1\.26\)$"):
        numpy.pinned()


def test_range_keeps_the_specifier_as_written() -> None:
    numpy = _by_name(read_lock(LOCKS / "range.requirements.txt"))["numpy"][0]
    assert numpy.version is None
    assert numpy.specifier == ">=1.26"
    assert numpy.hashes == {NUMPY_WHEEL}


def test_missing_hash_and_md5_only_are_unhashed() -> None:
    by_name = _by_name(read_lock(LOCKS / "missing-hash.requirements.txt"))
    assert by_name["threadpoolctl"][0].version == Version("3.8.0")
    assert by_name["threadpoolctl"][0].hashes == frozenset()
    assert by_name["cloudpickle"][0].hashes == frozenset()
    assert len(by_name["joblib"][0].hashes) == 2


def test_duplicate_keeps_both_entries() -> None:
    entries = _by_name(read_lock(LOCKS / "duplicate.requirements.txt"))["threadpoolctl"]
    assert [p.location.line for p in entries] == [2, 8]
    assert [len(p.hashes) for p in entries] == [2, 1]


def test_editable_is_a_directory_marked_editable() -> None:
    pkg = read_lock(LOCKS / "editable.requirements.txt").packages[-1]
    assert pkg.editable
    assert pkg.source is SourceKind.DIRECTORY
    assert pkg.name == "model-utils"
    assert pkg.url == "./src/model_utils"
    assert pkg.version is None
    assert pkg.location.line == 5


def test_vcs_without_hash() -> None:
    pkg = _by_name(read_lock(LOCKS / "vcs-no-hash.requirements.txt"))["threadpoolctl"][0]
    assert pkg.source is SourceKind.VCS
    assert pkg.url == "git+https://github.com/joblib/threadpoolctl@3.8.0"
    assert pkg.hashes == frozenset()
    assert pkg.version is None


def test_url_without_hash_takes_the_version_from_the_wheel_name() -> None:
    pkg = _by_name(read_lock(LOCKS / "url-no-hash.requirements.txt"))["numpy"][0]
    assert pkg.source is SourceKind.URL
    assert pkg.url is not None and pkg.url.endswith("manylinux_2_28_x86_64.whl")
    assert pkg.version == Version("2.4.6")
    assert pkg.specifier == ""
    assert pkg.hashes == frozenset()


def test_bad_line_is_a_reader_error_with_its_line() -> None:
    path = LOCKS / "bad-line.requirements.txt"
    with _raises(path, 5, "not a valid requirement: 'numpy = \"2.4.6\"'"):
        read_lock(path)


# --- pip's grammar -------------------------------------------------------------------------


def test_logical_lines_join_continuations_and_drop_comments() -> None:
    text = "# head\na==1 \\\n    --hash=sha256:x \\\n    # via b\n\nc==2  # why\nd@e#f\n"
    assert list(logical_lines(text)) == [
        (2, "a==1     --hash=sha256:x"),
        (6, "c==2"),
        (7, "d@e#f"),
    ]


def test_file_ending_in_a_continuation(tmp_path: Path) -> None:
    lock = _read(tmp_path, f"numpy==2.4.6 \\\n    --hash=sha256:{H1} \\")
    assert lock.packages[0].hashes == {H1}


def test_index_options_are_recorded_and_search_options_ignored(tmp_path: Path) -> None:
    text = (
        "--index-url https://mirror.example/simple\n"
        "--extra-index-url=https://extra.example/simple\n"
        "-f ./wheels\n--find-links=https://example.org/links\n"
        "--trusted-host mirror.example\n--no-index --pre --prefer-binary --require-hashes\n"
        "--only-binary :all: --no-binary=none\n"
        f"numpy==2.4.6 --hash=sha256:{H1}\n"
    )
    lock = _read(tmp_path, text)
    assert lock.index_urls == ("https://mirror.example/simple", "https://extra.example/simple")
    assert [p.name for p in lock.packages] == ["numpy"]
    assert lock.packages[0].location.line == 8


def test_last_index_url_wins(tmp_path: Path) -> None:
    lock = _read(tmp_path, "-i https://a.example/simple\n-ihttps://b.example/simple\n")
    assert lock.index_urls == ("https://b.example/simple",)


def test_unknown_option(tmp_path: Path) -> None:
    with _raises(tmp_path / "requirements.txt", 2, "unknown option --frobnicate"):
        _read(tmp_path, "numpy==1.26.4\n--frobnicate x\n")


def test_option_without_value(tmp_path: Path) -> None:
    with _raises(tmp_path / "requirements.txt", 1, "option --index-url needs a value"):
        _read(tmp_path, "--index-url\n")


def test_hash_after_a_missing_continuation(tmp_path: Path) -> None:
    message = "--hash is not on a requirement line (end the line before it with `\\`"
    with _raises(tmp_path / "requirements.txt", 2, message):
        _read(tmp_path, f"numpy==2.4.6\n    --hash=sha256:{H1}\n")


def test_global_option_on_a_requirement_line(tmp_path: Path) -> None:
    message = "option --index-url is not allowed on a requirement line"
    with _raises(tmp_path / "requirements.txt", 1, message):
        _read(tmp_path, "numpy==1.26.4 --index-url https://x.example\n")


def test_hash_forms(tmp_path: Path) -> None:
    text = (
        f"numpy==2.4.6 --hash sha256:{H1.upper()} --hash=sha256:{H2} --hash=md5:{'c' * 32}"
        " --config-settings=x=y\n"
    )
    assert _read(tmp_path, text).packages[0].hashes == {H1, H2}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--hash=sha256:xyz", "malformed sha256 digest 'xyz' (expected 64 hex digits)"),
        ("--hash=deadbeef", "malformed hash 'deadbeef' (expected sha256:<64 hex digits>)"),
        ("--hash", "option --hash needs a value"),
    ],
)
def test_bad_hash(tmp_path: Path, option: str, message: str) -> None:
    with _raises(tmp_path / "requirements.txt", 2, message):
        _read(tmp_path, f"# x\nnumpy==2.4.6 {option}\n")


def test_extras_markers_and_unpinned_forms(tmp_path: Path) -> None:
    text = (
        "requests[socks,security]==2.32.3\n"
        "tomli==2.5.0;python_version<'3.12'\n"
        "numpy>=1.26,<2\n"
        "scipy\n"
        "torch===2.4.0+cpu\n"
        "pandas==2.*\n"
    )
    by_name = _by_name(_read(tmp_path, text))
    assert by_name["requests"][0].extras == ("security", "socks")
    assert by_name["tomli"][0].marker == Marker("python_version < '3.12'")
    assert by_name["numpy"][0].specifier == "<2,>=1.26"
    assert by_name["numpy"][0].version is None
    assert by_name["scipy"][0].specifier == ""
    assert by_name["torch"][0].version == Version("2.4.0+cpu")
    assert by_name["pandas"][0].version is None


def test_direct_references(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "pyproject.toml").write_text('[project]\nname = "Local_Pkg"\n')
    text = (
        f"tool @ https://example.org/tool-1.0-py3-none-any.whl --hash=sha256:{H1}\n"
        "https://example.org/get?id=3#egg=thing\n"
        "git+https://github.com/org/repo@0123abc#egg=repo\n"
        "./wheels/wheely-2.0-py3-none-any.whl\n"
        "./local\n"
        "other @ file:///opt/src/other-3.1.tar.gz\n"
        "file:///opt/src/checkout\n"
        "-e git+https://github.com/org/dev@main#egg=dev-pkg\n"
        "https://example.org/u.tar.gz#egg=u ; sys_platform == 'linux'\n"
    )
    packages = {str(p.name): p for p in _read(tmp_path, text).packages}
    expected = {
        "tool": (SourceKind.URL, "1.0", False),
        "thing": (SourceKind.URL, "None", False),
        "repo": (SourceKind.VCS, "None", False),
        "wheely": (SourceKind.PATH, "2.0", False),
        "local-pkg": (SourceKind.DIRECTORY, "None", False),
        "other": (SourceKind.PATH, "3.1", False),
        "checkout": (SourceKind.DIRECTORY, "None", False),
        "dev-pkg": (SourceKind.VCS, "None", True),
        "u": (SourceKind.URL, "None", False),
    }
    assert {n: (p.source, str(p.version), p.editable) for n, p in packages.items()} == expected
    assert packages["tool"].hashes == {H1}
    assert packages["local-pkg"].raw_name == "Local_Pkg"
    assert packages["u"].marker == Marker("sys_platform == 'linux'")


def test_direct_reference_without_a_name(tmp_path: Path) -> None:
    message = "cannot tell the package name of 'https://example.org/download'"
    with _raises(tmp_path / "requirements.txt", 1, message):
        _read(tmp_path, "https://example.org/download\n")


# --- includes ------------------------------------------------------------------------------


def test_includes_resolve_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text(f"# base\njoblib==1.6.0 --hash=sha256:{H1}\n")
    (tmp_path / "reqs" / "pins.txt").write_text("numpy==2.4.6\n")
    text = f"-r base.txt\n-c pins.txt\nnumpy==2.4.6 --hash=sha256:{H2}\n"
    lock = _read(tmp_path, text, "reqs/requirements.txt")
    assert [(p.name, p.location.file.name, p.location.line) for p in lock.packages] == [
        ("joblib", "base.txt", 2),
        ("numpy", "requirements.txt", 3),
    ]


def test_missing_include(tmp_path: Path) -> None:
    with _raises(tmp_path / "requirements.txt", 2, "included file extra.txt not found"):
        _read(tmp_path, "numpy==2.4.6\n--requirement extra.txt\n")


def test_constraints_are_checked_though_they_install_nothing(tmp_path: Path) -> None:
    (tmp_path / "constraints.txt").write_text("numpy = 1\n")
    with _raises(tmp_path / "constraints.txt", 1, "not a valid requirement: 'numpy = 1'"):
        _read(tmp_path, "-c constraints.txt\n")


def test_circular_include(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("-r requirements.txt\n")
    with _raises(tmp_path / "other.txt", 1, "requirements.txt includes itself"):
        _read(tmp_path, "-r other.txt\n")


def test_remote_include(tmp_path: Path) -> None:
    message = "cannot include https://example.org/r.txt: remote requirement files are not read"
    with _raises(tmp_path / "requirements.txt", 1, message):
        _read(tmp_path, "-r https://example.org/r.txt\n")


def test_looks_like_requirements() -> None:
    assert looks_like_requirements("# c\n\nnumpy==1.0 \\\n  --hash=sha256:x\n")
    assert looks_like_requirements("--index-url https://x\n")
    assert not looks_like_requirements("version = 1\n[[package]]\n")
    assert not looks_like_requirements("# only a comment\n")
