"""The one subprocess runner: real child interpreters, their output, failures and time limits."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from imagekit import proc
from imagekit.errors import ImagekitError
from imagekit.proc import ToolError, last_lines, run, stream

PY = sys.executable


class CustomError(ImagekitError):
    """The caller's own error type, which the runner raises."""


def script(code: str) -> list[str]:
    return [PY, "-c", code]


def test_output_is_captured() -> None:
    done = run(script("import sys; print('out'); print('err', file=sys.stderr)"),
               what="py", timeout=60)  # fmt: skip
    assert (done.returncode, done.text, done.error_text) == (0, "out\n", "err\n")


def test_a_failure_is_one_line_naming_the_tool_its_status_and_last_lines() -> None:
    code = "import sys; print('a\\nb\\nc\\nd', file=sys.stderr); sys.exit(3)"
    with pytest.raises(CustomError, match=r"^the tool failed \(exit 3\): b \| c \| d$"):
        run(script(code), what="the tool", timeout=60, error=CustomError)


def test_unchecked_a_failure_is_returned() -> None:
    done = run(script("raise SystemExit(2)"), what="py", timeout=60, check=False)
    assert done.returncode == 2
    assert done.failure() == "py failed (exit 2): no output"


def test_control_characters_in_the_output_are_escaped() -> None:
    code = "import sys; sys.stderr.write('\\x1b[31mred'); sys.exit(1)"
    with pytest.raises(ToolError, match=r"\\x1b\[31mred$"):
        run(script(code), what="py", timeout=60)


def test_a_missing_tool_cannot_start() -> None:
    with pytest.raises(CustomError, match=r"^no-such-tool could not start: No such file"):
        run(["/nonexistent/no-such-tool"], what="no-such-tool", timeout=60, error=CustomError)
    with pytest.raises(CustomError, match=r"^no-such-tool could not start: No such file"):
        stream(["/nonexistent/no-such-tool"], what="no-such-tool", timeout=60,
               on_line=print, error=CustomError)  # fmt: skip


def test_a_tool_past_its_time_is_killed() -> None:
    with pytest.raises(ToolError, match=r"^sleeper ran past 0.5 s"):
        run(script("import time; time.sleep(60)"), what="sleeper", timeout=0.5)
    with pytest.raises(ToolError, match=r"^sleeper ran past 0.5 s: started$"):
        stream(script("import time; print('started', flush=True); time.sleep(60)"),
               what="sleeper", timeout=0.5, on_line=print)  # fmt: skip


def test_stdin_goes_in_and_stdout_to_a_file(tmp_path: Path) -> None:
    data = b"x" * (1 << 20)  # more than a pipe holds: fed while stdout is read
    code = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    assert run(script(code), what="py", timeout=60, stdin=data).stdout == data[::-1]
    out = tmp_path / "out.bin"
    done = run(script(code), what="py", timeout=60, stdin=b"abc", stdout=out)
    assert (done.stdout, out.read_bytes()) == (b"", b"cba")


def test_stdout_past_its_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proc, "MAX_STDOUT", 1 << 20)
    with pytest.raises(ToolError, match=r"^py printed more than 1 MiB$"):
        run(script("import sys; sys.stdout.write('x' * (2 << 20))"), what="py", timeout=60)


def test_stderr_keeps_its_tail() -> None:
    code = "import sys; sys.stderr.write('y' * (1 << 20) + '\\nlast'); sys.exit(1)"
    done = run(script(code), what="py", timeout=60, check=False)
    assert len(done.stderr) <= 64 << 10
    assert done.error_text.endswith("last")


def test_stream_passes_each_line_and_fails_with_its_tail() -> None:
    lines: list[str] = []
    code = "import sys; [print(i, flush=True) for i in range(5)]; sys.exit(4)"
    with pytest.raises(CustomError, match=r"^counting failed \(exit 4\): 2 \| 3 \| 4$"):
        stream(script(code), what="counting", timeout=60, on_line=lines.append,
               error=CustomError)  # fmt: skip
    assert lines == ["0", "1", "2", "3", "4"]


def test_stream_passes_its_environment() -> None:
    lines: list[str] = []
    code = "import os; print(os.environ['SOURCE_DATE_EPOCH'])"
    stream(script(code), what="py", timeout=60, on_line=lines.append,
           env={"SOURCE_DATE_EPOCH": "1700000000"})  # fmt: skip
    assert lines == ["1700000000"]


def test_a_long_tool_line_keeps_its_cause_at_the_end() -> None:
    # buildah's commit error: a 700-character struct, then why.
    line = (
        "Error: committing container for step {" + "Env:[X=1] " * 70 + "}: no space left on device"
    )
    kept = last_lines(["first", line])
    assert kept.startswith("first | Error: committing container for step {Env:[X=1]")
    assert kept.endswith("}: no space left on device")
    assert f"… ({len(line)} characters) …" in kept
    assert len(kept) < 260
