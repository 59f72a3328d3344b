"""The SYSTEM layer without dpkg running: real .deb files (built here with dpkg-deb), the base's
merged-/usr links followed, dpkg's database updated, maintainer scripts refused."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from imagekit.build.oci.rootfs import BaseFacts
from imagekit.build.oci.system import system_tree
from imagekit.image.errors import OciError
from imagekit.image.tarlayer import Tree

pytestmark = pytest.mark.skipif(
    shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed (apt-get install dpkg)"
)
LIBC = """Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9+deb12u10
Description: GNU C Library: Shared libraries"""
CONF = b"setting = 1\n"


def _deb(tmp: Path, name: str, postinst: str) -> Path:
    root = tmp / name
    (root / "DEBIAN").mkdir(parents=True)
    control = (
        f"Package: {name}\nVersion: 1.0-1\nArchitecture: amd64\nMulti-Arch: same\n"
        "Maintainer: Test <test@example.org>\nDescription: a test library\n  second line\n"
    )
    (root / "DEBIAN" / "control").write_text(control)
    (root / "DEBIAN" / "conffiles").write_text("/etc/demo.conf\n")
    script = root / "DEBIAN" / "postinst"
    script.write_text(postinst)
    script.chmod(0o755)
    for path, data in {
        "lib/x86_64-linux-gnu/libdemo.so.1": b"\x7fELF not really",
        "etc/demo.conf": CONF,
        f"usr/share/doc/{name}/copyright": b"MIT",
        f"usr/share/doc/{name}/changelog.gz": b"gz",
        "usr/share/man/man1/demo.1.gz": b"man",
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    deb = tmp / f"{name}_1.0-1_amd64.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


FACTS = BaseFacts(
    files=(("var/lib/dpkg/status", LIBC + "\n"),),
    symlinks=(("lib", "usr/lib"), ("bin", "usr/bin")),
)
LDCONFIG = (
    '#!/bin/sh\nset -e\n# added by dh_makeshlibs\nif [ "$1" = "configure" ]; then\n\tldconfig\nfi\n'
)


def _read(tree: Tree, path: str) -> bytes:
    entry = tree.entries[path]
    assert entry.opener is not None
    with entry.opener() as f:
        return f.read()


def test_a_library_package(tmp_path: Path) -> None:
    deb = _deb(tmp_path, "libdemo1", LDCONFIG)
    with ExitStack() as stack:
        tree = system_tree([deb], FACTS, tmp_path, stack, mtime=315532800)
        paths = set(tree.entries)
        # the base's /lib is a link to usr/lib: the files follow it, the link stays
        assert "usr/lib/x86_64-linux-gnu/libdemo.so.1" in paths
        assert not [p for p in paths if p == "lib" or p.startswith("lib/")]
        # dpkg's path excludes of the base: no docs but the copyright, no man pages
        assert "usr/share/doc/libdemo1/copyright" in paths
        assert "usr/share/doc/libdemo1/changelog.gz" not in paths
        assert "usr/share/man/man1/demo.1.gz" not in paths
        listing = _read(tree, "var/lib/dpkg/info/libdemo1:amd64.list").decode().splitlines()
        assert listing[0] == "/." and "/lib/x86_64-linux-gnu/libdemo.so.1" in listing
        assert tree.entries["var/lib/dpkg/info/libdemo1:amd64.postinst"].mode == 0o755
        status = _read(tree, "var/lib/dpkg/status").decode()
    stanzas = status.strip().split("\n\n")
    assert [s.split("\n")[0] for s in stanzas] == ["Package: libc6", "Package: libdemo1"]
    ours = stanzas[1]
    assert ours.splitlines()[1] == "Status: install ok installed"
    md5 = hashlib.md5(CONF, usedforsecurity=False).hexdigest()
    assert f"Conffiles:\n /etc/demo.conf {md5}\nDescription: a test library\n  second line" in ours


def test_a_package_whose_postinst_does_more_is_refused(tmp_path: Path) -> None:
    deb = _deb(tmp_path, "demo-daemon", "#!/bin/sh\nset -e\nadduser --system demo\n")
    with (
        ExitStack() as stack,
        pytest.raises(
            OciError,
            match=r"demo-daemon_1\.0-1_amd64\.deb: its postinst runs `adduser --system demo`, and "
            r"imagekit's own layers \(--backend oci or docker\) run no maintainer scripts; build this model with --backend dockerfile or buildah",
        ),
    ):
        system_tree([deb], FACTS, tmp_path, stack, mtime=0)


def test_a_base_without_dpkg(tmp_path: Path) -> None:
    deb = _deb(tmp_path, "libdemo1", LDCONFIG)
    with (
        ExitStack() as stack,
        pytest.raises(OciError, match=r"the base has no var/lib/dpkg/status"),
    ):
        system_tree([deb], BaseFacts(files=(), symlinks=()), tmp_path, stack, mtime=0)
