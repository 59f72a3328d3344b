"""`python -m imagekit.gpu.kb_tool check|regenerate [SOURCE [JSON]]`: keep the CUDA knowledge base.

`check` validates `cuda_kb.toml` (schema, order, coverage, versions, sources) and fails when
`cuda_kb.json` is not what it generates; `regenerate` writes `cuda_kb.json`. Exit 0 clean,
1 problems found (each printed as file: key: message), 2 bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

from imagekit.gpu.kb import KB_JSON, KB_SOURCE, check, data_file, regenerate

USAGE = "usage: python -m imagekit.gpu.kb_tool check|regenerate [SOURCE.toml [GENERATED.json]]"


def run(argv: list[str]) -> int:
    """Run the tool; returns the exit code (prints findings to stderr)."""
    if not argv or argv[0] not in {"check", "regenerate"} or len(argv) > 3:
        print(USAGE, file=sys.stderr)
        return 2
    source = Path(argv[1]) if len(argv) > 1 else data_file(KB_SOURCE)
    generated = Path(argv[2]) if len(argv) > 2 else data_file(KB_JSON)
    findings = (check if argv[0] == "check" else regenerate)(source, generated)
    for finding in findings:
        print(str(finding), file=sys.stderr)
    if findings:
        print(f"{len(findings)} problem(s) in the CUDA knowledge base", file=sys.stderr)
        return 1
    print(f"{generated}: {'up to date' if argv[0] == 'check' else 'written'}")
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
