"""The root Typer app with every command (imagekit.cli.commands lists them and where each lives).
Each command module imports its library only when the command runs, so `imagekit --help` and
`imagekit <command> --help` load no library; the console entry point builds an app holding only
the command it runs (`commands.app_for`)."""

from __future__ import annotations

from imagekit.cli.commands import make_app

app = make_app()
