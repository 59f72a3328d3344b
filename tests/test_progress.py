"""imagekit.progress: bars on a terminal (a real pseudo-terminal here), nothing in a pipe, under
CI or with --quiet; steps and `advance` are harmless when nothing is drawn."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import pytest

from imagekit import progress
from imagekit.progress import Display


@contextmanager
def _terminal() -> Iterator[tuple[TextIO, int]]:
    """A real terminal: the follower end of a pseudo-terminal as a text stream, and the leader
    end's descriptor to read what was drawn."""
    leader, follower = os.openpty()
    stream = os.fdopen(follower, "w", encoding="utf-8", closefd=True)
    try:
        yield stream, leader
    finally:
        stream.close()
        os.close(leader)


def _drawn(leader: int) -> str:
    chunks = []
    os.set_blocking(leader, False)
    while True:
        try:
            chunk = os.read(leader, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_terminal_gets_each_step_with_its_bytes() -> None:
    with _terminal() as (stream, leader):
        with progress.shown(Display(), stream=stream, environ={}):
            with progress.step("wheels: 3 for linux/amd64", total=3_000_000) as shown:
                shown.advance(1_000_000)
                shown.advance(2_000_000)
            assert progress.note("layer python: sha256:abc")
        stream.flush()
        screen = _drawn(leader)
    assert "wheels: 3 for linux/amd64" in screen
    assert "3.0/3.0 MB" in screen  # DownloadColumn, decimal units
    assert "layer python: sha256:abc" in screen


def test_advance_counts_for_the_innermost_step_of_its_thread() -> None:
    with _terminal() as (stream, leader):
        with (
            progress.shown(Display(), stream=stream, environ={}),
            progress.step("layer python", total=None),
        ):
            progress.advance(1_500_000)
            with progress.step("push r/x:1", total=None):
                progress.advance(2_500_000)
        stream.flush()
        screen = _drawn(leader)
    assert "1.5 MB" in screen  # the outer step was not given the inner one's bytes
    assert "2.5 MB" in screen


@pytest.mark.parametrize(
    ("display", "environ"),
    [(Display(quiet=True), {}), (Display(), {"CI": "true"})],
    ids=["quiet", "ci"],
)
def test_quiet_and_ci_draw_nothing_on_a_terminal(display: Display, environ: dict[str, str]) -> None:
    with _terminal() as (stream, leader):
        with progress.shown(display, stream=stream, environ=environ):
            with progress.step("wheels", total=10) as shown:
                shown.advance(10)
            assert not progress.note("a line")
        stream.flush()
        assert _drawn(leader) == ""


def test_a_pipe_gets_nothing() -> None:
    pipe = io.StringIO()  # not a terminal, as a pipe or a file
    with progress.shown(Display(), stream=pipe, environ={}):
        with progress.step("pull r/x:1", total=100) as shown:
            shown.advance(100)
        assert not progress.note("a line")
    assert pipe.getvalue() == ""


def test_steps_outside_shown_are_silent_and_verbose_is_off() -> None:
    with progress.step("layer app", total=None) as shown:
        shown.advance(5)
        progress.advance(5)
    progress.advance(5)  # no step open: nothing to count
    assert not progress.verbose()
    with progress.shown(Display(verbose=True), stream=io.StringIO(), environ={}):
        assert progress.verbose()
    assert not progress.verbose()


def test_a_worker_thread_has_its_own_innermost_step() -> None:
    def worker() -> None:
        progress.advance(7_000_000)  # no step open in this thread: not the main thread's

    with _terminal() as (stream, leader):
        with (
            progress.shown(Display(), stream=stream, environ={}),
            progress.step("wheels", total=None),
        ):
            progress.advance(1_000_000)
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        stream.flush()
        screen = _drawn(leader)
    assert "1.0 MB" in screen
    assert "8.0 MB" not in screen


def test_a_step_that_counted_nothing_leaves_no_bar() -> None:
    with _terminal() as (stream, leader):
        with progress.shown(Display(), stream=stream, environ={}):
            with progress.step("base debian-bookworm-py311 (unpacked)"):
                pass  # reused: nothing written
            with progress.step("layer app (unpacked)") as shown:
                shown.advance(20_480)
        stream.flush()
        screen = _drawn(leader)
    assert "layer app (unpacked)" in screen
    assert "0/0 bytes" not in screen  # the reused base's bar was taken away when it ended
