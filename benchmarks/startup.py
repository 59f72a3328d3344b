"""How long the CLI takes to start: for `imagekit --help`, `imagekit check examples/iris` and a
few `imagekit <command> --help`, the CPU time (user + sys) of the whole command, beside the import
time of `imagekit.cli.app` (`python -X importtime`), each the median of several runs, and their
ratio to a bare `python -c pass`. CPU time, not wall time: the machine may be shared.

Goal: under 0.3 s of CPU for `imagekit --help` and `imagekit check examples/iris`.

Bytecode is written and reused, as an installed imagekit has it (a first run warms it).
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 5
GOAL_S = 0.3
ENTRY = "from imagekit.cli import main; main()"
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("check", "examples/iris"),
    ("build", "--help"),
    ("scan", "--help"),
    ("sbom", "--help"),
    ("verify", "--help"),
)


def environment() -> dict[str, str]:
    """This checkout first on the path; bytecode cached as an installed package has it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def cpu_seconds(argv: Sequence[str]) -> float:
    """user + sys CPU seconds of one child process, from `os.wait4`; a command that fails
    would be timed short, so it stops the benchmark."""
    process = subprocess.Popen(
        argv, cwd=REPO, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {os.waitstatus_to_exitcode(status)})")
    return usage.ru_utime + usage.ru_stime


def import_seconds() -> float:
    """The cumulative `-X importtime` of `imagekit.cli.app`: what every command loads."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import imagekit.cli.app"],
        cwd=REPO,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stderr.splitlines():
        fields = [f.strip() for f in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] == "imagekit.cli.app":
            return int(fields[1]) / 1e6
    raise SystemExit("imagekit.cli.app is not in the -X importtime output")


def median(measure: Callable[[], float], rounds: int = ROUNDS) -> float:
    return statistics.median(measure() for _ in range(rounds))


def main() -> int:
    cpu_seconds([sys.executable, "-c", ENTRY, "check", "examples/iris"])  # writes the bytecode
    bare = median(lambda: cpu_seconds([sys.executable, "-c", "pass"]))
    imports = median(import_seconds)
    print(f"python -c pass: {bare:.3f} s CPU; import imagekit.cli.app: {imports:.3f} s")
    print(f"{'command':<32} {'CPU s':>7} {'x pass':>7}")
    slow = []
    for args in COMMANDS:
        spent = median(functools.partial(cpu_seconds, [sys.executable, "-c", ENTRY, *args]))
        name = " ".join(("imagekit", *args))
        print(f"{name:<32} {spent:>7.3f} {spent / bare:>7.1f}")
        if args in (("--help",), ("check", "examples/iris")) and spent > GOAL_S:
            slow.append(name)
    print(f"goal: < {GOAL_S} s CPU for imagekit --help and imagekit check examples/iris")
    if slow:
        print(f"over the goal: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
