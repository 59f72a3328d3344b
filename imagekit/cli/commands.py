"""Every imagekit command, where it lives, and the Typer app built from them.

`imagekit check ...` needs one command: `app_for` builds an app holding only the command named on
the command line, so start-up imports that command's module alone and typer turns one function
signature into a click command instead of all of them (half of `check`'s start-up before it was
built this way; benchmarks/startup.py). `imagekit --help`, an unknown command and the tests get
every command (`imagekit.cli.app.app`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Annotated

import typer

from imagekit import __version__
from imagekit.cli._faults import ExitCode

# name → (module under imagekit.cli, attribute): a function is one command, a Typer a group.
# The order is `imagekit --help`'s.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("project", "init"),
    "check": ("project", "check"),
    "plan": ("project", "plan"),
    "render": ("project", "render"),
    "build": ("build", "build"),
    "inventory": ("inventory", "inventory"),
    "bake": ("bake", "bake"),
    "push": ("registry", "push"),
    "pull": ("registry", "pull"),
    "attach": ("registry", "attach"),
    "sbom": ("sbom", "sbom"),
    "scan": ("scan", "scan"),
    "licenses": ("licenses", "licenses"),
    "probe": ("gpu", "probe"),
    "compat": ("gpu", "compat"),
    "base": ("base", "app"),
    "cache": ("cache", "app"),
    "diff": ("diff", "diff"),
    "verify": ("verify", "verify"),
    "update": ("update", "update"),
    "conflicts": ("conflicts", "app"),
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"imagekit {__version__}")
        raise typer.Exit(ExitCode.OK)


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """imagekit: model images that are reproducible and say what is inside them."""


def make_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The root app with the commands `names` (keys of COMMANDS), each module imported here."""
    app = typer.Typer(
        name="imagekit",
        help="Build reproducible container images for ML models, and tell the truth about them.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help and usage errors: rich, loaded for them, would double `imagekit --help`'s
        # start-up (see benchmarks/startup.py).
        rich_markup_mode=None,
        # As wide as the terminal up to 120 columns (click stops at 80): the policy format in
        # `licenses --help` and long option names stay on one line.
        context_settings={"max_content_width": 120},
    )
    for name in names:
        module, attribute = COMMANDS[name]
        command = getattr(importlib.import_module(f"imagekit.cli.{module}"), attribute)
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name)(command)
    # A callback keeps the app a group with one command: `imagekit check DIR`, not `imagekit DIR`.
    app.callback()(root)
    return app


def app_for(args: Sequence[str]) -> typer.Typer:
    """The app for this command line: only the command it names when its first word is one
    (root options come before it only as `--version`/`--help`, which need every command)."""
    if args and args[0] in COMMANDS:
        return make_app([args[0]])
    return make_app()
