"""Render a BuildPlan into a Dockerfile and a .dockerignore with the Jinja templates."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import jinja2

from imagekit import __version__
from imagekit.errors import ImagekitError, InputError
from imagekit.fsio import write_text
from imagekit.plan.model import PLAN_PATH_IN_IMAGE, BuildPlan, LayerKind
from imagekit.resources import templates_dir

DOCKERFILE_TEMPLATE = "Dockerfile.j2"
DOCKERIGNORE_TEMPLATE = "dockerignore.j2"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RenderError(ImagekitError):
    """A value cannot be written into a Dockerfile safely."""


def dq(value: str) -> str:
    """A Dockerfile double-quoted string: backslash, quote and `$` escaped, no control chars."""
    if _CONTROL.search(value):
        raise RenderError(
            f"value {value!r} contains a control character; labels and "
            "environment values must be one line"
        )
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def tojson_list(values: Sequence[str]) -> str:
    """An exec-form JSON array (no shell, so no quoting beyond JSON's)."""
    if any(_CONTROL.search(v) for v in values):
        raise RenderError(f"command {list(values)!r} contains a control character")
    return json.dumps(list(values))


def environment(directory: Path | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory or templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 -- a Dockerfile, not HTML: values go through `dq`
    )
    env.filters["dq"] = dq
    env.filters["tojson_list"] = tojson_list
    return env


def render_dockerfile(plan: BuildPlan, templates: Path | None = None) -> str:
    """The Dockerfile text of a plan; raises `RenderError` for values that cannot be escaped."""
    template = environment(templates).get_template(DOCKERFILE_TEMPLATE)
    return template.render(
        plan=plan,
        venv=plan.base.venv,
        imagekit_version=__version__,
        LayerKind=LayerKind,
        plan_dir=PLAN_PATH_IN_IMAGE.rpartition("/")[0],
    )


def render_dockerignore(templates: Path | None = None) -> str:
    return environment(templates).get_template(DOCKERIGNORE_TEMPLATE).render()


def write_rendered(plan: BuildPlan, out_dir: Path) -> tuple[Path, Path]:
    """Write `Dockerfile` and `.dockerignore` into `out_dir`, each atomically."""
    dockerfile = render_dockerfile(plan)
    ignore = render_dockerignore()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(out_dir, f"cannot create output folder: {e.strerror}") from e
    paths = (out_dir / "Dockerfile", out_dir / ".dockerignore")
    for path, text in zip(paths, (dockerfile, ignore), strict=True):
        write_text(path, text)
    return paths
