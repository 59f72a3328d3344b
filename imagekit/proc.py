"""One way to run an outside tool: bounded output, a time limit, and one-line errors naming it.

Every command imagekit runs (pip, gpgv, dpkg-deb, mmdebstrap, buildah, skopeo, uv, poetry,
its own bytecode workers) goes through `run` (output captured) or `stream` (each line passed
on as it comes). A tool that cannot start, fails or runs past its time raises the caller's
error type with one line: what was run, its exit status and its last lines of output.
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from imagekit.errors import ImagekitError
from imagekit.limits import MAX_ECHO, escaped

# stdout is the result a caller parses (a marshalled bytecode batch, a config listing): whole
# or refused. stderr is only ever shown as a tail.
MAX_STDOUT = 256 << 20
_STDERR_KEEP = 64 << 10
_TAIL_LINES = 3
_CHUNK = 1 << 16
# An interrupted tool gets this long to clean up after SIGTERM (mmdebstrap unmounts its chroot).
_TERMINATE_WAIT_S = 120

ErrorType = Callable[[str], Exception]


class ToolError(ImagekitError):
    """An outside tool could not start, failed, or ran past its time."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    """A command that ran to its end: its exit status and what it printed."""

    what: str
    returncode: int
    stdout: bytes
    stderr: bytes  # its last `_STDERR_KEEP` bytes

    @property
    def text(self) -> str:
        """stdout as text (undecodable bytes replaced)."""
        return self.stdout.decode(errors="replace")

    @property
    def error_text(self) -> str:
        """stderr as text (undecodable bytes replaced)."""
        return self.stderr.decode(errors="replace")

    def tail(self, lines: int = _TAIL_LINES) -> str:
        """Its last non-blank lines of stderr (else stdout), joined with " | "."""
        return last_lines((self.error_text.strip() or self.text).splitlines(), lines)

    def failure(self, lines: int = _TAIL_LINES) -> str:
        """The one-line error for this command's failure."""
        return f"{self.what} failed (exit {self.returncode}): {self.tail(lines)}"


def last_lines(lines: Sequence[str], count: int = _TAIL_LINES) -> str:
    """The last `count` non-blank lines, each made safe to print (`tool_line`), joined with
    " | "; "no output" if none."""
    kept = [tool_line(line.strip()) for line in lines if line.strip()]
    return " | ".join(kept[-count:]) or "no output"


def tool_line(line: str) -> str:
    """A line a tool printed, safe to print (`shown`); a long one keeps its start and its end,
    where tools put the cause ("Error: committing container for step {…700 characters…}: …:
    no space left on device")."""
    safe = escaped(line)
    if len(safe) <= MAX_ECHO:
        return safe
    half = MAX_ECHO // 2
    return f"{safe[:half]}… ({len(line)} characters) …{safe[-half:]}"


def run(
    command: Sequence[str],
    *,
    what: str,
    timeout: float,
    error: ErrorType = ToolError,
    check: bool = True,
    tail_lines: int = _TAIL_LINES,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    stdout: Path | None = None,
) -> Finished:
    """Run `command` to its end and capture its output (or write stdout to the file `stdout`).

    `what` names it in errors ("dpkg-deb --fsys-tarfile x.deb"). Raises `error(message)` when
    the tool cannot start, runs past `timeout` seconds (it is killed), prints more than
    `MAX_STDOUT` bytes, or (with `check`) exits non-zero.
    """
    with ExitStack() as stack:
        sink = subprocess.PIPE if stdout is None else stack.enter_context(stdout.open("wb"))
        try:
            process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                stdout=sink,
                stderr=subprocess.PIPE,
            )
        except OSError as e:
            raise error(f"{what} could not start: {e.strerror or e}") from e
        with process:
            if stdin is not None and process.stdin is not None:
                threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True).start()
            out = _Reader(process.stdout, MAX_STDOUT, keep_tail=False)
            err = _Reader(process.stderr, _STDERR_KEEP, keep_tail=True)
            _wait(process, what, timeout, error)
            output, errors = out.result(), err.result()
    if output is None:
        raise error(f"{what} printed more than {MAX_STDOUT >> 20} MiB")
    done = Finished(what=what, returncode=process.returncode, stdout=output, stderr=errors or b"")
    if check and done.returncode != 0:
        raise error(done.failure(tail_lines))
    return done


def stream(
    command: Sequence[str],
    *,
    what: str,
    timeout: float,
    on_line: Callable[[str], None],
    error: ErrorType = ToolError,
    tail_lines: int = _TAIL_LINES,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run `command`, passing each line of its output (stdout and stderr merged) to `on_line`.

    Raises `error(message)` with its last lines when it cannot start, exits non-zero or runs
    past `timeout` seconds (it is killed). Interrupted, the tool is sent SIGTERM and waited for.
    """
    tail: deque[str] = deque(maxlen=tail_lines)
    try:
        process = subprocess.Popen(
            list(command),
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as e:
        raise error(f"{what} could not start: {e.strerror or e}") from e
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(timeout, expire)
    timer.start()
    with process:
        try:
            for raw in process.stdout or ():
                if line := raw.rstrip():
                    tail.append(line)
                    on_line(line)
        except BaseException:
            process.terminate()
            process.wait(timeout=_TERMINATE_WAIT_S)
            raise
        finally:
            timer.cancel()
    if expired.is_set():
        raise error(f"{what} ran past {timeout:g} s: {last_lines(tail, tail_lines)}")
    if process.returncode != 0:
        raise error(f"{what} failed (exit {process.returncode}): {last_lines(tail, tail_lines)}")


class _Reader(threading.Thread):
    """Drains one pipe (so the tool never blocks on a full one), keeping a bounded copy: its
    tail (`keep_tail`), or all of it up to `limit` bytes (beyond that, nothing: `result` None)."""

    def __init__(self, pipe: IO[bytes] | None, limit: int, *, keep_tail: bool) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit, self.keep_tail = pipe, limit, keep_tail
        self.data = bytearray()
        self.overflow = False
        self.start()

    def run(self) -> None:
        if self.pipe is None:  # not captured: stdout written to a file
            return
        while chunk := self.pipe.read(_CHUNK):
            self.data += chunk
            if len(self.data) > self.limit:
                self.overflow = self.overflow or not self.keep_tail
                del self.data[: len(self.data) - self.limit]

    def result(self) -> bytes | None:
        self.join()
        return None if self.overflow else bytes(self.data)


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
    except BrokenPipeError:  # the tool exited before reading it all; its status says why
        pass
    finally:
        with suppress(BrokenPipeError):
            pipe.close()


def _wait(process: subprocess.Popen[bytes], what: str, timeout: float, error: ErrorType) -> None:
    """Wait for the tool; killed when it runs past `timeout` or the wait is interrupted."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        process.kill()
        process.wait()
        raise error(f"{what} ran past {timeout:g} s") from e
    except BaseException:
        process.kill()
        process.wait()
        raise
