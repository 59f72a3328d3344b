"""The console entry point: start the CLI, and turn what escapes it into one line and an exit.

The commands are imported inside `main`, so a Ctrl-C during start-up (typer, the command's module
and the libraries it loads) is "interrupted" and exit 130 rather than a traceback.
`imagekit.cli.commands` builds the Typer app, with only the command that runs.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from imagekit.cli._faults import (
    ENVIRONMENT_ERRNOS,
    INTERRUPTED,
    OUT_OF_MEMORY,
    ExitCode,
    message_line,
    os_error_line,
)


def main() -> None:
    """Run the imagekit command line. Errors a command maps itself (`handle_errors`) never get
    here; what does is mapped so: Ctrl-C (during start-up, or outside a command) exit 130; a
    full disk, a failing device or missing rights (`ENVIRONMENT_ERRNOS`) exit 2 naming the path;
    exhausted memory exit 2; a closed stdout (`| head`) a quiet exit. Any other exception is a
    bug in imagekit and keeps its traceback."""
    try:
        from imagekit.cli.commands import app_for

        app_for(sys.argv[1:])()
    except KeyboardInterrupt:
        _fail(INTERRUPTED, ExitCode.INTERRUPTED)
    except MemoryError:
        _fail(OUT_OF_MEMORY, ExitCode.INPUT)
    except BrokenPipeError:
        _closed_stdout()
    except OSError as e:
        if e.errno not in ENVIRONMENT_ERRNOS:
            raise
        _fail(os_error_line(e), ExitCode.INPUT)


def _fail(line: str, code: ExitCode) -> NoReturn:
    sys.stderr.write(message_line(line) + "\n")
    sys.stderr.flush()
    raise SystemExit(code)


def _closed_stdout() -> NoReturn:
    """The reader of stdout went away (`imagekit ... | head`): stop quietly, exit 1. stdout is
    pointed at /dev/null so that flushing it at exit does not raise again: the recipe of
    Python's docs ("Note on SIGPIPE", module `signal`), and what click does for a broken pipe
    inside a command."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(ExitCode.FAILED)
