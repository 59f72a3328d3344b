"""`imagekit check` on a 1,000-package hashed lock, against parsing the same lines with
`packaging` alone (the least any checker must do). Prints both times and their ratio.

Goal: imagekit check < 0.5 s for 1,000 packages.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from packaging.requirements import Requirement

from imagekit.checks.run import run_checks

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 5


def make_project(root: Path, count: int) -> Path:
    project = Path(shutil.copytree(REPO / "examples" / "iris", root / "iris"))
    lines = [f"package-{i:04d}==1.{i}.0 \\\n    --hash=sha256:{i:064x}" for i in range(count)]
    (project / "requirements.lock").write_text("\n".join(lines) + "\n")
    spec = project / "imagekit.toml"
    spec.write_text(spec.read_text().replace('"numpy", "scipy", "scikit-learn"', ""))
    return project


def best(func: Callable[[], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp), count)
        lock_text = (project / "requirements.lock").read_text()
        result = run_checks(project)
        if not result.ok or len(result.packages) != count:
            raise SystemExit(f"the generated lock does not check: {result.findings}")

        def peer() -> None:
            for line in lock_text.splitlines():
                if not line.startswith(" "):
                    Requirement(line.rstrip(" \\"))

        ours = best(lambda: run_checks(project))
        theirs = best(peer)
    print(f"imagekit check, {count} packages: {ours * 1000:.1f} ms (goal < 500 ms)")
    print(f"packaging.Requirement parse only:  {theirs * 1000:.1f} ms")
    print(f"ratio imagekit/parse-only: {ours / theirs:.2f}x")
    return 0 if ours < 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
