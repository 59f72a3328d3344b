"""The one containment rule for every path a user's file names.

A lock's `-r`/`-c` includes, model artifacts, application files and the outputs `imagekit
verify --record` keeps all name files by path, and each of those paths may be written by
someone else: a lock copied from a repository, a spec from a pull request, an image's own
command. Whatever the path says, imagekit reads only

- a path inside the folder it belongs to (the project, the outputs folder), after every
  symbolic link is followed: no absolute path, no `..` that climbs out, no link that leads out;
- a regular file: a FIFO, a device, a socket or a folder is refused from its `stat`, before it
  is opened for reading (a FIFO would block, `/dev/zero` never ends), and checked again on the
  opened descriptor, which is opened without blocking;
- at most a bounded number of bytes where the whole file is read into memory.
"""

from __future__ import annotations

import os
import stat
from io import BufferedReader
from pathlib import Path

from imagekit.errors import InputError, Location
from imagekit.limits import shown

# Text files a spec or a lock names (locks and their includes) are kilobytes to a few
# megabytes; uv.lock of a large monorepo stays under 10 MB. Model artifacts are streamed and
# have no such bound.
MAX_PROJECT_TEXT = 64 << 20

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def kind_of(mode: int) -> str:
    """What a file of `mode` is, in words ("a regular file", "a FIFO", ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def contained(
    root: Path,
    base: Path,
    value: str,
    where: Location,
    what: str,
    *,
    error: type[InputError] = InputError,
) -> Path:
    """`base / value`, checked to stay inside `root` once every symbolic link is followed.

    Returns the joined path as written (for messages); reading it reaches the same file.
    Raises `error` (at `where`) for an empty path, a NUL character, an absolute path, a path
    whose `..` climbs out of `root`, or a symbolic link that leads out of it.
    """
    name = shown(value)
    if not value or "\0" in value:
        why = "is empty" if not value else "contains a NUL character"
        raise error(where, f"{what} {name} {why}", "name a file inside the project folder")
    if Path(value).is_absolute():
        raise error(
            where,
            f"{what} {name} is an absolute path; only files inside {root} are read",
            "copy the file into the project folder and name it by a relative path",
        )
    joined = base / value
    # As written first (`..` that climbs out), then as the file system resolves it (links):
    # the folder itself may be reached through a link, so each is compared with its own kind.
    written_top = Path(os.path.normpath(root.absolute()))
    if not Path(os.path.normpath(joined.absolute())).is_relative_to(written_top):
        raise error(
            where,
            f"{what} {name} is outside the project folder {written_top}",
            "copy the file into the project folder and name it by a relative path",
        )
    try:
        top = root.resolve()
        resolved = joined.resolve()
    except (OSError, RuntimeError) as e:  # RuntimeError: a symbolic link loop (Python < 3.13)
        raise error(
            where, f"{what} {name} cannot be resolved: {shown(e)}", "replace the link by the file"
        ) from e
    if not resolved.is_relative_to(top):
        raise error(
            where,
            f"{what} {name} is a symbolic link that leads out of the project folder {top}",
            "replace the link by the file itself",
        )
    return joined


def open_regular(
    path: Path,
    where: Location,
    what: str,
    *,
    error: type[InputError] = InputError,
) -> BufferedReader:
    """Open a regular file for reading; never blocks on a FIFO, never reads a device.

    Raises `FileNotFoundError` for a missing file (the caller knows the fix), and `error` for
    anything that is not a regular file or cannot be opened.
    """
    name = shown(path.name)
    try:
        mode = path.stat().st_mode
        if stat.S_ISREG(mode):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else shown(e)
        raise error(where, f"cannot read {what} {name}: {reason}") from e
    if not stat.S_ISREG(mode):
        raise error(
            where, f"{what} {name} is {kind_of(mode)}, not a regular file", "name a regular file"
        )
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between stat and open
        os.close(fd)
        raise error(where, f"{what} {name} is not a regular file", "name a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular(
    path: Path,
    where: Location,
    what: str,
    *,
    error: type[InputError] = InputError,
    max_bytes: int = MAX_PROJECT_TEXT,
) -> bytes:
    """The bytes of a regular file of at most `max_bytes`.

    Raises `FileNotFoundError` for a missing file, and `error` for anything `open_regular`
    refuses or a file larger than `max_bytes`.
    """
    with open_regular(path, where, what, error=error) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise error(where, f"cannot read {what} {shown(path.name)}: {e.strerror}") from e
    if len(data) > max_bytes:
        raise error(
            where,
            f"{what} {shown(path.name)} is larger than the limit of {max_bytes} bytes",
            "this is not a real file of its kind; check where it came from",
        )
    return data
