"""Deterministic bytecode for a layer's modules, compiled on the host.

Checked-hash `.pyc` (PEP 552) hold the source's hash, never its mtime, and marshal writes
interned strings and frozensets in a stable form, so the same source and the same interpreter
give the same bytes in any process. Compiled only when this interpreter's major.minor is the
image's; a module that does not compile (test data, another Python's syntax) gets no `.pyc`,
and is left for the image's Python to report if it is ever imported.

The work is split over fresh interpreters (`python -I -c`, one per core) that import nothing
but the standard library: no fork of this process, no re-import of its main module.
"""

from __future__ import annotations

import marshal
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath

from packaging.version import Version

from imagekit.image.errors import OciError
from imagekit.proc import run

_WORKER_TIMEOUT_S = 1800  # one worker's share of a site-packages tree

_WORKER = """\
import importlib.util, marshal, sys
from importlib._bootstrap_external import _code_to_hash_pyc
out = []
for dfile, source in marshal.loads(sys.stdin.buffer.read()):
    try:
        code = compile(source, dfile, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        out.append(None)
        continue
    out.append(bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), True)))
sys.stdout.buffer.write(marshal.dumps(out))
"""

Sources = list[tuple[str, bytes]]  # (path in the image, source)


def compiles_bytecode(python: Version) -> bool:
    """Whether this interpreter writes `.pyc` the image's Python reads (same major.minor)."""
    return sys.version_info[:2] == (python.major, python.minor)


def pyc_path(source: str) -> str:
    """Where CPython looks for the bytecode of `source` (`a/__pycache__/b.cpython-311.pyc`)."""
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc")


def _shards(sources: Sources, count: int) -> list[Sources]:
    """`sources` cut into `count` runs of about the same size, in order."""
    total = sum(len(s) for _, s in sources) or 1
    shards: list[Sources] = [[] for _ in range(count)]
    done = 0
    for item in sources:
        shards[min(count - 1, done * count // total)].append(item)
        done += len(item[1])
    return [shard for shard in shards if shard]


def _compile_shard(shard: Sources) -> list[bytes | None]:
    done = run(
        [sys.executable, "-I", "-c", _WORKER],
        what="compiling bytecode",
        timeout=_WORKER_TIMEOUT_S,
        error=OciError,
        stdin=marshal.dumps(shard),
        tail_lines=1,
    )
    result: list[bytes | None] = marshal.loads(done.stdout)  # noqa: S302 - our own worker
    return result


def compile_all(sources: Sources) -> list[bytes | None]:
    """The checked-hash `.pyc` of each (in-image path, source), in order; None for a module
    that does not compile. Raises `OciError` if a worker interpreter fails."""
    if not sources:
        return []
    shards = _shards(sources, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=len(shards)) as pool:
        return [pyc for result in pool.map(_compile_shard, shards) for pyc in result]
