"""The architecture of an image without a config (a root file system): its shell's ELF header.

Only the first bytes of a few binaries every Linux root has are kept (`SHELLS`); the first
one that is an ELF file names the architecture, in the OCI (GOARCH) spelling. e_machine values
from the System V ABI's ELF header and Linux's include/uapi/linux/elf-em.h.
"""

from __future__ import annotations

from imagekit.inventory.layers import Kept, View

# Where a root's shell is, after /bin -> usr/bin: the stored paths, whichever is a file.
SHELLS = ("usr/bin/dash", "bin/dash", "usr/bin/bash", "bin/bash", "bin/busybox", "bin/sh")
ELF_HEAD = 20  # e_ident (16 bytes), e_type (2), e_machine (2)
_MAGIC = b"\x7fELF"
_LITTLE = 1  # e_ident[EI_DATA]: ELFDATA2LSB
_CLASS64 = 2  # e_ident[EI_CLASS]: ELFCLASS64
# e_machine -> (32-bit name, 64-bit name); the OCI image spec's GOARCH values.
_MACHINES = {
    3: ("386", "386"),  # EM_386
    62: ("amd64", "amd64"),  # EM_X86_64
    40: ("arm", "arm"),  # EM_ARM
    183: ("arm64", "arm64"),  # EM_AARCH64
    243: ("riscv32", "riscv64"),  # EM_RISCV
    21: ("ppc64", "ppc64"),  # EM_PPC64 (little-endian: ppc64le, below)
    22: ("s390", "s390x"),  # EM_S390
    8: ("mips", "mips64"),  # EM_MIPS (little-endian: mipsle, mips64le)
    258: ("loong64", "loong64"),  # EM_LOONGARCH
}


def wanted(path: str) -> bool | Kept:
    return Kept(limit=ELF_HEAD, head=True) if path in SHELLS else False


def machine(head: bytes) -> str | None:
    """The OCI architecture an ELF header names; None if `head` is not one or is unknown."""
    if len(head) < ELF_HEAD or not head.startswith(_MAGIC):
        return None
    little = head[5] == _LITTLE
    number = int.from_bytes(head[18:20], "little" if little else "big")
    names = _MACHINES.get(number)
    if names is None:
        return None
    name = names[1] if head[4] == _CLASS64 else names[0]
    if little and name in ("ppc64", "mips", "mips64"):
        name += "le"
    return name


def read_architecture(view: View) -> str | None:
    """The architecture of the first of `SHELLS` in the image that is an ELF binary."""
    for path in SHELLS:
        entry = view.file(path)
        if entry is not None and entry.data is not None and (found := machine(entry.data)):
            return found
    return None
