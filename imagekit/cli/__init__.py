"""The `imagekit` command line: parse, call the library, render results, map errors to exits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagekit.cli._main import main

if TYPE_CHECKING:
    from imagekit.cli.app import app

__all__ = ["app", "main"]


def __getattr__(name: str) -> object:
    """`app`, the Typer app, is imported on first use: importing it is the CLI's start-up."""
    if name != "app":
        raise AttributeError(name)
    from imagekit.cli.app import app

    # Importing the submodule bound `imagekit.cli.app` to the module; the package's `app` is the
    # Typer app, as it always was.
    globals()["app"] = app
    return app
