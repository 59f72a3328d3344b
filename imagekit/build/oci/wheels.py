"""Install a layer's wheels with `installer` (pypa) straight into a layer tree: the OCI
backend's counterpart of the Docker build stage's `pip install`; nothing runs in the image.

installer's `SchemeDictionaryDestination` with the venv's scheme decides every path (and
refuses one that leaves its scheme), rewrites script shebangs to `#!<venv>/bin/python` and
writes RECORD; here its files land in a `Tree` (small ones in memory, large ones spilled to a
work folder) instead of a staging root on disk, which on a slow disk costs more than the rest.

Every wheel is checked first: a RECORD or archive path that is absolute or climbs out (`..`),
or a symlink whose target leaves the install root, refuses the wheel. Bytecode (see `pyc`) is
compiled for every module but those of the test suites some wheels ship.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import posixpath
import stat
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.exceptions import InstallerError
from installer.records import Hash, InvalidRecordEntry, RecordEntry
from installer.scripts import Script
from installer.sources import WheelFile
from installer.utils import Scheme
from packaging.version import Version

from imagekit.build.oci.pyc import compile_all, compiles_bytecode, pyc_path
from imagekit.image.errors import OciError
from imagekit.image.tarlayer import (
    EXEC_MODE,
    FILE_MODE,
    Entry,
    EntryKind,
    Opener,
    Tree,
    bytes_entry,
)
from imagekit.limits import shown

if TYPE_CHECKING:
    from installer.scripts import ScriptSection

INSTALLER_NAME = b"imagekit\n"
_IN_MEMORY = 1 << 20  # files larger than this are spilled to the work folder
_TEST_DIRS = frozenset({"tests", "test"})
# Bounds on what a wheel declares, checked before anything is read (zipfile reads no more than
# a member declares). torch's RECORD is about 2 MB; the largest CUDA wheels unpack to a few GB.
MAX_RECORD_BYTES = 64 << 20
MAX_SYMLINK_TARGET = 4096  # PATH_MAX
MAX_WHEEL_UNPACKED = 16 << 30


class UnsafeWheelError(OciError):
    """A wheel would write outside its install root; it is refused, nothing is installed."""


def _refuse(wheel: Path, path: str, why: str) -> UnsafeWheelError:
    return UnsafeWheelError(
        f"{wheel.name}: '{shown(path)}' {why}; the wheel is refused (a broken or malicious wheel: "
        "lock another version or report it to its publisher)"
    )


def _check_path(wheel: Path, path: str) -> None:
    parts = path.replace("\\", "/").split("/")
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        raise _refuse(wheel, path, "is an absolute path")
    if ".." in parts:
        raise _refuse(wheel, path, "climbs out of the install root")


def _check_symlink(wheel: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    if not stat.S_ISLNK(info.external_attr >> 16):
        return
    if info.file_size > MAX_SYMLINK_TARGET:
        raise _refuse(wheel, info.filename, f"is a symlink of {info.file_size} bytes")
    target = archive.read(info).decode("utf-8", "replace")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(info.filename), target))
    if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
        raise _refuse(wheel, info.filename, f"is a symlink to '{shown(target)}', outside the root")


def _check_sizes(wheel: Path, archive: zipfile.ZipFile) -> None:
    total = sum(info.file_size for info in archive.infolist())
    if total > MAX_WHEEL_UNPACKED:
        raise _refuse(
            wheel, "*", f"unpacks to {total} bytes, over the limit of {MAX_WHEEL_UNPACKED}"
        )


def _record_paths(wheel: Path, archive: zipfile.ZipFile) -> list[str]:
    records = [i for i in archive.infolist() if i.filename.endswith(".dist-info/RECORD")]
    paths: list[str] = []
    for info in records:
        if info.file_size > MAX_RECORD_BYTES:
            raise _refuse(wheel, info.filename, f"is {info.file_size} bytes, over the limit of "
                          f"{MAX_RECORD_BYTES}")  # fmt: skip
        lines = archive.read(info).decode("utf-8", "replace").splitlines()
        try:  # read as installer reads it (its parse_record_file), so both see the same paths
            paths += [row[0] for row in csv.reader(lines, lineterminator="\n") if row]
        except csv.Error as e:
            raise _refuse(wheel, info.filename, f"is not a valid CSV file ({e})") from e
    return paths


def check_wheel(wheel: Path) -> None:
    """Refuse `wheel` (`UnsafeWheelError`, naming it and the path) if any archive member or
    RECORD entry is absolute or climbs out of the root, or a symlink escapes the root."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            _check_sizes(wheel, archive)
            for info in archive.infolist():
                _check_path(wheel, info.filename)
                _check_symlink(wheel, archive, info)
            for path in _record_paths(wheel, archive):
                _check_path(wheel, path)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
        raise OciError(f"{wheel}: not a readable wheel ({shown(e)})") from e


def scheme(venv: str, python: Version, name: str) -> dict[str, str]:
    """Where a wheel's files go in a venv: pip's and sysconfig's posix_prefix layout."""
    xy = f"python{python.major}.{python.minor}"
    site = f"{venv}/lib/{xy}/site-packages"
    return {
        "purelib": site,
        "platlib": site,
        "scripts": f"{venv}/bin",
        "data": venv,
        "headers": f"{venv}/include/site/{xy}/{name}",
    }


@dataclass
class TreeDestination(SchemeDictionaryDestination):
    """installer's scheme destination, writing into a layer tree instead of the disk."""

    tree: Tree = field(default_factory=Tree)
    spill: Path = field(default_factory=Path)
    mtime: int = 0

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        name = self._path_with_destdir(scheme, path).as_posix().lstrip("/")
        digest = hashlib.sha256()
        data = stream.read(_IN_MEMORY + 1)
        digest.update(data)
        size, opener = len(data), _memory(data)
        if len(data) > _IN_MEMORY:
            size, opener = _spill(data, stream, digest.update, self.spill)
        # NVIDIA's CUDA 12 wheels each ship the same empty nvidia/__init__.py: pip lets the last
        # identical copy win, and so does this; a file with other contents is a real clash.
        first = self.tree.entries.get(name)
        if first is not None and not _same_file(first, size, digest.digest()):
            raise FileExistsError(f"two wheels install /{name} with different contents")
        mode = EXEC_MODE if is_executable else FILE_MODE
        self.tree.add(Entry(path=name, kind=EntryKind.FILE, mode=mode, mtime=self.mtime,
                            size=size, opener=opener))  # fmt: skip
        value = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
        return RecordEntry(path, Hash("sha256", value), size)

    def write_script(
        self, name: str, module: str, attr: str, section: ScriptSection
    ) -> RecordEntry:
        script_name, data = Script(name, module, attr, section).generate(
            self.interpreter, self.script_kind
        )
        with io.BytesIO(data) as stream:
            return self.write_to_fs(Scheme("scripts"), script_name, stream, is_executable=True)


def _same_file(entry: Entry, size: int, sha256: bytes) -> bool:
    """`entry` is a file of `size` bytes whose sha256 is `sha256`."""
    if entry.kind is not EntryKind.FILE or entry.size != size or entry.opener is None:
        return False
    digest = hashlib.sha256()
    with entry.opener() as f:
        while chunk := f.read(_IN_MEMORY):
            digest.update(chunk)
    return digest.digest() == sha256


def _memory(data: bytes) -> Opener:
    return lambda: io.BytesIO(data)


def _spill(
    first: bytes, stream: BinaryIO, update: Callable[[bytes], None], folder: Path
) -> tuple[int, Opener]:
    """Write a large file to `folder`: its size, and how to read it back."""
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as f:
        f.write(first)
        size = len(first)
        while chunk := stream.read(_IN_MEMORY):
            update(chunk)
            f.write(chunk)
            size += len(chunk)
    path = Path(f.name)
    return size, lambda: path.open("rb")


def install_wheel(wheel: Path, destination: TreeDestination, *, venv: str, python: Version) -> None:
    """Install `wheel` into the destination's tree; raises `OciError` (`UnsafeWheelError`)."""
    check_wheel(wheel)
    try:
        with WheelFile.open(wheel) as source, warnings.catch_warnings():
            # pip skips a wheel's stray __pycache__ files too; installer warns about each
            warnings.filterwarnings("ignore", "Skip installing .*__pycache__", RuntimeWarning)
            destination.scheme_dict = scheme(venv, python, source.distribution)
            # REQUESTED as pip writes it for what a requirements file names: every wheel here
            install(source, destination, {"INSTALLER": INSTALLER_NAME, "REQUESTED": b""})
    except (InstallerError, InvalidRecordEntry, ValueError, OSError, zipfile.BadZipFile,
            csv.Error) as e:  # fmt: skip
        raise OciError(f"{wheel.name}: installing it failed ({shown(e)})") from e


def _compiled(path: str, prefix: str) -> bool:
    """Whether a module gets bytecode: every `.py` of the venv but those of the test suites
    wheels ship (`.../tests/...`), which a model never imports and which are about two fifths
    of what numpy, scipy and scikit-learn would compile."""
    if not path.startswith(prefix) or not path.endswith(".py"):
        return False
    return not _TEST_DIRS.intersection(path.split("/")[:-1])


def _add_bytecode(tree: Tree, venv: str, mtime: int) -> None:
    prefix = venv.strip("/") + "/"
    sources: list[tuple[str, bytes]] = []
    for entry in sorted(tree.entries.values(), key=lambda e: e.path):
        if _compiled(entry.path, prefix) and entry.opener:
            with entry.opener() as f:
                sources.append((f"/{entry.path}", f.read()))
    for (dfile, _), pyc in zip(sources, compile_all(sources), strict=True):
        if pyc is not None:
            tree.add(bytes_entry(pyc_path(dfile), pyc, mtime=mtime))


def layer_tree(
    wheels: Sequence[Path], work: Path, *, venv: str, python: Version, bytecode: bool, mtime: int
) -> Tree:
    """The layer of `wheels` (installed in the given order) in the venv at `venv`, with
    checked-hash `.pyc` if `bytecode` and this interpreter can write them for `python`.
    Large files are kept in `work` until the layer is written. Raises `OciError`."""
    work.mkdir(parents=True, exist_ok=True)
    destination = TreeDestination(
        scheme_dict={}, interpreter=f"{venv}/bin/python", script_kind="posix",
        tree=Tree(), spill=work, mtime=mtime,
    )  # fmt: skip
    for wheel in wheels:
        install_wheel(wheel, destination, venv=venv, python=python)
    if bytecode and compiles_bytecode(python):
        _add_bytecode(destination.tree, venv, mtime)
    return destination.tree
