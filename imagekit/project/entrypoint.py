"""What the image runs, checked before it is built: a container that starts with
`No module named model` is caught by `imagekit check`, not by the first request.

The command is `entrypoint + cmd` (or `cmd` alone), as Docker runs it. When it starts a Python
interpreter (`python`, `python3`, `python3.11`, options before the target allowed):

- `python SCRIPT`: the script must be among the application files, which land in `workdir`
  (or be a model artifact's `dest`). A missing script is an error. A script outside `workdir`
  (`/usr/bin/...`) comes from the base and is not checked.
- `python -m MODULE`: the module is looked for in the application files, under `workdir` (which
  `-m` puts on `sys.path`) and every `PYTHONPATH` entry of `[env]` below it, as `a/b.py` or the
  package `a/b/__main__.py`. Not found there, it is accepted when a locked package's normalised
  name is its top-level name (`uvicorn`, `iris-model` for `iris_model`). Otherwise:
  - an error when the application files hold it in a folder that is not on the path (a
    src/ layout without `PYTHONPATH`), naming the folder;
  - an error when the application files hold its top-level package or module (the package is
    there, the submodule is not: a typo or a missing include);
  - a warning when they do not: a distribution may ship a module of another name
    (scikit-learn's `sklearn`), which the lock does not record, so imagekit cannot be sure.
- `python -c CODE` and `python -` are not checked; nor is a command that is not a Python
  interpreter (a console script, a shell script from the base).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from packaging.utils import canonicalize_name

from imagekit.errors import ErrorCollector
from imagekit.limits import shown
from imagekit.project.appfiles import select_for_spec
from imagekit.project.lockfile import LockedPackage
from imagekit.project.spec import ModelSpec

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_OPTIONS_WITH_VALUE = frozenset({"-W", "-X"})  # the interpreter options that take an argument
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What a Python command runs: a module (`-m`) or a script path, as written."""

    module: str | None = None
    script: str | None = None


def command_of(spec: ModelSpec) -> tuple[str, ...]:
    """The argv the container runs: Docker appends CMD to ENTRYPOINT."""
    return (*spec.entrypoint, *spec.cmd) if spec.entrypoint else spec.cmd


def python_target(argv: tuple[str, ...]) -> Target | None:
    """The module or script a Python command line runs; None when it is not one to check."""
    if not argv or not _PYTHON.fullmatch(PurePosixPath(argv[0]).name):
        return None
    args = iter(argv[1:])
    for arg in args:
        if arg.startswith("-m") and not arg.startswith("--"):  # `-m mod` or `-mmod`
            return Target(module=arg[2:] or next(args, ""))
        if arg.startswith("-c") or arg == "-":  # code on the command line or stdin
            return None
        if arg in _OPTIONS_WITH_VALUE:
            next(args, None)
        elif arg == "--" or not arg.startswith("-"):
            script = next(args, None) if arg == "--" else arg
            return Target(script=script) if script else None
    return None


def _under(path: PurePosixPath, folder: PurePosixPath) -> PurePosixPath | None:
    """`path` relative to `folder`, or None when it is not below it."""
    try:
        return path.relative_to(folder)
    except ValueError:
        return None


def _module_roots(spec: ModelSpec) -> list[PurePosixPath]:
    """Where `python -m` looks among the app files: workdir, then PYTHONPATH entries below it."""
    workdir = PurePosixPath(spec.workdir)
    roots = [PurePosixPath(".")]
    for entry in spec.env.get("PYTHONPATH", "").split(":"):
        path = workdir / entry if entry and not entry.startswith("/") else PurePosixPath(entry)
        rel = _under(path, workdir) if entry else None
        if rel is not None and rel not in roots:
            roots.append(rel)
    return roots


def _module_files(module: str, roots: list[PurePosixPath]) -> list[PurePosixPath]:
    parts = module.split(".")
    found = []
    for root in roots:
        found += [
            root.joinpath(*parts[:-1], parts[-1] + ".py"),
            root.joinpath(*parts, "__main__.py"),
        ]
    return found


def _found_elsewhere(module: str, files: set[PurePosixPath]) -> PurePosixPath | None:
    """The folder of the app files a module would be found in, were it on the path."""
    parts = module.split(".")
    tails = (PurePosixPath(*parts[:-1], parts[-1] + ".py"), PurePosixPath(*parts, "__main__.py"))
    for path in sorted(files):
        for tail in tails:
            n = len(tail.parts)
            if len(path.parts) > n and PurePosixPath(*path.parts[-n:]) == tail:
                return PurePosixPath(*path.parts[:-n])
    return None


def _top_level_present(top: str, roots: list[PurePosixPath], files: set[PurePosixPath]) -> bool:
    for root in roots:
        if root / f"{top}.py" in files or any(_under(f, root / top) is not None for f in files):
            return True
    return False


def check_entrypoint(
    spec: ModelSpec, packages: tuple[LockedPackage, ...], collector: ErrorCollector
) -> None:
    """Refuse an image whose Python entry point is not in it (see the module docstring)."""
    target = python_target(command_of(spec))
    if target is None:
        return
    selection = None
    with collector.collect():
        selection = select_for_spec(spec)
    if selection is None:
        return  # the app files could not be read: check_app_files says why
    files = set(selection.files)
    if target.script is not None:
        _check_script(spec, target.script, files, collector)
    elif target.module is not None:
        _check_module(spec, target.module, files, packages, collector)


def _check_script(
    spec: ModelSpec, script: str, files: set[PurePosixPath], collector: ErrorCollector
) -> None:
    workdir = PurePosixPath(spec.workdir)
    path = workdir / script  # an absolute script stays as it is
    rel = _under(path, workdir)
    if rel is None or rel in files or any(a.dest == path for a in spec.artifacts):
        return
    collector.error(
        spec.location("entrypoint"),
        "entrypoint",
        f"the entrypoint runs {shown(script)}, which is not among the application files "
        f"copied to {spec.workdir}",
        f'add "{shown(rel.as_posix())}" to [app] include (or correct entrypoint)',
    )


def _check_module(
    spec: ModelSpec,
    module: str,
    files: set[PurePosixPath],
    packages: tuple[LockedPackage, ...],
    collector: ErrorCollector,
) -> None:
    where = spec.location("entrypoint")
    if not _MODULE.fullmatch(module):
        collector.error(
            where,
            "entrypoint",
            f"the entrypoint runs python -m {shown(module)}, which is not a module name",
            'name a module: ["python", "-m", "your_model"]',
        )
        return
    roots = _module_roots(spec)
    if any(f in files for f in _module_files(module, roots)):
        return
    top = module.split(".", maxsplit=1)[0]
    if canonicalize_name(top) in {p.name for p in packages}:
        return
    searched = ", ".join(str(PurePosixPath(spec.workdir) / r) for r in roots)
    elsewhere = _found_elsewhere(module, files)
    if elsewhere is not None:
        folder = PurePosixPath(spec.workdir) / elsewhere
        collector.error(
            where,
            "entrypoint",
            f"the entrypoint runs python -m {module}, which the application files hold under "
            f"{folder}, not on the module path (searched {searched})",
            f'add {folder} to PYTHONPATH in [env]: PYTHONPATH = "{folder}"',
        )
        return
    if _top_level_present(top, roots, files):
        collector.error(
            where,
            "entrypoint",
            f"the entrypoint runs python -m {module}, but the application files hold {top} "
            f"without {module} (searched {searched})",
            f"add {module.replace('.', '/')}.py (or its __main__.py) to [app] include, "
            "or correct entrypoint",
        )
        return
    collector.warn(
        where,
        "entrypoint",
        f"the entrypoint runs python -m {module}, which is neither among the application "
        f"files (searched {searched}) nor a locked package's name; unless a locked package "
        f"provides {top} under another name, the container fails with No module named {top}",
        f'add the module to [app] include (e.g. include = ["{top}/**"]), or correct entrypoint',
    )
