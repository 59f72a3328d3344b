"""The packaged knowledge base: loaded once from `imagekit/data/cuda_kb.json`.

`cuda_kb.json` is generated from the hand-kept `cuda_kb.toml` beside it by
`python -m imagekit.gpu.kb_tool regenerate` (`make kb`); `check` (`make kb-check`) fails when
the source breaks a rule or the JSON is stale.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from imagekit.errors import ErrorCollector, Finding, InputError
from imagekit.fsio import write_text
from imagekit.gpu.kb_model import KnowledgeBase
from imagekit.gpu.kb_parse import RULE, parse_kb
from imagekit.tomlfile import Table, load_toml

KB_JSON = "cuda_kb.json"
KB_SOURCE = "cuda_kb.toml"
GENERATED = (
    "generated \u2014 do not edit: made from cuda_kb.toml by "
    "`python -m imagekit.gpu.kb_tool regenerate` (make kb)"
)


def data_file(name: str) -> Path:
    """A file of imagekit's data folder (inside the package, so the wheel ships it)."""
    return Path(str(resources.files("imagekit") / "data" / name))


def render(kb: KnowledgeBase) -> str:
    """The generated JSON text of a knowledge base: header first, then its tables, sorted."""
    data = {"generated": GENERATED, **kb.to_dict()}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def read_source(path: Path) -> tuple[KnowledgeBase | None, tuple[Finding, ...]]:
    """The knowledge base in a TOML source, and every problem with it."""
    collector = ErrorCollector()
    kb = None
    with collector.collect():
        kb = parse_kb(Table(load_toml(path), path), collector)
    return kb, collector.findings


def read_json(path: Path) -> KnowledgeBase:
    """The knowledge base in a generated JSON file; raises `InputError` for a bad one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(path, f"cannot read the knowledge base: {e}", "run `make kb`") from e
    if not isinstance(data, dict):
        raise InputError(path, "not a JSON object", "run `make kb`")
    collector = ErrorCollector()
    kb = parse_kb(Table(data, path), collector)
    if kb is None:
        first = collector.findings[0]
        raise InputError(first.location, first.message, "run `make kb` to regenerate it")
    return kb


def check(source: Path, generated: Path) -> tuple[Finding, ...]:
    """Every problem of the source, plus one if the generated JSON is not what it renders to."""
    kb, findings = read_source(source)
    if kb is None:
        return findings
    try:
        current = generated.read_text(encoding="utf-8")
    except OSError:
        current = ""
    if current != render(kb):
        collector = ErrorCollector()
        collector.error(
            InputError(generated, "").location,
            RULE,
            f"out of date with {source.name}",
            "run `make kb` (python -m imagekit.gpu.kb_tool regenerate)",
        )
        return collector.findings
    return ()


def regenerate(source: Path, generated: Path) -> tuple[Finding, ...]:
    """Write the generated JSON of a valid source; return the source's problems otherwise."""
    kb, findings = read_source(source)
    if kb is not None:
        write_text(generated, render(kb))
    return findings


@cache
def knowledge_base() -> KnowledgeBase:
    """The packaged knowledge base (read once); raises `InputError` if it is damaged."""
    return read_json(data_file(KB_JSON))
