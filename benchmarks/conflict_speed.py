"""The requirement-conflict check of the torch 2.13.0 lock (28 packages, CUDA wheels among them)
with a warm metadata cache, side by side with what a user would run instead to see the same
Requires-Dist: `uv pip install --dry-run` and `pip install --dry-run --report`, each resolving
the same lock for CPython 3.11 on manylinux x86_64. Prints each time and the ratios.

Goal: the warm imagekit check under 3 s.

    .venv/bin/python benchmarks/conflict_speed.py [--no-pip]

The first (cold) round fills imagekit's metadata cache and the tools' own caches; the best of
the warm rounds is reported. `--no-pip` leaves pip out: without PEP 658 metadata on the index
it downloads every wheel, torch's 500 MB included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from packaging.version import Version

from imagekit.checks.run import run_checks
from imagekit.conflicts import check_project_lock
from imagekit.project.target import Target

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "tests" / "data" / "locks" / "torch" / "uv-pip-compile-no-setuptools.requirements.txt"
ROUNDS = 3
verdicts: dict[str, str] = {}
TOOL_TIMEOUT = 900


def make_project(root: Path) -> Path:
    project = root / "torch-lock"
    project.mkdir()
    (project / "imagekit.toml").write_text(
        'name = "torch-lock"\nversion = "0.1.0"\nbase = "debian-bookworm-py311"\n'
        'lockfile = "requirements.lock"\nplatform = "linux/amd64"\n'
        'entrypoint = ["python", "-c", "pass"]\n',
        encoding="utf-8",
    )
    shutil.copyfile(LOCK, project / "requirements.lock")
    return project


def best(func: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def tool(command: list[str]) -> Callable[[], object]:
    # The lock is the resolution: the host's pip constraints file could only reject its pins.
    env = {**os.environ, "PIP_CONSTRAINT": "/dev/null"}

    def run() -> object:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=TOOL_TIMEOUT, env=env
        )
        # Its verdict on the lock, whichever it is: pip refuses the unpinned setuptools it adds.
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        verdicts[command[0]] = f"exit {done.returncode}" + (f": {errors[0]}" if errors else "")
        return done

    return run


def main() -> int:
    with_pip = "--no-pip" not in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        target = Path(tmp) / "target"
        platform = ["--python-version", "3.11"]
        uv = [
            str(REPO / ".venv" / "bin" / "uv"), "pip", "install", "--dry-run",
            "--python-platform", "x86_64-manylinux_2_28", *platform,
            "--target", str(target), "-r", str(project / "requirements.lock"),
        ]  # fmt: skip
        # pip expands no manylinux tag to older glibc versions: pass every one, as the
        # wheelhouse does (imagekit.build.wheelhouse._run_pip).
        wheels = Target(python=Version("3.11"), platform="linux/amd64", glibc=(2, 36))
        tags = [arg for tag in wheels.platform_tags() for arg in ("--platform", tag)]
        pip = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--report", "-", "--quiet",
            "--ignore-installed", "--only-binary=:all:", *tags,
            *platform, "--target", str(target), "-r", str(project / "requirements.lock"),
        ]  # fmt: skip
        start = time.perf_counter()
        result = run_checks(project)  # cold or not: fills the metadata cache
        first = time.perf_counter() - start
        chain = [f.message for f in result.findings if f.rule.startswith("requirement")]
        check = best(lambda: run_checks(project))
        conflicts = best(lambda: check_project_lock(project))
        rows = [("imagekit check (all checks, warm)", check)]
        rows.append(("imagekit conflicts lock (warm)", conflicts))
        tool(uv)()  # warm uv's cache
        rows.append(("uv pip install --dry-run", best(tool(uv))))
        if with_pip:
            tool(pip)()  # warm pip's cache
            rows.append(("pip install --dry-run --report", best(tool(pip), rounds=1)))
    print(f"torch 2.13.0 lock, {LOCK.name}: first imagekit check {first:.2f} s")
    print(f"  finding: {chain[0] if chain else 'none'}")
    for name, seconds in rows:
        print(f"  {name:<36} {seconds:7.2f} s  ({seconds / check:5.1f}x imagekit check)")
    for command, verdict in verdicts.items():
        print(f"  {Path(command).name}: {verdict}")
    goal = check < 3.0
    print(f"goal: warm imagekit check < 3 s: {'met' if goal else 'NOT met'} ({check:.2f} s)")
    return 0 if goal else 1


if __name__ == "__main__":
    raise SystemExit(main())
