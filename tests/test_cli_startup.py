"""Start-up is part of the CLI: `import imagekit.cli.app` (what `imagekit --help` and every
`imagekit <command> --help` run) loads typer and the command modules, never a library's heavy
dependency. Checked on `sys.modules` of a fresh interpreter, not on a timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from imagekit.cli import app, base, commands, conflicts
from imagekit.cli._faults import ExitCode
from imagekit.cli._output import table
from imagekit.cli.app import app as root
from imagekit.errors import Severity
from imagekit.lazy import lazy_exports

ROOT = Path(__file__).parent.parent
# Each costs from 0.05 to 3 s of CPU at import; none is needed to parse a command line.
HEAVY = (
    "numpy",
    "docker",
    "requests",
    "jsonschema",
    "cyclonedx",
    "jinja2",
    "rfc3987_syntax",
    "rich",
    "pydantic",
    "packaging",
)
COMMANDS = (
    *("init", "check", "plan", "render", "build", "inventory", "bake", "push", "pull", "attach"),
    "sbom",
    *("scan", "licenses", "probe", "compat", "diff", "verify", "update", "base list"),
    *("base build", "conflicts lock", "conflicts deploy", "cache ls", "cache prune"),
)
runner = CliRunner()


def loaded_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_cli_imports_no_heavy_dependency() -> None:
    assert not loaded_after("import imagekit.cli.app") & set(HEAVY)


def test_help_imports_no_heavy_dependency() -> None:
    """`imagekit --help` itself: typer's plain help, no rich."""
    code = (
        "import sys\nfrom imagekit.cli import main\nsys.argv = ['imagekit', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert not loaded_after(code) & set(HEAVY)


def test_the_probe_sees_what_is_imported() -> None:
    """The check above can fail: the same probe reports a heavy package once it is loaded."""
    assert "docker" in loaded_after("import imagekit.daemon; imagekit.daemon.docker_host()")
    assert "docker" in loaded_after("import docker")


def test_every_command_has_help() -> None:
    for args in [["--help"], *([*name.split(), "--help"] for name in COMMANDS)]:
        result = runner.invoke(app, args)
        assert result.exit_code == ExitCode.OK, (args, result.output)
        assert "Usage:" in result.stdout


def test_exit_codes_keep_their_numbers() -> None:
    """Scripts and CI read these numbers: README and each command's help name them."""
    assert {c.name: c.value for c in ExitCode} == {
        "OK": 0,
        "FAILED": 1,
        "INPUT": 2,
        "ENGINE": 3,
        "NO_DRIVER": 4,
        "NVML": 5,
        "INTERRUPTED": 130,
    }


def test_a_usage_error_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", str(tmp_path), "--all", "--tag", "x:1"])
    assert result.exit_code == ExitCode.INPUT
    assert result.stderr == "error: --tag cannot be used with --all\n"


def test_the_catalog_option_is_the_same_everywhere() -> None:
    """`--catalog` is declared once: the same help and environment variable on every command."""
    helps = {
        " ".join(args): runner.invoke(app, [*args, "--help"], terminal_width=200).stdout
        for args in (
            ["check"],
            ["plan"],
            ["build"],
            ["bake"],
            ["base", "list"],
            ["conflicts", "lock"],
        )
    }
    for name, text in helps.items():
        line = next(x for x in text.splitlines() if "--catalog" in x)
        assert "default: the one shipped with imagekit" in line, name
        assert "IMAGEKIT_BASE_IMAGES" in line, name


def test_table_aligns_every_column_but_the_last() -> None:
    rows = [("NAME", "VERSION", "NOTE"), ("a", "1.0", "long text"), ("longer", "2", "-")]
    assert table(rows) == [
        "NAME    VERSION  NOTE",
        "a       1.0      long text",
        "longer  2        -",
    ]


def test_table_cells_are_one_line_before_they_are_measured() -> None:
    assert table([("A", "B"), ("x\ny", "z")]) == ["A     B", "x\\ny  z"]


def test_lazy_exports_import_a_name_on_first_use() -> None:
    getter = lazy_exports("imagekit", {"errors": ("Severity",)})
    assert getter("Severity") is Severity
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        getter("Nothing")


def test_lazy_exports_refuse_a_name_its_module_would_shadow() -> None:
    with pytest.raises(ValueError, match=r"imagekit.vulns: scan would be shadowed by its module"):
        lazy_exports("imagekit.vulns", {"scan": ("scan",)})


def test_typer_apps_render_plain_help() -> None:
    """Rich help costs 0.2 s of start-up: every Typer app of the CLI turns it off."""
    apps: list[typer.Typer] = [root, base.app, conflicts.app]
    assert all(a.rich_markup_mode is None for a in apps)


def test_a_command_starts_with_its_own_module_only() -> None:
    """`imagekit check --help` builds the app with `check` alone: no other command's module."""
    code = (
        "import sys\nfrom imagekit.cli import main\nsys.argv = ['imagekit', 'check', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('imagekit.cli.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = done.stdout.splitlines()[-1]
    assert "'imagekit.cli.project'" in loaded
    assert "imagekit.cli.build" not in loaded and "imagekit.cli.scan" not in loaded


def test_the_one_command_app_parses_as_the_whole_app() -> None:
    """The same command line gives the same help and the same usage error either way."""
    whole_app = commands.app_for(["--help"])
    assert len(whole_app.registered_commands) + len(whole_app.registered_groups) == len(
        commands.COMMANDS
    )
    for args in (["check", "--help"], ["check", "--no-such-option"], ["base", "list", "--help"]):
        alone = runner.invoke(commands.app_for(args), args)
        whole = runner.invoke(commands.make_app(), args)
        assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), args
