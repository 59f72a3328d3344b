"""The SYSTEM layer without running dpkg: each pinned .deb's files, and dpkg's database updated.

`dpkg-deb --fsys-tarfile` gives a package's files (through the base's directory symlinks, so a
merged-/usr /lib stays a link; dpkg's path excludes of the base honoured); its control fields
become a stanza of a copy of the base's var/lib/dpkg/status (`Status: install ok installed`),
and its control files become var/lib/dpkg/info/<package>.* beside a .list of its paths.

Maintainer scripts are NOT run. A package whose preinst or postinst does anything but call
ldconfig (or plain shell control flow around it) is refused, naming the dockerfile and buildah
backends, which install with dpkg. ld.so.cache is not regenerated: libraries in the multiarch
directories (/usr/lib/<triplet>) load from the default search path; those in other directories
do not.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import shutil
import tarfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from imagekit.build.bases.recipe import DPKG_EXCLUDES
from imagekit.build.oci.rootfs import BaseFacts
from imagekit.image.errors import OciError
from imagekit.image.tarlayer import Entry, EntryKind, Tree, bytes_entry
from imagekit.proc import run

STATUS = "var/lib/dpkg/status"
INFO = "var/lib/dpkg/info"
_DPKG_DEB_TIMEOUT_S = 600  # unpacking one package, the largest a CUDA library
_RUN_AT_INSTALL = ("preinst", "postinst")
# Shell that only steers control flow, and ldconfig: what a library's postinst may hold.
_HARMLESS = re.compile(
    r"^(set -\w+|if \[ \"?\$1\"? = \"?[\w-]+\"? \]; then|then|else|fi|exit 0|ldconfig|true|:"
    r"|case \"?\$1\"? in|esac|;;|[\w|*-]+\)( ;;)?)$"
)
_EXCLUDE = tuple(o.removeprefix("path-exclude=/") for o in DPKG_EXCLUDES if "exclude" in o)
_INCLUDE = tuple(o.removeprefix("path-include=/") for o in DPKG_EXCLUDES if "include" in o)


def _dpkg_deb(option: str, deb: Path, out: Path) -> None:
    """`dpkg-deb option deb > out`; raises `OciError` with its error output."""
    what = f"{deb.name}: dpkg-deb {option}"
    run(["dpkg-deb", option, str(deb)], what=what, timeout=_DPKG_DEB_TIMEOUT_S, error=OciError,
        stdout=out)  # fmt: skip


def _control_files(deb: Path, workdir: Path) -> dict[str, tuple[bytes, int]]:
    out = workdir / f"{deb.name}.control.tar"
    _dpkg_deb("--ctrl-tarfile", deb, out)
    files: dict[str, tuple[bytes, int]] = {}
    with tarfile.open(out) as tar:
        for member in tar:
            reader = tar.extractfile(member) if member.isfile() else None
            if reader is not None:
                files[member.name.removeprefix("./")] = (reader.read(), member.mode & 0o777)
    return files


def _fields(text: str) -> list[tuple[str, str]]:
    """Control fields in order: (name, the field's text with its continuation lines)."""
    fields: list[tuple[str, str]] = []
    for line in text.strip("\n").splitlines():
        if line[:1] in (" ", "\t") and fields:
            fields[-1] = (fields[-1][0], f"{fields[-1][1]}\n{line}")
        elif ":" in line:
            fields.append((line.partition(":")[0], line))
    return fields


def check_scripts(deb: Path, control: dict[str, tuple[bytes, int]]) -> None:
    """Refuse a package whose preinst/postinst does more than ldconfig; raises `OciError`."""
    for script in _RUN_AT_INSTALL:
        text = control.get(script, (b"", 0))[0].decode("utf-8", "replace")
        for line in text.splitlines():
            code = line.split("#", 1)[0].strip() if not line.startswith("#!") else ""
            if code and not _HARMLESS.match(code):
                raise OciError(
                    f"{deb.name}: its {script} runs `{code[:60]}`, and imagekit's own layers "
                    "(--backend oci or docker) run no maintainer scripts; build this model "
                    "with --backend dockerfile or buildah"
                )


def _excluded(path: str) -> bool:
    if not any(fnmatch.fnmatchcase(path, p) for p in _EXCLUDE):
        return False
    return not any(fnmatch.fnmatchcase(path, p) for p in _INCLUDE)


def _md5(entry: Entry | None) -> str:
    if entry is None or entry.kind is not EntryKind.FILE or entry.opener is None:
        return "newconffile"
    with entry.opener() as f:
        return hashlib.md5(f.read(), usedforsecurity=False).hexdigest()


def _stanza(fields: list[tuple[str, str]], conffiles: list[tuple[str, str]]) -> str:
    lines = [fields[0][1], "Status: install ok installed"]
    for name, text in fields[1:]:
        if name == "Description" and conffiles:
            lines.append("Conffiles:")
            lines += [f" {path} {md5}" for path, md5 in conffiles]
        lines.append(text)
    return "\n".join(lines)


def _status_key(stanza: str) -> tuple[str, str]:
    fields = {name: text.partition(":")[2].strip() for name, text in _fields(stanza)}
    return fields.get("Package", ""), fields.get("Architecture", "")


class _Packages:
    """The deb files added to one layer, and the dpkg database they update."""

    def __init__(self, facts: BaseFacts, stack: ExitStack, workdir: Path, mtime: int) -> None:
        self.facts, self.stack, self.workdir, self.mtime = facts, stack, workdir, mtime
        self.tree = Tree()
        stanzas = [s for s in facts.file(STATUS).split("\n\n") if s.strip()]
        self.status = {_status_key(s): s.strip("\n") for s in stanzas}

    def place(self, path: str, is_dir: bool) -> str | None:
        return None if _excluded(path) else self.facts.resolve(path, follow_last=is_dir)

    def add(self, deb: Path) -> None:
        control = _control_files(deb, self.workdir)
        check_scripts(deb, control)
        fields = _fields(control.get("control", (b"", 0))[0].decode("utf-8"))
        values = {name: text.partition(":")[2].strip() for name, text in fields}
        if not fields or fields[0][0] != "Package":
            raise OciError(f"{deb.name}: its control file does not start with Package")
        data = self.workdir / f"{deb.name}.data.tar"
        _dpkg_deb("--fsys-tarfile", deb, data)
        tar = self.stack.enter_context(tarfile.open(data))  # noqa: SIM115 - the stack closes it
        self.tree.add_tar(tar, clamp=self.mtime, place=self.place)
        paths = [m.name.removeprefix(".") for m in tar.getmembers()]
        kept = [p for p in paths if p and not _excluded(p.lstrip("/"))]
        self._info(values, control, kept)
        conffiles = control.get("conffiles", (b"", 0))[0].decode().split()
        md5s = [
            (p, _md5(self.tree.entries.get(self.place(p.lstrip("/"), False) or "")))
            for p in conffiles
        ]
        self.status[(values["Package"], values.get("Architecture", ""))] = _stanza(fields, md5s)

    def _md5(self, path: str) -> str:
        return _md5(self.tree.entries.get(self.place(path.lstrip("/"), False) or ""))

    def _info(
        self, values: dict[str, str], control: dict[str, tuple[bytes, int]], paths: list[str]
    ) -> None:
        name = values["Package"]
        if values.get("Multi-Arch") == "same":
            name = f"{name}:{values.get('Architecture', '')}"
        listing = "\n".join(["/.", *(p.rstrip("/") for p in paths)]) + "\n"
        self.tree.add(bytes_entry(f"{INFO}/{name}.list", listing.encode(), mtime=self.mtime))
        for member, (content, mode) in sorted(control.items()):
            if member != "control":
                self.tree.add(
                    bytes_entry(
                        f"{INFO}/{name}.{member}",
                        content,
                        mtime=self.mtime,
                        mode=0o755 if mode & 0o111 else 0o644,
                    )
                )

    def status_text(self) -> bytes:
        stanzas = [self.status[key] for key in sorted(self.status)]
        return ("\n\n".join(stanzas) + "\n").encode()


def system_tree(
    debs: Sequence[Path], facts: BaseFacts, workdir: Path, stack: ExitStack, *, mtime: int
) -> Tree:
    """The SYSTEM layer of `debs` over a base with `facts`; the tree reads files that stay
    open in `stack` until the layer is written. Raises `OciError`."""
    if not facts.file(STATUS):
        raise OciError(f"the base has no {STATUS}; system packages need a Debian base")
    if debs and shutil.which("dpkg-deb") is None:
        raise OciError(
            "system packages need dpkg-deb on this machine to unpack them (apt-get install "
            "dpkg), or build with --backend dockerfile"
        )
    packages = _Packages(facts, stack, workdir, mtime)
    for deb in sorted(debs):
        packages.add(deb)
    packages.tree.add(bytes_entry(STATUS, packages.status_text(), mtime=mtime))
    return packages.tree
