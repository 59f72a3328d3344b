"""Progress of long steps (wheels fetched, layers written, blobs pushed and pulled, base builds),
shown with sizes and rates to a person at a terminal, and to nobody else.

The library reports; it never decides to draw. A step is a context manager, `step(...)`, whose
handle counts bytes with `advance(nbytes)`; `advance` alone counts for the innermost step open in
the calling thread, for a writer several calls below the code that knows what the step is.
Until the CLI opens `shown(...)` every step is silent and costs one attribute read, so library
callers, tests and pipelines see nothing. `shown` draws only on a terminal: not when stderr is a
pipe or a file, not when `CI` is set (CI systems set it; their logs are files that a redrawn bar
fills with thousands of lines), not with `--quiet`. rich is imported only then.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["Display", "Step", "advance", "note", "shown", "step", "verbose", "wanted"]


class Step(Protocol):
    """One long step; `advance` counts the bytes it has handled."""

    def advance(self, nbytes: int) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Display:
    """How the CLI asked for output: `quiet` shows no progress, `verbose` asks engines for their
    whole log instead of a summary."""

    quiet: bool = False
    verbose: bool = False


class _Silent:
    def advance(self, nbytes: int) -> None:
        pass


@dataclass(frozen=True, slots=True)
class _Drawn:
    bars: Progress
    task: TaskID

    def advance(self, nbytes: int) -> None:
        self.bars.advance(self.task, nbytes)


class _State(threading.local):
    """The steps open in this thread, innermost last."""

    def __init__(self) -> None:
        self.open: list[Step] = []


class _Shown:
    """What `shown` set up, for the whole process (worker threads fetch wheels too)."""

    display: Display | None = None
    bars: Progress | None = None  # while drawn


_SILENT = _Silent()
_threads = _State()
_shown = _Shown()


def wanted(display: Display, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether progress is drawn: a terminal, not CI, not quiet."""
    return not display.quiet and stream.isatty() and not environ.get("CI")


def verbose() -> bool:
    """Whether the command asked for engines' whole logs (`--verbose`)."""
    return _shown.display is not None and _shown.display.verbose


@contextmanager
def shown(
    display: Display, *, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> Iterator[None]:
    """Draw the steps opened inside on `stream` (stderr) when `wanted`; otherwise draw nothing.
    Bars stay on screen once done, so the sizes and rates remain readable."""
    target = sys.stderr if stream is None else stream
    _shown.display = display
    try:
        if not wanted(display, target, os.environ if environ is None else environ):
            yield
            return
        with _bars(target) as bars:
            _shown.bars = bars
            try:
                yield
            finally:
                _shown.bars = None
    finally:
        _shown.display = None


@contextmanager
def _bars(stream: TextIO) -> Iterator[Progress]:
    # rich only when something is drawn: `imagekit --help` and every pipe stay without it.
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    console = Console(file=stream, force_terminal=True)
    columns = (
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=False),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    # Lines others write to stderr meanwhile go above the bars (rich redirects it).
    with Progress(*columns, console=console, transient=False) as bars:
        yield bars


@contextmanager
def step(description: str, total: int | None = None) -> Iterator[Step]:
    """A step of `total` bytes (None: not known beforehand); drawn while `shown` draws."""
    bars = _shown.bars
    handle: Step = _SILENT
    if bars is not None:
        handle = _Drawn(bars, bars.add_task(description, total=total))
    _threads.open.append(handle)
    try:
        yield handle
    finally:
        _threads.open.pop()
        if isinstance(handle, _Drawn):
            _finish(handle.bars, handle.task)


def _finish(bars: Progress, task_id: TaskID) -> None:
    """Show the step done: its bar full at the bytes it counted, its rate the whole step's
    average (rich forgets its samples when a total is set late). A step that counted nothing
    (a base reused as it was) leaves no bar."""
    task = next(t for t in bars.tasks if t.id == task_id)
    done, elapsed = task.completed, task.elapsed or 0.0
    if not done:
        bars.remove_task(task_id)
        return
    bars.update(task_id, total=done, completed=done)
    task.finished_speed = done / elapsed if elapsed > 0 else None


def advance(nbytes: int) -> None:
    """Count `nbytes` for the innermost step open in this thread (nothing when none is)."""
    if _threads.open:
        _threads.open[-1].advance(nbytes)


def note(line: str) -> bool:
    """Print `line` above the bars while they are drawn; False when they are not (the caller
    prints it its own way)."""
    bars = _shown.bars
    if bars is None:
        return False
    bars.console.print(line, markup=False, highlight=False, soft_wrap=True)
    return True
