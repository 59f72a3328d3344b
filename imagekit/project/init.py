"""`imagekit init`: scaffold an imagekit.toml from what a model folder already holds.

Every value it writes carries a comment saying whether it was found in the folder or guessed.
It never writes an entry point it did not find: with none found, `entrypoint = []` makes
`imagekit check` refuse the spec until the author says what the image runs. `[app] include`
lists what the entry point needs (its package, or its script and the local modules the script
imports), so training scripts and notebooks beside it stay out of the image.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from imagekit.errors import InputError
from imagekit.fsio import write_text
from imagekit.image.digest import sha256_file
from imagekit.project.appfiles import ALWAYS_EXCLUDED_DIRS
from imagekit.project.lockfile import read_lock
from imagekit.project.spec import SPEC_FILE

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
# The libraries whose updates may change a model's numbers: the Python packages
# imagekit/data/risk.toml classes numeric-risk, less the BLAS and CUDA wheels they bring along
# (tests/test_init.py checks that every name here is numeric-risk in that table).
NUMERIC_PACKAGES = frozenset(
    {
        "numpy",
        "scipy",
        "pandas",
        "scikit-learn",
        "torch",
        "torchvision",
        "torchaudio",
        "jax",
        "jaxlib",
        "tensorflow",
        "tensorflow-cpu",
        "keras",
        "tf-keras",
        "onnxruntime",
        "onnxruntime-gpu",
        "numba",
        "xgboost",
        "lightgbm",
        "catboost",
    }
)
# Module and script names an entry point goes by, in the order they are preferred.
ENTRY_NAMES = ("predict", "serve", "main", "app", "inference", "server")
_MAX_IMPORT_FILES = 200  # local modules followed from a script's imports


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """An entry point found in the folder: the command, what it needs, and where it was seen."""

    command: tuple[str, ...]
    include: tuple[str, ...]
    found: str  # the file that made it the entry point
    src_layout: bool = False


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


def _has_main_guard(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:""", text, re.M) is not None


def _package_entry(root: Path) -> Entry | None:
    """`python -m pkg` for a package with __main__.py, or `python -m pkg.predict` (etc.) for a
    module of a package that runs as a script; src/ layout first."""
    for src in (root / "src", root):
        layout = src != root
        prefix = "src/" if layout else ""
        for main in sorted(src.glob("*/__main__.py")):
            package = main.parent.name
            if package not in ALWAYS_EXCLUDED_DIRS:
                return Entry(
                    command=("python", "-m", package),
                    include=(f"{prefix}{package}/**",),
                    found=f"{prefix}{package}/__main__.py",
                    src_layout=layout,
                )
        for name in ENTRY_NAMES:
            for module in sorted(src.glob(f"*/{name}.py")):
                package = module.parent.name
                if package in ALWAYS_EXCLUDED_DIRS or not (module.parent / "__init__.py").is_file():
                    continue
                if _has_main_guard(module):
                    return Entry(
                        command=("python", "-m", f"{package}.{name}"),
                        include=(f"{prefix}{package}/**",),
                        found=f"{prefix}{package}/{name}.py",
                        src_layout=layout,
                    )
    return None


def _script_entry(root: Path) -> Entry | None:
    """`python predict.py` (etc.), with the local modules it imports."""
    for name in ENTRY_NAMES:
        script = root / f"{name}.py"
        if script.is_file():
            return Entry(
                command=("python", script.name),
                include=(script.name, *_local_imports(root, script)),
                found=script.name,
            )
    return None


def _imported_names(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".", maxsplit=1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".", maxsplit=1)[0])
    return names


def _local_imports(root: Path, script: Path) -> list[str]:
    """The modules and packages beside `script` that it imports, and those they import."""
    patterns: list[str] = []
    queue, seen = [script], {script}
    while queue and len(seen) < _MAX_IMPORT_FILES:
        for name in sorted(_imported_names(queue.pop())):
            module, package = root / f"{name}.py", root / name
            if module.is_file() and module not in seen:
                patterns.append(module.name)
                seen.add(module)
                queue.append(module)
            elif package.is_dir() and f"{name}/**" not in patterns:
                patterns.append(f"{name}/**")
                seen.update(package.rglob("*.py"))
                queue.extend(sorted(package.rglob("*.py"))[:_MAX_IMPORT_FILES])
    return sorted(patterns)


def find_entry(root: Path) -> Entry | None:
    """The entry point the folder shows, or None when it shows none."""
    return _package_entry(root) or _script_entry(root)


def numeric_packages(lock: Path) -> list[str] | None:
    """The lock's numerical libraries (canonical names, sorted); None when it cannot be read."""
    try:
        packages = read_lock(lock).packages
    except InputError:
        return None
    return sorted({p.name for p in packages if canonicalize_name(p.name) in NUMERIC_PACKAGES})


def _name(root: Path) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")
    return name or "model"


def _q(value: str) -> str:
    return json.dumps(value)


def _list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def _entry_lines(entry: Entry | None) -> list[str]:
    if entry is None:
        names = ", ".join(ENTRY_NAMES)
        return [
            "# NOT FOUND: no package with __main__.py; no package module that runs as a script",
            f'# (`if __name__ == "__main__":`) or top-level script named one of: {names}.',
            "# Set what the container runs: `imagekit check` refuses this spec until then.",
            'entrypoint = []  # e.g. ["python", "-m", "your_model"] or ["python", "serve.py"]',
        ]
    return [f"entrypoint = {_list(entry.command)}  # found: {entry.found}"]


def _app_lines(entry: Entry | None) -> list[str]:
    if entry is None:
        return [
            "[app]",
            "# Not guessed: list the files the entry point needs (an empty include copies every",
            "# file of the folder, training scripts and notebooks too).",
            "include = []",
            'exclude = ["tests/**"]',
        ]
    return [
        "[app]",
        f"include = {_list(entry.include)}  # found: what {entry.found} needs",
        'exclude = ["tests/**", "**/__pycache__/**"]',
    ]


def _dependency_lines(lock: Path, root: Path) -> list[str]:
    found = numeric_packages(lock)
    where = lock.relative_to(root).as_posix()
    if found is None:
        comment = f"# {where} could not be read: list the numerical libraries whose updates matter"
        return ["[dependencies]", comment, "critical = []", "optional = []", ""]
    what = "found in" if found else "none found in"
    return [
        "[dependencies]",
        f"critical = {_list(found)}  # {what} {where}: numerical libraries whose updates matter",
        "optional = []",
        "",
    ]


def _artifact_lines(root: Path) -> list[str]:
    lines = []
    for model in _find_models(root):
        lines += [
            "",
            "[[artifacts]]  # found: a model file; its sha256 as it is now",
            f"path = {_q(model.relative_to(root).as_posix())}",
            f"sha256 = {_q(sha256_file(model))}",
            f"dest = {_q('/opt/model/' + model.name)}",
        ]
    return lines


def render_spec(root: Path, *, base: str) -> str:
    """The imagekit.toml text for a model folder; raises `InputError` when it has no lock."""
    lock = _find_lock(root)
    entry = find_entry(root)
    lines = [
        "# Written by `imagekit init`: each value says whether it was found or guessed.",
        f"name = {_q(_name(root))}  # guessed: the folder's name",
        'version = "0.1.0"  # guessed: the image tag',
        f"base = {_q(base)}  # chosen: a catalog base (imagekit base list)",
        f"lockfile = {_q(lock.relative_to(root).as_posix())}  # found",
        'platform = "linux/amd64"  # guessed: or linux/arm64',
        *_entry_lines(entry),
        'workdir = "/app"',
    ]
    if entry is not None and entry.src_layout:
        lines += ["", "[env]", 'PYTHONPATH = "/app/src"  # found: a src/ layout']
    lines += ["", *_app_lines(entry), *_artifact_lines(root), "", *_dependency_lines(lock, root)]
    return "\n".join(lines)


def scaffold(root: Path, *, base: str, force: bool = False) -> Path:
    """Write `imagekit.toml` into `root`; raises `InputError` if one exists (unless `force`)."""
    target = root / SPEC_FILE
    if not root.is_dir():
        raise InputError(root, "model folder not found", "pass an existing folder")
    if target.exists() and not force:
        raise InputError(target, "already exists", "edit it, or pass --force to overwrite")
    text = render_spec(root, base=base)
    write_text(target, text)
    return target
