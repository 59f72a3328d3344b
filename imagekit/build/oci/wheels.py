"""Install a layer's wheels with `installer` (pypa) straight into a layer tree: the OCI
backend's counterpart of the Docker build stage's `pip install`; nothing runs in the image.

installer's `SchemeDictionaryDestination` with the venv's scheme decides every path (and
refuses one that leaves its scheme), rewrites script shebangs to `#!<venv>/bin/python` and
writes RECORD; here its files land in a `Tree` instead of a staging root on disk. A file the
wheel's RECORD gives a hash for is not read at install time at all: its entry reopens the zip
member when the layer tar is written and checks that hash as the bytes go by, so each wheel is
read once, nothing is unpacked to disk, and memory holds the entries, not the files (a torch
layer is several GB). Files without a RECORD hash (generated scripts, rewritten shebangs, the
metadata installer adds) are read at install time and kept in memory; they are small.

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
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

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
_CHECKED_HASHES = frozenset({"sha256", "sha384", "sha512"})  # a RECORD hash trusted, then checked
_BYTECODE_BATCH = 64 << 20  # sources compiled at once: bounds the memory of a large layer
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


def _record_rows(wheel: Path, archive: zipfile.ZipFile) -> list[list[str]]:
    records = [i for i in archive.infolist() if i.filename.endswith(".dist-info/RECORD")]
    rows: list[list[str]] = []
    for info in records:
        if info.file_size > MAX_RECORD_BYTES:
            raise _refuse(wheel, info.filename, f"is {info.file_size} bytes, over the limit of "
                          f"{MAX_RECORD_BYTES}")  # fmt: skip
        lines = archive.read(info).decode("utf-8", "replace").splitlines()
        try:  # read as installer reads it (its parse_record_file), so both see the same paths
            rows += [row for row in csv.reader(lines, lineterminator="\n") if row]
        except csv.Error as e:
            raise _refuse(wheel, info.filename, f"is not a valid CSV file ({e})") from e
    return rows


def _record_paths(wheel: Path, archive: zipfile.ZipFile) -> list[str]:
    return [row[0] for row in _record_rows(wheel, archive)]


def _record_hashes(wheel: Path, archive: zipfile.ZipFile) -> dict[str, Hash]:
    """The archive members whose RECORD row names a hash this module can check."""
    hashes: dict[str, Hash] = {}
    for row in _record_rows(wheel, archive):
        algorithm, _, value = (row[1] if len(row) > 1 else "").partition("=")
        if algorithm in _CHECKED_HASHES and value:
            hashes[row[0]] = Hash(algorithm, value)
    return hashes


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


class _Checked(io.RawIOBase):
    """A wheel member read back for the layer tar, checked against its RECORD hash once its
    declared size has been read (tarfile reads exactly that much)."""

    def __init__(self, stream: IO[bytes], expected: Hash, size: int, where: str) -> None:
        self.stream, self.expected, self.left, self.where = stream, expected, size, where
        self.hasher = hashlib.new(expected.name)
        if size == 0:
            self._verify()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(min(len(buffer), self.left))
        buffer[: len(data)] = data
        self.hasher.update(data)
        self.left -= len(data)
        if self.left == 0 and data:
            self._verify()
        return len(data)

    def _verify(self) -> None:
        value = base64.urlsafe_b64encode(self.hasher.digest()).decode("ascii").rstrip("=")
        if value != self.expected.value:
            raise OciError(
                f"{self.where}: the content does not match the wheel's RECORD "
                f"({self.expected.name}={self.expected.value}); the wheel is corrupt: "
                "delete it from the wheel cache so it is fetched again"
            )

    def close(self) -> None:
        self.stream.close()
        super().close()


@dataclass
class TreeDestination(SchemeDictionaryDestination):
    """installer's scheme destination, writing into a layer tree instead of the disk.

    `archive` (the wheel being installed, open until the layer is written) and `hashes` (its
    RECORD hashes by member) let a member's entry reopen it instead of holding its bytes.
    """

    tree: Tree = field(default_factory=Tree)
    mtime: int = 0
    archive: zipfile.ZipFile | None = None
    hashes: dict[str, Hash] = field(default_factory=dict)

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        name = self._path_with_destdir(scheme, path).as_posix().lstrip("/")
        mode = EXEC_MODE if is_executable else FILE_MODE
        member = self._member(stream)
        if member is not None:  # left in the wheel, read when the tar is written
            info, expected, opener = member
            record = RecordEntry(path, expected, info.file_size)
            size = info.file_size
        else:
            data = stream.read()
            value = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode("ascii")
            record = RecordEntry(path, Hash("sha256", value.rstrip("=")), len(data))
            size, opener = len(data), _memory(data)
        # NVIDIA's CUDA 12 wheels each ship the same empty nvidia/__init__.py: pip lets the last
        # identical copy win, and so does this; a file with other contents is a real clash.
        first = self.tree.entries.get(name)
        if first is not None and not _same_file(first, record):
            raise FileExistsError(f"two wheels install /{name} with different contents")
        self.tree.add(Entry(path=name, kind=EntryKind.FILE, mode=mode, mtime=self.mtime,
                            size=size, opener=opener))  # fmt: skip
        return record

    def _member(self, stream: BinaryIO) -> tuple[zipfile.ZipInfo, Hash, Opener] | None:
        """The zip member `stream` reads, untouched, with its RECORD hash, or None."""
        archive = self.archive
        if archive is None or not isinstance(stream, zipfile.ZipExtFile) or stream.tell():
            return None
        expected = self.hashes.get(stream.name)
        if expected is None:
            return None
        info = archive.getinfo(stream.name)
        where = f"{Path(str(archive.filename)).name}: {stream.name}"

        def opener() -> IO[bytes]:
            return io.BufferedReader(_Checked(archive.open(info), expected, info.file_size, where))

        return info, expected, opener

    def write_script(
        self, name: str, module: str, attr: str, section: ScriptSection
    ) -> RecordEntry:
        script_name, data = Script(name, module, attr, section).generate(
            self.interpreter, self.script_kind
        )
        with io.BytesIO(data) as stream:
            return self.write_to_fs(Scheme("scripts"), script_name, stream, is_executable=True)


def _same_file(entry: Entry, record: RecordEntry) -> bool:
    """`entry` is a file with the size and hash that `record` gives."""
    if entry.kind is not EntryKind.FILE or entry.size != record.size or entry.opener is None:
        return False
    if record.hash_ is None:
        return False
    digest = hashlib.new(record.hash_.name)
    with entry.opener() as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    value = base64.urlsafe_b64encode(digest.digest()).decode("ascii").rstrip("=")
    return value == record.hash_.value


def _memory(data: bytes) -> Opener:
    return lambda: io.BytesIO(data)


def install_wheel(
    wheel: Path, destination: TreeDestination, stack: ExitStack, *, venv: str, python: Version
) -> None:
    """Install `wheel` into the destination's tree, whose entries read the wheel until `stack`
    closes; raises `OciError` (`UnsafeWheelError`)."""
    check_wheel(wheel)
    try:
        archive = stack.enter_context(zipfile.ZipFile(wheel))
        destination.archive, destination.hashes = archive, _record_hashes(wheel, archive)
        source = WheelFile(archive)
        with warnings.catch_warnings():
            # pip skips a wheel's stray __pycache__ files too; installer warns about each
            warnings.filterwarnings("ignore", "Skip installing .*__pycache__", RuntimeWarning)
            destination.scheme_dict = scheme(venv, python, source.distribution)
            # REQUESTED as pip writes it for what a requirements file names: every wheel here
            install(source, destination, {"INSTALLER": INSTALLER_NAME, "REQUESTED": b""})
        destination.archive, destination.hashes = None, {}
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


def _source_batches(tree: Tree, venv: str) -> Iterator[list[tuple[str, bytes]]]:
    """The modules to compile, in path order, in batches of about `_BYTECODE_BATCH` bytes."""
    prefix = venv.strip("/") + "/"
    batch: list[tuple[str, bytes]] = []
    size = 0
    for entry in sorted(tree.entries.values(), key=lambda e: e.path):
        if _compiled(entry.path, prefix) and entry.opener:
            with entry.opener() as f:
                batch.append((f"/{entry.path}", f.read()))
            size += entry.size
            if size >= _BYTECODE_BATCH:
                yield batch
                batch, size = [], 0
    if batch:
        yield batch


def _add_bytecode(tree: Tree, venv: str, mtime: int) -> None:
    for sources in _source_batches(tree, venv):
        for (dfile, _), pyc in zip(sources, compile_all(sources), strict=True):
            if pyc is not None:
                tree.add(bytes_entry(pyc_path(dfile), pyc, mtime=mtime))


def layer_tree(
    wheels: Sequence[Path],
    stack: ExitStack,
    *,
    venv: str,
    python: Version,
    bytecode: bool,
    mtime: int,
) -> Tree:
    """The layer of `wheels` (installed in the given order) in the venv at `venv`, with
    checked-hash `.pyc` if `bytecode` and this interpreter can write them for `python`.
    The tree's entries read the wheels until `stack` closes. Raises `OciError`."""
    destination = TreeDestination(
        scheme_dict={}, interpreter=f"{venv}/bin/python", script_kind="posix",
        tree=Tree(), mtime=mtime,
    )  # fmt: skip
    for wheel in wheels:
        install_wheel(wheel, destination, stack, venv=venv, python=python)
    if bytecode and compiles_bytecode(python):
        _add_bytecode(destination.tree, venv, mtime)
    return destination.tree
