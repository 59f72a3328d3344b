"""What the CLI prints when a command cannot go on: one line, an exit code, never a traceback.

Kept free of typer and of the command groups, so that `imagekit.cli.app.main` can use it while
those are still being imported (a Ctrl-C during start-up).
"""

from __future__ import annotations

import enum
import errno
import unicodedata

from imagekit.limits import MAX_ECHO, shown


class ExitCode(enum.IntEnum):
    """Every exit status of the CLI. A library error carries its own (`ImagekitError.exit_code`),
    one of these values; the CLI names them here and nowhere else."""

    OK = 0
    FAILED = 1  # findings, a denied licence, a vulnerability, outputs that differ
    INPUT = 2  # unreadable input, a usage error, or an environment that cannot take the output
    ENGINE = 3  # the daemon, the build engine or a registry failed
    NO_DRIVER = 4  # no NVIDIA driver on this machine
    NVML = 5  # the NVIDIA driver is there, but NVML failed
    INTERRUPTED = 130  # 128 + SIGINT, as shells report a process stopped by Ctrl-C


# An error line holds imagekit's own words and a few echoed inputs of at most MAX_ECHO each (a
# path, a name, a line of the file); a longer one is an input echoed whole, and is cut.
MAX_MESSAGE = 16 * MAX_ECHO
# Categories written escaped: control (C0, DEL, C1), format (bidi overrides), lone surrogates
# (undecodable file names), line and paragraph separators: the set `limits.shown` escapes.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# OS errors that reach the CLI from a full disk, a failing device or missing rights: the user
# fixes them outside imagekit, so they are one line naming the path (exit 2), not a traceback.
# Any other OSError is a bug in imagekit and keeps its traceback.
ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EACCES, errno.EPERM, errno.EROFS}
)
INTERRUPTED = "interrupted"
OUT_OF_MEMORY = (
    "error: out of memory reading the input; it is larger than any real one of its kind "
    "(check where it came from)"
)


def one_line(text: object) -> str:
    """`text` with every control character escaped, so it prints as exactly one line.

    Backslashes are left alone: text a library already passed through `shown` is not escaped
    twice."""
    value = str(text)
    if value.isprintable():  # the common case, checked in C
        return value
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _UNSAFE else ch
        for ch in value
    )


def message_line(text: object) -> str:
    """An error line: one line, cut at `MAX_MESSAGE` with the length it had."""
    line = one_line(text)
    if len(line) > MAX_MESSAGE:
        return f"{line[:MAX_MESSAGE]}… ({len(line)} characters)"
    return line


def os_error_line(error: OSError) -> str:
    """`error: PATH: REASON` for an OS error; the path is shown as any echoed input is."""
    reason = error.strerror or errno.errorcode.get(error.errno or 0, "operating system error")
    if error.filename is None:
        return f"error: {reason}"
    return f"error: {shown(error.filename)}: {reason}"
