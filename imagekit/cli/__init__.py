"""The `imagekit` command line: parse, call the library, render results, map errors to exits."""

from __future__ import annotations

from imagekit.cli.app import app, main

__all__ = ["app", "main"]
