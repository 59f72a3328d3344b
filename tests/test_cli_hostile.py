"""The CLI over hostile input: every bad-input asset of tests/data read by each command that
reads it gives one-line errors and an exit code, never a traceback; text from an image, an SBOM
or an export is printed one record per line with no terminal control byte; faults outside a
command (Ctrl-C during start-up, a closed pipe) are one line or silent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from imagekit.cli import app
from imagekit.cli._faults import MAX_MESSAGE, one_line
from imagekit.limits import shown

DATA = Path(__file__).parent / "data"
RECORDS = DATA / "osv" / "records"
POLICY = DATA / "sbom" / "policies" / "example.policy.toml"
GOLDEN_SBOM = DATA / "sbom" / "iris-cuda.cyclonedx-json.1.6.golden"
CORPUS = ("locks", "projects", "osv", "sbom", "inventory", "diff", "conflicts", "hostile")
EXITS = {0, 1, 2}  # clean, findings, unreadable input
HOSTILE = "evil\nFORGED LINE\x1b[2J\u202e"  # a forged line, a screen clear, a bidi override
ESC = "\x1b"

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    """Run the CLI in-process; return (exit code, stdout and stderr). `color=True` keeps click
    from stripping escape sequences, as a terminal would receive them."""
    result = runner.invoke(app, [str(a) for a in args], color=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: uncaught {result.exception!r}\n{result.output}")
    return result.exit_code, result.stdout + result.stderr


def write_sbom(path: Path, components: list[dict[str, object]]) -> Path:
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}
    path.write_text(json.dumps(doc))
    return path


# --- the corpus -------------------------------------------------------------------------------


def corpus() -> Iterator[Path]:
    for folder in CORPUS:
        for path in sorted((DATA / folder).rglob("*")):
            if path.is_file() and path.suffix != ".md":
                yield path


def commands(path: Path, sbom: Path) -> Iterator[list[str | Path]]:
    """Each command line that reads `path` as what it is (or claims to be)."""
    yield ["diff", path, path]  # a lockfile, an SBOM, an Inventory JSON: whatever the file is
    name = path.name
    if path.parent.parent.name == "osv" or (name.endswith(".json") and "osv" in path.parts):
        yield ["scan", sbom, "--osv", path]
    if name.endswith(".policy.toml"):
        yield ["licenses", sbom, "--policy", path]
    if name.endswith(".risk.toml"):
        yield ["diff", DATA / "diff" / "requirements.iris-numpy-2.4.lock", path, "--risk", path]
    if "cyclonedx" in name:
        yield ["scan", path, "--osv", RECORDS]
        yield ["licenses", path, "--policy", POLICY]
    if name == "deploy.toml":
        yield ["conflicts", "deploy", path]


def test_no_asset_of_the_corpus_gives_a_traceback(tmp_path: Path) -> None:
    sbom = write_sbom(
        tmp_path / "py.cdx.json",
        [{"type": "library", "name": "py", "version": "1.11.0", "purl": "pkg:pypi/py@1.11.0"}],
    )
    runs = 0
    for path in corpus():
        for args in commands(path, sbom):
            code, output = invoke(*args)
            runs += 1
            assert "Traceback" not in output, (args, output)
            assert code in EXITS, (args, code, output)
    assert runs > 80  # every folder was walked


@pytest.mark.parametrize(
    "asset",
    [
        "invalid-utf8.METADATA",
        "numpy.METADATA",
    ],
)
def test_inventory_assets_in_a_root_file_system(tmp_path: Path, asset: str) -> None:
    """The image readers' bad assets, placed where an image holds them."""
    root = tmp_path / "rootfs"
    info = root / "usr/lib/python3/dist-packages/pkg-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_bytes((DATA / "inventory" / asset).read_bytes())
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_bytes((DATA / "inventory" / "malformed.status").read_bytes())
    readers: list[list[str | Path]] = [
        ["inventory", root],
        ["sbom", root],
        ["scan", root, "--osv", RECORDS],
    ]
    for args in readers:
        code, output = invoke(*args)
        assert "Traceback" not in output, (args, output)
        assert code in EXITS, (args, code, output)


def test_project_folders_of_the_corpus_are_checked_without_a_traceback() -> None:
    folders = sorted({p.parent for p in corpus() if p.name == "imagekit.toml"})
    assert folders
    for folder in folders:
        code, output = invoke("check", folder)
        assert "Traceback" not in output, (folder, output)
        assert code in EXITS, (folder, code, output)


# --- text from the input is shown, not obeyed ------------------------------------------------


def one_record_per_line(output: str) -> None:
    assert ESC not in output
    assert "\u202e" not in output
    assert "\\x1b[2J" in output  # shown, escaped, on the record's own line
    for line in output.splitlines():
        assert not line.startswith("FORGED"), output


def test_scan_shows_a_hostile_package_name_on_one_line(tmp_path: Path) -> None:
    sbom = write_sbom(
        tmp_path / "image.cdx.json",
        [{"type": "library", "name": HOSTILE, "version": "1.11.0", "purl": "pkg:pypi/py@1.11.0"}],
    )
    code, output = invoke("scan", sbom, "--osv", RECORDS)
    assert code == 0, output
    one_record_per_line(output)
    [row] = [line for line in output.splitlines() if "CVE-2022-42969" in line]
    assert "evil\\nFORGED LINE\\x1b[2J\\u202e" in row


def test_licenses_shows_a_hostile_name_and_licence_on_one_line(tmp_path: Path) -> None:
    sbom = write_sbom(
        tmp_path / "image.cdx.json",
        [
            {
                "type": "library",
                "name": HOSTILE,
                "version": "1.0\n2.0",
                "purl": "pkg:pypi/evil@1.0",
                "licenses": [{"license": {"name": "MIT\x1b[2J\nFORGED"}}],
            }
        ],
    )
    code, output = invoke("licenses", sbom, "--policy", POLICY)
    assert code in {0, 1}, output
    one_record_per_line(output)


def test_inventory_shows_hostile_artifact_names_from_the_plan_on_one_line(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    plan = root / "usr/share/imagekit/plan.json"
    plan.parent.mkdir(parents=True)
    artifact = {"name": HOSTILE, "dest": "/models/m\nFORGED.bin", "sha256": "0" * 64}
    plan.write_text(json.dumps({"artifacts": [artifact]}))
    code, output = invoke("inventory", root)
    assert code == 1, output  # the artifact is missing: NOT verified
    one_record_per_line(output)
    assert "evil\\nFORGED LINE\\x1b[2J\\u202e: /models/m\\nFORGED.bin NOT verified" in output


def test_a_warning_naming_a_hostile_file_is_one_line(tmp_path: Path) -> None:
    export = tmp_path / "osv"
    export.mkdir()
    (export / f"{HOSTILE}.json").write_text("{not json")
    sbom = write_sbom(tmp_path / "image.cdx.json", [])
    code, output = invoke("scan", sbom, "--osv", export)
    assert code == 0, output
    one_record_per_line(output)
    [warning] = [line for line in output.splitlines() if "not a valid OSV record" in line]
    assert "evil\\nFORGED LINE\\x1b[2J\\u202e.json" in warning


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("numpy 2.4.6", "numpy 2.4.6"),
        ("café 東京 ε", "café 東京 ε"),  # text is not a control character
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x1b[2J\x9b\u2028\u202e", "\\x1b[2J\\x9b\\u2028\\u202e"),
        (shown("C:\\x.json\n"), "C:\\\\x.json\\n"),  # escaped once, not twice
    ],
)
def test_one_line(text: str, line: str) -> None:
    assert one_line(text) == line
    assert one_line(line) == line


def test_an_error_never_echoes_a_megabyte(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("x" * (1 << 20) + ' = "1.0"\n')  # echoed by the reader's error, cut
    code, output = invoke("diff", lock, lock)
    assert code == 2, output[:500]
    assert "not a valid requirement" in output
    assert all(len(line) <= MAX_MESSAGE + 40 for line in output.splitlines())
    assert len(output) < 4 * MAX_MESSAGE


# --- faults outside a command: the real entry point ------------------------------------------

ENTRY = "from imagekit.cli import main; main()"
# Ctrl-C while the commands are imported: a finder that raises it for imagekit.cli.commands,
# where a real Ctrl-C during start-up lands.
INTERRUPT_AT_START = """
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "imagekit.cli.commands":
            raise KeyboardInterrupt
        return None
sys.meta_path.insert(0, Interrupt())
from imagekit.cli import main
main()
"""


def run_entry(code: str, *args: str, stdout: int | None = subprocess.PIPE) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
        env=os.environ | {"NO_COLOR": "1"},
    )
    return done.returncode, done.stderr


def test_ctrl_c_during_start_up_is_one_line_and_exit_130() -> None:
    code, stderr = run_entry(INTERRUPT_AT_START, "--version")
    assert (code, stderr) == (130, "interrupted\n")


@pytest.mark.slow  # the whole CLI starts in a subprocess: seconds on a loaded machine
def test_a_closed_pipe_is_a_quiet_exit(tmp_path: Path) -> None:
    """`imagekit diff ... | head -c 1`: the reader goes away while the diff is printed."""
    old = tmp_path / "old" / "requirements.txt"
    new = tmp_path / "new" / "requirements.txt"
    old.parent.mkdir()
    new.parent.mkdir()
    old.write_text("".join(f"pkg{i}==1.0 --hash=sha256:{'a' * 64}\n" for i in range(3000)))
    new.write_text("".join(f"pkg{i}==2.0 --hash=sha256:{'b' * 64}\n" for i in range(3000)))
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read: the first write raises BrokenPipeError
    try:
        code, stderr = run_entry(ENTRY, "diff", str(old), str(new), stdout=writer)
    finally:
        os.close(writer)
    assert stderr == ""
    assert code == 1


def test_a_full_disk_under_stdout_is_one_line_and_exit_2() -> None:
    """/dev/full answers every write with ENOSPC: a real full disk, under the command's output."""
    with open("/dev/full", "w") as full:  # noqa: PTH123 - a device, not a path we manage
        code, stderr = run_entry(ENTRY, "base", "list", stdout=full.fileno())
    assert (code, stderr) == (2, "error: No space left on device\n")


# Memory runs out: the address space is capped 100 MB above what the started CLI holds, and a
# 200 MB (sparse) file is read whole. A real MemoryError, raised where a reader meets it.
OUT_OF_MEMORY = """
import resource, sys
import imagekit.cli.app  # start-up first: the cap is on what the command reads
size = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize"))
cap = size * 1024 + (100 << 20)
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from imagekit.cli import main
main()
"""


@pytest.mark.slow  # the whole CLI starts in a subprocess: seconds on a loaded machine
def test_memory_running_out_is_one_line_and_exit_2(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(200 << 20)
    code, stderr = run_entry(OUT_OF_MEMORY, "diff", str(big), str(big))
    assert (code, stderr) == (
        2,
        "error: out of memory reading the input; it is larger than any real one of its kind "
        "(check where it came from)\n",
    )
