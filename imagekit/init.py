"""`imagekit init`: scaffold an imagekit.toml from what a model folder already holds."""

from __future__ import annotations

import json
import re
from pathlib import Path

from imagekit.appfiles import ALWAYS_EXCLUDED_DIRS
from imagekit.checks import sha256_file
from imagekit.errors import InputError
from imagekit.spec import SPEC_FILE

LOCK_NAMES = ("pylock.toml", "uv.lock", "poetry.lock", "requirements.lock", "requirements.txt")
MODEL_SUFFIXES = frozenset(
    {
        ".joblib",
        ".pkl",
        ".onnx",
        ".pt",
        ".pth",
        ".safetensors",
        ".h5",
        ".keras",
        ".gguf",
        ".msgpack",
        ".tflite",
        ".ckpt",
    }
)


def _find_lock(root: Path) -> Path:
    for name in LOCK_NAMES:
        if (root / name).is_file():
            return root / name
    extra = sorted(root.glob("pylock.*.toml"))
    if extra:
        return extra[0]
    raise InputError(
        root,
        "no lockfile found",
        f"add one of {', '.join(LOCK_NAMES)} (e.g. uv pip compile --generate-hashes)",
    )


def _find_models(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        parts = set(path.relative_to(root).parts)
        if path.is_file() and path.suffix in MODEL_SUFFIXES and not parts & ALWAYS_EXCLUDED_DIRS:
            found.append(path)
    return found


def _entrypoint(root: Path) -> list[str]:
    for src in (root / "src", root):
        packages = sorted(p.parent.name for p in src.glob("*/__main__.py"))
        if packages:
            return ["python", "-m", packages[0]]
    for name in ("predict.py", "serve.py", "main.py", "app.py"):
        if (root / name).is_file():
            return ["python", name]
    return ["python", "-m", "model"]


def _name(root: Path) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return name or "model"


def _q(value: str) -> str:
    return json.dumps(value)


def scaffold(root: Path, *, base: str, force: bool = False) -> Path:
    """Write `imagekit.toml` into `root`; raises `InputError` if one exists (unless `force`)."""
    target = root / SPEC_FILE
    if not root.is_dir():
        raise InputError(root, "model folder not found", "pass an existing folder")
    if target.exists() and not force:
        raise InputError(target, "already exists", "edit it, or pass --force to overwrite")
    lock = _find_lock(root)
    lines = [
        f"name = {_q(_name(root))}",
        'version = "0.1.0"',
        f"base = {_q(base)}",
        f"lockfile = {_q(lock.relative_to(root).as_posix())}",
        'platform = "linux/amd64"',
        f"entrypoint = {json.dumps(_entrypoint(root))}",
        'workdir = "/app"',
        "",
        "[app]",
        "include = []  # empty: everything except the lock, the artifacts and secrets",
        'exclude = ["tests/**"]',
    ]
    if (root / "src").is_dir():
        lines += ["", "[env]", 'PYTHONPATH = "/app/src"']
    for model in _find_models(root):
        rel = model.relative_to(root).as_posix()
        lines += [
            "",
            "[[artifacts]]",
            f"path = {_q(rel)}",
            f"sha256 = {_q(sha256_file(model))}",
            f"dest = {_q('/opt/model/' + model.name)}",
        ]
    lines += [
        "",
        "[dependencies]",
        "critical = []  # numerical libraries whose updates matter",
        "optional = []",
        "",
    ]
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(target)
    return target
