"""Shared CLI rendering: the one way text reaches the terminal, findings and errors on stderr.

Everything the CLI prints goes through `out` (stdout) or `err` (stderr), line by line. Names,
versions, licences and paths come from images, SBOMs and lockfiles that anyone may have written,
so each line is made safe there (`_faults.one_line`): a newline that would forge a record, an
escape sequence that would clear the screen or a bidi override is written as `\\xNN`/`\\uNNNN`,
and an error line is cut at `MAX_MESSAGE`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from imagekit import progress
from imagekit.cli._faults import (
    ENVIRONMENT_ERRNOS,
    INTERRUPTED,
    OUT_OF_MEMORY,
    ExitCode,
    message_line,
    one_line,
    os_error_line,
)
from imagekit.errors import Finding, FindingsError, ImagekitError, Severity

P = ParamSpec("P")
R = TypeVar("R")


class UsageError(ImagekitError):
    """Options that cannot go together, or a value an option cannot take: `error: ...`, exit 2,
    as every other error line of the CLI."""

    exit_code = ExitCode.INPUT


def out(text: object = "") -> None:
    """Print one line on stdout; a newline inside `text` is shown as `\\n`, not obeyed."""
    typer.echo(one_line(text))


def out_block(text: str) -> None:
    """Print a rendered block (a report, JSON) on stdout: its own line breaks are kept and each
    line is made safe as `out` makes it; a renderer escapes what it puts inside one line."""
    for line in text.splitlines():
        out(line)


def out_json(data: object) -> None:
    """Print `data` as indented JSON on stdout."""
    out_block(json.dumps(data, indent=2))


def err(text: object) -> None:
    """Print one line on stderr: control characters escaped, cut at `MAX_MESSAGE`."""
    typer.echo(message_line(text), err=True)


class ProgressLines:
    """Progress lines on stderr: above the bars on a terminal (`progress.note`), plain in a pipe,
    none with `--quiet`."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, line: str) -> None:
        if self.quiet:
            return
        text = one_line(line.rstrip().replace("\t", " "))
        if not progress.note(text):
            err(text)


def table(rows: Sequence[Sequence[object]]) -> list[str]:
    """Aligned columns two spaces apart, the first row a header. Every cell is made one line
    before it is measured; the last column is not padded (a reason or a licence may be long)."""
    cells = [[one_line(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in cells
    ]


def print_findings(findings: Iterable[Finding]) -> None:
    for finding in findings:
        err(
            f"{finding.location}: {finding.severity.value}: {finding.message} "
            f"[{finding.rule}] (fix: {finding.fix})"
        )


def findings_json(findings: Iterable[Finding]) -> str:
    found = list(findings)
    errors = sum(1 for f in found if f.severity is Severity.ERROR)
    return json.dumps(
        {"ok": errors == 0, "errors": errors, "findings": [f.to_dict() for f in found]}, indent=2
    )


def fail_if(failed: bool) -> None:
    """Exit 1 (`ExitCode.FAILED`) when the command found what it exists to refuse."""
    if failed:
        raise typer.Exit(ExitCode.FAILED)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Map imagekit's errors, Ctrl-C, environment faults (`ENVIRONMENT_ERRNOS`) and exhausted
    memory to one line and an exit code."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except FindingsError as e:
            print_findings(e.findings)
            raise typer.Exit(e.exit_code) from None
        except ImagekitError as e:
            err(f"error: {e}")
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err(INTERRUPTED)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except MemoryError:
            # A reader without a bound met a hostile input; what it held is freed by now.
            err(OUT_OF_MEMORY)
            raise typer.Exit(ExitCode.INPUT) from None
        except OSError as e:
            if e.errno not in ENVIRONMENT_ERRNOS:
                raise  # not the environment's fault: a bug, with its traceback
            err(os_error_line(e))
            raise typer.Exit(ExitCode.INPUT) from None

    return wrapper
